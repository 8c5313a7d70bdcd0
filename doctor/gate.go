package doctor

import (
	"context"
	"strings"
	"time"

	"github.com/shipdeploy/ship/gate"
)

// gateChecks checks, on a host of a replica role, the replica gate: it
// must run, since nothing else takes the replicas out of the reads when
// a follower stops (kamal-proxy would go on reading an ever older copy),
// and while it has them out, doctor says since when and why.
func gateChecks(ctx context.Context, t *Target) []Check {
	if !t.replicaHost() {
		return nil
	}
	s, err := gate.Last(ctx, t.Host, t.Config)
	if err != nil {
		return []Check{fail("replica gate", t.exec("docker ps -a"), "cannot read the replica gate: %v", err)}
	}
	return []Check{gateState(t, gate.Name(t.Config), s)}
}

// gateState judges the gate named name from what gate.Last read.
func gateState(t *Target, name string, s gate.Summary) Check {
	const check = "replica gate"
	install := "ship deploy -h " + t.Host.Name + " installs it"
	switch {
	case !s.Installed:
		return fail(check, install, "%s is not installed: nothing takes the replicas out of the reads when a follower stops, and they serve an ever older copy", name)
	case !s.Running:
		return fail(check, install+" (the next ship deploy or app command's repair starts one a killed ship left stopped)",
			"%s is not running: nothing takes the replicas out of the reads when a follower stops, and they serve an ever older copy%s", name, lastChange(t, s.Last))
	case s.Last != nil && s.Last.State == gate.Out:
		return warn(check, "start the followers (the follower checks say how); the gate puts the replicas back once every follower has run for "+gate.Settle.String(),
			"%s has the replicas out of the reads since %s: %s%s", name, when(t, s.Last.Time), s.Last.Reason, stoppedOnes(s.Last))
	case s.Last != nil:
		return ok(check, "%s runs; the replicas are in since %s", name, when(t, s.Last.Time))
	}
	return ok(check, "%s runs; it has never had to take the replicas out", name)
}

// lastChange is the gate's last change, as a clause, for a gate that
// does not run: the replicas it left out stay out.
func lastChange(t *Target, e *gate.Entry) string {
	if e == nil || e.State != gate.Out {
		return ""
	}
	return "; it left the replicas out of the reads at " + when(t, e.Time) + " (" + e.Reason + ")" + stoppedOnes(e)
}

// stoppedOnes names the containers an out entry stopped.
func stoppedOnes(e *gate.Entry) string {
	if len(e.Containers) == 0 {
		return ""
	}
	return "; stopped " + strings.Join(e.Containers, ", ")
}

// when is a time and how long ago it was.
func when(t *Target, at time.Time) string {
	return at.UTC().Format(time.RFC3339) + " (" + t.Now().Sub(at).Round(time.Second).String() + " ago)"
}
