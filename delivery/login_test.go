package delivery

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"
)

// memStore is a config.json in memory, with helpers that remember what
// they were given.
type memStore struct {
	content []byte
	helped  []string // "HELPER ACTION INPUT"
	erase   error
}

func (m *memStore) ReadConfig(context.Context) ([]byte, error) { return m.content, nil }
func (m *memStore) WriteConfig(_ context.Context, b []byte) error {
	m.content = b
	return nil
}
func (m *memStore) RunHelper(_ context.Context, helper, action string, input []byte) ([]byte, error) {
	m.helped = append(m.helped, helper+" "+action+" "+string(input))
	if action == "erase" {
		return nil, m.erase
	}
	return nil, nil
}
func (m *memStore) Where() string { return "mem" }

// authEngine answers /auth: only the right password is accepted.
type authEngine struct {
	client.APIClient
	password string
}

func (a authEngine) RegistryLogin(_ context.Context, auth registry.AuthConfig) (registry.AuthenticateOKBody, error) {
	if auth.Password != a.password {
		return registry.AuthenticateOKBody{}, errors.New("unauthorized: incorrect username or password")
	}
	return registry.AuthenticateOKBody{Status: "Login Succeeded"}, nil
}

func auths(t *testing.T, content []byte) map[string]map[string]string {
	t.Helper()
	var doc struct {
		Auths map[string]map[string]string `json:"auths"`
	}
	if err := json.Unmarshal(content, &doc); err != nil {
		t.Fatalf("%v\n%s", err, content)
	}
	return doc.Auths
}

// A login lands in config.json beside what was there, and a logout takes
// only it away again.
func TestLoginLogoutFile(t *testing.T) {
	ctx := context.Background()
	store := &memStore{content: []byte(`{"auths":{"other.io":{"auth":"eDp5"}},"psFormat":"table {{.ID}}"}`)}
	creds := Credentials{Server: "reg.example:5000", Username: "ship", Password: "pw"}
	if _, err := Login(ctx, authEngine{password: "wrong"}, store, creds); err == nil || !strings.Contains(err.Error(), "log in to reg.example:5000: unauthorized") {
		t.Fatalf("a refused login: %v", err)
	}
	if strings.Contains(string(store.content), "reg.example") {
		t.Fatalf("a refused login was stored:\n%s", store.content)
	}
	where, err := Login(ctx, authEngine{password: "pw"}, store, creds)
	if err != nil || where != "mem" {
		t.Fatalf("login: %q %v", where, err)
	}
	got := auths(t, store.content)
	if got["reg.example:5000"]["auth"] != base64.StdEncoding.EncodeToString([]byte("ship:pw")) || got["other.io"]["auth"] != "eDp5" {
		t.Errorf("auths after login: %v", got)
	}
	if !strings.Contains(string(store.content), `"psFormat": "table {{.ID}}"`) {
		t.Errorf("other settings were lost:\n%s", store.content)
	}
	if had, err := Logout(ctx, store, "reg.example:5000"); err != nil || !had {
		t.Fatalf("logout: %v %v", had, err)
	}
	got = auths(t, store.content)
	if _, ok := got["reg.example:5000"]; ok || got["other.io"]["auth"] != "eDp5" {
		t.Errorf("auths after logout: %v", got)
	}
	if had, err := Logout(ctx, store, "reg.example:5000"); err != nil || had {
		t.Errorf("second logout: %v %v; want not logged in", had, err)
	}
}

// With a credential helper the password goes to it on stdin, and
// config.json stays as it was.
func TestLoginLogoutHelper(t *testing.T) {
	ctx := context.Background()
	before := `{"credsStore":"pass","credHelpers":{"gcr.io":"gcloud"}}`
	store := &memStore{content: []byte(before)}
	where, err := Login(ctx, authEngine{password: "pw"}, store, Credentials{Username: "me", Password: "pw"})
	if err != nil || where != "docker-credential-pass" {
		t.Fatalf("login: %q %v", where, err)
	}
	want := `pass store {"Secret":"pw","ServerURL":"https://index.docker.io/v1/","Username":"me"}`
	if len(store.helped) != 1 || store.helped[0] != want || string(store.content) != before {
		t.Errorf("helper calls %q, config %s", store.helped, store.content)
	}
	if _, err := Login(ctx, authEngine{password: "pw"}, store, Credentials{Server: "gcr.io", Username: "me", Password: "pw"}); err != nil || !strings.HasPrefix(store.helped[1], "gcloud store ") {
		t.Errorf("a server's own helper: %v %q", err, store.helped)
	}
	if had, err := Logout(ctx, store, ""); err != nil || !had || store.helped[2] != "pass erase https://index.docker.io/v1/" {
		t.Errorf("logout: %v %v %q", had, err, store.helped)
	}
	store.erase = errors.New("credentials not found in native keychain")
	if had, err := Logout(ctx, store, ""); err != nil || had {
		t.Errorf("logout without a login: %v %v", had, err)
	}
}

func TestLoginRefusesOddConfig(t *testing.T) {
	ctx := context.Background()
	for content, want := range map[string]string{
		`{"credsStore":"x; rm -rf /"}`: "not a helper name",
		`[1]`:                          "mem is not a Docker config file",
	} {
		_, err := Login(ctx, authEngine{password: "pw"}, &memStore{content: []byte(content)}, Credentials{Username: "u", Password: "pw"})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", content, err, want)
		}
	}
	if _, err := Login(ctx, authEngine{password: ""}, &memStore{}, Credentials{Username: "u"}); err == nil || !strings.Contains(err.Error(), "registry.password") {
		t.Errorf("no password: %v", err)
	}
}
