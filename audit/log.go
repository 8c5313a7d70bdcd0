package audit

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"path"
	"strconv"

	"github.com/shipdeploy/ship/redact"
	"github.com/shipdeploy/ship/ssh"
)

// Path is the audit log of a service (config.ServiceAndDestination) on a
// host, relative to the login user's home directory.
func Path(name string) string {
	return path.Join(".ship", "audit", name+".log")
}

var (
	//go:embed append.sh
	appendScript string
	//go:embed read.sh
	readScript string
)

// Append adds e to the log at file, as Path returns it, on the host: one
// line of JSON, with red's secrets redacted in every field (a result
// quotes errors, which may quote a command's output). A nil red redacts
// nothing.
func Append(ctx context.Context, r ssh.Runner, file string, e Entry, red *redact.Redactor) error {
	for _, f := range []*string{&e.Performer, &e.Command, &e.Versions, &e.Result, &e.Text} {
		*f = red.String(*f)
	}
	line, err := e.marshal()
	if err != nil {
		return fmt.Errorf("audit: append to %s: %w", file, err)
	}
	// The line travels on stdin, never in argv, where any user of the host
	// could read it.
	cmd := ssh.Script(appendScript, file)
	cmd.Stdin = bytes.NewReader(line)
	err = r.Run(ctx, cmd)
	if err != nil {
		return fmt.Errorf("audit: append to %s: %w", file, err)
	}
	return nil
}

// Read returns the last entries of the log at file on the host, all of them
// when last <= 0, oldest first. A host without a log has none. Lines that
// are not JSON, written by ship before the log became JSON Lines, come back
// as legacy entries (see Entry.Text).
func Read(ctx context.Context, r ssh.Runner, file string, last int) ([]Entry, error) {
	var out bytes.Buffer
	cmd := ssh.Script(readScript, file, strconv.Itoa(max(last, 0)))
	cmd.Stdout = &out
	err := r.Run(ctx, cmd)
	if err != nil {
		return nil, fmt.Errorf("audit: read %s: %w", file, err)
	}
	return parseLog(out.String()), nil
}
