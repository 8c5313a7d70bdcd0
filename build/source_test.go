package build

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/config"
)

// gitRun runs git in dir for a test, with an identity of its own.
func gitRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{
		"-c", "user.name=ship test", "-c", "user.email=test@ship.invalid",
		"-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main",
		"-c", "protocol.file.allow=always",
	}, args...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// gitRepo makes a repository in dir with files committed, and returns
// the commit.
func gitRepo(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	gitRun(t, dir, "init", "-q")
	return commitFiles(t, dir, files)
}

// commitFiles writes files under dir and commits everything git does not
// ignore.
func commitFiles(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	writeFiles(t, dir, files)
	gitRun(t, dir, "add", "-A")
	gitRun(t, dir, "commit", "-q", "-m", "test")
	return gitRun(t, dir, "rev-parse", "HEAD")
}

// exported runs source for a project at root and returns the context ship
// would send from it, name to content, and the warnings.
func exported(t *testing.T, c *config.Config, version string) (map[string]string, []string) {
	t.Helper()
	var warnings []string
	root, cleanup, err := source(context.Background(), c, version, func(s string) { warnings = append(warnings, s) })
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	entries, _ := contextEntries(t, root, c.Builder.Context, c.Builder.Dockerfile)
	return entries, warnings
}

// committedApp is a project as committed: a .gitignore that keeps secrets
// and local databases out of git, a .dockerignore that does not, and
// files in subdirectories.
var committedApp = map[string]string{
	"Dockerfile":        "FROM scratch\nCOPY . /ctx/\n",
	".gitignore":        "/.kamal/secrets\n.env\n*.sqlite3\n",
	".dockerignore":     "README.md\n",
	"README.md":         "docs",
	"app.rb":            "committed\n",
	"config/deploy.yml": "service: app\n",
	"lib/deep/x.rb":     "x\n",
	"lib/gone.rb":       "gone\n",
}

// dirtyTree is what a working tree has on top of committedApp: files git
// ignores, untracked ones, a modification and a staged new file (plus a
// deletion, made by the test).
var dirtyTree = map[string]string{
	".kamal/secrets":     "KAMAL_REGISTRY_PASSWORD=hunter2\n",
	".env":               "SECRET_KEY_BASE=xyz\n",
	"local.sqlite3":      "SQLite format 3\x00",
	"db/dev.sqlite3":     "SQLite format 3\x00",
	"notes.txt":          "not for the image\n",
	"scratch/a.txt":      "a",
	"scratch/b/c.txt":    "c",
	"app.rb":             "changed\n",
	"lib/staged.rb":      "staged\n",
	".kamal/hooks/.keep": "",
}

// dirty makes root's working tree differ from its commit as dirtyTree
// says, with lib/gone.rb deleted.
func dirty(t *testing.T, root string) {
	t.Helper()
	writeFiles(t, root, dirtyTree)
	gitRun(t, root, "add", "lib/staged.rb")
	if err := os.Remove(filepath.Join(root, "lib", "gone.rb")); err != nil {
		t.Fatal(err)
	}
}

// The default context is the commit: nothing git ignores or does not
// track goes in, whatever is on disk, and .dockerignore still applies.
func TestSourceCommitted(t *testing.T) {
	root := t.TempDir()
	commit := gitRepo(t, root, committedApp)
	dirty(t, root)

	entries, warnings := exported(t, &config.Config{Root: root}, "v2")
	want := []string{
		".dockerignore", ".gitignore", "Dockerfile", "app.rb", "config/", "config/deploy.yml",
		"lib/", "lib/deep/", "lib/deep/x.rb", "lib/gone.rb",
	}
	if got := names(entries); !slices.Equal(got, want) {
		t.Errorf("context holds\n%q\nwant\n%q", got, want)
	}
	if entries["app.rb"] != "committed\n" {
		t.Errorf("app.rb is %q, want the committed content", entries["app.rb"])
	}
	wantWarning := "building " + commit[:12] + " as committed; left out: 1 modified file (app.rb), 1 new file (lib/staged.rb), 1 deletion (lib/gone.rb), 3 untracked (.kamal/, notes.txt, scratch/) — commit them, or set builder.context: . to build the working tree"
	if !slices.Equal(warnings, []string{wantWarning}) {
		t.Errorf("warnings\n%q\nwant\n%q", warnings, wantWarning)
	}

	// A clean tree builds without a word.
	gitRun(t, root, "add", "-A")
	gitRun(t, root, "commit", "-q", "-m", "all")
	if _, warnings := exported(t, &config.Config{Root: root}, "v3"); len(warnings) != 0 {
		t.Errorf("a clean tree warns: %q", warnings)
	}
}

// builder.context opts into the working tree, as in Kamal: what is on
// disk, less what .dockerignore excludes.
func TestSourceWorkingTree(t *testing.T) {
	root := t.TempDir()
	gitRepo(t, root, committedApp)
	dirty(t, root)
	writeFiles(t, root, map[string]string{".dockerignore": "README.md\n.git\n.env\n**/*.sqlite3\n"})

	c := &config.Config{Root: root, Builder: config.Builder{Context: "."}}
	entries, warnings := exported(t, c, "v2")
	for _, name := range []string{"notes.txt", "scratch/b/c.txt", "lib/staged.rb", ".kamal/secrets"} {
		if _, ok := entries[name]; !ok {
			t.Errorf("the working tree's %s is not in the context", name)
		}
	}
	for _, name := range []string{".git/", ".git/HEAD", ".env", "local.sqlite3", "db/dev.sqlite3", "README.md", "lib/gone.rb"} {
		if _, ok := entries[name]; ok {
			t.Errorf("%s is in the context", name)
		}
	}
	if entries["app.rb"] != "changed\n" {
		t.Errorf("app.rb is %q, want the working tree's", entries["app.rb"])
	}
	if len(warnings) != 0 {
		t.Errorf("warnings %q", warnings)
	}
}

// The version picks the commit: a commit's hash (with or without the
// suffix deploy.GitVersion adds for a dirty tree) builds that commit;
// anything else builds HEAD.
func TestSourceVersion(t *testing.T) {
	root := t.TempDir()
	first := gitRepo(t, root, map[string]string{"Dockerfile": "FROM scratch\n", "v.txt": "1"})
	second := commitFiles(t, root, map[string]string{"v.txt": "2"})
	// The working tree has the second commit's v.txt.
	older := "building " + first[:12] + " as committed; left out: 1 modified file (v.txt) — commit them, or set builder.context: . to build the working tree"
	for _, tc := range []struct {
		version, want, warning string
	}{
		{first, "1", older},
		{first + "_uncommitted_0123456789abcdef", "1", older},
		{second, "2", ""},
		{"v2", "2", ""},
		{first[:12], "2", ""}, // a short hash could be a build number
		{strings.Repeat("ab", 20), "2", "version " + strings.Repeat("ab", 20) + " names commit abababababab, which this repository does not have, so ship builds HEAD (" + second[:12] + ") under that version: fetch the commit to build it"},
	} {
		entries, warnings := exported(t, &config.Config{Root: root}, tc.version)
		if entries["v.txt"] != tc.want {
			t.Errorf("version %s built v.txt %q, want %q", tc.version, entries["v.txt"], tc.want)
		}
		if tc.warning == "" && len(warnings) > 0 || tc.warning != "" && !slices.Equal(warnings, []string{tc.warning}) {
			t.Errorf("version %s: warnings %q, want %q", tc.version, warnings, tc.warning)
		}
	}
}

// A project in a subdirectory of a repository is exported alone, with a
// Dockerfile it names outside it; paths in the warning are the project's.
func TestSourceSubdirectory(t *testing.T) {
	top := t.TempDir()
	commit := gitRepo(t, top, map[string]string{
		"Dockerfile":             "FROM scratch\n",
		"apps/web/app.rb":        "web\n",
		"apps/web/.dockerignore": "*.log\n",
		"apps/web/debug.log":     "x",
		"apps/api/api.rb":        "api\n",
	})
	writeFiles(t, top, map[string]string{
		"Dockerfile":         "FROM scratch\nCOPY . /\n",
		"apps/web/notes.txt": "n",
		"apps/api/notes.txt": "n",
	})
	root := filepath.Join(top, "apps", "web")
	c := &config.Config{Root: root, Builder: config.Builder{Dockerfile: "../../Dockerfile"}}
	var warnings []string
	dir, cleanup, err := source(context.Background(), c, "v1", func(s string) { warnings = append(warnings, s) })
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	entries, dockerfile := contextEntries(t, dir, "", c.Builder.Dockerfile)
	if got, want := names(entries), []string{dockerfile, ".dockerignore", "app.rb"}; !slices.Equal(got, want) {
		t.Errorf("context holds %q, want %q", got, want)
	}
	if entries[dockerfile] != "FROM scratch\n" {
		t.Errorf("Dockerfile %q, want the committed one", entries[dockerfile])
	}
	want := "building " + commit[:12] + " as committed; left out: 1 modified file (../../Dockerfile), 1 untracked (notes.txt) — commit them, or set builder.context: . to build the working tree"
	if !slices.Equal(warnings, []string{want}) {
		t.Errorf("warnings\n%q\nwant\n%q", warnings, want)
	}
}

// A warning lists a bounded number of paths, and counts the rest.
func TestChangesString(t *testing.T) {
	ch := changes{modified: []string{"a", "b", "c", "d", "e", "f", "g"}, untracked: []string{"u/"}}
	if got, want := ch.String(), "7 modified files (a, b, c, d, e and 2 more), 1 untracked (u/)"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	if got := (changes{}).String(); got != "" {
		t.Errorf("no changes: %q", got)
	}
}

// Submodules are exported at the commits the project records, as Kamal's
// clone --recurse-submodules has them; one not checked out here is empty,
// as it is in the working tree, and said so.
func TestSourceSubmodule(t *testing.T) {
	lib := t.TempDir()
	old := gitRepo(t, lib, map[string]string{"lib.rb": "v1\n"})
	commitFiles(t, lib, map[string]string{"lib.rb": "v2\n"})

	root := t.TempDir()
	gitRepo(t, root, map[string]string{"Dockerfile": "FROM scratch\n"})
	gitRun(t, root, "submodule", "add", "-q", lib, "vendor/lib")
	gitRun(t, filepath.Join(root, "vendor", "lib"), "checkout", "-q", old)
	gitRun(t, root, "add", "-A")
	gitRun(t, root, "commit", "-q", "-m", "lib at v1")
	// The submodule's working tree moves on; the commit records v1.
	writeFiles(t, filepath.Join(root, "vendor", "lib"), map[string]string{"lib.rb": "v3\n"})

	entries, _ := exported(t, &config.Config{Root: root}, "v1")
	if entries["vendor/lib/lib.rb"] != "v1\n" {
		t.Errorf("vendor/lib/lib.rb is %q, want the recorded v1", entries["vendor/lib/lib.rb"])
	}

	// A clone without the submodule checked out.
	clone := filepath.Join(t.TempDir(), "clone")
	gitRun(t, root, "clone", "-q", root, clone)
	entries, warnings := exported(t, &config.Config{Root: clone}, "v1")
	if _, ok := entries["vendor/lib/lib.rb"]; ok {
		t.Error("a submodule not checked out was built")
	}
	if len(warnings) != 1 || !strings.HasPrefix(warnings[0], "submodule vendor/lib at ") || !strings.HasSuffix(warnings[0], "run git submodule update --init --recursive") {
		t.Errorf("warnings %q, want one naming the submodule", warnings)
	}
}

// Without git there is no commit: the working tree is built, and a
// warning says why.
func TestSourceNotRepository(t *testing.T) {
	root := t.TempDir()
	if err := exec.Command("git", "-C", root, "rev-parse").Run(); err == nil {
		t.Skip("the temporary directory is inside a git repository")
	}
	writeFiles(t, root, map[string]string{"Dockerfile": "FROM scratch\n", "notes.txt": "n"})
	entries, warnings := exported(t, &config.Config{Root: root}, "v1")
	if got, want := names(entries), []string{"Dockerfile", "notes.txt"}; !slices.Equal(got, want) {
		t.Errorf("context holds %q, want %q", got, want)
	}
	want := root + " is not in a git repository, so ship builds the working tree as it is: every file .dockerignore does not exclude goes into the image; set builder.context: . to choose that and silence this warning"
	if !slices.Equal(warnings, []string{want}) {
		t.Errorf("warnings\n%q\nwant\n%q", warnings, want)
	}
}

// What the commit lacks is an error that says what to do, not a build
// of something else.
func TestSourceNotCommitted(t *testing.T) {
	check := func(t *testing.T, c *config.Config, want string) {
		t.Helper()
		_, _, err := source(context.Background(), c, "v1", func(string) {})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasSuffix(err.Error(), "set builder.context: . to build the working tree") {
			t.Errorf("error %v, want %q and what to do", err, want)
		}
	}
	t.Run("no commit", func(t *testing.T) {
		root := t.TempDir()
		gitRun(t, root, "init", "-q")
		writeFiles(t, root, map[string]string{"Dockerfile": "FROM scratch\n"})
		check(t, &config.Config{Root: root}, root+" has no commit to build")
	})
	t.Run("Dockerfile untracked", func(t *testing.T) {
		root := t.TempDir()
		commit := gitRepo(t, root, map[string]string{"app.rb": "x"})
		writeFiles(t, root, map[string]string{"Dockerfile.prod": "FROM scratch\n"})
		check(t, &config.Config{Root: root, Builder: config.Builder{Dockerfile: "Dockerfile.prod"}},
			"builder.dockerfile: Dockerfile.prod is not in commit "+commit[:12]+", and ship builds the committed tree: commit it, or ")
	})
	t.Run("project untracked", func(t *testing.T) {
		top := t.TempDir()
		commit := gitRepo(t, top, map[string]string{"other.txt": "x"})
		root := filepath.Join(top, "app")
		writeFiles(t, root, map[string]string{"Dockerfile": "FROM scratch\n"})
		check(t, &config.Config{Root: root}, root+" is not in commit "+commit[:12])
	})
}
