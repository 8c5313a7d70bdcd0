package testlitestream

import (
	"context"
	"testing"

	"github.com/shipdeploy/ship/internal/testproc/testengine"
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
	return testengine.Image(t, dockerHost, "litestream/litestream:"+version, litestream(version), imageContext)
}

// EnsureImage is Image for programs without a testing.TB, such as
// benchmarks: logf says what had to be built.
func EnsureImage(ctx context.Context, dockerHost, version string, logf func(format string, args ...any)) (string, error) {
	tag := "litestream/litestream:" + version
	return tag, testengine.EnsureImage(ctx, dockerHost, tag, litestream(version), imageContext, logf)
}

// Prebuild builds each Litestream version into its cache, those not there
// yet, for tests that will want Image later.
func Prebuild(ctx context.Context, logf func(format string, args ...any), versions ...string) error {
	for _, v := range versions {
		if _, err := litestream(v).EnsureLocked(ctx, logf); err != nil {
			return err
		}
	}
	return nil
}

// imageContext is the context of dockerfile. SQLite puts temporary files
// in /tmp for some statements (VACUUM, large sorts).
func imageContext(bin string) []testengine.ContextFile {
	files := []testengine.ContextFile{{Name: "Dockerfile", Mode: 0o644, Data: dockerfile}}
	return append(files, testengine.RootFS(bin, "litestream")...)
}
