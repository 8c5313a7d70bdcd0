package testlitestream

import (
	"database/sql"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/internal/testproc/testengine"
)

// The primary's database: accounts whose balances always add up to
// accountTotal, a dense log of writes, and a counter.
const (
	accounts     = 100
	accountTotal = accounts * 1000
	inserts      = 100 // transactions that add a write, move money and count
	updates      = 50  // transactions that only move money and count
)

// followConfig replicates /data/app.db to S3 with the sync interval
// spelled out (it is also 0.5's default).
const followConfig = `dbs:
  - path: /data/app.db
    replica:
      type: s3
      bucket: %[1]s
      path: app.db
      endpoint: %[2]s
      force-path-style: true
      sync-interval: 1s
`

// TestFollowerReaders answers how an app reads a database that Litestream's
// follow mode keeps updating, on a volume the app mounts read-only: a
// primary writes and replicates to S3, `litestream restore -f` follows into
// a second volume, and readers in their own containers open that volume
// read-only in several ways while the primary writes. It guards what
// docs/replicas.md decides: a reader that opens a new connection for each
// read (mode=ro) sees every write and never a torn state; one that keeps
// its page cache goes stale; a follower's first restore is a WAL-mode file
// that no reader on a read-only mount can open until it is made a
// rollback-mode file.
func TestFollowerReaders(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	cli := testengine.DockerClient(t, h1.DockerHost)
	img := readerImage(t, cli, h1.DockerHost)
	s3 := StartS3(t)
	config := filepath.Join(t.TempDir(), "litestream.yml")
	if err := os.WriteFile(config, fmt.Appendf(nil, followConfig, s3.Bucket, s3.Endpoint), 0o644); err != nil {
		t.Fatal(err)
	}
	ls := litestreamContainer{image: Image(t, h1.DockerHost, "0.5.18"), config: config, s3: s3}

	// The primary: created here, written here, replicated by Litestream.
	primaryVol, primaryDir := newVolume(t, cli)
	primary := openDB(t, filepath.Join(primaryDir, "app.db"))
	defer primary.Close()
	primary.SetMaxOpenConns(1)
	setUp(t, primary)
	replicate := ls
	replicate.mounts = []mount.Mount{{Type: mount.TypeVolume, Source: primaryVol, Target: "/data"}}
	replicate.start(t, cli, "replicate")
	waitForObjects(t, filepath.Join(s3.Dir, "app.db"))

	// A follower as upstream documents it: the only writer of its volume.
	plainVol, plainDir := newVolume(t, cli)
	plainDB := filepath.Join(plainDir, "app.db")
	follow(t, cli, ls, plainVol)
	waitFor(t, 30*time.Second, "the follower's first restore", func() bool {
		_, err := os.Stat(plainDB + "-txid")
		return err == nil
	})
	first := describe(t, plainDB)
	t.Logf("the follower's file after its first restore: %s", first)
	if !strings.HasPrefix(first, "write/read version 2/2") {
		t.Errorf("the first restore is no longer a WAL-mode file (%s): readers may open it at once; revisit docs/replicas.md", first)
	}

	// A follower whose first restore is made a rollback-mode file before
	// it follows, resuming from the TXID the restore reached.
	preparedVol, preparedDir := newVolume(t, cli)
	prepare(t, cli, ls, preparedVol, filepath.Join(preparedDir, "app.db"))
	follow(t, cli, ls, preparedVol)

	const ro = "file:/replica/app.db?mode=ro&_pragma=busy_timeout(5000)"
	fresh := startReader(t, cli, img, plainVol, "mode-ro-fresh", ro, "fresh")
	prepared := startReader(t, cli, img, preparedVol, "prepared-mode-ro-fresh", ro, "fresh")
	persistent := startReader(t, cli, img, plainVol, "mode-ro", ro, "persistent")
	immutable := startReader(t, cli, img, plainVol, "immutable", "file:/replica/app.db?immutable=1", "persistent")
	others := []reader{
		startReader(t, cli, img, plainVol, "default", "file:/replica/app.db?_pragma=busy_timeout(5000)", "persistent"),
		startReader(t, cli, img, plainVol, "mode-ro-shrink", ro, "shrink"),
		startReader(t, cli, img, plainVol, "mode-ro-mmap", ro+"&_pragma=mmap_size(268435456)", "persistent"),
		startReader(t, cli, img, plainVol, "mode-ro-cache0", ro+"&_pragma=cache_size(0)", "persistent"),
		startReader(t, cli, img, plainVol, "immutable-fresh", "file:/replica/app.db?immutable=1", "fresh"),
	}
	all := append([]reader{fresh, prepared, persistent, immutable}, others...)
	// Every reader's first read is of the file as restored: nothing is
	// written until each has printed it.
	for _, r := range all {
		waitFor(t, 30*time.Second, "reader "+r.name+"'s first read", func() bool {
			_, ok := r.last(t)
			return ok
		})
	}
	if s := fresh.lines(t)[0]; !strings.Contains(s.Err, "unable to open database file") {
		t.Errorf("a reader on a read-only mount opened the follower's WAL-mode first restore (first read %+v); revisit docs/replicas.md", s)
	}

	wrote := make([]time.Time, inserts+1)
	for n := 1; n <= inserts; n++ {
		write(t, primary, n, true)
		wrote[n] = time.Now()
		time.Sleep(100 * time.Millisecond)
	}
	for n := inserts + 1; n <= inserts+updates; n++ {
		write(t, primary, n, false)
		time.Sleep(100 * time.Millisecond)
	}
	for _, r := range []reader{fresh, prepared} {
		waitFor(t, time.Minute, "reader "+r.name+" seeing every write", func() bool {
			s, _ := r.last(t)
			return s.Err == "" && s.Count == inserts && s.Counter == inserts+updates
		})
	}
	t.Logf("the follower's file at the end: %s", describe(t, plainDB))

	results := map[string]result{}
	for _, r := range all {
		res := summarize(r.lines(t), wrote)
		results[r.name] = res
		t.Logf("reader %s: %s", r.name, res)
	}
	for _, name := range []string{fresh.name, prepared.name} {
		if res := results[name]; res.torn > 0 || res.checks > 0 {
			t.Errorf("reader %s saw %d torn states and %d failed quick_checks", name, res.torn, res.checks)
		}
	}
	if res := results[fresh.name]; len(res.errors) != 1 || !strings.Contains(res.errors[0], "unable to open database file") {
		t.Errorf("reader %s: errors %q, want only the first restore's CANTOPEN", fresh.name, res.errors)
	}
	if res := results[prepared.name]; len(res.errors) != 0 {
		t.Errorf("reader %s of the prepared follower: errors %q, want none", prepared.name, res.errors)
	}
	// Updates that neither grow the file nor change the schema do not
	// touch page 1, so the follower leaves the change counter as it was,
	// and a connection that keeps its page cache keeps old pages.
	if res := results[persistent.name]; res.last.Counter == inserts+updates {
		t.Errorf("reader %s, which keeps its connection, saw every update: the follower now invalidates page caches; revisit docs/replicas.md", persistent.name)
	}
	if res := results[immutable.name]; res.last.Counter != 0 {
		t.Errorf("reader %s saw writes (%+v): immutable=1 no longer means the file is read once", immutable.name, res.last)
	}
}

// follow starts `litestream restore -f` into vol, mounted at /replica.
func follow(t *testing.T, cli *client.Client, ls litestreamContainer, vol string) {
	t.Helper()
	ls.mounts = []mount.Mount{{Type: mount.TypeVolume, Source: vol, Target: "/replica"}}
	ls.start(t, cli, "restore", "-f", "-o", "/replica/app.db", "/data/app.db")
}

// txidJSON is the TXID in restore -json's summary.
var txidJSON = regexp.MustCompile(`"txid": "([0-9a-f]{16})"`)

// prepare restores the replica once into vol, makes the copy (at path on
// this machine) a rollback-mode file as SQLite itself does, and writes the
// TXID it holds where restore -f resumes from (PATH-txid). The primary is
// idle meanwhile, so the TXID the summary names is the one restored.
func prepare(t *testing.T, cli *client.Client, ls litestreamContainer, vol, path string) {
	t.Helper()
	ls.mounts = []mount.Mount{{Type: mount.TypeVolume, Source: vol, Target: "/replica"}}
	code, out := ls.run(t, cli, "restore", "-json", "-o", "/replica/app.db", "/data/app.db")
	m := txidJSON.FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("restore -json exited %d without a TXID:\n%s", code, out)
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode=DELETE").Scan(&mode); err != nil || mode != "delete" {
		t.Fatalf("make %s a rollback-mode file: %q, %v", path, mode, err)
	}
	if err := os.WriteFile(path+"-txid", []byte(m[1]+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("prepared follower file at TXID %s: %s", m[1], describe(t, path))
}

// setUp creates the primary's tables: accounts padded so that they span
// many pages, so a transfer writes two pages a torn apply could split.
func setUp(t *testing.T, db *sql.DB) {
	t.Helper()
	stmts := []string{
		"CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL, pad TEXT NOT NULL)",
		"CREATE TABLE writes (n INTEGER PRIMARY KEY, at INTEGER NOT NULL, pad TEXT NOT NULL)",
		"CREATE TABLE counter (v INTEGER NOT NULL)",
		"INSERT INTO counter (v) VALUES (0)",
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("set up the primary: %s: %v", s, err)
		}
	}
	for id := range accounts {
		if _, err := db.Exec("INSERT INTO accounts (id, balance, pad) VALUES (?, ?, ?)", id, accountTotal/accounts, strings.Repeat("p", 400)); err != nil {
			t.Fatalf("set up the primary: %v", err)
		}
	}
}

// write is the primary's transaction n: it moves money between two
// accounts on different pages, counts, and with insert logs write n.
func write(t *testing.T, db *sql.DB, n int, insert bool) {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatalf("write %d: %v", n, err)
	}
	defer tx.Rollback()
	from, to, amount := (n*7)%accounts, (n*7+accounts/2)%accounts, n%50+1
	stmts := []struct {
		q    string
		args []any
	}{
		{"UPDATE accounts SET balance = balance - ? WHERE id = ?", []any{amount, from}},
		{"UPDATE accounts SET balance = balance + ? WHERE id = ?", []any{amount, to}},
		{"UPDATE counter SET v = v + 1", nil},
	}
	if insert {
		stmts = append(stmts, struct {
			q    string
			args []any
		}{"INSERT INTO writes (n, at, pad) VALUES (?, ?, ?)", []any{n, time.Now().UnixNano(), strings.Repeat("w", 200)}})
	}
	for _, s := range stmts {
		if _, err := tx.Exec(s.q, s.args...); err != nil {
			t.Fatalf("write %d: %s: %v", n, s.q, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("write %d: commit: %v", n, err)
	}
}

// describe is what the follower's file looks like from the host: its
// header's journal mode bytes (1 rollback, 2 WAL), change counter, inode,
// and the files beside it.
func describe(t *testing.T, path string) string {
	t.Helper()
	hdr := make([]byte, 100)
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	if _, err := f.ReadAt(hdr, 0); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return fmt.Sprintf("write/read version %d/%d, change counter %d, pages %d, inode %d, size %d, dir [%s]",
		hdr[18], hdr[19], binary.BigEndian.Uint32(hdr[24:28]), binary.BigEndian.Uint32(hdr[28:32]),
		fi.Sys().(*syscall.Stat_t).Ino, fi.Size(), strings.Join(names, " "))
}

// result is what one reader saw over the test.
type result struct {
	lines   int
	errors  []string // distinct errors, in the order first seen
	torn    int      // reads of a state the primary never had
	checks  int      // failed quick_checks
	lags    []time.Duration
	inserts int // writes of the insert phase seen
	last    seen
}

func (r result) String() string {
	lags := slices.Sorted(slices.Values(r.lags))
	var p50, p99, most time.Duration
	if len(lags) > 0 {
		p50, p99, most = lags[len(lags)/2], lags[(len(lags)*99)/100], lags[len(lags)-1]
	}
	return fmt.Sprintf("%d lines, last count=%d counter=%d journal=%s, torn %d, failed checks %d, inserts seen %d/%d, lag p50 %s p99 %s max %s, errors %q",
		r.lines, r.last.Count, r.last.Counter, r.last.Journal, r.torn, r.checks, r.inserts, inserts,
		p50.Round(time.Millisecond), p99.Round(time.Millisecond), most.Round(time.Millisecond), r.errors)
}

// summarize reads a reader's lines: errors, torn reads, where it ended,
// and, from when each insert committed, how long until it was seen.
func summarize(lines []seen, wrote []time.Time) result {
	r := result{lines: len(lines)}
	next := 1
	for _, s := range lines {
		if s.Err != "" {
			if !slices.Contains(r.errors, s.Err) {
				r.errors = append(r.errors, s.Err)
			}
			continue
		}
		if s.Check != "" && s.Check != "ok" {
			r.checks++
		}
		// Transaction n moved money, counted to n and, up to inserts,
		// logged write n: any other combination never existed.
		if s.Sum != accountTotal || s.Count != s.Max || s.Count != min(s.Counter, inserts) {
			r.torn++
		}
		for ; next < len(wrote) && int64(next) <= s.Max; next++ {
			r.lags = append(r.lags, s.at().Sub(wrote[next]))
		}
		r.last = s
	}
	r.inserts = next - 1
	return r
}

// waitFor polls ok until it holds, failing the test after limit.
func waitFor(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
