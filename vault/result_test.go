package vault

import (
	"slices"
	"strings"
	"testing"
)

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

// A value JSON escapes is hidden in both forms; one it leaves alone once.
func TestPrinted(t *testing.T) {
	r := Result{{Name: "A", Value: `pa"ss`}, {Name: "B", Value: "plain"}}
	got := r.Printed()
	want := []string{`pa"ss`, `pa\"ss`, "plain"}
	if !slices.Equal(got, want) {
		t.Errorf("Printed = %q, want %q", got, want)
	}
}
