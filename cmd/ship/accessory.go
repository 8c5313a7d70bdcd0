package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/docker/docker/client"
	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/accessories"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/queue"
	"github.com/shipdeploy/ship/spec"
	"github.com/shipdeploy/ship/ssh"
)

func accessoryCommand() *cli.Command {
	mutating := func(name, usage string, fn accessoryFunc) *cli.Command {
		return &cli.Command{Name: name, Usage: usage, ArgsUsage: "NAME|all", Flags: queueFlags(), Action: accessoryEach("accessory "+name, fn)}
	}
	return &cli.Command{
		Name:  "accessory",
		Usage: "manage accessories: long-running services beside the app",
		Subcommands: []*cli.Command{
			mutating("boot", "boot the accessory where it is not running", func(ctx context.Context, t accessoryTarget) error {
				return accessories.Boot(ctx, t.host, t.local, t.cfg, t.acc, false, t.out)
			}),
			mutating("reboot", "replace the accessory's container: stop, then start anew", func(ctx context.Context, t accessoryTarget) error {
				return accessories.Boot(ctx, t.host, t.local, t.cfg, t.acc, true, t.out)
			}),
			mutating("start", "start the accessory's container", func(ctx context.Context, t accessoryTarget) error {
				return accessories.Start(ctx, t.host, t.cfg, t.acc, t.out)
			}),
			mutating("stop", "stop the accessory's container", func(ctx context.Context, t accessoryTarget) error {
				return accessories.Stop(ctx, t.host, t.cfg, t.acc, t.out)
			}),
			mutating("restart", "stop, then start the accessory's container", func(ctx context.Context, t accessoryTarget) error {
				if err := accessories.Stop(ctx, t.host, t.cfg, t.acc, t.out); err != nil {
					return err
				}
				return accessories.Start(ctx, t.host, t.cfg, t.acc, t.out)
			}),
			mutating("remove", "stop and remove the accessory's container (its data stays)", func(ctx context.Context, t accessoryTarget) error {
				return accessories.Remove(ctx, t.host, t.cfg, t.acc, t.out)
			}),
			{Name: "details", Usage: "show the accessory's container on each host", ArgsUsage: "NAME|all", Action: accessoryDetails},
			{
				Name: "logs", Usage: "show the accessory's logs", ArgsUsage: "NAME|all",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}},
					&cli.IntFlag{Name: "lines", Aliases: []string{"n"}, Value: 100},
					&cli.StringFlag{Name: "grep", Aliases: []string{"g"}},
				},
				Action: accessoryEach("", func(ctx context.Context, t accessoryTarget) error {
					return accessories.Logs(ctx, t.host, t.cfg, t.acc, host.LogOptions{Follow: t.c.Bool("follow"), Lines: t.c.Int("lines"), Grep: t.c.String("grep")}, t.out)
				}),
			},
			{
				Name: "exec", Usage: "run a command in the accessory's running container", ArgsUsage: "NAME COMMAND",
				Action: func(c *cli.Context) error {
					// Checked before any host is contacted: a usage error
					// returned from inside fleet.Each lost its type there
					// (exit status 1, under a host prefix).
					if c.Args().Len() < 2 {
						return usageError{errors.New("accessory exec needs NAME and a COMMAND")}
					}
					return accessoryEach("", func(ctx context.Context, t accessoryTarget) error {
						status, err := accessories.Exec(ctx, t.host, t.cfg, t.acc, t.c.Args().Tail(), t.out, t.out)
						if err == nil && status != 0 {
							err = fmt.Errorf("exit status %d", status)
						}
						return err
					})(c)
				},
			},
		},
	}
}

// accessoryTarget is one accessory on one of its hosts.
type accessoryTarget struct {
	c     *cli.Context
	cfg   *config.Config
	acc   *config.Accessory
	host  *host.Host
	local client.APIClient
	out   io.Writer
}

type accessoryFunc func(ctx context.Context, t accessoryTarget) error

// pickAccessories resolves NAME|all.
func pickAccessories(c *cli.Context, cfg *config.Config) ([]*config.Accessory, error) {
	name := c.Args().First()
	if name == "all" {
		return cfg.Accessories, nil
	}
	var names []string
	for _, a := range cfg.Accessories {
		if a.Name == name {
			return []*config.Accessory{a}, nil
		}
		names = append(names, a.Name)
	}
	return nil, usageError{fmt.Errorf("no accessory %q in the config (have: %s, or all)", name, strings.Join(names, ", "))}
}

// accessoryEach runs fn for each selected accessory on each of its hosts
// (narrowed by --hosts). A command name runs it through the deploy queue.
func accessoryEach(command string, fn accessoryFunc) cli.ActionFunc {
	return func(c *cli.Context) error {
		cfg, err := loadConfig(c)
		if err != nil {
			return err
		}
		accs, err := pickAccessories(c, cfg)
		if err != nil {
			return err
		}
		selected := fleet.AllHosts(cfg)
		if h := global(c, "hosts").String("hosts"); h != "" {
			if selected, err = selectHosts(c, cfg); err != nil {
				return err
			}
		}
		var hosts []string
		for _, a := range accs {
			for _, h := range accessories.Hosts(cfg, a) {
				if !slices.Contains(hosts, h) && (global(c, "hosts").String("hosts") == "" || slices.Contains(selected, h)) {
					hosts = append(hosts, h)
				}
			}
		}
		pool := ssh.NewPool(fleet.SSHConfig(cfg))
		defer pool.Close()
		engines, err := openHosts(c.Context, pool, hosts)
		if err != nil {
			return err
		}
		local, err := localEngine()
		if err != nil {
			return err
		}
		defer local.Close()
		run := func(ctx context.Context) error {
			out := output(c.App.Writer)
			results := fleet.Each(ctx, hosts, 0, func(ctx context.Context, h string) (struct{}, error) {
				for _, a := range accs {
					if !slices.Contains(accessories.Hosts(cfg, a), h) {
						continue
					}
					w := out.Prefixed("[" + h + " " + a.Name + "] ")
					err := fn(ctx, accessoryTarget{c: c, cfg: cfg, acc: a, host: engines[h], local: local, out: w})
					w.Close()
					if err != nil {
						return struct{}{}, fmt.Errorf("%s: %w", a.Name, err)
					}
				}
				return struct{}{}, nil
			})
			return fleet.Failed(results)
		}
		if command == "" {
			return run(c.Context)
		}
		return mutate(c, cfg, pool, engines, nil, queue.Ticket{Command: command + " " + c.Args().First()}, run)
	}
}

func accessoryDetails(c *cli.Context) error {
	return accessoryEach("", func(ctx context.Context, t accessoryTarget) error {
		name := spec.AccessoryName(t.cfg, t.acc)
		info, err := t.host.Docker.ContainerInspect(ctx, name)
		tw := tabwriter.NewWriter(t.out, 0, 0, 2, ' ', 0)
		defer tw.Flush()
		if err != nil {
			fmt.Fprintf(tw, "%s\tnot booted\n", name)
			return nil
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, info.Config.Image, info.State.Status, info.State.StartedAt)
		return nil
	})(c)
}
