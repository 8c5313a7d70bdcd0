package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/fleet"
)

func pruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "remove stopped app containers beyond retain_containers, and their unused images",
		Action: func(c *cli.Context) error {
			cfg, pool, hosts, err := connect(c)
			if err != nil {
				return err
			}
			defer pool.Close()
			engines, err := openHosts(c.Context, pool, hosts)
			if err != nil {
				return err
			}
			results := fleet.Each(c.Context, hosts, 0, func(ctx context.Context, h string) ([]string, error) {
				return deploy.PruneHost(ctx, engines[h], cfg)
			})
			for _, r := range results {
				if len(r.Value) > 0 {
					fmt.Fprintf(c.App.Writer, "[%s] removed %s\n", r.Host, strings.Join(r.Value, ", "))
				} else if r.Err == nil {
					fmt.Fprintf(c.App.Writer, "[%s] nothing to prune\n", r.Host)
				}
			}
			return fleet.Failed(results)
		},
	}
}
