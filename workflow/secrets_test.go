package workflow

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/redact"
	"github.com/shipdeploy/ship/vault"
)

// print shows every value of the secrets files, used by the config or
// not, in file order, through ship's redacting writer: it is the one
// command whose job is to show them.
func TestSecretsPrintShowsValuesInFileOrder(t *testing.T) {
	t.Setenv("GITHUB_ACTIONS", "false")
	file := writeDeployYML(t, "service: app\nimage: acme/app\nservers: [10.0.0.1]\nenv:\n  secret: [DB_PASSWORD]\n")
	root := filepath.Dir(filepath.Dir(file))
	os.MkdirAll(filepath.Join(root, ".kamal"), 0o755)
	os.WriteFile(filepath.Join(root, ".kamal/secrets-common"), []byte("ZED=z-common\nDB_PASSWORD=old\n"), 0o644)
	os.WriteFile(filepath.Join(root, ".kamal/secrets"), []byte("DB_PASSWORD=pw-5a9c1e\nALPHA=${DB_PASSWORD}-a\n"), 0o644)
	var out bytes.Buffer
	red := redact.New()
	w := redact.NewWriter(&out, red)
	if err := SecretsPrint(Globals{ConfigFile: file, UI: &UI{Out: w, Err: w, Redactor: red}}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if want := "ZED=z-common\nDB_PASSWORD=pw-5a9c1e\nALPHA=pw-5a9c1e-a\n"; out.String() != want {
		t.Errorf("printed:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestSecretsExtractAndFetchErrors(t *testing.T) {
	t.Setenv("GITHUB_ACTIONS", "false")
	g, out := quietGlobals("")
	if err := SecretsExtract(SecretsExtractRequest{Globals: g, Name: "KEY", Secrets: `{"Vault/Item/KEY":"v"}`}); err != nil || out.String() != "v\n" {
		t.Errorf("extract: %q, %v", out.String(), err)
	}
	err := SecretsFetch(context.Background(), SecretsFetchRequest{Globals: g, Request: vault.Request{Adapter: "1password", Secrets: []string{"A"}}})
	var u UsageError
	if !errors.As(err, &u) || !strings.Contains(err.Error(), "--account") {
		t.Errorf("no account: %v", err)
	}
}

// Under GitHub Actions, each value is masked in the job's log before it is
// printed: the add-mask commands go to stderr, which the runner reads too,
// so that stdout, which a step may capture with $(…), is the value alone.
func TestSecretsMaskedUnderActions(t *testing.T) {
	t.Setenv("GITHUB_ACTIONS", "true")
	file := writeDeployYML(t, "service: app\nimage: acme/app\nservers: [10.0.0.1]\n")
	root := filepath.Dir(filepath.Dir(file))
	os.MkdirAll(filepath.Join(root, ".kamal"), 0o755)
	os.WriteFile(filepath.Join(root, ".kamal/secrets"), []byte("DB_PASSWORD=pw-5a9c1e\n"), 0o644)
	var out, errOut bytes.Buffer
	g := Globals{ConfigFile: file, UI: &UI{Out: &out, Err: &errOut, Redactor: redact.New()}}
	if err := SecretsPrint(g); err != nil {
		t.Fatal(err)
	}
	if err := SecretsExtract(SecretsExtractRequest{Globals: g, Name: "KEY", Secrets: `{"Vault/Item/KEY":"k-77f0"}`}); err != nil {
		t.Fatal(err)
	}
	if want := "DB_PASSWORD=pw-5a9c1e\nk-77f0\n"; out.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out.String(), want)
	}
	if want := "::add-mask::pw-5a9c1e\n::add-mask::k-77f0\n"; errOut.String() != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut.String(), want)
	}
}
