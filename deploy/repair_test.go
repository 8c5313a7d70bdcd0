package deploy

import (
	"context"
	"os"
	"testing"

	"github.com/shipdeploy/ship/internal/testshell"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
)

// A role's healthy record reads back as written, replaced whole, readable
// by its owner only; before any, there is none.
func TestHealthyRecord(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	h := &host.Host{Name: "web1", Shell: testshell.Local{Home: home}}
	c := &config.Config{Service: "shop"}
	if got, err := HealthyVersion(ctx, h, c, "web"); err != nil || got != "" {
		t.Fatalf("before any record: %q, %v; want none", got, err)
	}
	for _, v := range []string{"v1-long-version-name", "v2", ""} {
		if err := recordHealthy(ctx, h, c, "web", v); err != nil {
			t.Fatalf("record %q: %v", v, err)
		}
		if got, err := HealthyVersion(ctx, h, c, "web"); err != nil || got != v {
			t.Errorf("after recording %q: read %q, %v", v, got, err)
		}
	}
	file := RecordFile(home, c, healthyRecord, "web")
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: %v, %v; want mode 600", file, fi.Mode(), err)
	}
	if other, err := HealthyVersion(ctx, h, c, "worker"); err != nil || other != "" {
		t.Errorf("another role: %q, %v; want none", other, err)
	}
}
