package main

import (
	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/workflow"
)

func pruneCommand() *cli.Command {
	return &cli.Command{
		Name:   "prune",
		Usage:  "remove stopped app containers beyond retain_containers, and their unused images",
		Flags:  queueFlags(),
		Action: func(c *cli.Context) error { return workflow.Prune(c.Context, globals(c)) },
	}
}
