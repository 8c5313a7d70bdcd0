package main

import (
	"context"
	"io"
	"maps"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/fleet"
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
			return swap(c, cfg, version, swapOptions{keepRunning: true, before: func(ctx context.Context, engines map[string]*deploy.Host) error {
				hosts := slices.Sorted(maps.Keys(engines))
				return fleet.EachPrefixed(ctx, fleet.NewOutput(c.App.Writer), hosts, 0, func(ctx context.Context, h string, w io.Writer) error {
					return deploy.Setup(ctx, engines[h], cfg, w)
				})
			}})
		},
	}
}
