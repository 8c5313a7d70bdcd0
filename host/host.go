// Package host is ship's handle on one server: its SSH shell and its
// Docker Engine, and the plain operations ship makes there on a container
// or file it names (exec, logs, env files, directories, listing a role's
// containers). Policy, such as when a container may start, lives in the
// packages that use it.
package host

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"

	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/ssh"
)

// Shell is what ship needs from a host's SSH connection; *ssh.Conn has
// it.
type Shell interface {
	ssh.Runner
	Upload(ctx context.Context, path string, content io.Reader, mode os.FileMode, owner string) error
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// Host is one server: its SSH connection and its Docker Engine.
type Host struct {
	Name   string
	Shell  Shell
	Docker client.APIClient

	// home is Home's answer, asked once: it does not change while ship
	// runs, and a deploy needs it several times.
	homeMu sync.Mutex
	home   string
}

//go:embed home.sh
var homeScript string

// Home is the login user's $HOME on the host, where ship keeps env files
// and the audit log (no root needed).
func (h *Host) Home(ctx context.Context) (string, error) {
	h.homeMu.Lock()
	defer h.homeMu.Unlock()
	if h.home != "" {
		return h.home, nil
	}
	var out strings.Builder
	cmd := ssh.Script(homeScript)
	cmd.Stdout = &out
	if err := h.Shell.Run(ctx, cmd); err != nil {
		return "", fmt.Errorf("find $HOME: %w", err)
	}
	if !strings.HasPrefix(out.String(), "/") {
		return "", fmt.Errorf("$HOME on %s is %q, not an absolute path", h.Name, out.String())
	}
	h.home = out.String()
	return h.home, nil
}
