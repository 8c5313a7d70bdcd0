package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/workflow"
)

// Keys of the app's Metadata: the command line it runs, so that an alias
// can be put in place of its name, and whether it runs an alias already.
const (
	argsKey    = "args"
	aliasedKey = "aliased"
)

// runAlias runs an alias of the config's aliases section, as Kamal does:
// its command line in place of its name, the rest of the line kept, so
// `ship -d staging console` runs `ship -d staging app exec -i --reuse
// "bin/rails console"`. A command of ship's always wins over an alias of
// the same name, and an alias does not run another alias.
func runAlias(c *cli.Context) error {
	name := c.Args().First()
	unknown := usageError{fmt.Errorf("unknown command %q; see ship --help", name)}
	args, _ := c.App.Metadata[argsKey].([]string)
	if aliased, _ := c.App.Metadata[aliasedKey].(bool); aliased || len(args) < c.Args().Len() {
		return unknown
	}
	words, err := workflow.Alias(globals(c), name)
	switch {
	case errors.Is(err, workflow.ErrNoAlias):
		return unknown
	case err != nil:
		return err
	}
	at := len(args) - c.Args().Len()
	line := append(append(append([]string{}, args[:at]...), words...), args[at+1:]...)
	app := newApp(c.App.Reader, c.App.Writer, c.App.ErrWriter, redactor(c))
	app.Metadata[aliasedKey] = true
	return app.RunContext(c.Context, line)
}
