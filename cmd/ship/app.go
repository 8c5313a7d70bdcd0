package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/shipdeploy/ship/workflow"
)

func appCommand() *cli.Command {
	return &cli.Command{
		Name:  "app",
		Usage: "manage the app's containers",
		Subcommands: []*cli.Command{
			{Name: "boot", Usage: "deploy the current version again (as ship deploy)", Flags: deployCommand().Flags, Action: deployCommand().Action},
			{Name: "start", Usage: "start the version that served last where none is running", Flags: queueFlags(),
				Action: func(c *cli.Context) error { return workflow.AppStart(c.Context, globals(c)) }},
			{Name: "stop", Usage: "stop the running containers", Flags: queueFlags(),
				Action: func(c *cli.Context) error { return workflow.AppStop(c.Context, globals(c)) }},
			{
				Name: "maintenance", Usage: "put the app in maintenance: kamal-proxy answers every request 503 (deploys keep it so) until ship app live",
				Flags: append([]cli.Flag{
					&cli.Float64Flag{Name: "drain-timeout", Aliases: []string{"drain_timeout"}, Usage: "seconds requests in flight may take to finish (default: drain_timeout from the config)"},
					&cli.StringFlag{Name: "message", Usage: "message to show to clients while in maintenance"},
				}, queueFlags()...),
				Action: func(c *cli.Context) error {
					return workflow.AppMaintenance(c.Context, workflow.AppMaintenanceRequest{Globals: globals(c),
						DrainTimeout: time.Duration(c.Float64("drain-timeout") * float64(time.Second)), Message: c.String("message")})
				},
			},
			{Name: "live", Usage: "end the maintenance: kamal-proxy routes requests to the app again", Flags: queueFlags(),
				Action: func(c *cli.Context) error { return workflow.AppLive(c.Context, globals(c)) }},
			{Name: "details", Usage: "show the running containers", Action: appList(workflow.AppDetails)},
			{Name: "containers", Usage: "show all containers, with the versions retained for rollback", Action: appList(workflow.AppContainers)},
			{Name: "version", Usage: "show the running version", Action: appVersion},
			{
				Name: "logs", Usage: "show the app's logs",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "keep printing new lines"},
					&cli.IntFlag{Name: "lines", Aliases: []string{"n"}, Value: 100, Usage: "number of lines from the end (0: all)"},
					&cli.StringFlag{Name: "since", Aliases: []string{"s"}, Usage: "only lines since (e.g. 10m, 2026-11-21T06:00:00)"},
					&cli.StringFlag{Name: "grep", Aliases: []string{"g"}, Usage: "only lines containing this text"},
				},
				Action: func(c *cli.Context) error {
					return workflow.AppLogs(c.Context, workflow.AppLogsRequest{Globals: globals(c),
						Follow: c.Bool("follow"), Lines: c.Int("lines"), Since: c.String("since"), Grep: c.String("grep")})
				},
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
				Name:   "stale_containers",
				Usage:  "find containers of old versions still running beside the one that serves: each is a second writer of the database",
				Flags:  append([]cli.Flag{&cli.BoolFlag{Name: "stop", Aliases: []string{"s"}, Usage: "stop them (through the deploy queue)"}}, queueFlags()...),
				Action: appStale,
			},
			{Name: "images", Usage: "show the app's images on each host", Action: appImages},
			{
				Name: "remove", Usage: "stop and remove the app's containers and images (volumes and data are kept)",
				Flags: append([]cli.Flag{&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "do not ask"}}, queueFlags()...),
				Action: func(c *cli.Context) error {
					return workflow.AppRemove(c.Context, workflow.AppRemoveRequest{Globals: globals(c), Yes: c.Bool("yes")})
				},
			},
		},
	}
}

// appList prints the containers list returns as a table, then names the
// hosts it could not list.
func appList(list func(context.Context, workflow.Globals) (workflow.AppContainerList, error)) cli.ActionFunc {
	return func(c *cli.Context) error {
		l, err := list(c.Context, globals(c))
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.App.Writer, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "HOST\tROLE\tCONTAINER\tVERSION\tSTATE\tSTATUS")
		for _, r := range l.Rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Host, r.Role, r.Container, r.Version, r.State, r.Status)
		}
		tw.Flush()
		return l.Unlisted
	}
}

func appVersion(c *cli.Context) error {
	rows, err := workflow.AppVersion(c.Context, globals(c))
	for _, r := range rows {
		version := r.Version
		if version == "" {
			version = "not running"
		}
		fmt.Fprintf(c.App.Writer, "%s %s: %s\n", r.Host, r.Role, version)
	}
	return err
}

func appExec(c *cli.Context) error {
	r := workflow.AppExecRequest{Globals: globals(c), Command: c.Args().Slice(), New: c.Bool("new"), Interactive: c.Bool("interactive")}
	if f, ok := c.App.Reader.(*os.File); ok && r.Interactive && term.IsTerminal(int(f.Fd())) {
		r.Stdin = execTerminal{f}
	}
	return workflow.AppExec(c.Context, r)
}

// execTerminal is ship's stdin when it is a terminal, for app exec
// --interactive.
type execTerminal struct{ *os.File }

// MakeRaw puts the terminal into raw mode until restore.
func (t execTerminal) MakeRaw() (restore func(), err error) {
	state, err := term.MakeRaw(int(t.Fd()))
	if err != nil {
		return nil, err
	}
	return func() { term.Restore(int(t.Fd()), state) }, nil
}

func appStale(c *cli.Context) error {
	rows, err := workflow.AppStaleContainers(c.Context, workflow.AppStaleRequest{Globals: globals(c), Stop: c.Bool("stop")})
	for _, r := range rows {
		switch {
		case len(r.Stale) == 0:
			fmt.Fprintf(c.App.Writer, "%s %s: no stale containers\n", r.Host, r.Role)
		case r.Stopped:
			for _, ct := range r.Stale {
				fmt.Fprintf(c.App.Writer, "%s %s: stopped stale container %s (version %s); %s serves\n", r.Host, r.Role, ct.Name, ct.Version, r.Current)
			}
		default:
			for _, ct := range r.Stale {
				fmt.Fprintf(c.App.Writer, "%s %s: WARNING: stale container %s (version %s) runs beside %s, which serves: "+
					"a second writer of the database (use ship app stale_containers --stop to stop it)\n", r.Host, r.Role, ct.Name, ct.Version, r.Current)
			}
		}
	}
	return err
}

func appImages(c *cli.Context) error {
	rows, err := workflow.AppImages(c.Context, globals(c))
	tw := tabwriter.NewWriter(c.App.Writer, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tIMAGE\tID\tCREATED\tSIZE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1f MB\n", r.Host, r.Ref, r.ID, r.Created.Format(time.RFC3339), float64(r.Size)/1e6)
	}
	tw.Flush()
	return err
}
