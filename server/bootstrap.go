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

// errCannotInstall is the script's exit status when it will not install:
// no root or passwordless sudo, or not Debian/Ubuntu. Its stderr says which.
const errCannotInstall = 3

// Bootstrap installs Docker and sqlite3 from the distribution's packages
// when they are missing, and does nothing when both are there. Its
// progress goes to out.
func Bootstrap(ctx context.Context, r ssh.Runner, out io.Writer) error {
	cmd := ssh.Script(bootstrapScript)
	cmd.Stdout, cmd.Stderr = out, out
	err := r.Run(ctx, cmd)
	var exit *ssh.ExitError
	if errors.As(err, &exit) && exit.Status == errCannotInstall {
		return fmt.Errorf("cannot install packages here (see above)")
	}
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	return nil
}
