package main

import (
	"io"
	"os"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/shipdeploy/ship/redact"
	"github.com/shipdeploy/ship/workflow"
)

// globals reads Kamal's global flags, and the queue timeout of a mutating
// command, into the request every workflow takes.
func globals(c *cli.Context) workflow.Globals {
	return workflow.Globals{
		ConfigFile:   global(c, "config-file").String("config-file"),
		Destination:  global(c, "destination").String("destination"),
		Hosts:        global(c, "hosts").String("hosts"),
		Roles:        global(c, "roles").String("roles"),
		Primary:      global(c, "primary").Bool("primary"),
		UI:           newUI(c),
		Terminal:     isTerminal(c),
		QueueTimeout: c.Duration("queue-timeout"),
		Confirm:      func(question string) bool { return confirm(c, question) },
	}
}

// newUI prints to the app's writers, honouring -q and -v, with the
// Redactor they redact with.
func newUI(c *cli.Context) *workflow.UI {
	return &workflow.UI{Out: c.App.Writer, Err: c.App.ErrWriter, Redactor: redactor(c),
		Quiet: global(c, "quiet").Bool("quiet"), Verbose: global(c, "verbose").Bool("verbose")}
}

// redactor is the Redactor run made for the app's writers.
func redactor(c *cli.Context) *redact.Redactor {
	red, _ := c.App.Metadata[redactorKey].(*redact.Redactor)
	return red
}

// isTerminal reports whether stdout, under the writers that guard it, is
// a terminal.
func isTerminal(c *cli.Context) bool {
	w := c.App.Writer
	for {
		u, ok := w.(interface{ Unwrap() io.Writer })
		if !ok {
			break
		}
		w = u.Unwrap()
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
