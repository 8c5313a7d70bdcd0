package testproxy

import (
	"path/filepath"

	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/internal/testproc"
)

// proxyBinary is kamal-proxy, kept beside testhost's state so that one
// SHIP_TESTHOSTS_DIR keeps everything the tests build. It is built with go
// get, not go install: the module proxy here refuses the version list go
// install PKG@VERSION reads.
func proxyBinary() testproc.GoBinary {
	const pkg = "github.com/basecamp/kamal-proxy/cmd/kamal-proxy"
	return testproc.GoBinary{
		Name:  "kamal-proxy",
		Dir:   filepath.Join(testhost.Dir(), "cache", "kamal-proxy-"+Version),
		Build: testproc.GoGet(pkg, "v"+Version, []string{"CGO_ENABLED=0"}, "-trimpath", "-ldflags=-s -w"),
	}
}
