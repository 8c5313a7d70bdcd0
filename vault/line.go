package vault

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

// Line runs `secrets fetch …` or `secrets extract …` from a secrets
// file's $(kamal secrets …) (args start after "secrets"), in-process, as
// Kamal does, and returns what the line stands for: fetch's JSON, or the
// extracted value. Kamal's options are read as Kamal reads them (--inline,
// which Kamal adds itself, is accepted and changes nothing).
func Line(ctx context.Context, r Runner, getenv func(string) string, args []string) (string, error) {
	if len(args) == 0 {
		return "", errors.New("`secrets` needs fetch or extract")
	}
	fs := flag.NewFlagSet("secrets "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Bool("inline", false, "")
	switch args[0] {
	case "fetch":
		var req Request
		fs.StringVar(&req.Adapter, "adapter", "", "")
		fs.StringVar(&req.Adapter, "a", "", "")
		fs.StringVar(&req.Account, "account", "", "")
		fs.StringVar(&req.From, "from", "", "")
		if err := parse(fs, args[1:]); err != nil {
			return "", err
		}
		if req.Adapter == "" {
			return "", errors.New("No value provided for required options '--adapter'")
		}
		req.Secrets = fs.Args()
		req.Getenv = getenv
		res, err := Fetch(ctx, r, req)
		if err != nil {
			return "", err
		}
		return res.JSON(), nil
	case "extract":
		if err := parse(fs, args[1:]); err != nil {
			return "", err
		}
		if fs.NArg() != 2 {
			return "", fmt.Errorf("`secrets extract` takes NAME and the JSON of `secrets fetch` (usually $SECRETS, set by a fetch above), got %d argument(s)", fs.NArg())
		}
		return Extract(fs.Arg(0), fs.Arg(1))
	case "print":
		return "", errors.New("`secrets print` prints the secrets files; it cannot run inside one")
	}
	return "", fmt.Errorf("unknown secrets command %q (there are fetch, extract and print)", args[0])
}

// parse reads the options before, between and after the names, as Kamal
// (Thor) does, and leaves the names in order as the flag set's arguments.
func parse(fs *flag.FlagSet, args []string) error {
	var names []string
	for {
		if err := fs.Parse(args); err != nil {
			return fmt.Errorf("%s: %w", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		names = append(names, args[0])
		args = args[1:]
	}
	return fs.Parse(append([]string{"--"}, names...))
}
