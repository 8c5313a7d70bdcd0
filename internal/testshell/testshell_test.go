package testshell

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/ssh"
)

// A command sees the test's HOME, and an upload lands with its mode.
func TestLocal(t *testing.T) {
	home := t.TempDir()
	l := Local{Home: home}
	var out bytes.Buffer
	if err := l.Run(context.Background(), ssh.Cmd{Args: []string{"sh", "-c", "echo $HOME"}, Stdout: &out}); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != home {
		t.Errorf("HOME = %q, want %q", got, home)
	}
	p := filepath.Join(home, "f")
	if err := l.Upload(context.Background(), p, strings.NewReader("x"), 0o600, ""); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("uploaded file: %v, %v", fi, err)
	}
	if _, err := l.DialContext(context.Background(), "tcp", "x:1"); err == nil {
		t.Error("DialContext succeeded")
	}
}
