package benchkit

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/internal/testhost"
)

// AppConfig loads as ship reads it, the role's and top-level keys in
// their places, every known-hosts file trusted.
func TestAppConfigLoads(t *testing.T) {
	dir := t.TempDir()
	h := &testhost.Host{Addr: "10.99.0.2:22", KeyPath: "/k", KnownHostsPath: "/kh1"}
	yml := AppConfig("bench-app", h, "bench_app_data", "    options:\n      publish: 127.0.0.1:3989:3000\n", "healthcheck:\n  path: /up\n  port: 3000\n", "/kh2")
	file := filepath.Join(dir, "config", "deploy.yml")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, ".ship"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".ship", "secrets"), []byte("APP_SECRET=s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir) // where ship runs, and finds .ship/secrets
	c, err := config.Load(config.Options{File: file})
	if err != nil {
		t.Fatalf("%v\n%s", err, yml)
	}
	web := c.Role("web")
	if c.Service != "bench-app" || web == nil || web.Hosts[0].Address != h.Addr || !slices.Equal(web.Options.Get("publish"), []string{"127.0.0.1:3989:3000"}) ||
		c.Healthcheck.Path != "/up" || !slices.Equal(c.SSH.KnownHosts, []string{"/kh1", "/kh2"}) || c.Volumes[0].Source != "bench_app_data" || c.Volumes[0].Target != "/data" {
		t.Errorf("loaded %+v from:\n%s", c, yml)
	}
}
