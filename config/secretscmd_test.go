package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The words of a $(kamal secrets …) are read as sh reads them, but a
// variable is one argument whatever it holds, and nothing in it runs.
func TestSecretsArgsNeverRunOrSplitAValue(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "pwned")
	env := []string{"JSON={\"A\": \"two words\", \"B\": \"$(touch " + marker + ")\"}", "EMPTY=", "ACCOUNT=acme"}
	for command, want := range map[string][]string{
		`kamal secrets extract A ${JSON}`:                        {"extract", "A", env[0][5:]},
		`kamal secrets extract A $JSON`:                          {"extract", "A", env[0][5:]},
		`kamal secrets extract A "$JSON" --inline`:               {"extract", "A", env[0][5:], "--inline"},
		`kamal secrets extract A '$JSON'`:                        {"extract", "A", "$JSON"},
		` ship secrets fetch -a 1password --account $ACCOUNT X`:  {"fetch", "-a", "1password", "--account", "acme", "X"},
		`kamal secrets extract KEY1 \{\"KEY1\":\"pass\)word\"\}`: {"extract", "KEY1", `{"KEY1":"pass)word"}`},
		`bundle exec kamal secrets fetch X`:                      {"fetch", "X"},
		`bin/kamal secrets fetch X`:                              {"fetch", "X"},
		`kamal secrets fetch $EMPTY X`:                           {"fetch", "X"},
	} {
		got, ok, err := secretsArgs(command, env)
		if !ok || err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %q, %v, %v\nwant %q", command, got, ok, err, want)
		}
	}
	for _, command := range []string{
		"kamal secrets fetch -a x A | tee /tmp/x",
		"kamal secrets fetch -a x A > out",
		"kamal secrets fetch -a x $(cat name)",
		"kamal secrets fetch -a x A; rm -rf /",
	} {
		if _, ok, err := secretsArgs(command, env); !ok || err == nil {
			t.Errorf("%s: ok %v, err %v; want refused", command, ok, err)
		}
	}
	for _, command := range []string{"cat config/master.key", "kamalx secrets fetch", "kamalsecrets fetch", "echo kamal secrets fetch"} {
		if _, ok, _ := secretsArgs(command, env); ok {
			t.Errorf("%s was taken for kamal secrets", command)
		}
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a $( in a variable ran")
	}
}

// standIn puts a stand-in for a vendor CLI on PATH: a script that
// records its arguments and prints out.
func standIn(t *testing.T, name, script string) string {
	t.Helper()
	dir := t.TempDir()
	log := filepath.Join(dir, name+".argv")
	body := "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '" + log + "'\n" + script
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return log
}

// Kamal's own pattern: one fetch, then an extract per key from $SECRETS.
func TestKamalSecretsRunInProcess(t *testing.T) {
	log := standIn(t, "op", `case "$1" in
item) printf '%s' '[{"reference":"op://Prod/web/KEY1","value":"one $(x) \"q\""},{"reference":"op://Prod/web/KEY2","value":"two words"}]' ;;
esac
`)
	got, err := loadWithSecrets(t, `SECRETS=$(kamal secrets fetch --adapter 1password --account acme --from Prod/web KEY1 KEY2)
KEY1=$(kamal secrets extract KEY1 ${SECRETS})
KEY2=$(kamal secrets extract KEY2 $SECRETS --inline)
VIA_SHIP=$(ship secrets extract web/KEY2 "$SECRETS")
`, "KEY1", "KEY2", "VIA_SHIP", "SECRETS")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"KEY1": `one $(x) "q"`, "KEY2": "two words", "VIA_SHIP": "two words",
		"SECRETS": `{"Prod/web/KEY1":"one $(x) \"q\"","Prod/web/KEY2":"two words"}`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	argv, _ := os.ReadFile(log)
	if want := "--version\naccount get --account acme\nitem get web --vault Prod --format json --account acme --fields label=KEY1,label=KEY2\n"; string(argv) != want {
		t.Errorf("op ran with:\n%s\nwant:\n%s", argv, want)
	}
}

// An adapter's failure is a problem on its line that says what is wrong.
func TestKamalSecretsFailureSaysWhy(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := loadWithSecrets(t, "SECRETS=$(kamal secrets fetch --adapter 1password --account acme --from Prod/web KEY1)\nKEY1=$(kamal secrets extract KEY1 $SECRETS)\n", "KEY1")
	var problems Problems
	if !errors.As(err, &problems) {
		t.Fatalf("err = %v", err)
	}
	msg := problems.Error()
	for _, want := range []string{".ship/secrets:1:1: SECRETS: the $(kamal secrets …) of SECRETS failed: 1Password CLI is not installed: `op` is not on PATH",
		"https://developer.1password.com", ".ship/secrets:2:1: KEY1"} {
		if !strings.Contains(msg, want) {
			t.Errorf("problems lack %q:\n%s", want, msg)
		}
	}
}
