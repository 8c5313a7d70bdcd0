package workflow

import (
	"context"
	"maps"
	"slices"

	"github.com/shipdeploy/ship/deploy"
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
