package testlitestream

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/client"
	"github.com/shipdeploy/ship/engine"
)

// dockerfile makes an image shaped like the real litestream/litestream:
// the binary as entrypoint, running as root (the default, Debian-based
// image does; its FROM scratch "hardened" variant runs as nonroot and is
// not what the tag names). The context's rootfs directory is the whole
// file system: COPY of a directory's contents keeps their modes, which
// /tmp needs. No CA certificates: the tests talk plain HTTP to S3 on the
// test network.
const dockerfile = `FROM scratch
COPY rootfs/ /
ENTRYPOINT ["/usr/local/bin/litestream"]
`

// Image makes sure the engine at dockerHost has litestream/litestream:VERSION
// (the image ship's config names by default) and returns that tag. It is
// built FROM scratch from Litestream VERSION (e.g. "0.5.18", "0.3.14") and
// kept: an engine that has the tag already is not touched, so a change to
// how the image is made takes effect once the tag and the cached binary
// (cache/litestream-VERSION in testhost.Dir) are removed.
func Image(t testing.TB, dockerHost, version string) string {
	t.Helper()
	tag := "litestream/litestream:" + version
	// A cold build downloads and compiles Litestream: one to four minutes,
	// and another test binary may be building it already. go test's
	// -timeout is the bound that matters; this one only ends a hung build.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cli, err := client.NewClientWithOpts(client.WithHost(dockerHost), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatalf("testlitestream: docker client for %s: %v", dockerHost, err)
	}
	defer cli.Close()
	if ok, err := hasImage(ctx, cli, tag); err != nil {
		t.Fatalf("testlitestream: %v", err)
	} else if ok {
		return tag
	}

	b := litestream(version)
	unlock, err := b.lock(ctx)
	if err != nil {
		t.Fatalf("testlitestream: %v", err)
	}
	defer unlock()
	bin, err := b.build(ctx, t)
	if err != nil {
		t.Fatalf("testlitestream: %v", err)
	}
	// Another test binary may have built it while we waited for the lock.
	if ok, err := hasImage(ctx, cli, tag); err != nil {
		t.Fatalf("testlitestream: %v", err)
	} else if ok {
		return tag
	}
	began := time.Now()
	if err := buildImage(ctx, cli, tag, bin); err != nil {
		t.Fatalf("testlitestream: build %s on %s: %v", tag, dockerHost, err)
	}
	t.Logf("testlitestream: built image %s on %s in %s", tag, dockerHost, time.Since(began).Round(time.Millisecond))
	return tag
}

// litestream is how Litestream version builds. 0.5 reads SQLite with a pure
// Go driver. 0.3 needs cgo (mattn/go-sqlite3), linked statically so that it
// runs FROM scratch, with the tags upstream's release builds use. The
// version is set as upstream's releases set it: 0.3 would otherwise call
// itself "(development build)".
func litestream(version string) goBinary {
	ldflags := "-s -w -X main.Version=v" + version
	b := goBinary{
		name:    "litestream",
		pkg:     "github.com/benbjohnson/litestream/cmd/litestream@v" + version,
		dirName: "litestream-" + version,
		ldflags: ldflags,
	}
	if strings.HasPrefix(version, "0.3.") {
		b.cgo = true
		b.tags = "osusergo,netgo,sqlite_omit_load_extension"
		b.ldflags = ldflags + ` -linkmode external -extldflags "-static"`
	}
	return b
}

func hasImage(ctx context.Context, cli *client.Client, ref string) (bool, error) {
	_, err := cli.ImageInspect(ctx, ref)
	if client.IsErrNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("inspect image %s: %w", ref, err)
	}
	return true, nil
}

// buildImage builds dockerfile with the binary at bin as its context,
// streamed: the binary is tens of megabytes.
func buildImage(ctx context.Context, cli *client.Client, tag, bin string) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeContext(pw, bin)) }()
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

// writeContext writes the build context: the Dockerfile and rootfs, which
// holds the binary and an empty /tmp. SQLite puts temporary files in /tmp
// for some statements (VACUUM, large sorts), and a container has nowhere
// else to write but its volumes; it is sticky and world-writable, as
// everywhere, should ship run Litestream as another user.
func writeContext(w io.Writer, bin string) error {
	f, err := os.Open(bin)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	if err := tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(dockerfile))}); err != nil {
		return err
	}
	if _, err := io.WriteString(tw, dockerfile); err != nil {
		return err
	}
	for _, d := range []struct {
		name string
		mode int64
	}{
		{"rootfs/", 0o755},
		{"rootfs/tmp/", 0o1777},
		{"rootfs/usr/", 0o755},
		{"rootfs/usr/local/", 0o755},
		{"rootfs/usr/local/bin/", 0o755},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: d.name, Typeflag: tar.TypeDir, Mode: d.mode}); err != nil {
			return err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Name: "rootfs/usr/local/bin/litestream", Mode: 0o755, Size: fi.Size()}); err != nil {
		return err
	}
	if _, err := io.Copy(tw, f); err != nil {
		return err
	}
	return tw.Close()
}
