package host

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/internal/testshell"
)

// The SSH user's ~/.docker/config.json is read through read-file.sh, and a
// helper gets its input on stdin.
func TestDockerCredentials(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	d := DockerCredentials{H: &Host{Name: "h1", Shell: testshell.Local{Home: home}}}
	if b, err := d.ReadConfig(ctx); err != nil || len(b) != 0 {
		t.Fatalf("no file: %q %v", b, err)
	}
	os.MkdirAll(filepath.Join(home, ".docker"), 0o700)
	os.WriteFile(filepath.Join(home, ".docker", "config.json"), []byte(`{"auths":{}}`), 0o600)
	if b, err := d.ReadConfig(ctx); err != nil || string(b) != `{"auths":{}}` {
		t.Errorf("read: %q %v", b, err)
	}
	if d.Where() != "h1:~/.docker/config.json" {
		t.Errorf("Where() = %q", d.Where())
	}
	bin := t.TempDir()
	os.WriteFile(filepath.Join(bin, "docker-credential-echo"), []byte("#!/bin/sh\necho \"$1\"; cat\n"), 0o755)
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	if out, err := d.RunHelper(ctx, "echo", "erase", []byte("reg.example")); err != nil || strings.TrimSpace(string(out)) != "erase\nreg.example" {
		t.Errorf("helper: %q %v", out, err)
	}
}
