package main

import (
	"bytes"
	"flag"
	"os"
	"strconv"
	"testing"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal: what the user types is written to
// the returned master, and ship reads it from the terminal.
func openPTY(t *testing.T) (master, terminal *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	term, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); term.Close() })
	return m, term
}

// On a terminal ship asks; in CI it never does, even with a terminal,
// and the answer is no, so the command needs --yes.
func TestConfirmNeverAsksInCI(t *testing.T) {
	for _, tt := range []struct {
		ci, actions string
		want        bool
	}{
		{"", "", true},
		{"true", "", false},
		{"", "true", false},
	} {
		t.Setenv("CI", tt.ci)
		t.Setenv("GITHUB_ACTIONS", tt.actions)
		master, terminal := openPTY(t)
		master.Write([]byte("y\n"))
		var out bytes.Buffer
		app := &cli.App{Reader: terminal, Writer: &out}
		c := cli.NewContext(app, flag.NewFlagSet("t", flag.ContinueOnError), nil)
		if got := confirm(c, "Remove? [y/N] "); got != tt.want || (out.Len() > 0) != tt.want {
			t.Errorf("CI=%q GITHUB_ACTIONS=%q: confirm = %v, prompt %q; want %v", tt.ci, tt.actions, got, out.String(), tt.want)
		}
	}
}
