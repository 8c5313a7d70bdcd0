package testlitestream

import (
	"path/filepath"
	"strings"

	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/internal/testproc"
)

// goInstall is a program built with go install from the Go module proxy,
// kept in testhost.Dir()/cache/NAME-VERSION so that one SHIP_TESTHOSTS_DIR
// keeps everything the tests build. Nothing of its source is part of ship.
func goInstall(name, pkg, version string, cgo bool, flags ...string) testproc.GoBinary {
	env := []string{"CGO_ENABLED=0"}
	if cgo {
		// SQLite's C at -O1 and without debug information compiles in a
		// third of the default -O2 -g's time, on every cold CI run; the
		// tests' databases are small.
		env = []string{"CGO_ENABLED=1", "CGO_CFLAGS=-O1 -g0"}
	}
	return testproc.GoBinary{
		Name:  name,
		Dir:   filepath.Join(testhost.Dir(), "cache", name+"-"+version),
		Build: testproc.GoInstall(pkg+"@v"+version, env, append([]string{"-trimpath"}, flags...)...),
	}
}

// versitygw is the S3 server, pure Go.
var versitygw = goInstall("versitygw", "github.com/versity/versitygw/cmd/versitygw", "1.8.0", false, "-ldflags=-s -w")

// litestream is how Litestream version builds. 0.5 reads SQLite with a pure
// Go driver. 0.3 needs cgo (mattn/go-sqlite3), linked statically so that it
// runs FROM scratch, with the tags upstream's release builds use. The
// version is set as upstream's releases set it: 0.3 would otherwise call
// itself "(development build)".
func litestream(version string) testproc.GoBinary {
	const pkg = "github.com/benbjohnson/litestream/cmd/litestream"
	ldflags := "-s -w -X main.Version=v" + version
	if strings.HasPrefix(version, "0.3.") {
		return goInstall("litestream", pkg, version, true,
			"-ldflags="+ldflags+` -linkmode external -extldflags "-static"`,
			"-tags=osusergo,netgo,sqlite_omit_load_extension")
	}
	return goInstall("litestream", pkg, version, false, "-ldflags="+ldflags)
}
