package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/audit"
	"github.com/shipdeploy/ship/workflow"
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
			a, err := workflow.Audit(c.Context, workflow.AuditRequest{Globals: docGlobals(c), Lines: c.Int("lines")})
			if a == nil {
				return err
			}
			if c.Bool("json") {
				doc := auditDoc{Service: a.Service, Destination: a.Destination, Hosts: []auditHostDoc{}}
				for _, l := range a.Hosts {
					h := auditHostDoc{Host: l.Host, Entries: l.Entries, Error: errString(l.Err)}
					if h.Entries == nil {
						h.Entries = []audit.Entry{}
					}
					doc.Hosts = append(doc.Hosts, h)
				}
				if jerr := writeJSON(c.App.Writer, doc); jerr != nil {
					return jerr
				}
				return err
			}
			for _, l := range a.Hosts {
				if l.Err != nil {
					continue
				}
				for _, e := range l.Entries {
					fmt.Fprintf(c.App.Writer, "[%s] %s\n", l.Host, e.Line())
				}
			}
			return err
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
