package gate

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/onhost"
)

// The gate chroots into the host's root and runs gate.sh with its data
// file as the argument, on no network, restarted unless stopped.
func TestContainerSpec(t *testing.T) {
	c := testConfig()
	cc, hc := containerSpec(c, "/usr/sbin/chroot", "/root/.ship/apps/shop/gate/gate.conf")
	if cc.Image != onhost.Image || len(cc.Cmd) != 7 || strings.Join(cc.Cmd[:4], " ") != "/usr/sbin/chroot /host bash -c" ||
		strings.Join(cc.Cmd[5:], " ") != "ship-gate /root/.ship/apps/shop/gate/gate.conf" {
		t.Errorf("cmd = %q", cc.Cmd)
	}
	if !strings.Contains(cc.Cmd[4], "\njson() {") || !strings.Contains(cc.Cmd[4], "# ship's replica gate, run by the host itself") {
		t.Errorf("the script is not json.sh then gate.sh:\n%.200s", cc.Cmd[4])
	}
	if cc.Labels[Label] != "shop" || Name(c) != "shop-replica-gate" {
		t.Errorf("labels = %v, name %s", cc.Labels, Name(c))
	}
	if strings.Join(hc.Binds, " ") != "/:/host" || hc.NetworkMode != "none" || hc.RestartPolicy.Name != "unless-stopped" {
		t.Errorf("host config = %+v", hc)
	}
}

// fakeHost is a replica host for gate.sh: a home with the data file and
// the healthy records, and containers the fake docker CLI keeps.
type fakeHost struct {
	t          *testing.T
	dir, home  string
	data, fake string
}

func newFakeHost(t *testing.T) *fakeHost {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	f := &fakeHost{t: t, dir: dir, home: filepath.Join(dir, "home"), fake: filepath.Join(dir, "fake")}
	bin := filepath.Join(dir, "bin")
	for _, d := range []string{bin, filepath.Join(f.fake, "c"), filepath.Join(f.home, ".ship", "apps", "shop", "gate")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fake, err := filepath.Abs("testdata/fake-docker.sh")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(fake, filepath.Join(bin, "docker")); err != nil {
		t.Fatal(err)
	}
	c := testConfig()
	text, err := render(c, f.home, "E1", Roles(c, "10.0.0.3"))
	if err != nil {
		t.Fatal(err)
	}
	f.data = filepath.Join(f.home, ".ship", "apps", "shop", "gate", "gate.conf")
	f.write(f.data, string(text))
	f.healthy("replicas", "v2")
	f.healthy("readers", "v2")
	return f
}

func (f *fakeHost) write(file, content string) {
	f.t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fakeHost) healthy(role, version string) {
	f.write(deploy.RecordFile(f.home, testConfig(), healthyRecord, role), version)
}

// container adds a container; started is how long ago it started.
func (f *fakeHost) container(id, name, status string, started time.Duration, labels map[string]string) {
	d := filepath.Join(f.fake, "c", id)
	f.write(filepath.Join(d, "name"), name)
	f.set(id, status)
	f.write(filepath.Join(d, "started"), time.Now().Add(-started).UTC().Format(time.RFC3339Nano))
	for k, v := range labels {
		f.write(filepath.Join(d, "label."+k), v)
	}
}

func (f *fakeHost) set(id, status string) {
	d := filepath.Join(f.fake, "c", id)
	f.write(filepath.Join(d, "status"), status)
	code := "0"
	if status == "exited" {
		code = "137"
	}
	f.write(filepath.Join(d, "code"), code)
}

func (f *fakeHost) status(id string) string {
	b, _ := os.ReadFile(filepath.Join(f.fake, "c", id, "status"))
	return strings.TrimSpace(string(b))
}

// calls are the stops and starts made so far.
func (f *fakeHost) calls() []string {
	b, _ := os.ReadFile(filepath.Join(f.fake, "calls"))
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// reconcile runs gate.sh once.
func (f *fakeHost) reconcile() {
	f.t.Helper()
	if out, err := f.run("E1"); err != nil {
		f.t.Fatalf("gate.sh: %v\n%s", err, out)
	}
}

// run runs gate.sh once where the docker CLI reaches the engine engine.
func (f *fakeHost) run(engine string) ([]byte, error) {
	cmd := exec.Command("bash", "-c", script(), "ship-gate", f.data, "once")
	cmd.Env = []string{"PATH=" + filepath.Join(f.dir, "bin") + ":" + os.Getenv("PATH"), "FAKE=" + f.fake, "FAKE_ENGINE=" + engine, "TZ=UTC"}
	return cmd.CombinedOutput()
}

func (f *fakeHost) log() []Entry {
	f.t.Helper()
	b, err := os.ReadFile(filepath.Join(f.home, ".ship", "apps", "shop", "gate.jsonl"))
	if os.IsNotExist(err) {
		return nil
	}
	var out []Entry
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var e Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			f.t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, e)
	}
	return out
}

func app(role, version string) map[string]string {
	return map[string]string{"service": "shop", "role": role, "destination": "", "ship.version": version}
}

// One reconcile at a time, as the gate makes them on each event: out
// while a follower is down, only the replica roles' running containers;
// back in once the follower has run a while, only the versions ship runs.
func TestReconcile(t *testing.T) {
	f := newFakeHost(t)
	hour := time.Hour
	f.container("f1", "shop-follower-app", "running", hour, map[string]string{"ship.follower": "/data/app.sqlite3"})
	f.container("f2", "shop-follower-cache", "running", hour, map[string]string{"ship.follower": "/data/cache.sqlite3"})
	f.container("r2", "shop-replicas-v2", "running", hour, app("replicas", "v2"))
	f.container("r1", "shop-replicas-v1", "exited", hour, app("replicas", "v1"))
	f.container("d2", "shop-readers-v2", "running", hour, app("readers", "v2"))
	f.container("w2", "shop-web-v2", "running", hour, app("web", "v2"))
	staging := app("replicas", "v2")
	staging["destination"] = "staging"
	f.container("s2", "shop-replicas-staging-v2", "running", hour, staging)
	other := app("replicas", "v2")
	other["service"] = "blog"
	f.container("b2", "blog-replicas-v2", "running", hour, other)

	f.reconcile()
	if f.calls()[0] != "" || len(f.log()) != 0 {
		t.Fatalf("every follower runs, yet: %v %v", f.calls(), f.log())
	}

	f.set("f1", "exited")
	f.reconcile()
	if got := f.calls(); !slices.Equal(got, []string{"stop shop-replicas-v2", "stop shop-readers-v2"}) {
		t.Errorf("out: the gate ran %q", got)
	}
	for id, want := range map[string]string{"r2": "exited", "d2": "exited", "r1": "exited", "w2": "running", "s2": "running", "b2": "running", "f1": "exited", "f2": "running"} {
		if got := f.status(id); got != want {
			t.Errorf("out: %s is %s, want %s", id, got, want)
		}
	}
	log := f.log()
	if len(log) != 1 || log[0].State != Out || log[0].Reason != "shop-follower-app is exited (137)" ||
		!slices.Equal(log[0].Containers, []string{"shop-replicas-v2", "shop-readers-v2"}) || time.Since(log[0].Time) > time.Minute {
		t.Errorf("out: log %+v", log)
	}

	if st, err := os.Stat(filepath.Join(f.home, ".ship", "apps", "shop", "gate.jsonl")); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("the log, which root writes and ship's SSH user reads: %v %v", st.Mode(), err)
	}

	// Still out: nothing more to log, until a replica starts meanwhile.
	f.reconcile()
	if len(f.log()) != 1 {
		t.Errorf("a second reconcile logged: %+v", f.log())
	}
	f.set("r2", "running")
	f.reconcile()
	if log := f.log(); len(log) != 2 || log[1].State != Out || !slices.Equal(log[1].Containers, []string{"shop-replicas-v2"}) || f.status("r2") != "exited" {
		t.Errorf("a replica started while out: %s, log %+v", f.status("r2"), log)
	}

	// The follower is back, but has not run for Settle yet.
	f.container("f1", "shop-follower-app", "running", 0, map[string]string{"ship.follower": "/data/app.sqlite3"})
	f.reconcile()
	if f.status("r2") != "exited" || len(f.log()) != 2 {
		t.Errorf("back in before the follower settled: %s %+v", f.status("r2"), f.log())
	}

	// Settled; meanwhile ship deployed readers v3: v2 stays stopped.
	f.container("f1", "shop-follower-app", "running", hour, map[string]string{"ship.follower": "/data/app.sqlite3"})
	f.healthy("readers", "v3")
	f.reconcile()
	for id, want := range map[string]string{"r2": "running", "d2": "exited", "r1": "exited", "w2": "running", "f1": "running"} {
		if got := f.status(id); got != want {
			t.Errorf("in: %s is %s, want %s", id, got, want)
		}
	}
	log = f.log()
	if len(log) != 3 || log[2].State != In || !slices.Equal(log[2].Containers, []string{"shop-replicas-v2"}) ||
		log[2].Reason != "every follower runs; left stopped: shop-readers-v2 is not the version ship runs here (v3)" {
		t.Errorf("in: log %+v", log)
	}
	if _, err := os.Stat(filepath.Join(f.home, ".ship", "apps", "shop", "gate", "stopped")); !os.IsNotExist(err) {
		t.Errorf("the record of stopped containers outlived them: %v", err)
	}
	for _, call := range f.calls() {
		if strings.Contains(call, "follower") || strings.Contains(call, "web") || strings.Contains(call, "v1") {
			t.Errorf("the gate touched %s", call)
		}
	}
}

// A follower that does not exist is down; a container removed while out
// is skipped, and a stop after a deliberate one (healthy record "") too.
func TestReconcileMissing(t *testing.T) {
	f := newFakeHost(t)
	f.container("f2", "shop-follower-cache", "running", time.Hour, nil)
	f.container("r2", "shop-replicas-v2", "running", time.Hour, app("replicas", "v2"))
	f.container("d2", "shop-readers-v2", "running", time.Hour, app("readers", "v2"))
	f.reconcile()
	if log := f.log(); len(log) != 1 || log[0].Reason != "shop-follower-app is missing" || f.status("r2") != "exited" {
		t.Fatalf("a missing follower: %s %+v", f.status("r2"), log)
	}
	f.container("f1", "shop-follower-app", "running", time.Hour, nil)
	os.RemoveAll(filepath.Join(f.fake, "c", "d2"))
	f.healthy("replicas", "")
	f.reconcile()
	log := f.log()
	if len(log) != 2 || log[1].State != In || len(log[1].Containers) != 0 || f.status("r2") != "exited" ||
		log[1].Reason != "every follower runs; left stopped: shop-replicas-v2 is not the version ship runs here, shop-readers-v2 is gone" {
		t.Errorf("in: %s %+v", f.status("r2"), log)
	}
}

// A gate whose docker CLI reaches another engine than ship's refuses to
// act, and says why.
func TestOtherEngine(t *testing.T) {
	f := newFakeHost(t)
	f.container("r2", "shop-replicas-v2", "running", time.Hour, app("replicas", "v2"))
	out, err := f.run("E2")
	if err == nil || !strings.Contains(string(out), "reaches the Docker engine E2, not E1, which ship deployed to") {
		t.Errorf("gate.sh on another engine: %v\n%s", err, out)
	}
	if f.status("r2") != "running" || f.log() != nil {
		t.Errorf("the gate acted on another engine: %s %+v", f.status("r2"), f.log())
	}
}

// copyAt makes the DB-txid beside the follower's copy say txid, and the
// replica's newest file, as `litestream ltx -json` in follower id lists
// it, end at replica ("" for a follower that cannot list the replica).
func (f *fakeHost) copyAt(id, db, txid, replica string) {
	f.t.Helper()
	f.write(filepath.Join(f.fake, "v", "shop-replica-shop_data", db+"-txid"), txid+"\n")
	ltx := filepath.Join(f.fake, "c", id, "ltx")
	if replica == "" {
		os.Remove(ltx)
		return
	}
	f.write(ltx, `[
  {
    "level": 0,
    "min_txid": "0000000000000001",
    "max_txid": "`+replica+`",
    "size": 4096,
    "timestamp": "2026-12-06T12:00:00Z"
  },
  {
    "level": 9,
    "min_txid": "0000000000000001",
    "max_txid": "0000000000000002",
    "size": 8192,
    "timestamp": "2026-12-06T11:00:00Z"
  }
]
`)
}

// recheck sets the data file's recheck, which is also how long a copy
// behind the replica must stay at one TXID to be stuck.
func (f *fakeHost) recheck(seconds string) {
	f.t.Helper()
	b, err := os.ReadFile(f.data)
	if err != nil {
		f.t.Fatal(err)
	}
	f.write(f.data, strings.Replace(string(b), "\nrecheck 30\n", "\nrecheck "+seconds+"\n", 1))
}

// stallHost is a replica host whose two followers have run an hour, each
// copy at the replica's newest TXID, and whose replicas run.
func stallHost(t *testing.T) *fakeHost {
	f := newFakeHost(t)
	f.container("f1", "shop-follower-app", "running", time.Hour, map[string]string{"ship.follower": "/data/app.sqlite3"})
	f.container("f2", "shop-follower-cache", "running", time.Hour, map[string]string{"ship.follower": "/data/cache.sqlite3"})
	f.container("r2", "shop-replicas-v2", "running", time.Hour, app("replicas", "v2"))
	f.copyAt("f1", "app.sqlite3", "0000000000000005", "0000000000000005")
	f.copyAt("f2", "cache.sqlite3", "0000000000000003", "0000000000000003")
	return f
}

// A follower that runs but whose copy stays behind the replica at one
// TXID (benbjohnson/litestream#1515) takes the replicas out at the second
// check that finds it so, recheck seconds on, and they come back once it
// advances, even while still behind.
func TestReconcileStuck(t *testing.T) {
	f := stallHost(t)
	f.recheck("0")
	f.reconcile()
	f.copyAt("f1", "app.sqlite3", "0000000000000005", "000000000000000c")
	f.reconcile()
	if f.status("r2") != "running" || len(f.log()) != 0 {
		t.Fatalf("out at the first check that found the copy behind: %s %+v", f.status("r2"), f.log())
	}
	f.reconcile()
	log := f.log()
	if f.status("r2") != "exited" || len(log) != 1 || log[0].State != Out || !slices.Equal(log[0].Containers, []string{"shop-replicas-v2"}) ||
		!strings.HasPrefix(log[0].Reason, "shop-follower-app does not advance: its copy is at TXID 0000000000000005, the replica at 000000000000000c, since ") {
		t.Fatalf("a stuck follower: %s %+v", f.status("r2"), log)
	}
	f.reconcile()
	if f.status("r2") != "exited" || len(f.log()) != 1 {
		t.Errorf("still stuck: %s %+v", f.status("r2"), f.log())
	}

	// The copy cannot be read: the gate cannot tell it moved.
	f.copyAt("f1", "app.sqlite3", "0000000000000005", "")
	f.reconcile()
	if f.status("r2") != "exited" || len(f.log()) != 1 {
		t.Errorf("stuck, then unreadable: %s %+v", f.status("r2"), f.log())
	}

	f.copyAt("f1", "app.sqlite3", "0000000000000007", "000000000000000d")
	f.reconcile()
	log = f.log()
	if f.status("r2") != "running" || len(log) != 2 || log[1].State != In || !slices.Equal(log[1].Containers, []string{"shop-replicas-v2"}) {
		t.Errorf("the follower advanced: %s %+v", f.status("r2"), log)
	}
	if f.calls()[0] != "stop shop-replicas-v2" || len(f.calls()) != 2 {
		t.Errorf("the gate ran %q", f.calls())
	}
}

// A copy that moves at every check, or that is the replica's newest, is
// never stuck, however long; nor is one behind whose second look comes
// sooner than recheck, or in another run of its follower.
func TestReconcileAdvancing(t *testing.T) {
	f := stallHost(t)
	f.recheck("0")
	for _, pos := range []string{"0000000000000006", "0000000000000007", "0000000000000008"} {
		f.copyAt("f1", "app.sqlite3", pos, "000000000000000f")
		f.reconcile()
	}
	if f.status("r2") != "running" || len(f.log()) != 0 {
		t.Errorf("advancing and caught-up followers: %s %+v", f.status("r2"), f.log())
	}

	g := stallHost(t)
	g.copyAt("f1", "app.sqlite3", "0000000000000005", "000000000000000c")
	g.reconcile()
	g.reconcile()
	if g.status("r2") != "running" || len(g.log()) != 0 {
		t.Errorf("two looks sooner than recheck (30 s) took the replicas out: %s %+v", g.status("r2"), g.log())
	}

	// A follower started again between two looks (a re-seed while the
	// gate was stopped) starts over, even at the same TXID.
	f.copyAt("f1", "app.sqlite3", "0000000000000005", "000000000000000c")
	f.reconcile()
	f.container("f1", "shop-follower-app", "running", time.Minute, map[string]string{"ship.follower": "/data/app.sqlite3"})
	f.reconcile()
	if f.status("r2") != "running" || len(f.log()) != 0 {
		t.Errorf("a follower started again since the last look: %s %+v", f.status("r2"), f.log())
	}
	f.reconcile()
	if f.status("r2") != "exited" || len(f.log()) != 1 {
		t.Errorf("the same run of it, at the same TXID, at the next look: %s %+v", f.status("r2"), f.log())
	}
}

// A copy whose position cannot be read, because the replica cannot be
// listed, its volume or DB-txid is missing, DB-txid is a link (which
// the gate never follows, though it leads to a stuck TXID) or its first
// line is not a TXID, is not judged stuck: only a copy seen at one TXID twice is.
func TestReconcileUnreadable(t *testing.T) {
	for name, spoil := range map[string]func(f *fakeHost){
		"no listing": func(f *fakeHost) { f.copyAt("f1", "app.sqlite3", "0000000000000005", "") },
		"no DB-txid": func(f *fakeHost) {
			os.Remove(filepath.Join(f.fake, "v", "shop-replica-shop_data", "app.sqlite3-txid"))
		},
		"no volume": func(f *fakeHost) { os.RemoveAll(filepath.Join(f.fake, "v", "shop-replica-shop_data")) },
		"a link": func(f *fakeHost) {
			txid := filepath.Join(f.fake, "v", "shop-replica-shop_data", "app.sqlite3-txid")
			f.write(filepath.Join(f.dir, "planted"), "0000000000000005\n")
			os.Remove(txid)
			if err := os.Symlink(filepath.Join(f.dir, "planted"), txid); err != nil {
				t.Fatal(err)
			}
		},
		"not hex": func(f *fakeHost) { f.copyAt("f1", "app.sqlite3", "../../etc/passwd", "000000000000000c") },
		"not its first line": func(f *fakeHost) {
			f.copyAt("f1", "app.sqlite3", "junk\n0000000000000005", "000000000000000c")
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := stallHost(t)
			f.recheck("0")
			f.copyAt("f1", "app.sqlite3", "0000000000000005", "000000000000000c")
			f.reconcile()
			spoil(f)
			f.reconcile()
			f.reconcile()
			if f.status("r2") != "running" || len(f.log()) != 0 {
				t.Errorf("an unreadable position took the replicas out: %s %+v", f.status("r2"), f.log())
			}
		})
	}
}
