package testlitestream

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shipdeploy/ship/testhost"
	"github.com/shipdeploy/ship/testproc"
)

// goBinary is a program built with go install from the Go module proxy. It
// is built once per machine and kept in its cache directory; nothing of its
// source is part of ship.
type goBinary struct {
	name    string // the binary's file name, e.g. "litestream"
	pkg     string // what go install gets: PACKAGE@VERSION
	dirName string // its cache directory, e.g. "litestream-0.5.18"
	cgo     bool
	tags    string
	ldflags string
}

// dir is b's cache directory, beside testhost's state so that one
// SHIP_TESTHOSTS_DIR keeps everything the tests build.
func (b goBinary) dir() string {
	return filepath.Join(testhost.Dir(), "cache", b.dirName)
}

// lock takes b's cache directory lock, which callers hold while they build
// the binary and whatever is made from it.
func (b goBinary) lock(ctx context.Context) (unlock func(), err error) {
	if err := os.MkdirAll(b.dir(), 0o755); err != nil {
		return nil, fmt.Errorf("make cache directory: %w", err)
	}
	return testproc.Lock(ctx, filepath.Join(b.dir(), "lock"))
}

// build returns the path of b's binary, building it if the cache lacks it.
// The caller holds b.lock.
func (b goBinary) build(ctx context.Context, t testing.TB) (string, error) {
	path := filepath.Join(b.dir(), b.name)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("build %s: %w", b.pkg, err)
	}
	// go install writes into GOBIN in place: a build cut short would leave
	// half a binary where the next run looks. Build beside it, then rename.
	gobin, err := os.MkdirTemp(b.dir(), "gobin-")
	if err != nil {
		return "", fmt.Errorf("build %s: %w", b.pkg, err)
	}
	defer os.RemoveAll(gobin)

	args := []string{"install", "-trimpath", "-ldflags=" + b.ldflags}
	if b.tags != "" {
		args = append(args, "-tags="+b.tags)
	}
	cmd := exec.CommandContext(ctx, goCmd, append(args, b.pkg)...)
	// Outside the project's module, so that its go.mod plays no part.
	cmd.Dir = b.dir()
	cgo := "0"
	if b.cgo {
		cgo = "1"
	}
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "CGO_ENABLED="+cgo)
	began := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(cmd.Args[1:], " "), err, testproc.TailLines(string(out), 30))
	}
	if err := os.Rename(filepath.Join(gobin, b.name), path); err != nil {
		return "", fmt.Errorf("build %s: %w", b.pkg, err)
	}
	t.Logf("testlitestream: built %s in %s (kept in %s)", b.pkg, time.Since(began).Round(time.Second), b.dir())
	return path, nil
}
