package database

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shipdeploy/ship/ssh"
)

// localPreCopy is prepoint.sh run locally, as startPreCopy runs it on a
// host, on the database file db, for the restore point of version.
type localPreCopy struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines *bufio.Scanner
}

func startLocalPreCopy(t testing.TB, db, version string) *localPreCopy {
	t.Helper()
	argv := ssh.Script(safeScript+"\n"+prepointScript, filepath.Dir(db), ".", filepath.Base(db), version, "3").Args
	cmd := exec.Command(argv[0], argv[1:]...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &localPreCopy{cmd: cmd, in: in, lines: bufio.NewScanner(out)}
	t.Cleanup(func() { p.in.Close(); p.cmd.Wait() })
	return p
}

// next is the script's next line of output.
func (p *localPreCopy) next(t testing.TB) string {
	t.Helper()
	if !p.lines.Scan() {
		t.Fatalf("prepoint.sh ended: %v", p.cmd.Wait())
	}
	return p.lines.Text()
}

// send writes a line to the script.
func (p *localPreCopy) send(t testing.TB, line string) {
	t.Helper()
	if _, err := io.WriteString(p.in, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

// writer inserts rows of about 20 KB, one transaction (and one process,
// as short-lived app connections) at a time, until stopped; acked says
// how many were acknowledged so far, stop how many in all.
func writer(t *testing.T, db string) (acked func() int, stop func() int) {
	t.Helper()
	var (
		mu   sync.Mutex
		n    int
		quit = make(chan struct{})
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		for i := 1; ; i++ {
			select {
			case <-quit:
				return
			default:
			}
			sql := fmt.Sprintf("PRAGMA busy_timeout=5000; INSERT INTO acked(id, b) VALUES (%d, randomblob(20000));", i)
			if out, err := exec.Command("sqlite3", "-bail", db, sql).CombinedOutput(); err != nil {
				t.Errorf("write %d: %v\n%s", i, err, out)
				return
			}
			mu.Lock()
			n = i
			mu.Unlock()
		}
	}()
	acked = func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
	return acked, func() int {
		close(quit)
		<-done
		return acked()
	}
}

// bigDB makes a WAL-mode database of about mib MiB with an acked table.
func bigDB(t testing.TB, db string, mib int) {
	t.Helper()
	sql := fmt.Sprintf(`PRAGMA journal_mode=WAL;
CREATE TABLE bulk(id INTEGER PRIMARY KEY, b BLOB);
CREATE TABLE acked(id INTEGER PRIMARY KEY, b BLOB);
INSERT INTO bulk(b) SELECT randomblob(4000) FROM generate_series(1, %d);`, mib*1024/4)
	if out, err := exec.Command("sqlite3", "-bail", db, sql).CombinedOutput(); err != nil {
		t.Fatalf("make database: %v\n%s", err, out)
	}
}

// The restore point finished from a copy taken under a writer holds
// exactly the rows acknowledged before the writer stopped, keeps the
// schema_version, and leaves no copy behind.
func TestPrePointIsExactUnderAWriter(t *testing.T) {
	needSQLite3(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	bigDB(t, db, 32)
	app := openWriter(t, db) // the app's own connection, held open
	app("CREATE TABLE during(x);")
	acked, stop := writer(t, db)
	before, err := os.Stat(db)
	if err != nil {
		t.Fatal(err)
	}
	p := startLocalPreCopy(t, db, "v1")
	if got := p.next(t); got != "ready" {
		t.Fatalf("prepoint.sh said %q, want ready", got)
	}
	// Past SQLite's automatic checkpoint (1000 pages): some of what the
	// copy holds is overwritten in the database file before the quiet
	// point.
	for from := acked(); acked() < from+250; {
		time.Sleep(10 * time.Millisecond)
	}
	if after, err := os.Stat(db); err != nil || after.Size() <= before.Size() {
		t.Fatalf("no checkpoint wrote to the database file after the copy (%v)", err)
	}
	waitCount(t, db, "during", 0)
	app("INSERT INTO during VALUES (1);")
	waitCount(t, db, "during", 1)
	n := stop()
	t.Logf("%d writes acknowledged", n)
	p.send(t, "go")
	if got := p.next(t); got != "recorded" {
		t.Fatalf("prepoint.sh said %q at the quiet point, want recorded", got)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("prepoint.sh: %v", err)
	}
	point := filepath.Join(dir, ".ship", "restore-points", "v1", "app.db")
	want := strconv.Itoa(n) + "|" + strconv.Itoa(n)
	if got := sqlite(t, point, "SELECT count(*) || '|' || max(id) FROM acked"); got != want {
		t.Errorf("the restore point has count|max %s in acked, want %s", got, want)
	}
	if got := sqlite(t, point, "SELECT count(*) FROM during"); got != "1" {
		t.Errorf("the restore point has %s rows in during, want 1", got)
	}
	if got := sqlite(t, point, "PRAGMA integrity_check"); got != "ok" {
		t.Errorf("integrity_check of the restore point: %s", got)
	}
	if live, got := sqlite(t, db, "PRAGMA schema_version"), sqlite(t, point, "PRAGMA schema_version"); live != got {
		t.Errorf("the restore point's schema_version is %s, the database's %s", got, live)
	}
	left, _ := os.ReadDir(filepath.Join(dir, ".ship", "pre-point"))
	if len(left) != 0 {
		t.Errorf("left behind in .ship/pre-point: %v", left)
	}
}

// When the WAL restarts after the copy, the script says the database
// must be copied whole, and leaves no restore point and no copy.
func TestPrePointFallsBackWhenTheWALRestarts(t *testing.T) {
	needSQLite3(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	bigDB(t, db, 2)
	app := openWriter(t, db)
	app("INSERT INTO acked(b) VALUES (randomblob(10));")
	waitCount(t, db, "acked", 1)
	// Backfilled in full: a reader then reads the database file alone,
	// and the next write starts the WAL over, with new salts.
	app("PRAGMA wal_checkpoint(RESTART);")
	p := startLocalPreCopy(t, db, "v1")
	if got := p.next(t); got != "ready" {
		t.Fatalf("prepoint.sh said %q, want ready", got)
	}
	app("INSERT INTO acked(b) VALUES (randomblob(10));")
	waitCount(t, db, "acked", 2)
	p.send(t, "go")
	if got, want := p.next(t), "full: the WAL of app.db restarted since the copy"; got != want {
		t.Fatalf("prepoint.sh said %q, want %q", got, want)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("prepoint.sh: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".ship", "restore-points", "v1")); !os.IsNotExist(err) {
		t.Errorf("a restore point was made: %v", err)
	}
	left, _ := os.ReadDir(filepath.Join(dir, ".ship", "pre-point"))
	if len(left) != 0 {
		t.Errorf("left behind in .ship/pre-point: %v", left)
	}
}

// Without WAL there is nothing to bring a copy up to date with.
func TestPrePointNeedsWAL(t *testing.T) {
	needSQLite3(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	sqlite(t, db, "CREATE TABLE t(x); INSERT INTO t VALUES (1);")
	p := startLocalPreCopy(t, db, "v1")
	if got, want := p.next(t), "full: app.db is not in WAL mode"; got != want {
		t.Fatalf("prepoint.sh said %q, want %q", got, want)
	}
}

// A ship that goes away before the quiet point (its input ends) leaves no
// restore point and no copy; the live database is untouched.
func TestPrePointRemovesAnUnfinishedCopy(t *testing.T) {
	needSQLite3(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	bigDB(t, db, 2)
	app := openWriter(t, db)
	app("INSERT INTO acked(b) VALUES (randomblob(10));")
	waitCount(t, db, "acked", 1)
	p := startLocalPreCopy(t, db, "v1")
	if got := p.next(t); got != "ready" {
		t.Fatalf("prepoint.sh said %q, want ready", got)
	}
	if _, err := os.Stat(filepath.Join(dir, ".ship", "pre-point", "app.db", "db")); err != nil {
		t.Fatalf("no copy while waiting: %v", err)
	}
	p.in.Close()
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("prepoint.sh: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".ship", "restore-points")); !os.IsNotExist(err) {
		t.Errorf("restore points were made: %v", err)
	}
	left, _ := os.ReadDir(filepath.Join(dir, ".ship", "pre-point"))
	if len(left) != 0 {
		t.Errorf("left behind in .ship/pre-point: %v", left)
	}
	app("INSERT INTO acked(b) VALUES (randomblob(10));")
	waitCount(t, db, "acked", 2)
}

// Finishing a restore point keeps the newest KEEP (here 3), the one it
// recorded among them, and removes the older ones once it said so.
func TestPrePointKeepsTheNewest(t *testing.T) {
	needSQLite3(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	bigDB(t, db, 1)
	app := openWriter(t, db)
	for i, v := range []string{"v1", "v2", "v3", "v4"} {
		app(fmt.Sprintf("INSERT INTO acked(id, b) VALUES (%d, randomblob(10));", i+1))
		waitCount(t, db, "acked", i+1)
		p := startLocalPreCopy(t, db, v)
		if got := p.next(t); got != "ready" {
			t.Fatalf("%s: prepoint.sh said %q, want ready", v, got)
		}
		p.send(t, "go")
		if got := p.next(t); got != "recorded" {
			t.Fatalf("%s: prepoint.sh said %q, want recorded", v, got)
		}
		if err := p.cmd.Wait(); err != nil {
			t.Fatalf("prepoint.sh: %v", err)
		}
		// Apart in time, as ls -t orders them.
		time.Sleep(20 * time.Millisecond)
	}
	entries, err := os.ReadDir(filepath.Join(dir, ".ship", "restore-points"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if want := []string{"v2", "v3", "v4"}; !slices.Equal(got, want) {
		t.Errorf("restore points %v, want %v", got, want)
	}
	if n := sqlite(t, filepath.Join(dir, ".ship", "restore-points", "v4", "app.db"), "SELECT count(*) FROM acked"); n != "4" {
		t.Errorf("the newest restore point has %s rows, want 4", n)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, ".ship", "pre-point")); len(left) != 0 {
		t.Errorf("left behind in .ship/pre-point: %v", left)
	}
}

// A WAL that restarted keeps its earlier frames past the new ones; the
// quiet point copies only what recovery reads, and misses no frame.
func TestPrePointAfterTheWALRestarted(t *testing.T) {
	needSQLite3(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	bigDB(t, db, 1)
	app := openWriter(t, db)
	app("PRAGMA wal_autocheckpoint = 0;")
	app("INSERT INTO acked(id, b) SELECT value, randomblob(4000) FROM generate_series(1, 2000);")
	waitCount(t, db, "acked", 2000)
	app("PRAGMA wal_checkpoint(RESTART);")
	app("INSERT INTO acked(id, b) VALUES (2001, randomblob(10));")
	waitCount(t, db, "acked", 2001)
	p := startLocalPreCopy(t, db, "v1")
	if got := p.next(t); got != "ready" {
		t.Fatalf("prepoint.sh said %q, want ready", got)
	}
	app("INSERT INTO acked(id, b) SELECT value, randomblob(100) FROM generate_series(2002, 2100);")
	app("DELETE FROM acked WHERE id <= 10;")
	waitCount(t, db, "acked", 2090)
	p.send(t, "go")
	if got := p.next(t); got != "recorded" {
		t.Fatalf("prepoint.sh said %q at the quiet point, want recorded", got)
	}
	point := filepath.Join(dir, ".ship", "restore-points", "v1", "app.db")
	if got := sqlite(t, point, "SELECT count(*) || ' ' || min(id) || ' ' || max(id) FROM acked"); got != "2090 11 2100" {
		t.Errorf("the restore point has %q in acked, want 2090 11 2100", got)
	}
}

// A script killed outright between the copy and the quiet point leaves
// its copy in .ship/pre-point, never among the restore points, and the
// next run removes it.
func TestPrePointAfterAKilledRun(t *testing.T) {
	needSQLite3(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	bigDB(t, db, 1)
	app := openWriter(t, db)
	app("INSERT INTO acked(id, b) VALUES (1, randomblob(10));")
	waitCount(t, db, "acked", 1)
	p := startLocalPreCopy(t, db, "v1")
	if got := p.next(t); got != "ready" {
		t.Fatalf("prepoint.sh said %q, want ready", got)
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
	left := filepath.Join(dir, ".ship", "pre-point", "app.db", "db")
	if _, err := os.Stat(left); err != nil {
		t.Fatalf("the killed run left no copy (%v): the test proves nothing", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".ship", "restore-points")); !os.IsNotExist(err) {
		t.Errorf("restore points after a killed run: %v", err)
	}
	// The app writes on: the killed run's reader is gone with it.
	app("INSERT INTO acked(id, b) VALUES (2, randomblob(10));")
	waitCount(t, db, "acked", 2)

	p = startLocalPreCopy(t, db, "v2")
	if got := p.next(t); got != "ready" {
		t.Fatalf("prepoint.sh said %q, want ready", got)
	}
	p.send(t, "go")
	if got := p.next(t); got != "recorded" {
		t.Fatalf("prepoint.sh said %q at the quiet point, want recorded", got)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, ".ship", "restore-points")); len(entries) != 1 || entries[0].Name() != "v2" {
		t.Errorf("restore points %v, want v2 alone", entries)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, ".ship", "pre-point")); len(left) != 0 {
		t.Errorf("left behind in .ship/pre-point: %v", left)
	}
}
