package spec

import (
	"slices"
	"strings"
	"testing"

	"github.com/docker/go-connections/nat"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/volumes"
)

func TestFollowerName(t *testing.T) {
	one := &config.Config{Service: "shop", Litestream: &config.Litestream{Databases: []string{"/data/app.db"}}}
	if got := FollowerName(one, "/data/app.db"); got != "shop-follower" {
		t.Errorf("one database: %q, want shop-follower", got)
	}
	four := &config.Config{Service: "shop", Destination: "staging", Litestream: &config.Litestream{Databases: []string{
		"/rails/storage/production.sqlite3", "/rails/storage/production_cache.sqlite3"}}}
	if got := FollowerName(four, "/rails/storage/production_cache.sqlite3"); got != "shop-staging-follower-production_cache" {
		t.Errorf("several databases: %q", got)
	}
}

func TestReplicaVolume(t *testing.T) {
	c := &config.Config{Service: "shop"}
	if got := ReplicaVolume(c, volumes.Mount{Source: "shop_storage", Target: "/rails/storage"}); got != "shop-replica-shop_storage" {
		t.Errorf("named volume: %q", got)
	}
	if got := ReplicaVolume(c, volumes.Mount{Source: "/var/lib/shop/data", Target: "/data"}); got != "shop-replica-data" {
		t.Errorf("host directory: %q", got)
	}
}

func TestReplicaApp(t *testing.T) {
	c := &config.Config{Service: "shop", Image: "acme/shop",
		Volumes:    []volumes.Mount{{Source: "shop_storage", Target: "/data"}, {Source: "/srv/uploads", Target: "/uploads", Options: []string{"rw"}}},
		Litestream: &config.Litestream{Databases: []string{"/data/app.db"}},
	}
	web := &config.Role{Name: "web", Hosts: []config.Host{{Address: "10.0.0.1"}}, Proxy: &config.Proxy{AppPort: 3000}}
	reps := &config.Role{Name: "replicas", Hosts: []config.Host{{Address: "10.0.0.2"}}, ReplicaOf: "web"}
	c.Roles = []*config.Role{web, reps}
	ct, err := ReplicaApp(c, reps, reps.Hosts[0], "v2", 20001)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"shop-replica-shop_storage:/data:ro", "/srv/uploads:/uploads:ro"}; !slices.Equal(ct.Host.Binds, want) {
		t.Errorf("binds %q, want %q: the database volume's copy in its place, every volume read-only", ct.Host.Binds, want)
	}
	if !slices.Contains(ct.Config.Env, "SHIP_DB_READONLY=1") || !strings.Contains(string(ct.EnvFile), `SHIP_DB_READONLY="1"`) {
		t.Errorf("env %q: SHIP_DB_READONLY=1 missing", ct.Config.Env)
	}
	b := ct.Host.PortBindings["3000/tcp"]
	if len(b) != 1 || b[0].HostIP != "10.0.0.2" || b[0].HostPort != "20001" {
		t.Errorf("port bindings %v: want the app port at 10.0.0.2:20001", ct.Host.PortBindings)
	}
	if ct, _ := ReplicaApp(c, reps, reps.Hosts[0], "v2", 0); len(ct.Host.PortBindings) != 0 {
		t.Errorf("port 0 published %v", ct.Host.PortBindings)
	}
	if _, err := ReplicaApp(c, &config.Role{Name: "r", ReplicaOf: "web"}, config.Host{Address: "replica.example.com"}, "v2", 20001); err == nil || !strings.Contains(err.Error(), "IP address") {
		t.Errorf("a host name: %v", err)
	}
	web.Proxy = nil
	if _, err := ReplicaApp(c, reps, reps.Hosts[0], "v2", 20001); err == nil {
		t.Error("a writer without the proxy was accepted")
	}
}

func TestReadTarget(t *testing.T) {
	ports := nat.PortMap{"3000/tcp": {{HostIP: "10.0.0.2", HostPort: "32768"}}}
	if got := ReadTarget("10.0.0.2", ports, 3000); got != "10.0.0.2:32768" {
		t.Errorf("got %q", got)
	}
	if got := ReadTarget("10.0.0.2", ports, 8080); got != "" {
		t.Errorf("another port: %q", got)
	}
}

func TestReplicaPorts(t *testing.T) {
	c := &config.Config{Service: "shop"}
	r := &config.Role{Name: "replicas"}
	p := ReplicaPorts(c, r)
	if p[0] < 20000 || p[0] > 29998 || p[0]%2 != 0 || p[1] != p[0]+1 {
		t.Errorf("ports %v: want an even port from 20000 to 29998 and the next", p)
	}
	if ReplicaPorts(c, r) != p {
		t.Error("the ports change between calls")
	}
	if ReplicaPorts(&config.Config{Service: "blog"}, r) == p {
		t.Error("two services share their replica ports")
	}
}
