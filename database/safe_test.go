package database

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/internal/testproc"
)

// canary is a directory outside the volume that planted links point at,
// with a file and a subdirectory; nothing may change in it.
type canary struct{ dir, before string }

func newCanary(t *testing.T) *canary {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "canary")
	writeFiles(t, dir, map[string]string{"precious": "do not touch\n", "sub/keep": "nor this\n", "app.db": "not a database\n"})
	return &canary{dir: dir, before: testproc.Tree(t, dir)}
}

// unchanged fails the test if anything in the canary was added, removed,
// changed, or had its mode or owner changed.
func (c *canary) unchanged(t *testing.T) {
	t.Helper()
	if now := testproc.Tree(t, c.dir); now != c.before {
		t.Errorf("the canary outside the volume changed:\nbefore:\n%s\nafter:\n%s", c.before, now)
	}
}

// plant puts a symbolic link at name in the volume, to target.
func plant(t *testing.T, volume, name, target string) {
	t.Helper()
	p := filepath.Join(volume, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

// Every script that works in the volume as root refuses a link that the
// app planted where ship looks, naming it, or moves or removes the link
// itself; none follows it out of the volume.
func TestScriptsNeverFollowPlantedLinks(t *testing.T) {
	needSQLite3(t)
	tests := []struct {
		name   string
		plant  map[string]string // path in the volume -> "canary" or "canary/FILE"
		script string
		more   []string
		// refused is the link the script must name; "" means it must
		// succeed without following anything.
		refused string
	}{
		{"record: .ship", map[string]string{".ship": "canary"}, recordScript, []string{"v1", "2"}, ".ship"},
		{"record: restore-points", map[string]string{".ship/restore-points": "canary"}, recordScript, []string{"v1", "2"}, ".ship/restore-points"},
		{"record: the version's directory", map[string]string{".ship/restore-points/v1": "canary"}, recordScript, []string{"v1", "2"}, ".ship/restore-points/v1"},
		{"record: the WAL", map[string]string{"app.db-wal": "canary/precious"}, recordScript, []string{"v1", "2"}, "app.db-wal"},
		{"record: the shared memory", map[string]string{"app.db-shm": "canary/precious"}, recordScript, []string{"v1", "2"}, "app.db-shm"},
		{"record: prune removes links, not what they point to", map[string]string{
			".ship/restore-points/old1": "canary", ".ship/restore-points/old2": "canary/sub", ".ship/restore-points/old3": "canary/precious",
		}, recordScript, []string{"v1", "1"}, ""},
		{"set aside: the destination", map[string]string{"app.db.set-aside-1": "canary"}, setAsideScript, []string{"app.db.set-aside-1"}, "app.db.set-aside-1"},
		{"set aside: Litestream's directory moves as a link", map[string]string{".app.db-litestream": "canary"}, setAsideScript, []string{"app.db.set-aside-1"}, ""},
		{"put back: the directory set aside", map[string]string{"app.db.before-restore-1": "canary"}, putBackScript, []string{"app.db.before-restore-1"}, "app.db.before-restore-1"},
		{"own like: the reference", map[string]string{"aside/app.db": "canary/precious"}, ownLikeScript, []string{"aside/app.db"}, ""},
		{"status: the WAL", map[string]string{"app.db-wal": "canary/precious"}, statScript, nil, "app.db-wal"},
		{"owner: the WAL", map[string]string{"app.db-wal": "canary/precious"}, ownerScript, nil, "app.db-wal"},
		{"owner: the shared memory", map[string]string{"app.db-shm": "canary/precious"}, ownerScript, nil, "app.db-shm"},
		{"count: the WAL", map[string]string{"app.db-wal": "canary/precious"}, countScript, nil, "app.db-wal"},
		{"integrity: the shared memory", map[string]string{"app.db-shm": "canary/precious"}, integrityScript, nil, "app.db-shm"},
		{"restore points: .ship", map[string]string{".ship": "canary"}, pointScript, nil, ".ship"},
		{"put back a restore point: the version's directory", map[string]string{".ship/restore-points/v1": "canary"}, pointScript, []string{"v1"}, ".ship/restore-points/v1"},
		{"schema: the WAL", map[string]string{"app.db-wal": "canary/precious"}, schemaScript, []string{"v1"}, "app.db-wal"},
		{"schema: the restore point's directory", map[string]string{".ship/restore-points/v1": "canary"}, schemaScript, []string{"v1"}, ".ship/restore-points/v1"},
		{"schema: the restore point's copy", map[string]string{".ship/restore-points/v1/app.db": "canary/app.db"}, schemaScript, []string{"v1"}, ".ship/restore-points/v1/app.db"},
		{"set aside a failed start: the destination", map[string]string{"app.db.failed-v2-1": "canary"}, setAsideScript, []string{"app.db.failed-v2-1"}, "app.db.failed-v2-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCanary(t)
			volume := filepath.Join(t.TempDir(), "volume")
			if err := os.MkdirAll(volume, 0o755); err != nil {
				t.Fatal(err)
			}
			db := filepath.Join(volume, "app.db")
			if tt.script != pointScript || len(tt.more) == 0 {
				sqlite(t, db, "CREATE TABLE t(x); INSERT INTO t VALUES (1);")
			}
			for name, target := range tt.plant {
				plant(t, volume, name, strings.Replace(target, "canary", c.dir, 1))
			}
			out, stderr, err := runInVolume(t, tt.script, db, tt.more...)
			c.unchanged(t)
			if tt.refused == "" {
				if err != nil {
					t.Fatalf("failed: %v\n%s%s", err, out, stderr)
				}
				return
			}
			want := "refusing to follow " + filepath.Join(volume, tt.refused) + ": it is a symbolic link"
			if err == nil || !strings.Contains(stderr, want) {
				t.Errorf("err %v, stderr %q; want it to fail naming the link: %q", err, stderr, want)
			}
		})
	}
}

// A database in a directory of the volume that the app replaced with a
// link: the walk from the volume's root refuses it.
func TestEnterRefusesALinkedDirectory(t *testing.T) {
	needSQLite3(t)
	c := newCanary(t)
	volume := filepath.Join(t.TempDir(), "volume")
	plant(t, volume, "db", c.dir)
	out, stderr, err := runScript(t, safeScript+"\n"+statScript, volume, "db", "app.db")
	c.unchanged(t)
	if err == nil || !strings.Contains(stderr, "refusing to follow "+filepath.Join(volume, "db")) {
		t.Errorf("stat through a linked directory: %v %q %q", err, out, stderr)
	}
	if _, stderr, err := runScript(t, safeScript+"\n"+statScript, volume, "../etc", "passwd"); err == nil || !strings.Contains(stderr, "leaves the volume") {
		t.Errorf("a directory with ..: %v %q", err, stderr)
	}
}

// Pruning keeps the newest restore points and removes the rest, and a
// link the app put among them goes as a link.
func TestRecordScriptPrunesPlantedLinksOnly(t *testing.T) {
	needSQLite3(t)
	c := newCanary(t)
	volume := filepath.Join(t.TempDir(), "volume")
	db := filepath.Join(volume, "app.db")
	if err := os.MkdirAll(volume, 0o755); err != nil {
		t.Fatal(err)
	}
	sqlite(t, db, "CREATE TABLE t(x)")
	plant(t, volume, ".ship/restore-points/planted", c.dir)
	for _, v := range []string{"v1", "v2"} {
		if _, stderr, err := runInVolume(t, recordScript, db, v, "2"); err != nil {
			t.Fatalf("record %s: %v\n%s", v, err, stderr)
		}
	}
	c.unchanged(t)
	if got := listDir(t, filepath.Join(volume, ".ship", "restore-points")); strings.Join(got, " ") != "v1 v2" {
		t.Errorf("restore points %q, want v1 v2 (the planted link pruned)", got)
	}
}

// A database whose path holds a quote records its restore point: no path
// is quoted by hand into sqlite3's .backup (a ' used to break every
// deploy).
func TestRecordScriptQuoteInPath(t *testing.T) {
	needSQLite3(t)
	volume := filepath.Join(t.TempDir(), "it's a \"volume\"")
	if err := os.MkdirAll(volume, 0o755); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(volume, "shop's.db")
	sqlite(t, db, "CREATE TABLE t(x); INSERT INTO t VALUES (42);")
	if _, stderr, err := runInVolume(t, recordScript, db, "v1", "2"); err != nil {
		t.Fatalf("record: %v\n%s", err, stderr)
	}
	if got := sqlite(t, filepath.Join(volume, ".ship", "restore-points", "v1", "shop's.db"), "SELECT x FROM t"); got != "42" {
		t.Errorf("the restore point holds %q, want 42", got)
	}
}
