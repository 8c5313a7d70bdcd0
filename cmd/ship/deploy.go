package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/workflow"
)

// atStep is told of each swap step; only the test build sets it
// (hang_shiptest.go).
var atStep func(deploy.Step)

func deployCommand() *cli.Command {
	return &cli.Command{
		Name:  "deploy",
		Usage: "deploy a version with a stop-then-start swap on every host",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "version", Usage: "version to deploy (default: the git commit, with a suffix if the tree is dirty)"},
			&cli.BoolFlag{Name: "skip-build", Aliases: []string{"P", "skip-push"}, Usage: "deploy IMAGE:VERSION as it is, locally or in the registry"},
			&cli.BoolFlag{Name: "no-coalesce", Usage: "run even if a newer deploy is waiting in the queue"},
			jsonFlag,
		}, queueFlags()...),
		Action: func(c *cli.Context) error {
			return reported(c, func() (*deploy.Report, error) {
				return workflow.Deploy(c.Context, deployRequest(c))
			})
		},
	}
}

func redeployCommand() *cli.Command {
	return &cli.Command{
		Name:        "redeploy",
		Usage:       "deploy without booting kamal-proxy or pruning old containers",
		Description: "As Kamal's redeploy. The swap, its single-writer checks and the deploy queue are the same as deploy's.",
		Flags:       deployCommand().Flags,
		Action: func(c *cli.Context) error {
			return reported(c, func() (*deploy.Report, error) {
				return workflow.Redeploy(c.Context, deployRequest(c))
			})
		},
	}
}

func deployRequest(c *cli.Context) workflow.DeployRequest {
	return workflow.DeployRequest{Globals: globals(c), Version: c.String("version"),
		SkipBuild: c.Bool("skip-build"), NoCoalesce: c.Bool("no-coalesce"), AtStep: atStep}
}

func rollbackCommand() *cli.Command {
	return &cli.Command{
		Name:      "rollback",
		Usage:     "swap back to a retained version",
		ArgsUsage: "VERSION",
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "restore-data", Usage: "put the databases back as they were before the deploy that replaced VERSION; later writes are set aside beside them"},
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "do not ask (needed with --restore-data without a terminal)"},
			jsonFlag,
		}, queueFlags()...),
		Action: func(c *cli.Context) error {
			if c.Args().Len() == 0 {
				return usageError{errors.New("rollback needs the VERSION to go back to (ship app containers lists them)")}
			}
			r := workflow.RollbackRequest{Globals: globals(c), Version: c.Args().First(),
				RestoreData: c.Bool("restore-data"), Yes: c.Bool("yes"), AtStep: atStep}
			// urfave/cli stops at VERSION; `rollback v1 --restore-data`
			// is how people type it.
			for _, arg := range c.Args().Tail() {
				switch arg {
				case "--restore-data":
					r.RestoreData = true
				case "--yes", "-y":
					r.Yes = true
				case "--json":
					c.Set("json", "true")
				default:
					return usageError{fmt.Errorf("rollback takes one VERSION; %q is not a rollback flag", arg)}
				}
			}
			return reported(c, func() (*deploy.Report, error) {
				r.Globals = globals(c) // after --json sent progress to stderr
				return workflow.Rollback(c.Context, r)
			})
		},
	}
}
