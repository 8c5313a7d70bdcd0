package workflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/shipdeploy/ship/audit"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/database"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/drill"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/follower"
	"github.com/shipdeploy/ship/gate"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/queue"
)

// DBStatusRequest is ship db status.
type DBStatusRequest struct {
	Globals
}

// DBStatusResult is the health of the databases Litestream replicates and
// their replica, on the host they live on.
type DBStatusResult struct {
	Host      string
	Databases []database.Status // in config order
	// Drill is what the drill log says of the fire drills; DrillError
	// why it could not be read.
	Drill      drill.Summary
	DrillError string
	// Followers are the followers on each host of a replica role, in
	// config order.
	Followers []FollowerHost
}

// FollowerHost is the followers and the replica gate on one host of a
// replica role, or why they could not be read.
type FollowerHost struct {
	Host      string           `json:"host"`
	Followers []follower.State `json:"followers"`
	// Gate is what the host says of its replica gate; nil when it could
	// not be read.
	Gate  *gate.Summary `json:"gate"`
	Error string        `json:"error,omitempty"`
}

// DBStatus reads each database's size, WAL, journal mode, pages and
// replication lag on its host. It takes no lock, on
// the databases or the deploy queue.
func DBStatus(ctx context.Context, r DBStatusRequest) (DBStatusResult, error) {
	s, h, err := openDB(ctx, r.Globals)
	if err != nil {
		return DBStatusResult{}, err
	}
	defer s.close()
	statuses, err := database.Statuses(ctx, h, s.cfg, time.Now())
	if err != nil {
		return DBStatusResult{}, err
	}
	res := DBStatusResult{Host: h.Name, Databases: statuses}
	if res.Drill, err = drill.Last(ctx, h, s.cfg); err != nil {
		res.DrillError = err.Error()
	}
	res.Followers = s.followers(ctx)
	return res, nil
}

// followers reads the followers and the replica gate on every host of a
// replica role, in parallel; a host that cannot be read says why, and
// the others still answer.
func (s *session) followers(ctx context.Context) []FollowerHost {
	hosts := replicaHosts(s.cfg)
	results := fleet.Each(ctx, hosts, 0, func(ctx context.Context, name string) (FollowerHost, error) {
		cli, err := fleet.Engine(ctx, s.pool.Conn(name))
		if err != nil {
			return FollowerHost{}, err
		}
		defer cli.Close()
		h := &host.Host{Name: name, Shell: s.pool.Conn(name), Docker: cli}
		states, err := follower.Status(ctx, h, s.cfg)
		if err != nil {
			return FollowerHost{}, err
		}
		g, err := gate.Last(ctx, h, s.cfg)
		if err != nil {
			return FollowerHost{Followers: states}, err
		}
		return FollowerHost{Followers: states, Gate: &g}, nil
	})
	var out []FollowerHost
	for _, r := range results {
		fh := r.Value
		fh.Host = r.Host
		if r.Err != nil {
			fh.Error = r.Err.Error()
		}
		out = append(out, fh)
	}
	return out
}

// replicaHosts are the hosts of the replica roles, each once, in config
// order.
func replicaHosts(c *config.Config) []string {
	var out []string
	for _, r := range c.Roles {
		if !r.IsReplica() {
			continue
		}
		for _, h := range r.Hosts {
			if !slices.Contains(out, h.Address) {
				out = append(out, h.Address)
			}
		}
	}
	return out
}

// DBVerifyRequest is ship db verify. The drill's progress goes to UI.Out.
type DBVerifyRequest struct {
	Globals
}

// DBVerifyResult is the restore drill's finding on the litestream
// section's host.
type DBVerifyResult struct {
	Host      string
	Databases []database.Check // in config order
}

// Failed is how many databases failed the drill.
func (v DBVerifyResult) Failed() int {
	n := 0
	for _, c := range v.Databases {
		if !c.OK {
			n++
		}
	}
	return n
}

// OK is true when every database passed the drill.
func (v DBVerifyResult) OK() bool { return v.Failed() == 0 }

// DBVerify is the restore fire drill: each database's replica restored
// into a temporary copy on the host, checked, and its row counts compared
// with the live database. The result is nil when the drill could not run;
// otherwise it is complete, and the error says when a database failed.
func DBVerify(ctx context.Context, r DBVerifyRequest) (*DBVerifyResult, error) {
	s, h, err := openDB(ctx, r.Globals)
	if err != nil {
		return nil, err
	}
	defer s.close()
	checks, err := database.Verify(ctx, h, s.cfg, r.UI.Out)
	if err != nil {
		return nil, err
	}
	res := &DBVerifyResult{Host: h.Name, Databases: checks}
	if failed := res.Failed(); failed > 0 {
		return res, fmt.Errorf("%d of %d databases failed the restore drill", failed, len(checks))
	}
	return res, nil
}

// DBRestoreRequest is ship db restore.
type DBRestoreRequest struct {
	Globals
	// Timestamp restores the state as of this RFC 3339 time; "" is the
	// latest replica.
	Timestamp string
	// Yes agrees to the restore without asking.
	Yes bool
}

// check refuses a Timestamp that is not RFC 3339, before anything is
// contacted.
func (r DBRestoreRequest) check() error {
	if r.Timestamp == "" {
		return nil
	}
	if _, err := time.Parse(time.RFC3339, r.Timestamp); err != nil {
		return usage(fmt.Errorf("--timestamp %q: want RFC 3339, like 2026-11-21T09:30:00Z", r.Timestamp))
	}
	return nil
}

// replica names what the restore brings back, for the prompt and the
// audit log.
func (r DBRestoreRequest) replica() string {
	if r.Timestamp == "" {
		return "the latest replica"
	}
	return "the replica as of " + r.Timestamp
}

// restorePrompt is the question db restore asks before it stops anything.
func restorePrompt(cfg *config.Config, host, what string) string {
	return fmt.Sprintf("Stop %s on %s and replace %s with %s? The current files are kept beside them. [y/N] ",
		cfg.Service, host, strings.Join(cfg.Litestream.Databases, ", "), what)
}

// DBRestore replaces the live databases with their replica (as of
// Timestamp, when set), once the user agrees: the app stops, the current
// files are set aside beside the databases, the replica is restored and
// checked, and the app starts again. It holds the deploy queue, and
// records the outcome in the host's audit log.
func DBRestore(ctx context.Context, r DBRestoreRequest) error {
	if err := r.check(); err != nil {
		return err
	}
	s, h, err := openDB(ctx, r.Globals)
	if err != nil {
		return err
	}
	defer s.close()
	what := r.replica()
	if !r.Yes && !r.confirm(restorePrompt(s.cfg, h.Name, what)) {
		return errors.New("not restored: confirm on a terminal, or pass --yes")
	}
	return s.mutate(ctx, nil, queue.Ticket{Command: "db restore"}, func(ctx context.Context) error {
		out := s.output().Prefixed("[" + h.Name + "] ")
		defer out.Close()
		// Requests get a 503 with a message while the app is stopped, not
		// a wait longer than kamal-proxy would hold them.
		live, err := deploy.MaintainHost(ctx, h, s.cfg, deploy.DataMaintenanceMessage, out)
		if err == nil {
			err = database.Restore(ctx, h, s.cfg, r.Timestamp, out)
			err = errors.Join(err, live())
		}
		if err == nil && len(replicaHosts(s.cfg)) > 0 {
			// The followers' copies hold what the restore took back.
			if err = s.connectReplicaHosts(ctx); err == nil {
				err = s.reseedFollowers(ctx)
			}
		}
		result := "restored " + what
		if err != nil {
			result = "failed: " + err.Error()
		}
		e := audit.Entry{Time: time.Now(), Performer: audit.Performer(), Command: "db restore", Result: result}
		if aerr := audit.Append(context.WithoutCancel(ctx), h.Shell, audit.Path(s.cfg.ServiceAndDestination()), e, s.UI.Redactor); aerr != nil {
			fmt.Fprintf(out, "audit log: %v\n", aerr)
		}
		return err
	})
}

// DBReseedRequest is ship db reseed: the followers of every replica
// host, or of the replica hosts -h, -r or -p select.
type DBReseedRequest struct {
	Globals
}

// DBReseed prepares the followers' copies afresh on the selected replica
// hosts, in parallel: for a follower that runs but no longer applies the
// replica's updates (benbjohnson/litestream#1515), which a restart does
// not cure. On each host the replicas stop meanwhile (kamal-proxy sends
// their reads to the writer) and start again on the new copies. It holds
// the deploy queue, repairing first, and records the outcome in each
// host's audit log. It does not wait for the writer's Litestream to
// upload, as a re-seed after a restore does: a stuck copy is behind the
// replica, not ahead of it, so the replica's newest is a right start, and
// the follower applies what the writer uploads next.
func DBReseed(ctx context.Context, r DBReseedRequest) error {
	cfg, err := LoadConfig(r.Globals)
	if err != nil {
		return err
	}
	hosts, err := reseedHosts(r.Globals, cfg)
	if err != nil {
		return err
	}
	s := newSession(r.Globals, cfg, hosts)
	defer s.close()
	if err := s.connect(ctx); err != nil {
		return err
	}
	return s.mutate(ctx, nil, queue.Ticket{Command: "db reseed"}, func(ctx context.Context) error {
		return fleet.EachPrefixed(ctx, s.output(), hosts, 0, func(ctx context.Context, name string, w io.Writer) error {
			err := s.reseedHost(ctx, name, "their copies are prepared afresh from the replica's newest", w)
			result := "re-seeded the followers"
			if err != nil {
				result = "failed: " + err.Error()
			}
			e := audit.Entry{Time: time.Now(), Performer: audit.Performer(), Command: "db reseed", Result: result}
			if aerr := audit.Append(context.WithoutCancel(ctx), s.engines[name].Shell, audit.Path(s.cfg.ServiceAndDestination()), e, s.UI.Redactor); aerr != nil {
				fmt.Fprintf(w, "audit log: %v\n", aerr)
			}
			return err
		})
	})
}

// reseedHosts are the replica hosts db reseed works on: all of them, or
// those the selection names, every one of which must be a replica host.
func reseedHosts(g Globals, cfg *config.Config) ([]string, error) {
	all := replicaHosts(cfg)
	if len(all) == 0 {
		return nil, usage(fmt.Errorf("%s has no replica_of role: nothing to re-seed (followers keep copies only for a role with replica_of; see docs/replicas.md)",
			strings.Join(cfg.Files, " + ")))
	}
	if g.Hosts == "" && g.Roles == "" && !g.Primary {
		return all, nil
	}
	selected, err := selectHosts(g, cfg)
	if err != nil {
		return nil, err
	}
	var others []string
	for _, h := range selected {
		if !slices.Contains(all, h) {
			others = append(others, h)
		}
	}
	if len(others) > 0 {
		return nil, usage(fmt.Errorf("no replica role runs on %s, so there are no followers there to re-seed; the replica hosts are %s: select among those with -h, or leave -h out to re-seed them all",
			strings.Join(others, ", "), strings.Join(all, ", ")))
	}
	return selected, nil
}

// openDB loads the config and connects to the host the Litestream accessory
// runs on: the db commands' session.
func openDB(ctx context.Context, g Globals) (*session, *host.Host, error) {
	cfg, err := LoadConfig(g)
	if err != nil {
		return nil, nil, err
	}
	return dbSession(ctx, g, cfg)
}
