package main

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/shipdeploy/ship/gate"
	"github.com/shipdeploy/ship/internal/testapp"
	"github.com/shipdeploy/ship/internal/testhost"
)

// A follower that keeps running but stops advancing
// (benbjohnson/litestream#1515; here its process is stopped with
// SIGSTOP, so Docker still shows it running): while writes go on through
// the proxy, the replica gate finds the copy behind the replica at one
// TXID at two checks and takes the replica out of the reads, saying
// which follower and both TXIDs; once the follower goes on, the replica
// is back in the reads. No write fails meanwhile. Then one stuck for
// good is re-seeded by hand (reseed_test.go).
func TestReplicaStall(t *testing.T) {
	r := newReplicatedApp(t, "repstall")
	r.mustShip(t, "setup", "--skip-build", "--version", "v1")
	h2cli := dockerClient(t, r.h2)
	ctx := context.Background()

	// The gate re-checks every 30 s, and a stuck copy needs two checks:
	// this test gives its gate a 2 s recheck through its data file, then
	// restarts it to read it.
	data := filepath.Join(testhost.Dir(), "h2", "home", ".ship", "apps", r.service, "gate", "gate.conf")
	b, err := os.ReadFile(data)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "\nrecheck 30\n") {
		t.Fatalf("the gate's data file has no recheck 30:\n%s", b)
	}
	if err := os.WriteFile(data, []byte(strings.Replace(string(b), "\nrecheck 30\n", "\nrecheck 2\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := h2cli.ContainerRestart(ctx, r.service+"-replica-gate", container.StopOptions{}); err != nil {
		t.Fatal(err)
	}

	plain := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	w, err := request(plain, http.MethodPost, r.url()+"/records", url.Values{"value": {"first"}})
	if err != nil {
		t.Fatal(err)
	}
	writer := w.host
	waitReplicaHas(t, plain, r.readTarget(t), w.records[0])
	replica, err := request(plain, http.MethodGet, r.readTarget(t)+"/records", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !waitReadsFrom(t, plain, r.url(), replica.host, 30*time.Second) {
		t.Fatalf("fresh reads never reached the replica %s", replica.host)
	}

	wl := testapp.StartWriter(t, r.url(), 50*time.Millisecond)
	follower := r.service + "-follower"
	if err := h2cli.ContainerKill(ctx, follower, "SIGSTOP"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h2cli.ContainerKill(context.Background(), follower, "SIGCONT") })
	stopped := time.Now()
	if !waitReadsFrom(t, plain, r.url(), writer, 90*time.Second) {
		t.Fatalf("reads still reached the replica 90 s after its follower stopped advancing; the gate's log:\n%s", r.gateLog(t))
	}
	t.Logf("the replica was out of the reads %.1fs after its follower stopped advancing", time.Since(stopped).Seconds())
	g := r.waitGate(t, gate.Out)
	if reason := g.Last.Reason; !strings.HasPrefix(reason, follower+" does not advance: its copy is at TXID ") || !strings.Contains(reason, ", the replica at ") {
		t.Errorf("the gate took the replica out for: %q", reason)
	}
	if info, err := h2cli.ContainerInspect(ctx, follower); err != nil || !info.State.Running {
		t.Errorf("the follower is not running, so this tested a dead follower: %v", err)
	}

	if err := h2cli.ContainerKill(ctx, follower, "SIGCONT"); err != nil {
		t.Fatal(err)
	}
	if !waitReadsFrom(t, plain, r.url(), replica.host, 90*time.Second) {
		t.Fatalf("the replica did not come back into the reads once its follower advanced; the gate's log:\n%s", r.gateLog(t))
	}
	if g := r.waitGate(t, gate.In); g.Last.Reason != "every follower runs" {
		t.Errorf("the gate put the replica back for: %q", g.Last.Reason)
	}
	if _, failed := wl.Stop(); failed > 0 {
		t.Errorf("%d writes failed while the follower was stuck", failed)
	}

	// Stuck for good: ship db reseed gives it a new copy.
	r.reseedStuck(t, plain)
}
