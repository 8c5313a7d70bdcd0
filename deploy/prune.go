package deploy

import (
	"context"
	"fmt"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/spec"
)

// prune keeps the running container and the newest retain_containers
// stopped ones, for rollback, and removes older containers of the role with
// the images no container uses any more.
func (s *swap) prune(ctx context.Context) {
	removed, err := Prune(ctx, s.host.Docker, s.cfg.RetainContainers, func(ctx context.Context) ([]container.Summary, error) {
		return host.RoleContainers(ctx, s.host, s.cfg, s.unit.Role.Name)
	})
	if err != nil {
		fmt.Fprintf(s.out, "prune: %v\n", err)
	}
	vols, err := PruneAssets(ctx, s.host, s.cfg, s.unit.Role.Name)
	if err != nil {
		fmt.Fprintf(s.out, "prune: %v\n", err)
	}
	removed = append(removed, vols...)
	if len(removed) > 0 {
		fmt.Fprintf(s.out, "pruned %s\n", strings.Join(removed, ", "))
	}
}

// Prune removes all but the newest retain stopped containers that list
// returns (newest first), and their images when unused. A container of a
// version a newer one also has (set aside by a redeploy) is no rollback
// target, so it goes first and does not count: redeploying one version
// must not push older versions out of reach of rollback.
func Prune(ctx context.Context, d client.APIClient, retain int, list func(context.Context) ([]container.Summary, error)) ([]string, error) {
	all, err := list(ctx)
	if err != nil {
		return nil, err
	}
	var doomed []container.Summary
	kept := 0
	newer := map[string]bool{} // versions of the containers looked at so far
	inUse := map[string]bool{} // image references the remaining containers use
	for _, c := range all {
		v := c.Labels[spec.LabelVersion]
		redundant := v != "" && newer[v]
		newer[v] = true
		running := c.State == "running" || c.State == "restarting"
		switch {
		case running:
		case kept < retain && !redundant:
			kept++
		default:
			doomed = append(doomed, c)
			continue
		}
		inUse[c.Image] = true
	}
	var removed []string
	for _, c := range doomed {
		name := host.Name(c)
		if err := d.ContainerRemove(ctx, c.ID, container.RemoveOptions{}); err != nil {
			return removed, fmt.Errorf("remove %s: %w", name, err)
		}
		removed = append(removed, name)
		if inUse[c.Image] {
			continue // a set-aside container's tag is the kept one's too
		}
		// Remove the container's tag, not the image ID: versions built
		// alike share an ID, and the engine refuses to delete an ID with
		// several tags. The image itself goes with its last tag, and stays
		// while another container uses it.
		if _, err := d.ImageRemove(ctx, c.Image, image.RemoveOptions{}); err != nil && !errdefs.IsConflict(err) && !errdefs.IsNotFound(err) {
			return removed, fmt.Errorf("remove image of %s: %w", name, err)
		}
	}
	return removed, nil
}

// PruneHost prunes every role of the app on a host.
func PruneHost(ctx context.Context, h *host.Host, c *config.Config) ([]string, error) {
	var removed []string
	for _, r := range c.Roles {
		got, err := Prune(ctx, h.Docker, c.RetainContainers, func(ctx context.Context) ([]container.Summary, error) {
			return host.RoleContainers(ctx, h, c, r.Name)
		})
		removed = append(removed, got...)
		if err != nil {
			return removed, err
		}
		vols, err := PruneAssets(ctx, h, c, r.Name)
		removed = append(removed, vols...)
		if err != nil {
			return removed, err
		}
	}
	return removed, nil
}
