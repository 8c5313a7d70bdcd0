package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shipdeploy/ship/internal/testactions"
	"github.com/shipdeploy/ship/internal/testhost"
)

// orderDoc is a deploy's order key as --json documents print it.
type orderDoc struct {
	Source  string `json:"source"`
	Run     int64  `json:"run"`
	Attempt int    `json:"attempt"`
	Commit  string `json:"commit"`
}

// newerDoc is a newer deploy in ship deploy --json.
type newerDoc struct {
	Command   string    `json:"command"`
	Version   string    `json:"version"`
	Performer string    `json:"performer"`
	Order     *orderDoc `json:"order"`
	Deployed  bool      `json:"deployed"`
	Reason    string    `json:"reason"`
}

// orderedReport is what these tests read of ship deploy --json.
type orderedReport struct {
	Version       string    `json:"version"`
	Order         *orderDoc `json:"order"`
	Result        string    `json:"result"`
	SupersededBy  *newerDoc `json:"superseded_by"`
	ReplacedNewer *newerDoc `json:"replaced_newer"`
}

// deployEnd is how a ship deploy --json process ended.
type deployEnd struct {
	code   int
	doc    orderedReport
	stderr string
}

// deployJSON runs ship deploy --json as a separate process, with env,
// and reads its document.
func (a *app) deployJSON(t *testing.T, env []string, version string, args ...string) deployEnd {
	cmd := a.proc(t, env, append([]string{"deploy", "--skip-build", "--version", version, "--json"}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	d := deployEnd{stderr: stderr.String()}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		d.code = exit.ExitCode()
	} else if err != nil {
		d.code = -1
		d.stderr += err.Error()
	}
	if err := json.Unmarshal(out, &d.doc); err != nil {
		d.stderr += "\nno JSON document: " + err.Error() + "\n" + string(out)
	}
	return d
}

// startDeployJSON runs deployJSON in the background.
func (a *app) startDeployJSON(t *testing.T, version string, args ...string) <-chan deployEnd {
	ch := make(chan deployEnd, 1)
	go func() { ch <- a.deployJSON(t, nil, version, args...) }()
	return ch
}

// queuedTicket is a ticket as ship queue --json prints it.
type queuedTicket struct {
	Performer string    `json:"performer"`
	Command   string    `json:"command"`
	Version   string    `json:"version"`
	Coalesce  bool      `json:"coalesce"`
	Order     *orderDoc `json:"order"`
}

// waitQueued waits until ship queue --json shows a deploy of version
// waiting, and returns its ticket.
func (a *app) waitQueued(t *testing.T, version string) queuedTicket {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		out, errOut, code := a.ship(t, "queue", "--json")
		if code != 0 {
			t.Fatalf("ship queue --json: %d %s", code, errOut)
		}
		var st struct {
			Waiting []queuedTicket `json:"waiting"`
		}
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatalf("ship queue --json: %v\n%s", err, out)
		}
		for _, tk := range st.Waiting {
			if tk.Command == "deploy" && tk.Version == version {
				return tk
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("deploy %s never joined the queue:\n%s", version, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// awaitRun waits for a run started in the background.
func awaitRun(t *testing.T, ch <-chan *testactions.Result) *testactions.Result {
	t.Helper()
	select {
	case res := <-ch:
		return res
	case <-time.After(5 * time.Minute):
		t.Fatal("the run did not end within 5 minutes")
		return nil
	}
}

// Runs of one workflow, numbered as GitHub numbers them, whose runners
// reach the queue out of order or late: the newest run's version ends up
// serving, and every older run ends superseded, exit 0, its summary naming
// the newer run. A re-run deploys anyway and says so.
func TestGitHubActionNewestRunWins(t *testing.T) {
	shipBinary(t)
	h1, _ := testhost.Hosts(t)
	a := deployedApp(t, "gha-order", h1)
	a.tag(t, h1, "v60", "v61", "v62", "v63")
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	w := newWorkflow(t, a, h1)
	const workflowRef = "acme/shop/.github/workflows/deploy.yml@refs/heads/main"
	// A run that should step aside at once gives up waiting soon if it
	// does not, rather than hold the test for ship's default 30 minutes.
	runNumbered := func(version string, number, attempt int, args ...string) *testactions.Result {
		res, _ := w.runAs(t, releaseTestVersion, map[string]string{"version": version, "args": strings.Join(args, " ")}, map[string]string{
			"run_number": strconv.Itoa(number), "run_attempt": strconv.Itoa(attempt), "run_id": strconv.Itoa(4200 + number),
			"workflow": "deploy", "workflow_ref": workflowRef,
		})
		return res
	}
	supersededBy := func(t *testing.T, res *testactions.Result, version, by string, more ...string) {
		t.Helper()
		if res.Err != nil {
			t.Errorf("run for %s failed: %v\n%s", version, res.Err, res.Log)
			return
		}
		if res.Outputs["result"] != "superseded" || res.Outputs["version"] != version {
			t.Errorf("run for %s: outputs %q, want result superseded", version, res.Outputs)
		}
		for _, want := range append([]string{"**Superseded** by deploy `" + by + "`"}, more...) {
			if !strings.Contains(res.Summary, want) {
				t.Errorf("run for %s: the summary lacks %q:\n%s", version, want, res.Summary)
			}
		}
	}

	t.Run("out of order", func(t *testing.T) {
		// The runners reach the queue as 63, 62, 61, behind a freeze.
		a.mustShip(t, "lock", "acquire", "-m", "letting the runs queue up")
		newest := make(chan *testactions.Result, 1)
		go func() { newest <- runNumbered("v63", 63, 1) }()
		tk := a.waitQueued(t, "v63")
		if o := tk.Order; o == nil || o.Source != "github:acme/shop/.github/workflows/deploy.yml" || o.Run != 63 || o.Attempt != 1 {
			t.Errorf("ship queue --json: run 63's ticket has order %+v", tk.Order)
		}
		if out := a.mustShip(t, "queue"); !strings.Contains(out, "waiting: deploy v63 (run 63 of acme/shop/.github/workflows/deploy.yml; requested by octocat (") {
			t.Errorf("ship queue does not show run 63's place:\n%s", out)
		}
		for _, run := range []struct {
			version string
			number  int
		}{{"v62", 62}, {"v61", 61}} {
			res := runNumbered(run.version, run.number, 1, "--queue-timeout", "90s")
			supersededBy(t, res, run.version, "v63", "v63 (run 63) is newer", "It is in the deploy queue too")
		}
		a.mustShip(t, "lock", "release")
		res := awaitRun(t, newest)
		if res.Err != nil || res.Outputs["result"] != "deployed" || !strings.Contains(res.Summary, "**Deployed** `v63`") {
			t.Errorf("run 63: %v, outputs %q\n%s\n%s", res.Err, res.Outputs, res.Summary, res.Log)
		}
		if got := a.version(t); got != "v63" {
			t.Errorf("serving %s, want v63, the newest run's", got)
		}
		if audit := a.mustShip(t, "audit"); !strings.Contains(audit, "deploy web v1 -> v63 (run 63 of acme/shop/.github/workflows/deploy.yml): deployed") {
			t.Errorf("the audit log does not record run 63:\n%s", audit)
		}
	})

	t.Run("late and older", func(t *testing.T) {
		res := runNumbered("v60", 60, 1)
		supersededBy(t, res, "v60", "v63", "v63 (run 63) is newer, and deployed already", "Re-run this job to deploy `v60` anyway")
		if got := a.version(t); got != "v63" {
			t.Errorf("serving %s after a late run 60, want v63 still", got)
		}

		// A person re-runs run 60: it deploys, and says what it replaced.
		res = runNumbered("v60", 60, 2)
		if res.Err != nil || res.Outputs["result"] != "deployed" {
			t.Fatalf("the re-run of run 60: %v, outputs %q\n%s", res.Err, res.Outputs, res.Log)
		}
		for _, want := range []string{"**Deployed** `v60`", "**It replaced a newer version**: `v63 (run 63)`"} {
			if !strings.Contains(res.Summary, want) {
				t.Errorf("the re-run's summary lacks %q:\n%s", want, res.Summary)
			}
		}
		if got := a.version(t); got != "v60" {
			t.Errorf("serving %s after the re-run, want v60", got)
		}

		// The ship binary in a step, with the runner's variables, and
		// --json: run 61 is still older than the newest deployed, run 63.
		dir := t.TempDir()
		summary, output := filepath.Join(dir, "summary"), filepath.Join(dir, "output")
		d := a.deployJSON(t, []string{"GITHUB_ACTIONS=true", "GITHUB_RUN_NUMBER=61", "GITHUB_RUN_ATTEMPT=1",
			"GITHUB_WORKFLOW=deploy", "GITHUB_WORKFLOW_REF=" + workflowRef, "GITHUB_REPOSITORY=acme/shop",
			"GITHUB_STEP_SUMMARY=" + summary, "GITHUB_OUTPUT=" + output}, "v61")
		by := d.doc.SupersededBy
		if d.code != 0 || d.doc.Result != "superseded" || by == nil || by.Version != "v63" || !by.Deployed ||
			by.Reason != "v63 (run 63) is newer" || by.Order == nil || by.Order.Run != 63 || d.doc.Order == nil || d.doc.Order.Run != 61 {
			t.Errorf("run 61 with --json: exit %d, %+v (superseded by %+v)\n%s", d.code, d.doc, by, d.stderr)
		}
		if b, _ := os.ReadFile(summary); !strings.Contains(string(b), "v63 (run 63) is newer") {
			t.Errorf("run 61's summary:\n%s", b)
		}
		if b, _ := os.ReadFile(output); !strings.Contains(string(b), "result=superseded\n") {
			t.Errorf("run 61's outputs:\n%s", b)
		}
		if got := a.version(t); got != "v60" {
			t.Errorf("serving %s, want v60 still", got)
		}
	})
}

// Laptop deploys of commits of one branch: whichever is requested first,
// the child commit ends up serving, and a deploy of an older commit that
// comes after steps aside, unless told --no-coalesce.
func TestLaptopDeploysNewestCommitWins(t *testing.T) {
	shipBinary(t)
	h1, _ := testhost.Hosts(t)
	a := deployedApp(t, "git-order", h1)
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = a.dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "main")
	git("config", "user.name", "Alice")
	git("config", "user.email", "alice@example.com")
	commit := func(msg string) string {
		os.WriteFile(filepath.Join(a.dir, "CHANGES"), []byte(msg+"\n"), 0o644)
		git("add", "CHANGES")
		git("commit", "-q", "-m", msg)
		return git("rev-parse", "HEAD")
	}
	parent := commit("one")
	child := commit("two")
	grandchild := commit("three")
	greatGrandchild := commit("four")
	a.tag(t, h1, parent, child, grandchild, greatGrandchild)
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")

	// queueUp requests first, then second, both waiting behind a freeze,
	// and lifts it.
	queueUp := func(t *testing.T, first, second string) (deployEnd, deployEnd) {
		t.Helper()
		a.mustShip(t, "lock", "acquire", "-m", "letting the deploys queue up")
		one := a.startDeployJSON(t, first)
		tk := a.waitQueued(t, first)
		if o := tk.Order; o == nil || o.Source != "git:main" || o.Commit != first || !tk.Coalesce {
			t.Errorf("ship queue --json: the ticket of %s has order %+v", first, tk.Order)
		}
		two := a.startDeployJSON(t, second)
		a.waitQueued(t, second)
		a.mustShip(t, "lock", "release")
		return <-one, <-two
	}
	descends := func(newer, older string) string {
		return newer + " is newer (commit " + newer[:12] + " descends from " + older[:12] + ")"
	}

	t.Run("child first", func(t *testing.T) {
		c, p := queueUp(t, child, parent)
		if c.code != 0 || c.doc.Result != "deployed" {
			t.Errorf("the child: exit %d, result %q\n%s", c.code, c.doc.Result, c.stderr)
		}
		if by := p.doc.SupersededBy; p.code != 0 || p.doc.Result != "superseded" || by == nil || by.Version != child || by.Reason != descends(child, parent) {
			t.Errorf("the parent: exit %d, %+v, superseded by %+v\n%s", p.code, p.doc, by, p.stderr)
		}
		if got := a.version(t); got != child {
			t.Errorf("serving %s, want the child %s", got, child)
		}
	})

	t.Run("parent first", func(t *testing.T) {
		p, c := queueUp(t, grandchild, greatGrandchild)
		if by := p.doc.SupersededBy; p.code != 0 || p.doc.Result != "superseded" || by == nil || by.Version != greatGrandchild ||
			by.Deployed || by.Reason != descends(greatGrandchild, grandchild) {
			t.Errorf("the parent: exit %d, %+v, superseded by %+v\n%s", p.code, p.doc, by, p.stderr)
		}
		if c.code != 0 || c.doc.Result != "deployed" {
			t.Errorf("the child: exit %d, result %q\n%s", c.code, c.doc.Result, c.stderr)
		}
		if got := a.version(t); got != greatGrandchild {
			t.Errorf("serving %s, want the child %s", got, greatGrandchild)
		}
	})

	t.Run("late and older", func(t *testing.T) {
		d := a.deployJSON(t, nil, child)
		if by := d.doc.SupersededBy; d.code != 0 || d.doc.Result != "superseded" || by == nil || by.Version != greatGrandchild ||
			!by.Deployed || by.Reason != descends(greatGrandchild, child) {
			t.Errorf("a late deploy of an older commit: exit %d, %+v, superseded by %+v\n%s", d.code, d.doc, by, d.stderr)
		}
		if got := a.version(t); got != greatGrandchild {
			t.Errorf("serving %s, want %s still", got, greatGrandchild)
		}
		d = a.deployJSON(t, nil, child, "--no-coalesce")
		if n := d.doc.ReplacedNewer; d.code != 0 || d.doc.Result != "deployed" || n == nil || n.Version != greatGrandchild {
			t.Errorf("--no-coalesce: exit %d, %+v, replaced %+v\n%s", d.code, d.doc, n, d.stderr)
		}
		if !strings.Contains(d.stderr, child+" replaces "+greatGrandchild) {
			t.Errorf("--no-coalesce does not say what it replaced:\n%s", d.stderr)
		}
		if got := a.version(t); got != child {
			t.Errorf("serving %s after --no-coalesce, want %s", got, child)
		}
		if audit := a.mustShip(t, "audit"); !strings.Contains(audit, "(commit "+child[:12]+" on main): deployed") {
			t.Errorf("the audit log does not record the commit:\n%s", audit)
		}
		// A rollback is never ordered: back to the first version, older
		// than every commit.
		a.mustShip(t, "rollback", "v1")
		if got := a.version(t); got != "v1" {
			t.Errorf("serving %s after ship rollback v1", got)
		}
	})
}
