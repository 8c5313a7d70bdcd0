package database

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
)

// Ownerships reads the owner and mode of a database's directory and of its
// files that exist, and refuses a planted link rather than follow it.
func TestOwnerships(t *testing.T) {
	dir := t.TempDir()
	vol := filepath.Join(dir, "data")
	os.MkdirAll(filepath.Join(vol, "db"), 0o750)
	os.WriteFile(filepath.Join(vol, "db", "app.sqlite3"), []byte("x"), 0o640)
	os.WriteFile(filepath.Join(vol, "db", "app.sqlite3-wal"), []byte("x"), 0o600)
	os.Chown(filepath.Join(vol, "db", "app.sqlite3-wal"), 1000, 1000)
	file := filepath.Join(dir, "deploy.yml")
	os.WriteFile(file, []byte("service: shop\nimage: acme/shop\nservers: [h1]\nvolumes: ["+vol+":/data]\ndatabases: [/data/db/app.sqlite3]\n"), 0o644)
	c, err := config.Load(config.Options{File: file})
	if err != nil {
		t.Fatal(err)
	}
	h := &host.Host{Name: "h1", Shell: stubShell{path: os.Getenv("PATH")}}
	got, err := Ownerships(context.Background(), h, c, []string{"web"})
	if err != nil || len(got) != 1 {
		t.Fatalf("%+v, %v", got, err)
	}
	o := got[0]
	if o.Database != "/data/db/app.sqlite3" || o.Dir.HostPath != filepath.Join(vol, "db") || o.Dir.Mode != 0o750 || o.Dir.UID != os.Getuid() {
		t.Errorf("the directory: %+v", o)
	}
	if len(o.Files) != 2 || o.Files[0].HostPath != filepath.Join(vol, "db", "app.sqlite3") || o.Files[0].Mode != 0o640 ||
		o.Files[1].HostPath != filepath.Join(vol, "db", "app.sqlite3-wal") || o.Files[1].Mode != 0o600 {
		t.Errorf("the files: %+v", o.Files)
	}
	if os.Getuid() == 0 && (len(o.Files) != 2 || o.Files[1].UID != 1000) {
		t.Errorf("the WAL's owner: %+v", o.Files)
	}

	outside := filepath.Join(dir, "outside")
	os.WriteFile(outside, nil, 0o600)
	os.Symlink(outside, filepath.Join(vol, "db", "app.sqlite3-shm"))
	if _, err := Ownerships(context.Background(), h, c, []string{"web"}); err == nil || !strings.Contains(err.Error(), "refusing to follow") {
		t.Errorf("a planted link: %v", err)
	}
}
