package workflow

import (
	"context"
	"slices"
	"testing"

	"github.com/shipdeploy/ship/config"
)

func accessoryConfig() *config.Config {
	return &config.Config{
		Roles: []*config.Role{
			{Name: "web", Hosts: []config.Host{{Address: "h1"}, {Address: "h2"}}},
			{Name: "job", Hosts: []config.Host{{Address: "h3"}}},
		},
		PrimaryRole: "web",
		Accessories: []*config.Accessory{
			{Name: "redis", Hosts: []string{"h1"}},
			{Name: "cache", Hosts: []string{"h1"}, Roles: []string{"job"}},
		},
	}
}

func TestPickAccessories(t *testing.T) {
	cfg := accessoryConfig()
	if got, err := pickAccessories(cfg, "all"); err != nil || len(got) != 2 {
		t.Errorf("all: %v %v", got, err)
	}
	if got, err := pickAccessories(cfg, "cache"); err != nil || len(got) != 1 || got[0].Name != "cache" {
		t.Errorf("cache: %v %v", got, err)
	}
	_, err := pickAccessories(cfg, "redi")
	wantUsage(t, err, `no accessory "redi" in the config (have: redis, cache, or all)`)
}

// The accessories' own hosts, once each; --hosts narrows them, and a
// --hosts that matches nothing in the config is a usage error.
func TestAccessoryHosts(t *testing.T) {
	cfg := accessoryConfig()
	for _, tc := range []struct {
		hosts string
		want  []string
	}{
		{"", []string{"h1", "h3"}},
		{"h3", []string{"h3"}},
		{"h2", nil}, // a host of the app, but of no accessory
		{"h*", []string{"h1", "h3"}},
	} {
		got, err := accessoryHosts(Globals{Hosts: tc.hosts}, cfg, cfg.Accessories)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("--hosts %q: got %q %v, want %q", tc.hosts, got, err, tc.want)
		}
	}
	_, err := accessoryHosts(Globals{Hosts: "h9"}, cfg, cfg.Accessories)
	wantUsage(t, err, `--hosts "h9" matches nothing in the config (have: h1, h2, h3)`)
}

func TestAccessoryExecNeedsACommand(t *testing.T) {
	err := AccessoryExec(context.Background(), AccessoryExecRequest{Globals: noConfig, Name: "redis"})
	wantUsage(t, err, "accessory exec needs NAME and a COMMAND")
}
