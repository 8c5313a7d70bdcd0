package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/audit"
	"github.com/shipdeploy/ship/fleet"
)

func auditCommand() *cli.Command {
	return &cli.Command{
		Name:  "audit",
		Usage: "show the audit log of each host: who deployed what, when, and how it ended",
		Flags: []cli.Flag{&cli.IntFlag{Name: "lines", Aliases: []string{"n"}, Value: 20, Usage: "last N entries per host (0: all)"}},
		Action: func(c *cli.Context) error {
			cfg, pool, hosts, err := connect(c)
			if err != nil {
				return err
			}
			defer pool.Close()
			path := audit.Path(cfg.Service, cfg.Destination)
			results := fleet.Each(c.Context, hosts, 0, func(ctx context.Context, h string) ([]string, error) {
				return audit.Read(ctx, pool.Conn(h), path, c.Int("lines"))
			})
			for _, r := range results {
				if r.Err != nil {
					continue
				}
				for _, line := range r.Value {
					fmt.Fprintf(c.App.Writer, "[%s] %s\n", r.Host, line)
				}
			}
			return fleet.Failed(results)
		},
	}
}
