package workflow

import (
	"testing"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/database"
	"github.com/shipdeploy/ship/deploy"
)

func TestSynced(t *testing.T) {
	st := func(local, replica string) database.Status {
		return database.Status{Replication: database.Replication{LocalTXID: local, ReplicaTXID: replica}}
	}
	for _, c := range []struct {
		statuses []database.Status
		want     bool
	}{
		{[]database.Status{st("000000000000000a", "000000000000000a")}, true},
		{[]database.Status{st("000000000000000a", "000000000000000b")}, true},
		{[]database.Status{st("000000000000000b", "000000000000000a")}, false},
		{[]database.Status{st("", "000000000000000a")}, false}, // Litestream has not said yet
		{[]database.Status{st("0000000000000002", "0000000000000002"), st("0000000000000010", "000000000000000f")}, false},
	} {
		if got := synced(c.statuses); got != c.want {
			t.Errorf("synced(%+v) = %v, want %v", c.statuses, got, c.want)
		}
	}
}

func TestUnitReplicaHosts(t *testing.T) {
	web := &config.Role{Name: "web"}
	reps := &config.Role{Name: "replicas", ReplicaOf: "web"}
	units := []deploy.Unit{
		{Host: config.Host{Address: "10.0.0.1"}, Role: web},
		{Host: config.Host{Address: "10.0.0.2"}, Role: reps},
		{Host: config.Host{Address: "10.0.0.3"}, Role: reps},
		{Host: config.Host{Address: "10.0.0.2"}, Role: reps},
	}
	got := unitReplicaHosts(units)
	if len(got) != 2 || got[0] != "10.0.0.2" || got[1] != "10.0.0.3" {
		t.Errorf("replica hosts %v, want 10.0.0.2 and 10.0.0.3, once each", got)
	}
}
