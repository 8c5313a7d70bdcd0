package doctor

import (
	"context"
	"testing"
)

func TestLookupID(t *testing.T) {
	passwd := "root:x:0:0:root:/root:/bin/sh\nrails:x:1000:1001::/rails:/bin/sh\nodd:x:abc:1\n"
	if id, group, err := lookupID(passwd, "rails"); err != nil || id != 1000 || group != 1001 {
		t.Errorf("rails: %d %d %v", id, group, err)
	}
	if _, _, err := lookupID(passwd, "ghost"); err == nil {
		t.Error("ghost found")
	}
	if _, _, err := lookupID(passwd, "odd"); err == nil {
		t.Error("a name whose id is not a number")
	}
	if id, _, err := lookupID("web:x:33:\n", "web"); err != nil || id != 33 {
		t.Errorf("group file: %d %v", id, err)
	}
}

// Numbers need no file of the image: nothing is read.
func TestResolveUserNumbers(t *testing.T) {
	tg := target(t, "root")
	for user, want := range map[string]appUser{
		"":          {},
		"1000":      {Name: "1000", UID: 1000, GID: 1000},
		"1000:2000": {Name: "1000:2000", UID: 1000, GID: 2000},
	} {
		got, err := resolveUser(context.Background(), tg, user, "img")
		if err != nil || got != want {
			t.Errorf("%q: %+v, %v; want %+v", user, got, err, want)
		}
	}
	if s := (appUser{}).String(); s != "root" {
		t.Errorf("no user is %q", s)
	}
}
