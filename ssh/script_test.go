package ssh

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// runLocal runs cmd on this machine, as sshd would run it on a host.
func runLocal(t *testing.T, cmd Cmd) (string, error) {
	t.Helper()
	var out bytes.Buffer
	c := exec.Command(cmd.Args[0], cmd.Args[1:]...)
	c.Stdin, c.Stdout, c.Stderr = cmd.Stdin, &out, &out
	err := c.Run()
	return out.String(), err
}

func TestScriptShell(t *testing.T) {
	tests := []struct {
		script string
		want   string
	}{
		{"#!/bin/sh\necho hi\n", "sh"},
		{"#!/usr/bin/env bash\necho hi\n", "bash"},
		{"#!/bin/bash\necho hi\n", "bash"},
		{"#! /usr/bin/env  bash\n", "bash"},
		{"#!/bin/dash\n", "sh"},
		{"echo no shebang\n", "sh"},
		{"", "sh"},
		{"# #!/usr/bin/env bash\n", "sh"},
	}
	for _, tt := range tests {
		cmd := Script(tt.script, "a")
		want := []string{tt.want, "-c", tt.script, tt.want, "a"}
		if !slices.Equal(cmd.Args, want) {
			t.Errorf("Script(%q).Args = %q, want %q", tt.script, cmd.Args, want)
		}
	}
}

// Arguments reach the script as $1, $2, ... word for word, whatever they
// hold: nothing is spliced into the script's text.
func TestScriptArgs(t *testing.T) {
	script := "#!/bin/sh\nprintf '%s|' \"$0\" \"$#\" \"$@\"\n"
	args := []string{"one", "two words", `$HOME "q" 'q' $(false) ;`, ""}
	out, err := runLocal(t, Script(script, args...))
	if err != nil {
		t.Fatal(err, out)
	}
	want := "sh|4|" + strings.Join(args, "|") + "|"
	if out != want {
		t.Errorf("got %q, want %q", out, want)
	}

	out, err = runLocal(t, NamedScript("ship-test", "#!/usr/bin/env bash\necho \"$0 ${BASH_VERSION:+bash}\"\n"))
	if err != nil {
		t.Fatal(err, out)
	}
	if out != "ship-test bash\n" {
		t.Errorf("NamedScript: got %q, want the name as $0, run by bash", out)
	}
}

// TestUploadScripts runs Upload's two scripts locally: the content lands
// under its final name, with its mode, and an existing temporary name is
// refused rather than followed.
func TestUploadScripts(t *testing.T) {
	dir := t.TempDir()
	tmp, dst := filepath.Join(dir, ".f.tmp"), filepath.Join(dir, "f")
	receive := Script(receiveScript, tmp)
	receive.Stdin = strings.NewReader("content\n")
	if out, err := runLocal(t, receive); err != nil {
		t.Fatal(err, out)
	}
	if fi, err := os.Stat(tmp); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("received file: %v, %v; want mode 600", fi.Mode(), err)
	}
	if out, err := runLocal(t, Script(installScript, tmp, dst, "640", "")); err != nil {
		t.Fatal(err, out)
	}
	b, err := os.ReadFile(dst)
	fi, _ := os.Stat(dst)
	if err != nil || string(b) != "content\n" || fi.Mode().Perm() != 0o640 {
		t.Errorf("installed %q (%v), mode %v", b, err, fi.Mode())
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("the temporary file is still there: %v", err)
	}

	os.WriteFile(tmp, nil, 0o600)
	receive = Script(receiveScript, tmp)
	receive.Stdin = strings.NewReader("again\n")
	if out, err := runLocal(t, receive); err == nil {
		t.Errorf("receive over an existing file succeeded: %q", out)
	}
}
