package doctor

import (
	"strings"
	"testing"
	"time"

	"github.com/shipdeploy/ship/gate"
)

// A replica host without a running gate fails; one whose gate has the
// replicas out warns, saying since when and why.
func TestGateState(t *testing.T) {
	tg := replicaTarget(t)
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	tg.Now = func() time.Time { return now }
	out := &gate.Entry{Time: now.Add(-90 * time.Second), State: gate.Out, Reason: "shop-follower is exited", Containers: []string{"shop-replicas-v1"}}
	in := &gate.Entry{Time: now.Add(-time.Hour), State: gate.In}
	for _, tc := range []struct {
		s       gate.Summary
		state   State
		message string
		fix     string
	}{
		{gate.Summary{}, Fail, "shop-replica-gate is not installed: nothing takes the replicas out of the reads when a follower stops, and they serve an ever older copy", "ship deploy -h h1 installs it"},
		{gate.Summary{Installed: true, Last: out}, Fail, "shop-replica-gate is not running: nothing takes the replicas out of the reads when a follower stops, and they serve an ever older copy; it left the replicas out of the reads at 2026-12-06T11:58:30Z (1m30s ago) (shop-follower is exited); stopped shop-replicas-v1", "ship deploy -h h1 installs it"},
		{gate.Summary{Installed: true, Running: true, Last: out}, Warn, "shop-replica-gate has the replicas out of the reads since 2026-12-06T11:58:30Z (1m30s ago): shop-follower is exited; stopped shop-replicas-v1", "the gate puts the replicas back once every follower has run for 5s"},
		{gate.Summary{Installed: true, Running: true, Last: in}, OK, "shop-replica-gate runs; the replicas are in since 2026-12-06T11:00:00Z (1h0m0s ago)", ""},
		{gate.Summary{Installed: true, Running: true}, OK, "shop-replica-gate runs; it has never had to take the replicas out", ""},
	} {
		c := gateState(tg, "shop-replica-gate", tc.s)
		if c.Name != "replica gate" || c.State != tc.state || c.Message != tc.message || !strings.Contains(c.Fix, tc.fix) {
			t.Errorf("%+v:\n%s\nwant %s: %s (fix %s)", tc.s, c, tc.state, tc.message, tc.fix)
		}
	}
}
