package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/accessories"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/engine"
	"github.com/shipdeploy/ship/fleet"
)

func detailsCommand() *cli.Command {
	return &cli.Command{
		Name:  "details",
		Usage: "show each host's Docker Engine and the service's containers",
		Action: func(c *cli.Context) error {
			cfg, pool, hosts, err := connect(c)
			if err != nil {
				return err
			}
			defer pool.Close()
			results := fleet.Each(c.Context, hosts, 0, func(ctx context.Context, h string) (engine.Host, error) {
				cli, err := fleet.Engine(ctx, pool.Conn(h))
				if err != nil {
					return engine.Host{}, err
				}
				defer cli.Close()
				return engine.Describe(ctx, cli, cfg.Service)
			})
			for i, r := range results {
				if i > 0 {
					fmt.Fprintln(c.App.Writer)
				}
				if r.Err != nil {
					fmt.Fprintf(c.App.Writer, "%s: unreachable: %v\n", r.Host, r.Err)
					continue
				}
				printHost(c, r.Host, cfg, r.Value)
			}
			return fleet.Failed(results)
		},
	}
}

func printHost(c *cli.Context, host string, cfg *config.Config, h engine.Host) {
	w := c.App.Writer
	fmt.Fprintf(w, "%s: Docker Engine %s (API %s, %s/%s)\n", host, h.Version, h.APIVersion, h.OS, h.Arch)
	if len(h.Containers) == 0 {
		fmt.Fprintf(w, "  no containers of %s\n", cfg.Service)
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  CONTAINER\tIMAGE\tROLE\tSTATE\tSTATUS")
		for _, ct := range h.Containers {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", ct.Name, ct.Image, orDash(ct.Role), ct.State, ct.Status)
		}
		tw.Flush()
	}
	for _, a := range accessories.On(cfg, host) {
		name := accessories.ContainerName(cfg, a)
		if !slices.ContainsFunc(h.Containers, func(ct engine.Container) bool { return ct.Name == name }) {
			fmt.Fprintf(w, "  accessory %s is not booted (no container %s)\n", a.Name, name)
		}
	}
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
