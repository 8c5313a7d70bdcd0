package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/shipdeploy/ship/internal/testapp"
	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/internal/testlitestream"
)

// backedUpApp is a deployed app whose database the litestream section
// replicates to a real S3 server with Litestream 0.5.18.
type backedUpApp struct {
	*app
	s3 *testlitestream.S3
	h1 *testhost.Host
}

func newBackedUpApp(t *testing.T, service string) *backedUpApp {
	t.Helper()
	h1, _ := testhost.Hosts(t)
	return backUp(t, deployedApp(t, service, h1))
}

// backUp gives a the litestream section, replicating /data/app.sqlite3
// to a fresh S3 server under its service's name, with Litestream 0.5.18's
// image on h1's engine; its accessories are removed when the test ends.
func backUp(t *testing.T, a *app) *backedUpApp {
	t.Helper()
	h1, _ := testhost.Hosts(t)
	s3 := testlitestream.StartS3(t)
	testlitestream.Image(t, h1.DockerHost, "0.5.18")
	appendConfig(t, a, fmt.Sprintf(`litestream:
  databases: [/data/app.sqlite3]
  replica:
    url: s3://%s/%s
    endpoint: %s
    force_path_style: true
    access_key_id: S3_KEY
    secret_access_key: S3_SECRET
  sync_interval: 500ms
`, s3.Bucket, a.service, s3.Endpoint), fmt.Sprintf("S3_KEY=%s\nS3_SECRET=%s\n", s3.AccessKey, s3.SecretKey))
	t.Cleanup(func() { a.ship(t, "accessory", "remove", "all") })
	return &backedUpApp{app: a, s3: s3, h1: h1}
}

func appendConfig(t *testing.T, a *app, config, secrets string) {
	t.Helper()
	for file, add := range map[string]string{"config/deploy.yml": config, ".ship/secrets": secrets} {
		f, err := os.OpenFile(filepath.Join(a.dir, file), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(add)
		f.Close()
	}
}

// dbFile is where the app's database is on h1 (this machine).
func (a *backedUpApp) dbFile(t *testing.T) string {
	t.Helper()
	info, err := dockerClient(t, a.h1).VolumeInspect(context.Background(), strings.ReplaceAll(a.service, "-", "_")+"_data")
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(info.Mountpoint, "app.sqlite3")
}

// write posts n records with values prefix-1 ... prefix-n.
func (a *backedUpApp) write(t *testing.T, prefix string, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		resp, err := http.PostForm(a.url()+"/records", url.Values{"value": {fmt.Sprintf("%s-%d", prefix, i)}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("write %s-%d: %s %s", prefix, i, resp.Status, b)
		}
	}
}

// sqlite runs a query with the sqlite3 shell, read-only, and returns its
// output.
func sqlite(t *testing.T, file, query string) string {
	t.Helper()
	out, err := exec.Command("sqlite3", "-readonly", file, query).CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3 %s %q: %v\n%s", file, query, err, out)
	}
	return strings.TrimSpace(string(out))
}

type dbStatusDoc struct {
	Host      string `json:"host"`
	Databases []struct {
		Database    string `json:"database"`
		Exists      bool   `json:"exists"`
		Size        int64  `json:"size"`
		WALSize     int64  `json:"wal_size"`
		PageSize    int    `json:"page_size"`
		PageCount   int64  `json:"page_count"`
		JournalMode string `json:"journal_mode"`
		Replication struct {
			Running     bool    `json:"running"`
			State       string  `json:"state"`
			LastSync    string  `json:"last_sync"`
			LocalTXID   string  `json:"local_txid"`
			ReplicaTXID string  `json:"replica_txid"`
			LagSeconds  float64 `json:"lag_seconds"`
		} `json:"replication"`
		Warnings []string `json:"warnings"`
	} `json:"databases"`
}

func (a *backedUpApp) status(t *testing.T) dbStatusDoc {
	t.Helper()
	var doc dbStatusDoc
	out := a.mustShip(t, "db", "status", "--json")
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Databases) != 1 {
		t.Fatalf("db status --json: %v\n%s", err, out)
	}
	return doc
}

// waitSynced waits until db status says the replica has every local
// transaction.
func (a *backedUpApp) waitSynced(t *testing.T) dbStatusDoc {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		doc := a.status(t)
		r := doc.Databases[0].Replication
		if r.State == "replicating" && r.LocalTXID != "" && r.LocalTXID == r.ReplicaTXID {
			return doc
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica did not catch up in 30 s: %+v", doc)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// The litestream section end to end: setup boots Litestream beside the
// app; status, the restore drill and a restore work against real S3; a
// damaged or missing replica fails the drill; and through reboots and
// deploys two Litestream processes never run on the volume.
func TestLitestreamSection(t *testing.T) {
	t.Parallel() // its own service on h1, no kamal-proxy: see helpers_test.go
	a := newBackedUpApp(t, "lite")
	a.apart = true
	litestreams := testapp.Watch(t, a.h1.DockerHost, "lite-litestream")
	out := a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	if !strings.Contains(out, "lite-litestream is running") {
		t.Fatalf("setup did not boot Litestream:\n%s", out)
	}
	a.write(t, "first", 40)

	doc := a.waitSynced(t)
	st := doc.Databases[0]
	if !st.Exists || st.JournalMode != "wal" || st.PageSize != 4096 || st.PageCount < 1 || len(st.Warnings) != 0 {
		t.Errorf("db status of a healthy database: %+v", st)
	}
	if human := a.mustShip(t, "db", "status"); !strings.Contains(strings.Join(strings.Fields(human), " "), "journal mode wal") || strings.Contains(human, "WARNING") {
		t.Errorf("db status:\n%s", human)
	}

	out = a.mustShip(t, "db", "verify")
	if !strings.Contains(out, "ok    /data/app.sqlite3: restored, intact, row counts match (1 tables)") {
		t.Errorf("db verify:\n%s", out)
	}
	// Its own: the drills of TestDBDrillSchedule, beside it, verify too.
	if leftovers, _ := filepath.Glob("/var/tmp/ship-verify-lite-*"); len(leftovers) > 0 {
		t.Errorf("db verify left its copies behind: %v", leftovers)
	}

	// Five reboots of the replicator and five deploys, interleaved.
	for i := range 5 {
		a.mustShip(t, "accessory", "reboot", "litestream")
		a.mustShip(t, "deploy", "--skip-build", "--version", []string{"v2", "v1"}[i%2])
	}
	if n := litestreams.MaxRunning(); n != 1 {
		t.Errorf("%d Litestream containers ran at once on the volume:\n%v", n, litestreams.Events())
	}
	if starts := countEvents(litestreams.Events(), "start"); starts < 5 {
		t.Errorf("Litestream started %d times through 5 reboots:\n%v", starts, litestreams.Events())
	}

	// Delete the live database; db restore brings back every row. A
	// passing drill is what says the replica holds every row: Litestream's
	// position catches up with the WAL only at its next look.
	a.write(t, "second", 20)
	a.waitSynced(t)
	a.mustShip(t, "db", "verify")
	want := sqlite(t, a.dbFile(t), "SELECT count(*) FROM records")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(a.dbFile(t) + suffix)
	}
	_, errOut, code := a.ship(t, "db", "restore")
	if code == 0 || !strings.Contains(errOut, "pass --yes") {
		t.Errorf("db restore without a terminal or --yes: exit %d %s", code, errOut)
	}
	out = a.mustShip(t, "db", "restore", "--yes")
	if got := sqlite(t, a.dbFile(t), "SELECT count(*) FROM records"); got != want || want != "60" {
		t.Errorf("after db restore the database has %s records, want %s (60)\n%s", got, want, out)
	}
	if !strings.Contains(out, "integrity ok") || !strings.Contains(out, "lite-web-v2 is healthy") {
		t.Errorf("db restore:\n%s", out)
	}
	if v := a.version(t); v != "v2" {
		t.Errorf("after db restore the app says %q", v)
	}
	if n := litestreams.MaxRunning(); n != 1 {
		t.Errorf("%d Litestream containers ran at once during the restore:\n%v", n, litestreams.Events())
	}
	a.write(t, "after-restore", 5)
	a.waitSynced(t)
	a.mustShip(t, "db", "verify")

	// A damaged replica fails the drill, and says so.
	objects := filepath.Join(a.s3.Dir, "lite")
	damage(t, objects)
	_, errOut, code = a.ship(t, "db", "verify")
	if code != exitFailed || !strings.Contains(errOut, "failed the restore drill") {
		t.Errorf("db verify of a damaged replica: exit %d\n%s", code, errOut)
	}
	// So does a missing one.
	if err := os.RemoveAll(objects); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = a.ship(t, "db", "verify")
	if code != exitFailed || !strings.Contains(out, "has no backup of /data/app.sqlite3") {
		t.Errorf("db verify of a missing replica: exit %d\n%s%s", code, out, errOut)
	}
}

// damage overwrites the middle of every file Litestream uploaded.
func damage(t *testing.T, dir string) {
	t.Helper()
	n := 0
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || !info.Mode().IsRegular() || info.Size() < 64 {
			return err
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		f.WriteAt([]byte(strings.Repeat("\xff", 32)), info.Size()/2)
		n++
		return nil
	})
	if n == 0 {
		t.Fatalf("no replica files under %s to damage", dir)
	}
}

func countEvents(events []testapp.Event, action string) int {
	n := 0
	for _, e := range events {
		if e.Action == action {
			n++
		}
	}
	return n
}

// A read transaction held open stops checkpoints: the WAL outgrows the
// database, and db status says so.
func TestDBStatusWarnsOfStuckCheckpoint(t *testing.T) {
	a := newBackedUpApp(t, "stuck")
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	a.write(t, "before", 5)

	reader := exec.Command("sqlite3", a.dbFile(t))
	stdin, err := reader.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := reader.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); reader.Wait() })
	fmt.Fprintln(stdin, "BEGIN; SELECT count(*) FROM records;")

	// Past SQLite's automatic checkpoint at 1000 pages (4 MB).
	a.write(t, strings.Repeat("x", 6000), 1000)
	doc := a.status(t)
	st := doc.Databases[0]
	if st.WALSize <= st.Size {
		t.Fatalf("the WAL (%d) did not outgrow the database (%d) with a reader holding it", st.WALSize, st.Size)
	}
	if !strings.Contains(strings.Join(st.Warnings, "\n"), "checkpoints are not completing") {
		t.Errorf("db status does not warn of the stuck checkpoint: %v", st.Warnings)
	}
	if out := a.mustShip(t, "db", "status"); !strings.Contains(out, "WARNING: the WAL") {
		t.Errorf("db status:\n%s", out)
	}
}

// A deploy whose migration dropped a column: rollback --restore-data puts
// the code and the data back as they were before that deploy, and keeps
// the writes made since beside the database.
func TestRollbackRestoreData(t *testing.T) {
	a := newBackedUpApp(t, "undo")
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	a.write(t, "v1-row", 30)

	out := a.mustShip(t, "deploy", "--skip-build", "--version", "v2")
	if !strings.Contains(out, "recorded the restore point of v1") {
		t.Errorf("the deploy recorded no restore point:\n%s", out)
	}
	a.write(t, "v2-row", 7)
	a.mustShip(t, "app", "exec", "/app", "migrate", "ALTER TABLE records DROP COLUMN value")
	if cols := sqlite(t, a.dbFile(t), "SELECT group_concat(name) FROM pragma_table_info('records')"); strings.Contains(cols, "value") {
		t.Fatalf("the migration did not drop the column: %s", cols)
	}

	if _, errOut, code := a.ship(t, "rollback", "v0", "--restore-data", "--yes"); code == 0 || !strings.Contains(errOut, "no restore point of v0") {
		t.Errorf("rollback to a version without a restore point: exit %d %s", code, errOut)
	}
	_, errOut, code := a.ship(t, "rollback", "v1", "--restore-data")
	if code == 0 || !strings.Contains(errOut, "WARNING") || !strings.Contains(errOut, "pass --yes") {
		t.Errorf("rollback --restore-data without confirmation: exit %d %s", code, errOut)
	}
	out = a.mustShip(t, "rollback", "v1", "--restore-data", "--yes")
	if v := a.version(t); v != "v1" {
		t.Fatalf("after the rollback the app says %q\n%s", v, out)
	}
	db := a.dbFile(t)
	if got := sqlite(t, db, "SELECT count(*), min(value), max(value) FROM records"); got != "30|v1-row-1|v1-row-9" {
		t.Errorf("after rollback --restore-data: %s, want the 30 rows of v1 with their values\n%s", got, out)
	}
	if !strings.Contains(out, "WARNING: the writes made to /data/app.sqlite3 since then are set aside in") {
		t.Errorf("the rollback does not say where the later writes are:\n%s", out)
	}
	asides, _ := filepath.Glob(db + ".set-aside-*")
	if len(asides) != 1 {
		t.Fatalf("set-aside directories: %v", asides)
	}
	if got := sqlite(t, filepath.Join(asides[0], "app.sqlite3"), "SELECT count(*) FROM records"); got != "37" {
		t.Errorf("the set-aside database has %s rows, want all 37", got)
	}
	// The app writes again, and the replica follows the data put back.
	a.write(t, "after", 3)
	a.waitSynced(t)
	if out := a.mustShip(t, "db", "verify"); !strings.Contains(out, "row counts match") {
		t.Errorf("db verify after rollback --restore-data:\n%s", out)
	}
	if n, _ := strconv.Atoi(sqlite(t, db, "SELECT count(*) FROM records")); n != 33 {
		t.Errorf("%d rows after writing 3 more, want 33", n)
	}
}

// A new server: the host lost its containers and the database volume.
// ship setup restores the database from the replica before Litestream or
// the app start, so the app comes back with its data.
func TestSetupRestoresDataOnNewServer(t *testing.T) {
	a := newBackedUpApp(t, "phoenix")
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	a.write(t, "kept", 12)
	a.waitSynced(t)
	a.mustShip(t, "db", "verify")

	cli := dockerClient(t, a.h1)
	ctx := context.Background()
	list, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("name", "phoenix-"))})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		if err := cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := cli.VolumeRemove(ctx, "phoenix_data", true); err != nil {
		t.Fatal(err)
	}

	out := a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	if !strings.Contains(out, "/data/app.sqlite3: restored from the replica, integrity ok") {
		t.Errorf("setup on the new server:\n%s", out)
	}
	if got := sqlite(t, a.dbFile(t), "SELECT count(*) FROM records"); got != "12" {
		t.Errorf("the new server's database has %s records, want 12", got)
	}
	if v := a.version(t); v != "v1" {
		t.Errorf("the app says %q", v)
	}
}

// A file:// replica on the host, and a point-in-time restore: db restore
// --timestamp brings back the data as it was then, not the latest.
func TestDBRestoreTimestampFileReplica(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	testlitestream.Image(t, h1.DockerHost, "0.5.18")
	a := &backedUpApp{app: deployedApp(t, "pitr", h1), h1: h1}
	replica := filepath.Join(t.TempDir(), "replica")
	appendConfig(t, a.app, `litestream:
  databases: [/data/app.sqlite3]
  replica:
    url: file://`+replica+`
  sync_interval: 200ms
`, "")
	t.Cleanup(func() { a.ship(t, "accessory", "remove", "all") })
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")

	a.write(t, "then", 10)
	a.waitSynced(t)
	a.mustShip(t, "db", "verify")
	// Litestream dates its files to the second: a whole second after the
	// last of them, and a whole second before the next.
	then := time.Now().Add(time.Second).Truncate(time.Second)
	time.Sleep(time.Until(then.Add(1100 * time.Millisecond)))
	a.write(t, "later", 5)
	a.waitSynced(t)
	a.mustShip(t, "db", "verify")
	if entries, _ := os.ReadDir(filepath.Join(replica, "app.sqlite3")); len(entries) == 0 {
		t.Fatalf("nothing replicated under %s", replica)
	}

	out := a.mustShip(t, "db", "restore", "--yes", "--timestamp", then.UTC().Format(time.RFC3339))
	if got := sqlite(t, a.dbFile(t), "SELECT count(*), max(value) FROM records"); got != "10|then-9" {
		t.Errorf("after restoring to %s: %s, want the 10 rows written before\n%s", then.Format(time.RFC3339), got, out)
	}
	if _, errOut, code := a.ship(t, "db", "restore", "--yes", "--timestamp", "yesterday"); code != exitUsage || !strings.Contains(errOut, "RFC 3339") {
		t.Errorf("a bad --timestamp: exit %d %s", code, errOut)
	}
}

// A ship killed while db restore has the databases half replaced: the
// next ship command on the host puts each back exactly as the restore
// found it, removes the restore the killed ship left running, starts the
// app again, and leaves nothing behind. The live database holds writes the
// replica lacks, so a repair that kept the restored copy would lose them.
func TestKilledRestoreIsPutBack(t *testing.T) {
	a := newBackedUpApp(t, "killrest")
	shipBinary(t)
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	a.write(t, "synced", 30)
	a.waitSynced(t)
	a.mustShip(t, "accessory", "stop", "litestream")
	a.write(t, "live-only", 7)
	want := sqlite(t, a.dbFile(t), "SELECT count(*) FROM records")

	a.killAt(t, "restoring /data/app.sqlite3 from", "db", "restore", "--yes")
	if out, _, code := a.ship(t, "doctor"); code != exitFailed || !strings.Contains(out, "fail  data operations: a ship was killed while it replaced the databases (before-restore-") {
		t.Errorf("ship doctor after the kill: exit %d\n%s", code, out)
	}

	out := a.mustShip(t, "deploy", "--skip-build", "--version", "v2")
	if !strings.Contains(out, "repair: a ship was stopped while it replaced the databases") || !strings.Contains(out, "put the databases back as they were") {
		t.Errorf("the next command did not say it put the databases back:\n%s", out)
	}
	if got := sqlite(t, a.dbFile(t), "SELECT count(*) FROM records"); got != want {
		t.Errorf("after the repair the database has %s records, want %s (the live ones)\n%s", got, want, out)
	}
	if got := sqlite(t, a.dbFile(t), "PRAGMA integrity_check"); got != "ok" {
		t.Errorf("integrity_check after the repair: %s", got)
	}
	if left, _ := filepath.Glob(a.dbFile(t) + ".before-restore-*"); len(left) > 0 {
		t.Errorf("the repair left %v behind", left)
	}
	list, err := dockerClient(t, a.h1).ContainerList(context.Background(), container.ListOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		if strings.Contains(c.Names[0], "killrest-litestream-restore-") {
			t.Errorf("the killed ship's restore %s is still there (%s)", c.Names[0], c.State)
		}
	}
	if v := a.version(t); v != "v2" {
		t.Errorf("after the repair and the deploy the app says %q", v)
	}
	a.write(t, "after", 3)
}

// killAt runs ship with args and kills it (SIGKILL) as soon as a line of
// its stdout contains line. It fails the test if ship ends before that.
// Call shipBinary first.
func (a *app) killAt(t *testing.T, line string, args ...string) {
	t.Helper()
	victim := a.proc(t, nil, args...)
	stdout, err := victim.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { victim.Process.Kill(); victim.Wait() })
	sc := bufio.NewScanner(stdout)
	var seen strings.Builder
	for sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), line) {
			victim.Process.Kill()
			victim.Wait()
			return
		}
	}
	victim.Wait()
	t.Fatalf("ship %s ended before it printed %q:\n%s", strings.Join(args, " "), line, seen.String())
}
