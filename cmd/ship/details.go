package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/workflow"
)

func detailsCommand() *cli.Command {
	return &cli.Command{
		Name:  "details",
		Usage: "show each host's Docker Engine and the service's containers",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "one JSON document (see docs/json.md)"}},
		Action: func(c *cli.Context) error {
			d, err := workflow.Details(c.Context, workflow.DetailsRequest{Globals: docGlobals(c)})
			if d == nil {
				return err
			}
			if c.Bool("json") {
				doc := detailsDoc{Service: d.Service, Destination: d.Destination, Hosts: []detailsHostDoc{}}
				for _, h := range d.Hosts {
					doc.Hosts = append(doc.Hosts, detailsHost(h))
				}
				if jerr := writeJSON(c.App.Writer, doc); jerr != nil {
					return jerr
				}
				return err
			}
			for i, h := range d.Hosts {
				if i > 0 {
					fmt.Fprintln(c.App.Writer)
				}
				if h.Err != nil {
					fmt.Fprintf(c.App.Writer, "%s: unreachable: %v\n", h.Host, h.Err)
					continue
				}
				printHost(c.App.Writer, d.Service, h)
			}
			return err
		},
	}
}

func printHost(w io.Writer, service string, h workflow.HostDetails) {
	e := h.Engine
	fmt.Fprintf(w, "%s: Docker Engine %s (API %s, %s/%s)\n", h.Host, e.Version, e.APIVersion, e.OS, e.Arch)
	if len(e.Containers) == 0 {
		fmt.Fprintf(w, "  no containers of %s\n", service)
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  CONTAINER\tIMAGE\tROLE\tSTATE\tSTATUS")
		for _, ct := range e.Containers {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", ct.Name, ct.Image, orDash(ct.Role), ct.State, ct.Status)
		}
		tw.Flush()
	}
	for _, a := range h.Missing {
		fmt.Fprintf(w, "  accessory %s is not booted (no container %s)\n", a.Name, a.Container)
	}
}

// detailsDoc is ship details --json, schema version 1 (docs/json.md). It is
// built here rather than from json tags on engine.Host (the workflow's
// HostDetails.Engine), whose shape is the engine package's business.
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

func detailsHost(h workflow.HostDetails) detailsHostDoc {
	d := detailsHostDoc{Host: h.Host, Containers: []detailsContainerDoc{}, AccessoriesMissing: []string{}, Error: errString(h.Err)}
	e := h.Engine
	if e.Version != "" {
		d.Engine = &detailsEngineDoc{Version: e.Version, APIVersion: e.APIVersion, OS: e.OS, Arch: e.Arch}
	}
	for _, ct := range e.Containers {
		d.Containers = append(d.Containers, detailsContainerDoc{
			Name: ct.Name, Image: ct.Image, Role: ct.Role, State: ct.State, Status: ct.Status,
			Created: time.Unix(ct.Created, 0).UTC(),
		})
	}
	// Which accessories are missing is known only from a full list: the
	// workflow leaves them out when the host failed.
	for _, a := range h.Missing {
		d.AccessoriesMissing = append(d.AccessoriesMissing, a.Name)
	}
	return d
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
