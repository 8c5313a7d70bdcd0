package main

import (
	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/workflow"
)

func removeCommand() *cli.Command {
	return &cli.Command{
		Name:  "remove",
		Usage: "remove the app, its accessories and kamal-proxy from the hosts; no data is deleted",
		Description: "Removes the app's containers and images, kamal-proxy where no other app uses it, the accessories' containers " +
			"and the hosts' registry login. Unlike Kamal, no data is deleted: volumes, accessory directories and Litestream replicas stay.",
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "confirmed", Aliases: []string{"y", "yes"}, Usage: "do not ask"},
		}, queueFlags()...),
		Action: func(c *cli.Context) error {
			return workflow.Remove(c.Context, workflow.RemoveRequest{Globals: globals(c), Yes: c.Bool("confirmed")})
		},
	}
}
