package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/proxy"
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
			bootConfigCommand(),
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

// bootConfigCommand is Kamal's proxy boot_config set|get|reset, with
// Kamal's flags and defaults.
func bootConfigCommand() *cli.Command {
	d := proxy.NewBootConfigFlags()
	return &cli.Command{
		Name:  "boot_config",
		Usage: "manage the kamal-proxy boot config on each host (~/.kamal/proxy), which proxy boot and reboot use where deploy.yml has no proxy.run (deprecated by Kamal: use proxy.run)",
		Subcommands: []*cli.Command{
			{
				Name: "set", Usage: "write the boot config", ArgsUsage: "[option=value ...] (more --docker-options)",
				Flags: append([]cli.Flag{
					&cli.BoolFlag{Name: "publish", Value: d.Publish, Usage: "publish the proxy ports on the host"},
					&cli.BoolFlag{Name: "no-publish", Aliases: []string{"no_publish"}, Usage: "do not publish the proxy ports"},
					&cli.StringSliceFlag{Name: "publish-host-ip", Aliases: []string{"publish_host_ip"}, Usage: "host IP address to bind HTTP and HTTPS to (repeatable; default all interfaces)"},
					&cli.IntFlag{Name: "http-port", Aliases: []string{"http_port"}, Value: d.HTTPPort, Usage: "HTTP port to publish on the host"},
					&cli.IntFlag{Name: "https-port", Aliases: []string{"https_port"}, Value: d.HTTPSPort, Usage: "HTTPS port to publish on the host"},
					&cli.StringFlag{Name: "log-max-size", Aliases: []string{"log_max_size"}, Value: d.LogMaxSize, Usage: "max size of the proxy's logs"},
					&cli.StringFlag{Name: "registry", Usage: "registry of the proxy image"},
					&cli.StringFlag{Name: "repository", Usage: "repository (namespace) of the proxy image (default basecamp)"},
					&cli.StringFlag{Name: "image-version", Aliases: []string{"image_version"}, Usage: "version of the proxy to run"},
					&cli.IntFlag{Name: "metrics-port", Aliases: []string{"metrics_port"}, Usage: "port to report Prometheus metrics on"},
					&cli.BoolFlag{Name: "debug", Usage: "run the proxy in debug mode"},
					&cli.StringSliceFlag{Name: "docker-options", Aliases: []string{"docker_options"}, Usage: "docker run options for the proxy container, as option=value (repeatable)"},
				}, queueFlags()...),
				Action: func(c *cli.Context) error {
					f := proxy.BootConfigFlags{
						Publish: c.Bool("publish") && !c.Bool("no-publish"), PublishHostIPs: c.StringSlice("publish-host-ip"),
						HTTPPort: c.Int("http-port"), HTTPSPort: c.Int("https-port"), LogMaxSize: c.String("log-max-size"),
						Registry: c.String("registry"), Repository: c.String("repository"), ImageVersion: c.String("image-version"),
						MetricsPort: c.Int("metrics-port"), Debug: c.Bool("debug"), DockerOptions: c.StringSlice("docker-options"),
					}
					// Kamal's --docker-options takes every word after it.
					switch first := c.Args().First(); {
					case first == "true" || first == "false":
						return usageError{fmt.Errorf("unexpected argument %q: give a switch its value with =, as --publish=false (or --no-publish) and --debug=true", first)}
					case first != "" && !c.IsSet("docker-options"):
						return usageError{fmt.Errorf("unexpected argument %q: docker run options go after --docker-options", first)}
					}
					f.DockerOptions = append(f.DockerOptions, c.Args().Slice()...)
					return workflow.ProxyBootConfigSet(c.Context, workflow.ProxyBootConfigSetRequest{Globals: globals(c), Flags: f})
				},
			},
			{
				Name: "get", Usage: "show the boot config of each host",
				Action: func(c *cli.Context) error {
					rows, err := workflow.ProxyBootConfigGet(c.Context, globals(c))
					for _, r := range rows {
						fmt.Fprintf(c.App.Writer, "Host %s: %s\n", r.Host, r.Config)
					}
					return err
				},
			},
			{Name: "reset", Usage: "remove the boot config: Kamal's defaults apply", Flags: queueFlags(), Action: proxyAction(workflow.ProxyBootConfigReset)},
		},
	}
}
