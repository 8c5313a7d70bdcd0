package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/internal/benchkit"
	"github.com/shipdeploy/ship/internal/testhost"
	"github.com/shipdeploy/ship/internal/testlitestream"
)

// The two scenarios' configs load, and differ only by B's replica role.
func TestScenarioConfigs(t *testing.T) {
	dir := t.TempDir()
	h1 := &testhost.Host{Name: "h1", Addr: "127.0.0.1:2222", KeyPath: "/k", KnownHostsPath: "/kh1"}
	h2 := &testhost.Host{Name: "h2", Addr: "10.99.0.2:22", KeyPath: "/k", KnownHostsPath: "/kh2"}
	s3 := &testlitestream.S3{Endpoint: "http://10.99.0.1:9000", Bucket: "backups"}
	load := func(name string, replicas int) *config.Config {
		s := &scenario{Project: &benchkit.Project{Dir: filepath.Join(dir, name), Service: prefix + name}, replicas: replicas, host: name + ".test"}
		if err := s.Write(map[string]string{
			"config/deploy.yml": s.deployYML(h1, h2, s3, 250*time.Millisecond),
			".ship/secrets":     "APP_SECRET=a\nS3_KEY=k\nS3_SECRET=s\n",
		}); err != nil {
			t.Fatal(err)
		}
		t.Chdir(s.Dir) // where ship runs, and finds .ship/secrets
		c, err := config.Load(config.Options{})
		if err != nil {
			t.Fatalf("%s's config: %v", name, err)
		}
		return c
	}
	a, b := load("none", 0), load("one", 1)
	if len(a.Roles) != 1 || a.Roles[0].IsReplica() {
		t.Errorf("A's roles: %+v; want web alone", a.Roles)
	}
	if len(b.Roles) != 2 || !b.Roles[1].IsReplica() || b.Roles[1].ReplicaOf != "web" || b.Roles[1].Hosts[0].Address != h2.Addr {
		t.Errorf("B's roles: %+v; want web and a replica of it on %s", b.Roles, h2.Addr)
	}
	for _, c := range []*config.Config{a, b} {
		if c.Litestream == nil || c.Litestream.SyncInterval != 250*time.Millisecond || c.Roles[0].Proxy == nil {
			t.Errorf("%s: litestream %+v, web proxy %+v; want both, syncing every 250ms", c.Service, c.Litestream, c.Roles[0].Proxy)
		}
	}
}
