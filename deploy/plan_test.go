package deploy

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The default version names what the image holds: the commit, when the
// build is from the commit; with a suffix only when a dirty working tree
// is built.
func TestGitVersion(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run("init", "-q")
	os.WriteFile(filepath.Join(dir, "app.rb"), []byte("v1\n"), 0o644)
	run("add", ".")
	run("commit", "-qm", "v1")
	sha := run("rev-parse", "HEAD")
	ctx := context.Background()
	for _, workingTree := range []bool{false, true} {
		if v, err := GitVersion(ctx, dir, workingTree); err != nil || v != sha {
			t.Errorf("clean tree, working tree %v: %q, %v; want %s", workingTree, v, err, sha)
		}
	}
	os.WriteFile(filepath.Join(dir, "app.rb"), []byte("v2\n"), 0o644)
	if v, err := GitVersion(ctx, dir, false); err != nil || v != sha {
		t.Errorf("dirty tree built as committed: %q, %v; want the commit %s", v, err, sha)
	}
	v1, err := GitVersion(ctx, dir, true)
	v2, _ := GitVersion(ctx, dir, true)
	if err != nil || !strings.HasPrefix(v1, sha+"_uncommitted_") || v1 == v2 {
		t.Errorf("dirty working tree: %q and %q, %v; want two different %s_uncommitted_ versions", v1, v2, err, sha)
	}
	if _, err := GitVersion(ctx, t.TempDir(), false); err == nil || !strings.Contains(err.Error(), "pass --version") {
		t.Errorf("outside git: %v, want advice to pass --version", err)
	}
}
