package database

import (
	"context"
	"fmt"
	"strings"

	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/ssh"
)

// asRoot runs a POSIX shell script on the host with args as $1..., as
// root, through sudo -n when the SSH user is not root: the databases live
// under /var/lib/docker. It returns the script's standard output.
func asRoot(ctx context.Context, h *host.Host, script string, args ...string) (string, error) {
	const wrapper = `s=$1; shift
if [ "$(id -u)" = 0 ]; then exec sh -c "$s" sh "$@"; fi
exec sudo -n sh -c "$s" sh "$@"`
	var stdout, stderr strings.Builder
	cmd := ssh.Cmd{Args: append([]string{"sh", "-c", wrapper, "sh", script}, args...), Stdout: &stdout, Stderr: &stderr}
	if err := h.Shell.Run(ctx, cmd); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return stdout.String(), fmt.Errorf("%s", msg)
		}
		return stdout.String(), err
	}
	return stdout.String(), nil
}

// needSQLite fails with what to do when the host has no sqlite3, which
// integrity checks and row counts use.
const needSQLite = `command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed on this host: ship server bootstrap installs it (or apt-get install sqlite3)" >&2; exit 127; }
`
