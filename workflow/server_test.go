package workflow

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/config"
)

// writeDeployYML writes body as config/deploy.yml of a new project and
// returns the file's path, for Globals.ConfigFile.
func writeDeployYML(t *testing.T, body string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "config", "deploy.yml")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// quietGlobals are globals whose output is kept in out, for a config file
// that may not exist.
func quietGlobals(configFile string) (Globals, *bytes.Buffer) {
	var out bytes.Buffer
	return Globals{ConfigFile: configFile, UI: &UI{Out: &out, Err: &out}}, &out
}

func TestTrustTarget(t *testing.T) {
	for _, tt := range []struct {
		arg  string
		name string
		port int
	}{
		{"web-1.example.com", "web-1.example.com", 22},
		{"web-1.example.com:2222", "web-1.example.com", 2222},
		{"10.0.0.1", "10.0.0.1", 22},
		{"127.0.0.1:40022", "127.0.0.1", 40022},
		{"[::1]:2200", "::1", 2200},
		{"::1", "::1", 22}, // a bare IPv6 address has no port
		{"2001:db8::7", "2001:db8::7", 22},
	} {
		if name, port := trustTarget(tt.arg, 22); name != tt.name || port != tt.port {
			t.Errorf("trustTarget(%q, 22) = %q, %d; want %q, %d", tt.arg, name, port, tt.name, tt.port)
		}
	}
}

func TestTrustFile(t *testing.T) {
	if got := trustFile(&config.Config{}); got != "~/.ssh/known_hosts" {
		t.Errorf("without ssh.known_hosts: %q", got)
	}
	cfg := &config.Config{}
	cfg.SSH.KnownHosts = []string{"/etc/ship/known_hosts", "/other"}
	if got := trustFile(cfg); got != "/etc/ship/known_hosts" {
		t.Errorf("with ssh.known_hosts: %q, want the first", got)
	}
}

// A key is trusted only with the expected fingerprint, --yes, or a yes
// when asked; a given fingerprint is never overridden by --yes, and
// without a way to ask the answer is no.
func TestServerTrustAgree(t *testing.T) {
	const fp = "SHA256:abc"
	var asked []string
	answer := func(yes bool) func(string) bool {
		return func(q string) bool { asked = append(asked, q); return yes }
	}
	for _, tt := range []struct {
		name    string
		r       ServerTrustRequest
		wantErr string // "" is agreed
		asks    bool
	}{
		{"expected fingerprint", ServerTrustRequest{Fingerprint: fp}, "", false},
		{"other fingerprint", ServerTrustRequest{Host: "h", Fingerprint: "SHA256:wrong", Yes: true},
			"h offers SHA256:abc, not the expected SHA256:wrong: not trusted", false},
		{"--yes", ServerTrustRequest{Yes: true, Globals: Globals{Confirm: answer(false)}}, "", false},
		{"yes when asked", ServerTrustRequest{Globals: Globals{Confirm: answer(true)}}, "", true},
		{"no when asked", ServerTrustRequest{Globals: Globals{Confirm: answer(false)}}, "not trusted: compare the fingerprint", true},
		{"nobody to ask", ServerTrustRequest{}, "run again with --yes or --fingerprint", false},
	} {
		asked = nil
		err := tt.r.agree(fp)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.wantErr)
		}
		var wantAsked []string
		if tt.asks {
			wantAsked = []string{"Trust this key? [y/N] "}
		}
		if !slices.Equal(asked, wantAsked) {
			t.Errorf("%s: asked %q, want %q", tt.name, asked, wantAsked)
		}
	}
}

// server exec without a command is a usage error (exit 2), found before
// the config is read.
func TestServerExecNeedsCommand(t *testing.T) {
	g, _ := quietGlobals(filepath.Join(t.TempDir(), "missing.yml"))
	err := ServerExec(t.Context(), ServerExecRequest{Globals: g})
	var u UsageError
	if !errors.As(err, &u) || err.Error() != "server exec needs a command, e.g. ship server exec 'df -h'" {
		t.Errorf("server exec without a command: %v", err)
	}
}
