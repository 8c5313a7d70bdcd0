package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/accessories"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/engine"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/spec"
)

func detailsCommand() *cli.Command {
	return &cli.Command{
		Name:  "details",
		Usage: "show each host's Docker Engine and the service's containers",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "one JSON document (see docs/json.md)"}},
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
			if c.Bool("json") {
				doc := detailsDoc{Service: cfg.Service, Destination: cfg.Destination, Hosts: []detailsHostDoc{}}
				for _, r := range results {
					doc.Hosts = append(doc.Hosts, detailsHost(cfg, r))
				}
				if err := writeJSON(c.App.Writer, doc); err != nil {
					return err
				}
				return fleet.Failed(results)
			}
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
	for _, a := range missingAccessories(cfg, host, h) {
		fmt.Fprintf(w, "  accessory %s is not booted (no container %s)\n", a.Name, spec.AccessoryName(cfg, a))
	}
}

// missingAccessories are the accessories of host that have no container
// there.
func missingAccessories(cfg *config.Config, host string, h engine.Host) []*config.Accessory {
	var out []*config.Accessory
	for _, a := range accessories.On(cfg, host) {
		name := spec.AccessoryName(cfg, a)
		if !slices.ContainsFunc(h.Containers, func(ct engine.Container) bool { return ct.Name == name }) {
			out = append(out, a)
		}
	}
	return out
}

// detailsDoc is ship details --json, schema version 1 (docs/json.md). It is
// built here rather than from json tags on engine.Host, whose shape is the
// engine package's business.
type detailsDoc struct {
	Service     string           `json:"service"`
	Destination string           `json:"destination"`
	Hosts       []detailsHostDoc `json:"hosts"`
}

type detailsHostDoc struct {
	Host               string                `json:"host"`
	Engine             *detailsEngineDoc     `json:"engine"` // null when the engine was not reached
	Containers         []detailsContainerDoc `json:"containers"`
	AccessoriesMissing []string              `json:"accessories_missing"`
	Error              string                `json:"error,omitempty"`
}

type detailsEngineDoc struct {
	Version    string `json:"version"`
	APIVersion string `json:"api_version"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
}

type detailsContainerDoc struct {
	Name    string    `json:"name"`
	Image   string    `json:"image"`
	Role    string    `json:"role"`
	State   string    `json:"state"`
	Status  string    `json:"status"`
	Created time.Time `json:"created"`
}

func detailsHost(cfg *config.Config, r fleet.Result[engine.Host]) detailsHostDoc {
	d := detailsHostDoc{Host: r.Host, Containers: []detailsContainerDoc{}, AccessoriesMissing: []string{}, Error: errString(r.Err)}
	h := r.Value
	if h.Version != "" {
		d.Engine = &detailsEngineDoc{Version: h.Version, APIVersion: h.APIVersion, OS: h.OS, Arch: h.Arch}
	}
	for _, ct := range h.Containers {
		d.Containers = append(d.Containers, detailsContainerDoc{
			Name: ct.Name, Image: ct.Image, Role: ct.Role, State: ct.State, Status: ct.Status,
			Created: time.Unix(ct.Created, 0).UTC(),
		})
	}
	// Which accessories are missing is known only from a full list.
	if r.Err == nil {
		for _, a := range missingAccessories(cfg, r.Host, h) {
			d.AccessoriesMissing = append(d.AccessoriesMissing, a.Name)
		}
	}
	return d
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
