package database

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeFiles creates files (name → content) under dir, and the
// directories they need.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkFiles fails unless every file under dir has its content.
func checkFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if string(got) != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// A database's files move aside together, Litestream's directory too, and
// come back as they were, replacing what was put in their place.
func TestSetAsideAndPutBack(t *testing.T) {
	tests := []struct {
		name     string
		files    map[string]string // the database's own, under the volume
		replaced map[string]string // what a restore puts in their place
	}{
		{
			name: "WAL database with Litestream's directory",
			files: map[string]string{
				"app.db":                            "old database",
				"app.db-wal":                        "old wal",
				"app.db-shm":                        "old shm",
				".app.db-litestream/generation":     "0000000a",
				".app.db-litestream/ltx/0/1-1.ltx":  "ltx",
				".app.db-litestream/.hidden-within": "h",
			},
			replaced: map[string]string{
				"app.db":                        "restored database",
				"app.db-wal":                    "restored wal",
				".app.db-litestream/generation": "0000000b",
			},
		},
		{
			name:     "rollback database with a journal left",
			files:    map[string]string{"app.db": "old database", "app.db-journal": "hot journal"},
			replaced: map[string]string{"app.db": "restored database"},
		},
		{
			name:     "database alone",
			files:    map[string]string{"app.db": "old database"},
			replaced: map[string]string{"app.db": "restored database", "app.db-shm": "restored shm"},
		},
	}
	// Files of other databases in the same directory stay where they are.
	others := map[string]string{
		"other.db":                      "other",
		"other.db-wal":                  "other wal",
		"app.db2":                       "a different database",
		".other.db-litestream/position": "p",
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "volume with space")
			writeFiles(t, dir, tt.files)
			writeFiles(t, dir, others)
			db := filepath.Join(dir, "app.db")
			dest := filepath.Join(dir, "app.db.before-restore-20250601T120000Z")

			if _, stderr, err := runInVolume(t, setAsideScript, db, filepath.Base(dest)); err != nil {
				t.Fatalf("setAsideScript: %v\n%s", err, stderr)
			}
			checkFiles(t, dest, tt.files)
			checkFiles(t, dir, others)
			for _, name := range []string{"app.db", "app.db-wal", "app.db-shm", "app.db-journal", ".app.db-litestream"} {
				if _, err := os.Lstat(filepath.Join(dir, name)); !os.IsNotExist(err) {
					t.Errorf("%s is still in place after setting aside (%v)", name, err)
				}
			}
			want := []string{".other.db-litestream", "app.db.before-restore-20250601T120000Z", "app.db2", "other.db", "other.db-wal"}
			if got := listDir(t, dir); !slices.Equal(got, want) {
				t.Errorf("after setting aside the directory holds %q, want %q", got, want)
			}

			writeFiles(t, dir, tt.replaced)
			if _, stderr, err := runInVolume(t, putBackScript, db, filepath.Base(dest)); err != nil {
				t.Fatalf("putBackScript: %v\n%s", err, stderr)
			}
			checkFiles(t, dir, tt.files)
			checkFiles(t, dir, others)
			for name := range tt.replaced {
				if _, ok := tt.files[name]; !ok {
					if _, err := os.Lstat(filepath.Join(dir, name)); !os.IsNotExist(err) {
						t.Errorf("the replacement %s is still there after putting back (%v)", name, err)
					}
				}
			}
			if _, err := os.Lstat(dest); !os.IsNotExist(err) {
				t.Errorf("%s is still there after putting back (%v)", dest, err)
			}
			if _, err := os.Lstat(filepath.Join(dir, ".app.db-litestream")); err == nil {
				// Litestream's directory is the old one, not a mix.
				got := listFiles(t, filepath.Join(dir, ".app.db-litestream"))
				var want []string
				for name := range tt.files {
					if rel, ok := strings.CutPrefix(name, ".app.db-litestream/"); ok {
						want = append(want, rel)
					}
				}
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("Litestream's directory holds %q, want %q", got, want)
				}
			}
		})
	}
}

// Setting aside a database that is not there moves nothing and fails not.
func TestSetAsideNothing(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	dest := filepath.Join(dir, "app.db.set-aside")
	if _, stderr, err := runInVolume(t, setAsideScript, db, filepath.Base(dest)); err != nil {
		t.Fatalf("setAsideScript: %v\n%s", err, stderr)
	}
	if got := listDir(t, dest); len(got) != 0 {
		t.Errorf("%s holds %q", dest, got)
	}
	if _, stderr, err := runInVolume(t, putBackScript, db, filepath.Base(dest)); err != nil {
		t.Fatalf("putBackScript: %v\n%s", err, stderr)
	}
	if got := listDir(t, dir); len(got) != 0 {
		t.Errorf("after putting back nothing, the directory holds %q", got)
	}
}

// listFiles lists the files under dir, relative to it, sorted.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// A database whose file name starts with a dot has Litestream's directory
// named with two (..NAME-litestream): it must come back too.
func TestSetAsideAndPutBackDotName(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		".data.db":                        "old database",
		".data.db-wal":                    "old wal",
		"..data.db-litestream/generation": "0000000a",
	}
	writeFiles(t, dir, files)
	db := filepath.Join(dir, ".data.db")
	dest := filepath.Join(dir, ".data.db.before-restore-20250601T120000Z")
	if _, stderr, err := runInVolume(t, setAsideScript, db, filepath.Base(dest)); err != nil {
		t.Fatalf("setAsideScript: %v\n%s", err, stderr)
	}
	checkFiles(t, dest, files)
	writeFiles(t, dir, map[string]string{".data.db": "restored", "..data.db-litestream/generation": "0000000b"})
	if _, stderr, err := runInVolume(t, putBackScript, db, filepath.Base(dest)); err != nil {
		t.Errorf("putBackScript: %v\n%s", err, stderr)
	}
	checkFiles(t, dir, files)
	if _, err := os.Lstat(dest); !os.IsNotExist(err) {
		t.Errorf("%s is still there after putting back, holding %q", dest, listDir(t, dest))
	}
}

// A set-aside interrupted halfway leaves part of the live files in place
// and part aside; putting back with "keep" joins them, removing nothing.
func TestPutBackInterruptedSetAside(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"app.db.set-aside-1/app.db": "old database",
		"app.db-wal":                "old wal: committed writes",
		"app.db-shm":                "old shm",
	})
	db := filepath.Join(dir, "app.db")
	if _, stderr, err := runInVolume(t, putBackScript, db, "app.db.set-aside-1", "keep"); err != nil {
		t.Fatalf("putBackScript: %v\n%s", err, stderr)
	}
	checkFiles(t, dir, map[string]string{"app.db": "old database", "app.db-wal": "old wal: committed writes", "app.db-shm": "old shm"})
	if got := listDir(t, dir); !slices.Equal(got, []string{"app.db", "app.db-shm", "app.db-wal"}) {
		t.Errorf("after putting back the directory holds %q", got)
	}
}

// A put-back interrupted after it removed the replacement and moved part
// of the files back runs again without removing what it moved back.
func TestPutBackRunsAgain(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"app.db":                                    "old database, moved back",
		"app.db.set-aside-1/.ship-put-back":         "",
		"app.db.set-aside-1/app.db-wal":             "old wal",
		"app.db.set-aside-1/.app.db-litestream/pos": "p",
	})
	db := filepath.Join(dir, "app.db")
	if _, stderr, err := runInVolume(t, putBackScript, db, "app.db.set-aside-1", "discard"); err != nil {
		t.Fatalf("putBackScript: %v\n%s", err, stderr)
	}
	checkFiles(t, dir, map[string]string{"app.db": "old database, moved back", "app.db-wal": "old wal", ".app.db-litestream/pos": "p"})
	if _, err := os.Lstat(filepath.Join(dir, "app.db.set-aside-1")); !os.IsNotExist(err) {
		t.Errorf("the set-aside directory is still there (%v)", err)
	}
	// Run once more: it is gone, and nothing changes.
	if _, stderr, err := runInVolume(t, putBackScript, db, "app.db.set-aside-1", "discard"); err != nil {
		t.Fatalf("putBackScript again: %v\n%s", err, stderr)
	}
	checkFiles(t, dir, map[string]string{"app.db": "old database, moved back", "app.db-wal": "old wal"})
}

// With "keep", a file both in place and aside is a state ship did not
// make: it refuses, and moves nothing over anything.
func TestPutBackRefusesTwoOfAFile(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"app.db":                    "one",
		"app.db.set-aside-1/app.db": "two",
	}
	writeFiles(t, dir, files)
	_, stderr, err := runInVolume(t, putBackScript, filepath.Join(dir, "app.db"), "app.db.set-aside-1", "keep")
	if err == nil || !strings.Contains(stderr, "both") {
		t.Fatalf("putBackScript = %v, %q; want a refusal naming both files", err, stderr)
	}
	checkFiles(t, dir, files)
}
