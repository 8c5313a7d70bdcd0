package database

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// openWriter keeps a sqlite3 session open on db, as a running app does,
// and returns a function that sends it SQL. Closing the session is left
// to the test's cleanup: while it is open, SQLite does not checkpoint on
// close, so what it wrote stays in the WAL.
func openWriter(t *testing.T, db string) func(sql string) {
	t.Helper()
	// A busy timeout, as apps set: without one a write that meets a
	// reader's momentary lock fails, and -bail ends the session.
	cmd := exec.Command("sqlite3", "-bail", "-cmd", ".timeout 5000", db)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	return func(sql string) {
		if _, err := io.WriteString(stdin, sql+"\n"); err != nil {
			t.Fatal(err)
		}
	}
}

// waitCount waits until a reader sees want rows in table.
func waitCount(t *testing.T, db, table string, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := exec.Command("sqlite3", "-readonly", "-cmd", ".timeout 2000", db, "SELECT count(*) FROM "+table).CombinedOutput()
		if err == nil && string(out) == strconv.Itoa(want)+"\n" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never had %d rows in %s: %q, %v", db, want, table, out, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The restore point has every committed row, those still in the WAL of a
// database an app holds open included, and only root can read it.
func TestRecordScriptCopiesTheWAL(t *testing.T) {
	needSQLite3(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	sqlite(t, db, `PRAGMA journal_mode = WAL;
CREATE TABLE items(id INTEGER PRIMARY KEY, b BLOB);
INSERT INTO items SELECT value, randomblob(100) FROM generate_series(1, 100);`)

	write := openWriter(t, db)
	write("PRAGMA wal_autocheckpoint = 0;")
	write("INSERT INTO items SELECT value, randomblob(100) FROM generate_series(101, 1100);")
	write("CREATE TABLE later(x); INSERT INTO later VALUES (1), (2);")
	waitCount(t, db, "later", 2)
	waitCount(t, db, "items", 1100)

	// The rows are in the WAL, not in the database file.
	if fi, err := os.Stat(db + "-wal"); err != nil || fi.Size() == 0 {
		t.Fatalf("no WAL beside the database: %v", err)
	}
	mainOnly := filepath.Join(t.TempDir(), "main-only.db")
	b, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mainOnly, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if n := sqlite(t, mainOnly, "SELECT count(*) FROM items"); n != "100" {
		t.Fatalf("the database file alone has %s rows, want the WAL to hold 1000 of them", n)
	}

	dest := filepath.Join(dir, ".ship", "restore-points", "v1", "app.db")
	if _, stderr, err := runInVolume(t, recordScript, db, filepath.Base(filepath.Dir(dest)), "3"); err != nil {
		t.Fatalf("recordScript: %v\n%s", err, stderr)
	}
	if n := sqlite(t, dest, "SELECT count(*) FROM items"); n != "1100" {
		t.Errorf("the restore point has %s rows in items, want 1100", n)
	}
	if n := sqlite(t, dest, "SELECT count(*) FROM later"); n != "2" {
		t.Errorf("the restore point has %s rows in later, want 2", n)
	}
	if got := sqlite(t, dest, "PRAGMA integrity_check"); got != "ok" {
		t.Errorf("the restore point's integrity check: %s", got)
	}
	if _, err := os.Stat(dest + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("%s.tmp is left behind (%v)", dest, err)
	}
	for _, p := range []string{dest, filepath.Dir(dest)} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v: others can read the data", p, fi.Mode().Perm())
		}
	}
	// The live database is untouched: its writer goes on.
	write("INSERT INTO later VALUES (3);")
	waitCount(t, db, "later", 3)
}

// Recording keeps the newest KEEP restore points and removes the older.
func TestRecordScriptKeepsTheNewest(t *testing.T) {
	needSQLite3(t)
	tests := []struct {
		name     string
		keep     int
		versions []string
		want     []string
	}{
		{"keep 2 of 4", 2, []string{"v1", "v2", "v3", "v4"}, []string{"v3", "v4"}},
		{"keep 1 of 2", 1, []string{"v1", "v2"}, []string{"v2"}},
		{"keep 5 of 3", 5, []string{"v1", "v2", "v3"}, []string{"v1", "v2", "v3"}},
		// Recording a version again makes it the newest.
		{"recorded again", 2, []string{"v1", "v2", "v1", "v3"}, []string{"v1", "v3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "app.db")
			points := filepath.Join(dir, ".ship", "restore-points")
			for i, v := range tt.versions {
				if i > 0 {
					time.Sleep(50 * time.Millisecond) // mtimes differ
				}
				sqlite(t, db, "CREATE TABLE IF NOT EXISTS deploys(v); INSERT INTO deploys VALUES ('"+v+"');")
				dest := filepath.Join(points, v, "app.db")
				if _, stderr, err := runInVolume(t, recordScript, db, filepath.Base(filepath.Dir(dest)), strconv.Itoa(tt.keep)); err != nil {
					t.Fatalf("recordScript %s: %v\n%s", v, err, stderr)
				}
			}
			got := listDir(t, points)
			if !slices.Equal(got, tt.want) {
				t.Errorf("restore points = %q, want %q", got, tt.want)
			}
			// Each is the data as that version left it.
			for _, v := range got {
				last := sqlite(t, filepath.Join(points, v, "app.db"), "SELECT v FROM deploys ORDER BY rowid DESC LIMIT 1")
				if last != v {
					t.Errorf("restore point %s ends with the deploy of %s", v, last)
				}
			}
			if _, err := os.Stat(db); err != nil {
				t.Errorf("the database: %v", err)
			}
		})
	}
}

// Without a database there is nothing to record, and that is no error.
func TestRecordScriptMissingDatabase(t *testing.T) {
	needSQLite3(t)
	dir := t.TempDir()
	dest := filepath.Join(dir, ".ship", "restore-points", "v1", "app.db")
	out, stderr, err := runInVolume(t, recordScript, filepath.Join(dir, "app.db"), filepath.Base(filepath.Dir(dest)), "2")
	if err != nil {
		t.Fatalf("recordScript: %v\n%s%s", err, out, stderr)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Errorf("%s exists (%v)", dest, err)
	}
	if got := listDir(t, dir); len(got) != 0 {
		t.Errorf("recordScript left %q", got)
	}
}

// A file that is not a database fails the recording and leaves no copy.
func TestRecordScriptNotADatabase(t *testing.T) {
	needSQLite3(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	if err := os.WriteFile(db, []byte("this is not an SQLite database, just some text that is long enough"), 0o644); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(dir, ".ship", "restore-points", "v1", "app.db")
	if out, _, err := runInVolume(t, recordScript, db, filepath.Base(filepath.Dir(dest)), "2"); err == nil {
		t.Errorf("recordScript on a non-database succeeded: %q", out)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Errorf("%s exists (%v)", dest, err)
	}
}
