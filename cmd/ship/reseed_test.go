package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shipdeploy/ship/gate"
)

// followerDoc is what ship db status --json says of the one follower on
// the one replica host.
type followerDoc struct {
	State    string   `json:"state"`
	CopyTXID string   `json:"copy_txid"`
	Behind   uint64   `json:"behind_txids"`
	Lag      float64  `json:"lag_seconds"`
	Warnings []string `json:"warnings"`
}

// follower runs ship db status --json and returns its one follower.
func (r *replicatedApp) follower(t *testing.T) followerDoc {
	t.Helper()
	out, errOut, code := r.ship(t, "db", "status", "--json")
	var doc struct {
		Followers []struct {
			Host      string        `json:"host"`
			Followers []followerDoc `json:"followers"`
		} `json:"followers"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 0 || len(doc.Followers) != 1 || len(doc.Followers[0].Followers) != 1 {
		t.Fatalf("ship db status --json: exit %d, %v\n%s%s", code, err, out, errOut)
	}
	return doc.Followers[0].Followers[0]
}

// reseedStuck is ship db reseed on a follower stuck for good (stopped
// with SIGSTOP, so that Docker still shows it running), after writes it
// never applied and with the gate having taken the replica out of the
// reads, as a person finds it when ship doctor warns: the replica then
// reads the writer's newest rows, db status shows the follower following
// with nothing behind, the replica serves the reads through kamal-proxy
// again, and the host's audit log says what was done. Selecting the
// writer's host is refused, naming the replica host.
func (r *replicatedApp) reseedStuck(t *testing.T, client *http.Client) {
	t.Helper()
	ctx := context.Background()
	out, errOut, code := r.ship(t, "db", "reseed", "-h", r.h1.Addr)
	if want := fmt.Sprintf("no replica role runs on %s, so there are no followers there to re-seed; the replica hosts are %s", r.h1.Addr, r.h2.Addr); code != 2 || !strings.Contains(errOut, want) {
		t.Errorf("ship db reseed -h %s (the writer): exit %d, want 2 saying %q\n%s%s", r.h1.Addr, code, want, out, errOut)
	}

	replica, err := request(client, http.MethodGet, r.readTarget(t)+"/records", nil)
	if err != nil {
		t.Fatal(err)
	}
	h2cli := dockerClient(t, r.h2)
	if err := h2cli.ContainerKill(ctx, r.service+"-follower", "SIGSTOP"); err != nil {
		t.Fatal(err)
	}
	var newest int64
	for i := range 5 {
		w, err := request(client, http.MethodPost, r.url()+"/records", url.Values{"value": {fmt.Sprintf("unseen-%d", i)}})
		if err != nil {
			t.Fatal(err)
		}
		newest = w.records[0]
	}
	// The writer's Litestream has uploaded them all, so the replica has
	// what the copy lacks.
	(&backedUpApp{app: r.app}).waitSynced(t)
	r.waitGate(t, gate.Out)
	// (Its warning, naming ship db reseed, waits for lag_warning.)
	if f := r.follower(t); f.State != "following" || f.Behind == 0 {
		t.Errorf("db status with the follower stuck: %+v; want it following and behind", f)
	}

	began := time.Now()
	out = r.mustShip(t, "db", "reseed", "-h", r.h2.Addr)
	t.Logf("ship db reseed took %.1fs", time.Since(began).Seconds())
	for _, want := range []string{
		"re-seeding the followers",
		"deleted the copy of /data/app.sqlite3",
		r.service + "-follower is following /data/app.sqlite3 from TXID",
		"starting " + r.service + "-replicas-v1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("ship db reseed says nothing of %q:\n%s", want, out)
		}
	}
	a, err := request(client, http.MethodGet, r.readTarget(t)+"/records", nil)
	if err != nil {
		t.Fatalf("read the replica after the re-seed: %v", err)
	}
	if !slices.Contains(a.records, newest) {
		t.Errorf("after the re-seed the replica's reads lack the writer's newest row %d: %v", newest, a.records)
	}
	if f := r.follower(t); f.State != "following" || f.Behind != 0 || f.Lag != 0 || len(f.Warnings) > 0 {
		t.Errorf("db status after the re-seed: %+v; want following, 0 behind, lag 0, no warning", f)
	}
	if v := r.running(t, r.h2); v != "v1" {
		t.Errorf("after the re-seed the replica runs %s, want v1", v)
	}
	if !waitReadsFrom(t, client, r.url(), a.host, 60*time.Second) {
		t.Errorf("the replica %s (before the re-seed %s) did not serve the reads through kamal-proxy again", a.host, replica.host)
	}
	r.waitGate(t, gate.In)
	if log := r.mustShip(t, "audit", "-h", r.h2.Addr, "-n", "1"); !strings.Contains(log, "db reseed") || !strings.Contains(log, "re-seeded the followers") {
		t.Errorf("the replica host's audit log does not record the re-seed:\n%s", log)
	}
}

// ship db reseed with a config that has no replica role: exit 2, saying
// so, and no host contacted (127.0.0.1:1 would refuse).
func TestDBReseedNoReplicaRole(t *testing.T) {
	dir := project(t, map[string]string{"config/deploy.yml": "service: shop\nimage: acme/shop\nservers: [127.0.0.1:1]\n"})
	out, errOut, code := ship(t, dir, "db", "reseed")
	if want := "ship: config/deploy.yml has no replica_of role: nothing to re-seed"; code != 2 || !strings.HasPrefix(errOut, want) {
		t.Errorf("ship db reseed without a replica role: exit %d, want 2 saying %q\n%s%s", code, want, out, errOut)
	}
}
