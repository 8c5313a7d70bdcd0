package vault

import (
	"strings"
	"testing"
)

func opJSON(vault, item, path, value string) string {
	return `{"id":"f","type":"CONCEALED","value":"` + value + `","reference":"op://` + vault + "/" + item + "/" + path + `"}`
}

func TestOnePasswordFetchGroupsFieldsByItem(t *testing.T) {
	f := &fake{answers: answers(
		"op item get web --vault Prod --format json --account acme --fields label=db.PASSWORD,label=KEY",
		"["+opJSON("Prod", "web", "db/PASSWORD", "p1")+","+opJSON("Prod", "web", "KEY", "k1")+"]",
		"op item get api --vault Prod --format json --account acme --fields label=TOKEN",
		opJSON("Prod", "api", "TOKEN", "t1"),
	)}
	got := fetchJSON(t, f, Request{Adapter: "1password", Account: "acme", From: "op://Prod", Secrets: []string{"web/db/PASSWORD", "web/KEY", "api/TOKEN"}})
	if want := `{"Prod/web/db/PASSWORD":"p1","Prod/web/KEY":"k1","Prod/api/TOKEN":"t1"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	wantRan(t, f, "op --version", "op account get --account acme",
		"op item get web --vault Prod --format json --account acme --fields label=db.PASSWORD,label=KEY",
		"op item get api --vault Prod --format json --account acme --fields label=TOKEN")
}

func TestOnePasswordPasswordFieldAndAllFields(t *testing.T) {
	f := &fake{answers: answers(
		"op item get web --vault Prod --format json --account acme --fields label=password", opJSON("Prod", "web", "password", "pw"),
		"op item get web --vault Prod --format json --account acme", `{"id":"i","fields":[`+opJSON("Prod", "web", "A", "a")+","+opJSON("Prod", "web", "s/B", "b")+`]}`,
	)}
	if got := fetchJSON(t, f, Request{Adapter: "1password", Account: "acme", Secrets: []string{"Prod/web"}}); got != `{"Prod/web":"pw"}` {
		t.Errorf("password: %s", got)
	}
	if got := fetchJSON(t, f, Request{Adapter: "1password", Account: "acme", From: "op://Prod/web"}); got != `{"Prod/web/A":"a","Prod/web/s/B":"b"}` {
		t.Errorf("all fields: %s", got)
	}
}

func TestOnePasswordSignsInAndPassesTheSession(t *testing.T) {
	f := &fake{
		fail: map[string]bool{"op account get --account acme": true},
		answers: answers("op signin --account acme --force --raw", "tok123\n",
			"op item get web --vault Prod --format json --account acme --session tok123 --fields label=password", opJSON("Prod", "web", "password", "pw")),
	}
	if got := fetchJSON(t, f, Request{Adapter: "1password", Account: "acme", Secrets: []string{"Prod/web"}}); got != `{"Prod/web":"pw"}` {
		t.Errorf("got %s", got)
	}
}

func TestOnePasswordErrors(t *testing.T) {
	f := &fake{fail: map[string]bool{"op account get --account acme": true, "op signin --account acme --force --raw": true}}
	if msg := fetchErr(t, f, Request{Adapter: "1password", Account: "acme", Secrets: []string{"Prod/web"}}); !strings.Contains(msg, "Failed to login to 1Password") || !strings.Contains(msg, "op signin") {
		t.Errorf("sign-in: %s", msg)
	}
	f = &fake{fail: map[string]bool{"op item get web --vault Prod --format json --account acme --fields label=A,label=B": true}}
	if msg := fetchErr(t, f, Request{Adapter: "1password", Account: "acme", Secrets: []string{"Prod/web/A", "Prod/web/B"}}); !strings.Contains(msg, "Could not read A, B from web in the Prod 1Password vault") {
		t.Errorf("missing item: %s", msg)
	}
}
