package workflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/database"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/follower"
	"github.com/shipdeploy/ship/gate"
	"github.com/shipdeploy/ship/host"
)

// withWriters is the session's hosts plus the writer's host of each
// replica role among units, which a replica's swap routes through (its
// kamal-proxy), connected for that alone when the selection left it out.
func (s *session) withWriters(ctx context.Context, units []deploy.Unit) (map[string]*host.Host, error) {
	var writers []string
	for _, u := range units {
		if u.Role.IsReplica() {
			for _, h := range s.cfg.Role(u.Role.ReplicaOf).Hosts {
				writers = append(writers, h.Address)
			}
		}
	}
	more, err := s.openUnconnected(ctx, writers)
	if err != nil || len(more) == 0 {
		return s.engines, err
	}
	all := maps.Clone(s.engines)
	maps.Copy(all, more)
	return all, nil
}

// openUnconnected connects to those of names the session has not, each
// once, and returns them.
func (s *session) openUnconnected(ctx context.Context, names []string) (map[string]*host.Host, error) {
	var missing []string
	for _, name := range names {
		if _, ok := s.engines[name]; !ok && !slices.Contains(missing, name) {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil, nil
	}
	return openHosts(ctx, s.pool, missing)
}

// unitReplicaHosts are the hosts among units that run a replica role.
func unitReplicaHosts(units []deploy.Unit) []string {
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
	return slices.Contains(replicaHosts(s.cfg), name)
}

// aroundReplicas runs a deploy's swaps with what replica roles need
// around them: the replica gate of each replica host among the request's
// units is stopped, so that it never races ship's own starts and stops,
// and installed after (anew: the followers it watches may have changed);
// the followers run before the replicas swap. On a first deploy, when the
// writer has replicated nothing yet, the writer swaps first and the
// followers wait for its first backup. A gate a killed ship left stopped
// is started by the next command's repair.
func (s *session) aroundReplicas(ctx context.Context, req *deploy.Request, run func()) error {
	hosts := unitReplicaHosts(req.Units)
	if len(hosts) == 0 {
		run()
		return nil
	}
	for _, name := range hosts {
		if err := gate.Stop(ctx, s.engines[name], s.cfg); err != nil {
			return err
		}
	}
	writers := slices.ContainsFunc(req.Units, func(u deploy.Unit) bool { return !u.Role.IsReplica() })
	switch err := s.ensureFollowers(ctx, hosts); {
	case errors.Is(err, follower.ErrNoBackup) && writers:
		s.UI.Infof("the writer has no backup for the followers yet: it deploys first, and the replicas once its first backup is in the replica")
		req.WritersFirst = true
		req.BeforeReplicas = func(ctx context.Context) error { return s.awaitFollowers(ctx, hosts) }
	case err != nil:
		req.BeforeReplicas = func(context.Context) error { return err }
	}
	run()
	var err error
	for _, name := range hosts {
		w := s.output().Prefixed("[" + name + "] ")
		if gerr := gate.Install(ctx, s.engines[name], s.cfg, w); gerr != nil {
			err = errors.Join(err, gerr)
		}
		w.Close()
	}
	return err
}

// ensureFollowers makes the followers run on hosts, in parallel. The
// error is follower.ErrNoBackup's when that is all that failed.
func (s *session) ensureFollowers(ctx context.Context, hosts []string) error {
	out := s.output()
	results := fleet.Each(ctx, hosts, 0, func(ctx context.Context, name string) (struct{}, error) {
		w := out.Prefixed("[" + name + "] ")
		defer w.Close()
		return struct{}{}, follower.Ensure(ctx, s.engines[name], s.cfg, w)
	})
	err := fleet.Failed(results)
	for _, r := range results {
		if r.Err != nil && !errors.Is(r.Err, follower.ErrNoBackup) {
			return err
		}
	}
	for _, r := range results {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}

// followerWait bounds how long a first deploy's replicas wait for the
// writer's first backup: Litestream syncs every sync_interval (1 s by
// default) once the app has created its database.
const followerWait = 2 * time.Minute

// awaitFollowers retries ensureFollowers while the replica has no backup
// yet, for at most followerWait.
func (s *session) awaitFollowers(ctx context.Context, hosts []string) error {
	deadline := time.Now().Add(followerWait)
	for {
		err := s.ensureFollowers(ctx, hosts)
		if !errors.Is(err, follower.ErrNoBackup) || time.Now().After(deadline) {
			return err
		}
		s.UI.Infof("waiting for the writer's first backup to reach the replica")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// reseedFollowers re-seeds the followers of each connected replica host
// after a rollback put the writer's data back: their copies hold writes
// the writer no longer has, and a follower never goes back. A replica
// host this command did not reach is named, with what to do.
func (s *session) reseedFollowers(ctx context.Context) error {
	var hosts, missed []string
	for _, name := range replicaHosts(s.cfg) {
		if _, ok := s.engines[name]; ok {
			hosts = append(hosts, name)
		} else {
			missed = append(missed, name)
		}
	}
	if len(hosts) > 0 {
		s.awaitWriterSynced(ctx)
	}
	err := fleet.EachPrefixed(ctx, s.output(), hosts, 0, func(ctx context.Context, name string, w io.Writer) error {
		return s.reseedHost(ctx, name, "their copies hold writes the writer no longer has", w)
	})
	if len(missed) > 0 {
		err = errors.Join(err, fmt.Errorf("the followers on %s still hold the writes the rollback took back: run ship db reseed -h %s",
			strings.Join(missed, ", "), strings.Join(missed, ",")))
	}
	return err
}

// reseedHost re-seeds the followers on the connected replica host name,
// saying why: the gate stops, the replica roles' containers stop
// (kamal-proxy sends their reads to the writer), follower.Reseed prepares
// every copy afresh, and the roles start again on the new copies, then
// the gate. A role starts again in the version it ran, or, when the gate
// had taken it out, in the version ship runs there; one stopped on
// purpose (ship app stop) stays stopped. When the re-seed fails, the
// replicas stay stopped (a copy may be gone), and the gate runs again.
func (s *session) reseedHost(ctx context.Context, name, why string, w io.Writer) error {
	h := s.engines[name]
	fmt.Fprintf(w, "re-seeding the followers: %s\n", why)
	if err := gate.Stop(ctx, h, s.cfg); err != nil {
		return err
	}
	roles := gate.Roles(s.cfg, name)
	ran := make([]ranRole, len(roles))
	for i, r := range roles {
		x, err := roleToRestart(ctx, h, s.cfg, r)
		if err != nil {
			return errors.Join(err, gate.Start(context.WithoutCancel(ctx), h, s.cfg))
		}
		ran[i] = x
	}
	err := func() error {
		for i, r := range roles {
			// A role that does not run is left alone: stopping it would
			// forget the version ship runs there.
			if ran[i].running {
				if err := deploy.Stop(ctx, h, s.cfg, r, w); err != nil {
					return err
				}
			}
		}
		return follower.Reseed(ctx, h, s.cfg, w)
	}()
	if err != nil {
		return errors.Join(fmt.Errorf("%w\nthe replicas on %s stay stopped, their reads going to the writer: once that is fixed, run ship db reseed -h %s again, then ship app start -r %s -h %s",
			err, name, name, roleNames(roles), name), gate.Start(context.WithoutCancel(ctx), h, s.cfg))
	}
	for i, r := range roles {
		if ran[i].version == "" {
			fmt.Fprintf(w, "%s stays stopped: it did not run, and ship runs no version of it here (ship app start -r %s -h %s starts it)\n", r.Name, r.Name, name)
			continue
		}
		if err := deploy.Start(ctx, h, s.cfg, r, ran[i].version, w); err != nil {
			return err
		}
	}
	return gate.Install(ctx, h, s.cfg, w)
}

// ranRole is what a re-seed starts again of a replica role: the
// version, "" for none, and whether it runs now.
type ranRole struct {
	version string
	running bool
}

// roleToRestart is what of r to start again after a re-seed: the version
// running, else the one ship runs there (the gate may have stopped it),
// else none, for a role stopped on purpose.
func roleToRestart(ctx context.Context, h *host.Host, c *config.Config, r *config.Role) (ranRole, error) {
	list, err := deploy.Containers(ctx, h, c, r.Name)
	if err != nil {
		return ranRole{}, err
	}
	if i := slices.IndexFunc(list, func(a deploy.AppContainer) bool { return a.State == "running" }); i >= 0 {
		return ranRole{version: list[i].Version, running: true}, nil
	}
	v, err := deploy.HealthyVersion(ctx, h, c, r.Name)
	return ranRole{version: v}, err
}

// roleNames are the roles' names, comma-separated.
func roleNames(roles []*config.Role) string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = r.Name
	}
	return strings.Join(names, ",")
}

// connectReplicaHosts adds the replica hosts to the session's connected
// hosts, for a command that began on the writer's alone.
func (s *session) connectReplicaHosts(ctx context.Context) error {
	more, err := s.openUnconnected(ctx, replicaHosts(s.cfg))
	if err != nil {
		return err
	}
	if s.engines == nil {
		s.engines = map[string]*host.Host{}
	}
	maps.Copy(s.engines, more)
	return nil
}

// syncWait bounds how long a re-seed waits for the writer's Litestream to
// upload the state a restore put back.
const syncWait = time.Minute

// awaitWriterSynced waits until the writer's Litestream has uploaded
// every local transaction of every database, so that a follower prepared
// next copies the restored state, not the newest upload from before the
// restore (which still has the rows the restore took back). It gives up,
// saying so, after syncWait: the followers then reach the restored state
// as its upload arrives.
func (s *session) awaitWriterSynced(ctx context.Context) {
	name, err := database.Host(s.cfg)
	h, ok := s.engines[name]
	if err != nil || !ok {
		return
	}
	deadline := time.Now().Add(syncWait)
	for said := false; ; {
		statuses, err := database.Statuses(ctx, h, s.cfg, time.Now())
		if err == nil && synced(statuses) {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.UI.Infof("the writer's Litestream has not uploaded the restored state within %s: the followers start from the replica's newest and reach it as it arrives", syncWait)
			return
		}
		if !said {
			s.UI.Infof("waiting for the writer's Litestream to upload the restored state")
			said = true
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// synced tells whether the replica has every local transaction of every
// database (fixed-width hex TXIDs: text order is number order).
func synced(statuses []database.Status) bool {
	for _, st := range statuses {
		r := st.Replication
		if r.LocalTXID == "" || r.ReplicaTXID < r.LocalTXID {
			return false
		}
	}
	return true
}
