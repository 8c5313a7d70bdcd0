package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/doctor"
	"github.com/shipdeploy/ship/workflow"
)

func doctorCommand() *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "check each host: what is wrong, and the command that fixes it (reads only)",
		Description: "One line per check. Exits 1 when a check fails; warnings alone exit 0. " +
			"It takes no place in the deploy queue and changes nothing.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "one JSON document (see docs/json.md)"},
			&cli.Float64Flag{Name: "min-free", Value: workflow.DefaultMinFree, Usage: "fail a filesystem with less free space than this, in percent (it warns below 10)"},
		},
		Action: func(c *cli.Context) error {
			minFree := c.Float64("min-free")
			if minFree <= 0 || minFree > 100 {
				return workflow.UsageError{Err: fmt.Errorf("--min-free %g: want a percentage above 0, up to 100", minFree)}
			}
			res, err := workflow.Doctor(c.Context, workflow.DoctorRequest{Globals: docGlobals(c), MinFree: minFree})
			if res.Hosts == nil {
				return err
			}
			if c.Bool("json") {
				doc := doctorDoc{Service: res.Service, Destination: res.Destination, OK: res.Worst() != doctor.Fail, State: res.Worst().String(), Hosts: res.Hosts}
				if jerr := writeJSON(c.App.Writer, doc); jerr != nil {
					return jerr
				}
				return err
			}
			for _, h := range res.Hosts {
				for _, ch := range h.Checks {
					fmt.Fprintf(c.App.Writer, "[%s] %s\n", h.Host, ch)
				}
			}
			return err
		},
	}
}

// doctorDoc is ship doctor --json, schema version 1 (docs/json.md).
type doctorDoc struct {
	Service     string                `json:"service"`
	Destination string                `json:"destination"`
	OK          bool                  `json:"ok"`
	State       string                `json:"state"`
	Hosts       []workflow.DoctorHost `json:"hosts"`
}
