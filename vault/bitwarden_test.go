package vault

import (
	"strings"
	"testing"
)

const (
	bwUnlocked  = `{"serverUrl":null,"status":"unlocked"}`
	bwLocked    = `{"serverUrl":null,"status":"locked"}`
	bwLoggedOut = `{"serverUrl":null,"status":"unauthenticated"}`
)

func TestBitwardenLoginPasswordAndFields(t *testing.T) {
	f := &fake{answers: answers(
		"bw status", bwUnlocked,
		"bw get item db", `{"object":"item","name":"db","login":{"username":"u","password":"s3cret"}}`,
		"bw get item app", `{"object":"item","name":"app","login":{"password":null},"fields":[{"name":"K1","value":"v1","type":1},{"name":"K2","value":"v2","type":1}]}`,
	)}
	got := fetchJSON(t, f, Request{Adapter: "bitwarden", Account: "me@example.com", Secrets: []string{"db", "app/K2"}})
	if want := `{"db":"s3cret","app/K2":"v2"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	wantRan(t, f, "bw --version", "bw status", "bw sync", "bw get item db", "bw get item app")
}

func TestBitwardenAllFieldsOfANote(t *testing.T) {
	f := &fake{answers: answers("bw status", bwUnlocked,
		"bw get item note", `{"type":2,"fields":[{"name":"A","value":"a"},{"name":"B","value":"b"}]}`)}
	if got := fetchJSON(t, f, Request{Adapter: "bitwarden", Account: "me", Secrets: []string{"note"}}); got != `{"note/A":"a","note/B":"b"}` {
		t.Errorf("got %s", got)
	}
}

func TestBitwardenLogsInUnlocksAndUsesTheSessionInTheEnvironment(t *testing.T) {
	f := &fake{answers: answers(
		"bw status", bwLoggedOut, "bw status", bwLocked,
		"bw unlock --raw", "sess42\n",
		"BW_SESSION=sess42 bw status", bwUnlocked,
		"BW_SESSION=sess42 bw get item db", `{"login":{"password":"pw"}}`,
	)}
	if got := fetchJSON(t, f, Request{Adapter: "bitwarden", Account: "me@example.com", Secrets: []string{"db"}}); got != `{"db":"pw"}` {
		t.Errorf("got %s", got)
	}
	wantRan(t, f, "bw --version", "bw status", "bw login me@example.com", "bw status", "bw unlock --raw",
		"BW_SESSION=sess42 bw status", "BW_SESSION=sess42 bw sync", "BW_SESSION=sess42 bw get item db")
}

func TestBitwardenErrors(t *testing.T) {
	f := &fake{answers: answers("bw status", bwLocked)}
	if msg := fetchErr(t, f, Request{Adapter: "bitwarden", Account: "me", Secrets: []string{"db"}}); !strings.Contains(msg, "Failed to login to and unlock Bitwarden") {
		t.Errorf("locked: %s", msg)
	}
	f = &fake{answers: answers("bw status", bwUnlocked, "bw get item note", `{"type":2,"notes":"n"}`)}
	if msg := fetchErr(t, f, Request{Adapter: "bitwarden", Account: "me", Secrets: []string{"note"}}); !strings.Contains(msg, "not a login type item") {
		t.Errorf("note: %s", msg)
	}
	f = &fake{answers: answers("bw status", bwUnlocked, "bw get item app", `{"fields":[{"name":"A","value":"a"}]}`)}
	if msg := fetchErr(t, f, Request{Adapter: "bitwarden", Account: "me", Secrets: []string{"app/B"}}); msg != "Could not find field B in item app in Bitwarden" {
		t.Errorf("missing field: %s", msg)
	}
	f = &fake{answers: answers("bw status", bwUnlocked), fail: map[string]bool{"bw get item gone": true}}
	if msg := fetchErr(t, f, Request{Adapter: "bitwarden", Account: "me", Secrets: []string{"gone"}}); !strings.Contains(msg, "Could not read gone from Bitwarden") {
		t.Errorf("missing item: %s", msg)
	}
}
