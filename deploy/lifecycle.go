package deploy

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/guard"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/spec"
)

// AppContainer is one of a role's containers on a host.
type AppContainer struct {
	Name, Version, State, Status string
	Created                      time.Time
}

// Containers lists a role's containers, newest first: the running one and
// those retained for rollback.
func Containers(ctx context.Context, h *host.Host, c *config.Config, role string) ([]AppContainer, error) {
	list, err := host.RoleContainers(ctx, h, c, role)
	if err != nil {
		return nil, err
	}
	var out []AppContainer
	for _, ct := range list {
		name := host.Name(ct)
		out = append(out, AppContainer{Name: name, Version: spec.VersionOf(c, role, name, ct.Labels),
			State: ct.State, Status: ct.Status, Created: time.Unix(ct.Created, 0)})
	}
	return out, nil
}

// Stop stops a role's running containers.
func Stop(ctx context.Context, h *host.Host, c *config.Config, r *config.Role, out io.Writer) error {
	running, err := host.RunningContainers(ctx, h, c, r.Name)
	if err != nil {
		return err
	}
	timeout := int(r.StopTimeout.Seconds())
	for _, ct := range running {
		name := host.Name(ct)
		fmt.Fprintf(out, "stopping %s\n", name)
		if err := h.Docker.ContainerStop(ctx, ct.ID, container.StopOptions{Timeout: &timeout}); err != nil {
			return fmt.Errorf("stop %s: %w", name, err)
		}
	}
	if len(running) == 0 {
		fmt.Fprintf(out, "%s is not running\n", r.Name)
	} else if err := Record(ctx, h, c, stoppedRecord, r.Name, spec.VersionOf(c, r.Name, host.Name(running[0]), running[0].Labels)); err != nil {
		return err
	}
	// Stopped on purpose: a later repair must not start it again.
	return recordHealthy(ctx, h, c, r.Name, "")
}

// Start starts the container of the role's version, if none of the
// role's runs, after the single-writer check, and waits for it to be
// healthy. Whoever stopped a version to work on the data names it. With
// version "" it is the version last healthy, else the one app stop
// stopped, else the newest container: the newest may be one whose start
// failed.
func Start(ctx context.Context, h *host.Host, c *config.Config, r *config.Role, version string, out io.Writer) error {
	list, err := Containers(ctx, h, c, r.Name)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return fmt.Errorf("role %s has no container on this host: deploy first", r.Name)
	}
	for _, ct := range list {
		if ct.State == "running" {
			fmt.Fprintf(out, "%s is already running\n", ct.Name)
			return nil
		}
	}
	if err := guard.Check(ctx, h.Docker, c); err != nil {
		return err
	}
	if version == "" {
		if version, err = lastServed(ctx, h, c, r.Name, list); err != nil {
			return err
		}
	}
	pick := list[0]
	if version != "" {
		i := slices.IndexFunc(list, func(ct AppContainer) bool { return ct.Version == version })
		if i < 0 {
			return fmt.Errorf("role %s has no container of version %s on this host", r.Name, version)
		}
		pick = list[i]
	}
	name := pick.Name
	fmt.Fprintf(out, "starting %s\n", name)
	if err := h.Docker.ContainerStart(ctx, name, container.StartOptions{}); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	if err := waitHealthy(ctx, h, name, checkFor(c, r), c.DeployTimeout); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	reads, err := writerReads(ctx, h, nil, c, r, out)
	if err != nil {
		return err
	}
	if err := route(ctx, h, c, r, name, c.DeployTimeout, reads, out); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s is healthy\n", name)
	return recordHealthy(ctx, h, c, r.Name, pick.Version)
}

// lastServed is the version of the role that served last, from the
// records, when its container is still there; "" when none is.
func lastServed(ctx context.Context, h *host.Host, c *config.Config, role string, list []AppContainer) (string, error) {
	for _, kind := range []string{healthyRecord, stoppedRecord} {
		v, err := ReadRecord(ctx, h, c, kind, role)
		if err != nil {
			return "", err
		}
		if v != "" && slices.ContainsFunc(list, func(ct AppContainer) bool { return ct.Version == v }) {
			return v, nil
		}
	}
	return "", nil
}
