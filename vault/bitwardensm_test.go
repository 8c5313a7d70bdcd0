package vault

import (
	"strings"
	"testing"
)

func TestBitwardenSecretsManagerByIDAndAll(t *testing.T) {
	f := &fake{answers: answers(
		"bws secret get 11111111-aaaa", `{"id":"11111111-aaaa","key":"DB_URL","value":"postgres://x"}`,
		"bws secret get 22222222-bbbb", `{"id":"22222222-bbbb","key":"KEY","value":"multi\nline"}`,
		"bws secret list", `[{"key":"A","value":"a"},{"key":"B","value":"b=\"c\""}]`,
		"bws secret list proj-1", `[{"key":"P","value":"p"}]`,
	)}
	if got := fetchJSON(t, f, Request{Adapter: "bitwarden-sm", Secrets: []string{"11111111-aaaa", "22222222-bbbb"}}); got != `{"DB_URL":"postgres://x","KEY":"multi\nline"}` {
		t.Errorf("by id: %s", got)
	}
	wantRan(t, f, "bws --version", "bws project list", "bws secret get 11111111-aaaa", "bws secret get 22222222-bbbb")
	if got := fetchJSON(t, f, Request{Adapter: "bitwarden-sm", Secrets: []string{"all"}}); got != `{"A":"a","B":"b=\"c\""}` {
		t.Errorf("all: %s", got)
	}
	if got := fetchJSON(t, f, Request{Adapter: "bitwarden-sm", From: "proj-1", Secrets: []string{"all"}}); got != `{"P":"p"}` {
		t.Errorf("all of a project: %s", got)
	}
}

func TestBitwardenSecretsManagerErrors(t *testing.T) {
	f := &fake{fail: map[string]bool{"bws project list": true}}
	if msg := fetchErr(t, f, Request{Adapter: "bitwarden-sm", Secrets: []string{"all"}}); !strings.Contains(msg, "Did you set a valid access token?") {
		t.Errorf("token: %s", msg)
	}
	f = &fake{}
	if msg := fetchErr(t, f, Request{Adapter: "bitwarden-sm"}); msg != "You must specify what to retrieve from Bitwarden Secrets Manager" {
		t.Errorf("nothing: %s", msg)
	}
	f = &fake{fail: map[string]bool{"bws secret get nope": true}}
	if msg := fetchErr(t, f, Request{Adapter: "bitwarden-sm", Secrets: []string{"nope"}}); !strings.Contains(msg, "Could not read nope from Bitwarden Secrets Manager") {
		t.Errorf("missing: %s", msg)
	}
}
