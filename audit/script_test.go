package audit

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/shipdeploy/ship/internal/testshell"
)

// TestScriptsLocally runs append.sh and read.sh with this machine's sh and
// flock, without a test host.
func TestScriptsLocally(t *testing.T) {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("flock is not installed")
	}
	ctx := context.Background()
	r := testshell.Local{Home: t.TempDir()}
	file := Path("local")
	if entries, err := Read(ctx, r, file, 0); err != nil || len(entries) != 0 {
		t.Fatalf("Read of a missing log: %v, %v", entries, err)
	}
	var want []Entry
	for _, v := range []string{"v1", "v2", "v3"} {
		e := Entry{Time: time.Now(), Performer: "alice", Command: "deploy web", Versions: v, Result: "deployed"}
		if err := Append(ctx, r, file, e, nil); err != nil {
			t.Fatal(err)
		}
		want = append(want, utcEntry(e))
	}
	if entries, err := Read(ctx, r, file, 2); err != nil || !reflect.DeepEqual(entries, want[1:]) {
		t.Errorf("Read(last=2) = %v, %v; want %v", entries, err, want[1:])
	}
	if entries, err := Read(ctx, r, file, 0); err != nil || !reflect.DeepEqual(entries, want) {
		t.Errorf("Read(all) = %v, %v; want %v", entries, err, want)
	}
	log := filepath.Join(r.Home, file)
	for p, mode := range map[string]os.FileMode{log: 0o600, filepath.Dir(log): 0o700} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v, %v; want mode %o", p, fi.Mode(), err, mode)
		}
	}
}
