package workflow

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/shipdeploy/ship/config"
)

func TestProxyHostsAreTheSelectedHostsOfProxiedRoles(t *testing.T) {
	cfg := &config.Config{Roles: []*config.Role{
		{Name: "web", Proxy: &config.Proxy{}, Hosts: []config.Host{{Address: "h1"}, {Address: "h2"}}},
		{Name: "job", Hosts: []config.Host{{Address: "h3"}}},
		{Name: "api", Proxy: &config.Proxy{}, Hosts: []config.Host{{Address: "h2"}, {Address: "h4"}}},
	}}
	if got, want := proxyHosts(cfg, []string{"h4", "h3", "h2"}), []string{"h2", "h4"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := proxyHosts(cfg, []string{"h3"}); len(got) != 0 {
		t.Errorf("got %q for a host without a proxied role", got)
	}
}

// Without a proxied role on the selected hosts, a proxy command is a usage
// error pointing at the config, before any host is contacted.
func TestProxyWithoutAProxiedHost(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config", "deploy.yml")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("service: demo\nimage: acme/demo\nservers:\n  web: [10.0.0.1]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	g := noConfig
	g.ConfigFile = file
	wantUsage(t, ProxyDetails(context.Background(), g), "no selected host runs a role behind kamal-proxy: add a proxy section to "+file)
}
