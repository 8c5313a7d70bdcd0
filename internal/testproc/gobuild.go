package testproc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// GoBinary is a Go program built once and kept in a cache directory, such
// as a server the tests run or put in an image. Test binaries of several
// packages may want it at once: they share it through Dir's lock.
type GoBinary struct {
	Name string // the binary's file name, e.g. "litestream"
	Dir  string // its cache directory
	// Build writes the binary Name into dir, an empty directory of its
	// own: GoInstall, GoGet or GoBuild, which name it after the package
	// path's last element.
	Build func(ctx context.Context, dir string) error
}

// Lock takes b's cache directory lock, which callers hold while they build
// the binary and whatever is made from it.
func (b GoBinary) Lock(ctx context.Context) (unlock func(), err error) {
	if err := os.MkdirAll(b.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("make cache directory: %w", err)
	}
	return Lock(ctx, filepath.Join(b.Dir, "lock"))
}

// EnsureLocked is Ensure under b's lock, for a caller that needs only the
// binary, such as a server it starts or a build ahead of the tests.
func (b GoBinary) EnsureLocked(ctx context.Context, logf func(format string, args ...any)) (string, error) {
	unlock, err := b.Lock(ctx)
	if err != nil {
		return "", err
	}
	defer unlock()
	return b.Ensure(ctx, logf)
}

// Path returns the path of b's binary, building it if the cache lacks it.
// The caller holds b.Lock, unless Dir is its own.
func (b GoBinary) Path(ctx context.Context, t testing.TB) (string, error) {
	t.Helper()
	return b.Ensure(ctx, t.Logf)
}

// Ensure is Path for programs without a testing.TB, such as benchmarks:
// logf says when the binary had to be built.
func (b GoBinary) Ensure(ctx context.Context, logf func(format string, args ...any)) (string, error) {
	path := filepath.Join(b.Dir, b.Name)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err := os.MkdirAll(b.Dir, 0o755); err != nil {
		return "", fmt.Errorf("make cache directory: %w", err)
	}
	// A build cut short would leave half a binary where the next run
	// looks: build beside it, then rename.
	tmp, err := os.MkdirTemp(b.Dir, "build-")
	if err != nil {
		return "", fmt.Errorf("build %s: %w", b.Name, err)
	}
	defer os.RemoveAll(tmp)
	began := time.Now()
	if err := b.Build(ctx, tmp); err != nil {
		return "", err
	}
	if err := os.Rename(filepath.Join(tmp, b.Name), path); err != nil {
		return "", fmt.Errorf("build %s: %w", b.Name, err)
	}
	logf("testproc: built %s in %s (kept in %s)", b.Name, time.Since(began).Round(time.Second), b.Dir)
	return path, nil
}

// GoInstall builds with go install PKG@VERSION, outside the project's
// module so that its go.mod plays no part. env is added to the
// environment; flags go before pkg.
func GoInstall(pkgAtVersion string, env []string, flags ...string) func(ctx context.Context, dir string) error {
	return func(ctx context.Context, dir string) error {
		args := slices.Concat([]string{"install"}, flags, []string{pkgAtVersion})
		return goCmd(ctx, dir, slices.Concat(env, []string{"GOBIN=" + dir}), args...)
	}
}

// GoGet builds pkg at version in a throwaway module that requires it. go
// install PKG@VERSION would be simpler, but it reads the module's version
// list, which some module proxies refuse; go get of an exact version does
// not. GOFLAGS and GOWORK keep the project's go.mod and any go.work out.
func GoGet(pkg, version string, env []string, flags ...string) func(ctx context.Context, dir string) error {
	return func(ctx context.Context, dir string) error {
		toolsGo := "//go:build tools\n\npackage tools\n\nimport _ \"" + pkg + "\"\n"
		if err := os.WriteFile(filepath.Join(dir, "tools.go"), []byte(toolsGo), 0o644); err != nil {
			return err
		}
		env := slices.Concat(env, []string{"GOFLAGS=-mod=mod", "GOWORK=off"})
		for _, args := range [][]string{
			{"mod", "init", "tools"},
			{"get", pkg + "@" + version},
			{"mod", "tidy", "-e"},
			slices.Concat([]string{"build"}, flags, []string{"-o", dir + "/", pkg}),
		} {
			if err := goCmd(ctx, dir, env, args...); err != nil {
				return err
			}
		}
		return nil
	}
}

// GoBuild builds pkg of the project's module, named as go build names it.
func GoBuild(pkg string, env []string, flags ...string) func(ctx context.Context, dir string) error {
	return func(ctx context.Context, dir string) error {
		args := slices.Concat([]string{"build"}, flags, []string{"-o", dir + "/", pkg})
		return goCmd(ctx, "", env, args...)
	}
}

// goCmd runs go in dir ("": here) with env added to the environment.
func goCmd(ctx context.Context, dir string, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, TailLines(string(out), 30))
	}
	return nil
}
