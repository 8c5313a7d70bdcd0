package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"

	"github.com/shipdeploy/ship/drill"
	"github.com/shipdeploy/ship/internal/testapp"
	"github.com/shipdeploy/ship/internal/testhost"
)

// pings is a local HTTP server standing in for healthchecks.io: it
// records each request's path and body.
type pings struct {
	url string
	mu  sync.Mutex
	got []string // "PATH BODY"
}

// startPings listens on loopback, which the drill reaches: its container
// shares the test host's network namespace, this machine's.
func startPings(t *testing.T) *pings {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pings{url: "http://" + l.Addr().String()}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		p.got = append(p.got, r.URL.Path+" "+strings.TrimSpace(string(b)))
		p.mu.Unlock()
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return p
}

func (p *pings) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.got...)
}

type drillEntry struct {
	Time              time.Time `json:"time"`
	OK                bool      `json:"ok"`
	Problem           string    `json:"problem"`
	RestoreSeconds    float64   `json:"restore_seconds"`
	ReplicaAgeSeconds *int64    `json:"replica_age_seconds"`
	Booted            *bool     `json:"booted"`
	Databases         []struct {
		Path  string           `json:"path"`
		OK    bool             `json:"ok"`
		Rows  map[string]int64 `json:"rows"`
		Bytes *int64           `json:"bytes"`
	} `json:"databases"`
}

type drillStatusDoc struct {
	Drill struct {
		Schedule string      `json:"schedule"`
		Running  bool        `json:"running"`
		Last     *drillEntry `json:"last"`
		LastOK   *drillEntry `json:"last_ok"`
	} `json:"drill"`
}

func (a *backedUpApp) drillStatus(t *testing.T) drillStatusDoc {
	t.Helper()
	var doc drillStatusDoc
	out := a.mustShip(t, "db", "status", "--json")
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &doc); err != nil {
		t.Fatalf("db status --json: %v\n%s", err, out)
	}
	return doc
}

// drillNow runs ship db drill --now --json and returns its entry and
// exit status.
func (a *backedUpApp) drillNow(t *testing.T) (drillEntry, int, string) {
	t.Helper()
	out, errOut, code := a.ship(t, "db", "drill", "--now", "--json")
	var doc struct {
		Drill drillEntry `json:"drill"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("db drill --now --json: exit %d, %v\n%s%s", code, err, out, errOut)
	}
	return doc.Drill, code, out + errOut
}

// h1Home is the SSH user's home on h1, a directory on this machine.
func h1Home() string { return filepath.Join(testhost.Dir(), "h1", "home") }

// drillLog is the drill log on h1, one entry a line.
func drillLog(t *testing.T, service string) []drillEntry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(h1Home(), ".ship", "apps", service, "drills.jsonl"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []drillEntry
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var e drillEntry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("drill log line %q: %v", line, err)
		}
		out = append(out, e)
	}
	return out
}

// waitLog waits until the drill log has n entries, within timeout.
func waitLog(t *testing.T, service string, n int, timeout time.Duration) []drillEntry {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		log := drillLog(t, service)
		if len(log) >= n {
			return log
		}
		if time.Now().After(deadline) {
			t.Fatalf("the drill log has %d entries after %s, want %d:\n%+v", len(log), timeout, n, log)
		}
		time.Sleep(2 * time.Second)
	}
}

// drillLeftovers are the containers and networks a drill started that
// are still there.
func (a *backedUpApp) drillLeftovers(t *testing.T, scheduled bool) []string {
	t.Helper()
	ctx := context.Background()
	cli := dockerClient(t, a.h1)
	f := filters.NewArgs(filters.Arg("label", "ship.drill="+a.service))
	cs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		if name := strings.TrimPrefix(c.Names[0], "/"); !scheduled || name != a.service+"-drill" {
			out = append(out, "container "+name)
		}
	}
	ns, err := cli.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		out = append(out, "network "+n.Name)
	}
	if leftovers, _ := filepath.Glob("/var/tmp/ship-drill-*"); len(leftovers) > 0 && !scheduled {
		out = append(out, leftovers...)
	}
	return out
}

// A drill scheduled every minute runs by itself, with no ship on the host
// and no cron there; its heartbeat is pinged, the URL never on a command
// line or in ship's output; a deleted replica makes the next run fail and
// ping the failure URL with the reason; db status shows both.
func TestDBDrillSchedule(t *testing.T) {
	t.Parallel() // mostly waits for the minute: runs beside the other long, independent tests (helpers_test.go)
	a := newBackedUpApp(t, "drillsched")
	a.apart = true
	p := startPings(t)
	token := "tok-" + strings.ToLower(rand.Text()[:12])
	appendConfig(t, a.app, fmt.Sprintf("  heartbeat_url: %s/%s\n  failure_url: %s/%s/fail\n", p.url, token, p.url, token), "")
	t.Cleanup(func() {
		a.ship(t, "db", "drill", "--unschedule")
		dockerClient(t, a.h1).ContainerRemove(context.Background(), "drillsched-drill", container.RemoveOptions{Force: true})
	})
	argv := testapp.ScanArgv(t, token)
	os.Remove(filepath.Join(h1Home(), ".ship", "apps", a.service, "drills.jsonl")) // an earlier run's
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	a.write(t, "first", 12)
	a.waitSynced(t)

	// Bad schedules are refused before anything is contacted.
	_, errOut, code := a.ship(t, "db", "drill", "--schedule", "61 * * * *")
	if code != exitUsage || !strings.Contains(errOut, "the minute field") {
		t.Errorf("db drill --schedule with minute 61: exit %d\n%s", code, errOut)
	}
	_, errOut, code = a.ship(t, "db", "drill", "--schedule", "* * *")
	if code != exitUsage || !strings.Contains(errOut, "5 fields") {
		t.Errorf("db drill --schedule with 3 fields: exit %d\n%s", code, errOut)
	}

	e, code, out := a.drillNow(t)
	if code != 0 || !e.OK || len(e.Databases) != 1 || e.Databases[0].Rows["records"] != 12 || e.Databases[0].Bytes == nil || *e.Databases[0].Bytes == 0 || e.ReplicaAgeSeconds == nil {
		t.Fatalf("db drill --now: exit %d %+v\n%s", code, e, out)
	}
	if got := p.requests(); len(got) != 1 || got[0] != "/"+token+" " {
		t.Errorf("the heartbeat after a drill that passed: %q", got)
	}
	if strings.Contains(out, token) {
		t.Errorf("ship printed the heartbeat URL:\n%s", out)
	}

	before := len(drillLog(t, a.service))
	a.mustShip(t, "db", "drill", "--schedule", "*/5 * * * *")
	out = a.mustShip(t, "db", "drill", "--schedule", "* * * * *")
	if !strings.Contains(out, "fire drill scheduled on") {
		t.Errorf("db drill --schedule:\n%s", out)
	}
	cli := dockerClient(t, a.h1)
	cs, err := cli.ContainerList(context.Background(), container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", "ship.drill.schedule"), filters.Arg("label", "ship.drill=drillsched"))})
	if err != nil || len(cs) != 1 {
		t.Fatalf("scheduling twice left %d drill containers (%v), want 1", len(cs), err)
	}
	info, err := cli.ContainerInspect(context.Background(), "drillsched-drill")
	if err != nil || info.HostConfig.RestartPolicy.Name != "always" || info.Config.Labels["ship.drill.schedule"] != "* * * * *" {
		t.Fatalf("the drill container: %v %+v", err, info.HostConfig.RestartPolicy)
	}

	log := waitLog(t, a.service, before+2, 4*time.Minute)
	for _, e := range log[before:] {
		if !e.OK || e.Databases[0].Rows["records"] != 12 {
			t.Errorf("a scheduled drill of a healthy replica: %+v", e)
		}
	}
	got := p.requests()
	for deadline := time.Now().Add(30 * time.Second); len(got) < 3 && time.Now().Before(deadline); got = p.requests() {
		time.Sleep(200 * time.Millisecond) // the ping follows the log line
	}
	if len(got) < 3 {
		t.Errorf("heartbeats after three drills that passed: %q", got)
	}

	// A deleted replica: the next scheduled run fails and says why.
	if err := os.RemoveAll(filepath.Join(a.s3.Dir, a.service)); err != nil {
		t.Fatal(err)
	}
	n := len(drillLog(t, a.service))
	log = waitLog(t, a.service, n+1, 3*time.Minute)
	last := log[len(log)-1]
	if last.OK || !strings.Contains(last.Problem, "has no backup of /data/app.sqlite3") {
		t.Errorf("the drill after the replica was deleted: %+v", last)
	}
	// The drill writes its log line, then pings: give the ping time.
	failed := false
	for deadline := time.Now().Add(30 * time.Second); !failed && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		for _, r := range p.requests() {
			if strings.HasPrefix(r, "/"+token+"/fail ") && strings.Contains(r, "has no backup of /data/app.sqlite3") {
				failed = true
			}
		}
	}
	if !failed {
		t.Errorf("the failure URL was not pinged with the reason: %q", p.requests())
	}

	doc := a.drillStatus(t)
	if doc.Drill.Schedule != "* * * * *" || !doc.Drill.Running || doc.Drill.Last == nil || doc.Drill.Last.OK || doc.Drill.LastOK == nil || !doc.Drill.LastOK.OK {
		t.Errorf("db status --json after a passed and a failed drill: %+v", doc.Drill)
	}
	human := a.mustShip(t, "db", "status")
	if !strings.Contains(human, "last drill") || !strings.Contains(human, "FAILED at") || !strings.Contains(human, "last passed") || !strings.Contains(human, "scheduled: * * * * *") {
		t.Errorf("db status after a passed and a failed drill:\n%s", human)
	}

	// doctor names the failed drill, and what to do.
	out, _, code = a.ship(t, "doctor")
	if code != exitFailed || !strings.Contains(out, "fail  fire drill: the last drill, ") || !strings.Contains(out, "has no backup of /data/app.sqlite3") {
		t.Errorf("ship doctor after a failed drill: exit %d\n%s", code, out)
	}

	out = a.mustShip(t, "db", "drill", "--unschedule")
	if !strings.Contains(out, "fire drill schedule removed") {
		t.Errorf("db drill --unschedule:\n%s", out)
	}
	if left := a.drillLeftovers(t, false); len(left) > 0 {
		t.Errorf("left behind after --unschedule: %v", left)
	}
	if _, err := os.Stat(filepath.Join(h1Home(), ".ship", "apps", a.service, "drill", "schedule.conf")); !os.IsNotExist(err) {
		t.Errorf("--unschedule left the drill's config: %v", err)
	}
	if seen := argv.Stop(); len(seen) > 0 {
		t.Errorf("the ping URL's token was on a command line: %v", seen)
	}

	// ship remove takes the schedule with the app.
	a.mustShip(t, "db", "drill", "--schedule", "daily")
	out = a.mustShip(t, "remove", "--confirmed")
	if !strings.Contains(out, "removed drillsched-drill") {
		t.Errorf("ship remove:\n%s", out)
	}
	if left := a.drillLeftovers(t, false); len(left) > 0 {
		t.Errorf("left behind after ship remove: %v", left)
	}
}

// fileHashes is the SHA-256 of the database file and its WAL. Not of the
// -shm: that is SQLite's shared-memory index, where every reader, even a
// -readonly one (the drill's row counts, db verify's), writes its read
// mark; it holds no data and is rebuilt from the WAL when lost.
func fileHashes(t *testing.T, db string) string {
	t.Helper()
	var out []string
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(db + suffix)
		if os.IsNotExist(err) {
			out = append(out, suffix+" none")
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %x", suffix, sha256.Sum256(b)))
	}
	return strings.Join(out, ", ")
}

// A drill with boot starts the app's running image on a copy of the
// restored database and needs its health check and the drill command;
// the live database is untouched, byte for byte; a command that fails
// fails the drill; nothing of the drill is left behind.
func TestDBDrillBoot(t *testing.T) {
	a := newBackedUpApp(t, "drillboot")
	appendConfig(t, a.app, "  drill:\n    boot: true\n    command: /app migrate CREATE TABLE drilled (x)\n", "")
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	a.write(t, "first", 7)
	a.waitSynced(t)

	// The writers stop, so that the live files can be compared.
	cli := dockerClient(t, a.h1)
	timeout := 10
	if err := cli.ContainerStop(context.Background(), "drillboot-web-v1", container.StopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	a.mustShip(t, "accessory", "stop", "litestream")
	live := fileHashes(t, a.dbFile(t))
	mounts := watchVolumeMounts(t, a.h1, "drillboot_data")

	// What a drill killed mid-run leaves: its private directory and its
	// booted app. The next drill removes them.
	if err := os.MkdirAll("/var/tmp/ship-drill-drillboot-AbCd1234/boot", 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.ContainerCreate(context.Background(), &container.Config{Image: "ship-it-drillboot:v1", Labels: map[string]string{"ship.drill": "drillboot"}}, nil, nil, nil, "drillboot-drill-boot-12345"); err != nil {
		t.Fatal(err)
	}

	e, code, out := a.drillNow(t)
	if code != 0 || !e.OK || e.Booted == nil || !*e.Booted || e.Databases[0].Rows["records"] != 7 {
		t.Fatalf("db drill --now with boot: exit %d %+v\n%s", code, e, out)
	}
	if !strings.Contains(out, "the app passed its health check on the restored copy") || !strings.Contains(out, "running the drill command") {
		t.Errorf("db drill --now with boot:\n%s", out)
	}
	if got := fileHashes(t, a.dbFile(t)); got != live {
		t.Errorf("the drill changed the live database:\nbefore %s\nafter  %s", live, got)
	}
	if got := sqlite(t, a.dbFile(t), "SELECT count(*) FROM sqlite_schema WHERE name = 'drilled'"); got != "0" {
		t.Errorf("the drill command ran on the live database")
	}
	if left := a.drillLeftovers(t, false); len(left) > 0 {
		t.Errorf("the drill left behind: %v", left)
	}
	// The single-writer guard's view: the booted app never mounted the
	// live volume, and the restores mounted it read-only.
	seen := mounts()
	if len(seen) == 0 {
		t.Error("no mount of the live volume was seen, not even the restore's read-only one")
	}
	for _, m := range seen {
		if strings.Contains(m, "-drill-boot-") || strings.HasSuffix(m, " rw") {
			t.Errorf("a drill container mounted the live volume: %s", m)
		}
	}

	// A drill command that fails fails the drill.
	cfg := filepath.Join(a.dir, "config", "deploy.yml")
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, []byte(strings.Replace(string(b), "/app migrate CREATE TABLE drilled (x)", "/app migrate SELECT * FROM no_such_table", 1)), 0o644)
	e, code, out = a.drillNow(t)
	if code != exitFailed || e.OK || !strings.Contains(e.Problem, "the drill command failed") || !strings.Contains(e.Problem, "no_such_table") {
		t.Errorf("a drill whose command fails: exit %d %+v\n%s", code, e, out)
	}
	if got := fileHashes(t, a.dbFile(t)); got != live {
		t.Errorf("the failed drill changed the live database:\nbefore %s\nafter  %s", live, got)
	}
	if left := a.drillLeftovers(t, false); len(left) > 0 {
		t.Errorf("the failed drill left behind: %v", left)
	}
}

// watchVolumeMounts follows the engine's volume mount events for the
// named volume from now on; the function it returns lists each as
// "CONTAINER-NAME rw|ro".
func watchVolumeMounts(t *testing.T, h *testhost.Host, volume string) func() []string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cli := dockerClient(t, h)
	msgs, errs := cli.Events(ctx, events.ListOptions{Filters: filters.NewArgs(filters.Arg("type", "volume"), filters.Arg("type", "container"))})
	var mu sync.Mutex
	names := map[string]string{}
	var mounts []struct{ id, mode string }
	go func() {
		for {
			select {
			case m := <-msgs:
				mu.Lock()
				switch {
				case m.Type == events.ContainerEventType && m.Action == events.ActionCreate:
					names[m.Actor.ID] = m.Actor.Attributes["name"]
				case m.Type == events.VolumeEventType && m.Action == events.ActionMount && m.Actor.ID == volume:
					mode := "ro"
					if m.Actor.Attributes["read/write"] == "true" {
						mode = "rw"
					}
					mounts = append(mounts, struct{ id, mode string }{m.Actor.Attributes["container"], mode})
				}
				mu.Unlock()
			case <-errs:
				return
			}
		}
	}()
	return func() []string {
		time.Sleep(time.Second) // let the stream catch up
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, m := range mounts {
			out = append(out, names[m.id]+" "+m.mode)
		}
		return out
	}
}

// db status's drill lines: the schedule, the last drill and why it
// failed, the last that passed, and the growth since the day before.
func TestPrintDrills(t *testing.T) {
	size := func(n int64) *int64 { return &n }
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	before := drill.Entry{Time: at("2026-12-05T03:00:00Z"), OK: true, Databases: []drill.Database{{Path: "/data/a.db", Bytes: size(1 << 20)}}}
	passed := drill.Entry{Time: at("2026-12-06T02:00:00Z"), OK: true, Databases: []drill.Database{{Path: "/data/a.db", Bytes: size(3 << 20)}}}
	failed := drill.Entry{Time: at("2026-12-06T03:00:00Z"), Problem: "the replica was deleted", Databases: []drill.Database{{Path: "/data/a.db", Bytes: size(5 << 20)}}}
	var b strings.Builder
	printDrills(&b, drill.Summary{Schedule: "hourly", Running: true, Last: &failed, LastOK: &passed, DayBefore: &before}, "")
	got := strings.Join(strings.Fields(b.String()), " ")
	for _, want := range []string{"fire drills scheduled: hourly", "last drill FAILED at", ": the replica was deleted", "last passed passed at", "growth /data/a.db +4.0 MiB since the drill of"} {
		if !strings.Contains(got, want) {
			t.Errorf("db status's drills lack %q:\n%s", want, b.String())
		}
	}
	b.Reset()
	printDrills(&b, drill.Summary{}, "")
	if got := strings.Join(strings.Fields(b.String()), " "); got != "fire drills not scheduled (ship db drill --schedule daily) last drill none yet" {
		t.Errorf("no drills: %q", got)
	}
}
