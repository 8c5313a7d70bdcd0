package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/shipdeploy/ship/gate"
	"github.com/shipdeploy/ship/workflow"
)

// replicaGateDoc is what ship db status --json says of each replica
// host's gate.
type replicaGateDoc struct {
	Followers []struct {
		Host string        `json:"host"`
		Gate *gate.Summary `json:"gate"`
	} `json:"followers"`
}

// gateState runs ship db status --json and returns the gate of the one
// replica host.
func (r *replicatedApp) gateState(t *testing.T) gate.Summary {
	t.Helper()
	out, errOut, code := r.ship(t, "db", "status", "--json")
	var doc replicaGateDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 0 || len(doc.Followers) != 1 || doc.Followers[0].Gate == nil {
		t.Fatalf("ship db status --json: exit %d, %v\n%s%s", code, err, out, errOut)
	}
	if doc.Followers[0].Host != r.h2.Addr {
		t.Errorf("ship db status --json: the replica host is %q, want %q", doc.Followers[0].Host, r.h2.Addr)
	}
	return *doc.Followers[0].Gate
}

// waitGate waits until db status shows the gate's last change in state.
func (r *replicatedApp) waitGate(t *testing.T, state gate.State) gate.Summary {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		g := r.gateState(t)
		if g.Last != nil && g.Last.State == state {
			return g
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gate did not put the replicas %s within a minute: %+v", state, g)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// ship doctor and ship db status on a replica host: after setup, doctor
// passes on the writer's host and on the replica's, each judged by its
// own rule, and db status shows the replica gate running. A stopped
// follower fails doctor on the replica host, which warns that the gate
// has the replica out; once the follower runs again, all is well again.
func TestReplicaDoctor(t *testing.T) {
	r := newReplicatedApp(t, "repdoc")
	r.mustShip(t, "setup", "--skip-build", "--version", "v1")

	w := r.doctor(t, "-h", r.h1.Addr)
	if f := w.failed(); len(f) > 0 {
		t.Errorf("ship doctor fails on the writer's host:\n%s", strings.Join(f, "\n"))
	}
	if state, msg, _ := w.check(t, "single writer repdoc_data"); state != "ok" || !strings.Contains(msg, "repdoc-web-v1 is the one writer") {
		t.Errorf("the writer's single writer check: %s: %s", state, msg)
	}
	d := r.doctor(t, "-h", r.h2.Addr)
	if f := d.failed(); len(f) > 0 {
		t.Errorf("ship doctor fails on the replica host:\n%s", strings.Join(f, "\n"))
	}
	for name, want := range map[string]string{
		"single writer repdoc-replica-repdoc_data": "no container but the followers writes repdoc-replica-repdoc_data",
		"read-only replicas":                       "repdoc-replicas-v1 mounts every volume read-only",
		"follower /data/app.sqlite3":               "repdoc-follower follows",
		"replica gate":                             "repdoc-replica-gate runs",
		"disk volume repdoc-replica-repdoc_data":   "free of",
	} {
		if state, msg, _ := d.check(t, name); state != "ok" || !strings.Contains(msg, want) {
			t.Errorf("the replica host, healthy: %s is %s: %q, want ok saying %q", name, state, msg, want)
		}
	}
	for _, c := range d.Hosts[0].Checks {
		if strings.HasPrefix(c.Check, "single writer repdoc_data") || strings.HasPrefix(c.Check, "database ") || strings.HasPrefix(c.Check, "volume ") {
			t.Errorf("the replica host is checked for the writer's volume or database: %+v", c)
		}
	}
	if g := r.gateState(t); !g.Installed || !g.Running {
		t.Errorf("ship db status --json: the gate after setup: %+v", g)
	}
	if human := r.mustShip(t, "db", "status"); !regexp.MustCompile(`\n  replica gate +running, the replicas in\n`).MatchString(human) {
		t.Errorf("ship db status does not show the gate running:\n%s", human)
	}

	// The follower stops: the gate takes the replica out, and doctor
	// says so.
	h2cli := dockerClient(t, r.h2)
	follower := r.service + "-follower"
	if err := h2cli.ContainerStop(context.Background(), follower, container.StopOptions{}); err != nil {
		t.Fatal(err)
	}
	g := r.waitGate(t, gate.Out)
	if !g.Running || !strings.Contains(g.Last.Reason, follower) {
		t.Errorf("ship db status --json: the gate with the follower stopped: %+v %+v", g, g.Last)
	}
	d = r.doctor(t, "-h", r.h2.Addr)
	if state, msg, fix := d.check(t, "follower /data/app.sqlite3"); state != "fail" || !strings.Contains(msg, follower+" is stopped") || !strings.Contains(fix, "ship deploy") {
		t.Errorf("doctor, the follower stopped: follower is %s: %q (fix %q)", state, msg, fix)
	}
	if state, msg, _ := d.check(t, "replica gate"); state != "warn" || !strings.Contains(msg, "has the replicas out of the reads since ") || !strings.Contains(msg, follower) {
		t.Errorf("doctor, the follower stopped: replica gate is %s: %q", state, msg)
	}
	if human := r.mustShip(t, "db", "status"); !regexp.MustCompile(`\n  replica gate +running, the replicas out since `).MatchString(human) ||
		!strings.Contains(human, "WARNING: the replica gate has the replicas out of the reads") {
		t.Errorf("ship db status with the follower stopped:\n%s", human)
	}

	// The follower runs again: the gate puts the replica back.
	if err := h2cli.ContainerStart(context.Background(), follower, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	r.waitGate(t, gate.In)
	d = r.doctor(t, "-h", r.h2.Addr)
	if f := d.failed(); len(f) > 0 {
		t.Errorf("ship doctor fails on the replica host once its follower runs again:\n%s", strings.Join(f, "\n"))
	}
	if state, msg, _ := d.check(t, "replica gate"); state != "ok" || !strings.Contains(msg, "the replicas are in since") {
		t.Errorf("doctor, the follower back: replica gate is %s: %q", state, msg)
	}
}

// db status prints a line for the replica gate of each replica host, and
// a warning while it does not run or has the replicas out.
func TestPrintGate(t *testing.T) {
	var b bytes.Buffer
	since := time.Now().Add(-2 * time.Minute)
	for _, tc := range []struct {
		gate       *gate.Summary
		line, warn string
	}{
		{nil, "", ""},
		{&gate.Summary{}, "  replica gate  not installed\n", "WARNING: the replica gate is not installed"},
		{&gate.Summary{Installed: true}, "  replica gate  stopped\n", "WARNING: the replica gate does not run"},
		{&gate.Summary{Installed: true, Running: true}, "  replica gate  running, the replicas in\n", ""},
		{&gate.Summary{Installed: true, Running: true, Last: &gate.Entry{Time: since, State: gate.In}}, "  replica gate  running, the replicas in since " + since.Local().Format(time.DateTime) + " (2m0s ago)\n", ""},
		{&gate.Summary{Installed: true, Running: true, Last: &gate.Entry{Time: since, State: gate.Out, Reason: "shop-follower is exited"}},
			"  replica gate  running, the replicas out since " + since.Local().Format(time.DateTime) + " (2m0s ago)\n",
			"WARNING: the replica gate has the replicas out of the reads: shop-follower is exited"},
	} {
		b.Reset()
		printFollowers(&b, workflow.FollowerHost{Host: "10.0.0.2", Gate: tc.gate})
		out := b.String()
		if (tc.line == "") != !strings.Contains(out, "replica gate") || !strings.Contains(out, tc.line) || !strings.Contains(out, tc.warn) || (tc.warn == "") != !strings.Contains(out, "WARNING") {
			t.Errorf("printFollowers with gate %+v:\n%s\nwant %q and %q", tc.gate, out, tc.line, tc.warn)
		}
	}
}
