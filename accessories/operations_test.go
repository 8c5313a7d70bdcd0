package accessories

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/internal/testshell"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
)

// Directories and Upload each do their half of what boot does, and say
// what they did.
func TestDirectoriesAndUpload(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "config"), 0o755)
	os.WriteFile(filepath.Join(root, "config/hello.txt"), []byte("hello\n"), 0o644)
	file := filepath.Join(root, "config/deploy.yml")
	os.WriteFile(file, []byte(base+`accessories:
  worker:
    image: acme/worker
    host: 10.0.0.1
    files:
      - config/hello.txt:/etc/hello.txt
    directories:
      - scratch:/scratch
  bare:
    image: acme/bare
    host: 10.0.0.1
`), 0o644)
	c, err := config.Load(config.Options{File: file})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	home := t.TempDir()
	h := &host.Host{Name: "10.0.0.1", Shell: testshell.Local{Home: home}}
	dir := filepath.Join(home, ".ship", "apps", "shop", "accessories", "worker")
	worker, bare := c.Accessories[0], c.Accessories[1]

	var out strings.Builder
	if err := Directories(ctx, h, c, worker, &out); err != nil {
		t.Fatal(err)
	}
	scratch := filepath.Join(dir, "directories", "scratch")
	if fi, err := os.Stat(scratch); err != nil || !fi.IsDir() || out.String() != "created directory "+scratch+"\n" {
		t.Errorf("directories: %v, said %q", err, out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "files")); !os.IsNotExist(err) {
		t.Errorf("directories uploaded files: %v", err)
	}
	out.Reset()
	Directories(ctx, h, c, worker, &out)
	if out.String() != "directory "+scratch+" is in place\n" {
		t.Errorf("second directories said %q", out.String())
	}

	out.Reset()
	if err := Upload(ctx, h, c, worker, &out); err != nil {
		t.Fatal(err)
	}
	uploaded := filepath.Join(dir, "files", "etc", "hello.txt")
	if b, err := os.ReadFile(uploaded); err != nil || string(b) != "hello\n" || out.String() != "uploaded "+uploaded+" (mounted at /etc/hello.txt)\n" {
		t.Errorf("upload: %q %v, said %q", b, err, out.String())
	}

	out.Reset()
	Upload(ctx, h, c, bare, &out)
	Directories(ctx, h, c, bare, &out)
	if out.String() != "accessory bare has no files\naccessory bare has no directories\n" {
		t.Errorf("an accessory without files or directories: %q", out.String())
	}
}
