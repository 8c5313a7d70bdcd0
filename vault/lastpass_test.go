package vault

import (
	"strings"
	"testing"
)

func lpItem(fullname, password string) string {
	return `{"id":"1","name":"n","fullname":"` + fullname + `","username":"","password":"` + password + `","group":""}`
}

func TestLastPassFetch(t *testing.T) {
	f := &fake{answers: answers(
		"lpass status --color never", "Logged in as me@example.com.\n",
		"lpass show Shared/DB Shared/KEY --json", "["+lpItem("Shared/DB", "d")+","+lpItem("Shared/KEY", "k")+"]",
	)}
	if got := fetchJSON(t, f, Request{Adapter: "lastpass", Account: "me@example.com", From: "Shared", Secrets: []string{"DB", "KEY"}}); got != `{"Shared/DB":"d","Shared/KEY":"k"}` {
		t.Errorf("got %s", got)
	}
	wantRan(t, f, "lpass --version", "lpass status --color never", "lpass show Shared/DB Shared/KEY --json")
}

func TestLastPassLogsInAndReportsMissing(t *testing.T) {
	f := &fake{answers: answers("lpass status --color never", "Not logged in.", "lpass show A B --json", "["+lpItem("A", "a")+"]")}
	msg := fetchErr(t, f, Request{Adapter: "lastpass", Account: "me@example.com", Secrets: []string{"A", "B"}})
	if msg != "Could not find B in LastPass" {
		t.Errorf("missing: %s", msg)
	}
	wantRan(t, f, "lpass --version", "lpass status --color never", "lpass login me@example.com", "lpass show A B --json")
	f = &fake{answers: answers("lpass status --color never", "Not logged in."), fail: map[string]bool{"lpass login me": true}}
	if msg := fetchErr(t, f, Request{Adapter: "lastpass", Account: "me", Secrets: []string{"A"}}); !strings.Contains(msg, "Failed to login to LastPass") {
		t.Errorf("login: %s", msg)
	}
}
