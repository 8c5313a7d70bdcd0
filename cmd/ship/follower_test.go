package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/doctor"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/follower"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/internal/testlitestream"
	"github.com/shipdeploy/ship/spec"
	"github.com/shipdeploy/ship/ssh"
	"github.com/shipdeploy/ship/workflow"
)

// replicaHost is h2 as a replica host of a backed-up app: the app's
// config with a replica role on h2, and a connection to h2.
type replicaHost struct {
	cfg  *config.Config
	h    *host.Host
	h2   *testhost.Host
	cli  *client.Client // h2's engine, bypassing ship
	name string         // the follower of /data/app.sqlite3
}

// newReplicaHost loads a's config with a replica role "replicas" on h2
// (added in Go, to a config the writer's commands keep using as it is),
// connects to h2 as ship does, and removes the followers and copies when
// the test ends.
func newReplicaHost(t *testing.T, a *backedUpApp) *replicaHost {
	t.Helper()
	_, h2 := testhost.Hosts(t)
	testlitestream.Image(t, h2.DockerHost, "0.5.18")
	r := &replicaHost{h2: h2, cli: dockerClient(t, h2)}
	cfg := r.load(t, a)
	pool := ssh.NewPool(fleet.SSHConfig(cfg))
	t.Cleanup(func() { pool.Close() })
	ctx := context.Background()
	engine, err := fleet.Engine(ctx, pool.Conn(h2.Addr))
	if err != nil {
		t.Fatal(err)
	}
	r.cfg, r.h, r.name = cfg, &host.Host{Name: h2.Addr, Shell: pool.Conn(h2.Addr), Docker: engine}, spec.FollowerName(cfg, "/data/app.sqlite3")
	t.Cleanup(func() {
		if err := follower.Remove(context.Background(), r.h, cfg); err != nil {
			t.Errorf("remove the followers: %v", err)
		}
		if err := follower.RemoveCopies(context.Background(), r.h, cfg); err != nil {
			t.Errorf("remove the copies: %v", err)
		}
		if left := r.leftovers(t); len(left) > 0 {
			t.Errorf("Remove and RemoveCopies left %v on h2", left)
		}
	})
	return r
}

// load loads a's config with the replica role on h2.
func (r *replicaHost) load(t *testing.T, a *backedUpApp) *config.Config {
	t.Helper()
	cfg, err := config.Load(config.Options{File: filepath.Join(a.dir, config.DefaultFile)})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Roles = append(cfg.Roles, &config.Role{Name: "replicas", Hosts: []config.Host{{Address: r.h2.Addr}}, ReplicaOf: "web"})
	cfg.SSH.KnownHosts = append(cfg.SSH.KnownHosts, r.h2.KnownHostsPath)
	return cfg
}

// leftovers are the service's containers and volumes on h2.
func (r *replicaHost) leftovers(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	cts, err := r.cli.ContainerList(ctx, container.ListOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, ct := range cts {
		if strings.HasPrefix(host.Name(ct), r.cfg.Service+"-") {
			out = append(out, "container "+host.Name(ct))
		}
	}
	vols, err := r.cli.VolumeList(ctx, volume.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vols.Volumes {
		if strings.HasPrefix(v.Name, r.cfg.Service+"-") {
			out = append(out, "volume "+v.Name)
		}
	}
	return out
}

// ensure runs follower.Ensure and returns its progress.
func (r *replicaHost) ensure(t *testing.T) string {
	t.Helper()
	var out bytes.Buffer
	if err := follower.Ensure(context.Background(), r.h, r.cfg, &out); err != nil {
		t.Fatalf("follower.Ensure: %v\n%s", err, out.String())
	}
	return out.String()
}

// status is the one follower's state.
func (r *replicaHost) status(t *testing.T) follower.State {
	t.Helper()
	states, err := follower.Status(context.Background(), r.h, r.cfg)
	if err != nil || len(states) != 1 {
		t.Fatalf("follower.Status: %v, %+v", err, states)
	}
	return states[0]
}

// copyFile is the copy of the app's database on h2, read from this
// machine (h2's engine keeps its volumes on this file system).
func (r *replicaHost) copyFile(t *testing.T) string {
	t.Helper()
	info, err := r.cli.VolumeInspect(context.Background(), spec.ReplicaVolume(r.cfg, r.cfg.Volumes[0]))
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(info.Mountpoint, "app.sqlite3")
}

// rows counts the copy's records the way a replica app opens it: SQLite's
// read-only open (mode=ro), a new connection, a busy timeout (the
// follower holds its lock while it applies a batch).
func (r *replicaHost) rows(t *testing.T) string {
	t.Helper()
	return r.query(t, "SELECT count(*) FROM records")
}

// query runs a query on the copy as rows opens it.
func (r *replicaHost) query(t *testing.T, q string) string {
	t.Helper()
	return readCopy(t, r.copyFile(t), q)
}

// readCopy runs a query on a copy as a replica app opens it.
func readCopy(t *testing.T, file, q string) string {
	t.Helper()
	out, err := exec.Command("sqlite3", "-cmd", ".timeout 5000", "file:"+file+"?mode=ro", q).CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3 on the copy %s %q: %v\n%s", file, q, err, out)
	}
	return strings.TrimSpace(string(out))
}

// waitRows waits until the copy has want records.
func (r *replicaHost) waitRows(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for r.rows(t) != want {
		if time.Now().After(deadline) {
			t.Fatalf("the copy has %s records, not %s, after 30 s; follower: %+v", r.rows(t), want, r.status(t))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitStatus polls the follower's state until ok holds.
func (r *replicaHost) waitStatus(t *testing.T, what string, ok func(follower.State) bool) follower.State {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := r.status(t)
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 30 s: %+v", what, s)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// A follower on a replica host, with real Litestream 0.5.18 and S3: its
// prepared copy opens read-only at once with the writer's rows and gets
// each new write; Status compares positions, so a follower that runs but
// does not advance shows its lag; a stopped follower resumes from its
// copy; Reseed after the writer's data changed wholesale gives the new
// data.
func TestFollower(t *testing.T) {
	a := newBackedUpApp(t, "flw")
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	a.write(t, "first", 30)
	a.waitSynced(t)
	r := newReplicaHost(t, a)

	// A replica with nothing in it: Ensure says what to do, and leaves
	// nothing behind.
	empty := *r
	empty.cfg = r.load(t, a)
	empty.cfg.Litestream.Replica.URL += "-nothing"
	for _, acc := range empty.cfg.Accessories {
		if acc.Name == config.LitestreamAccessory {
			acc.Files[0].Content = empty.cfg.Litestream.Config()
		}
	}
	var failed bytes.Buffer
	err := follower.Ensure(context.Background(), empty.h, empty.cfg, &failed)
	if err == nil || !strings.Contains(err.Error(), "has no backup of /data/app.sqlite3 yet: boot the writer's Litestream") {
		t.Errorf("Ensure from an empty replica: %v\n%s", err, failed.String())
	}
	if left := r.leftovers(t); len(left) > 0 {
		t.Errorf("a failed Ensure left %v on h2", left)
	}

	out := r.ensure(t)
	for _, want := range []string{"created volume flw-replica-flw_data", "restoring /data/app.sqlite3 at TXID ", "flw-follower is following /data/app.sqlite3 from TXID "} {
		if !strings.Contains(out, want) {
			t.Errorf("Ensure's progress lacks %q:\n%s", want, out)
		}
	}
	// At once: no wait for a write that touches page 1.
	if got := r.rows(t); got != "30" {
		t.Errorf("the prepared copy has %s records, want 30", got)
	}
	hdr := make([]byte, 20)
	if f, err := os.Open(r.copyFile(t)); err != nil {
		t.Fatal(err)
	} else {
		f.ReadAt(hdr, 0)
		f.Close()
	}
	if hdr[18] != 1 || hdr[19] != 1 {
		t.Errorf("the copy's header says write/read version %d/%d, want 1/1 (rollback mode)", hdr[18], hdr[19])
	}
	entries, _ := os.ReadDir(filepath.Dir(r.copyFile(t)))
	var files []string
	for _, e := range entries {
		files = append(files, e.Name())
	}
	if !slices.Equal(files, []string{"app.sqlite3", "app.sqlite3-txid"}) {
		t.Errorf("beside the copy: %v, want only the copy and its -txid", files)
	}

	a.write(t, "second", 10)
	r.waitRows(t, "40")
	s := r.waitStatus(t, "the follower caught up", func(s follower.State) bool {
		return s.ReplicaTXID != "" && s.CopyTXID == s.ReplicaTXID
	})
	if s.Phase != follower.Following || s.Behind != 0 || s.LagSeconds != 0 || s.ReplicaTime == nil || s.Error != "" {
		t.Errorf("state of a follower that caught up: %+v", s)
	}
	if again := r.ensure(t); again != "flw-follower is following /data/app.sqlite3\n" {
		t.Errorf("Ensure with the follower running did:\n%s", again)
	}

	// A follower that runs but stops advancing (litestream#1515, made here
	// by stopping its process): Status shows how far behind it is.
	ctx := context.Background()
	if err := r.cli.ContainerKill(ctx, r.name, "SIGSTOP"); err != nil {
		t.Fatal(err)
	}
	stuck := s.CopyTXID
	// S3 keeps whole seconds: every later upload is at or after before,
	// and every earlier one before it.
	time.Sleep(1100 * time.Millisecond)
	before := time.Now().UTC().Truncate(time.Second)
	a.write(t, "third", 5)
	a.waitSynced(t)
	s = r.waitStatus(t, "the replica moved past the stopped follower", func(s follower.State) bool { return s.ReplicaTXID > stuck })
	if s.Phase != follower.Following || s.CopyTXID != stuck || s.Behind == 0 || s.LagSeconds < 1 {
		t.Errorf("state of a follower that does not advance: %+v (its copy is at %s)", s, stuck)
	}
	r.cfg.Litestream.LagWarning = 500 * time.Millisecond
	if c := r.doctor(t); c.State != doctor.Warn || !strings.Contains(c.Message, "behind the replica (lag_warning is 500ms)") {
		t.Errorf("ship doctor's check of a follower that does not advance: %+v", c)
	}
	t.Run("ship db status and doctor", func(t *testing.T) { r.commands(t, a) })
	if err := r.cli.ContainerKill(ctx, r.name, "SIGCONT"); err != nil {
		t.Fatal(err)
	}
	r.waitRows(t, "45")

	// A follower that stopped resumes from its copy, not a new restore.
	if err := r.cli.ContainerStop(ctx, r.name, stopNow()); err != nil {
		t.Fatal(err)
	}
	if s := r.status(t); s.Phase != follower.Stopped || s.Error == "" {
		t.Errorf("state of a stopped follower: %+v", s)
	}
	if c := r.doctor(t); c.State != doctor.Fail || !strings.Contains(c.Message, "flw-follower is stopped") {
		t.Errorf("ship doctor's check of a stopped follower: %+v", c)
	}
	a.write(t, "fourth", 5)
	out = r.ensure(t)
	if !strings.Contains(out, "resuming the copy of /data/app.sqlite3 at TXID") || strings.Contains(out, "restoring") {
		t.Errorf("Ensure of a stopped follower:\n%s", out)
	}
	r.waitRows(t, "50")

	// The writer's data changes wholesale: restored to before "third",
	// then written on. Reseed gives the copy the new data. (Litestream
	// 0.5.18 numbers on after the restore and uploads the restored state
	// whole, so a running follower may get there too; Reseed must, and is
	// the caller's after a restore.)
	a.mustShip(t, "db", "restore", "--yes", "--timestamp", before.Format(time.RFC3339))
	a.write(t, "fifth", 3)
	if got := sqlite(t, a.dbFile(t), "SELECT count(*) FROM records"); got != "43" {
		t.Fatalf("the writer has %s records after its restore to before the third batch, want 43", got)
	}
	var reseed bytes.Buffer
	if err := follower.Reseed(ctx, r.h, r.cfg, &reseed); err != nil {
		t.Fatalf("follower.Reseed: %v\n%s", err, reseed.String())
	}
	for _, want := range []string{"removed flw-follower", "deleted the copy of /data/app.sqlite3", "restoring /data/app.sqlite3 at TXID ", "flw-follower is following"} {
		if !strings.Contains(reseed.String(), want) {
			t.Errorf("Reseed's progress lacks %q:\n%s", want, reseed.String())
		}
	}
	// At once, the restored data: the fifth batch may still be on its way
	// to S3 (db status counts a write only once Litestream has read it).
	if got := r.query(t, "SELECT count(*) FROM records WHERE value LIKE 'third-%' OR value LIKE 'fourth-%'"); got != "0" {
		t.Errorf("after Reseed the copy has %s records the writer no longer has", got)
	}
	r.waitRows(t, "43")
	a.write(t, "sixth", 2)
	r.waitRows(t, "45")
}

// doctor runs ship doctor's checks on h2 as a host of the replica role,
// and returns the follower's.
func (r *replicaHost) doctor(t *testing.T) doctor.Check {
	t.Helper()
	tg := &doctor.Target{Host: r.h, Config: r.cfg, Roles: r.cfg.Roles[len(r.cfg.Roles)-1:], Now: time.Now, MinFree: 1}
	for _, c := range doctor.Host(context.Background(), tg) {
		if c.Name == "follower /data/app.sqlite3" {
			return c
		}
	}
	t.Fatalf("ship doctor has no follower check on a replica host")
	return doctor.Check{}
}

// commands runs ship db status and ship doctor with the replica role in
// a config file of its own, while the follower lags.
func (r *replicaHost) commands(t *testing.T, a *backedUpApp) {
	b, err := os.ReadFile(filepath.Join(a.dir, config.DefaultFile))
	if err != nil {
		t.Fatal(err)
	}
	// Reads reach replicas through the writer's kamal-proxy: web is
	// behind it in this config (nothing here deploys through it).
	text := strings.Replace(string(b), "\nvolumes:\n", "\n    proxy: true\n  replicas:\n    hosts:\n      - "+r.h2.Addr+"\n    replica_of: web\nvolumes:\n", 1)
	text = strings.Replace(text, "  known_hosts:\n", "  known_hosts:\n    - "+r.h2.KnownHostsPath+"\n", 1)
	text = strings.Replace(text, "  sync_interval: 500ms\n", "  sync_interval: 500ms\n  lag_warning: 500ms\n", 1)
	file := filepath.Join(a.dir, "config", "replicas.yml")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := a.ship(t, "-c", file, "db", "status", "--json")
	var doc struct {
		Followers []struct {
			Host      string `json:"host"`
			Followers []struct {
				Database string   `json:"database"`
				Follower string   `json:"follower"`
				State    string   `json:"state"`
				CopyTXID string   `json:"copy_txid"`
				Replica  string   `json:"replica_txid"`
				Behind   uint64   `json:"behind_txids"`
				Lag      float64  `json:"lag_seconds"`
				Warnings []string `json:"warnings"`
			} `json:"followers"`
		} `json:"followers"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 0 || len(doc.Followers) != 1 || len(doc.Followers[0].Followers) != 1 {
		t.Fatalf("ship db status --json: exit %d, %v\n%s%s", code, err, out, errOut)
	}
	f := doc.Followers[0].Followers[0]
	if doc.Followers[0].Host != r.h2.Addr || f.Database != "/data/app.sqlite3" || f.Follower != "flw-follower" || f.State != "following" ||
		f.Behind == 0 || f.Lag < 1 || f.CopyTXID >= f.Replica || len(f.Warnings) != 1 {
		t.Errorf("ship db status --json of a lagging follower: %+v", doc.Followers)
	}
	human := a.mustShip(t, "-c", file, "db", "status")
	if !strings.Contains(human, "followers on "+r.h2.Addr) || !strings.Contains(human, "WARNING: the copy is") {
		t.Errorf("ship db status of a lagging follower:\n%s", human)
	}
	out, errOut, _ = a.ship(t, "-c", file, "doctor", "--json", "-h", r.h2.Addr)
	var dd doctorDocument
	if err := json.Unmarshal([]byte(out), &dd); err != nil || len(dd.Hosts) != 1 {
		t.Fatalf("ship doctor --json on the replica host: %v\n%s%s", err, out, errOut)
	}
	if state, message, _ := dd.check(t, "follower /data/app.sqlite3"); state != "warn" || !strings.Contains(message, "behind the replica (lag_warning is 500ms)") {
		t.Errorf("ship doctor's check of a lagging follower: %s: %s", state, message)
	}
}

// stopNow is a stop that does not wait for the container.
func stopNow() container.StopOptions {
	zero := 0
	return container.StopOptions{Timeout: &zero}
}

// db status prints each follower's state and position, and its warnings.
func TestPrintFollowers(t *testing.T) {
	var b bytes.Buffer
	printFollowers(&b, workflow.FollowerHost{Host: "10.0.0.2", Followers: []follower.State{
		{Database: "/data/app.db", Follower: "shop-follower-app", Phase: follower.Following, CopyTXID: "0000000000000040", ReplicaTXID: "0000000000000042", Behind: 2, LagSeconds: 3.2},
		{Database: "/data/queue.db", Follower: "shop-follower-queue", Phase: follower.Stopped, CopyTXID: "0000000000000007", Error: "shop-follower-queue is stopped", Warnings: []string{"shop-follower-queue is stopped: the copy of /data/queue.db is not kept up to date"}},
	}})
	want := `followers on 10.0.0.2
  /data/app.db    shop-follower-app, following
    position      copy 0000000000000040, replica 0000000000000042, 2 behind, lag 3s
  /data/queue.db  shop-follower-queue, stopped
    position      copy 0000000000000007, replica -
  WARNING: shop-follower-queue is stopped: the copy of /data/queue.db is not kept up to date
`
	if b.String() != want {
		t.Errorf("printFollowers:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	printFollowers(&b, workflow.FollowerHost{Host: "10.0.0.3", Error: "dial tcp 10.0.0.3:22: connection refused"})
	if b.String() != "followers on 10.0.0.3\n  WARNING: cannot read them: dial tcp 10.0.0.3:22: connection refused\n" {
		t.Errorf("printFollowers of a host that cannot be read:\n%s", b.String())
	}
}

// Two databases on one app volume: one follower each, sharing one copy
// volume, each the other's allowed fellow writer.
func TestFollowerTwoDatabases(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	a := deployedApp(t, "flw2", h1)
	s3 := testlitestream.StartS3(t)
	testlitestream.Image(t, h1.DockerHost, "0.5.18")
	appendConfig(t, a, fmt.Sprintf(`litestream:
  databases: [/data/app.sqlite3, /data/other.sqlite3]
  replica:
    url: s3://%s/flw2
    endpoint: %s
    force_path_style: true
    access_key_id: S3_KEY
    secret_access_key: S3_SECRET
  sync_interval: 500ms
`, s3.Bucket, s3.Endpoint), fmt.Sprintf("S3_KEY=%s\nS3_SECRET=%s\n", s3.AccessKey, s3.SecretKey))
	t.Cleanup(func() { a.ship(t, "accessory", "remove", "all") })
	b := &backedUpApp{app: a, s3: s3, h1: h1}
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	other := filepath.Join(filepath.Dir(b.dbFile(t)), "other.sqlite3")
	if out, err := exec.Command("sqlite3", other, "PRAGMA journal_mode=WAL; CREATE TABLE notes (n TEXT); INSERT INTO notes VALUES ('kept');").CombinedOutput(); err != nil {
		t.Fatalf("sqlite3: %v\n%s", err, out)
	}
	a.mustShip(t, "accessory", "reboot", "litestream")
	b.write(t, "first", 7)
	deadline := time.Now().Add(30 * time.Second)
	for _, db := range []string{"app.sqlite3", "other.sqlite3"} {
		for {
			if files, _ := filepath.Glob(filepath.Join(s3.Dir, "flw2", db, "0000", "*.ltx")); len(files) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("Litestream uploaded nothing of %s in 30 s", db)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	r := newReplicaHost(t, b)
	out := r.ensure(t)
	for _, want := range []string{"flw2-follower-app is following /data/app.sqlite3 from TXID", "flw2-follower-other is following /data/other.sqlite3 from TXID"} {
		if !strings.Contains(out, want) {
			t.Errorf("Ensure's progress lacks %q:\n%s", want, out)
		}
	}
	r.waitRows(t, "7")
	otherCopy := filepath.Join(filepath.Dir(r.copyFile(t)), "other.sqlite3")
	if got := readCopy(t, otherCopy, "SELECT n FROM notes"); got != "kept" {
		t.Errorf("the copy of other.sqlite3 reads %q", got)
	}
	states, err := follower.Status(context.Background(), r.h, r.cfg)
	if err != nil || len(states) != 2 || states[0].Phase != follower.Following || states[1].Phase != follower.Following {
		t.Errorf("Status of two followers: %v, %+v", err, states)
	}
}
