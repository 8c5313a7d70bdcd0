package doctor

import (
	"encoding/json"
	"testing"
)

func TestCheckLine(t *testing.T) {
	for _, tc := range []struct {
		c    Check
		want string
	}{
		{ok("queue", "free"), "ok    queue: free"},
		{warn("clock", "timedatectl set-ntp true", "3s ahead"), "warn  clock: 3s ahead; fix: timedatectl set-ntp true"},
		{fail("ssh", "ship server trust h1", "the host key is %s", "unknown"), "fail  ssh: the host key is unknown; fix: ship server trust h1"},
	} {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func TestCheckJSON(t *testing.T) {
	b, err := json.Marshal([]Check{ok("queue", "free"), fail("ssh", "ship server trust h1", "unknown")})
	want := `[{"check":"queue","state":"ok","message":"free"},{"check":"ssh","state":"fail","message":"unknown","fix":"ship server trust h1"}]`
	if err != nil || string(b) != want {
		t.Errorf("got %s, %v; want %s", b, err, want)
	}
}

func TestWorst(t *testing.T) {
	if Worst(nil) != OK {
		t.Error("no checks are not ok")
	}
	if w := Worst([]Check{ok("a", ""), warn("b", "", ""), ok("c", "")}); w != Warn {
		t.Errorf("a warning: %s", w)
	}
	if w := Worst([]Check{fail("a", "", ""), warn("b", "", "")}); w != Fail {
		t.Errorf("a failure: %s", w)
	}
}
