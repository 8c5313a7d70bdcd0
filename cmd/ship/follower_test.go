package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/follower"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/internal/testlitestream"
	"github.com/shipdeploy/ship/spec"
	"github.com/shipdeploy/ship/ssh"
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
// (set in Go: the config helper decodes replica_of), connects to h2 as
// ship does, and removes the followers and copies when the test ends.
func newReplicaHost(t *testing.T, a *backedUpApp) *replicaHost {
	t.Helper()
	_, h2 := testhost.Hosts(t)
	testlitestream.Image(t, h2.DockerHost, "0.5.18")
	cfg, err := config.Load(config.Options{File: filepath.Join(a.dir, config.DefaultFile)})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Roles = append(cfg.Roles, &config.Role{Name: "replicas", Hosts: []config.Host{{Address: h2.Addr}}, ReplicaOf: "web"})
	cfg.SSH.KnownHosts = append(cfg.SSH.KnownHosts, h2.KnownHostsPath)
	pool := ssh.NewPool(fleet.SSHConfig(cfg))
	t.Cleanup(func() { pool.Close() })
	ctx := context.Background()
	engine, err := fleet.Engine(ctx, pool.Conn(h2.Addr))
	if err != nil {
		t.Fatal(err)
	}
	r := &replicaHost{cfg: cfg, h: &host.Host{Name: h2.Addr, Shell: pool.Conn(h2.Addr), Docker: engine}, h2: h2,
		cli: dockerClient(t, h2), name: spec.FollowerName(cfg, "/data/app.sqlite3")}
	t.Cleanup(func() {
		if err := follower.Remove(context.Background(), r.h, cfg); err != nil {
			t.Errorf("remove the followers: %v", err)
		}
		if err := follower.RemoveCopies(context.Background(), r.h, cfg); err != nil {
			t.Errorf("remove the copies: %v", err)
		}
	})
	return r
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
// read-only open (mode=ro), a new connection.
func (r *replicaHost) rows(t *testing.T) string {
	t.Helper()
	return sqlite(t, "file:"+r.copyFile(t)+"?mode=ro", "SELECT count(*) FROM records")
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
	a.write(t, "fourth", 5)
	out = r.ensure(t)
	if !strings.Contains(out, "resuming the copy of /data/app.sqlite3 at TXID") || strings.Contains(out, "restoring") {
		t.Errorf("Ensure of a stopped follower:\n%s", out)
	}
	r.waitRows(t, "50")

	// The writer's data changes wholesale: restored to before "third",
	// then written on. Reseed gives the copy the new data.
	a.mustShip(t, "db", "restore", "--yes", "--timestamp", before.Format(time.RFC3339))
	a.write(t, "fifth", 3)
	a.waitSynced(t)
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
	if got := r.rows(t); got != "43" {
		t.Errorf("after Reseed the copy has %s records, want the writer's 43", got)
	}
	if got := sqlite(t, "file:"+r.copyFile(t)+"?mode=ro", "SELECT count(*) FROM records WHERE value LIKE 'third-%' OR value LIKE 'fourth-%'"); got != "0" {
		t.Errorf("after Reseed the copy still has %s records the writer no longer has", got)
	}
	a.write(t, "sixth", 2)
	r.waitRows(t, "45")
}

// stopNow is a stop that does not wait for the container.
func stopNow() container.StopOptions {
	zero := 0
	return container.StopOptions{Timeout: &zero}
}
