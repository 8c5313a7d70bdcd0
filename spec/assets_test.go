package spec

import (
	"testing"

	"github.com/shipdeploy/ship/config"
)

// asset_path is the role's own or the top-level one, with Kamal's mount
// options, and only a proxied role bridges assets.
func TestAssetsOf(t *testing.T) {
	proxied := &config.Proxy{}
	for _, tc := range []struct {
		name string
		top  string
		role config.Role
		ok   bool
		path string
		bind string
	}{
		{name: "top level", top: "/rails/public/assets", role: config.Role{Name: "web", Proxy: proxied}, ok: true, path: "/rails/public/assets", bind: "v:/rails/public/assets:nocopy"},
		{name: "role wins", top: "/a", role: config.Role{Name: "web", Proxy: proxied, AssetPath: "/public/"}, ok: true, path: "/public", bind: "v:/public:nocopy"},
		{name: "options", top: "/a:ro,Z", role: config.Role{Name: "web", Proxy: proxied}, ok: true, path: "/a", bind: "v:/a:nocopy,ro,Z"},
		{name: "no proxy", top: "/a", role: config.Role{Name: "jobs"}},
		{name: "none", role: config.Role{Name: "web", Proxy: proxied}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &config.Config{Service: "shop", AssetPath: tc.top}
			a, ok := AssetsOf(c, &tc.role)
			if ok != tc.ok {
				t.Fatalf("AssetsOf ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				return
			}
			if a.Path != tc.path {
				t.Errorf("path = %q, want %q", a.Path, tc.path)
			}
			if got := a.Bind("v"); got != tc.bind {
				t.Errorf("Bind = %q, want %q", got, tc.bind)
			}
		})
	}
}

// An assets volume is named after the version's container, and its labels
// are not those of the app's containers or data volumes.
func TestAssetsNames(t *testing.T) {
	c := &config.Config{Service: "shop", Destination: "staging"}
	if got := AssetsVolume(c, "web", "v2", "abcd"); got != "shop-web-staging-v2-assets-abcd" {
		t.Errorf("AssetsVolume = %s", got)
	}
	if got := AssetsHelper(c, "web", "abcd"); got != "shop-web-staging-assets-abcd" {
		t.Errorf("AssetsHelper = %s", got)
	}
	labels := AssetsLabels(c, "web", "v2")
	if labels[LabelAssets] != "shop/web/staging" || labels[LabelVersion] != "v2" {
		t.Errorf("AssetsLabels = %v", labels)
	}
	for _, l := range []string{LabelService, LabelRole, LabelDestination} {
		if _, ok := labels[l]; ok {
			t.Errorf("assets volume has the app's label %s", l)
		}
	}
	// A service "a-b" with role "c" and a service "a" with role "b-c"
	// share container prefixes, never an owner.
	if AssetsOwner(&config.Config{Service: "a-b"}, "c") == AssetsOwner(&config.Config{Service: "a"}, "b-c") {
		t.Error("two roles share an assets owner")
	}
}
