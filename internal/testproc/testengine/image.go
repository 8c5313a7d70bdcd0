package testengine

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/client"
	"github.com/shipdeploy/ship/engine"
	"github.com/shipdeploy/ship/internal/testproc"
)

// ContextFile is one entry of an image's build context: a directory, the
// file at Path, or Data.
type ContextFile struct {
	Name string
	Mode int64
	Dir  bool
	Path string
	Data string
}

// ContextDir is the directory name of a build context.
func ContextDir(name string, mode int64) ContextFile {
	return ContextFile{Name: name, Mode: mode, Dir: true}
}

// RootFS is the rootfs directory of a FROM scratch image's context, to
// COPY to /: the binary at bin as /usr/local/bin/NAME, and an empty /tmp,
// sticky and world-writable as everywhere, since there is nowhere else to
// write.
func RootFS(bin, name string) []ContextFile {
	return []ContextFile{
		ContextDir("rootfs/", 0o755),
		ContextDir("rootfs/tmp/", 0o1777),
		ContextDir("rootfs/usr/", 0o755),
		ContextDir("rootfs/usr/local/", 0o755),
		ContextDir("rootfs/usr/local/bin/", 0o755),
		{Name: "rootfs/usr/local/bin/" + name, Mode: 0o755, Path: bin},
	}
}

// Image makes sure the engine at dockerHost has tag and returns it,
// building it from the context files makes of bin's binary. An engine that
// has the tag already is not touched, so a change to how the image is made
// takes effect once the tag and the cached binary are removed. bin's lock
// is held through the image build, so that test binaries of several
// packages build it once.
func Image(t testing.TB, dockerHost, tag string, bin testproc.GoBinary, files func(bin string) []ContextFile) string {
	t.Helper()
	// A cold build downloads and compiles the binary: minutes, and another
	// test binary may be building it already. go test's -timeout is the
	// bound that matters; this one only ends a hung build.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if err := EnsureImage(ctx, dockerHost, tag, bin, files, t.Logf); err != nil {
		t.Fatalf("testengine: %v", err)
	}
	return tag
}

// EnsureImage is Image for programs without a testing.TB, such as
// benchmarks: logf says what had to be built.
func EnsureImage(ctx context.Context, dockerHost, tag string, bin testproc.GoBinary, files func(bin string) []ContextFile, logf func(format string, args ...any)) error {
	cli, err := client.NewClientWithOpts(client.WithHost(dockerHost), client.WithAPIVersionNegotiation())
	if err != nil {
		return fmt.Errorf("docker client for %s: %w", dockerHost, err)
	}
	defer cli.Close()
	if ok, err := HasImage(ctx, cli, tag); err != nil || ok {
		return err
	}

	unlock, err := bin.Lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	path, err := bin.Ensure(ctx, logf)
	if err != nil {
		return err
	}
	// Another test binary may have built it while we waited for the lock.
	if ok, err := HasImage(ctx, cli, tag); err != nil || ok {
		return err
	}
	began := time.Now()
	if err := BuildImage(ctx, cli, tag, files(path)); err != nil {
		return fmt.Errorf("build %s on %s: %w", tag, dockerHost, err)
	}
	logf("testengine: built image %s on %s in %s", tag, dockerHost, time.Since(began).Round(time.Millisecond))
	return nil
}

// HasImage says whether the engine has the image ref.
func HasImage(ctx context.Context, cli *client.Client, ref string) (bool, error) {
	_, err := cli.ImageInspect(ctx, ref)
	if client.IsErrNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("inspect image %s: %w", ref, err)
	}
	return true, nil
}

// BuildImage builds the context files, which hold the Dockerfile, into an
// image tagged tag. The context is streamed: binaries are megabytes.
func BuildImage(ctx context.Context, cli *client.Client, tag string, files []ContextFile) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeContext(pw, files)) }()
	resp, err := cli.ImageBuild(ctx, pr, build.ImageBuildOptions{
		Tags:        []string{tag},
		Remove:      true,
		ForceRemove: true,
		// The classic builder needs nothing but the tar context.
		Version: build.BuilderV1,
	})
	if err != nil {
		pr.CloseWithError(err)
		return err
	}
	defer resp.Body.Close()
	return engine.ReadProgress(resp.Body)
}

func writeContext(w io.Writer, files []ContextFile) error {
	tw := tar.NewWriter(w)
	for _, f := range files {
		if err := writeContextFile(tw, f); err != nil {
			return err
		}
	}
	return tw.Close()
}

func writeContextFile(tw *tar.Writer, cf ContextFile) error {
	if cf.Dir {
		return tw.WriteHeader(&tar.Header{Name: cf.Name, Typeflag: tar.TypeDir, Mode: cf.Mode})
	}
	if cf.Path == "" {
		if err := tw.WriteHeader(&tar.Header{Name: cf.Name, Mode: cf.Mode, Size: int64(len(cf.Data))}); err != nil {
			return err
		}
		_, err := io.WriteString(tw, cf.Data)
		return err
	}
	f, err := os.Open(cf.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: cf.Name, Mode: cf.Mode, Size: fi.Size()}); err != nil {
		return err
	}
	_, err = io.Copy(tw, f)
	return err
}
