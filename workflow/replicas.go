package workflow

import (
	"context"
	"maps"
	"slices"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/gate"
	"github.com/shipdeploy/ship/host"
)

// withWriters is the session's hosts plus the writer's host of each
// replica role among units, which a replica's swap routes through (its
// kamal-proxy), connected for that alone when the selection left it out.
func (s *session) withWriters(ctx context.Context, units []deploy.Unit) (map[string]*host.Host, error) {
	var missing []string
	for _, u := range units {
		if !u.Role.IsReplica() {
			continue
		}
		for _, h := range s.cfg.Role(u.Role.ReplicaOf).Hosts {
			if _, ok := s.engines[h.Address]; !ok && !slices.Contains(missing, h.Address) {
				missing = append(missing, h.Address)
			}
		}
	}
	if len(missing) == 0 {
		return s.engines, nil
	}
	more, err := openHosts(ctx, s.pool, missing)
	if err != nil {
		return nil, err
	}
	all := maps.Clone(s.engines)
	maps.Copy(all, more)
	return all, nil
}

// replicaHosts are the hosts among units that run a replica role.
func replicaHosts(units []deploy.Unit) []string {
	var out []string
	for _, u := range units {
		if u.Role.IsReplica() && !slices.Contains(out, u.Host.Address) {
			out = append(out, u.Host.Address)
		}
	}
	return out
}

// isReplicaHost tells whether some replica role runs on the host.
func (s *session) isReplicaHost(name string) bool {
	return slices.ContainsFunc(s.cfg.Roles, func(r *config.Role) bool {
		return r.IsReplica() && slices.ContainsFunc(r.Hosts, func(h config.Host) bool { return h.Address == name })
	})
}

// aroundReplicas runs fn with the replica gate of each replica host among
// units stopped, so that the gate never races ship's own starts and
// stops, and installs each gate after (anew: the followers it watches
// may have changed). A gate a killed ship left stopped is started by the
// next command's repair.
func (s *session) aroundReplicas(ctx context.Context, units []deploy.Unit, fn func() error) error {
	hosts := replicaHosts(units)
	for _, name := range hosts {
		if err := gate.Stop(ctx, s.engines[name], s.cfg); err != nil {
			return err
		}
	}
	err := fn()
	for _, name := range hosts {
		w := s.output().Prefixed("[" + name + "] ")
		if gerr := gate.Install(ctx, s.engines[name], s.cfg, w); gerr != nil && err == nil {
			err = gerr
		}
		w.Close()
	}
	return err
}
