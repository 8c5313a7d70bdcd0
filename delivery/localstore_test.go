package delivery

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestLocalCredentials(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "docker")
	t.Setenv("DOCKER_CONFIG", dir)
	l, err := NewLocalCredentials()
	if err != nil || l.Dir != dir {
		t.Fatalf("DOCKER_CONFIG not honoured: %+v %v", l, err)
	}
	if b, err := l.ReadConfig(ctx); err != nil || b != nil {
		t.Fatalf("no file yet: %q %v", b, err)
	}
	if err := l.WriteConfig(ctx, []byte("{}\n")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "config.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config.json: %v %v; want mode 600", fi, err)
	}
	if b, err := l.ReadConfig(ctx); err != nil || string(b) != "{}\n" {
		t.Errorf("read back: %q %v", b, err)
	}
	bin := t.TempDir()
	os.WriteFile(filepath.Join(bin, "docker-credential-echo"), []byte("#!/bin/sh\necho \"$1\"; cat\n"), 0o755)
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	if out, err := l.RunHelper(ctx, "echo", "store", []byte("secret-on-stdin")); err != nil || string(out) != "store\nsecret-on-stdin" {
		t.Errorf("helper: %q %v", out, err)
	}
}
