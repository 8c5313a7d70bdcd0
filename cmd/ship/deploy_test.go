package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/internal/testapp"
	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/internal/testregistry"
)

// app is a project deploying the example app to test hosts.
type app struct {
	dir, service, secret string
	port                 int // published on 127.0.0.1 of each host
	// apart runs ship as a process of its own, in the project: a test
	// that calls t.Parallel may not change the test binary's directory,
	// as an in-process run does (helpers_test.go).
	apart bool
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// deployedApp writes a project for service on hosts, builds images v1, v2 and a
// version whose health check fails on h1's engine (the local engine ship
// sends images from), and removes the app when the test ends.
func deployedApp(t *testing.T, service string, hosts ...*testhost.Host) *app {
	t.Helper()
	a := &app{service: service, secret: "s3cret-" + rand.Text(), port: freePort(t)}
	var servers, known strings.Builder
	for _, h := range hosts {
		servers.WriteString("      - " + h.Addr + "\n")
		known.WriteString("    - " + h.KnownHostsPath + "\n")
	}
	a.dir = project(t, map[string]string{
		"config/deploy.yml": fmt.Sprintf(`service: %[1]s
image: ship-it-%[1]s
servers:
  web:
    hosts:
%[2]s    options:
      publish: 127.0.0.1:%[3]d:3000
volumes:
  - %[4]s_data:/data
env:
  clear:
    DATABASE_PATH: /data/app.sqlite3
    PORT: 3000
  secret:
    - APP_SECRET
healthcheck:
  path: /up
  port: 3000
deploy_timeout: 8
stop_timeout: 10
ssh:
  keys_only: true
  keys: [%[5]s]
  known_hosts:
%[6]s`, service, servers.String(), a.port, strings.ReplaceAll(service, "-", "_"), hosts[0].KeyPath, known.String()),
		".ship/secrets": "APP_SECRET=" + a.secret + "\n",
	})
	h1, _ := testhost.Hosts(t)
	testapp.Image(t, h1.DockerHost, "ship-it-"+service+":v1", testapp.ImageOptions{})
	testapp.Image(t, h1.DockerHost, "ship-it-"+service+":v2", testapp.ImageOptions{})
	testapp.Image(t, h1.DockerHost, "ship-it-"+service+":bad", testapp.ImageOptions{FailHealthcheck: true})
	t.Cleanup(func() {
		// Remove the app from every host: containers, their images, volumes.
		a.ship(t, "app", "remove", "--yes")
		for _, h := range hosts {
			cli := dockerClient(t, h)
			cli.VolumeRemove(context.Background(), strings.ReplaceAll(service, "-", "_")+"_data", true)
		}
	})
	return a
}

// ship runs the CLI in the project.
func (a *app) ship(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	if a.apart {
		return shipApart(t, a.dir, args...)
	}
	return ship(t, a.dir, args...)
}

// shipApart runs the built ship binary in dir.
func shipApart(t *testing.T, dir string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(shipBinary(t), args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("ship %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code
}

// mustShip runs the CLI and fails the test unless it succeeds.
func (a *app) mustShip(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := a.ship(t, args...)
	if code != 0 {
		t.Fatalf("ship %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out + errOut
}

func (a *app) url() string { return fmt.Sprintf("http://127.0.0.1:%d", a.port) }

// version is what the app on h1 says it is.
func (a *app) version(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(a.url() + "/version")
	if err != nil {
		return "unreachable: " + err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b))
}

func dockerClient(t *testing.T, h *testhost.Host) *client.Client {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.WithHost(h.DockerHost), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// The heart of ship: v1 → v2 → a broken version → rollback, under a steady
// stream of acknowledged writes. The engine's own event stream must show
// that two app containers never ran at the same instant, every write that
// was acknowledged must still be there, and the secret must never appear
// in a command line on the host, in ship's output or in the audit log.
func TestDeployRollbackNeverOverlapsOrLosesWrites(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	started := time.Now()
	a := deployedApp(t, "swap", h1)
	watch := testapp.Watch(t, h1.DockerHost, a.service)
	argv := testapp.ScanArgv(t, a.secret)
	var output strings.Builder

	output.WriteString(a.mustShip(t, "setup", "--skip-build", "--version", "v1"))
	if v := a.version(t); v != "v1" {
		t.Fatalf("after setup the app says %q, want v1", v)
	}
	writer := testapp.StartWriter(t, a.url(), 5*time.Millisecond)

	output.WriteString(a.mustShip(t, "deploy", "--skip-build", "--version", "v2"))
	if v := a.version(t); v != "v2" {
		t.Fatalf("after deploying v2 the app says %q", v)
	}

	out, errOut, code := a.ship(t, "deploy", "--skip-build", "--version", "bad", "--json")
	output.WriteString(out + errOut)
	if code != exitFailed {
		t.Fatalf("deploying a version whose health check fails exited %d, want 1\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "swap-web-v2 is serving again") || !strings.Contains(errOut, "last log lines of swap-web-bad") {
		t.Errorf("the failed deploy does not say it put v2 back and show the new container's logs:\n%s%s", out, errOut)
	}
	// --json: stdout is one document that says what happened per host.
	doc := deployDoc(t, out)
	wantDoc := deployReport{Command: "deploy", Service: "swap", Version: "bad", Result: "rolled_back", Hosts: []deployOutcome{
		{Host: h1.Addr, Role: "web", From: "v2", To: "bad", Result: "failed", Health: "unhealthy", Restored: true}}}
	if !reflect.DeepEqual(doc, wantDoc) {
		t.Errorf("deploy --json:\n got %+v\nwant %+v\n%s", doc, wantDoc, out)
	}
	if v := a.version(t); v != "v2" {
		t.Fatalf("after the failed deploy the app says %q, want v2 serving again", v)
	}

	out, errOut, code = a.ship(t, "rollback", "v1", "--json")
	output.WriteString(out + errOut)
	wantDoc = deployReport{Command: "rollback", Service: "swap", Version: "v1", Result: "rolled_back", Hosts: []deployOutcome{
		{Host: h1.Addr, Role: "web", From: "v2", To: "v1", Result: "rolled_back", Health: "healthy"}}}
	if doc := deployDoc(t, out); code != 0 || !reflect.DeepEqual(doc, wantDoc) {
		t.Errorf("rollback --json exited %d:\n got %+v\nwant %+v\n%s%s", code, doc, wantDoc, out, errOut)
	}
	if v := a.version(t); v != "v1" {
		t.Fatalf("after rollback the app says %q, want v1", v)
	}
	acked, failed := writer.Stop()
	testapp.Durable(t, a.url(), acked)
	t.Logf("%d writes acknowledged, %d refused during 3 swaps", len(acked), failed)
	if len(acked) < 50 {
		t.Errorf("only %d writes were acknowledged: the writer did not really run through the swaps", len(acked))
	}

	if n := watch.MaxRunning(); n != 1 {
		t.Errorf("at some instant %d app containers were running at once:\n%v", n, watch.Events())
	}
	// Each start must come after the previous container stopped. The
	// engine may send "die" after the next start, but "stop" before the
	// stop request returns, so either ends a container's run.
	running := ""
	for _, e := range watch.Events() {
		switch e.Action {
		case "start":
			if running != "" {
				t.Errorf("%s started while %s was still running", e.Name, running)
			}
			running = e.Name
		case "die", "stop":
			if e.Name == running {
				running = ""
			}
		}
	}

	if leaks := argv.Stop(); len(leaks) > 0 {
		t.Errorf("the secret appeared in a command line on the host: %v", leaks)
	}
	audit := a.mustShip(t, "audit")
	output.WriteString(audit)
	for _, want := range []string{"deploy web v1 -> v2: deployed", "deploy web v2 -> bad: failed", "rollback web v2 -> v1: rolled_back"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit log lacks %q:\n%s", want, audit)
		}
	}
	// The same log as JSON: the entries a script would check, all of
	// them, then -n of them.
	auditJSON := func(args ...string) []auditEntry {
		t.Helper()
		out, errOut, code := a.ship(t, append([]string{"audit", "--json"}, args...)...)
		output.WriteString(out + errOut)
		var doc struct {
			Service     string `json:"service"`
			Destination string `json:"destination"`
			Hosts       []struct {
				Host    string       `json:"host"`
				Entries []auditEntry `json:"entries"`
				Error   string       `json:"error"`
			} `json:"hosts"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &doc) != nil {
			t.Fatalf("audit --json %q: exit %d, not one JSON document:\n%s%s", args, code, out, errOut)
		}
		if doc.Service != a.service || len(doc.Hosts) != 1 || doc.Hosts[0].Host != h1.Addr || doc.Hosts[0].Error != "" {
			t.Fatalf("audit --json %q:\n%s", args, out)
		}
		return doc.Hosts[0].Entries
	}
	// The log outlives the app (app remove leaves it), so it may hold
	// earlier runs' entries, even legacy text lines: this run's are those
	// since it started.
	all := auditJSON("-n", "0")
	var swaps []auditEntry
	for _, e := range all {
		if e.Time.Before(started) {
			continue
		}
		if e.Performer == "" || e.Time.Location() != time.UTC || e.Text != "" {
			t.Errorf("audit --json entry without a performer or a UTC time, or a legacy one: %+v", e)
		}
		if e.Command == "deploy web" || e.Command == "rollback web" {
			swaps = append(swaps, e)
		}
	}
	want := []auditEntry{
		{Command: "deploy web", Versions: "v1", Result: "deployed"},
		{Command: "deploy web", Versions: "v1 -> v2", Result: "deployed"},
		{Command: "deploy web", Versions: "v2 -> bad", Result: "failed"},
		{Command: "rollback web", Versions: "v2 -> v1", Result: "rolled_back"},
	}
	if len(swaps) != len(want) {
		t.Fatalf("audit --json has %d deploys and rollbacks, want %d: %+v", len(swaps), len(want), all)
	}
	for i, w := range want {
		e := swaps[i]
		result, _, _ := strings.Cut(e.Result, ":")
		if e.Command != w.Command || e.Versions != w.Versions || result != w.Result {
			t.Errorf("audit --json deploy/rollback %d: %q %q %q, want %q %q %q...", i, e.Command, e.Versions, e.Result, w.Command, w.Versions, w.Result)
		}
	}
	if !strings.HasPrefix(swaps[2].Result, "failed: ") {
		t.Errorf("the failed deploy's result does not say why: %q", swaps[2].Result)
	}
	if last := auditJSON("--lines", "2"); !reflect.DeepEqual(last, all[len(all)-2:]) {
		t.Errorf("audit --json --lines 2 = %+v, want the last 2 of %+v", last, all)
	}
	if strings.Contains(output.String(), a.secret) {
		t.Errorf("the secret appeared in ship's output or audit log")
	}
	mode := a.mustShip(t, "server", "exec", "stat -c %a $HOME/.ship/apps/swap/env/web.env")
	if !strings.Contains(mode, "] 600") {
		t.Errorf("env file mode: %s", mode)
	}
	// The deploy command line takes no secret either: env files are written
	// over stdin, and containers are created through the API. The file is
	// read past ship, which prints the secret redacted.
	if envFile := hostFile(t, h1, ".ship/apps/swap/env/web.env"); !strings.Contains(envFile, `APP_SECRET="`+a.secret+`"`) {
		t.Errorf("env file does not hold the secret: %s", envFile)
	}
	if envFile := a.mustShip(t, "server", "exec", "cat $HOME/.ship/apps/swap/env/web.env"); !strings.Contains(envFile, `APP_SECRET="[REDACTED]"`) || strings.Contains(envFile, a.secret) {
		t.Errorf("ship server exec printed the env file without redacting the secret: %s", envFile)
	}
}

// auditEntry is an entry of ship audit --json (docs/json.md).
// deployReport is what a script reads of ship deploy --json; times and
// error texts are checked apart.
type deployReport struct {
	Command, Service, Version, Result string
	Hosts                             []deployOutcome
}

type deployOutcome struct {
	Host, Role, From, To, Result, Health string
	Restored                             bool
}

// deployDoc parses a deploy or rollback document, and checks the fields
// that vary from run to run.
func deployDoc(t *testing.T, out string) deployReport {
	t.Helper()
	var doc struct {
		deployReport
		Performer   string    `json:"performer"`
		StartedAt   time.Time `json:"started_at"`
		TookSeconds float64   `json:"took_seconds"`
		Hosts       []struct {
			deployOutcome
			SwapSeconds float64 `json:"swap_seconds"`
			Error       string  `json:"error"`
		} `json:"hosts"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not one JSON document: %v\n%s", err, out)
	}
	if doc.Performer == "" || time.Since(doc.StartedAt) > time.Minute || doc.TookSeconds <= 0 {
		t.Errorf("performer %q, started_at %s, took_seconds %v", doc.Performer, doc.StartedAt, doc.TookSeconds)
	}
	r := doc.deployReport
	for _, h := range doc.Hosts {
		if h.SwapSeconds <= 0 || (h.Result == "failed") != (h.Error != "") {
			t.Errorf("host %s: swap_seconds %v, result %s, error %q", h.Host, h.SwapSeconds, h.Result, h.Error)
		}
		r.Hosts = append(r.Hosts, h.deployOutcome)
	}
	return r
}

type auditEntry struct {
	Time      time.Time `json:"time"`
	Performer string    `json:"performer"`
	Command   string    `json:"command"`
	Versions  string    `json:"versions"`
	Result    string    `json:"result"`
	Text      string    `json:"text"`
}

// A container started by hand that mounts the database volume would be a
// second writer: the deploy must refuse, name it, and leave v1 serving.
func TestForeignWriterBlocksDeploy(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	a := deployedApp(t, "guard", h1)
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")

	cli := dockerClient(t, h1)
	ctx := context.Background()
	foreign := "guard-by-hand-" + strings.ToLower(rand.Text()[:6])
	_, err := cli.ContainerCreate(ctx, &container.Config{Image: "ship-it-guard:v1", Env: []string{"PORT=3999", "DATABASE_PATH=/data/other.sqlite3"}},
		&container.HostConfig{Binds: []string{"guard_data:/data"}}, nil, nil, foreign)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.ContainerRemove(ctx, foreign, container.RemoveOptions{Force: true}) })
	if err := cli.ContainerStart(ctx, foreign, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}

	out, errOut, code := a.ship(t, "deploy", "--skip-build", "--version", "v2")
	if code != exitFailed || !strings.Contains(errOut, foreign) || !strings.Contains(errOut, "single-writer check failed") {
		t.Fatalf("deploy with a foreign writer: exit %d\n%s%s", code, out, errOut)
	}
	if v := a.version(t); v != "v1" {
		t.Errorf("after the refused deploy the app says %q, want v1 still serving", v)
	}
	if list := a.mustShip(t, "app", "containers"); strings.Contains(list, "guard-web-v2") {
		t.Errorf("the refused deploy left its new container behind:\n%s", list)
	}
}

// exec runs in the running container (no new container, writable volume);
// exec --new gets a one-off container whose volume is read-only.
func TestAppExec(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	a := deployedApp(t, "exec", h1)
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	cli := dockerClient(t, h1)
	// Other packages' tests share the engine: count this app's containers.
	count := func() int {
		list, err := cli.ContainerList(context.Background(), container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("name", "^/exec-web-"))})
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}

	before := count()
	watch := testapp.Watch(t, h1.DockerHost, "exec")
	out := a.mustShip(t, "app", "exec", "/app touch /data/from-exec")
	if !strings.Contains(out, "touched /data/from-exec") {
		t.Errorf("exec output: %s", out)
	}
	if after := count(); after != before {
		t.Errorf("app exec changed the number of containers from %d to %d", before, after)
	}
	for _, e := range watch.Events() {
		if e.Action == "create" {
			t.Errorf("app exec created a container: %v", e)
		}
	}

	// A one-off container keeps the image's entrypoint (/app), as docker run does.
	out, errOut, code := a.ship(t, "app", "exec", "--new", "touch /data/from-new")
	if code == 0 || !strings.Contains(out+errOut, "read-only file system") {
		t.Errorf("exec --new could write to the volume: exit %d\n%s%s", code, out, errOut)
	}
	if after := count(); after != before {
		t.Errorf("app exec --new left a container behind (%d, then %d)", before, after)
	}
}

func TestRollbackToUnknownVersionListsRetained(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	a := deployedApp(t, "versions", h1)
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	a.mustShip(t, "deploy", "--skip-build", "--version", "v2")
	_, errOut, code := a.ship(t, "rollback", "v7")
	if code != exitFailed || !strings.Contains(errOut, "version v7 is not retained for role web; available: v2, v1") {
		t.Errorf("rollback to an unknown version: %d %s", code, errOut)
	}
	if v := a.version(t); v != "v2" {
		t.Errorf("app says %q after a refused rollback", v)
	}
	// One stopped version is within retain_containers (5): prune keeps it.
	if out := a.mustShip(t, "prune"); !strings.Contains(out, "nothing to prune") {
		t.Errorf("prune:\n%s", out)
	}
	if list := a.mustShip(t, "app", "containers"); !strings.Contains(list, "versions-web-v1") {
		t.Errorf("prune removed a retained version:\n%s", list)
	}
	// Redeploying v2 sets the old v2 container aside. With
	// retain_containers 1 the aside one goes, and v1 stays in reach.
	appendConfig(t, a, "retain_containers: 1\n", "")
	a.mustShip(t, "deploy", "--skip-build", "--version", "v2")
	list := a.mustShip(t, "app", "containers")
	if !strings.Contains(list, "versions-web-v1") || strings.Contains(list, "_replaced_") {
		t.Errorf("after a redeploy, prune kept the set-aside container rather than v1:\n%s", list)
	}
	a.mustShip(t, "rollback", "v1")
	if v := a.version(t); v != "v1" {
		t.Errorf("app says %q after rolling back to v1", v)
	}
	// The aside container shared v2's tag: pruning it kept the tag.
	a.mustShip(t, "deploy", "--skip-build", "--version", "v2")
	if v := a.version(t); v != "v2" {
		t.Errorf("app says %q after deploying v2 again", v)
	}
}

// Two hosts, each with its own engine: h2 gets the image over SSH. A
// failure on one host is reported and leaves it on its old version; the
// other host's swap goes through.
func TestTwoHostDeploy(t *testing.T) {
	h1, h2 := testhost.Hosts(t)
	// h2 must not have the image yet: ship sends it.
	for _, v := range []string{"v1", "v2", "bad"} {
		dockerClient(t, h2).ImageRemove(context.Background(), "ship-it-pair:"+v, image.RemoveOptions{Force: true})
	}
	a := deployedApp(t, "pair", h1, h2)
	out := a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	if !strings.Contains(out, "["+h2.Addr+"] sending image ship-it-pair:v1") {
		t.Errorf("h2 did not receive the image over SSH:\n%s", out)
	}
	if v := a.mustShip(t, "app", "version"); !strings.Contains(v, h1.Addr+" web: v1") || !strings.Contains(v, h2.Addr+" web: v1") {
		t.Fatalf("after setup:\n%s", v)
	}

	// A foreign writer on h2 only.
	cli := dockerClient(t, h2)
	ctx := context.Background()
	foreign := "pair-by-hand-" + strings.ToLower(rand.Text()[:6])
	if _, err := cli.ContainerCreate(ctx, &container.Config{Image: "ship-it-pair:v1", Env: []string{"PORT=3999"}},
		&container.HostConfig{Binds: []string{"pair_data:/data"}}, nil, nil, foreign); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.ContainerRemove(ctx, foreign, container.RemoveOptions{Force: true}) })
	if err := cli.ContainerStart(ctx, foreign, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	stdout, errOut, code := a.ship(t, "deploy", "--skip-build", "--version", "v2")
	if code != exitFailed || !strings.Contains(errOut, h2.Addr+" web: single-writer check failed: "+foreign) || !strings.Contains(errOut, "1 of 2 swaps failed") {
		t.Fatalf("deploy with a writer on h2: exit %d\n%s%s", code, stdout, errOut)
	}
	if v := a.mustShip(t, "app", "version"); !strings.Contains(v, h1.Addr+" web: v2") || !strings.Contains(v, h2.Addr+" web: v1") {
		t.Errorf("h1 should be on v2 and h2 still on v1:\n%s", v)
	}
	if err := cli.ContainerRemove(ctx, foreign, container.RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	a.mustShip(t, "deploy", "--skip-build", "--version", "v2")
	if v := a.mustShip(t, "app", "version"); !strings.Contains(v, h2.Addr+" web: v2") {
		t.Errorf("after the writer is gone, h2 should deploy v2:\n%s", v)
	}
}

// Hooks run around a deploy with SHIP_* and KAMAL_* variables; a failing
// pre-deploy hook stops the deploy before any host is touched. setup run
// again changes nothing.
func TestHooksAndSetupAgain(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	a := deployedApp(t, "hooks", h1)
	out := a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	if !strings.Contains(out, "created volume hooks_data") {
		t.Errorf("first setup did not create the volume:\n%s", out)
	}
	if out := a.mustShip(t, "setup", "--skip-build", "--version", "v1"); strings.Contains(out, "created") || !strings.Contains(out, "hooks-web-v1 is already running") {
		t.Errorf("second setup changed something:\n%s", out)
	}

	hooksDir := a.dir + "/.ship/hooks"
	write := func(name, script string) {
		if err := os.MkdirAll(hooksDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(hooksDir+"/"+name, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("pre-deploy", `echo "pre $SHIP_VERSION $KAMAL_VERSION $SHIP_HOSTS $SHIP_COMMAND" >> hooks.log`)
	write("post-deploy", `echo "post $SHIP_VERSION $SHIP_RUNTIME" >> hooks.log`)
	a.mustShip(t, "deploy", "--skip-build", "--version", "v2")
	log, _ := os.ReadFile(a.dir + "/hooks.log")
	if !strings.Contains(string(log), "pre v2 v2 "+h1.Addr+" deploy") || !strings.Contains(string(log), "post v2 ") {
		t.Errorf("hooks.log:\n%s", log)
	}

	write("pre-deploy", `echo "migrations are not ready" >&2; exit 3`)
	_, errOut, code := a.ship(t, "deploy", "--skip-build", "--version", "v1")
	if code != exitFailed || !strings.Contains(errOut, "pre-deploy failed: exit status 3") {
		t.Errorf("failing pre-deploy hook: exit %d\n%s", code, errOut)
	}
	if v := a.version(t); v != "v2" {
		t.Errorf("after a failed pre-deploy hook the app says %q, want v2", v)
	}
}

func TestAppLogsStopStart(t *testing.T) {
	h1, _ := testhost.Hosts(t)
	a := deployedApp(t, "logs", h1)
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	out := a.mustShip(t, "app", "logs", "-n", "10", "--grep", "listening")
	if !strings.Contains(out, "listening on") || !strings.Contains(out, "version=v1") {
		t.Errorf("app logs --grep listening:\n%s", out)
	}
	if out := a.mustShip(t, "app", "logs", "--grep", "no-such-line"); strings.Contains(out, "listening") {
		t.Errorf("--grep let through a line it does not match:\n%s", out)
	}
	// A Kamal alias, with arguments after its name.
	appendConfig(t, a, "aliases:\n  lines: app logs -n 10\n", "")
	if out := a.mustShip(t, "lines", "--grep", "listening"); !strings.Contains(out, "listening on") {
		t.Errorf("the alias lines --grep listening:\n%s", out)
	}
	a.mustShip(t, "app", "stop")
	if v := a.mustShip(t, "app", "version"); !strings.Contains(v, "web: not running") {
		t.Errorf("after app stop: %s", v)
	}
	a.mustShip(t, "app", "start")
	if v := a.version(t); v != "v1" {
		t.Errorf("after app start the app says %q", v)
	}

	// A failed deploy leaves its container as the newest: a stop and a
	// start bring back the version that served, not the one that failed.
	if _, _, code := a.ship(t, "deploy", "--skip-build", "--version", "bad"); code == 0 {
		t.Fatal("the deploy of a version that fails its health check succeeded")
	}
	a.mustShip(t, "app", "stop")
	out = a.mustShip(t, "app", "start")
	if v := a.version(t); v != "v1" || strings.Contains(out, "logs-web-bad") {
		t.Errorf("after a failed deploy, app stop and app start, the app says %q:\n%s", v, out)
	}
}

// Through a real registry (TLS, htpasswd) to both hosts: ship pushes once
// from the local engine, each host pulls with the credentials, and the
// password appears in no output and no command line.
func TestDeployThroughRegistry(t *testing.T) {
	h1, h2 := testhost.Hosts(t)
	reg := testregistry.Start(t)
	a := deployedApp(t, "reg", h1, h2)
	cfgFile := filepath.Join(a.dir, "config/deploy.yml")
	cfg, _ := os.ReadFile(cfgFile)
	os.WriteFile(cfgFile, append(cfg, []byte("registry:\n  server: "+reg.Server+"\n  username: "+reg.Username+"\n  password: [REGISTRY_PASSWORD]\n")...), 0o644)
	secrets, _ := os.ReadFile(filepath.Join(a.dir, ".ship/secrets"))
	os.WriteFile(filepath.Join(a.dir, ".ship/secrets"), append(secrets, []byte("REGISTRY_PASSWORD="+reg.Password+"\n")...), 0o644)
	local := dockerClient(t, h1)
	ref := reg.Server + "/ship-it-reg:v1"
	if err := local.ImageTag(context.Background(), "ship-it-reg:v1", ref); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, h := range []*testhost.Host{h1, h2} {
			dockerClient(t, h).ImageRemove(context.Background(), ref, image.RemoveOptions{Force: true})
		}
	})
	argv := testapp.ScanArgv(t, reg.Password)
	out := a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	// h1's engine is the local engine, so the image is there already; h2
	// can only have it from the registry, new for this test, where ship
	// pushed it.
	if !strings.Contains(out, "["+h1.Addr+"] image "+ref+" is on the host") || !strings.Contains(out, "["+h2.Addr+"] pulling image "+ref) {
		t.Errorf("expected h1 to have the image and h2 to pull it:\n%s", out)
	}
	if v := a.mustShip(t, "app", "version"); !strings.Contains(v, h1.Addr+" web: v1") || !strings.Contains(v, h2.Addr+" web: v1") {
		t.Errorf("after a registry deploy:\n%s", v)
	}
	if strings.Contains(out, reg.Password) {
		t.Error("the registry password appeared in ship's output")
	}
	if leaks := argv.Stop(); len(leaks) > 0 {
		t.Errorf("the registry password appeared in a command line: %v", leaks)
	}
	// Kamal's latest tag names the version each host serves, and goes
	// with the app.
	latest := reg.Server + "/ship-it-reg:latest"
	sameImage(t, dockerClient(t, h2), latest, local, ref)
	a.mustShip(t, "app", "remove", "--yes")
	if _, err := dockerClient(t, h2).ImageInspect(context.Background(), latest); err == nil {
		t.Errorf("%s is still on %s after app remove", latest, h2.Addr)
	}
}
