package gate

import (
	"strings"
	"testing"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/volumes"
)

func testConfig() *config.Config {
	return &config.Config{
		Service: "shop",
		Roles: []*config.Role{
			{Name: "web", Hosts: []config.Host{{Address: "10.0.0.1"}}},
			{Name: "replicas", Hosts: []config.Host{{Address: "10.0.0.2"}, {Address: "10.0.0.3"}}, ReplicaOf: "web"},
			{Name: "readers", Hosts: []config.Host{{Address: "10.0.0.3"}}, ReplicaOf: "web"},
		},
		Volumes:    []volumes.Mount{{Source: "shop_data", Target: "/data"}},
		Litestream: &config.Litestream{Databases: []string{"/data/app.sqlite3", "/data/cache.sqlite3"}},
	}
}

func TestRoles(t *testing.T) {
	c := testConfig()
	for host, want := range map[string]string{"10.0.0.1": "", "10.0.0.2": "replicas", "10.0.0.3": "replicas, readers"} {
		if got := roleNames(Roles(c, host)); got != want {
			t.Errorf("replica roles on %s: %q, want %q", host, got, want)
		}
	}
	if got := strings.Join(Followers(c), " "); got != "shop-follower-app shop-follower-cache" {
		t.Errorf("followers: %q", got)
	}
	c.Litestream = nil
	if Followers(c) != nil {
		t.Error("followers without a litestream section")
	}
}

// The data file names what the script needs, one value a line; the
// healthy record is the file deploy writes.
func TestRender(t *testing.T) {
	c := testConfig()
	c.Destination = "staging"
	b, err := render(c, "/home/deploy", "E1", Roles(c, "10.0.0.3"))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"engine E1",
		"service shop",
		"destination staging",
		"role replicas\tshop-replicas-staging-\t/home/deploy/.ship/apps/shop-staging/healthy/replicas",
		"role readers\tshop-readers-staging-\t/home/deploy/.ship/apps/shop-staging/healthy/readers",
		"follower shop-staging-follower-app",
		"follower shop-staging-follower-cache",
		"copy shop-staging-follower-app\t/data/app.sqlite3\tshop-staging-replica-shop_data\tapp.sqlite3",
		"copy shop-staging-follower-cache\t/data/cache.sqlite3\tshop-staging-replica-shop_data\tcache.sqlite3",
		"state /home/deploy/.ship/apps/shop-staging/gate/stopped",
		"positions /home/deploy/.ship/apps/shop-staging/gate/positions",
		"log /home/deploy/.ship/apps/shop-staging/gate.jsonl",
		"settle 5",
		"recheck 30",
		"stop_timeout 1",
	}, "\n") + "\n"
	if string(b) != want {
		t.Errorf("data file:\n%s\nwant:\n%s", b, want)
	}
	if _, err := render(c, "/home/a\nb", "E1", Roles(c, "10.0.0.3")); err == nil {
		t.Error("a line break was passed to the host")
	}
	c.Litestream.Databases = append(c.Litestream.Databases, "/elsewhere/x.sqlite3")
	if _, err := render(c, "/home/deploy", "E1", Roles(c, "10.0.0.3")); err == nil || !strings.Contains(err.Error(), "/elsewhere/x.sqlite3 is not a plain path on any of the app's writable volumes") {
		t.Errorf("a database on no volume: %v", err)
	}
}
