package main

import (
	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/workflow"
)

func setupCommand() *cli.Command {
	return &cli.Command{
		Name:  "setup",
		Usage: "prepare the hosts (volumes, network, data from the replica, accessories), then deploy",
		Flags: deployCommand().Flags,
		Action: func(c *cli.Context) error {
			return workflow.Setup(c.Context, deployRequest(c))
		},
	}
}
