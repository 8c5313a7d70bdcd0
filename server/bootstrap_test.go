package server

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/ssh"
)

// localRunner runs the script with the real sh, on this machine, with a
// PATH of stub commands that record how they were called.
type localRunner struct{ path string }

func (l localRunner) Run(ctx context.Context, c ssh.Cmd) error {
	cmd := exec.CommandContext(ctx, c.Args[0], c.Args[1:]...)
	cmd.Env = []string{"PATH=" + l.path}
	cmd.Stdout, cmd.Stderr = c.Stdout, c.Stderr
	err := cmd.Run()
	if e, ok := err.(*exec.ExitError); ok {
		return &ssh.ExitError{Status: e.ExitCode()}
	}
	return err
}

// stubs writes executable stubs; each logs its argv to calls.log.
func stubs(t *testing.T, scripts map[string]string) (string, string) {
	dir := t.TempDir()
	log := filepath.Join(dir, "calls.log")
	for name, body := range scripts {
		script := "#!/bin/sh\necho \"" + name + " $*\" >> " + log + "\n" + body + "\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The script also needs these real tools.
	for _, tool := range []string{"cat", "sh", "touch"} {
		p, _ := exec.LookPath(tool)
		os.Symlink(p, filepath.Join(dir, tool))
	}
	return dir, log
}

func TestBootstrapAlreadyInstalled(t *testing.T) {
	path, log := stubs(t, map[string]string{"docker": "echo 24.0.7", "sqlite3": "exit 0"})
	var out bytes.Buffer
	if err := Bootstrap(context.Background(), localRunner{path}, &out); err != nil {
		t.Fatal(err, out.String())
	}
	calls, _ := os.ReadFile(log)
	if !strings.Contains(out.String(), "Docker Engine 24.0.7 is already installed") || !strings.Contains(out.String(), "sqlite3 is already installed") ||
		strings.Contains(string(calls), "apt-get") {
		t.Errorf("out %q calls %q", out.String(), calls)
	}
}

func TestBootstrapRefusesWithoutRootOrSudo(t *testing.T) {
	path, log := stubs(t, map[string]string{
		"docker": "exit 1",
		"id":     `case "$1" in -u) echo 1000;; -un) echo deploy;; esac`,
		"sudo":   "exit 1",
	})
	var out bytes.Buffer
	err := Bootstrap(context.Background(), localRunner{path}, &out)
	if err == nil || !strings.Contains(out.String(), "docker.io sqlite3 missing and deploy is not root and has no passwordless sudo") {
		t.Errorf("err %v out %q", err, out.String())
	}
	if calls, _ := os.ReadFile(log); strings.Contains(string(calls), "apt-get") {
		t.Errorf("apt-get ran without privileges: %s", calls)
	}
}

func TestBootstrapInstallsWithSudo(t *testing.T) {
	installed := filepath.Join(t.TempDir(), "installed")
	path, log := stubs(t, map[string]string{
		"docker":  "[ -e " + installed + " ] && echo 20.10.24 || exit 1",
		"id":      `case "$1" in -u) echo 1000;; -un) echo deploy;; esac`,
		"sudo":    `[ "$1" = -n ] && shift; [ "$1" = true ] && exit 0; "$@"`,
		"apt-get": `[ "$1" = install ] && touch ` + installed + `; exit 0`,
		"service": "exit 0",
		"usermod": "exit 0",
	})
	var out bytes.Buffer
	if err := Bootstrap(context.Background(), localRunner{path}, &out); err != nil {
		t.Fatal(err, out.String())
	}
	calls, _ := os.ReadFile(log)
	for _, want := range []string{"apt-get install -y -q docker.io sqlite3", "usermod -aG docker deploy"} {
		if !strings.Contains(string(calls), want) {
			t.Errorf("calls lack %q:\n%s", want, calls)
		}
	}
	if !strings.Contains(out.String(), "Docker Engine 20.10.24 installed") {
		t.Errorf("out = %q", out.String())
	}
}

// Docker present, sqlite3 missing: only sqlite3 is installed, and Docker's
// service is left alone.
func TestBootstrapInstallsSQLiteOnly(t *testing.T) {
	path, log := stubs(t, map[string]string{
		"docker":  "echo 24.0.7",
		"id":      `case "$1" in -u) echo 0;; -un) echo root;; esac`,
		"apt-get": "exit 0",
		"service": "exit 0",
	})
	var out bytes.Buffer
	if err := Bootstrap(context.Background(), localRunner{path}, &out); err != nil {
		t.Fatal(err, out.String())
	}
	calls, _ := os.ReadFile(log)
	if !strings.Contains(string(calls), "apt-get install -y -q sqlite3\n") || strings.Contains(string(calls), "service") {
		t.Errorf("calls:\n%s", calls)
	}
}
