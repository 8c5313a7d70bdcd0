package testlitestream

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadOnlyJournalMode shows what docs/replicas.md tells apps: on a
// read-only connection to the follower's rollback-mode file, asking for
// WAL (as Rails 8 and the example app do on every new connection) fails,
// and asking for the mode it has succeeds.
func TestReadOnlyJournalMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	w, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Exec("CREATE TABLE rows (n INTEGER)"); err != nil {
		t.Fatal(err)
	}
	w.Close()

	r, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var mode string
	if err := r.QueryRow("PRAGMA journal_mode=WAL").Scan(&mode); err == nil || !strings.Contains(err.Error(), "readonly database") {
		t.Errorf("journal_mode=WAL on a read-only connection = %q, %v; want a readonly database error", mode, err)
	}
	if err := r.QueryRow("PRAGMA journal_mode=DELETE").Scan(&mode); err != nil || mode != "delete" {
		t.Errorf("journal_mode=DELETE on a read-only connection = %q, %v; want delete", mode, err)
	}
	var n int
	if err := r.QueryRow("SELECT count(*) FROM rows").Scan(&n); err != nil {
		t.Errorf("read on a read-only connection: %v", err)
	}
	var version string
	if err := r.QueryRow("SELECT sqlite_version()").Scan(&version); err != nil {
		t.Fatal(err)
	}
	t.Logf("SQLite %s", version)
}
