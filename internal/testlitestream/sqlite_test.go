package testlitestream

import (
	"database/sql"
	"net/url"
	"testing"

	_ "modernc.org/sqlite"
)

// openDB opens the SQLite database at path in WAL mode, which Litestream
// requires, waiting rather than failing while Litestream checkpoints.
func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	dsn := "file:" + path + "?" + url.Values{"_pragma": {"busy_timeout(10000)", "journal_mode(WAL)"}}.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	return db
}

// insertRows adds rows numbered from to to-1, in one transaction, to the
// table rows of the database at path, creating both if missing.
func insertRows(t *testing.T, path string, from, to int) {
	t.Helper()
	db := openDB(t, path)
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatalf("begin on %s: %v", path, err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("CREATE TABLE IF NOT EXISTS rows (n INTEGER PRIMARY KEY, body TEXT NOT NULL)"); err != nil {
		t.Fatalf("create table in %s: %v", path, err)
	}
	for n := from; n < to; n++ {
		if _, err := tx.Exec("INSERT INTO rows (n, body) VALUES (?, ?)", n, "row"); err != nil {
			t.Fatalf("insert into %s: %v", path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("commit on %s: %v", path, err)
	}
}

// countRows is the number of rows in the table rows of the database at
// path, after checking the database's integrity.
func countRows(t *testing.T, path string) int {
	t.Helper()
	db := openDB(t, path)
	defer db.Close()
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil {
		t.Fatalf("check %s: %v", path, err)
	}
	if check != "ok" {
		t.Fatalf("%s is damaged: %s", path, check)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM rows").Scan(&n); err != nil {
		t.Fatalf("count rows in %s: %v", path, err)
	}
	return n
}
