package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shipdeploy/ship/internal/testactions"
	"github.com/shipdeploy/ship/internal/testapp"
	"github.com/shipdeploy/ship/internal/testhost"
)

// actionsJob runs the repository's action.yml as a job step would, with a
// simulated Actions runner, against an app's project on the test host.
type actionsJob struct {
	a         *app
	key       []byte // the deploy key, as the ssh-private-key secret holds it
	known     string
	server    *httptest.Server // GitHub: release downloads and run URLs
	downloads atomic.Int32
	goEnv     []string // the Go build cache and module settings, for building ship
}

func newWorkflow(t *testing.T, a *app, h *testhost.Host) *actionsJob {
	t.Helper()
	key, err := os.ReadFile(h.KeyPath)
	if err != nil {
		t.Fatal(err)
	}
	known, err := os.ReadFile(h.KnownHostsPath)
	if err != nil {
		t.Fatal(err)
	}
	w := &actionsJob{a: a, key: key, known: string(known)}
	goVars := []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOTOOLCHAIN", "GOPROXY", "GOFLAGS"}
	out, err := exec.Command("go", append([]string{"env"}, goVars...)...).Output()
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		w.goEnv = append(w.goEnv, goVars[i]+"="+v)
	}
	dist := releaseDist(t)
	prefix := "/shipdeploy/ship/releases/download/" + releaseTestVersion + "/"
	w.server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, prefix)
		if !ok || strings.Contains(name, "/") {
			http.NotFound(rw, r)
			return
		}
		w.downloads.Add(1)
		http.ServeFile(rw, r, filepath.Join(dist, name))
	}))
	t.Cleanup(w.server.Close)

	// The workflow's config finds the key in the agent and the host key in
	// the known-hosts input: no keys or known_hosts. ssh.config is a key
	// ship warns of.
	cfg, err := os.ReadFile(filepath.Join(a.dir, "config/deploy.yml"))
	if err != nil {
		t.Fatal(err)
	}
	ci, _, _ := strings.Cut(string(cfg), "\nssh:\n")
	if err := os.WriteFile(filepath.Join(a.dir, "config/deploy.ci.yml"), []byte(ci+"\nssh:\n  config: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return w
}

// ciConfig is the workflow's config.
func ciConfig(t *testing.T, a *app) string {
	b, err := os.ReadFile(filepath.Join(a.dir, "config/deploy.ci.yml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jobDirs are the places a step could write to: its home, temp
// directories and the workspace.
type jobDirs struct{ home, temp, tmp string }

// run runs the action at ref with inputs over the defaults the workflow
// in docs/github-actions.md passes.
func (w *actionsJob) run(t *testing.T, ref string, inputs map[string]string) (*testactions.Result, jobDirs) {
	t.Helper()
	return w.runAs(t, ref, inputs, nil)
}

// runAs is run with more of the github context (run_number, run_attempt,
// workflow_ref, ...), which the runner also gives the step as its GITHUB_*
// variables.
func (w *actionsJob) runAs(t *testing.T, ref string, inputs, github map[string]string) (*testactions.Result, jobDirs) {
	t.Helper()
	dirs := jobDirs{home: t.TempDir(), temp: t.TempDir(), tmp: t.TempDir()}
	in := map[string]string{
		"ssh-private-key": string(w.key),
		"known-hosts":     w.known,
		"config-file":     "config/deploy.ci.yml",
	}
	for k, v := range inputs {
		in[k] = v
	}
	env := append([]string{"HOME=" + dirs.home, "TMPDIR=" + dirs.tmp, "PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8"}, w.goEnv...)
	gh := map[string]string{
		"sha": "0123456789abcdef", "action_ref": ref, "action_repository": "shipdeploy/ship",
		"server_url": w.server.URL, "repository": "acme/shop", "run_id": "4242", "actor": "octocat",
	}
	for k, v := range github {
		gh[k] = v
	}
	res, err := testactions.Run{
		ActionDir: filepath.Join(pkgDir, "..", ".."),
		Inputs:    in,
		Github:    gh,
		Env:       env,
		Workspace: w.a.dir,
		Temp:      dirs.temp,
	}.Execute(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res, dirs
}

// checkKeyKept fails if the private key shows in the job log, or in any
// file the job could have written, and if a line of it went unmasked.
func (w *actionsJob) checkKeyKept(t *testing.T, res *testactions.Result, dirs jobDirs) {
	t.Helper()
	var secret []string
	for _, line := range strings.Split(string(w.key), "\n") {
		if line != "" && !strings.HasPrefix(line, "-----") {
			secret = append(secret, line)
		}
	}
	for _, line := range secret {
		if strings.Contains(res.Log, line) {
			t.Errorf("the job log shows a line of the private key:\n%s", res.Log)
		}
		masked := false
		for _, m := range res.Masks {
			masked = masked || m == line
		}
		if !masked {
			t.Errorf("a line of the private key was not masked (masks: %d)", len(res.Masks))
		}
	}
	for _, raw := range strings.Split(res.Raw, "\n") {
		for _, line := range secret {
			if strings.Contains(raw, line) && raw != "::add-mask::"+line {
				t.Errorf("the step printed a line of the private key outside an add-mask command")
			}
		}
	}
	for _, dir := range []string{dirs.home, dirs.temp, dirs.tmp, w.a.dir} {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return nil
			}
			for _, line := range secret {
				if bytes.Contains(b, []byte(line)) {
					t.Errorf("the private key is on disk in %s", path)
					return nil
				}
			}
			return nil
		})
	}
}

// The action installs ship from the release, loads the key into an agent,
// deploys, and reports to the workflow: outputs, summary, folded log,
// annotations, audit performer. The key is never on disk, in argv or in
// the log.
func TestGitHubAction(t *testing.T) {
	t.Parallel() // its own service on h1, no kamal-proxy, a GitHub of its own: see helpers_test.go
	h1, _ := testhost.Hosts(t)
	a := deployedApp(t, "gha", h1)
	a.apart = true
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	w := newWorkflow(t, a, h1)
	keyLine := strings.Split(string(w.key), "\n")[1]

	argv := testapp.ScanArgv(t, keyLine)
	res, dirs := w.run(t, releaseTestVersion, map[string]string{"version": "v2"})
	if found := argv.Stop(); len(found) > 0 {
		t.Errorf("a process had the private key in its arguments: %q", found)
	}
	if res.Err != nil {
		t.Fatalf("%v\n%s", res.Err, res.Log)
	}
	w.checkKeyKept(t, res, dirs)
	if res.Outputs["version"] != "v2" || res.Outputs["result"] != "deployed" {
		t.Errorf("outputs %q, want version v2, result deployed", res.Outputs)
	}
	if w.downloads.Load() < 2 || !strings.Contains(res.Log, "ship "+releaseTestVersion+" (") {
		t.Errorf("ship was not installed from the release (%d downloads):\n%s", w.downloads.Load(), res.Log)
	}
	row := fmt.Sprintf("| %s | web | `v1` | `v2` |", h1.Addr)
	for _, want := range []string{"### ✅ deploy gha: v2", "**Deployed** `v2` to every host", row, "| healthy | ✅ deployed |"} {
		if !strings.Contains(res.Summary, want) {
			t.Errorf("the summary lacks %q:\n%s", want, res.Summary)
		}
	}
	// Where the time went: the host's timeline, its own boot (health)
	// among the swap's steps.
	timeline := regexp.MustCompile(`(?s)<details><summary>Timeline: where the [0-9.]+s went</summary>\n\n\*\*` + regexp.QuoteMeta(h1.Addr) +
		`\*\*\n\n\| Step \| Role \| At \| Took \| Share \|\n.*\| connect \| - \|.*\| stop \| web \|.*\| start \| web \|.*\| health \| web \| [0-9.]+s \| [0-9.]+s \| [0-9]+% \|\n.*\| report \| - \|.*</details>`)
	if !timeline.MatchString(res.Summary) {
		t.Errorf("the summary has no timeline of %s:\n%s", h1.Addr, res.Summary)
	}
	warning := fmt.Sprintf("::warning file=config/deploy.ci.yml,line=%d,col=11,title=ship%%3A configuration::ssh.config: ship does not read OpenSSH config files",
		strings.Count(ciConfig(t, a), "\n"))
	if len(res.Annotations) != 1 || !strings.HasPrefix(res.Annotations[0], warning) {
		t.Errorf("annotations %q, want one starting %s", res.Annotations, warning)
	}
	if !strings.Contains(res.Log, "::group::"+h1.Addr+" web\n") || !strings.Contains(res.Log, "::endgroup::") {
		t.Errorf("the host's log lines are not folded in a group:\n%s", res.Log)
	}
	if got := a.version(t); got != "v2" {
		t.Errorf("serving %s after the action, want v2", got)
	}
	performer := "octocat (" + w.server.URL + "/acme/shop/actions/runs/4242)"
	if audit := a.mustShip(t, "audit"); !strings.Contains(audit, performer+" deploy web v1 -> v2: deployed") {
		t.Errorf("the audit log does not name the actor and run:\n%s", audit)
	}

	// A broken config: annotations on its lines, result=failed, and no
	// host touched. The action's ref is a branch: ship is built from its
	// source.
	os.WriteFile(filepath.Join(a.dir, "config/deploy.broken.yml"), []byte("service: gha\nimage: ship-it-gha\nservers:\n  - "+h1.Addr+"\nvolumes:\n  - storage\nhealthcheck:\n  pth: /up\n"), 0o644)
	res, dirs = w.run(t, "main", map[string]string{"version": "v3", "config-file": "config/deploy.broken.yml"})
	if res.Err == nil {
		t.Fatalf("the action succeeded with a broken config:\n%s", res.Log)
	}
	w.checkKeyKept(t, res, dirs)
	if !strings.Contains(res.Log, "building ship main") {
		t.Errorf("ship was not built from the action's source:\n%s", res.Log)
	}
	if res.Outputs["result"] != "failed" || res.Outputs["version"] != "v3" {
		t.Errorf("outputs %q, want version v3, result failed", res.Outputs)
	}
	want := []string{
		`::error file=config/deploy.broken.yml,line=6,col=5,title=ship%3A configuration::volumes[0]: volume "storage" should be SOURCE:TARGET or SOURCE:TARGET:OPTIONS`,
		`::error file=config/deploy.broken.yml,line=8,col=3,title=ship%3A configuration::healthcheck.pth: unknown key (did you mean "path"?)`,
	}
	if strings.Join(res.Annotations, "\n") != strings.Join(want, "\n") {
		t.Errorf("annotations:\n%s\nwant:\n%s", strings.Join(res.Annotations, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(res.Summary, "**Failed**") {
		t.Errorf("the summary does not say the deploy failed:\n%s", res.Summary)
	}
	if got := a.version(t); got != "v2" {
		t.Errorf("serving %s after a failed run, want v2 still", got)
	}
}

// Three workflow runs started at once: the queue runs them one by one,
// and a run whose version a newer waiting run replaces steps aside. Each
// run's outputs and summary say which happened to it.
func TestGitHubActionConcurrentRuns(t *testing.T) {
	t.Parallel() // its own service on h1, no kamal-proxy, a GitHub of its own: see helpers_test.go
	h1, _ := testhost.Hosts(t)
	a := deployedApp(t, "gha-burst", h1)
	a.apart = true
	a.tag(t, h1, "r1", "r2", "r3")
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	w := newWorkflow(t, a, h1)
	// Each deploy holds the queue for at least two seconds, so the three
	// runs overlap however the machine schedules them.
	hook := filepath.Join(a.dir, ".kamal/hooks/pre-deploy")
	os.MkdirAll(filepath.Dir(hook), 0o755)
	os.WriteFile(hook, []byte("#!/bin/sh\nsleep 2\n"), 0o755)

	versions := []string{"r1", "r2", "r3"}
	results := make([]*testactions.Result, len(versions))
	var wg sync.WaitGroup
	for i, v := range versions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], _ = w.run(t, releaseTestVersion, map[string]string{"version": v})
		}()
	}
	wg.Wait()

	var deployed, superseded []string
	for i, res := range results {
		v := versions[i]
		if res.Err != nil {
			t.Errorf("run %s failed: %v\n%s", v, res.Err, res.Log)
			continue
		}
		if res.Outputs["version"] != v {
			t.Errorf("run %s: output version %q", v, res.Outputs["version"])
		}
		switch res.Outputs["result"] {
		case "deployed":
			deployed = append(deployed, v)
			if !strings.Contains(res.Summary, "**Deployed** `"+v+"`") {
				t.Errorf("run %s deployed, but its summary says:\n%s", v, res.Summary)
			}
		case "superseded":
			superseded = append(superseded, v)
			by := ""
			for _, other := range versions {
				if other != v && strings.Contains(res.Summary, "**Superseded** by deploy `"+other+"`") {
					by = other
				}
			}
			if by == "" {
				t.Errorf("run %s was superseded, but its summary names no other run's version:\n%s", v, res.Summary)
			}
		default:
			t.Errorf("run %s: result %q", v, res.Outputs["result"])
		}
	}
	if len(superseded) == 0 || len(deployed) == 0 || len(deployed)+len(superseded) != 3 {
		t.Errorf("deployed %v, superseded %v: want one or two deploys and the rest superseded", deployed, superseded)
	}
	serving := a.version(t)
	last := false
	for _, v := range deployed {
		last = last || v == serving
	}
	if !last {
		t.Errorf("serving %s, which no run deployed (deployed %v)", serving, deployed)
	}
	t.Logf("deployed %v, superseded %v, serving %s", deployed, superseded, serving)
}
