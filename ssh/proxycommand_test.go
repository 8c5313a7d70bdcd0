package ssh

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Every value put into a proxy command is quoted for sh: a user or host
// that holds shell syntax is printed, not run (CVE-2023-51385's pattern).
// Plain values stay as they are, so "%h" in double quotes still works.
func TestProxyCommandQuotesValues(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "pwned")
	for _, tc := range []struct{ command, host, user, want string }{
		{"echo %r", "10.0.0.1", "x; touch " + marker, "x; touch " + marker},
		{"echo %r@%h:%p", "$(touch " + marker + ")", "`touch " + marker + "`", "`touch " + marker + "`@$(touch " + marker + "):22"},
		{"echo %n 100%%", "host'; touch " + marker + "; '", "u", "host'; touch " + marker + "; ' 100%"},
	} {
		line, err := expandProxyCommand(tc.command, tc.host, "22", tc.user)
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("sh", "-c", line).Output()
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if got := strings.TrimSuffix(string(out), "\n"); got != tc.want {
			t.Errorf("%q ran as %q, printed %q, want %q", tc.command, line, got, tc.want)
		}
		if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%q with host %q user %q ran code: %s exists", tc.command, tc.host, tc.user, marker)
		}
	}
	line, err := expandProxyCommand(`ssh -W "%h:%p" %r@bastion -o 'X=%%'`, "10.0.0.1", "22", "deploy")
	if err != nil || line != `ssh -W "10.0.0.1:22" deploy@bastion -o 'X=%'` {
		t.Errorf("plain values: %q, %v", line, err)
	}
}

// The proxy command itself refuses a user name with shell syntax, before
// anything runs.
func TestProxyCommandRefusesShellInUser(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "pwned")
	conn, err := proxyCommand(Config{User: "x; touch " + marker, ProxyCommand: "echo %r"}, "10.0.0.1:22")
	if err == nil {
		io.ReadAll(conn) // until sh has run the whole line and exited
		conn.Close()
	}
	if _, serr := os.Stat(marker); !errors.Is(serr, os.ErrNotExist) {
		t.Fatalf("the user name ran as a command: %s exists", marker)
	}
	if err == nil || !strings.Contains(err.Error(), "may not contain") {
		t.Errorf("got %v, want the user refused", err)
	}
}

func TestProxyCommandTokens(t *testing.T) {
	for _, bad := range []string{"ssh -W %h:%p %C", "nc %h %P", "echo 100%", "echo %d"} {
		if err := CheckProxyCommand(bad); err == nil {
			t.Errorf("CheckProxyCommand(%q) accepted it", bad)
		}
	}
	for _, ok := range []string{"ssh -W %h:%p bastion", "nc %n %p", "echo %r 100%%", "true"} {
		if err := CheckProxyCommand(ok); err != nil {
			t.Errorf("CheckProxyCommand(%q): %v", ok, err)
		}
	}
}

func TestCheckUser(t *testing.T) {
	for _, ok := range []string{"root", "deploy", "app-user_1", "user.name", "user@domain", "DOMAIN+x"} {
		if err := CheckUser(ok); err != nil {
			t.Errorf("CheckUser(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-oProxyCommand=x", "x; touch f", "a'b", `a"b`, "a`b", "a&b", "a|b", "a$b", "a(b", "a)b", "a<b", "a>b", "a b", "a\nb", "a{b", `a\b`, "a\tb", "a\x00b"} {
		if err := CheckUser(bad); err == nil {
			t.Errorf("CheckUser(%q) accepted it", bad)
		}
	}
}
