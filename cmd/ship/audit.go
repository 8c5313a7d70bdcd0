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
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "lines", Aliases: []string{"n"}, Value: 20, Usage: "last N entries per host (0: all)"},
			&cli.BoolFlag{Name: "json", Usage: "one JSON document (see docs/json.md)"},
		},
		Action: func(c *cli.Context) error {
			cfg, pool, hosts, err := connect(c)
			if err != nil {
				return err
			}
			defer pool.Close()
			path := audit.Path(cfg.ServiceAndDestination())
			results := fleet.Each(c.Context, hosts, 0, func(ctx context.Context, h string) ([]audit.Entry, error) {
				return audit.Read(ctx, pool.Conn(h), path, c.Int("lines"))
			})
			if c.Bool("json") {
				doc := auditDoc{Service: cfg.Service, Destination: cfg.Destination, Hosts: []auditHostDoc{}}
				for _, r := range results {
					h := auditHostDoc{Host: r.Host, Entries: r.Value, Error: errString(r.Err)}
					if h.Entries == nil {
						h.Entries = []audit.Entry{}
					}
					doc.Hosts = append(doc.Hosts, h)
				}
				if err := writeJSON(c.App.Writer, doc); err != nil {
					return err
				}
				return fleet.Failed(results)
			}
			for _, r := range results {
				if r.Err != nil {
					continue
				}
				for _, e := range r.Value {
					fmt.Fprintf(c.App.Writer, "[%s] %s\n", r.Host, e.Line())
				}
			}
			return fleet.Failed(results)
		},
	}
}

// auditDoc is ship audit --json, schema version 1 (docs/json.md). The
// entries are audit.Entry, whose json keys are the log's own on the host.
type auditDoc struct {
	Service     string         `json:"service"`
	Destination string         `json:"destination"`
	Hosts       []auditHostDoc `json:"hosts"`
}

type auditHostDoc struct {
	Host    string        `json:"host"`
	Entries []audit.Entry `json:"entries"`
	Error   string        `json:"error,omitempty"`
}

// errString is an error's message for a JSON document, "" for none.
func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
