package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/guard"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/proxy"
	"github.com/shipdeploy/ship/spec"
)

// The swap of a replica role (replica_of, docs/replicas.md), in place of
// steps 5 to 9: its containers read copies a follower keeps, mounted
// read-only, and never write, so the new one starts before the old one
// stops, and no request is held:
//
//	R1. single-writer check of the copies: no running container but the
//	    followers mounts them writable, and the new container mounts
//	    every volume read-only;
//	R2. the new container starts and must pass the writer role's health
//	    check within deploy_timeout; on failure it is stopped and the old
//	    one, which never stopped, keeps serving;
//	R3. the writer role's kamal-proxy service is deployed again with the
//	    same writer and the new container's address as this host's read
//	    target in place of the old one's (kamal-proxy checks it first);
//	R4. the old container stops; the new one is recorded healthy.
//
// Run swaps every replica host before the writer's hosts, so the writer's
// swap routes to the new replicas. On a first deploy (WritersFirst) the
// writer goes first, and each replica's R3 adds it to the writer's route.

// runReplica does R1 to R4 on one host.
func (s *swap) runReplica(ctx context.Context) Outcome {
	s.start = time.Now()
	s.mark(PhaseCheck)
	d := s.host.Docker
	olds, err := host.RunningContainers(ctx, s.host, s.cfg, s.unit.Role.Name)
	if err != nil {
		return s.outcome(Failed, err)
	}
	var oldNames []string
	for _, o := range olds {
		if host.Name(o) != s.target {
			oldNames = append(oldNames, host.Name(o))
		}
	}
	from := ""
	if len(olds) > 0 {
		from = spec.VersionOf(s.cfg, s.unit.Role.Name, host.Name(olds[0]), olds[0].Labels)
	}
	if len(olds) == 1 && len(oldNames) == 0 {
		fmt.Fprintf(s.out, "%s is already running\n", s.target)
		s.health = Healthy
		s.mark(PhaseRoute)
		return s.outcomeFrom(from, Unchanged, s.routeReaders(ctx, nil))
	}

	// R1.
	if err := guard.CheckReplica(ctx, d, s.cfg, s.target); err != nil {
		s.discard(ctx)
		return s.outcomeFrom(from, Failed, err)
	}

	// R2.
	s.mark(PhaseStart)
	fmt.Fprintf(s.out, "starting %s beside %s\n", s.target, orNone(oldNames))
	err = d.ContainerStart(ctx, s.target, container.StartOptions{})
	s.at(StepStarted)
	if err == nil {
		s.mark(PhaseHealth)
		err = waitHealthy(ctx, s.host, s.target, checkFor(s.cfg, s.unit.Role), s.cfg.DeployTimeout)
	}
	// R3, and R4 under the same lock: no other replica's route may list
	// the old container once it is stopped.
	if err == nil {
		s.mark(PhaseRoute)
		err = s.routeReaders(ctx, oldNames)
	}
	s.health = Unhealthy
	if err != nil {
		if stopErr := s.stopFailed(ctx, err); stopErr != nil {
			err = stopErr
		}
		if len(oldNames) > 0 {
			err = fmt.Errorf("%w; %s kept serving", err, strings.Join(oldNames, ", "))
		}
		return s.outcomeFrom(from, Failed, err)
	}
	s.health = Healthy
	fmt.Fprintf(s.out, "%s is healthy (%.1fs)\n", s.target, time.Since(s.start).Seconds())
	s.mark(PhaseRecord)
	if err := recordHealthy(ctx, s.host, s.cfg, s.unit.Role.Name, s.version); err != nil {
		fmt.Fprintf(s.out, "record healthy version: %v\n", err)
	}
	s.prunes = !s.noPrune
	return s.outcomeFrom(from, s.result(), nil)
}

// routeReaders is R3 and R4: under the request's lock, the writer's
// kamal-proxy service gets this host's new read target in place of the
// old containers', which then stop. Before the writer's first route there
// is no service to deploy: its swap will list this host's target.
func (s *swap) routeReaders(ctx context.Context, olds []string) error {
	s.readers.Lock()
	defer s.readers.Unlock()
	w := s.cfg.Role(s.unit.Role.ReplicaOf)
	wh, ok := s.hosts[w.Hosts[0].Address]
	if !ok {
		return fmt.Errorf("the writer's host %s is not connected: deploy with it selected", w.Hosts[0].Address)
	}
	services, err := proxy.ServicesVia(ctx, wh.Docker, wh.Shell.DialContext)
	if err != nil && !errors.Is(err, proxy.ErrNotRunning) {
		return fmt.Errorf("kamal-proxy on %s: %w", wh.Name, err)
	}
	svc := spec.ProxyService(s.cfg, w.Name)
	i := slices.IndexFunc(services, func(p proxy.Service) bool { return p.Name == svc })
	if i >= 0 {
		writer, _, _ := strings.Cut(services[i].Writer(), ":")
		reads, err := readTargets(ctx, s.hosts, s.cfg, w, services[i].Readers(), map[string][]string{s.host.Name: {s.target}}, s.out)
		if err != nil {
			return err
		}
		if err := route(ctx, wh, s.cfg, w, writer, s.cfg.DeployTimeout, reads, s.out); err != nil {
			return err
		}
	}
	timeout := int(s.unit.Role.StopTimeout.Seconds())
	for _, name := range olds {
		s.mark(PhaseStop)
		fmt.Fprintf(s.out, "stopping %s\n", name)
		if err := s.host.Docker.ContainerStop(ctx, name, container.StopOptions{Timeout: &timeout}); err != nil {
			return fmt.Errorf("stop %s: %w", name, err)
		}
	}
	return nil
}

// readTargets are the read targets of writer role w: on each replica host
// this command reaches, its running replica containers that pass their
// health check (only those only names, for a host whose swap is retiring
// the others); on a replica host it does not reach, those in current,
// kamal-proxy's list, that are on it.
func readTargets(ctx context.Context, hosts map[string]*host.Host, c *config.Config, w *config.Role, current []string, only map[string][]string, out io.Writer) ([]string, error) {
	var reads []string
	for _, r := range c.Roles {
		if r.ReplicaOf != w.Name {
			continue
		}
		for _, rh := range r.Hosts {
			h, ok := hosts[rh.Address]
			if !ok {
				for _, t := range current {
					if a, _, err := net.SplitHostPort(t); err == nil && a == rh.Hostname() {
						reads = append(reads, t)
					}
				}
				continue
			}
			running, err := host.RunningContainers(ctx, h, c, r.Name)
			if err != nil {
				return nil, err
			}
			for _, ct := range running {
				name := host.Name(ct)
				if names, ok := only[h.Name]; ok && !slices.Contains(names, name) {
					continue
				}
				info, err := h.Docker.ContainerInspect(ctx, name)
				if err != nil {
					return nil, fmt.Errorf("inspect %s on %s: %w", name, h.Name, err)
				}
				// kamal-proxy waits for every target of a deploy to be
				// healthy: an unhealthy replica would fail the writer's.
				if why := httpCheck(ctx, h, info, checkFor(c, r)); why != "" {
					fmt.Fprintf(out, "not a read target: %s on %s: %s\n", name, h.Name, why)
					continue
				}
				if t := spec.ReadTarget(rh.Hostname(), info.NetworkSettings.Ports, w.Proxy.AppPort); t != "" {
					reads = append(reads, t)
				}
			}
		}
	}
	return reads, nil
}

// replicaContainer is the replica role's new container, published on
// the one of the role's two ports (spec.ReplicaPorts) that no running
// container of the role holds.
func (s *swap) replicaContainer(ctx context.Context) (*spec.Container, error) {
	ports := spec.ReplicaPorts(s.cfg, s.unit.Role)
	w := s.cfg.Role(s.unit.Role.ReplicaOf)
	running, err := host.RunningContainers(ctx, s.host, s.cfg, s.unit.Role.Name)
	if err != nil {
		return nil, err
	}
	free := ports[0]
	for _, ct := range running {
		info, err := s.host.Docker.ContainerInspect(ctx, host.Name(ct))
		if err != nil {
			return nil, fmt.Errorf("inspect %s: %w", host.Name(ct), err)
		}
		if spec.ReadTarget(s.unit.Host.Hostname(), info.HostConfig.PortBindings, w.Proxy.AppPort) == net.JoinHostPort(s.unit.Host.Hostname(), strconv.Itoa(ports[0])) {
			free = ports[1]
		}
	}
	return spec.ReplicaApp(s.cfg, s.unit.Role, s.unit.Host, s.version, free)
}

// createReplica creates the replica's new container. A stopped container
// of the same version (retained, or a rollback's) is removed first: a
// replica keeps nothing in it, and the new one needs its name and port.
func (s *swap) createReplica(ctx context.Context, ct *spec.Container) error {
	if info, err := s.host.Docker.ContainerInspect(ctx, s.target); err == nil && !info.State.Running {
		if err := s.host.Docker.ContainerRemove(ctx, s.target, container.RemoveOptions{}); err != nil {
			return fmt.Errorf("remove the stopped %s: %w", s.target, err)
		}
	}
	return s.create(ctx, ct)
}

// hasReplicas tells whether some role reads copies of r's databases.
func hasReplicas(c *config.Config, r *config.Role) bool {
	return slices.ContainsFunc(c.Roles, func(o *config.Role) bool { return o.ReplicaOf == r.Name })
}

// writerReads are the read targets a writer role's route passes: none
// without replicas; else the replicas' running containers where hosts
// reaches them, and kamal-proxy's current ones elsewhere.
func writerReads(ctx context.Context, h *host.Host, hosts map[string]*host.Host, c *config.Config, r *config.Role, out io.Writer) ([]string, error) {
	if r.Proxy == nil || !hasReplicas(c, r) {
		return nil, nil
	}
	var current []string
	services, err := proxy.ServicesVia(ctx, h.Docker, h.Shell.DialContext)
	if err != nil && !errors.Is(err, proxy.ErrNotRunning) {
		return nil, fmt.Errorf("kamal-proxy: %w", err)
	}
	for _, p := range services {
		if p.Name == spec.ProxyService(c, r.Name) {
			current = p.Readers()
		}
	}
	return readTargets(ctx, hosts, c, r, current, nil, out)
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "no running version"
	}
	return strings.Join(names, ", ")
}
