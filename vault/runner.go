package vault

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
)

// Command is one run of a vendor CLI.
type Command struct {
	Name string
	Args []string
	// Env is added to the environment, such as BW_SESSION: a session
	// token goes there rather than into the arguments.
	Env []string
	// Quiet drops the CLI's stderr, as Kamal's `2> /dev/null` does for
	// its probes (--version, "am I signed in?").
	Quiet bool
}

// Runner runs a vendor CLI and returns its stdout. An error means it did
// not run (exec.ErrNotFound when it is not installed) or did not succeed.
type Runner interface {
	Run(ctx context.Context, c Command) ([]byte, error)
}

// Exec runs the vendor CLIs as processes. Their stdin and stderr are the
// user's, so that a sign-in can prompt; their stdout is what they fetched.
type Exec struct {
	Dir    string
	Env    []string // nil: ship's own environment
	Stdin  io.Reader
	Stderr io.Writer
}

// Run runs c and returns its stdout.
func (e Exec) Run(ctx context.Context, c Command) ([]byte, error) {
	cmd := exec.CommandContext(ctx, c.Name, c.Args...)
	cmd.Dir = e.Dir
	cmd.Env = e.Env
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, c.Env...)
	cmd.Stdin = e.Stdin
	cmd.Stderr = e.Stderr
	if c.Quiet || cmd.Stderr == nil {
		cmd.Stderr = io.Discard
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	err := cmd.Run()
	return out.Bytes(), err
}
