package workflow

import (
	"errors"
	"reflect"
	"testing"

	"github.com/shipdeploy/ship/engine"
)

// An accessory is missing on its host when no container there has its
// name; other hosts do not miss it.
func TestMissingAccessories(t *testing.T) {
	file := writeDeployYML(t, `service: shop
image: acme/shop
servers: [10.0.0.1, 10.0.0.2]
accessories:
  litestream:
    image: litestream/litestream
    host: 10.0.0.1
  cache:
    image: redis
    service: shop-redis
    host: 10.0.0.1
`)
	g, _ := quietGlobals(file)
	cfg, err := LoadConfig(g)
	if err != nil {
		t.Fatal(err)
	}
	none := engine.Host{Containers: []engine.Container{{Name: "shop-web-v1"}}}
	want := []MissingAccessory{{Name: "litestream", Container: "shop-litestream"}, {Name: "cache", Container: "shop-redis"}}
	if got := missingAccessories(cfg, "10.0.0.1", none); !reflect.DeepEqual(got, want) {
		t.Errorf("no accessory booted: %+v, want %+v", got, want)
	}
	booted := engine.Host{Containers: []engine.Container{{Name: "shop-litestream"}, {Name: "shop-redis"}}}
	if got := missingAccessories(cfg, "10.0.0.1", booted); len(got) != 0 {
		t.Errorf("both booted: %+v", got)
	}
	if got := missingAccessories(cfg, "10.0.0.2", none); len(got) != 0 {
		t.Errorf("a host without accessories misses %+v", got)
	}
}

// A selection that matches no host is a usage error (exit 2) for details
// and audit, with nothing to print and no host contacted.
func TestDetailsAndAuditSelectNothing(t *testing.T) {
	file := writeDeployYML(t, "service: shop\nimage: acme/shop\nservers: [127.0.0.1:1]\n")
	g, _ := quietGlobals(file)
	g.Hosts = "nowhere.example.com"
	d, detailsErr := Details(t.Context(), DetailsRequest{Globals: g})
	a, auditErr := Audit(t.Context(), AuditRequest{Globals: g, Lines: 20})
	for name, err := range map[string]error{"details": detailsErr, "audit": auditErr} {
		var u UsageError
		if !errors.As(err, &u) {
			t.Errorf("%s --hosts nowhere: %v, want a usage error", name, err)
		}
	}
	if d != nil || a != nil {
		t.Errorf("results without a host: %+v %+v", d, a)
	}
}
