package doctor

import (
	"context"
	"time"

	"github.com/kballard/go-shellquote"

	"github.com/shipdeploy/ship/follower"
)

// followerChecks checks, on a host of a replica role, that each follower
// runs and keeps its copy within lag_warning of the replica. Running is
// not enough: a follower can stop advancing while it runs
// (benbjohnson/litestream#1515), so the copy's position is compared with
// the replica's.
func followerChecks(ctx context.Context, t *Target) []Check {
	if !t.replicaHost() {
		return nil
	}
	states, err := follower.Status(ctx, t.Host, t.Config)
	if err != nil {
		return []Check{fail("followers", "ship db status", "cannot read the followers: %v", err)}
	}
	var out []Check
	for _, s := range states {
		out = append(out, followerState(s, t.Config.Litestream.LagWarning, t.exec("docker logs --tail 50 "+s.Follower), t.reseed()))
	}
	return out
}

// followerState judges one follower; logs is the command that shows its
// log, reseed the one that prepares its copy afresh.
func followerState(s follower.State, lagWarning time.Duration, logs, reseed string) Check {
	name := "follower " + s.Database
	switch {
	case s.Phase != follower.Following:
		return fail(name, "ship deploy starts it again; "+logs+" says why it stopped",
			"%s is %s: the replica's copy of %s is not kept up to date", s.Follower, s.Phase, s.Database)
	case s.Error != "":
		return warn(name, logs, "%s runs, but its position is unknown: %s", s.Follower, s.Error)
	case s.Lag() > lagWarning:
		return warn(name, "a follower that runs without applying updates must be re-seeded: "+reseed+"; "+logs+" shows its log",
			"the copy is %d transactions and %s behind the replica (lag_warning is %s)", s.Behind, s.Lag().Round(time.Second), lagWarning)
	}
	return ok(name, "%s follows, %d transactions and %s behind (lag_warning %s)", s.Follower, s.Behind, s.Lag().Round(time.Second), lagWarning)
}

// reseed is the command that re-seeds the followers on the host.
func (t *Target) reseed() string { return "ship db reseed -h " + shellquote.Join(t.Host.Name) }
