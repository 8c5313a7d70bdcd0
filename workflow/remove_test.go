package workflow

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/config"
)

// configAt writes a config file and returns Globals that load it.
func configAt(t *testing.T, yml string) Globals {
	t.Helper()
	file := filepath.Join(t.TempDir(), "config", "deploy.yml")
	os.MkdirAll(filepath.Dir(file), 0o755)
	if err := os.WriteFile(file, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	g := noConfig
	g.ConfigFile = file
	return g
}

const removeConfig = `service: shop
image: acme/shop
servers:
  - 192.0.2.1
volumes:
  - shop_storage:/rails/storage
accessories:
  redis:
    image: redis:7
    host: 192.0.2.2
registry:
  server: ghcr.io
  username: acme
  password: not-a-secret
`

// The question names what goes and, above all, what stays; a no leaves
// every host untouched (192.0.2.x is never dialled).
func TestRemoveAsksAndSaysWhatStays(t *testing.T) {
	g := configAt(t, removeConfig)
	var asked []string
	g.Confirm = func(q string) bool { asked = append(asked, q); return false }
	err := Remove(context.Background(), RemoveRequest{Globals: g})
	if err == nil || !strings.Contains(err.Error(), "not removed: confirm on a terminal, or pass --confirmed") {
		t.Fatalf("a no: %v", err)
	}
	if len(asked) != 1 {
		t.Fatalf("asked %d times", len(asked))
	}
	for _, want := range []string{
		"from 192.0.2.1, 192.0.2.2:",
		"every container of shop, every image of ghcr.io/acme/shop,",
		"kamal-proxy, where it routes no other app",
		"the accessories' containers (shop-redis)",
		"the hosts' login to ghcr.io",
		"Nothing that holds data is deleted: the app's volumes (shop_storage) keep the databases",
		"the accessories' directories and volumes stay",
		"no Litestream replica is touched",
		"Are you sure? [y/N] ",
	} {
		if !strings.Contains(asked[0], want) {
			t.Errorf("the question lacks %q:\n%s", want, asked[0])
		}
	}
}

func TestRegistryNeedsARegistry(t *testing.T) {
	g := configAt(t, "service: shop\nimage: acme/shop\nservers:\n  - 192.0.2.1\n")
	err := RegistryLogin(context.Background(), RegistryRequest{Globals: g})
	wantUsage(t, err, g.ConfigFile+" has no registry: ship sends images to the hosts over SSH, so there is nothing to log in to")
}

func TestAccessoryUpgradeAsks(t *testing.T) {
	g := configAt(t, removeConfig)
	var asked string
	g.Confirm = func(q string) bool { asked = q; return false }
	err := AccessoryUpgrade(context.Background(), AccessoryUpgradeRequest{AccessoryRequest: AccessoryRequest{Globals: g, Name: "all"}})
	if err == nil || !strings.Contains(err.Error(), "not upgraded") || !strings.Contains(asked, "This will restart all accessories") {
		t.Errorf("a no: %v, asked %q", err, asked)
	}
}

// With asset_path, the question says the assets volumes go too.
func TestRemoveQuestionNamesAssetVolumes(t *testing.T) {
	cfg := &config.Config{Service: "shop", Image: "acme/shop", AssetPath: "/rails/public/assets",
		Roles: []*config.Role{{Name: "web", Proxy: &config.Proxy{}}}}
	if q := removeQuestion(cfg, []string{"192.0.2.1"}); !strings.Contains(q, "asset_path carries assets") {
		t.Errorf("the question does not mention the assets volumes:\n%s", q)
	}
	cfg.Roles[0].Proxy = nil
	if q := removeQuestion(cfg, []string{"192.0.2.1"}); strings.Contains(q, "asset_path") {
		t.Errorf("no proxied role bridges assets, yet the question mentions them:\n%s", q)
	}
}
