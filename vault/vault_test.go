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

func TestMissingCLINamesItAndHowToInstall(t *testing.T) {
	for adapter, cmd := range map[string]string{"1password": "op", "bitwarden": "bw", "bitwarden-sm": "bws", "lastpass": "lpass",
		"aws_secrets_manager": "aws", "gcp": "gcloud", "doppler": "doppler", "enpass": "enpass-cli", "passbolt": "passbolt"} {
		f := &fake{missing: true}
		msg := fetchErr(t, f, Request{Adapter: adapter, Account: "me", From: "x", Secrets: []string{"A"}})
		if !strings.Contains(msg, "is not installed") || !strings.Contains(msg, "`"+cmd+"` is not on PATH") || !strings.Contains(msg, "https://") {
			t.Errorf("%s: %s", adapter, msg)
		}
		if len(f.ran) != 1 {
			t.Errorf("%s ran more than the probe: %q", adapter, f.ran)
		}
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

func TestExtract(t *testing.T) {
	for _, c := range []struct{ name, json, want string }{
		{"foo", `{"foo":"oof", "bar":"rab"}`, "oof"},
		{"foo", `{"abc/foo":"oof", "bar":"rab"}`, "oof"},
		{"foo", `{"x/foo":"first","y/foo":"second"}`, "first"},
		{"foo", `{"a/foo":"suffix","foo":"exact"}`, "exact"},
		{"n", `{"n":5}`, "5"},
	} {
		got, err := Extract(c.name, c.json)
		if err != nil || got != c.want {
			t.Errorf("Extract(%q, %s) = %q, %v; want %q", c.name, c.json, got, err, c.want)
		}
	}
	if _, err := Extract("nope", `{"foo":"oof"}`); err == nil || err.Error() != "Could not find secret nope" {
		t.Errorf("missing: %v", err)
	}
	if _, err := Extract("foo", `not json`); err == nil || !strings.Contains(err.Error(), "not the JSON object") {
		t.Errorf("bad JSON: %v", err)
	}
}

func TestResultJSONIsKamals(t *testing.T) {
	r := Result{{"b", `a "q" <&> é`}, {"a", "line\nbreak"}}
	if got, want := r.JSON(), `{"b":"a \"q\" <&> é","a":"line\nbreak"}`; got != want {
		t.Errorf("JSON = %s, want %s", got, want)
	}
}

func TestLineFetchAndExtract(t *testing.T) {
	f := &fake{answers: answers("op item get Item --vault Vault --format json --account X --fields label=password",
		`{"reference":"op://Vault/Item/password","value":"pw"}`)}
	out, err := Line(context.Background(), f, func(string) string { return "" },
		[]string{"fetch", "Vault/Item", "--adapter", "1password", "--account=X", "--inline"})
	if err != nil || out != `{"Vault/Item":"pw"}` {
		t.Fatalf("fetch: %q, %v (ran %q)", out, err, f.ran)
	}
	v, err := Line(context.Background(), f, nil, []string{"extract", "Item", out, "--inline"})
	if err != nil || v != "pw" {
		t.Errorf("extract: %q, %v", v, err)
	}
	if _, err := Line(context.Background(), f, nil, []string{"print"}); err == nil {
		t.Error("print inside a secrets file ran")
	}
	if _, err := Line(context.Background(), f, nil, []string{"fetch", "A"}); err == nil || !strings.Contains(err.Error(), "--adapter") {
		t.Errorf("no adapter: %v", err)
	}
}
