package workflow

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/queue"
)

// repo is a git repository for tests: commit makes a commit and returns
// its ID.
type repo struct {
	t   *testing.T
	dir string
}

func newRepo(t *testing.T) *repo {
	t.Helper()
	r := &repo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *repo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r *repo) commit(msg string) string {
	r.t.Helper()
	os.WriteFile(filepath.Join(r.dir, "file"), []byte(msg), 0o644)
	r.git("add", "file")
	r.git("commit", "-q", "-m", msg)
	return r.git("rev-parse", "HEAD")
}

// Outside GitHub Actions a deploy of a commit of the checkout is ordered
// by the branch and the commit; a version that only looks like a commit,
// or that git does not know, has no order; under Actions the run does.
func TestOrderFor(t *testing.T) {
	t.Setenv("GITHUB_ACTIONS", "")
	ctx := context.Background()
	r := newRepo(t)
	parent := r.commit("one")
	cfg := &config.Config{Root: r.dir}
	for version, want := range map[string]queue.Order{
		parent:                            {Source: "git:main", Commit: parent},
		parent + "_uncommitted_abcdefabc": {Source: "git:main", Commit: parent},
		"v2":                              {},
		parent[:12]:                       {},
		strings.Repeat("0", 40):           {},
	} {
		if got := orderFor(ctx, cfg, version); got != want {
			t.Errorf("orderFor(%s) = %+v, want %+v", version, got, want)
		}
	}
	r.git("checkout", "-q", "--detach")
	if got := orderFor(ctx, cfg, parent); got.Source != "git:HEAD" {
		t.Errorf("detached: source %q, want git:HEAD", got.Source)
	}

	t.Setenv("GITHUB_ACTIONS", "true")
	t.Setenv("GITHUB_RUN_NUMBER", "63")
	t.Setenv("GITHUB_RUN_ATTEMPT", "2")
	t.Setenv("GITHUB_WORKFLOW_REF", "acme/shop/.github/workflows/deploy.yml@refs/heads/main")
	want := queue.Order{Source: "github:acme/shop/.github/workflows/deploy.yml", Run: 63, Attempt: 2}
	if got := orderFor(ctx, cfg, parent); got != want {
		t.Errorf("under Actions: %+v, want %+v", got, want)
	}
}

// The checkout orders a parent and its child; it cannot order commits it
// lacks or diverging histories, and says why.
func TestCheckoutCompare(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	parent := r.commit("one")
	child := r.commit("two")
	r.git("checkout", "-q", "-b", "side", parent)
	side := r.commit("three")
	co := checkout{root: r.dir}
	for _, tt := range []struct {
		a, b    string
		want    int
		decided bool
		how     string
	}{
		{child, parent, 1, true, "commit " + child[:12] + " descends from " + parent[:12]},
		{parent, child, -1, true, "commit " + child[:12] + " descends from " + parent[:12]},
		{side, child, 0, false, "diverging histories"},
		{strings.Repeat("ab", 20), child, 0, false, "commit abababababab is not in this checkout (git fetch lets ship compare)"},
	} {
		c, decided, how := co.compare(ctx, tt.a, tt.b)
		if c != tt.want || decided != tt.decided || !strings.Contains(how, tt.how) {
			t.Errorf("compare(%.7s, %.7s) = %d, %v, %q; want %d, %v, %q", tt.a, tt.b, c, decided, how, tt.want, tt.decided, tt.how)
		}
	}

	// A shallow clone cannot say two commits are unrelated.
	shallow := t.TempDir()
	if out, err := exec.Command("git", "clone", "-q", "--depth", "1", "--no-single-branch", "file://"+r.dir, shallow).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	if _, decided, how := (checkout{root: shallow}).compare(ctx, side, child); decided || !strings.Contains(how, "shallow") {
		t.Errorf("in a shallow clone: decided %v, %q; want undecided, shallow", decided, how)
	}
}

// The head of the queue steps aside for a newer commit of its branch; for
// an older one it does not; where git cannot tell, the later request wins.
func TestNewerTicket(t *testing.T) {
	r := newRepo(t)
	parent := r.commit("one")
	child := r.commit("two")
	s := &session{cfg: &config.Config{Root: r.dir}}
	tk := func(id, commit string) queue.Ticket {
		return queue.Ticket{ID: id, Command: "deploy", Version: commit, Coalesce: true, Order: queue.Order{Source: "git:main", Commit: commit}}
	}
	ctx := context.Background()
	head := tk("1700000000000000001-1", parent)
	for _, tt := range []struct {
		u      queue.Ticket
		newer  bool
		reason string
	}{
		{tk("1700000000000000002-2", child), true, child + " is newer (commit " + child[:12] + " descends from " + parent[:12] + ")"},
		{tk("1700000000000000002-2", parent), true, parent + " was requested later, for the same commit"},
		{tk("1700000000000000002-2", strings.Repeat("cd", 20)), true, "was requested later, and ship cannot tell from git which is newer: commit cdcdcdcdcdcd is not in this checkout"},
	} {
		newer, why := s.newerTicket(ctx, tt.u, head)
		if newer != tt.newer || !strings.Contains(why, tt.reason) {
			t.Errorf("newerTicket(%.7s) = %v, %q; want %v, %q", tt.u.Version, newer, why, tt.newer, tt.reason)
		}
	}
	if newer, _ := s.newerTicket(ctx, head, tk("1700000000000000002-2", child)); newer {
		t.Error("the parent counts as newer than its child")
	}
}
