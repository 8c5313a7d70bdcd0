package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/queue"
)

func pruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "remove stopped app containers beyond retain_containers, and their unused images",
		Flags: queueFlags(),
		Action: func(c *cli.Context) error {
			cfg, pool, hosts, engines, err := connectEngines(c)
			if err != nil {
				return err
			}
			defer pool.Close()
			// Under the queue: a rollback must not find its version pruned
			// between choosing it and starting it.
			return mutate(c, cfg, pool, engines, nil, queue.Ticket{Command: "prune"}, func(ctx context.Context) error {
				results := fleet.Each(ctx, hosts, 0, func(ctx context.Context, h string) ([]string, error) {
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
			})
		},
	}
}
