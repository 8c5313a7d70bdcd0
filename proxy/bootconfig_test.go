package proxy

import (
	"reflect"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/config"
)

// The files boot_config set writes, for the flags of Kamal 2.12's own
// tests (test/cli/proxy_test.rb): "" is a file removed.
func TestNewBootConfigAsKamal(t *testing.T) {
	for name, tc := range map[string]struct {
		set  func(*BootConfigFlags)
		want BootConfig
	}{
		"defaults":        {func(*BootConfigFlags) {}, BootConfig{}},
		"no publish":      {func(f *BootConfigFlags) { f.Publish = false }, BootConfig{Options: "--log-opt max-size=10m"}},
		"custom max size": {func(f *BootConfigFlags) { f.LogMaxSize = "100m" }, BootConfig{Options: "--publish 80:80 --publish 443:443 --log-opt max-size=100m"}},
		"no log max size": {func(f *BootConfigFlags) { f.LogMaxSize = "" }, BootConfig{Options: "--publish 80:80 --publish 443:443"}},
		"custom ports": {func(f *BootConfigFlags) { f.HTTPPort, f.HTTPSPort = 8080, 8443 },
			BootConfig{Options: "--publish 8080:80 --publish 8443:443 --log-opt max-size=10m"}},
		"bind IP": {func(f *BootConfigFlags) { f.PublishHostIPs = []string{"127.0.0.1"} },
			BootConfig{Options: "--publish 127.0.0.1:80:80 --publish 127.0.0.1:443:443 --log-opt max-size=10m"}},
		"bind IPs": {func(f *BootConfigFlags) { f.PublishHostIPs = []string{"127.0.0.1", "::1"} },
			BootConfig{Options: "--publish 127.0.0.1:80:80 --publish 127.0.0.1:443:443 --publish [::1]:80:80 --publish [::1]:443:443 --log-opt max-size=10m"}},
		"docker options": {func(f *BootConfigFlags) { f.DockerOptions = []string{"label=foo=bar", "memory=512m"} },
			BootConfig{Options: "--publish 80:80 --publish 443:443 --log-opt max-size=10m --label=foo=bar --memory=512m"}},
		"registry":      {func(f *BootConfigFlags) { f.Registry = "myreg" }, BootConfig{Image: "myreg/basecamp/kamal-proxy"}},
		"repository":    {func(f *BootConfigFlags) { f.Repository = "myrepo" }, BootConfig{Image: "myrepo/kamal-proxy"}},
		"image version": {func(f *BootConfigFlags) { f.ImageVersion = "0.9.9" }, BootConfig{Version: "0.9.9"}},
		"run command": {func(f *BootConfigFlags) { f.MetricsPort, f.Debug = 9000, true },
			BootConfig{Options: "--publish 80:80 --publish 443:443 --log-opt max-size=10m --expose=9000", RunCommand: `kamal-proxy run --debug --metrics-port "9000"`}},
		"all": {func(f *BootConfigFlags) {
			f.DockerOptions = []string{"label=foo=bar"}
			f.Registry, f.Repository, f.ImageVersion, f.MetricsPort, f.Debug = "myreg", "myrepo", "0.9.9", 9000, true
		}, BootConfig{
			Options: "--publish 80:80 --publish 443:443 --log-opt max-size=10m --expose=9000 --label=foo=bar",
			Image:   "myreg/myrepo/kamal-proxy", Version: "0.9.9", RunCommand: `kamal-proxy run --debug --metrics-port "9000"`,
		}},
	} {
		f := NewBootConfigFlags()
		tc.set(&f)
		got, err := NewBootConfig(f)
		if err != nil || got != tc.want {
			t.Errorf("%s: got %+v (%v), want %+v", name, got, err, tc.want)
		}
	}
}

func TestNewBootConfigRefuses(t *testing.T) {
	for name, tc := range map[string]struct {
		set  func(*BootConfigFlags)
		want string
	}{
		"bad IP":         {func(f *BootConfigFlags) { f.PublishHostIPs = []string{"1.2.3.invalidIP", "::1"} }, `--publish-host-ip "1.2.3.invalidIP" is not an IP address`},
		"unknown option": {func(f *BootConfigFlags) { f.DockerOptions = []string{"add_host=a:b"} }, "--add_host a:b: ship cannot pass this option"},
		"bad value":      {func(f *BootConfigFlags) { f.DockerOptions = []string{"memory=lots"} }, "--memory lots"},
	} {
		f := NewBootConfigFlags()
		tc.set(&f)
		if _, err := NewBootConfig(f); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
}

// What boot_config get prints: Kamal's defaults where a file is absent.
func TestBootConfigString(t *testing.T) {
	if got := (BootConfig{}).String(); got != "--publish 80:80 --publish 443:443 --log-opt max-size=10m basecamp/kamal-proxy:v0.9.2 " {
		t.Errorf("default = %q", got)
	}
	b := BootConfig{Options: "--publish 8080:80 --publish 8443:443", Image: "myreg/basecamp/kamal-proxy", Version: "v0.9.1", RunCommand: "kamal-proxy run --debug"}
	if got := b.String(); got != "--publish 8080:80 --publish 8443:443 myreg/basecamp/kamal-proxy:v0.9.1 kamal-proxy run --debug" {
		t.Errorf("set = %q", got)
	}
}

// With no boot config, ship boots kamal-proxy as with no proxy.run.
func TestBootConfigRunDefault(t *testing.T) {
	got, err := BootConfig{}.Run()
	if err != nil {
		t.Fatal(err)
	}
	want := proxyRun(t, "")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("default boot config runs\n%+v\nwant %+v", got, want)
	}
}

func TestBootConfigRun(t *testing.T) {
	f := NewBootConfigFlags()
	f.HTTPPort, f.HTTPSPort, f.PublishHostIPs, f.LogMaxSize = 8080, 8443, []string{"127.0.0.1", "::1"}, "30m"
	f.Registry, f.ImageVersion, f.MetricsPort, f.Debug = "registry:4443", "v0.9.1", 9090, true
	f.DockerOptions = []string{"label=team=web", "memory=512m", "cpus=0.5"}
	b, err := NewBootConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.Run()
	if err != nil {
		t.Fatal(err)
	}
	want := config.ProxyRun{
		Image: "registry:4443/basecamp/kamal-proxy:v0.9.1", HTTPPort: 8080, HTTPSPort: 8443, Publish: true,
		BindIPs: []string{"127.0.0.1", "::1"}, LogMaxSize: "30m", MetricsPort: 9090, Debug: true,
		Options: config.RunOptions{{Name: "memory", Values: []string{"512m"}}, {Name: "cpus", Values: []string{"0.5"}}},
		Labels:  map[string]string{"team": "web"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("boot config %+v runs\n%+v\nwant %+v", b, got, want)
	}
	// And the same as proxy.run says it.
	fromYAML := proxyRun(t, `proxy:
  run:
    http_port: 8080
    https_port: 8443
    bind_ips: [127.0.0.1, "::1"]
    log_max_size: 30m
    registry: registry:4443
    version: v0.9.1
    metrics_port: 9090
    debug: true
    options:
      label: team=web
      memory: 512m
      cpus: 0.5
`)
	fromYAML.Configured = false
	if !reflect.DeepEqual(fromYAML, want) {
		t.Errorf("proxy.run gives\n%+v\nwant %+v", fromYAML, want)
	}
}

// A boot config written by hand, or by a Kamal ship does not follow, is
// refused with the option named.
func TestBootConfigRunRefuses(t *testing.T) {
	for _, tc := range []struct {
		b    BootConfig
		want string
	}{
		{BootConfig{Options: "--publish 80:80 --volume /x:/y"}, "--volume /x:/y: ship cannot pass this option"},
		{BootConfig{Options: "--publish"}, "--publish needs a value"},
		{BootConfig{Options: "publish 80:80"}, `"publish" is not an option`},
		{BootConfig{RunCommand: "kamal-proxy run --http-port 81"}, "--http-port is not an option ship passes"},
		{BootConfig{RunCommand: "traefik"}, "want kamal-proxy run"},
	} {
		if _, err := tc.b.Run(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", tc.b, err, tc.want)
		}
	}
}

// proxy.run.options go onto the container after Kamal's own settings;
// labels never replace ship's.
func TestSpecRunOptions(t *testing.T) {
	run := proxyRun(t, "proxy:\n  run:\n    options:\n      memory: 512m\n      label: [ship.proxy=no, team=web]\n      cpus: 0.5\n")
	cc, hc, _, err := Spec(run)
	if err != nil {
		t.Fatal(err)
	}
	if hc.Memory != 512*1024*1024 || hc.NanoCPUs != 500_000_000 {
		t.Errorf("memory %d, cpus %d", hc.Memory, hc.NanoCPUs)
	}
	if cc.Labels[LabelManaged] != "true" || cc.Labels["team"] != "web" {
		t.Errorf("labels = %v", cc.Labels)
	}
}

// bootconfig-read.sh's records: "n" for a file that is absent, "y" and
// the content for one that exists (empty included).
func TestParseBootConfig(t *testing.T) {
	got, err := parseBootConfig("y--publish 8080:80\x00n\x00yv0.9.1\x00n\x00")
	if want := (BootConfig{Options: "--publish 8080:80", Version: "v0.9.1"}); err != nil || got != want {
		t.Errorf("got %+v (%v), want %+v", got, err, want)
	}
	if got, err := parseBootConfig("n\x00n\x00n\x00n\x00"); err != nil || got != (BootConfig{}) {
		t.Errorf("no files: %+v (%v)", got, err)
	}
	for _, bad := range []string{"", "n\x00n\x00", "n\x00n\x00x\x00n\x00"} {
		if _, err := parseBootConfig(bad); err == nil {
			t.Errorf("parseBootConfig(%q) accepted", bad)
		}
	}
}
