package build

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/internal/testhost"
)

// writeFiles writes files, path to content, under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readTar returns a tar's entries, name to content.
func readTar(t *testing.T, r io.Reader) map[string]string {
	t.Helper()
	entries := map[string]string{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return entries
		} else if err != nil {
			t.Fatalf("read tar: %v", err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("read tar: %v", err)
		}
		entries[h.Name] = string(b)
	}
}

func contextEntries(t *testing.T, root, dir, dockerfile string) (map[string]string, string) {
	t.Helper()
	tarball, name, err := buildContext(root, dir, dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	defer tarball.Close()
	return readTar(t, tarball), name
}

func names(entries map[string]string) []string {
	var out []string
	for name := range entries {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

func TestContextDockerignore(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"Dockerfile":          "FROM scratch\n",
		"app.go":              "package main\n",
		"secret.env":          "KEY=1\n",
		"log/dev.log":         "x",
		"log/.keep":           "",
		"tmp/cache/a":         "x",
		"docs/README.md":      "x",
		"docs/internal.md":    "x",
		"src/main.go":         "x",
		"src/main_test.go":    "x",
		"config/deploy.yml":   "service: x\n",
		"node_modules/m/i.js": "x",
		// The Dockerfile and .dockerignore excluded: Docker sends them
		// anyway, the engine needs them.
		".dockerignore": "# comment\n/secret.env\nlog/*\n!log/.keep\ntmp\n**/*_test.go\ndocs\n!docs/README.md\nnode_modules/\nDockerfile\n.dockerignore\n",
	})
	entries, dockerfile := contextEntries(t, root, "", "")
	if dockerfile != "Dockerfile" {
		t.Errorf("Dockerfile name %q, want Dockerfile", dockerfile)
	}
	want := []string{
		".dockerignore", "Dockerfile", "app.go", "config/", "config/deploy.yml",
		"docs/README.md", "log/", "log/.keep", "src/", "src/main.go",
	}
	if got := names(entries); !slices.Equal(got, want) {
		t.Errorf("context holds\n%q\nwant\n%q", got, want)
	}
	if entries["Dockerfile"] != "FROM scratch\n" {
		t.Errorf("Dockerfile content %q", entries["Dockerfile"])
	}
}

func TestContextSubdirectory(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"docker/app.Dockerfile": "FROM scratch\n",
		"docker/.dockerignore":  "*.Dockerfile\n",
		"docker/a.txt":          "a",
		"outside.txt":           "x",
	})
	entries, dockerfile := contextEntries(t, root, "docker", "docker/app.Dockerfile")
	if dockerfile != "app.Dockerfile" {
		t.Errorf("Dockerfile name %q, want app.Dockerfile", dockerfile)
	}
	if got, want := names(entries), []string{".dockerignore", "a.txt", "app.Dockerfile"}; !slices.Equal(got, want) {
		t.Errorf("context holds %q, want %q", got, want)
	}
}

// A Dockerfile outside the context goes in under a random name, which
// .dockerignore then excludes from COPY, as with docker build -f.
func TestContextDockerfileOutside(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"Dockerfile":        "FROM scratch\nCOPY . /\n",
		"app/a.txt":         "a",
		"app/.dockerignore": "*.log",
		"app/debug.log":     "x",
	})
	entries, dockerfile := contextEntries(t, root, "app", "")
	if !strings.HasPrefix(dockerfile, ".dockerfile.") {
		t.Fatalf("Dockerfile name %q, want .dockerfile.RANDOM", dockerfile)
	}
	if got, want := names(entries), []string{dockerfile, ".dockerignore", "a.txt"}; !slices.Equal(got, want) {
		t.Errorf("context holds %q, want %q", got, want)
	}
	if entries[dockerfile] != "FROM scratch\nCOPY . /\n" {
		t.Errorf("Dockerfile content %q", entries[dockerfile])
	}
	if want := "*.log\n" + dockerfile + "\n"; entries[".dockerignore"] != want {
		t.Errorf(".dockerignore %q, want %q", entries[".dockerignore"], want)
	}

	// Without a .dockerignore, one is made up.
	if err := os.Remove(filepath.Join(root, "app", ".dockerignore")); err != nil {
		t.Fatal(err)
	}
	entries, dockerfile = contextEntries(t, root, "app", "")
	if want := ".dockerignore\n" + dockerfile + "\n"; entries[".dockerignore"] != want {
		t.Errorf(".dockerignore %q, want %q", entries[".dockerignore"], want)
	}
}

func TestContextErrors(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"Dockerfile": "FROM scratch\n", "file": "x"})
	for _, tc := range []struct {
		dir, dockerfile, want string
	}{
		{"missing", "", "builder.context: lstat " + filepath.Join(root, "missing")},
		{"file", "", "builder.context: " + filepath.Join(root, "file") + " is not a directory"},
		{"", "Dockerfile.prod", "builder.dockerfile: lstat " + filepath.Join(root, "Dockerfile.prod")},
	} {
		_, _, err := buildContext(root, tc.dir, tc.dockerfile)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("context %q, dockerfile %q: error %v, want %q", tc.dir, tc.dockerfile, err, tc.want)
		}
	}
}

// engine is a local Docker Engine that only says what it is.
type engine struct {
	client.APIClient
	arch string
}

func (e engine) ServerVersion(context.Context) (types.Version, error) {
	return types.Version{Arch: e.arch}, nil
}

func TestCheckBuilder(t *testing.T) {
	yes := true
	for _, tc := range []struct {
		builder config.Builder
		want    string // "" for no error
	}{
		{config.Builder{}, ""},
		{config.Builder{Arch: []string{"amd64"}}, ""},
		{config.Builder{Driver: "docker", Provenance: "false"}, ""},
		{config.Builder{Arch: []string{"amd64", "arm64"}}, "builder.arch: the local Docker Engine builds amd64 images, not arm64"},
		{config.Builder{Remote: "ssh://builder"}, "builder.remote: remote builders are not supported yet; build on a machine with Docker and deploy with --skip-build"},
		{config.Builder{Secrets: []string{"GITHUB_TOKEN"}}, "builder.secrets: "},
		{config.Builder{SSH: "default"}, "builder.ssh: "},
		{config.Builder{Cache: map[string]string{"type": "gha"}}, "builder.cache: "},
		{config.Builder{Driver: "docker-container"}, `builder.driver: "docker-container" needs buildx`},
		{config.Builder{Provenance: "mode=max"}, "builder.provenance: "},
		{config.Builder{SBOM: &yes}, "builder.sbom: "},
	} {
		err := checkBuilder(context.Background(), engine{arch: "amd64"}, tc.builder)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc.builder, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
			t.Errorf("%+v: error %v, want %q", tc.builder, err, tc.want)
		}
	}
}

// The registry's login reaches the engine for FROM images there; Docker
// Hub's is filed under the name engines look it up by.
func TestRegistryAuth(t *testing.T) {
	if got := registryAuth(config.Registry{}); got != nil {
		t.Errorf("no registry: %v, want no login", got)
	}
	got := registryAuth(config.Registry{Server: "registry.example.com:5000", Username: "u", Password: config.NewSecret("pw")})
	if a := got["registry.example.com:5000"]; len(got) != 1 || a.Username != "u" || a.Password != "pw" || a.ServerAddress != "registry.example.com:5000" {
		t.Errorf("registry login: %+v", got)
	}
	got = registryAuth(config.Registry{Username: "u", Password: config.NewSecret("pw")})
	if a := got["https://index.docker.io/v1/"]; len(got) != 1 || a.Password != "pw" {
		t.Errorf("Docker Hub login: %+v", got)
	}
}

func TestReadBuild(t *testing.T) {
	stream := `{"stream":"Step 1/2 : FROM scratch"}
{"stream":"\n"}
{"stream":" ---\u003e \n"}
{"stream":"Step 2/2 : COPY missing.txt /missing.txt"}
{"stream":"\n"}
{"errorDetail":{"message":"COPY failed: no such file"},"error":"COPY failed: no such file"}
`
	var out bytes.Buffer
	_, err := readBuild(strings.NewReader(stream), &out)
	if want := "Step 2/2 : COPY missing.txt /missing.txt: COPY failed: no such file"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	if !strings.Contains(out.String(), "Step 1/2 : FROM scratch\n") {
		t.Errorf("output %q", out.String())
	}

	ok := `{"stream":"Step 1/1 : FROM scratch\n"}
{"aux":{"ID":"sha256:abc"}}
{"stream":"Successfully built abc\n"}
`
	if id, err := readBuild(strings.NewReader(ok), io.Discard); err != nil || id != "sha256:abc" {
		t.Errorf("id %q, error %v", id, err)
	}
	// Cut short: no ID.
	if _, err := readBuild(strings.NewReader(`{"stream":"Step 1/1 : FROM scratch\n"}`), io.Discard); err == nil {
		t.Error("no error for a build output without an image ID")
	}
}

// project writes a project whose config/deploy.yml has a unique service and
// image, and loads its config.
func project(t *testing.T, builder string, files map[string]string) *config.Config {
	t.Helper()
	name := "build-test-" + strings.ToLower(rand.Text()[:10])
	root := t.TempDir()
	files["config/deploy.yml"] = "service: " + name + "\nimage: " + name + "\nservers: [10.0.0.1]\n" + builder
	writeFiles(t, root, files)
	c, err := config.Load(config.Options{File: filepath.Join(root, "config", "deploy.yml")})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func localEngine(t *testing.T) *client.Client {
	t.Helper()
	h1, _ := testhost.Hosts(t)
	cli, err := client.NewClientWithOpts(client.WithHost(h1.DockerHost), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// removeImage removes ref when the test ends, with the intermediate images
// of its build.
// The build's latest tag goes too.
func removeImage(t *testing.T, cli *client.Client, ref string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		latest := ref[:strings.LastIndex(ref, ":")] + ":latest"
		for _, r := range []string{latest, ref} {
			_, err := cli.ImageRemove(ctx, r, image.RemoveOptions{PruneChildren: true})
			if err != nil && !client.IsErrNotFound(err) {
				t.Errorf("remove image %s: %v", r, err)
			}
		}
	})
}

// imageFiles lists the files in an image's layers, from docker save.
func imageFiles(t *testing.T, cli *client.Client, ref string) []string {
	t.Helper()
	return names(imageContents(t, cli, ref))
}

// imageContents is the files in an image's layers, name to content.
func imageContents(t *testing.T, cli *client.Client, ref string) map[string]string {
	t.Helper()
	rc, err := cli.ImageSave(context.Background(), []string{ref})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	saved := readTar(t, rc)
	var manifest []struct{ Layers []string }
	if err := json.Unmarshal([]byte(saved["manifest.json"]), &manifest); err != nil || len(manifest) != 1 {
		t.Fatalf("manifest.json of %s: %v %q", ref, err, saved["manifest.json"])
	}
	files := map[string]string{}
	for _, layer := range manifest[0].Layers {
		maps.Copy(files, readTar(t, strings.NewReader(saved[layer])))
	}
	return files
}

func TestBuild(t *testing.T) {
	cli := localEngine(t)
	c := project(t, "builder:\n  args:\n    GREETING: hi\n  target: final\n", map[string]string{
		"Dockerfile": `FROM scratch AS base
COPY a.txt /a.txt

FROM base AS final
ARG GREETING
LABEL greeting=$GREETING
COPY b.txt /b.txt
COPY . /ctx/

# The last stage, which a build without target would make.
FROM base AS other
LABEL stage=other
COPY c.txt /c.txt
`,
		"a.txt":         "a",
		"b.txt":         "b",
		"c.txt":         "c",
		"secret.txt":    "not for the image",
		".dockerignore": "secret.txt\nDockerfile\n.dockerignore\n",
	})
	ref := c.Image + ":t1"
	removeImage(t, cli, ref)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	id, err := Build(ctx, cli, c, "t1", &out, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Logf("build output:\n%s", out.String())
	if !strings.Contains(out.String(), " : COPY b.txt /b.txt\n") {
		t.Errorf("no build steps in the output")
	}

	img, err := cli.ImageInspect(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if img.ID != id {
		t.Errorf("Build returned %s, %s is %s", id, ref, img.ID)
	}
	// Kamal's second tag.
	if latest, err := cli.ImageInspect(ctx, c.Image+":latest"); err != nil || latest.ID != id {
		t.Errorf("%s:latest is %q (%v), want the build %s", c.Image, latest.ID, err, id)
	}
	labels := img.Config.Labels
	if labels["service"] != c.Service || labels["greeting"] != "hi" {
		t.Errorf("labels %v, want service=%s greeting=hi", labels, c.Service)
	}
	if _, ok := labels["stage"]; ok {
		t.Errorf("labels %v: the last stage was built, not the target", labels)
	}
	// The engine needs Dockerfile and .dockerignore but leaves them out of
	// COPY when .dockerignore says so.
	want := []string{"a.txt", "b.txt", "ctx/", "ctx/a.txt", "ctx/b.txt", "ctx/c.txt", "ctx/config/", "ctx/config/deploy.yml"}
	if got := imageFiles(t, cli, ref); !slices.Equal(got, want) {
		t.Errorf("image holds %q, want %q", got, want)
	}
}

// A Dockerfile outside builder.context is sent under a random name that
// COPY . leaves out.
func TestBuildDockerfileOutsideContext(t *testing.T) {
	cli := localEngine(t)
	c := project(t, "builder:\n  context: app\n", map[string]string{
		"Dockerfile": "FROM scratch\nCOPY . /ctx/\n",
		"app/a.txt":  "a",
	})
	ref := c.Image + ":t1"
	removeImage(t, cli, ref)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if _, err := Build(ctx, cli, c, "t1", &out, nil); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if got, want := imageFiles(t, cli, ref), []string{"ctx/", "ctx/a.txt"}; !slices.Equal(got, want) {
		t.Errorf("image holds %q, want %q", got, want)
	}
}

func TestBuildFails(t *testing.T) {
	cli := localEngine(t)
	c := project(t, "", map[string]string{
		"Dockerfile": "FROM scratch\nCOPY missing.txt /missing.txt\n",
	})
	ref := c.Image + ":t1"
	removeImage(t, cli, ref)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err := Build(ctx, cli, c, "t1", io.Discard, nil)
	if err == nil || !strings.HasPrefix(err.Error(), "build "+ref+": Step 2/") || !strings.Contains(err.Error(), " : COPY missing.txt /missing.txt: ") {
		t.Fatalf("error %v, want the failing step", err)
	}
	t.Log(err)
	if _, err := cli.ImageInspect(ctx, ref); !client.IsErrNotFound(err) {
		t.Errorf("inspect %s after a failed build: %v", ref, err)
	}
}

// gitProject is project in a git repository: committedApp and its config
// committed, then the working tree made dirty with secrets, a local
// database, untracked files and uncommitted changes. It returns the
// config and the commit.
func gitProject(t *testing.T, builder string) (*config.Config, string) {
	t.Helper()
	name := "build-test-" + strings.ToLower(rand.Text()[:10])
	root := t.TempDir()
	files := maps.Clone(committedApp)
	files["config/deploy.yml"] = "service: " + name + "\nimage: " + name + "\nservers: [10.0.0.1]\n" + builder
	commit := gitRepo(t, root, files)
	dirty(t, root)
	c, err := config.Load(config.Options{File: filepath.Join(root, "config", "deploy.yml")})
	if err != nil {
		t.Fatal(err)
	}
	return c, commit
}

// buildWarned builds c as t1 and returns the image's files and the
// warnings the build gave.
func buildWarned(t *testing.T, cli *client.Client, c *config.Config) (map[string]string, []string) {
	t.Helper()
	ref := c.Image + ":t1"
	removeImage(t, cli, ref)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	var warnings []string
	if _, err := Build(ctx, cli, c, "t1", &out, func(s string) { warnings = append(warnings, s) }); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	return imageContents(t, cli, ref), warnings
}

// By default the image is built from the commit: what git ignores
// (secrets, .env, local databases), what it does not track and .git never
// reach the image, though the Dockerfile copies everything and
// .dockerignore names none of them; the tracked files are there, in
// subdirectories too, as committed. The warning names what is left out.
func TestBuildCommittedTree(t *testing.T) {
	cli := localEngine(t)
	c, commit := gitProject(t, "")
	files, warnings := buildWarned(t, cli, c)

	for _, name := range []string{
		"ctx/.kamal/", "ctx/.kamal/secrets", "ctx/.env", "ctx/local.sqlite3", "ctx/db/dev.sqlite3",
		"ctx/notes.txt", "ctx/scratch/", "ctx/lib/staged.rb", "ctx/.git/", "ctx/.git/HEAD",
	} {
		if _, ok := files[name]; ok {
			t.Errorf("the image holds %s", name)
		}
	}
	want := []string{
		"ctx/", "ctx/.dockerignore", "ctx/.gitignore", "ctx/Dockerfile", "ctx/app.rb",
		"ctx/config/", "ctx/config/deploy.yml", "ctx/lib/", "ctx/lib/deep/", "ctx/lib/deep/x.rb", "ctx/lib/gone.rb",
	}
	if got := names(files); !slices.Equal(got, want) {
		t.Errorf("image holds\n%q\nwant\n%q", got, want)
	}
	if files["ctx/app.rb"] != "committed\n" {
		t.Errorf("app.rb in the image is %q, want the committed content", files["ctx/app.rb"])
	}
	if len(warnings) != 1 || !strings.HasPrefix(warnings[0], "building "+commit[:12]+" as committed; left out: 1 modified file (app.rb), ") ||
		!strings.Contains(warnings[0], "notes.txt") || !strings.HasSuffix(warnings[0], " — commit them, or set builder.context: . to build the working tree") {
		t.Errorf("warnings %q, want one naming app.rb and notes.txt", warnings)
	}
}

// builder.context: . builds the working tree as it is, untracked files
// and uncommitted changes included, still without what .dockerignore
// excludes.
func TestBuildWorkingTreeContext(t *testing.T) {
	cli := localEngine(t)
	c, _ := gitProject(t, "builder:\n  context: .\n")
	writeFiles(t, c.Root, map[string]string{".dockerignore": "README.md\n.git\n.env\n**/*.sqlite3\n.kamal/secrets\n"})
	files, warnings := buildWarned(t, cli, c)

	for _, name := range []string{"ctx/notes.txt", "ctx/scratch/b/c.txt", "ctx/lib/staged.rb", "ctx/lib/deep/x.rb"} {
		if _, ok := files[name]; !ok {
			t.Errorf("the image lacks the working tree's %s", name)
		}
	}
	for _, name := range []string{"ctx/.git/", "ctx/.env", "ctx/local.sqlite3", "ctx/db/dev.sqlite3", "ctx/.kamal/secrets", "ctx/README.md", "ctx/lib/gone.rb"} {
		if _, ok := files[name]; ok {
			t.Errorf("the image holds %s", name)
		}
	}
	if files["ctx/app.rb"] != "changed\n" {
		t.Errorf("app.rb in the image is %q, want the working tree's", files["ctx/app.rb"])
	}
	if len(warnings) != 0 {
		t.Errorf("warnings %q", warnings)
	}
}
