package database

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
)

// HostStatuses reads each database ship knows on the host, and a missing
// one as missing.
func TestHostStatuses(t *testing.T) {
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Skip("no sqlite3 here")
	}
	dir := t.TempDir()
	vol := filepath.Join(dir, "data")
	os.Mkdir(vol, 0o755)
	if out, err := exec.Command("sqlite3", filepath.Join(vol, "app.sqlite3"), "PRAGMA journal_mode=WAL; CREATE TABLE t(x);").CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	file := filepath.Join(dir, "deploy.yml")
	os.WriteFile(file, []byte("service: shop\nimage: acme/shop\nservers:\n  web: [h1]\n"+
		"volumes: ["+vol+":/data]\ndatabases: [/data/app.sqlite3, /data/queue.sqlite3]\n"), 0o644)
	c, err := config.Load(config.Options{File: file})
	if err != nil {
		t.Fatal(err)
	}
	h := &host.Host{Name: "h1", Shell: stubShell{path: os.Getenv("PATH")}}
	got, err := HostStatuses(context.Background(), h, c, []string{"web"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d statuses, want one per database: %+v", len(got), got)
	}
	app, queue := got[0], got[1]
	if app.Database != "/data/app.sqlite3" || !app.Exists || app.JournalMode != "wal" || app.Size == 0 || app.HostPath != filepath.Join(vol, "app.sqlite3") {
		t.Errorf("app: %+v", app)
	}
	if queue.Database != "/data/queue.sqlite3" || queue.Exists {
		t.Errorf("queue: %+v", queue)
	}
}
