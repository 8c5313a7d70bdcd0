package config

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/term"
	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"

	"github.com/shipdeploy/ship/vault"
)

// secretsCommandRE is how Kamal tells its own `kamal secrets …` in a
// $(…) from a command for the shell. ship takes `ship secrets …`, and
// `bin/kamal` and `bundle exec kamal`, which would need Ruby, the same way.
var secretsCommandRE = regexp.MustCompile(`\A\s*(bundle\s+exec\s+)?(kamal|bin/kamal|ship)\s+secrets\s+`)

// inlineError is a `kamal secrets …` of a secrets file that failed. Its
// message is ship's own, naming items and adapters, never values, so it
// is shown whole.
type inlineError struct{ err error }

func (e inlineError) Error() string { return e.err.Error() }
func (e inlineError) Unwrap() error { return e.err }

// secretsArgs splits a $(kamal secrets …) into the arguments after
// `secrets` as sh
// would, with each $VAR and ${VAR} read from env as one argument, never
// split, never run, and nothing else of the shell allowed: Kamal pastes
// variables into the text and splits it again, which ship never does, so
// that a value cannot become an argument or a command. ok is false for a
// command that is not `kamal secrets` or `ship secrets`.
func secretsArgs(command string, env []string) (args []string, ok bool, err error) {
	if !secretsCommandRE.MatchString(command) {
		return nil, false, nil
	}
	file, err := syntax.NewParser(syntax.Variant(syntax.LangPOSIX)).Parse(strings.NewReader(command), "")
	if err != nil {
		return nil, true, fmt.Errorf("`kamal secrets …` cannot be read as a command: %w", err)
	}
	if len(file.Stmts) != 1 {
		return nil, true, errors.New("`kamal secrets …` must be the only command in its $(…)")
	}
	st := file.Stmts[0]
	call, simple := st.Cmd.(*syntax.CallExpr)
	if !simple || len(st.Redirs) > 0 || st.Negated || st.Background || len(call.Assigns) > 0 {
		return nil, true, errors.New("`kamal secrets …` must be the only command in its $(…): ship runs it itself, without a shell, so no pipe, redirection or variable assignment can go with it")
	}
	cfg := &expand.Config{Env: expand.ListEnviron(append(env, "IFS=")...)}
	words, err := expand.Fields(cfg, call.Args...)
	if err != nil {
		return nil, true, fmt.Errorf("`kamal secrets …` may use $VAR and ${VAR}, not other expansions: %w", err)
	}
	i := slices.Index(words, "secrets")
	if i < 0 {
		return nil, true, errors.New("`kamal secrets …` must name `secrets` as it is written, not through a variable")
	}
	return words[i+1:], true, nil
}

// runSecretsCommand runs a $(kamal secrets …) in-process, with ship's
// own adapters: no Ruby or Kamal is needed. The vendor CLI gets the
// terminal, to sign in, when there is one; otherwise (CI) its stderr is
// dropped, as a $(command)'s is.
func runSecretsCommand(ctx context.Context, root string, args, env []string) (string, error) {
	r := vault.Exec{Dir: root, Env: env, Stderr: io.Discard}
	if term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stderr.Fd())) {
		r.Stdin, r.Stderr = os.Stdin, os.Stderr
	}
	getenv := func(name string) string {
		v := ""
		for _, kv := range env {
			if k, val, _ := strings.Cut(kv, "="); k == name {
				v = val
			}
		}
		return v
	}
	out, err := vault.Line(ctx, r, getenv, args)
	if err != nil {
		return "", inlineError{err}
	}
	return chomp(out), nil
}

// chomp drops one line ending, as Ruby's String#chomp, which Kamal
// applies to what the line stands for.
func chomp(s string) string {
	if t, ok := strings.CutSuffix(s, "\r\n"); ok {
		return t
	}
	if t, ok := strings.CutSuffix(s, "\n"); ok {
		return t
	}
	return strings.TrimSuffix(s, "\r")
}
