package vault

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// tool is a vendor CLI: its command, its product name in Kamal's errors,
// and what to tell a user who does not have it or is not signed in.
type tool struct {
	command string
	product string // "1Password CLI": Kamal says "<product> is not installed"
	install string // where to get it
	signIn  string // how to sign in, or set up access
}

// cli runs one tool through a Runner.
type cli struct {
	tool
	runner Runner
}

// run runs the tool with args and returns its stdout.
func (c cli) run(ctx context.Context, args ...string) (string, error) {
	out, err := c.runner.Run(ctx, Command{Name: c.command, Args: args})
	return string(out), err
}

// runEnv is run with variables added to the tool's environment.
func (c cli) runEnv(ctx context.Context, env []string, args ...string) (string, error) {
	out, err := c.runner.Run(ctx, Command{Name: c.command, Args: args, Env: env})
	return string(out), err
}

// ok runs a probe with its stderr dropped and says whether it succeeded.
func (c cli) ok(ctx context.Context, args ...string) bool {
	_, err := c.runner.Run(ctx, Command{Name: c.command, Args: args, Quiet: true})
	return err == nil
}

// installed checks that the tool runs, as Kamal does with `--version`
// (enpass-cli takes `version`).
func (c cli) installed(ctx context.Context) error {
	arg := "--version"
	if c.command == "enpass-cli" {
		arg = "version"
	}
	_, err := c.runner.Run(ctx, Command{Name: c.command, Args: []string{arg}, Quiet: true})
	if err == nil {
		return nil
	}
	why := fmt.Sprintf("`%s %s` failed", c.command, arg)
	if errors.Is(err, exec.ErrNotFound) {
		why = fmt.Sprintf("`%s` is not on PATH", c.command)
	}
	return fmt.Errorf("%s is not installed: %s; install it (%s), then %s", c.product, why, c.install, c.signIn)
}

// failed is a vendor command that did not succeed: Kamal's message, and
// what to try next. The CLI's own error is on stderr where there is a
// terminal or `ship secrets fetch` ran; in CI it was dropped.
func (c cli) failed(msg string) error {
	return fmt.Errorf("%s (%s; `ship secrets fetch` shows %s's own error)", msg, c.signIn, c.command)
}

// rubySplit splits as Ruby's String#split does: trailing empty fields
// are dropped, and an empty string has none.
func rubySplit(s, sep string) []string {
	parts := strings.Split(s, sep)
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// pathParts splits a secret's path at its slashes as Ruby's split does,
// with at least one part, so that the last is its name.
func pathParts(s string) []string {
	parts := rubySplit(s, "/")
	if len(parts) == 0 {
		return []string{""}
	}
	return parts
}
