package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"debug/macho"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// releaseTestVersion is the version buildRelease stamps into its binaries.
const releaseTestVersion = "v0.0.0-release-test"

// releaseBinaries are the files make release builds, besides SHA256SUMS.
var releaseBinaries = []string{"ship-linux-amd64", "ship-linux-arm64", "ship-darwin-amd64", "ship-darwin-arm64"}

var (
	releaseOnce    sync.Once
	releaseDistDir string
	releaseTook    time.Duration
	releaseOut     []byte
	releaseErr     error
	releaseLogged  sync.Once
)

// buildRelease runs make release once per test binary, from the
// repository root, into a fresh directory with releaseTestVersion stamped
// in. prebuild starts it beside the first tests; releaseDist waits for it.
func buildRelease() {
	dir, err := os.MkdirTemp("", "ship-release-test-")
	if err != nil {
		releaseErr = err
		return
	}
	// Variables on make's command line beat the environment's.
	cmd := exec.Command("make", "release", "DIST="+dir, "VERSION="+releaseTestVersion)
	cmd.Dir = filepath.Join(pkgDir, "..", "..")
	// Not a part of any make that runs the tests (make test -j).
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name != "MAKEFLAGS" && name != "MFLAGS" && name != "MAKELEVEL" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		os.RemoveAll(dir)
		releaseErr = fmt.Errorf("make release: %v\n%s", err, out)
		return
	}
	releaseDistDir, releaseTook, releaseOut = dir, time.Since(start), out
}

// releaseDist returns the directory make release built into (buildRelease),
// shared by every test that calls it, which must not change it; TestMain
// removes it.
func releaseDist(t *testing.T) string {
	t.Helper()
	releaseOnce.Do(buildRelease)
	if releaseErr != nil {
		t.Fatal(releaseErr)
	}
	releaseLogged.Do(func() { t.Logf("make release took %s:\n%s", releaseTook.Round(time.Millisecond), releaseOut) })
	return releaseDistDir
}

// TestMakeRelease checks make release's output: the four binaries, each for
// its platform, static, stripped and stamped, and a SHA256SUMS that
// sha256sum -c accepts.
func TestMakeRelease(t *testing.T) {
	t.Parallel() // no host: it waits at the end for the release prebuild started
	dist := releaseDist(t)

	entries, err := os.ReadDir(dist)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	want := append(slices.Clone(releaseBinaries), "SHA256SUMS")
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("dist holds %q, want exactly %q", got, want)
	}

	// SHA256SUMS: "<hex>  <name>", one line per binary, names bare.
	sums := map[string]string{}
	f, err := os.Open(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		sum, name, ok := strings.Cut(lines.Text(), "  ")
		if b, err := hex.DecodeString(sum); !ok || err != nil || len(b) != sha256.Size {
			t.Errorf("SHA256SUMS: line %q is not in sha256sum's format", lines.Text())
			continue
		}
		if !slices.Contains(releaseBinaries, name) {
			t.Errorf("SHA256SUMS: %q is not one of the release's binaries", name)
		}
		if _, dup := sums[name]; dup {
			t.Errorf("SHA256SUMS: %s listed twice", name)
		}
		sums[name] = sum
	}
	if err := lines.Err(); err != nil {
		t.Fatal(err)
	}

	for _, name := range releaseBinaries {
		path := filepath.Join(dist, name)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if listed, ok := sums[name]; !ok {
			t.Errorf("SHA256SUMS does not list %s", name)
		} else if listed != hex.EncodeToString(sum[:]) {
			t.Errorf("SHA256SUMS gives %s for %s; the file's is %x", listed, name, sum)
		}
		// -X main.version: only the linux/amd64 binary can run here, so
		// look for the stamp in every binary's bytes.
		if !bytes.Contains(data, []byte(releaseTestVersion)) {
			t.Errorf("%s does not contain the version %s", name, releaseTestVersion)
		}
		checkPlatform(t, name, path)
	}

	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Logf("not running ship-linux-amd64 version on %s/%s", runtime.GOOS, runtime.GOARCH)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(dist, "ship-linux-amd64"), "version")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ship-linux-amd64 version: %v\n%s%s", err, out, stderr.Bytes())
	}
	if prefix := "ship " + releaseTestVersion + " ("; !strings.HasPrefix(string(out), prefix) {
		t.Errorf("ship-linux-amd64 version printed %q, want it to start with %q", out, prefix)
	}
	if !strings.HasSuffix(string(out), ", linux/amd64)\n") {
		t.Errorf("ship-linux-amd64 version printed %q, want it to end with %q", out, ", linux/amd64)\n")
	}
}

// checkPlatform checks that the binary ship-OS-ARCH at path is an
// executable for OS and ARCH, without DWARF (-w), and on linux static
// (CGO_ENABLED=0) and without a symbol table (-s).
func checkPlatform(t *testing.T, name, path string) {
	t.Helper()
	switch name {
	case "ship-linux-amd64", "ship-linux-arm64":
		want := map[string]elf.Machine{"ship-linux-amd64": elf.EM_X86_64, "ship-linux-arm64": elf.EM_AARCH64}[name]
		f, err := elf.Open(path)
		if err != nil {
			t.Errorf("%s is not an ELF file: %v", name, err)
			return
		}
		defer f.Close()
		if f.Machine != want {
			t.Errorf("%s is for %v, want %v", name, f.Machine, want)
		}
		if f.Type != elf.ET_EXEC {
			t.Errorf("%s is an ELF %v, want %v", name, f.Type, elf.ET_EXEC)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s is dynamically linked; CGO_ENABLED=0 builds are static", name)
			}
		}
		for _, s := range []string{".symtab", ".debug_info", ".zdebug_info"} {
			if f.Section(s) != nil {
				t.Errorf("%s has a %s section; -s -w strip it", name, s)
			}
		}
	case "ship-darwin-amd64", "ship-darwin-arm64":
		want := map[string]macho.Cpu{"ship-darwin-amd64": macho.CpuAmd64, "ship-darwin-arm64": macho.CpuArm64}[name]
		f, err := macho.Open(path)
		if err != nil {
			t.Errorf("%s is not a Mach-O file: %v", name, err)
			return
		}
		defer f.Close()
		if f.Cpu != want {
			t.Errorf("%s is for %v, want %v", name, f.Cpu, want)
		}
		if f.Type != macho.TypeExec {
			t.Errorf("%s is a Mach-O %v, want %v", name, f.Type, macho.TypeExec)
		}
		for _, s := range []string{"__debug_info", "__zdebug_info"} {
			if f.Section(s) != nil {
				t.Errorf("%s has a %s section; -w strips it", name, s)
			}
		}
	default:
		t.Errorf("no platform known for %s", name)
	}
}
