package accessories

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/spec"
)

func load(t *testing.T, yml string) (*config.Config, error) {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "config"), 0o755)
	file := filepath.Join(dir, "config/deploy.yml")
	os.WriteFile(file, []byte(yml), 0o644)
	return config.Load(config.Options{File: file})
}

const base = `service: shop
image: acme/shop
servers:
  web:
    - 10.0.0.1
    - 10.0.0.2: canary
  jobs:
    - 10.0.0.3
`

func TestPlacement(t *testing.T) {
	c, err := load(t, base+`accessories:
  litestream:
    image: litestream/litestream
    roles: [web]
  redis:
    image: redis
    host: 10.0.0.9
    service: shop-cache
  probe:
    image: probe
    tag: canary
`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range c.Accessories {
		got[a.Name] = strings.Join(Hosts(c, a), " ") + " as " + spec.AccessoryName(c, a)
	}
	want := map[string]string{
		"litestream": "10.0.0.1 10.0.0.2 as shop-litestream",
		"redis":      "10.0.0.9 as shop-cache",
		"probe":      "10.0.0.2 as shop-probe",
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: %q, want %q", name, got[name], w)
		}
	}
	var on []string
	for _, a := range On(c, "10.0.0.2") {
		on = append(on, a.Name)
	}
	if strings.Join(on, ",") != "litestream,probe" {
		t.Errorf("On(10.0.0.2) = %v", on)
	}
}

func TestPlacementOnUnknownRoleOrTag(t *testing.T) {
	_, err := load(t, base+`accessories:
  litestream:
    image: litestream/litestream
    role: wbe
  probe:
    image: probe
    tags: [canry]
`)
	for _, want := range []string{
		`deploy.yml:10:3: accessories.litestream: role "wbe" is not defined in servers`,
		`deploy.yml:13:3: accessories.probe: no host in servers has the tag "canry"`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}
