package database

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shipdeploy/ship/ssh"
)

// BenchmarkRestorePointHold measures what a restore point adds to a
// swap's hold, by database size: "whole" is recordScript's copy of the
// whole database at the quiet point, "pre-copied" the quiet-point part of
// prepoint.sh (copy the WAL, replay it into the copy taken before the
// pause). An app's connection holds the database open and writes 200
// rows of 4 KB before the copy and 200 between the copy and the quiet
// point, as a live app would.
// Sizes come from SHIP_BENCH_SIZES (MiB, comma-separated; default
// 1,100,300,1024); the databases are made in a temporary directory and
// removed after. Over SSH each adds one round trip.
func BenchmarkRestorePointHold(b *testing.B) {
	sizes := []int{1, 100, 300, 1024}
	if s := os.Getenv("SHIP_BENCH_SIZES"); s != "" {
		sizes = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				b.Fatalf("SHIP_BENCH_SIZES: %v", err)
			}
			sizes = append(sizes, n)
		}
	}
	for _, mib := range sizes {
		dir := b.TempDir()
		db := filepath.Join(dir, "app.db")
		bigDB(b, db, mib)
		for _, mode := range []string{"whole", "pre-copied"} {
			b.Run(fmt.Sprintf("%dMiB/%s", mib, mode), func(b *testing.B) {
				for i := range b.N {
					b.StopTimer()
					// Each time from an empty WAL, so that no
					// automatic checkpoint restarts it midway.
					if out, err := exec.Command("sqlite3", db, "PRAGMA wal_checkpoint(TRUNCATE)").CombinedOutput(); err != nil {
						b.Fatalf("checkpoint: %v\n%s", err, out)
					}
					app := exec.Command("sqlite3", "-bail", "-cmd", ".timeout 5000", db)
					stdin, err := app.StdinPipe()
					if err != nil {
						b.Fatal(err)
					}
					if err := app.Start(); err != nil {
						b.Fatal(err)
					}
					write := func() {
						fmt.Fprintf(stdin, "INSERT INTO acked(b) SELECT randomblob(4000) FROM generate_series(1, 200);\n")
					}
					// A running app has a WAL.
					write()
					for fi, err := os.Stat(db + "-wal"); err != nil || fi.Size() < 32; fi, err = os.Stat(db + "-wal") {
						time.Sleep(5 * time.Millisecond)
					}
					version := strconv.Itoa(i)
					var p *localPreCopy
					if mode == "pre-copied" {
						p = startLocalPreCopy(b, db, version)
						if got := p.next(b); got != "ready" {
							b.Fatalf("prepoint.sh said %q", got)
						}
					}
					write()
					stdin.Close() // the app stops
					if err := app.Wait(); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					if p == nil {
						argv := ssh.Script(safeScript+"\n"+recordScript, dir, ".", "app.db", version, "2").Args
						if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
							b.Fatalf("record: %v\n%s", err, out)
						}
						continue
					}
					p.send(b, "go")
					if got := p.next(b); got != "recorded" {
						b.Fatalf("prepoint.sh said %q at the quiet point", got)
					}
					// The rest, removing pruned restore points, is
					// outside the hold.
					b.StopTimer()
					if err := p.cmd.Wait(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		os.RemoveAll(dir)
	}
}
