package follower

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func at(sec int) time.Time { return time.Date(2026, 12, 6, 10, 0, sec, 0, time.UTC) }

// Lag compares the copy's TXID with the replica's newest, in
// transactions and in seconds between their files' upload times.
func TestPosition(t *testing.T) {
	files := []ltxFile{
		{Level: 9, MinTXID: "0000000000000001", MaxTXID: "0000000000000004", Timestamp: at(30)},
		{Level: 0, MinTXID: "0000000000000005", MaxTXID: "0000000000000005", Timestamp: at(10)},
		{Level: 0, MinTXID: "0000000000000006", MaxTXID: "0000000000000006", Timestamp: at(12)},
		{Level: 1, MinTXID: "0000000000000005", MaxTXID: "0000000000000007", Timestamp: at(20)},
		{Level: 0, MinTXID: "0000000000000007", MaxTXID: "0000000000000007", Timestamp: at(15)},
	}
	for _, tc := range []struct {
		copy   TXID
		behind uint64
		lag    float64
	}{
		{7, 0, 0},
		{8, 0, 0}, // a copy ahead (it read a newer listing) is not behind
		{6, 1, 3}, // 15 - 12
		{5, 2, 5}, // 15 - 10
		{4, 3, 5}, // the snapshot that holds TXID 4 was written later: from the first file it lacks
		{2, 5, 5}, // older than every file kept: from the first it lacks
	} {
		var s State
		s.position(files, tc.copy)
		if s.ReplicaTXID != "0000000000000007" || s.ReplicaTime == nil || !s.ReplicaTime.Equal(at(15)) || s.Behind != tc.behind || s.LagSeconds != tc.lag || s.Error != "" {
			t.Errorf("copy at %d: %+v (replica time %v), want behind %d, lag %v", tc.copy, s, s.ReplicaTime, tc.behind, tc.lag)
		}
	}
	var s State
	s.position(nil, 3)
	if s.Error == "" || s.ReplicaTXID != "" {
		t.Errorf("an empty replica: %+v", s)
	}
	s = State{}
	s.position([]ltxFile{{MaxTXID: "x"}}, 3)
	if s.Error == "" {
		t.Errorf("a bad listing: %+v", s)
	}
}

func TestPhase(t *testing.T) {
	b, err := json.Marshal(State{Phase: Following, LagSeconds: 1.5})
	if err != nil || string(b) != `{"database":"","follower":"","state":"following","behind_txids":0,"lag_seconds":1.5,"warnings":null}` {
		t.Errorf("JSON %s, %v", b, err)
	}
	for p, want := range map[Phase]string{Missing: "missing", Stopped: "stopped", Following: "following"} {
		if p.String() != want {
			t.Errorf("%d is %q", p, p)
		}
	}
	if (State{LagSeconds: 2.5}).Lag() != 2500*time.Millisecond {
		t.Error("Lag")
	}
}

// A follower that does not run, or lags past lag_warning, is warned of.
func TestWarn(t *testing.T) {
	for _, tc := range []struct {
		s    State
		want string
	}{
		{State{Phase: Following, LagSeconds: 10}, ""},
		{State{Phase: Following, LagSeconds: 61, Behind: 4}, "the copy is 4 transactions and 1m1s behind the replica (lag_warning is 1m0s): a follower that runs but does not advance must be re-seeded (ship db reseed -h replica-1)"},
		{State{Phase: Stopped, Follower: "shop-follower", Database: "/data/app.db"}, "shop-follower is stopped: the copy of /data/app.db is not kept up to date"},
		{State{Phase: Missing, Follower: "shop-follower", Database: "/data/app.db"}, "shop-follower is missing"},
	} {
		tc.s.warn(time.Minute, "replica-1")
		got := strings.Join(tc.s.Warnings, "; ")
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%+v: warnings %q, want %q", tc.s, got, tc.want)
		}
	}
}
