package database

import (
	"context"
	_ "embed"
	"fmt"
	"strings"

	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/ssh"
)

//go:embed as-root.sh
var asRootScript string

// asRoot runs the command argv on the host as root, through sudo -n when
// the SSH user is not root (see as-root.sh): the databases live under
// /var/lib/docker. It returns the command's standard output; when it
// fails, its standard error is the error.
func asRoot(ctx context.Context, h *host.Host, argv ...string) (string, error) {
	var stdout, stderr strings.Builder
	cmd := ssh.Script(asRootScript, argv...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := h.Shell.Run(ctx, cmd); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return stdout.String(), fmt.Errorf("%s", msg)
		}
		return stdout.String(), err
	}
	return stdout.String(), nil
}

// scriptAsRoot runs one of the package's scripts on the host as root, with
// args as $1, ...; see asRoot.
func scriptAsRoot(ctx context.Context, h *host.Host, script string, args ...string) (string, error) {
	return asRoot(ctx, h, ssh.Script(script, args...).Args...)
}

//go:embed safe.sh
var safeScript string

// inVolume runs a script that works inside db's volume as root, after the
// link-safe primitives of safe.sh, with db's volume root, directory and
// name as $1, $2 and $3, and more as $4, ...
func inVolume(ctx context.Context, h *host.Host, db DB, script string, more ...string) (string, error) {
	args := append([]string{db.Root, db.relDir(), db.Name()}, more...)
	return scriptAsRoot(ctx, h, safeScript+"\n"+script, args...)
}

// InVolume runs another package's script on a database file as this
// package's own scripts run: as root, after safe.sh's link-safe
// primitives, with db's volume root, directory (relative to it) and file
// name as $1, $2 and $3, and more as $4, ... It returns the script's
// standard output; when it fails, its standard error is the error. The
// followers' copies on replica hosts are worked on this way.
func InVolume(ctx context.Context, h *host.Host, db DB, script string, more ...string) (string, error) {
	return inVolume(ctx, h, db, script, more...)
}

// LinkSafe is safe.sh, the link-safe primitives, for a script of another
// package that reads a live database as root (the fire drill's).
func LinkSafe() string { return safeScript }
