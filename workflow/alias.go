package workflow

import (
	"errors"
	"fmt"
	"os"

	"github.com/kballard/go-shellquote"

	"github.com/shipdeploy/ship/config"
)

// ErrNoAlias is Alias's answer for a name the config's aliases do not
// define, or when there is no config to look in.
var ErrNoAlias = errors.New("no such alias")

// Alias is the command line an alias of the config's aliases section
// stands for (Kamal's `console: app exec -i --reuse "bin/rails console"`),
// split into words as the shell would. The config's warnings are left to
// the command the alias runs, which loads it again.
func Alias(g Globals, name string) ([]string, error) {
	file := g.ConfigFile
	if file == "" {
		file = config.DefaultFile
	}
	if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoAlias
	}
	cfg, err := config.Load(config.Options{File: file, Destination: g.Destination})
	if err != nil {
		return nil, err
	}
	command, ok := cfg.Aliases[name]
	if !ok {
		return nil, ErrNoAlias
	}
	// config.Load checked that it splits into words.
	words, err := shellquote.Split(command)
	if err != nil || len(words) == 0 {
		return nil, fmt.Errorf("alias %s: %q is not a command line", name, command)
	}
	return words, nil
}
