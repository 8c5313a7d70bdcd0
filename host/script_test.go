package host

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/ssh"

	"github.com/shipdeploy/ship/internal/testshell"
)

func TestHome(t *testing.T) {
	home := t.TempDir()
	h := &Host{Name: "local", Shell: testshell.Local{Home: home}}
	if got, err := h.Home(context.Background()); err != nil || got != home {
		t.Errorf("Home() = %q, %v; want %q", got, err, home)
	}
	// Asked once: a deploy needs it several times, each a round trip.
	runs := 0
	h.Shell = countingShell{Shell: h.Shell, runs: &runs}
	if got, err := h.Home(context.Background()); err != nil || got != home || runs != 0 {
		t.Errorf("Home() again = %q, %v after %d commands; want %q after none", got, err, runs, home)
	}
}

// countingShell counts the commands it runs.
type countingShell struct {
	Shell
	runs *int
}

func (c countingShell) Run(ctx context.Context, cmd ssh.Cmd) error {
	*c.runs++
	return c.Shell.Run(ctx, cmd)
}

// TestDirectory runs directory.sh on this machine: it creates, then
// changes only what differs, and says what it did.
func TestDirectory(t *testing.T) {
	ctx := context.Background()
	h := &Host{Name: "local", Shell: testshell.Local{Home: t.TempDir()}}
	dir := filepath.Join(t.TempDir(), "a", "b")
	me := fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid())
	var out strings.Builder
	if err := Directory(ctx, h, dir, me, "0750", &out); err != nil {
		t.Fatal(err)
	}
	if want := "created directory " + dir + "\n"; !strings.HasPrefix(out.String(), want) {
		t.Errorf("first run said %q, want it to start %q", out.String(), want)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o750 {
		t.Fatalf("%s: %v, %v; want mode 750", dir, fi.Mode(), err)
	}
	out.Reset()
	if err := Directory(ctx, h, dir, me, "0750", &out); err != nil || out.Len() != 0 {
		t.Errorf("second run: %v, said %q; want nothing to do", err, out.String())
	}
	if err := Directory(ctx, h, dir, "", "700", &out); err != nil || out.String() != "chmod 700 "+dir+"\n" {
		t.Errorf("mode change: %v, said %q", err, out.String())
	}
}
