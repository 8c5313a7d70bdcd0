package doctor

import (
	"strings"
	"testing"
	"time"

	"github.com/shipdeploy/ship/database"
)

func TestReplication(t *testing.T) {
	boot := "ship accessory boot litestream"
	live := database.Replication{Replica: "s3://b/app", Running: true, State: "replicating"}
	status := func(r database.Replication) database.Status {
		return database.Status{Database: "/data/app.sqlite3", Replication: r}
	}
	one := []string{"shop-litestream"}
	if c := replication(status(live), one, time.Minute, boot); c.State != OK || !strings.Contains(c.Message, "replicating to s3://b/app, 0s behind") {
		t.Errorf("healthy: %s", c)
	}
	if c := replication(status(database.Replication{State: "stopped"}), nil, time.Minute, boot); c.State != Fail || c.Fix != boot || !strings.Contains(c.Message, "not running") {
		t.Errorf("stopped: %s", c)
	}
	if c := replication(status(live), []string{"shop-litestream", "old-litestream"}, time.Minute, boot); c.State != Fail || !strings.Contains(c.Message, "shop-litestream, old-litestream all replicate it") {
		t.Errorf("two: %s", c)
	}
	lagging := live
	lagging.LagSeconds = 120
	if c := replication(status(lagging), one, time.Minute, boot); c.State != Warn || !strings.Contains(c.Message, "2m0s behind (lag_warning is 1m0s)") {
		t.Errorf("lagging: %s", c)
	}
	unknown := live
	unknown.Error = "no socket"
	if c := replication(status(unknown), one, time.Minute, boot); c.State != Warn {
		t.Errorf("unknown: %s", c)
	}
	idle := live
	idle.State = "not configured"
	if c := replication(status(idle), one, time.Minute, boot); c.State != Fail || !strings.Contains(c.Message, "not configured, not replicating") {
		t.Errorf("not replicating: %s", c)
	}
}
