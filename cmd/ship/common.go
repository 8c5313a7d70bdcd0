package main

import (
	"os"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

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

// newUI prints to the app's writers, honouring -q and -v.
func newUI(c *cli.Context) *workflow.UI {
	return &workflow.UI{Out: c.App.Writer, Err: c.App.ErrWriter,
		Quiet: global(c, "quiet").Bool("quiet"), Verbose: global(c, "verbose").Bool("verbose")}
}

func isTerminal(c *cli.Context) bool {
	f, ok := c.App.Writer.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
