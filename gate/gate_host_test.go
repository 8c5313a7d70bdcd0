package gate

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/internal/testapp"
	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/internal/testproc/testengine"
	"github.com/shipdeploy/ship/ssh"
	"github.com/shipdeploy/ship/volumes"
)

// hostName is h1 as the test's config names it.
const hostName = "10.99.0.1"

// connect is a test host as ship reaches it: SSH, and its engine over it.
func connect(t *testing.T, th *testhost.Host) *host.Host {
	t.Helper()
	pool := ssh.NewPool(ssh.Config{User: th.User, Keys: []string{th.KeyPath}, KeysOnly: true, KnownHosts: []string{th.KnownHostsPath}})
	t.Cleanup(func() { pool.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cli, err := fleet.Engine(ctx, pool.Conn(th.Addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return &host.Host{Name: hostName, Shell: pool.Conn(th.Addr), Docker: cli}
}

// h1 is the test host h1 as ship reaches it: SSH, and its engine over it.
// The gate runs there: h1's engine is this machine's, whose root the
// gate's chroot enters (h2's engine shares this machine's root too, but
// not its Docker socket).
func h1(t *testing.T) (*host.Host, *client.Client, string) {
	t.Helper()
	th, _ := testhost.Hosts(t)
	return connect(t, th), testengine.DockerClient(t, th.DockerHost), th.DockerHost
}

// standIns plays a replica host of the service gatetest without the rest
// of issue 19: followers and app containers of the example app, labelled
// as ship labels them.
type standIns struct {
	t    *testing.T
	cli  *client.Client
	home string
}

func (s standIns) start(name string, labels map[string]string) {
	s.t.Helper()
	testengine.StartContainer(s.t, s.cli, name,
		&container.Config{Image: "ship-it-gatetest:v1", Labels: labels},
		&container.HostConfig{Tmpfs: map[string]string{"/data": ""}})
}

func (s standIns) running(name string) bool {
	s.t.Helper()
	info, err := s.cli.ContainerInspect(context.Background(), name)
	if err != nil {
		s.t.Fatal(err)
	}
	return info.State.Running
}

// waitFor polls until ok, or fails the test after a generous deadline;
// it returns how long it took.
func (s standIns) waitFor(what string, ok func() bool) time.Duration {
	s.t.Helper()
	began := time.Now()
	for !ok() {
		if time.Since(began) > time.Minute {
			s.t.Fatalf("%s: not within a minute; the gate's log:\n%s\nits output:\n%s", what, s.log(),
				testengine.ContainerLogs(context.Background(), s.cli, "gatetest-replica-gate"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(began)
}

// entriesAfter waits for the log to have n entries, and returns them.
func (s standIns) entriesAfter(n int) []Entry {
	s.t.Helper()
	s.waitFor("the gate's log", func() bool { return len(s.entries()) >= n })
	return s.entries()
}

func (s standIns) log() string {
	b, _ := os.ReadFile(filepath.Join(s.home, ".ship", "apps", "gatetest", "gate.jsonl"))
	return string(b)
}

func (s standIns) entries() []Entry {
	var out []Entry
	for _, line := range strings.Split(strings.TrimSpace(s.log()), "\n") {
		if e := lastEntry(line); e != nil {
			out = append(out, *e)
		}
	}
	return out
}

// The gate on a real host: a killed follower takes the replica roles'
// running containers out and its restart puts them back, touching nothing
// else; stopped, it does nothing; Repair starts it again.
func TestGateOnHost(t *testing.T) {
	h, cli, dockerHost := h1(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	home, err := h.Home(ctx)
	if err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(home, ".ship", "apps", "gatetest")) // an earlier run's
	t.Cleanup(func() { os.RemoveAll(filepath.Join(home, ".ship", "apps", "gatetest")) })
	c := &config.Config{
		Service: "gatetest",
		Roles: []*config.Role{
			{Name: "web", Hosts: []config.Host{{Address: "10.99.0.2"}}},
			{Name: "replicas", Hosts: []config.Host{{Address: hostName}}, ReplicaOf: "web"},
			{Name: "readers", Hosts: []config.Host{{Address: hostName}}, ReplicaOf: "web"},
		},
		Volumes:    []volumes.Mount{{Source: "gatetest_data", Target: "/data"}},
		Litestream: &config.Litestream{Databases: []string{"/data/app.sqlite3", "/data/cache.sqlite3"}},
	}
	testapp.Image(t, dockerHost, "ship-it-gatetest:v1", testapp.ImageOptions{})
	s := standIns{t: t, cli: cli, home: home}
	t.Cleanup(func() {
		if _, err := Remove(context.Background(), h, c); err != nil {
			t.Errorf("remove the gate: %v", err)
		}
	})
	s.start("gatetest-follower-app", map[string]string{"ship.follower": "/data/app.sqlite3", "service": "gatetest"})
	s.start("gatetest-follower-cache", map[string]string{"ship.follower": "/data/cache.sqlite3", "service": "gatetest"})
	apps := []string{"gatetest-replicas-v2", "gatetest-readers-v2"}
	for i, role := range []string{"replicas", "readers"} {
		s.start(apps[i], map[string]string{"service": "gatetest", "role": role, "destination": "", "ship.version": "v2"})
		if err := deploy.Record(ctx, h, c, healthyRecord, role, "v2"); err != nil {
			t.Fatal(err)
		}
	}
	s.start("gatetest-replicas-v1", map[string]string{"service": "gatetest", "role": "replicas", "destination": "", "ship.version": "v1"})
	if err := cli.ContainerStop(ctx, "gatetest-replicas-v1", container.StopOptions{}); err != nil {
		t.Fatal(err)
	}
	s.start("gatetest-web-v2", map[string]string{"service": "gatetest", "role": "web", "destination": "", "ship.version": "v2"})
	allRunning := func() bool { return s.running(apps[0]) && s.running(apps[1]) }
	noneRunning := func() bool { return !s.running(apps[0]) && !s.running(apps[1]) }

	var out strings.Builder
	if err := Install(ctx, h, c, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "gatetest-replica-gate takes replicas, readers out of the read targets while gatetest-follower-app or gatetest-follower-cache is not running or does not advance") {
		t.Errorf("Install said: %s", out.String())
	}
	if sum, err := Last(ctx, h, c); err != nil || !sum.Installed || !sum.Running || sum.Last != nil {
		t.Fatalf("after Install: %+v %v", sum, err)
	}

	if err := cli.ContainerKill(ctx, "gatetest-follower-app", "KILL"); err != nil {
		t.Fatal(err)
	}
	t.Logf("the follower killed: both replicas stopped after %s", s.waitFor("the replicas out", noneRunning))
	if s.running("gatetest-replicas-v1") || !s.running("gatetest-web-v2") || !s.running("gatetest-follower-cache") || s.running("gatetest-follower-app") {
		t.Error("the gate touched a container other than the running replicas")
	}
	e := s.entriesAfter(1)
	if len(e) != 1 || e[0].State != Out || !strings.HasPrefix(e[0].Reason, "gatetest-follower-app is exited (137)") || !slices.Equal(e[0].Containers, apps) {
		t.Errorf("the log after the kill:\n%s", s.log())
	}

	if err := cli.ContainerStart(ctx, "gatetest-follower-app", container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("the follower started: both replicas back after %s (settle %s)", s.waitFor("the replicas back", allRunning), Settle)
	if s.running("gatetest-replicas-v1") {
		t.Error("the gate started a container it had not stopped")
	}
	e = s.entriesAfter(2)
	if len(e) != 2 || e[1].State != In || e[1].Reason != "every follower runs" || !slices.Equal(e[1].Containers, apps) {
		t.Errorf("the log after the restart:\n%s", s.log())
	}

	// Stopped, the gate does nothing: ship works on the replicas then.
	if err := Stop(ctx, h, c); err != nil {
		t.Fatal(err)
	}
	if sum, _ := Last(ctx, h, c); sum.Running || sum.Last == nil || sum.Last.State != In {
		t.Errorf("after Stop: %+v", sum)
	}
	if err := cli.ContainerKill(ctx, "gatetest-follower-app", "KILL"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	if !allRunning() || len(s.entries()) != 2 {
		t.Fatalf("the stopped gate acted:\n%s", s.log())
	}

	// A gate a killed ship left stopped comes back, and looks at once.
	out.Reset()
	if err := Repair(ctx, h, c, &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != "repair: started gatetest-replica-gate, left stopped by an interrupted ship\n" {
		t.Errorf("Repair said %q", out.String())
	}
	s.waitFor("the replicas out after Repair", noneRunning)
	if err := cli.ContainerStart(ctx, "gatetest-follower-app", container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	s.waitFor("the replicas back after Repair", allRunning)
	s.entriesAfter(4)
	out.Reset()
	if err := Repair(ctx, h, c, &out); err != nil || out.Len() != 0 {
		t.Errorf("Repair of a running gate: %q %v", out.String(), err)
	}
	sum, err := Last(ctx, h, c)
	if err != nil || !sum.Running || sum.Last == nil || sum.Last.State != In || len(s.entries()) != 4 {
		t.Errorf("Last: %+v %v\n%s", sum, err, s.log())
	}

	if found, err := Remove(ctx, h, c); err != nil || !found {
		t.Fatalf("Remove: %v %v", found, err)
	}
	if sum, err := Last(ctx, h, c); err != nil || sum.Installed || sum.Last == nil {
		t.Errorf("after Remove (the log stays): %+v %v", sum, err)
	}
	if _, err := os.Stat(filepath.Join(home, ".ship", "apps", "gatetest", "gate", "gate.conf")); !os.IsNotExist(err) {
		t.Errorf("the data file outlived the gate: %v", err)
	}
}

// On h2, a second host with its own engine on this machine, the gate
// watches h2's engine: what its chroot finds at /var/run/docker.sock is
// the engine ship reached over SSH (internal/testhost gives h2's engine a
// /run of its own, as a real host has). The check behind this, the
// engine's ID, is TestOtherEngine's.
func TestGateOnSecondHost(t *testing.T) {
	_, th2 := testhost.Hosts(t)
	h := connect(t, th2)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := &config.Config{
		Service:    "gatetest2",
		Roles:      []*config.Role{{Name: "web"}, {Name: "replicas", Hosts: []config.Host{{Address: hostName}}, ReplicaOf: "web"}},
		Volumes:    []volumes.Mount{{Source: "gatetest2_data", Target: "/data"}},
		Litestream: &config.Litestream{Databases: []string{"/data/app.sqlite3"}},
	}
	t.Cleanup(func() { Remove(context.Background(), h, c) })
	if err := Install(ctx, h, c, io.Discard); err != nil {
		t.Fatalf("Install on h2: %v", err)
	}
	if sum, err := Last(ctx, h, c); err != nil || !sum.Installed || !sum.Running {
		t.Errorf("the gate on h2: %+v %v", sum, err)
	}
}
