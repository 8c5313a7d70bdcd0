package config

import (
	"strings"
	"testing"
)

// asset_path only bridges assets on a role behind kamal-proxy, as in
// Kamal; where no such role uses it, the user is told, at its line.
func TestAssetPathWithoutProxyWarns(t *testing.T) {
	const head = "service: shop\nimage: acme/shop\n"
	for name, tc := range map[string]struct{ yml, want string }{
		"top level, no proxy": {head + "servers: [10.0.0.1]\nasset_path: /rails/public/assets\n",
			"4:13: asset_path: has no effect: no role without its own asset_path is behind kamal-proxy"},
		"a role without proxy": {head + "servers:\n  web: [10.0.0.1]\n  jobs:\n    hosts: [10.0.0.2]\n    asset_path: /public\nproxy:\n  app_port: 3000\n",
			"7:17: servers.jobs.asset_path: has no effect: role jobs is not behind kamal-proxy"},
		"proxied": {head + "servers: [10.0.0.1]\nasset_path: /rails/public/assets\nproxy:\n  app_port: 3000\n", ""},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := load(t, write(t, map[string]string{"config/deploy.yml": tc.yml}), Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := c.Warnings.Error()
			if len(c.Warnings) == 0 {
				got = ""
			}
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("warnings %q, want %q", got, tc.want)
			}
		})
	}
}
