// Command ship deploys SQLite web apps to a server with stop-then-start
// swaps, from a Kamal-style config/deploy.yml.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/actions"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/redact"
	"github.com/shipdeploy/ship/workflow"
)

// version is stamped at release time with -ldflags "-X main.version=...".
var version = "dev"

// Exit statuses, as documented in the README.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// usageError is a mistake in how ship was called.
type usageError struct{ error }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	red := redact.New()
	stdout, closeOut := guarded(stdout, red)
	stderr, closeErr := guarded(stderr, red)
	defer closeErr()
	defer closeOut()
	app := newApp(stdin, stdout, stderr, red)
	app.Metadata[argsKey] = args
	err := app.RunContext(ctx, args)
	var problems config.Problems
	var usage usageError
	var workflowUsage workflow.UsageError
	if err != nil && !errors.Is(err, workflow.ErrSuperseded) {
		annotate(stderr, red, err)
	}
	switch {
	case err == nil, errors.Is(err, workflow.ErrSuperseded):
		return exitOK
	case errors.As(err, &problems):
		for _, p := range problems {
			fmt.Fprintln(stderr, p)
		}
		fmt.Fprintf(stderr, "ship: %d problem(s) in the configuration; no host was contacted\n", len(problems))
		return exitUsage
	case errors.As(err, &usage), errors.As(err, &workflowUsage):
		fmt.Fprintln(stderr, "ship:", err)
		return exitUsage
	default:
		fmt.Fprintln(stderr, "ship:", err)
		return exitFailed
	}
}

// guarded wraps one of ship's output streams so that nothing printed to it
// shows a secret red knows by then (workflow.LoadConfig adds the config's)
// and, under GitHub Actions, no line of it that ship did not write as a
// workflow command runs as one (ship's own go through actions.Command).
// The function it returns passes on what the wrappers hold back.
func guarded(w io.Writer, red *redact.Redactor) (io.Writer, func()) {
	var filter *actions.Filter
	if _, ok := actions.Detect(); ok {
		filter = actions.NewFilter(w)
		w = filter
	}
	rw := redact.NewWriter(w, red)
	return rw, func() {
		rw.Close()
		if filter != nil {
			filter.Close()
		}
	}
}

// redactorKey is where the app's Metadata holds the Redactor its writers
// redact with, for the commands to hand to workflow.
const redactorKey = "redactor"

func newApp(stdin io.Reader, stdout, stderr io.Writer, red *redact.Redactor) *cli.App {
	cli.HelpFlag = &cli.BoolFlag{Name: "help", Usage: "show help"} // -h is --hosts, as in Kamal
	app := &cli.App{
		Metadata:             map[string]any{redactorKey: red},
		Name:                 "ship",
		Usage:                "deploy SQLite web apps with stop-then-start swaps",
		Version:              version,
		HideVersion:          true,
		Reader:               stdin,
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: true,
		Flags:                globalFlags(),
		ExitErrHandler:       func(*cli.Context, error) {}, // run() decides the exit status
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError{err}
		},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return runAlias(c)
			}
			return cli.ShowAppHelp(c)
		},
		Commands: []*cli.Command{
			versionCommand(),
			initCommand(),
			configCommand(),
			detailsCommand(),
			serverCommand(),
			buildCommand(),
			setupCommand(),
			deployCommand(),
			redeployCommand(),
			rollbackCommand(),
			appCommand(),
			accessoryCommand(),
			proxyCommand(),
			registryCommand(),
			dbCommand(),
			doctorCommand(),
			queueCommand(),
			lockCommand(),
			auditCommand(),
			pruneCommand(),
			secretsCommand(),
			removeCommand(),
		},
	}
	withGlobalFlags(app.Commands)
	return app
}

// globalFlags are Kamal's global options. They are accepted before and
// after the command name: `ship -d staging deploy` and `ship deploy -d
// staging` both work.
func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "config-file", Aliases: []string{"c"}, Usage: "path to the config file (default: " + config.DefaultFile + ")"},
		&cli.StringFlag{Name: "destination", Aliases: []string{"d"}, Usage: "merge config/deploy.DESTINATION.yml over the config"},
		&cli.StringFlag{Name: "hosts", Aliases: []string{"h"}, Usage: "act only on these hosts (comma-separated, wildcards allowed)"},
		&cli.StringFlag{Name: "roles", Aliases: []string{"r"}, Usage: "act only on the hosts of these roles (comma-separated, wildcards allowed)"},
		&cli.BoolFlag{Name: "primary", Aliases: []string{"p"}, Usage: "act only on the primary host (the first host of the primary role)"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "show more detail"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "show only errors and results"},
	}
}

// global reads a global flag from wherever on the command line it was set.
// urfave/cli would return the first definition in the lineage, set or not,
// so a command's unset copy would hide `ship -d staging deploy`.
func global(c *cli.Context, name string) *cli.Context {
	for _, x := range c.Lineage() {
		if x.IsSet(name) {
			return x
		}
	}
	return c
}

func withGlobalFlags(cmds []*cli.Command) {
	for _, c := range cmds {
		c.Flags = append(c.Flags, globalFlags()...)
		c.OnUsageError = func(_ *cli.Context, err error, _ bool) error { return usageError{err} }
		withGlobalFlags(c.Subcommands)
	}
}
