package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// kamalProxyRun is what Kamal runs kamal-proxy with when deploy.yml says
// nothing about proxy.run.
var kamalProxyRun = ProxyRun{
	Image:      "basecamp/kamal-proxy:v0.9.2",
	HTTPPort:   80,
	HTTPSPort:  443,
	Publish:    true,
	LogMaxSize: "10m",
}

func TestProxyRunDefaults(t *testing.T) {
	for name, yml := range map[string]string{
		"no proxy section": "service: shop\nimage: acme/shop\nservers: [10.0.0.1]\n",
		"proxy without run": `service: shop
image: acme/shop
servers: [10.0.0.1]
proxy:
  host: shop.example.com
`,
		"empty run": `service: shop
image: acme/shop
servers: [10.0.0.1]
proxy:
  host: shop.example.com
  run: {}
`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := write(t, map[string]string{"config/deploy.yml": yml})
			c, err := load(t, dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.ProxyRun, kamalProxyRun) {
				t.Errorf("proxy.run =\n %+v\nwant Kamal's defaults\n %+v", c.ProxyRun, kamalProxyRun)
			}
		})
	}
}

func TestProxyRunKeys(t *testing.T) {
	dir := write(t, map[string]string{"config/deploy.yml": `service: shop
image: acme/shop
servers: [10.0.0.1]
proxy:
  host: shop.example.com
  run:
    http_port: 8080
    https_port: 8443
    registry: registry.example.com:5000
    repository: mirror/kamal-proxy
    version: v0.9.3
    bind_ips:
      - 127.0.0.1
      - "::1"
    log_max_size: 50m
    metrics_port: 9090
    debug: true
`})
	c, err := load(t, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := ProxyRun{
		Image:       "registry.example.com:5000/mirror/kamal-proxy:v0.9.3",
		HTTPPort:    8080,
		HTTPSPort:   8443,
		Publish:     true,
		BindIPs:     []string{"127.0.0.1", "::1"},
		LogMaxSize:  "50m",
		MetricsPort: 9090,
		Debug:       true,
		Configured:  true,
	}
	if !reflect.DeepEqual(c.ProxyRun, want) {
		t.Errorf("proxy.run =\n %+v\nwant\n %+v", c.ProxyRun, want)
	}
}

// Kamal builds the image from registry, repository and version, each
// defaulting on its own.
func TestProxyRunImage(t *testing.T) {
	for run, want := range map[string]string{
		"registry: ghcr.io":                "ghcr.io/basecamp/kamal-proxy:v0.9.2",
		"repository: acme/kamal-proxy":     "acme/kamal-proxy:v0.9.2",
		"version: v0.9.3":                  "basecamp/kamal-proxy:v0.9.3",
		"{registry: ghcr.io, version: v1}": "ghcr.io/basecamp/kamal-proxy:v1",
	} {
		yml := "service: shop\nimage: acme/shop\nservers: [10.0.0.1]\nproxy:\n  run: " + run + "\n"
		if !strings.HasPrefix(run, "{") {
			yml = "service: shop\nimage: acme/shop\nservers: [10.0.0.1]\nproxy:\n  run:\n    " + run + "\n"
		}
		dir := write(t, map[string]string{"config/deploy.yml": yml})
		c, err := load(t, dir, Options{})
		if err != nil {
			t.Errorf("%s: %v", run, err)
			continue
		}
		if c.ProxyRun.Image != want {
			t.Errorf("%s: image %q, want %q", run, c.ProxyRun.Image, want)
		}
	}
}

func TestProxyRunPublishFalse(t *testing.T) {
	// Nothing is published, so equal ports cannot clash.
	dir := write(t, map[string]string{"config/deploy.yml": `service: shop
image: acme/shop
servers: [10.0.0.1]
proxy:
  run:
    publish: false
    http_port: 8000
    https_port: 8000
`})
	c, err := load(t, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.ProxyRun.Publish {
		t.Errorf("publish: false read as %+v", c.ProxyRun)
	}
}

// proxy.run.options are docker run options for the proxy container, as
// Kamal's docs show them, label included.
func TestProxyRunOptions(t *testing.T) {
	dir := write(t, map[string]string{"config/deploy.yml": `service: shop
image: acme/shop
servers: [10.0.0.1]
proxy:
  run:
    options:
      label:
        - custom.label=kamal-proxy
      memory: 512m
      cpus: 0.5
`})
	c, err := load(t, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := RunOptions{{Name: "memory", Values: []string{"512m"}}, {Name: "cpus", Values: []string{"0.5"}}}
	if !reflect.DeepEqual(c.ProxyRun.Options, want) || !reflect.DeepEqual(c.ProxyRun.Labels, map[string]string{"custom.label": "kamal-proxy"}) {
		t.Errorf("proxy.run.options = %+v, labels %v", c.ProxyRun.Options, c.ProxyRun.Labels)
	}
	if len(c.Warnings) != 0 || !c.ProxyRun.Configured {
		t.Errorf("warnings = %v, configured %v", c.Warnings, c.ProxyRun.Configured)
	}
}

func TestProxyRunOptionsRefused(t *testing.T) {
	for opts, want := range map[string]string{
		"volume: /x:/y":  ":7:7: proxy.run.options.volume: unknown option; supported:",
		"memory: lots":   ":7:15: proxy.run.options.memory:",
		"label: [=oops]": `:7:14: proxy.run.options.label: "=oops" is not a label: want key=value`,
	} {
		dir := write(t, map[string]string{"config/deploy.yml": "service: shop\nimage: acme/shop\nservers: [10.0.0.1]\nproxy:\n  run:\n    options:\n      " + opts + "\n"})
		_, err := load(t, dir, Options{})
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "config/deploy.yml")+want) {
			t.Errorf("%s: err = %v, want %s", opts, err, want)
		}
	}
}

func TestProxyRunMistakes(t *testing.T) {
	for name, tc := range map[string]struct{ yml, want string }{
		"run in a role's proxy": {`service: shop
image: acme/shop
servers:
  web:
    hosts: [10.0.0.1]
    proxy:
      host: shop.example.com
      run:
        http_port: 8080
`, ":9:9: servers.web.proxy.run: configures the kamal-proxy container every role shares: set it in the top-level proxy section"},
		"run in a role's proxy over a top-level one": {`service: shop
image: acme/shop
servers:
  web:
    hosts: [10.0.0.1]
    proxy:
      run: {debug: true}
proxy:
  host: shop.example.com
`, ":7:12: servers.web.proxy.run: configures the kamal-proxy container every role shares: set it in the top-level proxy section"},
		"bad bind IP": {`service: shop
image: acme/shop
servers: [10.0.0.1]
proxy:
  run:
    bind_ips:
      - 10.0.0.1
      - localhost
`, ":8:9: proxy.run.bind_ips[1]: \"localhost\" is not an IP address"},
		"equal ports": {`service: shop
image: acme/shop
servers: [10.0.0.1]
proxy:
  run:
    http_port: 8080
    https_port: 8080
`, ":6:5: proxy.run: http_port and https_port are both 8080"},
		"default https port taken by http": {`service: shop
image: acme/shop
servers: [10.0.0.1]
proxy:
  run:
    http_port: 443
`, ":6:5: proxy.run: http_port and https_port are both 443"},
		"port out of range": {`service: shop
image: acme/shop
servers: [10.0.0.1]
proxy:
  run:
    https_port: 0
`, ":6:17: proxy.run.https_port: 0 is out of range (1 to 65535)"},
		"unknown key": {`service: shop
image: acme/shop
servers: [10.0.0.1]
proxy:
  run:
    http_prot: 8080
`, ":6:5: proxy.run.http_prot: unknown key (did you mean \"http_port\"?)"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := write(t, map[string]string{"config/deploy.yml": tc.yml})
			_, err := load(t, dir, Options{})
			want := filepath.Join(dir, "config/deploy.yml") + tc.want
			if err == nil || err.Error() != want {
				t.Errorf("error:\n got %v\nwant %s", err, want)
			}
		})
	}
}

func TestProxySSLRedirect(t *testing.T) {
	dir := write(t, map[string]string{"config/deploy.yml": `service: shop
image: acme/shop
servers:
  web: [10.0.0.1]
  admin:
    hosts: [10.0.0.2]
    proxy:
      host: admin.example.com
      ssl: true
      ssl_redirect: false
proxy:
  host: shop.example.com
  ssl: true
`})
	c, err := load(t, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Proxy.SSLRedirect {
		t.Errorf("top-level proxy: ssl_redirect = false, want Kamal's default true")
	}
	if p := c.Role("web").Proxy; p == nil || !p.SSLRedirect || !p.SSL {
		t.Errorf("web proxy = %+v, want ssl with ssl_redirect true", p)
	}
	if p := c.Role("admin").Proxy; p == nil || p.SSLRedirect || !p.SSL || !reflect.DeepEqual(p.Hosts, []string{"admin.example.com"}) {
		t.Errorf("admin proxy = %+v, want ssl for admin.example.com without redirect", p)
	}

	// A role that only says it is proxied gets the defaults too.
	dir = write(t, map[string]string{"config/deploy.yml": `service: shop
image: acme/shop
servers:
  web:
    hosts: [10.0.0.1]
    proxy: true
`})
	c, err = load(t, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Role("web").Proxy; p == nil || !p.SSLRedirect {
		t.Errorf("web proxy = %+v, want ssl_redirect true by default", p)
	}
}
