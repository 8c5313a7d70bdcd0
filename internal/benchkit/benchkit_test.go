package benchkit

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProjectWriteKeepsSecretsPrivate(t *testing.T) {
	p := &Project{Dir: t.TempDir(), Service: "svc"}
	if err := p.Write(map[string]string{"config/deploy.yml": "service: svc\n", ".ship/secrets": "A=b\n"}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(p.Dir, ".ship/secrets"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf(".ship/secrets is %v, want -rw-------", st.Mode().Perm())
	}
	if b, _ := os.ReadFile(filepath.Join(p.Dir, "config/deploy.yml")); string(b) != "service: svc\n" {
		t.Errorf("config/deploy.yml = %q", b)
	}
}

func TestRunNamesTheServiceAndCommandOnFailure(t *testing.T) {
	// A stand-in for the CLI that fails, saying where it ran.
	dir := t.TempDir()
	fake := filepath.Join(dir, "ship")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho \"in $(pwd) with $DOCKER_HOST\"\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := &Project{Dir: dir, Service: "svc", Ship: fake, DockerHost: "unix:///x.sock"}
	out, err := p.Run(context.Background(), "deploy", "--version", "v1")
	if err == nil || !strings.Contains(err.Error(), "svc: ship deploy --version v1") {
		t.Fatalf("Run = %v; want an error naming the service and command", err)
	}
	if !strings.Contains(out, "in "+dir+" with unix:///x.sock") {
		t.Errorf("ship ran as %q; want in the project with its DOCKER_HOST", out)
	}
}
