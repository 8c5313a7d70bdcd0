package deploy

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/errdefs"
)

// ensureNetwork creates the app network when the host lacks it.
func ensureNetwork(ctx context.Context, h *Host) error {
	if _, err := h.Docker.NetworkInspect(ctx, Network, network.InspectOptions{}); err == nil {
		return nil
	} else if !errdefs.IsNotFound(err) {
		return fmt.Errorf("inspect network %s: %w", Network, err)
	}
	if _, err := h.Docker.NetworkCreate(ctx, Network, network.CreateOptions{Driver: "bridge"}); err != nil && !errdefs.IsConflict(err) {
		return fmt.Errorf("create network %s: %w", Network, err)
	}
	return nil
}
