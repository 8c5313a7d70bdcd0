package doctor

import (
	"context"
	"strings"
	"time"

	"github.com/shipdeploy/ship/database"
)

// litestreamChecks checks, on the host Litestream runs on, that exactly
// one Litestream replicates each database of the litestream section, with
// a lag under lag_warning.
func litestreamChecks(ctx context.Context, t *Target) []Check {
	if !t.litestreamHost() {
		return nil
	}
	c := t.Config
	a := database.Accessory(c)
	boot := "ship accessory boot " + a.Name
	statuses, err := database.Statuses(ctx, t.Host, c, t.Now())
	if err != nil {
		return []Check{fail("litestream", "ship db status", "cannot read the databases Litestream replicates: %v", err)}
	}
	all, err := t.writers(ctx)
	if err != nil {
		return []Check{fail("litestream", t.exec("docker ps"), "cannot list the containers: %v", err)}
	}
	var out []Check
	for _, s := range statuses {
		var replicators []string
		if v, _, err := c.DatabaseVolume(s.Database); err == nil {
			replicators = all[v.Source][litestreamWriter]
		}
		out = append(out, replication(s, replicators, c.Litestream.LagWarning, boot))
	}
	return out
}

// litestreamHost says whether the config's Litestream (the section's, or
// a hand-written accessory's) runs on this host.
func (t *Target) litestreamHost() bool {
	h, err := database.Host(t.Config)
	return err == nil && h == t.Host.Name
}

// replication judges one database's replication: replicators are the
// running Litestream containers that write its volume.
func replication(s database.Status, replicators []string, lagWarning time.Duration, boot string) Check {
	name := "litestream " + s.Database
	r := s.Replication
	switch {
	case !r.Running:
		return fail(name, boot, "Litestream is not running: nothing is backed up to %s", r.Replica)
	case len(replicators) > 1:
		return fail(name, "stop all but one of them (ship accessory reboot recreates the configured one)",
			"%s all replicate it: two Litestreams on one database fight over its WAL", strings.Join(replicators, ", "))
	case r.Error != "":
		return warn(name, "ship accessory logs litestream", "Litestream's state is unknown: %s", r.Error)
	case r.State != "replicating":
		return fail(name, "ship accessory logs litestream, then "+boot, "Litestream is %s, not replicating", r.State)
	}
	lag := time.Duration(r.LagSeconds * float64(time.Second))
	if lag > lagWarning {
		return warn(name, "ship accessory logs litestream (is the replica reachable?)", "the replica is %s behind (lag_warning is %s)", lag.Round(time.Second), lagWarning)
	}
	return ok(name, "replicating to %s, %s behind (lag_warning %s)", r.Replica, lag.Round(time.Second), lagWarning)
}
