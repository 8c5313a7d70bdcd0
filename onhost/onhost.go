// Package onhost is what ship's containers that work on a host without
// ship share: the fire drill's and the replica gate's. Each runs one of
// ship's embedded bash scripts with the host's own tools, by chroot into
// the host's root from an image built on the host of the host's own
// chroot binary (image.sh), reading its values from a data file ship
// writes (Conf) and appending to a log ship reads back (Tail).
package onhost

import (
	"context"
	_ "embed"
	"fmt"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/ssh"
)

// Image is the containers' image, built on the host from the host's own
// chroot (image.sh): it is never pulled or pushed.
const Image = "ship-onhost:1"

// Root is where the containers mount the host's root.
const Root = "/host"

var (
	//go:embed image.sh
	imageScript string
	//go:embed json.sh
	jsonScript string
	//go:embed tail.sh
	tailScript string
)

// Lib is shell functions the scripts use (json), to put before them.
func Lib() string { return jsonScript }

// Build builds Image on h if it lacks it, and returns the path of the
// host's chroot binary, which is at the same path in the image.
func Build(ctx context.Context, h *host.Host) (string, error) {
	var stdout, stderr strings.Builder
	cmd := ssh.Script(imageScript, Image)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := h.Shell.Run(ctx, cmd); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("build the image %s on %s: %s", Image, h.Name, msg)
	}
	return strings.TrimSpace(stdout.String()), nil
}

// Container is a container of Image that runs script with the host's bash
// as root in the host's root, its $0 name and its arguments args: values
// travel as arguments, never pasted into the script. The caller sets the
// network and the restart policy.
func Container(chroot, script, name string, args []string, labels map[string]string) (*container.Config, *container.HostConfig) {
	cmd := append([]string{chroot, Root, "bash", "-c", script, name}, args...)
	return &container.Config{Image: Image, Cmd: cmd, Labels: labels},
		&container.HostConfig{
			// The host's root, so that the script runs with the host's own
			// tools and Docker, as root: see docs/security.md.
			Binds:     []string{"/:" + Root},
			LogConfig: container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "1m", "max-file": "2"}},
		}
}

// Tail is the last n lines of the log file on h; "" when there is none.
func Tail(ctx context.Context, h *host.Host, file string, n int) (string, error) {
	var out strings.Builder
	cmd := ssh.Script(tailScript, file, fmt.Sprint(n))
	cmd.Stdout = &out
	if err := h.Shell.Run(ctx, cmd); err != nil {
		return "", fmt.Errorf("read %s: %w", file, err)
	}
	return out.String(), nil
}

// Remove removes the container name, running or not, and says whether it
// was there.
func Remove(ctx context.Context, h *host.Host, name string) (bool, error) {
	err := h.Docker.ContainerRemove(ctx, name, container.RemoveOptions{Force: true})
	switch {
	case err == nil:
		return true, nil
	case errdefs.IsNotFound(err):
		return false, nil
	}
	return false, fmt.Errorf("remove %s: %w", name, err)
}
