package vault

import (
	"strings"
	"testing"
)

const dopplerOut = `{"A":{"computed":"a1","computedVisibility":"unmasked","note":""},"B":{"computed":"b1","note":""}}`

func TestDopplerFetch(t *testing.T) {
	f := &fake{answers: answers("doppler secrets get A B --json -p web -c prd", dopplerOut)}
	if got := fetchJSON(t, f, Request{Adapter: "doppler", From: "web/prd", Secrets: []string{"A", "B"}}); got != `{"A":"a1","B":"b1"}` {
		t.Errorf("got %s", got)
	}
	wantRan(t, f, "doppler --version", "doppler me --json", "doppler secrets get A B --json -p web -c prd")
}

func TestDopplerServiceTokenAndLogin(t *testing.T) {
	f := &fake{answers: answers("doppler secrets get A B --json", dopplerOut), fail: map[string]bool{"doppler me --json": true}}
	token := func(n string) string {
		if n == "DOPPLER_TOKEN" {
			return "dp.st.prd.xyz"
		}
		return ""
	}
	if got := fetchJSON(t, f, Request{Adapter: "doppler", Secrets: []string{"A", "B"}, Getenv: token}); got != `{"A":"a1","B":"b1"}` {
		t.Errorf("got %s", got)
	}
	wantRan(t, f, "doppler --version", "doppler me --json", "doppler login -y", "doppler secrets get A B --json")
}

func TestDopplerNeedsProjectAndConfig(t *testing.T) {
	f := &fake{}
	if msg := fetchErr(t, f, Request{Adapter: "doppler", Secrets: []string{"A"}}); msg != "Missing project or config from '--from=project/config' option" {
		t.Errorf("got %s", msg)
	}
}

func TestDopplerErrors(t *testing.T) {
	f := &fake{fail: map[string]bool{"doppler me --json": true, "doppler login -y": true}}
	if msg := fetchErr(t, f, Request{Adapter: "doppler", From: "web/prd", Secrets: []string{"A"}}); !strings.Contains(msg, "Failed to login to Doppler") || !strings.Contains(msg, "doppler login") {
		t.Errorf("login: %s", msg)
	}
	f = &fake{fail: map[string]bool{"doppler secrets get NOPE --json -p web -c prd": true}}
	if msg := fetchErr(t, f, Request{Adapter: "doppler", From: "web/prd", Secrets: []string{"NOPE"}}); !strings.Contains(msg, `Could not read ["web/prd/NOPE"] from Doppler`) {
		t.Errorf("missing: %s", msg)
	}
}
