package doctor

import (
	"strings"
	"testing"

	"github.com/shipdeploy/ship/proxy"
)

func TestOlderVersion(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"v0.9.1", "v0.9.2", true},
		{"v0.8.10", "v0.9.2", true},
		{"v0.9.2", "v0.9.2", false},
		{"v0.10.0", "v0.9.2", false},
		{"v1.0", "v0.9.2", false},
		{"latest", "v0.9.2", false},
	} {
		if got := olderVersion(tc.a, tc.b); got != tc.want {
			t.Errorf("%s older than %s: %v", tc.a, tc.b, got)
		}
	}
}

func TestProxyVersion(t *testing.T) {
	tg := target(t, "root")
	if c := proxyVersion(tg, "v0.9.2", []proxy.Service{{Name: "shop-web", State: "running"}}); c.State != OK {
		t.Errorf("current: %s", c)
	}
	if c := proxyVersion(tg, "v0.8.0", nil); c.State != Fail || c.Fix != "ship proxy reboot -h h1" {
		t.Errorf("old: %s", c)
	}
	if c := proxyVersion(tg, "v0.9.2", []proxy.Service{{Name: "blog-web", State: "paused"}}); c.State != Warn || !strings.Contains(c.Message, "blog-web") {
		t.Errorf("paused: %s", c)
	}
}

func TestRouted(t *testing.T) {
	tg := target(t, "root")
	for state, want := range map[proxy.State]State{proxy.Running: OK, proxy.Paused: Warn, proxy.Stopped: Warn, proxy.Absent: Fail} {
		if c := routed(tg, "shop-web", state); c.State != want {
			t.Errorf("%s: %s, want %s", state, c, want)
		}
	}
}
