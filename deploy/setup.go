package deploy

import (
	"context"
	"fmt"
	"io"

	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/proxy"
	"github.com/shipdeploy/ship/spec"
)

// Setup prepares a host for the app: its persistent volumes and the app
// network. What is already right is left alone, so it can run any time.
func Setup(ctx context.Context, h *host.Host, c *config.Config, out io.Writer) error {
	for _, v := range c.Volumes {
		if v.IsHostPath() {
			if err := host.Directory(ctx, h, v.Source, v.Owner, v.Mode, out); err != nil {
				return err
			}
			continue
		}
		if _, err := h.Docker.VolumeInspect(ctx, v.Source); err == nil {
			continue
		} else if !errdefs.IsNotFound(err) {
			return fmt.Errorf("inspect volume %s: %w", v.Source, err)
		}
		if _, err := h.Docker.VolumeCreate(ctx, volume.CreateOptions{Name: v.Source, Labels: map[string]string{spec.LabelService: c.Service}}); err != nil {
			return fmt.Errorf("create volume %s: %w", v.Source, err)
		}
		fmt.Fprintf(out, "created volume %s\n", v.Source)
	}
	return proxy.EnsureNetwork(ctx, h.Docker)
}
