package deploy

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/proxy"
	"github.com/shipdeploy/ship/ssh"
)

// Setup prepares a host for the app: its persistent volumes and the app
// network. What is already right is left alone, so it can run any time.
func Setup(ctx context.Context, h *Host, c *config.Config, out io.Writer) error {
	for _, v := range c.Volumes {
		if v.IsHostPath() {
			if err := hostDirectory(ctx, h, v.Source, v.Owner, v.Mode, out); err != nil {
				return err
			}
			continue
		}
		if _, err := h.Docker.VolumeInspect(ctx, v.Source); err == nil {
			continue
		} else if !errdefs.IsNotFound(err) {
			return fmt.Errorf("inspect volume %s: %w", v.Source, err)
		}
		if _, err := h.Docker.VolumeCreate(ctx, volume.CreateOptions{Name: v.Source, Labels: map[string]string{LabelService: c.Service}}); err != nil {
			return fmt.Errorf("create volume %s: %w", v.Source, err)
		}
		fmt.Fprintf(out, "created volume %s\n", v.Source)
	}
	return proxy.EnsureNetwork(ctx, h.Docker)
}

// hostDirectoryScript creates a directory and gives it an owner and mode,
// changing only what differs. It prints what it changed.
const hostDirectoryScript = `set -e
dir=$1 owner=$2 mode=$3
if [ ! -d "$dir" ]; then mkdir -p "$dir"; echo "created directory $dir"; fi
if [ -n "$owner" ]; then
	case "$owner" in *:*) want=$owner ;; *) want="$owner:$(stat -c %g "$dir")" ;; esac
	now_ids="$(stat -c %u:%g "$dir")" now_names="$(stat -c %U:%G "$dir")"
	if [ "$want" != "$now_ids" ] && [ "$want" != "$now_names" ]; then chown "$owner" "$dir"; echo "chown $owner $dir"; fi
fi
if [ -n "$mode" ] && [ "$(stat -c %a "$dir")" != "${mode#0}" ]; then chmod "$mode" "$dir"; echo "chmod $mode $dir"; fi
`

func hostDirectory(ctx context.Context, h *Host, dir, owner, mode string, out io.Writer) error {
	var stdout strings.Builder
	err := h.Shell.Run(ctx, ssh.Cmd{Args: []string{"sh", "-c", hostDirectoryScript, "sh", dir, owner, mode}, Stdout: &stdout})
	if err != nil {
		return fmt.Errorf("prepare directory %s: %w", dir, err)
	}
	io.WriteString(out, stdout.String())
	return nil
}
