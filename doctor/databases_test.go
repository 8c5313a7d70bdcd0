package doctor

import (
	"strings"
	"testing"

	"github.com/shipdeploy/ship/database"
)

func TestDatabaseFile(t *testing.T) {
	tg := target(t, "root")
	s := database.Status{Database: "/data/app.sqlite3", HostPath: "/v/app.sqlite3", Exists: true, Size: 1 << 20, WALSize: 1 << 10, PageSize: 4096, JournalMode: "wal"}
	if c := databaseFile(tg, s); c.State != OK || c.Message != "WAL mode, 1.0 MiB, WAL 1.0 KiB" {
		t.Errorf("healthy: %s", c)
	}
	rollback := s
	rollback.JournalMode = "rollback"
	if c := databaseFile(tg, rollback); c.State != Fail || !strings.Contains(c.Fix, "PRAGMA journal_mode=WAL") {
		t.Errorf("rollback journal: %s", c)
	}
	big := s
	big.WALSize = 64 << 20
	if c := databaseFile(tg, big); c.State != Warn || !strings.Contains(c.Message, "the WAL (64.0 MiB) is larger than the database (1.0 MiB)") {
		t.Errorf("a big WAL: %s", c)
	}
	small := s
	small.Size, small.WALSize = 8192, 100000 // under SQLite's checkpoint size: not stuck
	if c := databaseFile(tg, small); c.State != OK {
		t.Errorf("a small WAL: %s", c)
	}
	if c := databaseFile(tg, database.Status{Database: "/data/app.sqlite3", HostPath: "/v/app.sqlite3"}); c.State != Warn || !strings.Contains(c.Message, "does not exist yet") {
		t.Errorf("no file: %s", c)
	}
}
