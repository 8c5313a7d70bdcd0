// Package testproxy is test support for ship's kamal-proxy integration: a
// basecamp/kamal-proxy image built FROM scratch from kamal-proxy's source,
// for the test hosts' engines. The binary is built at test time from the
// Go module proxy and kept in a cache directory beside testhost's state.
package testproxy

import (
	"context"
	"testing"

	"github.com/shipdeploy/ship/internal/testproc/testengine"
)

// Version is the kamal-proxy version Image builds.
const Version = "0.9.2"

// Tag is the image Image makes, named as the real one is.
const Tag = "basecamp/kamal-proxy:v" + Version

// Image makes sure the engine at dockerHost has Tag and returns it. An
// engine that has the tag already is not touched, so a change to how the
// image is made takes effect once the tag and the cached binary
// (cache/kamal-proxy-VERSION in testhost.Dir) are removed.
func Image(t testing.TB, dockerHost string) string {
	t.Helper()
	return testengine.Image(t, dockerHost, Tag, proxyBinary(), proxyContext)
}

// EnsureImage is Image for programs without a testing.TB, such as
// benchmarks: logf says what had to be built.
func EnsureImage(ctx context.Context, dockerHost string, logf func(format string, args ...any)) (string, error) {
	return Tag, testengine.EnsureImage(ctx, dockerHost, Tag, proxyBinary(), proxyContext, logf)
}
