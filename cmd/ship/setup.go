package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/accessories"
	"github.com/shipdeploy/ship/database"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/host"
)

func setupCommand() *cli.Command {
	return &cli.Command{
		Name:  "setup",
		Usage: "prepare the hosts (volumes, network, data from the replica, accessories), then deploy",
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
			local, err := localEngine()
			if err != nil {
				return err
			}
			defer local.Close()
			return swap(c, cfg, version, swapOptions{keepRunning: true, before: func(ctx context.Context, engines map[string]*host.Host) error {
				hosts := slices.Sorted(maps.Keys(engines))
				litestreamHost, _ := database.Host(cfg)
				return fleet.EachPrefixed(ctx, output(c.App.Writer), hosts, 0, func(ctx context.Context, h string, w io.Writer) error {
					if err := deploy.Setup(ctx, engines[h], cfg, w); err != nil {
						return err
					}
					// A new server gets its data back before anything
					// runs on it, then the accessories, then the app.
					if h == litestreamHost {
						if err := database.RestoreIfMissing(ctx, engines[h], local, cfg, w); err != nil {
							return err
						}
					}
					for _, a := range accessories.On(cfg, h) {
						if err := accessories.Boot(ctx, engines[h], local, cfg, a, false, w); err != nil {
							return fmt.Errorf("accessory %s: %w", a.Name, err)
						}
					}
					return nil
				})
			}})
		},
	}
}
