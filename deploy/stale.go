package deploy

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/docker/docker/api/types/container"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
)

// Stale is what stale_containers finds for a role on a host: the running
// container that is the role's version, and the others that run beside it.
type Stale struct {
	// Current is the running container that serves: the version last
	// recorded healthy, else the newest running one; "" when none runs.
	Current AppContainer
	// Others are the other running containers of the role: each is a
	// second writer of the app's database.
	Others []AppContainer
}

// FindStale lists a role's running containers besides the one that serves
// (Kamal's stale containers).
func FindStale(ctx context.Context, h *host.Host, c *config.Config, role string) (Stale, error) {
	list, err := Containers(ctx, h, c, role)
	if err != nil {
		return Stale{}, err
	}
	healthy, err := HealthyVersion(ctx, h, c, role)
	if err != nil {
		return Stale{}, err
	}
	return pickStale(list, healthy), nil
}

// pickStale splits the running containers of list (newest first) into the
// one that serves, the healthy version's if it runs, and the others.
func pickStale(list []AppContainer, healthy string) Stale {
	var running []AppContainer
	for _, ct := range list {
		if ct.State == "running" || ct.State == "restarting" {
			running = append(running, ct)
		}
	}
	if len(running) == 0 {
		return Stale{}
	}
	current := slices.IndexFunc(running, func(ct AppContainer) bool { return healthy != "" && ct.Version == healthy })
	if current < 0 {
		current = 0
	}
	st := Stale{Current: running[current]}
	st.Others = slices.Delete(slices.Clone(running), current, current+1)
	return st
}

// StopStale stops the role's stale containers, leaving the one that
// serves, and returns what it stopped. Stopping only ever removes a
// writer, so it needs no single-writer check.
func StopStale(ctx context.Context, h *host.Host, c *config.Config, r *config.Role, out io.Writer) (Stale, error) {
	st, err := FindStale(ctx, h, c, r.Name)
	if err != nil {
		return st, err
	}
	timeout := int(r.StopTimeout.Seconds())
	for _, ct := range st.Others {
		fmt.Fprintf(out, "stopping stale container %s (version %s; %s serves)\n", ct.Name, ct.Version, st.Current.Name)
		if err := h.Docker.ContainerStop(ctx, ct.Name, container.StopOptions{Timeout: &timeout}); err != nil {
			return st, fmt.Errorf("stop %s: %w", ct.Name, err)
		}
	}
	return st, nil
}
