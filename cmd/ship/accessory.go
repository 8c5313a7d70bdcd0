package main

import (
	"context"
	"fmt"

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
			mutating("directories", "create the accessory's directories on its hosts, with their owner and mode (boot does this too)", workflow.AccessoryDirectories),
			mutating("upload", "upload the accessory's files to its hosts (boot does this too; reboot to use them)", workflow.AccessoryUpload),
			{
				Name: "upgrade", ArgsUsage: "NAME|all",
				Usage: "Kamal 1 to 2: restart the accessory in the kamal network; ship's boot and reboot always put it there, so this is reboot after a question",
				Flags: append([]cli.Flag{
					&cli.BoolFlag{Name: "rolling", Usage: "one host at a time"},
					&cli.BoolFlag{Name: "confirmed", Aliases: []string{"y", "yes"}, Usage: "do not ask"},
				}, queueFlags()...),
				Action: accessoryUpgrade,
			},
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

func accessoryUpgrade(c *cli.Context) error {
	r := workflow.AccessoryUpgradeRequest{AccessoryRequest: workflow.AccessoryRequest{Globals: globals(c), Name: c.Args().First()},
		Rolling: c.Bool("rolling"), Yes: c.Bool("confirmed")}
	// urfave/cli stops at NAME; `upgrade all -y` is how Kamal users type it.
	for _, arg := range c.Args().Tail() {
		switch arg {
		case "--rolling":
			r.Rolling = true
		case "--confirmed", "--yes", "-y":
			r.Yes = true
		default:
			return usageError{fmt.Errorf("accessory upgrade takes one NAME|all; %q is not an upgrade flag", arg)}
		}
	}
	return workflow.AccessoryUpgrade(c.Context, r)
}
