package audit

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"strconv"

	"github.com/shipdeploy/ship/ssh"
)

// Runner runs a command on a host, as *ssh.Conn does.
type Runner interface {
	Run(ctx context.Context, cmd ssh.Cmd) error
}

// Path is the audit log of a service (config.ServiceAndDestination) on a
// host, relative to the login user's home directory.
func Path(name string) string {
	return path.Join(".ship", "audit", name+".log")
}

// appendScript appends its stdin as one line to $HOME/$1. The line travels
// on stdin, never in argv, where any user of the host could read it. It is
// read in full before the lock is taken, so a slow connection never holds
// the lock; flock keeps concurrent ship processes from interleaving. umask
// 077 makes a new directory 0700 and a new file 0600.
const appendScript = `set -e
umask 077
f="$HOME/$1"
mkdir -p "${f%/*}"
line=$(cat)
exec 9>>"$f"
flock -w 30 9 || { echo "timed out waiting for the lock on $f" >&2; exit 1; }
printf '%s\n' "$line" >&9
`

// Append adds e to the log at file, as Path returns it, on the host: one
// line of JSON.
func Append(ctx context.Context, r Runner, file string, e Entry) error {
	line, err := e.marshal()
	if err != nil {
		return fmt.Errorf("audit: append to %s: %w", file, err)
	}
	err = r.Run(ctx, ssh.Cmd{
		Args:  []string{"sh", "-c", appendScript, "sh", file},
		Stdin: bytes.NewReader(line),
	})
	if err != nil {
		return fmt.Errorf("audit: append to %s: %w", file, err)
	}
	return nil
}

// readScript prints the last $2 lines of $HOME/$1 (all when $2 is 0), and
// nothing when there is no log yet. The shared lock keeps out half-written
// lines.
const readScript = `set -e
f="$HOME/$1"
[ -e "$f" ] || exit 0
exec 9<"$f"
flock -s -w 30 9 || { echo "timed out waiting for the lock on $f" >&2; exit 1; }
if [ "$2" -gt 0 ]; then tail -n "$2" "$f"; else cat "$f"; fi
`

// Read returns the last entries of the log at file on the host, all of them
// when last <= 0, oldest first. A host without a log has none. Lines that
// are not JSON, written by ship before the log became JSON Lines, come back
// as legacy entries (see Entry.Text).
func Read(ctx context.Context, r Runner, file string, last int) ([]Entry, error) {
	var out bytes.Buffer
	err := r.Run(ctx, ssh.Cmd{
		Args:   []string{"sh", "-c", readScript, "sh", file, strconv.Itoa(max(last, 0))},
		Stdout: &out,
	})
	if err != nil {
		return nil, fmt.Errorf("audit: read %s: %w", file, err)
	}
	return parseLog(out.String()), nil
}
