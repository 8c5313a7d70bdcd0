package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/kballard/go-shellquote"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	appops "github.com/shipdeploy/ship/app"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/queue"
	"github.com/shipdeploy/ship/ssh"
)

func appCommand() *cli.Command {
	return &cli.Command{
		Name:  "app",
		Usage: "manage the app's containers",
		Subcommands: []*cli.Command{
			{Name: "boot", Usage: "deploy the current version again (as ship deploy)", Flags: deployCommand().Flags, Action: deployCommand().Action},
			{Name: "start", Usage: "start the newest version where none is running", Flags: queueFlags(), Action: appEach("app start", appStart)},
			{Name: "stop", Usage: "stop the running containers", Flags: queueFlags(), Action: appEach("app stop", appStop)},
			{Name: "details", Usage: "show the running containers", Action: appList(true)},
			{Name: "containers", Usage: "show all containers, with the versions retained for rollback", Action: appList(false)},
			{Name: "version", Usage: "show the running version", Action: appVersion},
			{
				Name: "logs", Usage: "show the app's logs",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "keep printing new lines"},
					&cli.IntFlag{Name: "lines", Aliases: []string{"n"}, Value: 100, Usage: "number of lines from the end (0: all)"},
					&cli.StringFlag{Name: "since", Aliases: []string{"s"}, Usage: "only lines since (e.g. 10m, 2026-11-21T06:00:00)"},
					&cli.StringFlag{Name: "grep", Aliases: []string{"g"}, Usage: "only lines containing this text"},
				},
				Action: appLogs,
			},
			{
				Name: "exec", Usage: "run a command in the running container (or, with --new, a read-only one-off)", ArgsUsage: "COMMAND",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "interactive, with a terminal (one host)"},
					&cli.BoolFlag{Name: "new", Usage: "a one-off container with the app's volumes mounted read-only"},
					&cli.BoolFlag{Name: "reuse", Usage: "accepted for Kamal compatibility: ship always execs in the running container"},
				},
				Action: appExec,
			},
			{
				Name: "remove", Usage: "stop and remove the app's containers and images (volumes and data are kept)",
				Flags:  append([]cli.Flag{&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "do not ask"}}, queueFlags()...),
				Action: appRemove,
			},
		},
	}
}

// appTarget is one role on one host with its engine.
type appTarget struct {
	host *host.Host
	unit deploy.Unit
}

// appTargets connects to the selected hosts and lists the selected roles on
// each.
func appTargets(c *cli.Context) (*config.Config, *ssh.Pool, []appTarget, error) {
	cfg, pool, targets, _, err := appConnect(c)
	return cfg, pool, targets, err
}

func appConnect(c *cli.Context) (*config.Config, *ssh.Pool, []appTarget, map[string]*host.Host, error) {
	cfg, pool, hosts, engines, err := connectEngines(c)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	roles, err := fleet.Roles(cfg, global(c, "roles").String("roles"))
	if err != nil {
		pool.Close()
		return nil, nil, nil, nil, usageError{err}
	}
	var out []appTarget
	for _, u := range deploy.Plan(cfg, hosts, roles) {
		out = append(out, appTarget{host: engines[u.Host.Address], unit: u})
	}
	return cfg, pool, out, engines, nil
}

func units(targets []appTarget) []deploy.Unit {
	var out []deploy.Unit
	for _, t := range targets {
		out = append(out, t.unit)
	}
	return out
}

// appEach runs fn for every selected role on every selected host, hosts in
// parallel, output prefixed. A command name makes it a mutating command,
// run through the deploy queue.
func appEach(command string, fn func(ctx context.Context, cfg *config.Config, t appTarget, out io.Writer) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		cfg, pool, targets, engines, err := appConnect(c)
		if err != nil {
			return err
		}
		defer pool.Close()
		each := func(ctx context.Context) error {
			out := output(c.App.Writer)
			results := fleet.Each(ctx, targetNames(targets), 0, func(ctx context.Context, name string) (struct{}, error) {
				t := targetByName(targets, name)
				w := out.Prefixed("[" + name + "] ")
				defer w.Close()
				return struct{}{}, fn(ctx, cfg, t, w)
			})
			return fleet.Failed(results)
		}
		if command == "" {
			return each(c.Context)
		}
		return mutate(c, cfg, pool, engines, units(targets), queue.Ticket{Command: command}, each)
	}
}

func targetNames(ts []appTarget) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.unit.Host.Address+" "+t.unit.Role.Name)
	}
	return out
}

func targetByName(ts []appTarget, name string) appTarget {
	for _, t := range ts {
		if t.unit.Host.Address+" "+t.unit.Role.Name == name {
			return t
		}
	}
	return appTarget{}
}

func appStart(ctx context.Context, cfg *config.Config, t appTarget, out io.Writer) error {
	return deploy.Start(ctx, t.host, cfg, t.unit.Role, out)
}

func appStop(ctx context.Context, cfg *config.Config, t appTarget, out io.Writer) error {
	return deploy.Stop(ctx, t.host, cfg, t.unit.Role, out)
}

func appList(runningOnly bool) cli.ActionFunc {
	return func(c *cli.Context) error {
		cfg, pool, targets, err := appTargets(c)
		if err != nil {
			return err
		}
		defer pool.Close()
		tw := tabwriter.NewWriter(c.App.Writer, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "HOST\tROLE\tCONTAINER\tVERSION\tSTATE\tSTATUS")
		var errs []error
		for _, t := range targets {
			list, err := deploy.Containers(c.Context, t.host, cfg, t.unit.Role.Name)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", t.host.Name, err))
				continue
			}
			for _, ct := range list {
				if runningOnly && ct.State != "running" {
					continue
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.host.Name, t.unit.Role.Name, ct.Name, ct.Version, ct.State, ct.Status)
			}
		}
		tw.Flush()
		return errors.Join(errs...)
	}
}

func appVersion(c *cli.Context) error {
	cfg, pool, targets, err := appTargets(c)
	if err != nil {
		return err
	}
	defer pool.Close()
	for _, t := range targets {
		list, err := deploy.Containers(c.Context, t.host, cfg, t.unit.Role.Name)
		if err != nil {
			return fmt.Errorf("%s: %w", t.host.Name, err)
		}
		version := "not running"
		for _, ct := range list {
			if ct.State == "running" {
				version = ct.Version
				break
			}
		}
		fmt.Fprintf(c.App.Writer, "%s %s: %s\n", t.host.Name, t.unit.Role.Name, version)
	}
	return nil
}

func appLogs(c *cli.Context) error {
	opts := host.LogOptions{Follow: c.Bool("follow"), Lines: c.Int("lines"), Since: c.String("since"), Grep: c.String("grep")}
	return appEach("", func(ctx context.Context, cfg *config.Config, t appTarget, out io.Writer) error {
		return appops.Logs(ctx, t.host, cfg, t.unit.Role.Name, opts, out)
	})(c)
}

func appExec(c *cli.Context) error {
	if !c.Args().Present() {
		return usageError{errors.New(`app exec needs a command, e.g. ship app exec "bin/rails runner 'puts 1'"`)}
	}
	cmd, err := shellquote.Split(strings.Join(c.Args().Slice(), " "))
	if err != nil {
		return usageError{fmt.Errorf("command: %w", err)}
	}
	interactive := c.Bool("interactive")
	if interactive && c.Bool("new") {
		return usageError{errors.New("--interactive runs in the running container; it cannot be combined with --new")}
	}
	cfg, pool, targets, err := appTargets(c)
	if err != nil {
		return err
	}
	defer pool.Close()
	if interactive {
		return execInteractive(c, cfg, targets, cmd)
	}
	out := output(c.App.Writer)
	results := fleet.Each(c.Context, targetNames(targets), 0, func(ctx context.Context, name string) (struct{}, error) {
		t := targetByName(targets, name)
		w := out.Prefixed("[" + name + "] ")
		defer w.Close()
		var status int
		var err error
		if c.Bool("new") {
			status, err = appops.ExecNew(ctx, t.host, cfg, t.unit.Role, t.unit.Host, cmd, w, w)
		} else {
			status, err = appops.Exec(ctx, t.host, cfg, t.unit.Role.Name, cmd, nil, w, w)
		}
		if err == nil && status != 0 {
			err = fmt.Errorf("exit status %d", status)
		}
		return struct{}{}, err
	})
	return fleet.Failed(results)
}

// execInteractive attaches this terminal to a command in the running
// container of the one selected host and role.
func execInteractive(c *cli.Context, cfg *config.Config, targets []appTarget, cmd []string) error {
	if len(targets) != 1 {
		return usageError{fmt.Errorf("--interactive needs exactly one host and role; %d are selected (use --hosts and --roles, or -p)", len(targets))}
	}
	in, ok := c.App.Reader.(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return usageError{errors.New("--interactive needs a terminal")}
	}
	state, err := term.MakeRaw(int(in.Fd()))
	if err != nil {
		return err
	}
	defer term.Restore(int(in.Fd()), state)
	t := targets[0]
	status, err := appops.Exec(c.Context, t.host, cfg, t.unit.Role.Name, cmd, in, c.App.Writer, c.App.ErrWriter)
	if err == nil && status != 0 {
		err = fmt.Errorf("exit status %d", status)
	}
	return err
}

func appRemove(c *cli.Context) error {
	if !c.Bool("yes") && !confirm(c, "Remove every container and image of the app on the selected hosts (volumes are kept)? [y/N] ") {
		return errors.New("not removed: confirm on a terminal, or pass --yes")
	}
	cfg, pool, hosts, engines, err := connectEngines(c)
	if err != nil {
		return err
	}
	defer pool.Close()
	// No repair first: everything is removed anyway.
	return mutate(c, cfg, pool, engines, nil, queue.Ticket{Command: "app remove"}, func(ctx context.Context) error {
		return fleet.EachPrefixed(ctx, output(c.App.Writer), hosts, 0, func(ctx context.Context, h string, w io.Writer) error {
			return appops.Remove(ctx, engines[h], cfg, w)
		})
	})
}
