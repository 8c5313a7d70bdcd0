package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/shipdeploy/ship/config"
)

// workingTreeHint is how to build what is on disk instead of the commit.
const workingTreeHint = "set builder.context: . to build the working tree"

// source returns the project root to make the build context from, and a
// function that removes it when the build is done.
//
// By default that is a clean export of the commit being deployed, as
// Kamal builds from a clone: what git ignores or does not track (secrets,
// .env, local databases, .git itself) can never reach the image and the
// registry, whatever the Dockerfile copies. A builder.context opts into
// the working tree, as in Kamal, where setting it means "build this
// directory as it is".
func source(ctx context.Context, c *config.Config, version string, warn func(string)) (string, func(), error) {
	nothing := func() {}
	if c.Builder.Context != "" {
		return c.Root, nothing, nil
	}
	prefix, err := repository(ctx, c.Root)
	if errors.Is(err, errNotRepository) {
		// There is no commit to build, only this directory, which is
		// what Kamal and docker build would send too; refusing would
		// stop every project kept outside git until it added a line
		// that changes nothing. The warning says what goes in, and the
		// line that silences it says the user chose it.
		warn(fmt.Sprintf("%s is not in a git repository, so ship builds the working tree as it is: every file .dockerignore does not exclude goes into the image; set builder.context: . to choose that and silence this warning", c.Root))
		return c.Root, nothing, nil
	} else if err != nil {
		return "", nil, err
	}
	commit, err := commitOf(ctx, c.Root, version, warn)
	if err != nil {
		return "", nil, err
	}
	short := commit[:12]

	// The Dockerfile may sit outside the project root (dockerfile:
	// ../Dockerfile), and then comes from the commit too. An absolute
	// path is left alone: it names a file on this machine, not in git.
	dockerfile := c.Builder.Dockerfile
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	var extra []string
	if !filepath.IsAbs(dockerfile) && !inside(dockerfile) {
		extra = append(extra, dockerfile)
	}

	tmp, err := os.MkdirTemp("", "ship-build-")
	if err != nil {
		return "", nil, fmt.Errorf("export %s: %w", short, err)
	}
	cleanup := func() { os.RemoveAll(tmp) }
	e := exporter{dir: tmp, root: c.Root, warn: warn}
	tree := filepath.Join(tmp, "tree")
	if err := e.checkout(ctx, c.Root, prefix, commit, tree, extra); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("export %s: %w", short, err)
	}
	root := filepath.Join(tree, filepath.FromSlash(prefix))
	if _, err := os.Stat(root); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("%s is not in commit %s, and ship builds the committed tree: commit the project, or %s", c.Root, short, workingTreeHint)
	}
	if !filepath.IsAbs(dockerfile) {
		if _, err := os.Lstat(filepath.Join(root, dockerfile)); err != nil {
			cleanup()
			return "", nil, fmt.Errorf("builder.dockerfile: %s is not in commit %s, and ship builds the committed tree: commit it, or %s", dockerfile, short, workingTreeHint)
		}
	}

	pathspecs := append([]string{"."}, extra...)
	changes, err := leftOut(ctx, c.Root, prefix, commit, pathspecs)
	if err != nil {
		cleanup()
		return "", nil, err
	}
	if s := changes.String(); s != "" {
		warn(fmt.Sprintf("building %s as committed; left out: %s — commit them, or %s", short, s, workingTreeHint))
	}
	return root, cleanup, nil
}

// inside reports whether a relative path stays under the directory it is
// relative to.
func inside(rel string) bool {
	rel = filepath.Clean(rel)
	return rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// errNotRepository is a project that no git repository holds.
var errNotRepository = errors.New("not a git repository")

// repository returns dir's path in the git work tree holding it: "" at
// the top, else "sub/dir/".
func repository(ctx context.Context, dir string) (string, error) {
	out, err := git(ctx, dir, nil, "rev-parse", "--show-prefix")
	if errors.Is(err, exec.ErrNotFound) {
		// Without git ship cannot tell a commit from the working tree,
		// and building the working tree of a repository is what this
		// guards against.
		if hasGitDir(dir) {
			return "", fmt.Errorf("git is not installed, and ship needs it to build the committed tree of %s: install git, or %s", dir, workingTreeHint)
		}
		return "", errNotRepository
	} else if err != nil {
		if strings.Contains(err.Error(), "not a git repository") {
			return "", errNotRepository
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// hasGitDir reports whether dir or a directory above it has a .git.
func hasGitDir(dir string) bool {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return true
	}
	for {
		if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
			return true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return false
		}
		dir = parent
	}
}

// commitHash is a version that names a commit: a full hash, as
// deploy.GitVersion makes it, with or without its suffix for a dirty
// tree. Short hashes are not taken for commits: a build number such as
// 1234567 could be one by accident.
var commitHash = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})(_uncommitted_[0-9a-z]+)?$`)

// commitOf is the commit to build for version: the commit it names, or
// HEAD when it names none (--version v2), as Kamal builds HEAD whatever
// the version.
func commitOf(ctx context.Context, dir, version string, warn func(string)) (string, error) {
	m := commitHash.FindStringSubmatch(version)
	if m != nil {
		if _, err := git(ctx, dir, nil, "cat-file", "-e", m[1]+"^{commit}"); err == nil {
			return m[1], nil
		}
	}
	out, err := git(ctx, dir, nil, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
	if err != nil {
		return "", fmt.Errorf("%s has no commit to build, and ship builds the committed tree: commit, or %s", dir, workingTreeHint)
	}
	head := strings.TrimSpace(string(out))
	if m != nil {
		// Likely a commit not fetched here, such as a shallow CI
		// checkout's: the image is tagged with one commit and holds
		// another, which must not go unnoticed.
		warn(fmt.Sprintf("version %s names commit %s, which this repository does not have, so ship builds HEAD (%s) under that version: fetch the commit to build it", version, m[1][:12], head[:12]))
	}
	return head, nil
}

// exporter writes commits' trees into a temporary directory, with git's
// plumbing and a private index, so that the user's index and working tree
// are never touched. Checking out (rather than git archive) applies the
// repository's filters, such as Git LFS, exactly as a clone would.
type exporter struct {
	dir     string // for index files
	indexes int
	root    string // the project's, that paths in warnings are relative to
	warn    func(string)
}

// checkout writes commit's files under workdir (a directory of the work
// tree whose path in the repository is prefix) into dst at the same
// paths, plus the files extra names relative to workdir, and the
// submodules among them at the commits it records.
func (e *exporter) checkout(ctx context.Context, workdir, prefix, commit, dst string, extra []string) error {
	e.indexes++
	env := []string{"GIT_INDEX_FILE=" + filepath.Join(e.dir, fmt.Sprintf("index%d", e.indexes))}
	if _, err := git(ctx, workdir, env, "read-tree", commit); err != nil {
		return err
	}
	// From workdir, --all checks out only what lies under it.
	if _, err := git(ctx, workdir, env, "checkout-index", "--all", "--force", "--prefix="+dst+"/"); err != nil {
		return err
	}
	for _, f := range extra {
		// A file the commit lacks is reported by the caller, which
		// knows what it is for.
		_, _ = git(ctx, workdir, env, "checkout-index", "--force", "--prefix="+dst+"/", "--", f)
	}
	out, err := git(ctx, workdir, env, "ls-files", "--stage", "-z")
	if err != nil {
		return err
	}
	for _, entry := range strings.Split(string(out), "\x00") {
		// MODE SHA STAGE\tPATH, the path relative to workdir.
		meta, path, ok := strings.Cut(entry, "\t")
		fields := strings.Fields(meta)
		if !ok || len(fields) < 2 || fields[0] != "160000" {
			continue
		}
		if err := e.submodule(ctx, filepath.Join(workdir, path), fields[1], filepath.Join(dst, filepath.FromSlash(prefix), path)); err != nil {
			return err
		}
	}
	return nil
}

// submodule writes a submodule's files at commit into dst, from its work
// tree at dir. One that is not checked out here stays an empty directory,
// as it would in the working tree, with a warning.
func (e *exporter) submodule(ctx context.Context, dir, commit, dst string) error {
	out, err := git(ctx, dir, nil, "rev-parse", "--show-toplevel")
	same := err == nil && samePath(strings.TrimSpace(string(out)), dir)
	if same {
		_, err = git(ctx, dir, nil, "cat-file", "-e", commit+"^{commit}")
	}
	if !same || err != nil {
		name := dir
		if rel, err := filepath.Rel(e.root, dir); err == nil {
			name = rel
		}
		e.warn(fmt.Sprintf("submodule %s at %s is not checked out here, so its directory is empty in the image: run git submodule update --init --recursive", name, commit[:12]))
		return nil
	}
	return e.checkout(ctx, dir, "", commit, dst, nil)
}

// samePath reports whether a and b name the same directory.
func samePath(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

// changes is what a working tree has that the commit built does not, as
// paths relative to the project root.
type changes struct {
	modified, added, deleted, untracked []string
}

// leftOut compares the working tree under dir (whose path in the
// repository is prefix) with commit, for the paths pathspecs name.
func leftOut(ctx context.Context, dir, prefix, commit string, pathspecs []string) (changes, error) {
	var ch changes
	args := append([]string{"diff", "--no-ext-diff", "--no-renames", "--name-status", "-z", commit, "--"}, pathspecs...)
	out, err := git(ctx, dir, nil, args...)
	if err != nil {
		return ch, err
	}
	// STATUS\0PATH\0..., paths relative to the top of the repository.
	fields := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	for i := 0; i+1 < len(fields); i += 2 {
		path, err := filepath.Rel(filepath.FromSlash(prefix+"."), filepath.FromSlash(fields[i+1]))
		if err != nil {
			path = fields[i+1]
		}
		switch fields[i][0] {
		case 'A':
			ch.added = append(ch.added, path)
		case 'D':
			ch.deleted = append(ch.deleted, path)
		default:
			ch.modified = append(ch.modified, path)
		}
	}
	// An untracked directory counts once, as git status shows it.
	args = append([]string{"ls-files", "--others", "--exclude-standard", "--directory", "--no-empty-directory", "-z", "--"}, pathspecs...)
	if out, err = git(ctx, dir, nil, args...); err != nil {
		return ch, err
	}
	for _, path := range strings.Split(string(out), "\x00") {
		if path != "" {
			ch.untracked = append(ch.untracked, path)
		}
	}
	return ch, nil
}

// maxPaths bounds the paths a warning lists per kind of change.
const maxPaths = 5

// String is the changes as a warning lists them: "2 modified files (a,
// b), 1 untracked (c)"; "" for none.
func (ch changes) String() string {
	var parts []string
	for _, k := range []struct {
		paths     []string
		one, many string
	}{
		{ch.modified, "modified file", "modified files"},
		{ch.added, "new file", "new files"},
		{ch.deleted, "deletion", "deletions"},
		{ch.untracked, "untracked", "untracked"},
	} {
		n := len(k.paths)
		if n == 0 {
			continue
		}
		what := k.many
		if n == 1 {
			what = k.one
		}
		list := strings.Join(k.paths[:min(n, maxPaths)], ", ")
		if n > maxPaths {
			list += fmt.Sprintf(" and %d more", n-maxPaths)
		}
		parts = append(parts, fmt.Sprintf("%d %s (%s)", n, what, list))
	}
	return strings.Join(parts, ", ")
}

// git runs git in dir with env added to ship's and returns its output. Its
// messages are in English, so that they can be recognized; pathspecs are
// literal, so a file named with * means that file; and it takes no
// optional locks, so a build never rewrites the user's index.
func git(ctx context.Context, dir string, env []string, args ...string) ([]byte, error) {
	args = append([]string{"--no-optional-locks", "--literal-pathspecs"}, args...)
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "LC_ALL=C", "LANGUAGE="), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return nil, fmt.Errorf("git %s: %s", args[2], strings.TrimSpace(stderr.String()))
		}
		return nil, fmt.Errorf("git %s: %w", args[2], err)
	}
	return out, nil
}
