package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzLoad feeds arbitrary files to the loader: it must never panic, and
// every problem it reports must point into the file.
func FuzzLoad(f *testing.F) {
	seed, _ := os.ReadFile("testdata/rails8/config/deploy.yml")
	f.Add(string(seed))
	f.Add("service: app\nimage: acme/app\nservers: [10.0.0.1]\n")
	f.Add("servers:\n  web:\n    <<: *x\n")
	f.Add("a: &a [*a]\n")
	f.Add("env: {clear: [1], secret: {a: b}, tags: 3}\n")
	f.Fuzz(func(t *testing.T, src string) {
		dir := t.TempDir()
		file := filepath.Join(dir, "deploy.yml")
		if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(Options{File: file})
		problems, ok := err.(Problems)
		if err != nil && !ok {
			t.Fatalf("error is not Problems: %v", err)
		}
		lines := strings.Count(src, "\n") + 1
		for _, p := range problems {
			if p.File != file && !strings.HasPrefix(p.File, ".ship") && !strings.HasPrefix(p.File, ".kamal") {
				t.Errorf("problem in unknown file: %s", p)
			}
			if p.Line < 0 || p.Line > lines {
				t.Errorf("problem outside the file: %s", p)
			}
		}
	})
}

// FuzzSecrets feeds arbitrary secrets files to loadSecrets, whose
// commands go to a stand-in that runs nothing. It must never panic; only
// the file's own text may reach the command runner, never a variable's
// value; and no problem may repeat the value written on any line.
func FuzzSecrets(f *testing.F) {
	seed, _ := os.ReadFile("testdata/rails8/.kamal/secrets")
	f.Add(string(seed))
	f.Add("A=1\nB='two'\nC=\"three $A\"\nexport D=$(fail now)\n")
	f.Add("PEM=\"-----BEGIN-----\nabc\n-----END-----\"\n# c\nK: v\n")
	f.Add("ghp_pastedTokenValue123\n")
	f.Add("X=$SHIP_FUZZ_PLANTED\nY=\"${SHIP_FUZZ_PLANTED}\"\nZ=$(echo $SHIP_FUZZ_PLANTED)\n")
	f.Add("A=\"never closed\nB=$(also never closed\n")
	f.Add("A='x'trailing\nB=$(printf '%s' \")\")\nC=\\$(literal)\n")
	f.Add("\xff\xfeA\x00=\x001\x00")
	f.Setenv("SHIP_FUZZ_PLANTED", "$(planted-marker)")
	fixed := []string{msgNotAssignment, msgExportUnset, msgUnclosedQuote, msgAfterQuote, msgUnclosedSubst, msgUnclosedInLine,
		"the $(…) of ", " failed: it could not run (run the command in a terminal to see its errors)"}
	f.Fuzz(func(t *testing.T, src string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "secrets"), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		run := func(_, command string, _ Secrets) (string, error) {
			if strings.Contains(command, "planted-marker") && !strings.Contains(src, "planted-marker") {
				t.Errorf("a variable's value reached the command runner: %q", command)
			}
			if strings.Contains(command, "fail") {
				return "", errors.New("failed: " + command) // as stderr might say
			}
			return "ok", nil
		}
		_, _, _, problems := loadSecrets(dir, []string{"secrets"}, run)
		lines := strings.Split(strings.ReplaceAll(src, "\r", "\n"), "\n")
		for _, p := range problems {
			msg := p.Message
			if p.Path != "" {
				msg = strings.ReplaceAll(msg, p.Path, "") // keys are not secret
			}
			for _, line := range lines {
				i := strings.IndexAny(line, "=:") // -1: a line that is no assignment is all value
				v := strings.Trim(strings.TrimSpace(line[i+1:]), `'"`)
				if len(v) < 4 || slices.ContainsFunc(fixed, func(s string) bool { return strings.Contains(s, v) }) {
					continue
				}
				if strings.Contains(msg, v) {
					t.Errorf("problem %q repeats the text %q of a line", p, v)
				}
			}
		}
	})
}
