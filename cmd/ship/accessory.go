package main

import (
	"context"

	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/workflow"
)

func accessoryCommand() *cli.Command {
	mutating := func(name, usage string, run func(context.Context, workflow.AccessoryRequest) error) *cli.Command {
		return &cli.Command{Name: name, Usage: usage, ArgsUsage: "NAME|all", Flags: queueFlags(), Action: accessoryAction(run)}
	}
	return &cli.Command{
		Name:  "accessory",
		Usage: "manage accessories: long-running services beside the app",
		Subcommands: []*cli.Command{
			mutating("boot", "boot the accessory where it is not running", workflow.AccessoryBoot),
			mutating("reboot", "replace the accessory's container: stop, then start anew", workflow.AccessoryReboot),
			mutating("start", "start the accessory's container", workflow.AccessoryStart),
			mutating("stop", "stop the accessory's container", workflow.AccessoryStop),
			mutating("restart", "stop, then start the accessory's container", workflow.AccessoryRestart),
			mutating("remove", "stop and remove the accessory's container (its data stays)", workflow.AccessoryRemove),
			{Name: "details", Usage: "show the accessory's container on each host", ArgsUsage: "NAME|all", Action: accessoryAction(workflow.AccessoryDetails)},
			{
				Name: "logs", Usage: "show the accessory's logs", ArgsUsage: "NAME|all",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}},
					&cli.IntFlag{Name: "lines", Aliases: []string{"n"}, Value: 100},
					&cli.StringFlag{Name: "grep", Aliases: []string{"g"}},
				},
				Action: func(c *cli.Context) error {
					return workflow.AccessoryLogs(c.Context, workflow.AccessoryLogsRequest{Globals: globals(c), Name: c.Args().First(),
						Follow: c.Bool("follow"), Lines: c.Int("lines"), Grep: c.String("grep")})
				},
			},
			{
				Name: "exec", Usage: "run a command in the accessory's running container", ArgsUsage: "NAME COMMAND",
				Action: func(c *cli.Context) error {
					return workflow.AccessoryExec(c.Context, workflow.AccessoryExecRequest{Globals: globals(c), Name: c.Args().First(), Command: c.Args().Tail()})
				},
			},
		},
	}
}

// accessoryAction runs an accessory command on NAME|all.
func accessoryAction(run func(context.Context, workflow.AccessoryRequest) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		return run(c.Context, workflow.AccessoryRequest{Globals: globals(c), Name: c.Args().First()})
	}
}
