package config

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Configs Kamal refuses, or that would fail on the hosts at deploy time,
// are reported at load, with their line, before any host is contacted.
func TestRefusedConfigs(t *testing.T) {
	const head = "service: shop\nimage: acme/shop\n"
	for name, tc := range map[string]struct{ yml, want string }{
		"Let's Encrypt on a role with two hosts": {head + `servers:
  web:
    hosts: [10.0.0.1, 10.0.0.2]
proxy:
  host: shop.example.com
  ssl: true
`, "4:3: servers.web: SSL is only supported on a single server unless you provide custom certificates, found 2 servers for role web: Let's Encrypt issues"},
		"Let's Encrypt on a plain list of two hosts": {head + `servers: [10.0.0.1, 10.0.0.2]
proxy:
  host: shop.example.com
  ssl: true
`, "3:10: servers.web: SSL is only supported on a single server unless you provide custom certificates, found 2 servers for role web"},
		"Let's Encrypt on a second proxied role": {head + `servers:
  web: [10.0.0.1]
  api:
    hosts: [10.0.0.2, 10.0.0.3]
    proxy:
      host: api.example.com
      ssl: true
`, "5:3: servers.api: SSL is only supported on a single server unless you provide custom certificates, found 2 servers for role api"},
		"two SSL roles with one host name": {head + `servers:
  web:
    hosts: [10.0.0.1]
  api:
    hosts: [10.0.0.2]
    proxy: true
proxy:
  host: shop.example.com
  ssl: true
`, "6:3: servers.api: Different roles can't share the same host for SSL: shop.example.com (roles web and api)"},
		"two roles with one host name on one server": {head + `servers:
  web:
    hosts: [10.0.0.1]
    proxy:
      host: shop.example.com
  admin:
    hosts: [10.0.0.1]
    proxy:
      host: shop.example.com
`, "8:3: servers.admin: roles web and admin both route shop.example.com on 10.0.0.1: kamal-proxy refuses"},
		"a relative asset_path": {head + "servers: [10.0.0.1]\nasset_path: public/assets\n",
			`4:13: asset_path: "public/assets" must be an absolute directory in the app container other than /`},
		"asset_path with an unknown option": {head + "servers: [10.0.0.1]\nasset_path: /rails/public/assets:rw,nocopy\n",
			`4:13: asset_path: mount option "nocopy" is not one of ro, rw, z, Z`},
		"asset_path on a volume's target": {head + "servers: [10.0.0.1]\nproxy:\n  app_port: 3000\nvolumes:\n  - shop_public:/rails/public/assets\nasset_path: /rails/public/assets/\n",
			`8:13: asset_path: volume shop_public is mounted at /rails/public/assets/ too`},
		"accessory with host and hosts": {head + `servers: [10.0.0.1]
accessories:
  cache:
    image: redis:7
    host: 10.0.0.1
    hosts: [10.0.0.2]
`, "8:12: accessories.cache: sets host and hosts: specify only one of host, hosts, role, roles, tag or tags"},
		"accessory with roles and tags": {head + `servers:
  web:
    - 10.0.0.1: blue
accessories:
  cache:
    image: redis:7
    roles: [web]
    tags: [blue]
`, "10:11: accessories.cache: sets roles and tags: specify only one"},
		"a role's reserved label": {head + `servers:
  web:
    hosts: [10.0.0.1]
    labels:
      role: frontend
`, "7:7: servers.web.labels.role: invalid label: destination, role and service are reserved labels, which ship sets itself"},
		"a top-level reserved label": {head + `servers: [10.0.0.1]
labels:
  destination: prod
`, "5:3: labels.destination: invalid label: destination, role and service are reserved labels"},
		"an accessory's reserved label": {head + `servers: [10.0.0.1]
accessories:
  cache:
    image: redis:7
    host: 10.0.0.1
    labels:
      service: cache
`, "9:7: accessories.cache.labels.service: invalid label"},
		"an empty registry": {head + `servers: [10.0.0.1]
registry: {}
`, "4:11: registry: is empty: give server, username and password, or remove the section to send images to the servers over SSH"},
		"a registry without username": {head + `servers: [10.0.0.1]
registry:
  server: ghcr.io
  password: [REGISTRY_PASSWORD]
`, "5:3: registry.username: is required: a registry needs a username and password"},
		"an accessory's registry without password": {head + `servers: [10.0.0.1]
accessories:
  cache:
    image: redis:7
    host: 10.0.0.1
    registry:
      server: ghcr.io
      username: acme
`, "9:7: accessories.cache.registry.password: is required"},
		"an accessory's empty registry": {head + `servers: [10.0.0.1]
accessories:
  cache:
    image: redis:7
    host: 10.0.0.1
    registry: {}
`, "8:15: accessories.cache.registry: is empty: give server, username and password, or remove it to use the app's registry"},
		"an empty alias": {head + "servers: [10.0.0.1]\naliases:\n  console: \"\"\n", "5:12: aliases.console: should be a ship command line"},
		"two proxied roles without a host on one server": {head + `servers:
  web:
    hosts: [10.0.0.1]
  admin:
    hosts: [10.0.0.2, 10.0.0.1]
    proxy: true
proxy:
  app_port: 3000
`, "6:3: servers.admin: roles web and admin are both proxied without a host on 10.0.0.1: kamal-proxy routes requests without a host to one service per server"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := write(t, map[string]string{"config/deploy.yml": tc.yml, ".ship/secrets": "REGISTRY_PASSWORD=pw\n"})
			_, err := load(t, dir, Options{})
			problems, ok := err.(Problems)
			if !ok {
				t.Fatalf("error %v is not Problems", err)
			}
			want := filepath.Join(dir, "config/deploy.yml") + ":" + tc.want
			if len(problems) != 1 || !strings.HasPrefix(problems[0].String(), want) {
				t.Errorf("problems:\n%v\nwant one:\n%s", err, want)
			}
		})
	}
}

// Settings that look like the refused ones but work.
func TestAcceptedNeighbours(t *testing.T) {
	const head = "service: shop\nimage: acme/shop\n"
	for name, yml := range map[string]string{
		"Let's Encrypt on one host": head + "servers: [10.0.0.1]\nproxy:\n  host: shop.example.com\n  ssl: true\n",
		"a custom certificate on two hosts": head + `servers: [10.0.0.1, 10.0.0.2]
proxy:
  host: shop.example.com
  ssl:
    certificate_pem: CERT
    private_key_pem: KEY
`,
		"a proxy without TLS on two hosts": head + "servers: [10.0.0.1, 10.0.0.2]\nproxy:\n  host: shop.example.com\n",
		"one host name, two paths": head + `servers:
  web:
    hosts: [10.0.0.1]
    proxy:
      host: shop.example.com
  api:
    hosts: [10.0.0.1]
    proxy:
      host: shop.example.com
      path_prefix: /api
`,
		"one host name on two servers without TLS": head + `servers:
  web:
    hosts: [10.0.0.1]
    proxy:
      host: shop.example.com
  api:
    hosts: [10.0.0.2]
    proxy:
      host: shop.example.com
`,
		"two roles without a host on two servers": head + `servers:
  web:
    hosts: [10.0.0.1]
  admin:
    hosts: [10.0.0.2]
    proxy: true
proxy:
  app_port: 3000
`,
		"two roles without a host, on two paths": head + `servers:
  web:
    hosts: [10.0.0.1]
  api:
    hosts: [10.0.0.1]
    proxy:
      path_prefix: /api
`,
		"a local registry without a login": head + "servers: [10.0.0.1]\nregistry:\n  server: localhost:5555\n",
		"ordinary labels":                  head + "servers: [10.0.0.1]\nlabels:\n  team: shop\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir := write(t, map[string]string{"config/deploy.yml": yml, ".ship/secrets": "CERT=c\nKEY=k\n"})
			c, err := load(t, dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Warnings) != 0 {
				t.Errorf("warnings: %v", c.Warnings)
			}
		})
	}
}

// The sample configs break none of these rules, and Rails 8's generated
// config, asset_path included, loads without a warning.
func TestSamplesHaveNoRefusedSettings(t *testing.T) {
	for file, want := range map[string][]string{
		"testdata/rails8/config/deploy.yml": nil,
		"../examples/app/config/deploy.yml": nil,
	} {
		c, err := Load(Options{File: file})
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		var got []string
		for _, w := range c.Warnings {
			got = append(got, w.Path)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: warnings %v, want them for %v:\n%v", file, got, want, c.Warnings)
		}
	}
}
