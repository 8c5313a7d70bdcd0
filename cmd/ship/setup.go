package main

import (
	"context"

	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/ssh"
)

func setupCommand() *cli.Command {
	return &cli.Command{
		Name:  "setup",
		Usage: "prepare the hosts (volumes, network), then deploy",
		Flags: deployCommand().Flags,
		Action: func(c *cli.Context) error {
			cfg, err := loadConfig(c)
			if err != nil {
				return err
			}
			version, err := deployVersion(c, cfg)
			if err != nil {
				return err
			}
			hosts, err := selectHosts(c, cfg)
			if err != nil {
				return err
			}
			pool := ssh.NewPool(fleet.SSHConfig(cfg))
			defer pool.Close()
			engines, err := openHosts(c.Context, pool, hosts)
			if err != nil {
				return err
			}
			out := fleet.NewOutput(c.App.Writer)
			results := fleet.Each(c.Context, hosts, 0, func(ctx context.Context, h string) (struct{}, error) {
				w := out.Prefixed("[" + h + "] ")
				defer w.Close()
				return struct{}{}, deploy.Setup(ctx, engines[h], cfg, w)
			})
			if err := fleet.Failed(results); err != nil {
				return err
			}
			return swap(c, cfg, version, false, true)
		},
	}
}
