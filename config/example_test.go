package config

import (
	"os"
	"path/filepath"
	"testing"
)

// deploy.example.yml documents every key; it must itself be a valid config.
func TestDeployExampleLoads(t *testing.T) {
	src, err := os.ReadFile("../deploy.example.yml")
	if err != nil {
		t.Fatal(err)
	}
	dir := write(t, map[string]string{
		"config/deploy.yml":   string(src),
		"config/dbviewer.css": "body {}\n",
		".ship/secrets": `KAMAL_REGISTRY_PASSWORD=pw
RAILS_MASTER_KEY=mk
STOREFRONT_DATABASE_KEY=dk
LITESTREAM_ACCESS_KEY_ID=id
LITESTREAM_SECRET_ACCESS_KEY=secret
SQLITE_WEB_PASSWORD=pw
SSH_PRIVATE_KEY=key
`,
	})
	c, err := Load(Options{File: filepath.Join(dir, "config/deploy.yml")})
	if err != nil {
		t.Fatalf("deploy.example.yml does not load:\n%v", err)
	}
	if c.Role("web").Proxy == nil || c.Role("job").Proxy != nil {
		t.Errorf("proxy: web %v job %v", c.Role("web").Proxy, c.Role("job").Proxy)
	}
	if c.Volumes[1].Owner != "1000:1000" || c.Litestream.Replica.AccessKeyID.Value.Reveal() != "id" {
		t.Errorf("volumes %+v litestream %+v", c.Volumes, c.Litestream)
	}
}
