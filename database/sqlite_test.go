package database

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shipdeploy/ship/ssh"
)

// needSQLite3 skips a test that runs the sqlite3 CLI where it is missing.
func needSQLite3(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Skip("sqlite3 is not installed")
	}
}

// runScript runs one of the package's shell scripts locally, the way
// scriptAsRoot runs it on the host: as ssh.Script builds it.
func runScript(t *testing.T, script string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	argv := ssh.Script(script, args...).Args
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// runInVolume runs one of the scripts that work inside a volume, as
// inVolume does: after safe.sh, with the database file's directory as the
// volume root.
func runInVolume(t *testing.T, script, file string, more ...string) (stdout, stderr string, err error) {
	t.Helper()
	args := append([]string{filepath.Dir(file), ".", filepath.Base(file)}, more...)
	return runScript(t, safeScript+"\n"+script, args...)
}

// sqlite runs SQL on file with the sqlite3 CLI and returns its output,
// trimmed.
func sqlite(t *testing.T, file, sql string) string {
	t.Helper()
	out, err := exec.Command("sqlite3", "-bail", file, sql).CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3 %s %q: %v\n%s", file, sql, err, out)
	}
	return strings.TrimSpace(string(out))
}

// countScript prints each table's row count as JSON; Litestream's and
// SQLite's own tables are left out, and any name, however quoted, works.
func TestCountScript(t *testing.T) {
	needSQLite3(t)
	tests := []struct {
		name   string
		schema string
		want   map[string]int64
	}{
		{
			name: "tables of all names",
			schema: `CREATE TABLE plain(x);
INSERT INTO plain VALUES (1), (2), (3);
CREATE TABLE "we""ird t"(x);
INSERT INTO "we""ird t" VALUES (1), (2);
CREATE TABLE "it's"(x);
INSERT INTO "it's" VALUES (1);
CREATE TABLE empty(x);
CREATE TABLE xlitestreamyseq(x);
INSERT INTO xlitestreamyseq VALUES (1);
CREATE TABLE sqlitex_notes(x);
CREATE TABLE _litestream_seq(id INTEGER PRIMARY KEY, seq INTEGER);
INSERT INTO _litestream_seq VALUES (1, 42);
CREATE TABLE _litestream_lock(id);
CREATE INDEX plain_x ON plain(x);
CREATE VIEW v AS SELECT * FROM plain;
ANALYZE;`,
			want: map[string]int64{"plain": 3, `we"ird t`: 2, "it's": 1, "empty": 0, "xlitestreamyseq": 1, "sqlitex_notes": 0},
		},
		{
			name:   "no tables",
			schema: `PRAGMA user_version = 1;`,
			want:   map[string]int64{},
		},
		{
			name: "WAL mode",
			schema: `PRAGMA journal_mode = WAL;
CREATE TABLE items(id INTEGER PRIMARY KEY);
INSERT INTO items SELECT value FROM generate_series(1, 250);`,
			want: map[string]int64{"items": 250},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "app.db")
			sqlite(t, db, tt.schema)
			out, stderr, err := runInVolume(t, countScript, db)
			if err != nil {
				t.Fatalf("countScript: %v\n%s", err, stderr)
			}
			var rows []struct {
				T string `json:"t"`
				N int64  `json:"n"`
			}
			if err := json.Unmarshal([]byte(out), &rows); err != nil {
				t.Fatalf("countScript printed no JSON: %v\n%s", err, out)
			}
			got := map[string]int64{}
			for _, r := range rows {
				if _, dup := got[r.T]; dup {
					t.Errorf("table %q counted twice", r.T)
				}
				got[r.T] = r.N
			}
			if !equalCounts(got, tt.want) {
				t.Errorf("counts = %v, want %v\n%s", got, tt.want, out)
			}
		})
	}
}

func equalCounts(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// countScript reads with -readonly: it leaves the file as it was; and it
// fails on a file that is not a database rather than print no tables.
func TestCountScriptReadOnlyAndFailure(t *testing.T) {
	needSQLite3(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	sqlite(t, db, "CREATE TABLE t(x); INSERT INTO t VALUES (1);")
	before, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if out, stderr, err := runInVolume(t, countScript, db); err != nil || !strings.Contains(out, `"n":1`) {
		t.Fatalf("countScript = %q, %v\n%s", out, err, stderr)
	}
	after, _ := os.ReadFile(db)
	if !bytes.Equal(before, after) {
		t.Error("countScript changed the database file")
	}

	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, bytes.Repeat([]byte("not a database "), 100), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, _, err := runInVolume(t, countScript, junk); err == nil {
		t.Errorf("countScript on a non-database succeeded: %q", out)
	}
}

// integrityScript prints "ok" for a sound file, and anything else (or
// fails) for a damaged one.
func TestIntegrityScript(t *testing.T) {
	needSQLite3(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	schema := `PRAGMA page_size = 4096;
CREATE TABLE blobs(id INTEGER PRIMARY KEY, b BLOB);
INSERT INTO blobs SELECT value, randomblob(500) FROM generate_series(1, 500);
CREATE INDEX blobs_b ON blobs(b);`
	sqlite(t, good, schema)
	out, stderr, err := runInVolume(t, integrityScript, good)
	if err != nil || strings.TrimSpace(out) != "ok" {
		t.Fatalf("integrityScript on a sound file = %q, %v\n%s", out, err, stderr)
	}

	bad := filepath.Join(dir, "bad.db")
	sqlite(t, bad, schema)
	b, err := os.ReadFile(bad)
	if err != nil {
		t.Fatal(err)
	}
	pages := len(b) / 4096
	if pages < 20 {
		t.Fatalf("the database has only %d pages", pages)
	}
	mid := pages / 2
	copy(b[mid*4096:(mid+1)*4096], bytes.Repeat([]byte{0xff}, 4096))
	if err := os.WriteFile(bad, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, err = runInVolume(t, integrityScript, bad)
	if err == nil && strings.TrimSpace(out) == "ok" {
		t.Errorf("integrityScript on a damaged file (page %d of %d overwritten) printed ok", mid+1, pages)
	}
	t.Logf("damaged: err=%v out=%q stderr=%q", err, out, stderr)
}

// The scripts that need sqlite3 say how to install it when it is missing.
func TestNeedSQLite(t *testing.T) {
	dir := t.TempDir()
	argv := ssh.Script(countScript, filepath.Join(dir, "app.db")).Args
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = []string{"PATH=" + dir} // no sqlite3 there
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 127 {
		t.Fatalf("exit = %v, want 127", err)
	}
	if !strings.Contains(stderr.String(), "sqlite3 is not installed") {
		t.Errorf("stderr = %q", stderr.String())
	}
}
