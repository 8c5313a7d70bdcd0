package doctor

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/follower"
	"github.com/shipdeploy/ship/host"
)

// A follower that does not run fails; one past lag_warning, or whose
// position is unknown, warns.
func TestFollowerState(t *testing.T) {
	for _, tc := range []struct {
		s       follower.State
		state   State
		message string
	}{
		{follower.State{Database: "/data/app.db", Follower: "shop-follower", Phase: follower.Following, Behind: 1, LagSeconds: 2}, OK, "shop-follower follows, 1 transactions and 2s behind (lag_warning 1m0s)"},
		{follower.State{Database: "/data/app.db", Follower: "shop-follower", Phase: follower.Stopped}, Fail, "shop-follower is stopped: the replica's copy of /data/app.db is not kept up to date"},
		{follower.State{Database: "/data/app.db", Follower: "shop-follower", Phase: follower.Missing}, Fail, "shop-follower is missing"},
		{follower.State{Database: "/data/app.db", Follower: "shop-follower", Phase: follower.Following, Behind: 30, LagSeconds: 90}, Warn, "the copy is 30 transactions and 1m30s behind the replica (lag_warning is 1m0s)"},
		{follower.State{Database: "/data/app.db", Follower: "shop-follower", Phase: follower.Following, Error: "litestream ltx: access denied"}, Warn, "its position is unknown: litestream ltx: access denied"},
	} {
		c := followerState(tc.s, time.Minute, "LOGS", "RESEED")
		if c.Name != "follower /data/app.db" || c.State != tc.state || !strings.Contains(c.Message, tc.message) || (tc.state != OK && !strings.Contains(c.Fix, "LOGS")) {
			t.Errorf("%+v: %v", tc.s, c)
		}
		// Only a copy that falls behind while its follower runs is
		// re-seeded; a stopped follower is started again.
		if behind := tc.s.Phase == follower.Following && tc.s.Error == "" && tc.state == Warn; behind != strings.Contains(c.Fix, "RESEED") {
			t.Errorf("%+v: fix %q", tc.s, c.Fix)
		}
	}
}

// The fix for a follower behind the replica names the command that
// re-seeds it on that host.
func TestReseedCommand(t *testing.T) {
	for name, want := range map[string]string{
		"replica-1.example.com": "ship db reseed -h replica-1.example.com",
		"10.0.0.2":              "ship db reseed -h 10.0.0.2",
	} {
		if got := (&Target{Host: &host.Host{Name: name}}).reseed(); got != want {
			t.Errorf("reseed on %s: %q, want %q", name, got, want)
		}
	}
}

// Only a host of a replica role has followers to check.
func TestFollowerChecksOnlyOnReplicaHosts(t *testing.T) {
	c := &config.Config{Service: "shop", Roles: []*config.Role{{Name: "web"}}}
	tg := &Target{Config: c, Roles: c.Roles, Now: time.Now}
	if got := followerChecks(context.Background(), tg); got != nil {
		t.Errorf("checks on a writer's host: %v", got)
	}
	tg.Roles = []*config.Role{{Name: "replicas", ReplicaOf: "web"}}
	got := followerChecks(context.Background(), tg)
	if len(got) != 1 || got[0].State != Fail || !strings.Contains(got[0].Message, "needs the litestream section") {
		t.Errorf("checks on a replica host without a litestream section: %v", got)
	}
}
