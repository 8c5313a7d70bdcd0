// Package server prepares a host itself, before anything of the app runs on
// it: installing Docker and sqlite3.
package server

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"

	"github.com/shipdeploy/ship/ssh"
)

//go:embed bootstrap.sh
var bootstrapScript string

// Runner runs a command on a host, as *ssh.Conn does.
type Runner interface {
	Run(ctx context.Context, cmd ssh.Cmd) error
}

// errCannotInstall is the script's exit status when it will not install:
// no root or passwordless sudo, or not Debian/Ubuntu. Its stderr says which.
const errCannotInstall = 3

// Bootstrap installs Docker and sqlite3 from the distribution's packages
// when they are missing, and does nothing when both are there. Its
// progress goes to out.
func Bootstrap(ctx context.Context, r Runner, out io.Writer) error {
	err := r.Run(ctx, ssh.Cmd{Args: []string{"sh", "-c", bootstrapScript}, Stdout: out, Stderr: out})
	var exit *ssh.ExitError
	if errors.As(err, &exit) && exit.Status == errCannotInstall {
		return fmt.Errorf("cannot install packages here (see above)")
	}
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	return nil
}
