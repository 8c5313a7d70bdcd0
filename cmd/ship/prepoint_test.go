package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shipdeploy/ship/internal/testapp"
)

// A deploy under a writer that never stops, of an app (replicated by
// Litestream, which rollback --restore-data needs) whose database is
// big enough that copying it takes a while: ship copies it before the
// pause and brings the copy up to date at the quiet point. The restore
// point holds exactly the rows the old version wrote, every acknowledged
// one among them, and none of the new version's; rollback --restore-data
// puts it back. A second database that is not in WAL mode is copied whole
// at the quiet point, and its restore point is exact too.
func TestRestorePointCopiedBeforeThePause(t *testing.T) {
	b := newBackedUpApp(t, "prepoint")
	a := b
	appendConfig(t, a.app, "databases: [/data/plain.sqlite3]\n", "")
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	db := b.dbFile(t)
	// About 160 MB, written by the app itself, as its own data.
	a.mustShip(t, "app", "exec", "/app", "migrate",
		"CREATE TABLE bulk AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 40000) SELECT i, randomblob(4000) AS b FROM n")
	plain := filepath.Join(filepath.Dir(db), "plain.sqlite3")
	if out, err := exec.Command("sqlite3", plain, "CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3);").CombinedOutput(); err != nil {
		t.Fatalf("make %s: %v\n%s", plain, err, out)
	}

	w := testapp.StartWriter(t, a.url(), 15*time.Millisecond)
	time.Sleep(500 * time.Millisecond) // writes before the deploy, too
	out := a.mustShip(t, "deploy", "--skip-build", "--version", "v2", "-v")
	time.Sleep(500 * time.Millisecond) // and after: the new version's
	acked, _ := w.Stop()
	testapp.Durable(t, a.url(), acked)
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "copied") || strings.Contains(line, "copies") || strings.Contains(line, "restore point") {
			t.Log(line)
		}
	}
	for _, want := range []string{
		"copied the databases before the pause",
		"/data/plain.sqlite3 is copied whole at the quiet point: plain.sqlite3 is not in WAL mode",
		"recorded the restore point of v1 from the copies taken before the pause",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the deploy does not say %q:\n%s", want, out)
		}
	}

	// -v shows where the deploy's time went: each step of the swap's
	// spec, in its order, the copy before the stop (the app is not
	// proxied: nothing pauses).
	var steps []string
	var last float64
	for _, m := range regexp.MustCompile(`(?m)^  ([a-z][a-z ]*?)  +(\S+)  +(\d+\.\d{3})s  +\d+\.\d{3}s`).FindAllStringSubmatch(out, -1) {
		at, _ := strconv.ParseFloat(m[3], 64)
		if at < last {
			t.Errorf("step %q at %.3fs, before the one before it (%.3fs)", m[1], at, last)
		}
		last = at
		steps = append(steps, strings.TrimSuffix(m[1]+" "+m[2], " -"))
	}
	inOrder(t, "deploy -v", steps, []string{"connect", "queue", "repair", "proxy", "image", "create",
		"check web", "copy web", "stop web", "check web", "restore point web",
		"start web", "health web", "route web", "record web", "audit web", "report"})

	point := filepath.Join(filepath.Dir(db), ".ship", "restore-points", "v1", "app.sqlite3")
	rows := "SELECT count(*) || ' ' || ifnull(sum(id), 0) || ' ' || ifnull(max(id), 0) FROM records"
	v1Rows := sqlite(t, db, rows+" WHERE version = 'v1'")
	if got := sqlite(t, point, rows); got != v1Rows {
		t.Errorf("the restore point's records (count, sum and max of ids): %s; v1 wrote %s", got, v1Rows)
	}
	if got := sqlite(t, point, "SELECT count(*) FROM records WHERE version <> 'v1'"); got != "0" {
		t.Errorf("the restore point has %s rows of the new version", got)
	}
	if n := sqlite(t, db, "SELECT count(*) FROM records WHERE version = 'v2'"); n == "0" {
		t.Errorf("the new version acknowledged no write: the test proves nothing")
	}
	if got := sqlite(t, point, "SELECT count(*) FROM bulk"); got != "40000" {
		t.Errorf("the restore point has %s rows in bulk, want 40000", got)
	}
	if got := sqlite(t, point, "PRAGMA integrity_check"); got != "ok" {
		t.Errorf("integrity_check of the restore point: %s", got)
	}
	if got := sqlite(t, filepath.Join(filepath.Dir(point), "plain.sqlite3"), "SELECT group_concat(x) FROM t"); got != "1,2,3" {
		t.Errorf("the restore point of plain.sqlite3 has %q", got)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(db), ".ship", "pre-point", "*")); len(left) != 0 {
		t.Errorf("copies left behind: %v", left)
	}

	a.mustShip(t, "rollback", "v1", "--restore-data", "--yes")
	if v := a.version(t); v != "v1" {
		t.Fatalf("after the rollback the app says %q", v)
	}
	if got := sqlite(t, db, rows); got != v1Rows {
		t.Errorf("after rollback --restore-data the records are %s, want v1's %s", got, v1Rows)
	}
}
