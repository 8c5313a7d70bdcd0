package vault

import (
	"testing"
)

func TestEnpassFetch(t *testing.T) {
	f := &fake{answers: answers("enpass-cli -json -vault /vaults/primary show App DB",
		`[{"title":"App","label":"KEY","password":"k","type":"password"},{"title":"App","label":"OTHER","password":"o"},
		  {"title":"DB","label":"","password":"d"},{"title":"Elsewhere","label":"KEY","password":"x"}]`)}
	got := fetchJSON(t, f, Request{Adapter: "enpass", From: "/vaults/primary", Secrets: []string{"App/KEY", "DB"}})
	if got != `{"App/KEY":"k","DB":"d"}` {
		t.Errorf("got %s", got)
	}
	wantRan(t, f, "enpass-cli version", "enpass-cli -json -vault /vaults/primary show App DB")
}

func TestEnpassErrors(t *testing.T) {
	if msg := fetchErr(t, &fake{}, Request{Adapter: "enpass", Secrets: []string{"A"}}); msg != "Enpass needs --from, the path of the vault" {
		t.Errorf("no vault: %s", msg)
	}
	f := &fake{answers: answers("enpass-cli -json -vault v show App", `[{"title":"App","label":"K","password":"1"},{"title":"App","label":"K","password":"2"}]`)}
	if msg := fetchErr(t, f, Request{Adapter: "enpass", From: "v", Secrets: []string{"App"}}); msg != "App/K is present more than once" {
		t.Errorf("twice: %s", msg)
	}
}
