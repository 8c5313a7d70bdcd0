package testapp

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
)

const appPackage = "github.com/shipdeploy/ship/examples/app"

// ImageOptions varies the example app's image.
type ImageOptions struct {
	// FailHealthcheck builds with FAIL_HEALTHCHECK=1: the app's /up answers 503.
	FailHealthcheck bool
	// MigrateAtBoot builds with MIGRATE_AT_BOOT: SQL the app runs on its
	// database as it boots, before it serves, as Rails 8's db:prepare.
	MigrateAtBoot string
	// Files are added to the image: absolute path to content.
	Files map[string]string
	// Links are symbolic links added to the image: absolute path to the
	// link's target.
	Links map[string]string
	// User is the image's USER: a name (give /etc/passwd in Files) or
	// uid[:gid]; "" is root.
	User string
}

// Image builds the example app into an image tagged ref on the engine at
// dockerHost and returns the image's ID. The tag is removed when the test
// ends, so ref should be unique to the test. That fails the test if one of
// its containers still uses the image: remove them in a cleanup registered
// after Image, which runs before Image's own.
func Image(t testing.TB, dockerHost, ref string, opts ImageOptions) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	id, err := BuildImage(ctx, dockerHost, ref, opts)
	if err != nil {
		t.Fatalf("testapp: %v", err)
	}
	cli := dockerClient(t, dockerHost)
	t.Cleanup(func() { untag(t, cli, dockerHost, ref) })
	t.Logf("testapp: built %s (%s) on %s in %s", ref, id, dockerHost, time.Since(start).Round(time.Millisecond))
	return id
}

// BuildImage is Image for programs without a testing.TB, such as
// benchmarks: the tag stays until the caller removes it.
func BuildImage(ctx context.Context, dockerHost, ref string, opts ImageOptions) (string, error) {
	buildCtx, err := appContext()
	if err != nil {
		return "", err
	}
	if buildCtx, err = withFiles(buildCtx, opts); err != nil {
		return "", err
	}
	cli, err := client.NewClientWithOpts(client.WithHost(dockerHost), client.WithAPIVersionNegotiation())
	if err != nil {
		return "", fmt.Errorf("docker client for %s: %w", dockerHost, err)
	}
	defer cli.Close()
	options := build.ImageBuildOptions{
		Tags:        []string{ref},
		Dockerfile:  "Dockerfile",
		Remove:      true,
		ForceRemove: true,
		// The classic builder, whatever the engine's default: it needs
		// nothing but the tar context.
		Version: build.BuilderV1,
	}
	options.BuildArgs = map[string]*string{}
	if opts.FailHealthcheck {
		one := "1"
		options.BuildArgs["FAIL_HEALTHCHECK"] = &one
	}
	if opts.MigrateAtBoot != "" {
		options.BuildArgs["MIGRATE_AT_BOOT"] = &opts.MigrateAtBoot
	}
	// Packages' tests run at once, and an image removed with its untagged
	// parents (as untag no longer does, but other code may) takes the
	// cached steps another build is reusing: the build is then run again.
	var id string
	for attempt := 1; ; attempt++ {
		id, err = buildOnce(ctx, cli, buildCtx, options)
		if err == nil || attempt == 3 || !vanished(err) {
			break
		}
	}
	if err != nil {
		return "", fmt.Errorf("build image %s on %s: %w", ref, dockerHost, err)
	}
	return id, nil
}

// vanished tells whether a build failed because an image it was using
// was removed meanwhile; the engine words it either way.
func vanished(err error) bool {
	return strings.Contains(err.Error(), "No such image") || strings.Contains(err.Error(), "unable to find image")
}

func buildOnce(ctx context.Context, cli *client.Client, buildCtx []byte, options build.ImageBuildOptions) (string, error) {
	resp, err := cli.ImageBuild(ctx, bytes.NewReader(buildCtx), options)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	return readBuild(resp.Body)
}

// untag removes ref, and the image with it once no other tag or container
// holds it, but not its parents. A test that removed the image itself is
// fine.
func untag(t testing.TB, cli *client.Client, dockerHost, ref string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Not its untagged parents: the cached steps every build of the app
	// shares, which another package's build may be using right now.
	_, err := cli.ImageRemove(ctx, ref, image.RemoveOptions{PruneChildren: false})
	if err != nil && !client.IsErrNotFound(err) {
		t.Errorf("testapp: remove image %s on %s: %v", ref, dockerHost, err)
	}
}

// buildMessage is one line of the engine's JSON build output.
type buildMessage struct {
	Stream string `json:"stream"`
	Error  string `json:"error"`
	Aux    *struct {
		ID string `json:"ID"`
	} `json:"aux"`
}

// readBuild reads the build output to its end and returns the built image's
// ID, which the engine sends as an aux message. A failed build's error
// carries the output, which says which step failed.
func readBuild(r io.Reader) (string, error) {
	var id string
	var out strings.Builder
	dec := json.NewDecoder(r)
	for {
		var m buildMessage
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return "", fmt.Errorf("read build output: %w\n%s", err, out.String())
		}
		out.WriteString(m.Stream)
		if m.Error != "" {
			return "", fmt.Errorf("%s\n%s", m.Error, out.String())
		}
		if m.Aux != nil && m.Aux.ID != "" {
			id = m.Aux.ID
		}
	}
	if id == "" {
		return "", fmt.Errorf("the engine reported no image ID\n%s", out.String())
	}
	return id, nil
}

// appContext is the build context, a tar of the static app binary and the
// app's Dockerfile, made once per test binary: the go build is the slow part.
var appContext = sync.OnceValues(func() ([]byte, error) {
	dir, err := exec.Command("go", "list", "-f", "{{.Dir}}", appPackage).Output()
	if err != nil {
		return nil, fmt.Errorf("find %s: %w%s", appPackage, err, stderr(err))
	}
	src := strings.TrimSpace(string(dir))
	tmp, err := os.MkdirTemp("", "testapp-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	bin := filepath.Join(tmp, "app")
	// -trimpath and no cgo, as the tests' other static programs build
	// (kamal-proxy, Litestream 0.5, the replica reader): one compile of
	// the standard library serves them all, and one of SQLite the reader
	// and the app, on a cold CI run.
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0") // the image is FROM scratch
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build %s: %w\n%s", appPackage, err, out)
	}
	app, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	dockerfile, err := os.ReadFile(filepath.Join(src, "Dockerfile"))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{{"Dockerfile", 0o644, dockerfile}, {"app", 0o755, app}} {
		// A fixed time keeps identical contexts identical, for the cache.
		hdr := &tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: time.Unix(0, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("build context: %w", err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fmt.Errorf("build context: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("build context: %w", err)
	}
	return buf.Bytes(), nil
})

// withFiles adds opts' files and links to a build context, under extra/,
// copied to / by a Dockerfile line (COPY keeps links as links), and a
// last USER line for opts.User.
func withFiles(buildCtx []byte, opts ImageOptions) ([]byte, error) {
	if len(opts.Files) == 0 && len(opts.Links) == 0 && opts.User == "" {
		return buildCtx, nil
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tr := tar.NewReader(bytes.NewReader(buildCtx))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("build context: %w", err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("build context: %w", err)
		}
		if h.Name == "Dockerfile" {
			if len(opts.Files) > 0 || len(opts.Links) > 0 {
				data = append(data, "COPY extra/ /\n"...)
			}
			if opts.User != "" {
				data = append(data, "USER "+opts.User+"\n"...)
			}
			h.Size = int64(len(data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("build context: %w", err)
		}
		if _, err := tw.Write(data); err != nil {
			return nil, fmt.Errorf("build context: %w", err)
		}
	}
	for name, content := range opts.Files {
		h := &tar.Header{Name: "extra" + name, Mode: 0o644, Size: int64(len(content)), ModTime: time.Unix(0, 0)}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("build context: %w", err)
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			return nil, fmt.Errorf("build context: %w", err)
		}
	}
	for name, target := range opts.Links {
		h := &tar.Header{Name: "extra" + name, Typeflag: tar.TypeSymlink, Linkname: target, Mode: 0o777, ModTime: time.Unix(0, 0)}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("build context: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("build context: %w", err)
	}
	return buf.Bytes(), nil
}

// stderr is what a failed command printed, for its error message.
func stderr(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return "\n" + string(ee.Stderr)
	}
	return ""
}
