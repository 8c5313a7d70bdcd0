package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// deploy.example.yml documents every key; it must itself be a valid config.
func TestDeployExampleLoads(t *testing.T) {
	c, err := loadExample(t, exampleSource(t))
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

// The example's commented replica role and writer_affinity_timeout load
// as they are written once uncommented.
func TestDeployExampleReplicas(t *testing.T) {
	lines := strings.Split(exampleSource(t), "\n")
	uncommented, block := 0, false
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "  # replicas:"), strings.HasPrefix(l, "  # writer_affinity_timeout:"):
			block = strings.HasPrefix(l, "  # replicas:")
		case block && strings.HasPrefix(l, "  #   "):
		default:
			block = false
			continue
		}
		lines[i] = "  " + l[len("  # "):]
		uncommented++
	}
	if uncommented != 4 {
		t.Fatalf("uncommented %d lines, want the replicas role's 3 and writer_affinity_timeout", uncommented)
	}
	c, err := loadExample(t, strings.Join(lines, "\n"))
	if err != nil {
		t.Fatalf("the example's replica role does not load:\n%v", err)
	}
	r := c.Role("replicas")
	if r == nil || r.ReplicaOf != "web" || len(r.Hosts) != 2 || r.Proxy != nil || c.Role("web").Proxy.WriterAffinityTimeout != time.Second {
		t.Errorf("replicas %+v, web's proxy %+v", r, c.Role("web").Proxy)
	}
	for _, w := range c.Warnings {
		if strings.Contains(w.Path, "replica") || strings.Contains(w.Path, "litestream") || strings.Contains(w.Path, "writer_affinity") {
			t.Errorf("warning: %v", w)
		}
	}
}

func exampleSource(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("../deploy.example.yml")
	if err != nil {
		t.Fatal(err)
	}
	return string(src)
}

// loadExample loads src as config/deploy.yml beside the files and
// secrets deploy.example.yml names.
func loadExample(t *testing.T, src string) (*Config, error) {
	t.Helper()
	dir := write(t, map[string]string{
		"config/deploy.yml":   src,
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
	return Load(Options{File: filepath.Join(dir, "config/deploy.yml")})
}
