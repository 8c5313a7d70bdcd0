package main

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/docker/docker/client"
	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/proxy"
	"github.com/shipdeploy/ship/queue"
)

func proxyCommand() *cli.Command {
	mutating := func(name, usage string, fn proxyFunc) *cli.Command {
		return &cli.Command{Name: name, Usage: usage, Flags: queueFlags(), Action: proxyEach("proxy "+name, fn)}
	}
	return &cli.Command{
		Name:  "proxy",
		Usage: "manage kamal-proxy, which holds requests during swaps",
		Subcommands: []*cli.Command{
			mutating("boot", "boot kamal-proxy where it is not running (an existing one, Kamal's too, is used as it is)", func(ctx context.Context, t proxyTarget) error {
				return proxy.Boot(ctx, t.host.Docker, t.local, t.cfg.ProxyRun, t.out)
			}),
			mutating("reboot", "replace the kamal-proxy container with one made from proxy.run; requests fail while it restarts", func(ctx context.Context, t proxyTarget) error {
				return proxy.Reboot(ctx, t.host.Docker, t.local, t.cfg.ProxyRun, t.out)
			}),
			mutating("start", "start the kamal-proxy container", func(ctx context.Context, t proxyTarget) error {
				return proxy.Start(ctx, t.host.Docker, t.out)
			}),
			mutating("stop", "stop the kamal-proxy container: proxied apps stop answering", func(ctx context.Context, t proxyTarget) error {
				return proxy.Stop(ctx, t.host.Docker, t.out)
			}),
			mutating("restart", "stop, then start the kamal-proxy container", func(ctx context.Context, t proxyTarget) error {
				if err := proxy.Stop(ctx, t.host.Docker, t.out); err != nil {
					return err
				}
				return proxy.Start(ctx, t.host.Docker, t.out)
			}),
			mutating("remove", "stop and remove the kamal-proxy container (its volumes stay)", func(ctx context.Context, t proxyTarget) error {
				return proxy.Remove(ctx, t.host.Docker, t.out)
			}),
			{Name: "details", Usage: "show the kamal-proxy container and its routes on each host", Action: proxyEach("", func(ctx context.Context, t proxyTarget) error {
				return proxy.Details(ctx, t.host.Docker, t.out)
			})},
			{
				Name: "logs", Usage: "show kamal-proxy's logs",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}},
					&cli.IntFlag{Name: "lines", Aliases: []string{"n"}, Value: 100},
					&cli.StringFlag{Name: "grep", Aliases: []string{"g"}},
				},
				Action: proxyEach("", func(ctx context.Context, t proxyTarget) error {
					return host.Logs(ctx, t.host, proxy.ContainerName, host.LogOptions{Follow: t.c.Bool("follow"), Lines: t.c.Int("lines"), Grep: t.c.String("grep")}, t.out)
				}),
			},
		},
	}
}

// proxyTarget is kamal-proxy on one host.
type proxyTarget struct {
	c     *cli.Context
	cfg   *config.Config
	host  *host.Host
	local client.APIClient
	out   io.Writer
}

type proxyFunc func(ctx context.Context, t proxyTarget) error

// proxyHosts are the selected hosts that run a proxied role.
func proxyHosts(cfg *config.Config, selected []string) []string {
	var hosts []string
	for _, r := range cfg.Roles {
		if r.Proxy == nil {
			continue
		}
		for _, h := range r.Hosts {
			if slices.Contains(selected, h.Address) && !slices.Contains(hosts, h.Address) {
				hosts = append(hosts, h.Address)
			}
		}
	}
	return hosts
}

// proxyEach runs fn on every selected host with a proxied role. A command
// name runs it through the deploy queue.
func proxyEach(command string, fn proxyFunc) cli.ActionFunc {
	return func(c *cli.Context) error {
		cfg, pool, selected, err := connect(c)
		if err != nil {
			return err
		}
		defer pool.Close()
		hosts := proxyHosts(cfg, selected)
		if len(hosts) == 0 {
			return usageError{fmt.Errorf("no selected host runs a role behind kamal-proxy: add a proxy section to %s", cfg.Files[0])}
		}
		engines, err := openHosts(c.Context, pool, hosts)
		if err != nil {
			return err
		}
		var local client.APIClient
		if command != "" {
			l, err := localEngine()
			if err != nil {
				return err
			}
			defer l.Close()
			local = l
		}
		run := func(ctx context.Context) error {
			out := output(c.App.Writer)
			return fleet.Failed(fleet.Each(ctx, hosts, 0, func(ctx context.Context, h string) (struct{}, error) {
				w := out.Prefixed("[" + h + "] ")
				defer w.Close()
				return struct{}{}, fn(ctx, proxyTarget{c: c, cfg: cfg, host: engines[h], local: local, out: w})
			}))
		}
		if command == "" {
			return run(c.Context)
		}
		return mutate(c, cfg, pool, engines, nil, queue.Ticket{Command: command}, run)
	}
}
