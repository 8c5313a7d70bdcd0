package doctor

import (
	"context"

	"github.com/shipdeploy/ship/database"
)

// databaseChecks checks each database ship knows on the host: it exists,
// in WAL mode, and its WAL is not larger than it. Only the databases of
// the roles that are not replicas (Target.databaseStatuses): a replica
// host's copies are rollback-mode files by design (docs/replicas.md,
// "Decision"), and whether they are current is the follower checks'
// comparison of positions.
func databaseChecks(ctx context.Context, t *Target) []Check {
	dbs, err := t.databaseStatuses(ctx)
	if err != nil {
		return []Check{fail("databases", "ship setup", "cannot read the databases: %v", err)}
	}
	var out []Check
	for _, s := range dbs {
		out = append(out, databaseFile(t, s))
	}
	return out
}

// databaseFile judges one database's files.
func databaseFile(t *Target, s database.Status) Check {
	name := "database " + s.Database
	if !s.Exists {
		return warn(name, "ship app logs -h "+t.Host.Name+" (the app creates it when it first writes)", "%s does not exist yet", s.HostPath)
	}
	if s.JournalMode != "wal" {
		return fail(name, "have the app open it with PRAGMA journal_mode=WAL (once is enough: it persists)",
			"the journal mode is %s, not WAL: readers block the writer, and Litestream needs WAL", s.JournalMode)
	}
	if s.WALSize > s.Size && s.WALSize > int64(1000*s.PageSize) {
		return warn(name, "end the long read transaction that holds checkpoints back (ship app logs), or restart the app",
			"the WAL (%s) is larger than the database (%s): checkpoints are not completing", database.HumanBytes(s.WALSize), database.HumanBytes(s.Size))
	}
	return ok(name, "WAL mode, %s, WAL %s", database.HumanBytes(s.Size), database.HumanBytes(s.WALSize))
}
