package ssh

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"docker", "ps", "-a"}, "docker ps -a"},
		{[]string{""}, "''"},
		{[]string{"a b"}, "'a b'"},
		{[]string{"it's"}, `'it'\''s'`},
		{[]string{"--label=app=web/v1.2:x,y@z%"}, "--label=app=web/v1.2:x,y@z%"},
		{[]string{"$HOME"}, "'$HOME'"},
	} {
		if got := Quote(tt.args...); got != tt.want {
			t.Errorf("Quote(%q) = %s, want %s", tt.args, got, tt.want)
		}
	}
}

// TestQuoteShell checks that shells parse Quote's output back into the same words.
func TestQuoteShell(t *testing.T) {
	nasty := []string{
		"", " ", "'", "''", `"`, `\`, `\'`, "a'b\"c", "$HOME", "${HOME}", "$(id)", "`id`",
		"line1\nline2", "\n", "\t", "*", "?", "[a]", "~", "~root", "#comment", "!", "!!",
		"a;b|c&d<e>f(g)h{i}", "-n", "-e", "--", "ü", "\xff\xfe", "\x01\x7f", "%s", "a=b c",
	}
	for _, shell := range []string{"sh", "bash"} {
		if _, err := exec.LookPath(shell); err != nil {
			continue
		}
		args := append([]string{"printf", `%s\0`}, nasty...)
		out, err := exec.Command(shell, "-c", Quote(args...)).Output()
		if err != nil {
			t.Fatalf("%s: %v", shell, err)
		}
		got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
		if !slices.Equal(got, nasty) {
			t.Errorf("%s round trip:\n got %q\nwant %q", shell, got, nasty)
		}
	}
}
