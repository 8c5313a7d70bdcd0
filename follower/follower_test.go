package follower

import (
	"context"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/volumes"
)

// shop is a config whose litestream section replicates two databases on
// one volume and a third on a host directory, to S3.
func shop() *config.Config {
	return &config.Config{
		Service: "shop",
		Volumes: []volumes.Mount{
			{Source: "shop_storage", Target: "/rails/storage"},
			{Source: "/srv/shop/cache", Target: "/cache"},
		},
		Litestream: &config.Litestream{
			Image:     "litestream/litestream:0.5.18",
			Databases: []string{"/rails/storage/production.sqlite3", "/rails/storage/queue.sqlite3", "/cache/sub/cache.sqlite3"},
			Replica:   config.LitestreamReplica{URL: "s3://backups/shop"},
		},
	}
}

// Each database's copy lives in a copy volume of its app volume's,
// mounted where the app mounts that volume, at the same path inside it.
func TestCopies(t *testing.T) {
	cps, err := copies(shop())
	if err != nil {
		t.Fatal(err)
	}
	want := []copyOf{
		{DB: "/rails/storage/production.sqlite3", Follower: "shop-follower-production", Mount: volumes.Mount{Source: "shop-replica-shop_storage", Target: "/rails/storage"}, Rel: "production.sqlite3"},
		{DB: "/rails/storage/queue.sqlite3", Follower: "shop-follower-queue", Mount: volumes.Mount{Source: "shop-replica-shop_storage", Target: "/rails/storage"}, Rel: "queue.sqlite3"},
		{DB: "/cache/sub/cache.sqlite3", Follower: "shop-follower-cache", Mount: volumes.Mount{Source: "shop-replica-cache", Target: "/cache"}, Rel: "sub/cache.sqlite3"},
	}
	if len(cps) != len(want) {
		t.Fatalf("copies: %+v", cps)
	}
	for i := range want {
		if cps[i].DB != want[i].DB || cps[i].Follower != want[i].Follower || cps[i].Mount.String() != want[i].Mount.String() || cps[i].Rel != want[i].Rel {
			t.Errorf("copy %d: %+v, want %+v", i, cps[i], want[i])
		}
	}
}

// What followers cannot follow is refused before any host is touched,
// saying what to do.
func TestCopiesRefused(t *testing.T) {
	for name, tc := range map[string]struct {
		change func(*config.Config)
		want   string
	}{
		"no section":   {func(c *config.Config) { c.Litestream = nil }, "needs the litestream section"},
		"hand-written": {func(c *config.Config) { c.Litestream.Written = &config.WrittenLitestream{Accessory: "backup"} }, "accessory backup's hand-written one"},
		"0.3":          {func(c *config.Config) { c.Litestream.Image = "litestream/litestream:0.3.14" }, "set litestream.image to"},
		"file replica": {func(c *config.Config) { c.Litestream.Replica.URL = "file:///srv/backups" }, "replicate to S3 for replicas"},
	} {
		c := shop()
		tc.change(c)
		if _, err := copies(c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

// runningEngine lists running containers with their mounts.
type runningEngine struct {
	client.APIClient
	running []container.Summary
}

func (e runningEngine) ContainerList(context.Context, container.ListOptions) ([]container.Summary, error) {
	return e.running, nil
}

// The copy is written only while no container but the followers mounts
// its volume writable: two databases on one app volume share a copy
// volume, each follower writing its own files.
func TestOnlyWriter(t *testing.T) {
	cps, _ := copies(shop())
	mount := func(name string, rw bool) container.Summary {
		return container.Summary{Names: []string{"/" + name}, Mounts: []container.MountPoint{{Type: "volume", Name: "shop-replica-shop_storage", RW: rw}}}
	}
	for _, tc := range []struct {
		running []container.Summary
		refused string
	}{
		{nil, ""},
		{[]container.Summary{mount("shop-follower-queue", true), mount("shop-replicas-v1", false)}, ""},
		{[]container.Summary{mount("shop-replicas-v1", true)}, "shop-replicas-v1 (writes to shop-replica-shop_storage)"},
	} {
		h := &host.Host{Name: "10.0.0.2", Docker: runningEngine{running: tc.running}}
		err := onlyWriter(context.Background(), h, cps[0], followerNames(cps))
		if (tc.refused == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.refused)) {
			t.Errorf("with %v running: %v, want refused for %q", tc.running, err, tc.refused)
		}
	}
}
