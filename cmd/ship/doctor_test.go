package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/volume"
	"github.com/kballard/go-shellquote"

	"github.com/shipdeploy/ship/internal/testapp"
	"github.com/shipdeploy/ship/internal/testhost"
)

// doctorDocument is ship doctor --json.
type doctorDocument struct {
	OK    bool   `json:"ok"`
	State string `json:"state"`
	Hosts []struct {
		Host   string `json:"host"`
		Checks []struct {
			Check   string `json:"check"`
			State   string `json:"state"`
			Message string `json:"message"`
			Fix     string `json:"fix"`
		} `json:"checks"`
	} `json:"hosts"`
}

// doctor runs ship doctor --json with args, and checks its exit status
// agrees with the document: 1 when a check failed, else 0.
func (a *app) doctor(t *testing.T, args ...string) doctorDocument {
	t.Helper()
	out, errOut, code := a.ship(t, append([]string{"doctor", "--json"}, args...)...)
	var doc doctorDocument
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Hosts) != 1 {
		t.Fatalf("ship doctor --json: %v (exit %d)\n%s%s", err, code, out, errOut)
	}
	if want := map[bool]int{true: 0, false: 1}[doc.OK]; code != want {
		t.Errorf("ship doctor exited %d with ok %v, want %d\n%s", code, doc.OK, want, out)
	}
	return doc
}

// check is the check named name in doc; it fails the test if there is
// none.
func (d doctorDocument) check(t *testing.T, name string) (state, message, fix string) {
	t.Helper()
	for _, c := range d.Hosts[0].Checks {
		if c.Check == name {
			return c.State, c.Message, c.Fix
		}
	}
	t.Fatalf("ship doctor has no check %q: %+v", name, d.Hosts[0].Checks)
	return "", "", ""
}

// failed lists the checks that failed, as lines.
func (d doctorDocument) failed() []string {
	var out []string
	for _, c := range d.Hosts[0].Checks {
		if c.State == "fail" {
			out = append(out, c.Check+": "+c.Message+"; fix: "+c.Fix)
		}
	}
	return out
}

// runFix runs a check's fix, a ship command, in the project.
func (a *app) runFix(t *testing.T, fix string) {
	t.Helper()
	words, err := shellquote.Split(fix)
	if err != nil || len(words) < 2 || words[0] != "ship" {
		t.Fatalf("the fix %q is not a ship command", fix)
	}
	a.mustShip(t, words[1:]...)
}

// ship doctor on a healthy app behind kamal-proxy, backed up by the
// litestream section, whose image runs as a user that is not root: it
// passes. Then each fault a user meets makes it fail, naming the cause and
// a fix, and the fix it names clears it; a warning alone (a frozen queue)
// does not fail it.
func TestDoctor(t *testing.T) {
	h1, h2 := testhost.Hosts(t)
	ctx := context.Background()
	a := proxiedApp(t, "doctorck", "", "")
	opts := testapp.ImageOptions{User: "app", Files: map[string]string{"/etc/passwd": "root:x:0:0::/:/app\napp:x:1000:1000::/data:/app\n"}}
	testapp.Image(t, h1.DockerHost, "ship-it-doctorck:v1", opts)
	testapp.Image(t, h1.DockerHost, "ship-it-doctorck:v2", opts)
	b := backUp(t, a)

	// The volume, made for the app's user as an operator would.
	cli := dockerClient(t, h2)
	vol, err := cli.VolumeCreate(ctx, volume.CreateOptions{Name: "doctorck_data"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(vol.Mountpoint, 1000, 1000); err != nil {
		t.Fatal(err)
	}
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	a.mustShip(t, "deploy", "--skip-build", "--version", "v2")
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for i := range 5 {
		if _, err := testapp.Post(client, "http://"+h2IP(t), fmt.Sprintf("doctor %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	b.waitSynced(t)

	doc := a.doctor(t)
	if !doc.OK || len(doc.failed()) > 0 {
		t.Fatalf("ship doctor fails on a healthy app: %v", doc.failed())
	}
	for name, want := range map[string]string{
		"ssh":                          "connected",
		"volume doctorck_data":         "writable by app (uid 1000, gid 1000)",
		"single writer doctorck_data":  "doctorck-web-v2 is the one writer",
		"writable /data/app.sqlite3":   "its directory and files are writable by app (uid 1000, gid 1000)",
		"database /data/app.sqlite3":   "WAL mode",
		"litestream /data/app.sqlite3": "replicating to s3://",
		"kamal-proxy":                  "kamal-proxy v0.9.2, no paused services",
		"route doctorck-web":           "kamal-proxy routes doctorck-web",
		"retained web":                 "retained v1, each with its restore point",
		"queue":                        "free",
		"data operations":              "none left half-done",
		"host tools":                   "bash, flock, sqlite3",
		"disk volume doctorck_data":    "free of",
		"disk Docker's data root":      "free of",
		"docker engine":                "Docker Engine",
	} {
		if state, msg, _ := doc.check(t, name); state != "ok" || !strings.Contains(msg, want) {
			t.Errorf("healthy: %s is %s: %q, want ok saying %q", name, state, msg, want)
		}
	}
	if state, msg, fix := doc.check(t, "fire drill"); state != "warn" || !strings.Contains(msg, "no drill has ever restored") || !strings.Contains(fix, "ship db drill --now") {
		t.Errorf("healthy, never drilled: fire drill is %s: %q (fix %q), want a warning", state, msg, fix)
	}
	out := a.mustShip(t, "doctor")
	if !strings.Contains(out, "[") || !strings.Contains(out, "] ok    volume doctorck_data: ") {
		t.Errorf("ship doctor's lines:\n%s", out)
	}

	// A volume owned by another uid than the image's user.
	if err := os.Chown(vol.Mountpoint, 2000, 2000); err != nil {
		t.Fatal(err)
	}
	doc = a.doctor(t)
	state, msg, fix := doc.check(t, "volume doctorck_data")
	if state != "fail" || !strings.Contains(msg, "owned by 2000:2000") || !strings.Contains(msg, "runs as app (uid 1000, gid 1000)") ||
		!strings.Contains(msg, "readonly database") || !strings.Contains(fix, "chown -R -h 1000:1000 "+vol.Mountpoint) {
		t.Errorf("a volume of another owner: %s: %q; fix %q", state, msg, fix)
	}
	a.runFix(t, fix)
	if info, err := os.Stat(vol.Mountpoint); err != nil || !ownedBy(info, 1000) {
		t.Errorf("the fix did not give the volume back to uid 1000: %v", err)
	}

	// A WAL that root made, as a root sqlite3 on the host would.
	wal := vol.Mountpoint + "/app.sqlite3-wal"
	if err := os.Chown(wal, 0, 0); err != nil {
		t.Fatal(err)
	}
	doc = a.doctor(t)
	state, msg, fix = doc.check(t, "writable /data/app.sqlite3")
	if state != "fail" || !strings.Contains(msg, "cannot write "+wal+" (0:0, mode 644)") || !strings.Contains(fix, "chown -h 1000:1000 "+wal) {
		t.Errorf("a WAL of root's: %s: %q; fix %q", state, msg, fix)
	}
	a.runFix(t, fix)
	if info, err := os.Stat(wal); err != nil || !ownedBy(info, 1000) {
		t.Errorf("the fix did not give the WAL back to uid 1000: %v", err)
	}

	// A second container writing the volume, started around ship.
	intruder, err := cli.ContainerCreate(ctx, &container.Config{Image: "ship-it-doctorck:v2", Env: []string{"DATABASE_PATH=/data/intruder.sqlite3", "PORT=3000"}},
		&container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: "doctorck_data", Target: "/data"}}}, nil, nil, "doctorck-intruder")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.ContainerRemove(ctx, intruder.ID, container.RemoveOptions{Force: true}) })
	if err := cli.ContainerStart(ctx, intruder.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	doc = a.doctor(t)
	state, msg, fix = doc.check(t, "single writer doctorck_data")
	if state != "fail" || !strings.Contains(msg, "doctorck-intruder, which ship did not start") || !strings.Contains(fix, "docker stop doctorck-intruder") {
		t.Errorf("a second writer: %s: %q; fix %q", state, msg, fix)
	}
	a.runFix(t, fix)
	if info, err := cli.ContainerInspect(ctx, intruder.ID); err != nil || info.State.Running {
		t.Errorf("the fix did not stop the second writer: %v", err)
	}

	// Litestream stopped.
	a.mustShip(t, "accessory", "stop", "litestream")
	doc = a.doctor(t)
	state, msg, fix = doc.check(t, "litestream /data/app.sqlite3")
	if state != "fail" || !strings.Contains(msg, "Litestream is not running: nothing is backed up") || fix != "ship accessory boot litestream" {
		t.Errorf("Litestream stopped: %s: %q; fix %q", state, msg, fix)
	}
	a.runFix(t, fix)
	b.waitSynced(t)

	// A disk-space threshold crossed: --min-free above what any disk has.
	doc = a.doctor(t, "--min-free", "99.99")
	state, msg, fix = doc.check(t, "disk volume doctorck_data")
	if state != "fail" || !strings.Contains(msg, "below the 99.99 % ship doctor fails at (--min-free)") || !strings.Contains(fix, "du -xsh "+vol.Mountpoint) {
		t.Errorf("disk threshold: %s: %q; fix %q", state, msg, fix)
	}

	// A warning alone: a frozen queue. The command still succeeds.
	a.mustShip(t, "lock", "acquire", "-m", "doctor's freeze")
	doc = a.doctor(t)
	state, msg, fix = doc.check(t, "queue")
	if !doc.OK || doc.State != "warn" || state != "warn" || !strings.Contains(msg, `"doctor's freeze"`) || !strings.HasPrefix(fix, "ship lock release") {
		t.Errorf("a frozen queue: ok %v, %s; queue %s: %q; fix %q", doc.OK, doc.State, state, msg, fix)
	}
	a.mustShip(t, "lock", "release")

	// Every fault fixed: healthy again.
	if doc = a.doctor(t); !doc.OK {
		t.Errorf("after the fixes ship doctor still fails: %v", doc.failed())
	}
}

// ownedBy reports whether a file's owner is uid.
func ownedBy(info os.FileInfo, uid int) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == uid
}
