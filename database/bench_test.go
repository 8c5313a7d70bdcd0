package database

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/shipdeploy/ship/ssh"
)

// BenchmarkRecordRestorePoint measures the copy a deploy makes inside the
// swap gap: recordScript (SQLite's online backup through the sqlite3
// shell) on WAL-mode databases of several sizes. Over SSH add one round
// trip.
func BenchmarkRecordRestorePoint(b *testing.B) {
	for _, mib := range []int{1, 16, 128} {
		b.Run(fmt.Sprintf("%dMiB", mib), func(b *testing.B) {
			dir := b.TempDir()
			db := filepath.Join(dir, "app.db")
			rows := mib * 1024 / 4 // 4 KiB each
			sql := fmt.Sprintf(`PRAGMA journal_mode=WAL;
CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < %d) INSERT INTO t(b) SELECT randomblob(4000) FROM n;`, rows)
			if out, err := exec.Command("sqlite3", db, sql).CombinedOutput(); err != nil {
				b.Fatalf("make database: %v\n%s", err, out)
			}
			info, err := os.Stat(db)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(info.Size())
			b.ResetTimer()
			for i := range b.N {
				argv := ssh.Script(safeScript+"\n"+recordScript, dir, ".", filepath.Base(db), strconv.Itoa(i), "2").Args
				if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
					b.Fatalf("record: %v\n%s", err, out)
				}
			}
		})
	}
}
