package vault

import (
	"context"
	"errors"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

// fake is a vendor CLI: each command line (with its added environment
// first, as Kamal's tests write it) answers with stdout or fails. It
// records what ran.
type fake struct {
	answers map[string][]string // command line → stdouts, one per call (the last repeats)
	fail    map[string]bool
	missing bool // the CLI is not installed
	ran     []string
}

func (f *fake) Run(_ context.Context, c Command) ([]byte, error) {
	line := strings.Join(append(append(append([]string{}, c.Env...), c.Name), c.Args...), " ")
	f.ran = append(f.ran, line)
	if f.missing {
		return nil, exec.ErrNotFound
	}
	if f.fail[line] {
		return nil, errors.New("exit status 1")
	}
	outs := f.answers[line]
	if len(outs) == 0 {
		return nil, nil
	}
	out := outs[0]
	if len(outs) > 1 {
		f.answers[line] = outs[1:]
	}
	return []byte(out), nil
}

func answers(kv ...string) map[string][]string {
	m := map[string][]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = append(m[kv[i]], kv[i+1])
	}
	return m
}

// fetchJSON runs a fetch and returns fetch's JSON.
func fetchJSON(t *testing.T, f *fake, req Request) string {
	t.Helper()
	if req.Getenv == nil {
		req.Getenv = func(string) string { return "" }
	}
	res, err := Fetch(context.Background(), f, req)
	if err != nil {
		t.Fatalf("fetch: %v\nran: %q", err, f.ran)
	}
	return res.JSON()
}

func fetchErr(t *testing.T, f *fake, req Request) string {
	t.Helper()
	if req.Getenv == nil {
		req.Getenv = func(string) string { return "" }
	}
	_, err := Fetch(context.Background(), f, req)
	if err == nil {
		t.Fatalf("fetch succeeded; ran %q", f.ran)
	}
	return err.Error()
}

func wantRan(t *testing.T, f *fake, want ...string) {
	t.Helper()
	if !reflect.DeepEqual(f.ran, want) {
		t.Errorf("ran:\n%s\nwant:\n%s", strings.Join(f.ran, "\n"), strings.Join(want, "\n"))
	}
}

func TestLookupAliases(t *testing.T) {
	for name, want := range map[string]adapter{
		"1password": onePassword{}, "one_password": onePassword{}, "OnePassword": onePassword{},
		"lastpass": lastPass{}, "LastPass": lastPass{}, "gcp": gcpSecretManager{}, "bitwarden-sm": bitwardenSecretsManager{},
		"aws_secrets_manager": awsSecretsManager{}, "doppler": doppler{}, "enpass": enpass{}, "passbolt": passbolt{}, "bitwarden": bitwarden{},
	} {
		got, err := lookup(name)
		if err != nil || got != want {
			t.Errorf("lookup(%q) = %T, %v", name, got, err)
		}
	}
	if _, err := lookup("keepass"); err == nil || !strings.Contains(err.Error(), "Unknown secrets adapter: keepass") || !strings.Contains(err.Error(), "1password") {
		t.Errorf("unknown adapter: %v", err)
	}
}

func TestAccountRequired(t *testing.T) {
	for _, a := range []string{"1password", "bitwarden", "lastpass", "gcp"} {
		f := &fake{}
		_, err := Fetch(context.Background(), f, Request{Adapter: a, Secrets: []string{"A"}})
		if !errors.Is(err, ErrAccountRequired) || len(f.ran) != 0 {
			t.Errorf("%s: %v, ran %q", a, err, f.ran)
		}
	}
}
