// Package testshell is test support: a host shell that runs on this
// machine, for unit tests of the scripts and files ship puts on hosts
// without a test host.
package testshell

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"

	"github.com/shipdeploy/ship/ssh"
)

// Local runs commands on this machine with $HOME at Home and only PATH
// besides, as a host's login user would over SSH, and uploads into this
// machine's file system. It opens no connections.
type Local struct{ Home string }

// Run runs the command with the test's HOME.
func (l Local) Run(ctx context.Context, c ssh.Cmd) error {
	cmd := exec.CommandContext(ctx, c.Args[0], c.Args[1:]...)
	cmd.Env = []string{"HOME=" + l.Home, "PATH=" + os.Getenv("PATH")}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Stdin, c.Stdout, c.Stderr
	return cmd.Run()
}

// Upload writes content to path with mode; the owner is left as it is.
func (Local) Upload(_ context.Context, path string, content io.Reader, mode os.FileMode, _ string) error {
	b, err := io.ReadAll(content)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, mode)
}

// DialContext fails: a local shell reaches nothing through a host.
func (Local) DialContext(_ context.Context, network, addr string) (net.Conn, error) {
	return nil, fmt.Errorf("local shell: no connections (%s %s)", network, addr)
}
