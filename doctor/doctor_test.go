package doctor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
)

// target is a Target on host h1 of a small config, logging in as user;
// nothing is connected.
func target(t *testing.T, user string) *Target {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "config", "deploy.yml")
	os.MkdirAll(filepath.Dir(file), 0o755)
	os.WriteFile(file, []byte("service: shop\nimage: acme/shop\nservers:\n  web: [h1]\nvolumes: [shop_data:/data, /srv/files:/files:ro]\nssh:\n  user: "+user+"\n"), 0o644)
	c, err := config.Load(config.Options{File: file})
	if err != nil {
		t.Fatal(err)
	}
	return &Target{Host: &host.Host{Name: "h1"}, Config: c, Roles: c.Roles, Now: time.Now, MinFree: 5}
}

func TestFixesRunOnTheHost(t *testing.T) {
	tg := target(t, "deploy")
	if got := tg.asRoot("du -xsh '/a b'"); got != `ship server exec -h h1 'sudo du -xsh '\''/a b'\'` {
		t.Errorf("asRoot = %s", got)
	}
	if got := target(t, "root").asRoot("df"); got != "ship server exec -h h1 df" {
		t.Errorf("asRoot as root = %s", got)
	}
	if !strings.HasPrefix(tg.exec("docker ps"), "ship server exec -h h1 'docker ps'") {
		t.Errorf("exec = %s", tg.exec("docker ps"))
	}
}
