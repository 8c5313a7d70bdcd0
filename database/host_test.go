package database

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/ssh"
)

// stubShell runs commands on this machine with PATH set to path.
type stubShell struct {
	host.Shell
	path string
	home string // $HOME, where ship keeps its records; none if ""
}

func (s stubShell) Run(ctx context.Context, c ssh.Cmd) error {
	cmd := exec.CommandContext(ctx, c.Args[0], c.Args[1:]...)
	cmd.Env = []string{"PATH=" + s.path}
	if s.home != "" {
		cmd.Env = append(cmd.Env, "HOME="+s.home)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.Stdin, c.Stdout, c.Stderr
	return cmd.Run()
}

// stubPath makes a PATH with sh and the given stub commands.
func stubPath(t *testing.T, stubs map[string]string) string {
	dir := t.TempDir()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(sh, filepath.Join(dir, "sh")); err != nil {
		t.Fatal(err)
	}
	for name, body := range stubs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!"+sh+"\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// as-root.sh runs the command itself for root, and through sudo -n for
// anyone else, its arguments intact either way.
func TestAsRoot(t *testing.T) {
	script := "#!/bin/sh\nprintf '%s|' \"$@\"\n"
	for _, uid := range []string{"0", "1000"} {
		t.Run("uid "+uid, func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "sudo.log")
			path := stubPath(t, map[string]string{
				"id":   "echo " + uid,
				"sudo": `printf '%s\n' "$1" > ` + log + `; shift; exec "$@"`,
			})
			h := &host.Host{Name: "local", Shell: stubShell{path: path}}
			out, err := scriptAsRoot(context.Background(), h, script, "a b", "", "$c")
			if err != nil || out != "a b||$c|" {
				t.Errorf("got %q, %v", out, err)
			}
			sudo, _ := os.ReadFile(log)
			if want := map[string]string{"0": "", "1000": "-n\n"}[uid]; string(sudo) != want {
				t.Errorf("sudo called with %q, want %q", sudo, want)
			}
		})
	}
}

// The scripts that run sqlite3 say what to do on a host without it, in the
// same words.
func TestNeedSQLiteEveryScript(t *testing.T) {
	const check = `command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed on this host: ship server bootstrap installs it (or apt-get install sqlite3)" >&2; exit 127; }`
	path := stubPath(t, map[string]string{"id": "echo 0"})
	h := &host.Host{Name: "local", Shell: stubShell{path: path}}
	for name, script := range map[string]string{"record.sh": recordScript, "count.sh": countScript, "integrity.sh": integrityScript, "schema.sh": schemaScript} {
		var first string
		for line := range strings.Lines(script) {
			if !strings.HasPrefix(line, "#") {
				first = strings.TrimSuffix(line, "\n")
				break
			}
		}
		if first != check {
			t.Errorf("%s starts with %q, not the sqlite3 check", name, first)
		}
		_, err := scriptAsRoot(context.Background(), h, script, "/nonexistent/app.db", "/nonexistent/dest", "1")
		var exit *exec.ExitError
		if err == nil || !strings.Contains(err.Error(), "sqlite3 is not installed on this host") {
			t.Errorf("%s without sqlite3: %v", name, err)
		} else if errors.As(err, &exit) {
			t.Errorf("%s: want the message as the error, got %v", name, err)
		}
	}
}

// Another package's script runs as the package's own: inside the
// database's directory of its volume, with the database's name and more
// arguments after the root and directory.
func TestInVolume(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	h := &host.Host{Name: "local", Shell: stubShell{path: os.Getenv("PATH")}}
	db := DB{Path: "/data/sub/app.db", HostPath: filepath.Join(root, "sub", "app.db"), Root: root, Rel: "sub/app.db"}
	out, err := InVolume(context.Background(), h, db, `enter "$1" "$2"; no_link "$3"; echo "$(pwd -P) $3 $4"`, "more words")
	real, _ := filepath.EvalSymlinks(filepath.Join(root, "sub"))
	if err != nil || strings.TrimSpace(out) != real+" app.db more words" {
		t.Errorf("InVolume: %q, %v", out, err)
	}
}
