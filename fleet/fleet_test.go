package fleet

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shipdeploy/ship/config"
)

func loadConfig(t *testing.T, yml string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "config"), 0o755)
	file := filepath.Join(dir, "config/deploy.yml")
	os.WriteFile(file, []byte(yml), 0o644)
	c, err := config.Load(config.Options{File: file})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSelect(t *testing.T) {
	c := loadConfig(t, `service: app
image: acme/app
servers:
  web: [10.0.0.1, 10.0.0.2]
  workers:
    hosts: [10.0.0.2, 10.0.0.3]
`)
	for _, tc := range []struct{ hosts, roles, want string }{
		{"", "", "10.0.0.1 10.0.0.2 10.0.0.3"},
		{"", "workers", "10.0.0.2 10.0.0.3"},
		{"10.0.0.2", "", "10.0.0.2"},
		{"10.0.0.*", "web", "10.0.0.1 10.0.0.2"},
		{"10.0.0.3,10.0.0.1", "", "10.0.0.1 10.0.0.3"},
	} {
		got, err := Select(c, tc.hosts, tc.roles)
		if err != nil || strings.Join(got, " ") != tc.want {
			t.Errorf("Select(%q, %q) = %v, %v; want %s", tc.hosts, tc.roles, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ hosts, roles, want string }{
		{"10.9.9.9", "", `--hosts "10.9.9.9" matches nothing`},
		{"", "wbe", `--roles "wbe" matches nothing in the config (have: web, workers)`},
		{"10.0.0.1", "workers", "no host is in both"},
	} {
		_, err := Select(c, tc.hosts, tc.roles)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Select(%q, %q) error = %v, want %q", tc.hosts, tc.roles, err, tc.want)
		}
	}
}

func TestEachBoundsAndReportsEveryHost(t *testing.T) {
	var running, peak atomic.Int32
	hosts := []string{"a", "b", "c", "d", "e"}
	results := Each(context.Background(), hosts, 2, func(ctx context.Context, h string) (struct{}, error) {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		running.Add(-1)
		if h == "b" || h == "d" {
			return struct{}{}, errors.New("boom")
		}
		return struct{}{}, nil
	})
	if peak.Load() > 2 {
		t.Errorf("%d hosts ran at once, limit was 2", peak.Load())
	}
	err := Failed(results)
	if err == nil || !strings.Contains(err.Error(), "2 of 5 hosts failed") || !strings.Contains(err.Error(), "b: boom") || !strings.Contains(err.Error(), "d: boom") {
		t.Errorf("Failed = %v", err)
	}
}

func TestSSHConfigKnownHostsFromEnvironment(t *testing.T) {
	c := loadConfig(t, "service: s\nimage: i\nservers: [a]\nssh:\n  known_hosts: [/etc/ship/known_hosts]\n")
	t.Setenv("SHIP_KNOWN_HOSTS", "")
	if got := SSHConfig(c).KnownHosts; strings.Join(got, ",") != "/etc/ship/known_hosts" {
		t.Errorf("known hosts %q", got)
	}
	t.Setenv("SHIP_KNOWN_HOSTS", "/runner/temp/known_hosts")
	if got := SSHConfig(c).KnownHosts; strings.Join(got, ",") != "/etc/ship/known_hosts,/runner/temp/known_hosts" {
		t.Errorf("known hosts %q", got)
	}
	if len(c.SSH.KnownHosts) != 1 {
		t.Errorf("the config was changed: %q", c.SSH.KnownHosts)
	}
}
