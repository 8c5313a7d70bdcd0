package main

import (
	"context"

	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/workflow"
)

func registryCommand() *cli.Command {
	sub := func(name, alias, usage string, run func(context.Context, workflow.RegistryRequest) error) *cli.Command {
		return &cli.Command{
			Name: name, Aliases: []string{alias}, Usage: usage,
			Flags: append([]cli.Flag{
				&cli.BoolFlag{Name: "skip-local", Aliases: []string{"L"}, Usage: "not on this machine"},
				&cli.BoolFlag{Name: "skip-remote", Aliases: []string{"R"}, Usage: "not on the hosts"},
			}, queueFlags()...),
			Action: func(c *cli.Context) error {
				return run(c.Context, workflow.RegistryRequest{Globals: globals(c), SkipLocal: c.Bool("skip-local"), SkipRemote: c.Bool("skip-remote")})
			},
		}
	}
	return &cli.Command{
		Name:        "registry",
		Usage:       "log the Docker CLI here and on the hosts in to the registry, and out",
		Description: "ship's own pulls and pushes pass the credentials with each request and need no login.",
		Subcommands: []*cli.Command{
			// Kamal's setup and remove are login and logout for a remote
			// registry; ship has no local one.
			sub("login", "setup", "check the registry credentials and keep them in the Docker config (or its credential helper) here and on the hosts; the password never goes on a command line", workflow.RegistryLogin),
			sub("logout", "remove", "remove the registry login here and on the hosts", workflow.RegistryLogout),
		},
	}
}
