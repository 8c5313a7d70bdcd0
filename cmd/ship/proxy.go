package main

import (
	"context"

	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/workflow"
)

func proxyCommand() *cli.Command {
	mutating := func(name, usage string, run func(context.Context, workflow.Globals) error) *cli.Command {
		return &cli.Command{Name: name, Usage: usage, Flags: queueFlags(), Action: proxyAction(run)}
	}
	return &cli.Command{
		Name:  "proxy",
		Usage: "manage kamal-proxy, which holds requests during swaps",
		Subcommands: []*cli.Command{
			mutating("boot", "boot kamal-proxy where it is not running (an existing one, Kamal's too, is used as it is)", workflow.ProxyBoot),
			mutating("reboot", "replace the kamal-proxy container with one made from proxy.run; requests fail while it restarts", workflow.ProxyReboot),
			mutating("start", "start the kamal-proxy container", workflow.ProxyStart),
			mutating("stop", "stop the kamal-proxy container: proxied apps stop answering", workflow.ProxyStop),
			mutating("restart", "stop, then start the kamal-proxy container", workflow.ProxyRestart),
			mutating("remove", "stop and remove the kamal-proxy container (its volumes stay)", workflow.ProxyRemove),
			{Name: "details", Usage: "show the kamal-proxy container and its routes on each host", Action: proxyAction(workflow.ProxyDetails)},
			{
				Name: "logs", Usage: "show kamal-proxy's logs",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}},
					&cli.IntFlag{Name: "lines", Aliases: []string{"n"}, Value: 100},
					&cli.StringFlag{Name: "grep", Aliases: []string{"g"}},
				},
				Action: func(c *cli.Context) error {
					return workflow.ProxyLogs(c.Context, workflow.ProxyLogsRequest{Globals: globals(c),
						Follow: c.Bool("follow"), Lines: c.Int("lines"), Grep: c.String("grep")})
				},
			},
		},
	}
}

// proxyAction runs a proxy command on the selected hosts.
func proxyAction(run func(context.Context, workflow.Globals) error) cli.ActionFunc {
	return func(c *cli.Context) error { return run(c.Context, globals(c)) }
}
