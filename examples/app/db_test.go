package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// followerEnv makes the test binary, run again by changeLikeFollower, the
// other process that changes a copy: PATH=VALUE.
const followerEnv = "EXAMPLE_APP_TEST_FOLLOWER"

func TestMain(m *testing.M) {
	if job := os.Getenv(followerEnv); job != "" {
		path, value, _ := strings.Cut(job, "=")
		if err := updateInPlace(path, value); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// makeCopy writes a rollback-mode database at path, as ship's prepared
// follower leaves it, holding the app's records table with values.
func makeCopy(t *testing.T, path string, values ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", fileURI(path, url.Values{"_pragma": {"journal_mode(DELETE)"}}))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(schema); err != nil {
		t.Fatal(err)
	}
	for _, v := range values {
		if _, err := db.Exec("INSERT INTO records (value, version, created_at) VALUES (?, 'v1', 'now')", v); err != nil {
			t.Fatal(err)
		}
	}
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "delete" {
		t.Fatalf("the test's copy is in journal mode %q (%v), want delete", mode, err)
	}
}

// updateInPlace changes record 1's value as a Litestream follower applies
// a transaction that does not carry page 1: the new pages are written, and
// the header, whose change counter tells other connections to drop their
// caches, is left as it was.
func updateInPlace(path, value string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	header := make([]byte, 100)
	if _, err := f.ReadAt(header, 0); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return err
	}
	if _, err := db.Exec("UPDATE records SET value = ? WHERE id = 1", value); err != nil {
		db.Close()
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	_, err = f.WriteAt(header, 0)
	return err
}

// changeLikeFollower runs updateInPlace in another process, as the
// follower is in another container.
func changeLikeFollower(t *testing.T, path, value string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), followerEnv+"="+path+"="+value)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("change %s in another process: %v\n%s", path, err, out)
	}
}

func value(t *testing.T, q interface {
	QueryRow(string, ...any) *sql.Row
}) string {
	t.Helper()
	var v string
	if err := q.QueryRow("SELECT value FROM records WHERE id = 1").Scan(&v); err != nil {
		t.Fatalf("read record 1: %v", err)
	}
	return v
}

// The copy is read, never written: no write succeeds, no pragma changes
// it, and SQLite leaves no file beside it. The path needs escaping in a
// URI filename.
func TestOpenReadOnlyDB(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir?#%20")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "app.sqlite3")
	makeCopy(t, path, "one", "two")
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	db, err := openReadOnlyDB(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM records").Scan(&n); err != nil || n != 2 {
		t.Fatalf("count records in the copy: %d, %v; want 2", n, err)
	}
	for pragma, want := range map[string]string{"journal_mode": "delete", "mmap_size": "0", "busy_timeout": "5000"} {
		var got string
		if err := db.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil || got != want {
			t.Errorf("PRAGMA %s = %q, %v; want %s", pragma, got, err, want)
		}
	}
	_, err = db.Exec("INSERT INTO records (value, version, created_at) VALUES ('x', 'v1', 'now')")
	if err == nil || !strings.Contains(err.Error(), "readonly database") {
		t.Errorf("INSERT into the copy: %v, want a readonly database error", err)
	}
	if _, err := db.Exec("CREATE TABLE other (x)"); err == nil || !strings.Contains(err.Error(), "readonly database") {
		t.Errorf("CREATE TABLE in the copy: %v, want a readonly database error", err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("the copy changed")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"app.sqlite3"}) {
		t.Errorf("beside the copy: %q, want only app.sqlite3", names)
	}
}

// Until the follower has restored the copy there is nothing to open: the
// app starts anyway, its queries fail, and nothing is created.
func TestOpenReadOnlyDBMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.sqlite3")
	db, err := openReadOnlyDB(path)
	if err != nil {
		t.Fatalf("openReadOnlyDB of a copy not restored yet: %v", err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM records").Scan(&n); err == nil || !strings.Contains(err.Error(), "unable to open") {
		t.Errorf("query of a missing copy: %v, want unable to open", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the read-only open created %s: %v", path, err)
	}
}

// Each query opens the copy afresh, so it sees what another process wrote
// in place since the last one, even without the header change that a kept
// connection relies on to drop its cache.
func TestOpenReadOnlyDBSeesFollowerChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.sqlite3")
	makeCopy(t, path, "before")
	db, err := openReadOnlyDB(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := value(t, db); got != "before" {
		t.Fatalf("first read: %q, want before", got)
	}
	// A connection kept across the change, as a pool would keep one.
	kept, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer kept.Close()
	kept.SetMaxOpenConns(1)
	if got := value(t, kept); got != "before" {
		t.Fatalf("kept connection's first read: %q, want before", got)
	}

	changeLikeFollower(t, path, "after")

	if got := value(t, db); got != "after" {
		t.Errorf("read after the follower's change: %q, want after", got)
	}
	// The change is one only a fresh connection sees; otherwise this test
	// shows nothing about openReadOnlyDB's connections.
	if got := value(t, kept); got != "before" {
		t.Errorf("a kept connection read %q after the change: the test's change no longer leaves caches stale", got)
	}
}
