package follower

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/database"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/internal/testshell"
)

// localCopy is a copy at data/app.db in a volume root on this machine,
// with a host whose shell runs here (the scripts need root, or sudo).
func localCopy(t *testing.T) (*host.Host, database.DB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the copy's scripts run as root")
	}
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Skip("no sqlite3 on this machine")
	}
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	h := &host.Host{Name: "local", Shell: testshell.Local{Home: t.TempDir()}}
	return h, database.DB{Path: "/data/app.db", HostPath: filepath.Join(root, "data", "app.db"), Root: root, Rel: "data/app.db"}
}

// walFile makes a WAL-mode database with a row, as a first restore is.
func walFile(t *testing.T, file string) {
	t.Helper()
	out, err := exec.Command("sqlite3", file, "PRAGMA journal_mode=WAL; CREATE TABLE t (v); INSERT INTO t VALUES (42);").CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3: %v\n%s", err, out)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// Preparing a restored WAL-mode file leaves a rollback-mode file with its
// rows, and beside it only DB-txid in Litestream's form; the position
// reads back what was written; clearing leaves nothing.
func TestPrepareCopy(t *testing.T) {
	h, db := localCopy(t)
	ctx := context.Background()
	if p, err := readPosition(ctx, h, db); err != nil || !p.Empty() {
		t.Fatalf("position of no copy: %+v, %v", p, err)
	}
	walFile(t, db.HostPath)
	if p, err := readPosition(ctx, h, db); err != nil || !p.Exists || p.Prepared() {
		t.Fatalf("position of a copy without DB-txid: %+v, %v", p, err)
	}
	if err := makeRollback(ctx, h, db, 0x2a); err != nil {
		t.Fatal(err)
	}
	hdr := make([]byte, 20)
	f, err := os.Open(db.HostPath)
	if err != nil {
		t.Fatal(err)
	}
	f.ReadAt(hdr, 0)
	f.Close()
	if hdr[18] != 1 || hdr[19] != 1 {
		t.Errorf("write/read version %d/%d, want 1/1", hdr[18], hdr[19])
	}
	if got, _ := os.ReadFile(db.HostPath + "-txid"); string(got) != "000000000000002a\n" {
		t.Errorf("DB-txid holds %q", got)
	}
	if names := dirNames(t, filepath.Dir(db.HostPath)); !slices.Equal(names, []string{"app.db", "app.db-txid"}) {
		t.Errorf("beside the copy: %v", names)
	}
	out, err := exec.Command("sqlite3", "file:"+db.HostPath+"?mode=ro", "SELECT v FROM t").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "42" {
		t.Errorf("read-only read of the prepared copy: %v %s", err, out)
	}
	if p, err := readPosition(ctx, h, db); err != nil || !p.Prepared() || p.TXID != 0x2a {
		t.Errorf("position of the prepared copy: %+v, %v", p, err)
	}

	for _, left := range []string{"app.db.tmp", "app.db-txid.tmp"} {
		os.WriteFile(filepath.Join(filepath.Dir(db.HostPath), left), nil, 0o644)
	}
	if err := clearCopy(ctx, h, db); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, filepath.Dir(db.HostPath)); len(names) != 0 {
		t.Errorf("after clearing: %v", names)
	}
}

// The scripts refuse a link where the copy is: root would follow it out
// of the volume.
func TestCopyRefusesLinks(t *testing.T) {
	h, db := localCopy(t)
	ctx := context.Background()
	outside := filepath.Join(t.TempDir(), "shadow")
	os.WriteFile(outside, []byte("keep"), 0o644)
	if err := os.Symlink(outside, db.HostPath+"-txid"); err != nil {
		t.Fatal(err)
	}
	walFile(t, db.HostPath)
	for name, err := range map[string]error{
		"position": func() error { _, err := readPosition(ctx, h, db); return err }(),
		"prepare":  makeRollback(ctx, h, db, 1),
		"clear":    clearCopy(ctx, h, db),
	} {
		if err == nil || !strings.Contains(err.Error(), "symbolic link") {
			t.Errorf("%s followed a planted link: %v", name, err)
		}
	}
	if got, _ := os.ReadFile(outside); string(got) != "keep" {
		t.Errorf("the link's target now holds %q", got)
	}
}

// A missing directory is no copy, and clearing it does nothing.
func TestNoCopyDirectory(t *testing.T) {
	h, db := localCopy(t)
	db.Rel = "deeper/app.db"
	db.HostPath = filepath.Join(db.Root, db.Rel)
	if p, err := readPosition(context.Background(), h, db); err != nil || !p.Empty() {
		t.Errorf("position in a missing directory: %+v, %v", p, err)
	}
	if err := clearCopy(context.Background(), h, db); err != nil {
		t.Errorf("clear in a missing directory: %v", err)
	}
}

func TestParsePosition(t *testing.T) {
	for in, want := range map[string]position{
		"no -\n":                 {},
		"yes -\n":                {Exists: true},
		"yes 000000000000000a\n": {Exists: true, TXID: 10},
		"no 0000000000000003\n":  {TXID: 3},
	} {
		if got, err := parsePosition(in); err != nil || got != want {
			t.Errorf("parsePosition(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "maybe -", "yes", "yes 12"} {
		if _, err := parsePosition(bad); err == nil {
			t.Errorf("parsePosition(%q) accepted it", bad)
		}
	}
}
