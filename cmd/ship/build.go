package main

import (
	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/workflow"
)

func buildCommand() *cli.Command {
	versionFlag := &cli.StringFlag{Name: "version", Usage: "version to build (default: the git commit, with a suffix if the tree is dirty)"}
	build := func(push, deliver bool) cli.ActionFunc {
		return func(c *cli.Context) error {
			return workflow.Build(c.Context, workflow.BuildRequest{Globals: globals(c), Version: c.String("version"), Push: push, Deliver: deliver})
		}
	}
	return &cli.Command{
		Name:   "build",
		Usage:  "build the app's image with the local Docker Engine",
		Flags:  []cli.Flag{versionFlag},
		Action: build(false, false),
		Subcommands: []*cli.Command{
			{Name: "push", Usage: "build, then push the image to the registry", Flags: []cli.Flag{versionFlag}, Action: build(true, false)},
			{Name: "pull", Usage: "put the built image on the hosts: pulled from the registry, or sent over SSH without one", Flags: []cli.Flag{versionFlag},
				Action: func(c *cli.Context) error { return workflow.Deliver(c.Context, globals(c), c.String("version")) }},
			{Name: "deliver", Usage: "build, push and pull: the image ready on every host", Flags: []cli.Flag{versionFlag}, Action: build(true, true)},
		},
	}
}
