package proxy

import (
	"reflect"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/go-connections/nat"

	"github.com/shipdeploy/ship/config"
)

// proxyRun is the proxy.run the loader makes of deploy.yml's proxy section.
func proxyRun(t *testing.T, proxySection string) config.ProxyRun {
	t.Helper()
	return loadConfig(t, "service: shop\nimage: acme/shop\nservers: [10.0.0.1]\n"+proxySection, "").ProxyRun
}

// kamalContainer is the container Kamal boots with its defaults, with
// ports and extra flags left to each test.
func kamalContainer() (*container.Config, *container.HostConfig) {
	cc := &container.Config{
		Image:        "basecamp/kamal-proxy:v0.9.2",
		Cmd:          []string{"kamal-proxy", "run"},
		Labels:       map[string]string{"ship.proxy": "true"},
		ExposedPorts: nat.PortSet{"80/tcp": {}, "443/tcp": {}},
	}
	hc := &container.HostConfig{
		NetworkMode:   "kamal",
		RestartPolicy: container.RestartPolicy{Name: "unless-stopped"},
		Binds: []string{
			"kamal-proxy-config:/home/kamal-proxy/.config/kamal-proxy",
			"kamal-proxy-apps-config:/home/kamal-proxy/.apps-config",
		},
		LogConfig:    container.LogConfig{Config: map[string]string{"max-size": "10m"}},
		PortBindings: nat.PortMap{},
	}
	return cc, hc
}

func checkSpec(t *testing.T, run config.ProxyRun, wantCC *container.Config, wantHC *container.HostConfig) {
	t.Helper()
	cc, hc, nc, err := Spec(run)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cc, wantCC) {
		t.Errorf("container config:\n got %+v\nwant %+v", cc, wantCC)
	}
	if !reflect.DeepEqual(hc, wantHC) {
		t.Errorf("host config:\n got %+v\nwant %+v", hc, wantHC)
	}
	if nc != nil {
		t.Errorf("networking config = %+v, want none: the network mode attaches the container", nc)
	}
}

func TestSpecDefaults(t *testing.T) {
	for name, section := range map[string]string{
		"no proxy section":  "",
		"proxy without run": "proxy:\n  host: shop.example.com\n",
	} {
		t.Run(name, func(t *testing.T) {
			cc, hc := kamalContainer()
			hc.PortBindings = nat.PortMap{
				"80/tcp":  {{HostIP: "", HostPort: "80"}},
				"443/tcp": {{HostIP: "", HostPort: "443"}},
			}
			checkSpec(t, proxyRun(t, section), cc, hc)
		})
	}
}

func TestSpecPorts(t *testing.T) {
	cc, hc := kamalContainer()
	hc.PortBindings = nat.PortMap{
		"80/tcp":  {{HostPort: "8080"}},
		"443/tcp": {{HostPort: "8443"}},
	}
	checkSpec(t, proxyRun(t, "proxy:\n  run:\n    http_port: 8080\n    https_port: 8443\n"), cc, hc)
}

func TestSpecNoPublish(t *testing.T) {
	cc, hc := kamalContainer()
	checkSpec(t, proxyRun(t, "proxy:\n  run:\n    publish: false\n"), cc, hc)
}

func TestSpecBindIPs(t *testing.T) {
	cc, hc := kamalContainer()
	hc.PortBindings = nat.PortMap{
		"80/tcp":  {{HostIP: "127.0.0.1", HostPort: "80"}, {HostIP: "10.0.0.5", HostPort: "80"}, {HostIP: "::1", HostPort: "80"}},
		"443/tcp": {{HostIP: "127.0.0.1", HostPort: "443"}, {HostIP: "10.0.0.5", HostPort: "443"}, {HostIP: "::1", HostPort: "443"}},
	}
	checkSpec(t, proxyRun(t, "proxy:\n  run:\n    bind_ips: [127.0.0.1, 10.0.0.5, \"::1\"]\n"), cc, hc)
}

func TestSpecMetricsDebugImageLogs(t *testing.T) {
	cc, hc := kamalContainer()
	cc.Image = "registry.example.com/mirror/kamal-proxy:v0.9.3"
	cc.Cmd = []string{"kamal-proxy", "run", "--debug", "--metrics-port=9090"}
	cc.ExposedPorts = nat.PortSet{"80/tcp": {}, "443/tcp": {}, "9090/tcp": {}}
	hc.LogConfig.Config = map[string]string{"max-size": "50m"}
	hc.PortBindings = nat.PortMap{
		"80/tcp":  {{HostPort: "80"}},
		"443/tcp": {{HostPort: "443"}},
	}
	checkSpec(t, proxyRun(t, `proxy:
  run:
    registry: registry.example.com
    repository: mirror/kamal-proxy
    version: v0.9.3
    metrics_port: 9090
    debug: true
    log_max_size: 50m
`), cc, hc)
}

// An empty log_max_size leaves the engine's default logging alone, as
// Kamal passes no --log-opt then.
func TestSpecNoLogMaxSize(t *testing.T) {
	cc, hc := kamalContainer()
	hc.LogConfig = container.LogConfig{}
	hc.PortBindings = nat.PortMap{
		"80/tcp":  {{HostPort: "80"}},
		"443/tcp": {{HostPort: "443"}},
	}
	checkSpec(t, proxyRun(t, "proxy:\n  run:\n    log_max_size: \"\"\n"), cc, hc)
}

func TestSettled(t *testing.T) {
	now := time.Date(2026, 12, 6, 5, 0, 10, 0, time.UTC)
	for _, tc := range []struct {
		startedAt string
		want      bool
	}{
		{"2026-12-06T05:00:00.123456789Z", true}, // ten seconds ago
		{"2026-12-06T05:00:08.5Z", false},        // just started
		{"", false},                              // unreadable: ask
	} {
		if got := settled(tc.startedAt, now); got != tc.want {
			t.Errorf("settled(%q) = %v, want %v", tc.startedAt, got, tc.want)
		}
	}
}
