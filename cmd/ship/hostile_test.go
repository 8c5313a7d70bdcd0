package main

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/shipdeploy/ship/internal/testapp"
	"github.com/shipdeploy/ship/internal/testproc"
)

// hostileVolume plants symbolic links, as a compromised app could, at the
// paths in its volume that ship touches as root, all pointing at a canary
// directory outside the volume.
type hostileVolume struct {
	volume, canary, before string
	planted                []string // paths in the volume
	displaced              map[string]string
}

func newHostileVolume(t *testing.T, volume string) *hostileVolume {
	t.Helper()
	canary := filepath.Join(t.TempDir(), "canary")
	for name, content := range map[string]string{"precious": "do not touch\n", "sub/keep": "nor this\n"} {
		p := filepath.Join(canary, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h := &hostileVolume{volume: volume, canary: canary, displaced: map[string]string{}}
	h.before = h.snapshot(t)
	return h
}

// snapshot describes the canary and everything beside it.
func (h *hostileVolume) snapshot(t *testing.T) string {
	t.Helper()
	return testproc.Tree(t, filepath.Dir(h.canary))
}

// plant puts links at the names given, relative to the volume; a file
// or directory already there is moved out of the way until clean.
func (h *hostileVolume) plant(t *testing.T, names ...string) {
	t.Helper()
	for _, name := range names {
		p := filepath.Join(h.volume, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(p); err == nil {
			moved := p + ".hostile-displaced"
			if err := os.Rename(p, moved); err != nil {
				t.Fatal(err)
			}
			h.displaced[p] = moved
		}
		target := h.canary
		if strings.HasSuffix(name, "-wal") || strings.HasSuffix(name, "-shm") {
			target = filepath.Join(h.canary, "precious")
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		h.planted = append(h.planted, p)
	}
}

// clean removes the links wherever ship left them (moved aside beside the
// database, or still in place) and puts back what they displaced.
func (h *hostileVolume) clean(t *testing.T) {
	t.Helper()
	filepath.WalkDir(h.volume, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type()&fs.ModeSymlink != 0 {
			if target, _ := os.Readlink(p); strings.HasPrefix(target, h.canary) {
				os.Remove(p)
			}
		}
		return nil
	})
	for p, moved := range h.displaced {
		os.RemoveAll(p)
		if err := os.Rename(moved, p); err != nil {
			t.Fatal(err)
		}
	}
	h.planted, h.displaced = nil, map[string]string{}
}

// stamps are the names ship gives directories it sets files aside in,
// for the next two minutes, so that a link can wait at each.
func stamps(db, kind string) []string {
	var out []string
	now := time.Now().UTC()
	for s := -2; s < 120; s++ {
		out = append(out, db+"."+kind+"-"+now.Add(time.Duration(s)*time.Second).Format("20060102T150405Z"))
	}
	return out
}

// An app that plants links in its volume cannot turn ship against the
// host: before each command that works on the volume as root, links wait
// at every path ship touches there, pointing at a canary outside it.
// After every command the canary is unchanged and nothing new exists
// beside it, and the command either works or names the link it refused.
func TestHostileVolume(t *testing.T) {
	t.Parallel() // its own service on h1, no kamal-proxy: see helpers_test.go
	a := newBackedUpApp(t, "hostile")
	a.apart = true
	testapp.Image(t, a.h1.DockerHost, "ship-it-hostile:v3", testapp.ImageOptions{})
	// A release that changes the schema and fails: ship takes the data
	// back, setting its files aside, before the old version starts.
	testapp.Image(t, a.h1.DockerHost, "ship-it-hostile:migrates", testapp.ImageOptions{FailHealthcheck: true, MigrateAtBoot: "CREATE TABLE probe(x)"})
	t.Cleanup(func() { a.ship(t, "app", "remove", "--yes") }) // before the images go
	a.mustShip(t, "setup", "--skip-build", "--version", "v1")
	a.write(t, "v1-row", 5)
	a.mustShip(t, "deploy", "--skip-build", "--version", "v2")
	a.waitSynced(t)
	db := filepath.Base(a.dbFile(t))
	h := newHostileVolume(t, filepath.Dir(a.dbFile(t)))

	// Each command runs three times: with .ship a link, with its
	// restore-points a link, and with links at every other path at once.
	variants := func(recorded string) [][]string {
		others := []string{".ship/restore-points/" + recorded, ".ship/pre-point/" + db, db + "-wal", db + "-shm", "." + db + "-litestream"}
		others = append(others, stamps(db, "set-aside")...)
		others = append(others, stamps(db, "before-restore")...)
		return [][]string{{".ship"}, {".ship/restore-points"}, others}
	}
	commands := []struct {
		args []string
		// recorded is the version whose restore point the command
		// records, if any.
		recorded string
		// more are further variants, for paths only this command
		// reaches.
		more [][]string
	}{
		// The copy a swap takes before its pause.
		{[]string{"deploy", "--skip-build", "--version", "v3"}, "v2", [][]string{{".ship/pre-point"}}},
		// Links that leave the restore point alone, so the failed
		// start's put-back meets them.
		{[]string{"deploy", "--skip-build", "--version", "migrates"}, "v2", [][]string{append(stamps(db, "failed-migrates"), "."+db+"-litestream")}},
		{[]string{"rollback", "v1"}, "v2", [][]string{{".ship/pre-point"}}},
		{[]string{"rollback", "v1", "--restore-data", "--yes"}, "v2", nil},
		{[]string{"db", "status"}, "v2", nil},
		{[]string{"db", "verify"}, "v2", nil},
		{[]string{"db", "restore", "--yes"}, "v2", nil},
	}
	for _, c := range commands {
		for _, plant := range append(variants(c.recorded), c.more...) {
			name := strings.Join(c.args, " ") + " with a link at " + plant[0]
			if len(plant) > 1 {
				name += " and the rest"
			}
			t.Run(name, func(t *testing.T) {
				h.plant(t, plant...)
				out, errOut, code := a.ship(t, c.args...)
				if now := h.snapshot(t); now != h.before {
					t.Errorf("the canary outside the volume changed:\nbefore:\n%s\nafter:\n%s\n%s%s", h.before, now, out, errOut)
				}
				if code != 0 && !strings.Contains(out+errOut, "refusing to follow "+h.volume+"/") {
					t.Errorf("exit %d without naming a planted link:\n%s%s", code, out, errOut)
				}
				h.clean(t)
				a.serveAgain(t)
				// A Litestream that ship started while its meta
				// directory was a link may never replicate again:
				// the app can break its own backups, and db status
				// and db verify say so. Start the next command with
				// a working replicator, as the operator would.
				if slices.Contains(plant, "."+db+"-litestream") {
					a.mustShip(t, "accessory", "reboot", "litestream")
				}
			})
		}
	}
	// With nothing planted, every command works again.
	a.mustShip(t, "deploy", "--skip-build", "--version", "v3")
	if v := a.version(t); v != "v3" {
		t.Errorf("after the hostile commands a clean deploy serves %q", v)
	}
}

// serveAgain waits for the app to serve after the links are gone. An app
// that could not open its database through them may be in Docker's
// restart loop, whose back-off grows to a minute: restart it now.
func (a *backedUpApp) serveAgain(t *testing.T) {
	t.Helper()
	serving := func(within time.Duration) bool {
		for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if v := a.version(t); !strings.HasPrefix(v, "unreachable") {
				return true
			}
		}
		return false
	}
	if serving(3 * time.Second) {
		return
	}
	cli := dockerClient(t, a.h1)
	list, err := cli.ContainerList(context.Background(), container.ListOptions{Filters: filters.NewArgs(filters.Arg("label", "service="+a.service))})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		if err := cli.ContainerRestart(context.Background(), c.ID, container.StopOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if !serving(30 * time.Second) {
		t.Fatalf("the app does not serve again after the planted links were removed")
	}
}
