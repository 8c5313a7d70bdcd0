package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// loadWithSecrets loads a config whose env.secret lists keys, with the
// given secrets file, and returns each key's value.
func loadWithSecrets(t *testing.T, secrets string, keys ...string) (map[string]string, error) {
	t.Helper()
	yml := "service: app\nimage: acme/app\nservers: [10.0.0.1]\n"
	if len(keys) > 0 {
		yml += "env:\n  secret:\n"
	}
	for _, k := range keys {
		yml += "    - " + k + "\n"
	}
	dir := write(t, map[string]string{"config/deploy.yml": yml, ".ship/secrets": secrets})
	c, err := load(t, dir, Options{})
	if err != nil {
		return nil, err
	}
	got := map[string]string{}
	for _, s := range c.Env.Secrets {
		got[s.Name] = s.Value.Reveal()
	}
	return got, nil
}

// A $( that arrives in a variable's value is text: only what the secrets
// file itself says runs. KAMAL_REGISTRY_PASSWORD=$KAMAL_REGISTRY_PASSWORD
// is the line every Kamal project has, and CI fills the variable.
func TestSecretsRunOnlyCommandsWrittenInTheFile(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "pwned")
	planted := "$(touch " + marker + ")"
	t.Setenv("X", planted)
	got, err := loadWithSecrets(t, `X=$X
BRACED=${X}
QUOTED="pre-$X-post"
SINGLE='$(touch `+marker+`)'
FROM_SINGLE=$SINGLE
ESCAPED=\$(touch `+marker+`)
ESCAPED_QUOTED="\$(touch `+marker+`)"
WRITTEN=$(printf hi)
OUTPUT=$(printf '%s' '$(touch `+marker+`)')
SEES_EARLIER=$(printf '%s-%s' "$WRITTEN" "$X")
`, "X", "BRACED", "QUOTED", "SINGLE", "FROM_SINGLE", "ESCAPED", "ESCAPED_QUOTED", "WRITTEN", "OUTPUT", "SEES_EARLIER")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a $( from a variable's value ran (%s exists)", marker)
	}
	want := map[string]string{
		"X":              planted,
		"BRACED":         planted,
		"QUOTED":         "pre-" + planted + "-post",
		"SINGLE":         planted,
		"FROM_SINGLE":    planted,
		"ESCAPED":        planted,
		"ESCAPED_QUOTED": planted,
		"WRITTEN":        "hi",
		"OUTPUT":         planted,
		"SEES_EARLIER":   "hi-" + planted,
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %q, want %q", k, got[k], w)
		}
	}
}

// A line that is not an assignment may be a pasted secret: the problem
// says where it is, never what it says.
func TestSecretsParseErrorsHideTheLine(t *testing.T) {
	for _, tc := range []struct {
		name, file, secret, at, key string
	}{
		{"a pasted token", "GOOD=1\nghp_pastedTokenValue123\n", "ghp_pastedTokenValue123", ".ship/secrets:2:1: not KEY=VALUE", ""},
		{"no separator", "# c\n\nexport TOKEN s3cr3t-after-a-space\n", "s3cr3t-after-a-space", ".ship/secrets:3:1: not KEY=VALUE", ""},
		{"an unclosed quote", "A=1\nPASSWORD=\"s3cr3t-never-closed\nB=2\n", "s3cr3t-never-closed", ".ship/secrets:2:1: PASSWORD: the value's closing quote is missing", "PASSWORD"},
		{"text after the quote", "PASSWORD='s3cr3t'-and-more\n", "s3cr3t", ".ship/secrets:1:1: PASSWORD: text after the value's closing quote", "PASSWORD"},
		{"an unclosed command", "TOKEN=$(op read s3cr3t-inline\n", "s3cr3t-inline", ".ship/secrets:1:1: TOKEN: a $( has no closing )", "TOKEN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadWithSecrets(t, tc.file)
			var problems Problems
			if !errors.As(err, &problems) || len(problems) != 1 {
				t.Fatalf("got %v, want one problem", err)
			}
			p := problems[0]
			if strings.Contains(p.String(), tc.secret) {
				t.Errorf("the problem shows the line's text %q: %s", tc.secret, p)
			}
			if !strings.Contains(p.String(), tc.at) || p.Path != tc.key {
				t.Errorf("problem %q (key %q), want %q... (key %q)", p, p.Path, tc.at, tc.key)
			}
		})
	}
}

// A command that fails is named by its key and exit status; neither its
// text (which may hold a token) nor its stderr shows.
func TestSecretsCommandFailureHidesOutput(t *testing.T) {
	_, err := loadWithSecrets(t, "A=1\nTOKEN=$(printf 'fetched-secret' >&2; tok=inline-token-abc; exit 3)\n", "TOKEN")
	var problems Problems
	if !errors.As(err, &problems) || len(problems) == 0 {
		t.Fatalf("got %v, want a problem", err)
	}
	p := problems[0].String()
	if !strings.Contains(p, ".ship/secrets:2:1: TOKEN: the $(…) of TOKEN failed: exit status 3") {
		t.Errorf("problem %q does not name the file, line, key and exit status", p)
	}
	for _, leak := range []string{"fetched-secret", "inline-token-abc", "printf"} {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("the problem shows %q: %v", leak, err)
		}
	}
}

func TestDotenvForms(t *testing.T) {
	t.Setenv("FROM_ENV", "env")
	got, err := loadWithSecrets(t, "\uFEFF# comment\r\n"+`export EXPORTED=1
export EXPORTED
COLON: colon value   # comment
SPACED = spaced
HASH=abc#def
EMPTY=
QUOTES="say \"hi\"\n$FROM_ENV ${FROM_ENV}$lower $"
SINGLE='a $FROM_ENV \n'
PEM="-----BEGIN KEY-----
line
-----END KEY-----"
BACKSLASH=a\b
NESTED="$(printf '%s' "(x)")"
NESTED_QUOTES=$(printf '%s' "(y")
ESCAPED_IN_CMD="$(printf '%s' \"q\")"
EARLIER=$EXPORTED-$COLON
`, "EXPORTED", "COLON", "SPACED", "HASH", "EMPTY", "QUOTES", "SINGLE", "PEM", "BACKSLASH", "NESTED", "NESTED_QUOTES", "ESCAPED_IN_CMD", "EARLIER")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"EXPORTED":       "1",
		"COLON":          "colon value",
		"SPACED":         "spaced",
		"HASH":           "abc",
		"EMPTY":          "",
		"QUOTES":         "say \"hi\"\nenv env$lower $",
		"SINGLE":         `a $FROM_ENV \n`,
		"PEM":            "-----BEGIN KEY-----\nline\n-----END KEY-----",
		"BACKSLASH":      `a\b`,
		"NESTED":         "(x)",
		"NESTED_QUOTES":  "(y",
		"ESCAPED_IN_CMD": "q",
		"EARLIER":        "1-colon value",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %q, want %q", k, got[k], w)
		}
	}
}

// Line numbers count the lines of values that span several.
func TestDotenvLinesAfterMultilineValues(t *testing.T) {
	_, err := loadWithSecrets(t, "PEM=\"a\nb\nc\"\nS='x\ny'\nbad line\n")
	if err == nil || !strings.Contains(err.Error(), ".ship/secrets:6:1: not KEY=VALUE") {
		t.Errorf("got %v, want the bad line at line 6", err)
	}
}
