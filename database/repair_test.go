package database

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
)

// noContainers is an engine that runs nothing.
type noContainers struct{ client.APIClient }

func (noContainers) ContainerList(context.Context, container.ListOptions) ([]container.Summary, error) {
	return nil, nil
}

// repairHost is this machine as a host whose engine runs nothing.
func repairHost(t *testing.T) *host.Host {
	h := localHost(t)
	h.Docker = noContainers{}
	return h
}

// twoDatabases is a volume with two databases' files, as plain content.
func twoDatabases(t *testing.T) (string, []DB) {
	t.Helper()
	volume := t.TempDir()
	var dbs []DB
	for _, name := range []string{"a.db", "b.db"} {
		rel := "storage/" + name
		dbs = append(dbs, DB{Path: "/data/" + rel, HostPath: filepath.Join(volume, rel), Root: volume, Rel: rel})
	}
	return volume, dbs
}

// repairAfterKill writes j as the journal a killed ship left, runs
// RepairData and checks that it cleared the journal.
func repairAfterKill(t *testing.T, h *host.Host, j replacement) string {
	t.Helper()
	ctx := context.Background()
	c := &config.Config{Service: "repairtest"}
	if err := writeJournal(ctx, h, c, j); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := RepairData(ctx, h, c, &out); err != nil {
		t.Fatalf("RepairData: %v\n%s", err, out.String())
	}
	if left, err := readJournal(ctx, h, c); err != nil || left != nil {
		t.Errorf("the journal after the repair: %+v, %v", left, err)
	}
	return out.String()
}

// Killed while filling: one database has a half-restored file in its
// place, the other nothing yet. Both get their own files back, and the
// half-restored one is gone.
func TestRepairDataKilledWhileFilling(t *testing.T) {
	h := repairHost(t)
	volume, dbs := twoDatabases(t)
	writeFiles(t, volume, map[string]string{
		"storage/a.db.before-restore-1/a.db":     "a's own",
		"storage/a.db.before-restore-1/a.db-wal": "a's committed writes",
		"storage/a.db":                           "half restored",
		"storage/b.db.before-restore-1/b.db":     "b's own",
	})
	out := repairAfterKill(t, h, replacement{Why: "before-restore-1", Phase: filling, Databases: dbs})
	checkFiles(t, volume, map[string]string{"storage/a.db": "a's own", "storage/a.db-wal": "a's committed writes", "storage/b.db": "b's own"})
	if got := listDir(t, filepath.Join(volume, "storage")); strings.Join(got, " ") != "a.db a.db-wal b.db" {
		t.Errorf("after the repair the directory holds %q", got)
	}
	if !strings.Contains(out, "putting each back") {
		t.Errorf("the repair does not say what it does:\n%s", out)
	}
}

// Killed while setting aside: a's file moved, its WAL not yet; b not
// touched. Nothing is removed: the WAL in place is a's own.
func TestRepairDataKilledWhileSettingAside(t *testing.T) {
	h := repairHost(t)
	volume, dbs := twoDatabases(t)
	files := map[string]string{
		"storage/a.db.set-aside-1/a.db": "a's own",
		"storage/a.db-wal":              "a's committed writes",
		"storage/b.db":                  "b's own",
	}
	writeFiles(t, volume, files)
	repairAfterKill(t, h, replacement{Why: "set-aside-1", Phase: settingAside, Databases: dbs})
	checkFiles(t, volume, map[string]string{"storage/a.db": "a's own", "storage/a.db-wal": "a's committed writes", "storage/b.db": "b's own"})
	if got := listDir(t, filepath.Join(volume, "storage")); strings.Join(got, " ") != "a.db a.db-wal b.db" {
		t.Errorf("after the repair the directory holds %q", got)
	}
}

// No journal: nothing to repair, and nothing is touched.
func TestRepairDataNothingLeft(t *testing.T) {
	h := repairHost(t)
	volume, _ := twoDatabases(t)
	writeFiles(t, volume, map[string]string{"storage/a.db.set-aside-1/a.db": "kept aside on purpose"})
	var out bytes.Buffer
	if err := RepairData(context.Background(), h, &config.Config{Service: "repairtest"}, &out); err != nil || out.Len() > 0 {
		t.Fatalf("RepairData = %v, %q", err, out.String())
	}
	checkFiles(t, volume, map[string]string{"storage/a.db.set-aside-1/a.db": "kept aside on purpose"})
}

// A volume removed since the kill leaves nothing to put back: the repair
// says nothing of it, clears the journal, and the next commands run.
func TestRepairDataVolumeGone(t *testing.T) {
	h := repairHost(t)
	_, dbs := twoDatabases(t)
	for i := range dbs {
		dbs[i].Root = filepath.Join(t.TempDir(), "removed")
	}
	repairAfterKill(t, h, replacement{Why: "before-restore-1", Phase: filling, Databases: dbs})
}
