package follower

import (
	"slices"
	"testing"

	"github.com/docker/docker/api/types/container"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/spec"
)

// litestreamOf builds the litestream section's accessory spec as ship
// boots it, and what a follower takes from it.
func litestreamOf(t *testing.T, c *config.Config) litestream {
	t.Helper()
	a := &config.Accessory{Name: config.LitestreamAccessory, Image: c.Litestream.Image, Cmd: "replicate",
		Files:   []config.File{{Remote: config.LitestreamConfigPath, Content: c.Litestream.Config(), Options: "ro"}},
		Volumes: c.Volumes[:1]}
	a.Env.Clear = map[string]string{"LITESTREAM_ACCESS_KEY_ID": "key"}
	acc, err := spec.Accessory(c, a, "/home/ship/.ship/apps/shop/accessories/litestream")
	if err != nil {
		t.Fatal(err)
	}
	return newLitestream(a, acc)
}

// The follower runs restore -f on its copy alone: Litestream's image,
// environment and litestream.yml, none of the app's volumes, restarted
// unless stopped, labelled with its database and no role.
func TestFollowerSpec(t *testing.T) {
	c := shop()
	l := litestreamOf(t, c)
	cps, _ := copies(c)
	cc, hc := l.followerSpec(c, cps[0])
	if want := []string{"restore", "-f", "-o", "/rails/storage/production.sqlite3", "/rails/storage/production.sqlite3"}; !slices.Equal(cc.Cmd, want) {
		t.Errorf("cmd %q, want %q", cc.Cmd, want)
	}
	if cc.Image != "litestream/litestream:0.5.18" || !slices.Contains(cc.Env, "LITESTREAM_ACCESS_KEY_ID=key") {
		t.Errorf("image %s, env %q", cc.Image, cc.Env)
	}
	if hc.RestartPolicy.Name != container.RestartPolicyUnlessStopped {
		t.Errorf("restart policy %q", hc.RestartPolicy.Name)
	}
	wantBinds := []string{
		"/home/ship/.ship/apps/shop/accessories/litestream/files/etc/litestream.yml:/etc/litestream.yml:ro",
		"shop-replica-shop_storage:/rails/storage",
	}
	if !slices.Equal(hc.Binds, wantBinds) {
		t.Errorf("binds %q, want %q", hc.Binds, wantBinds)
	}
	if cc.Labels[spec.LabelFollower] != "/rails/storage/production.sqlite3" || cc.Labels[spec.LabelService] != "shop" || cc.Labels[spec.LabelRole] != "" {
		t.Errorf("labels %v", cc.Labels)
	}
	// The accessory's own spec is left as it was.
	if slices.Contains(l.Host.Binds, "shop-replica-shop_storage:/rails/storage") || l.Config.Cmd[0] != "replicate" {
		t.Errorf("the accessory's spec changed: %q %q", l.Config.Cmd, l.Host.Binds)
	}
}

// A one-off that prepares a copy is no follower: not restarted, not
// labelled as one.
func TestOneOffSpec(t *testing.T) {
	c := shop()
	l := litestreamOf(t, c)
	cps, _ := copies(c)
	cc, hc := l.oneOffSpec(c, cps[2], []string{"restore", "-dry-run"})
	if hc.RestartPolicy.Name != "" || cc.Labels[spec.LabelFollower] != "" || cc.Labels[LabelPrepare] != "/cache/sub/cache.sqlite3" {
		t.Errorf("restart %q, labels %v", hc.RestartPolicy.Name, cc.Labels)
	}
	if !slices.Contains(hc.Binds, "shop-replica-cache:/cache") || slices.Contains(hc.Binds, "shop_storage:/rails/storage") {
		t.Errorf("binds %q", hc.Binds)
	}
}
