package database

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/host"
)

// localHost is this machine as a host whose commands run as root, for
// tests that drive the package's Go code through its real scripts.
func localHost(t *testing.T) *host.Host {
	t.Helper()
	needSQLite3(t)
	if os.Geteuid() != 0 {
		t.Skip("the scripts run as root, and chown to the database's owner")
	}
	return &host.Host{Name: "local", Shell: stubShell{path: os.Getenv("PATH"), home: t.TempDir()}}
}

// railsVolume is a volume with Rails 8's four databases, each with rows,
// as the old version left them, with a restore point of v1 recorded.
func railsVolume(t *testing.T, h *host.Host) []DB {
	t.Helper()
	volume := t.TempDir()
	var dbs []DB
	for _, name := range []string{"production", "production_cache", "production_queue", "production_cable"} {
		rel := "storage/" + name + ".sqlite3"
		file := filepath.Join(volume, rel)
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		sqlite(t, file, `PRAGMA journal_mode = WAL; PRAGMA user_version = 3;
CREATE TABLE records(id INTEGER PRIMARY KEY, value TEXT NOT NULL, at TEXT);
INSERT INTO records(value, at) SELECT 'v1-' || value, 'then' FROM generate_series(1, 20);`)
		dbs = append(dbs, DB{Path: "/rails/" + rel, HostPath: file, Root: volume, Rel: rel})
	}
	if err := recordRestorePoint(context.Background(), h, &config.Config{RetainContainers: 5}, dbs, "v1", io.Discard); err != nil {
		t.Fatal(err)
	}
	return dbs
}

// A failed version that dropped a column in one database and wrote rows in
// the others: all four go back to the restore point together, their files
// set aside, and the rows it wrote are counted where they now are.
func TestUndoPutsBackEveryDatabaseWhenOneSchemaChanged(t *testing.T) {
	h := localHost(t)
	dbs := railsVolume(t, h)
	ctx := context.Background()
	sqlite(t, dbs[0].HostPath, "ALTER TABLE records DROP COLUMN at; INSERT INTO records(value) VALUES ('bad-1'), ('bad-2');")
	for _, db := range dbs[1:] {
		sqlite(t, db.HostPath, "INSERT INTO records(value) VALUES ('bad-1');")
	}

	var out strings.Builder
	u := undoFailedStart(ctx, h, &config.Config{}, dbs, "v1", "bad", &out)
	if u.Check != deploy.SchemaChanged || !u.Restored || u.Note != "" || len(u.Databases) != 4 {
		t.Fatalf("undo: %+v\n%s", u, out.String())
	}
	for i, db := range dbs {
		d := u.Databases[i]
		if d.Database != db.Path || d.SchemaChanged != (i == 0) || !strings.HasPrefix(d.SetAside, db.HostPath+".failed-bad-") {
			t.Errorf("database %d: %+v", i, d)
		}
		if got := sqlite(t, db.HostPath, "SELECT count(*), min(value), max(at) FROM records"); got != "20|v1-1|then" {
			t.Errorf("%s after the undo: %s, want the 20 rows of v1 with their column", db.Path, got)
		}
		if got := sqlite(t, db.HostPath, "PRAGMA user_version"); got != "3" {
			t.Errorf("%s user_version %s", db.Path, got)
		}
		aside := filepath.Join(d.SetAside, filepath.Base(db.HostPath))
		if got := sqlite(t, aside, "SELECT count(*) FROM records WHERE value LIKE 'bad-%'"); got != map[bool]string{true: "2", false: "1"}[i == 0] {
			t.Errorf("%s set aside holds %s rows of the failed version", db.Path, got)
		}
		changes, err := rowChanges(ctx, h, db, filepath.Base(d.SetAside), "v1")
		want := map[string]int64{"records": map[bool]int64{true: 2, false: 1}[i == 0]}
		if err != nil || !equalCounts(changes, want) {
			t.Errorf("%s row changes %v %v, want %v", db.Path, changes, err, want)
		}
	}
	if !strings.Contains(out.String(), "bad changed the schema of /rails/storage/production.sqlite3") ||
		!strings.Contains(out.String(), "the schema of every database matches the restore point of v1") {
		t.Errorf("output:\n%s", out.String())
	}
	// Put back, and checked: the live schema is the restore point's.
	if err := checkSchemas(ctx, h, dbs, "v1"); err != nil {
		t.Error(err)
	}
}

// No schema changed: nothing is put back, and the rows the failed version
// wrote stay in the database.
func TestUndoKeepsTheDataWithoutASchemaChange(t *testing.T) {
	h := localHost(t)
	dbs := railsVolume(t, h)
	sqlite(t, dbs[0].HostPath, "INSERT INTO records(value) VALUES ('bad-1'); UPDATE records SET at = 'now';")
	var out strings.Builder
	u := undoFailedStart(context.Background(), h, &config.Config{}, dbs, "v1", "bad", &out)
	if u.Check != deploy.SchemaUnchanged || u.Restored || len(u.Databases) != 4 {
		t.Fatalf("undo: %+v\n%s", u, out.String())
	}
	for _, d := range u.Databases {
		if d.SchemaChanged || d.SetAside != "" {
			t.Errorf("%+v", d)
		}
	}
	if got := sqlite(t, dbs[0].HostPath, "SELECT count(*), max(at) FROM records"); got != "21|now" {
		t.Errorf("after the undo: %s, want the failed version's 21 rows, updated", got)
	}
	if asides, _ := filepath.Glob(dbs[0].HostPath + ".*"); len(asides) != 0 {
		t.Errorf("files set aside: %v", asides)
	}
}

// A schema change still in the WAL of a version that was killed counts,
// and so does a user_version alone, and a database the failed version
// created: it did not exist at the quiet moment, so it goes, set aside.
func TestUndoSeesTheWALUserVersionAndNewDatabases(t *testing.T) {
	h := localHost(t)
	t.Run("schema change in the WAL", func(t *testing.T) {
		dbs := railsVolume(t, h)
		write := openWriter(t, dbs[1].HostPath)
		write("PRAGMA wal_autocheckpoint = 0;")
		write("CREATE TABLE solid_cache_entries(key BLOB);")
		write("INSERT INTO records(value) VALUES ('in-wal');")
		waitCount(t, dbs[1].HostPath, "solid_cache_entries", 0)
		s, err := readSchemas(context.Background(), h, dbs[1], "v1")
		if err != nil || s.live == s.point {
			t.Fatalf("schemas %+v %v: the WAL's change is not seen", s, err)
		}
	})
	t.Run("user_version", func(t *testing.T) {
		dbs := railsVolume(t, h)
		sqlite(t, dbs[2].HostPath, "PRAGMA user_version = 4")
		u := undoFailedStart(context.Background(), h, &config.Config{}, dbs, "v1", "bad", io.Discard)
		if u.Check != deploy.SchemaChanged || !u.Restored || !u.Databases[2].SchemaChanged {
			t.Errorf("undo: %+v", u)
		}
		if got := sqlite(t, dbs[2].HostPath, "PRAGMA user_version"); got != "3" {
			t.Errorf("user_version %s after the undo", got)
		}
	})
	t.Run("a new database", func(t *testing.T) {
		dbs := railsVolume(t, h)
		volume := dbs[0].Root
		extra := DB{Path: "/rails/storage/extra.sqlite3", HostPath: filepath.Join(volume, "storage/extra.sqlite3"), Root: volume, Rel: "storage/extra.sqlite3"}
		// An old copy of that name in the same restore point, from an
		// earlier swap, is not the database at this quiet moment.
		stale := filepath.Join(volume, "storage/.ship/restore-points/v1/extra.sqlite3")
		sqlite(t, stale, "CREATE TABLE old(x)")
		all := append(dbs, extra)
		if err := recordRestorePoint(context.Background(), h, &config.Config{RetainContainers: 5}, all, "v1", io.Discard); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(stale); !os.IsNotExist(err) {
			t.Fatalf("the stale copy is still in the restore point: %v", err)
		}
		sqlite(t, extra.HostPath, "CREATE TABLE jobs(x); INSERT INTO jobs VALUES (1), (2);")
		var out strings.Builder
		u := undoFailedStart(context.Background(), h, &config.Config{}, all, "v1", "bad", &out)
		if u.Check != deploy.SchemaChanged || !u.Restored || !u.Databases[4].SchemaChanged || u.Databases[0].SchemaChanged {
			t.Fatalf("undo: %+v\n%s", u, out.String())
		}
		if _, err := os.Stat(extra.HostPath); !os.IsNotExist(err) {
			t.Errorf("the database the failed version created is still there: %v", err)
		}
		changes, err := rowChanges(context.Background(), h, extra, filepath.Base(u.Databases[4].SetAside), "v1")
		if err != nil || !equalCounts(changes, map[string]int64{"jobs": 2}) {
			t.Errorf("row changes of the new database: %v %v", changes, err)
		}
	})
}

// The restore point's copy keeps the database's schema_version, which
// SQLite's backup resets, so that it compares equal to the database.
func TestRecordScriptKeepsSchemaVersion(t *testing.T) {
	needSQLite3(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	sqlite(t, db, "PRAGMA journal_mode = WAL; CREATE TABLE a(x); CREATE TABLE b(y); ALTER TABLE a ADD COLUMN z; PRAGMA user_version = 9;")
	if _, stderr, err := runInVolume(t, recordScript, db, "v1", "2"); err != nil {
		t.Fatalf("record: %v\n%s", err, stderr)
	}
	copy := filepath.Join(dir, ".ship/restore-points/v1/app.db")
	want := sqlite(t, db, "PRAGMA schema_version") + " " + sqlite(t, db, "PRAGMA user_version")
	out, stderr, err := runInVolume(t, schemaScript, db, "v1")
	if err != nil || out != "live "+want+"\npoint "+want+"\n" {
		t.Errorf("schema.sh: %q %v %s, want live and point %s", out, err, stderr, want)
	}
	if got := sqlite(t, copy, "PRAGMA schema_version"); got+" 9" != want {
		t.Errorf("the copy's schema_version is %s, want %s", got, want)
	}
	if leftovers, _ := filepath.Glob(copy + "-*"); len(leftovers) != 0 {
		t.Errorf("files beside the copy: %v", leftovers)
	}
	if got := sqlite(t, copy, "PRAGMA integrity_check"); got != "ok" {
		t.Errorf("integrity: %s", got)
	}
	out, _, err = runInVolume(t, schemaScript, db, "v2")
	if err != nil || out != "live "+want+"\npoint absent\n" {
		t.Errorf("schema.sh without a restore point: %q %v", out, err)
	}
	os.Remove(db)
	out, _, err = runInVolume(t, schemaScript, db, "v1")
	if err != nil || out != "live absent\npoint "+want+"\n" {
		t.Errorf("schema.sh without the database: %q %v", out, err)
	}
}
