package follower

import (
	"errors"
	"strings"
	"testing"
)

// The pin is the newest TXID of restore -dry-run -json's plan.
func TestParsePlan(t *testing.T) {
	plan := `{
  "source": "/data/app.db",
  "target_path": "/data/app.db",
  "replica": "s3",
  "min_txid": "0000000000000001",
  "max_txid": "0000000000000a3f",
  "files": []
}`
	if got, err := parsePlan(plan); err != nil || got != 0xa3f {
		t.Errorf("parsePlan = %v, %v", got, err)
	}
	for _, bad := range []string{"", "Restore plan:", `{"max_txid": ""}`} {
		if _, err := parsePlan(bad); err == nil {
			t.Errorf("parsePlan(%q) accepted it", bad)
		}
	}
}

// A replica with nothing in it says what to do; other failures show
// Litestream's words.
func TestRestoreError(t *testing.T) {
	c := shop()
	cps, _ := copies(c)
	err := restoreError(c, cps[0], "plan a restore of", 1, "time=... level=ERROR msg=\"failed to run\" error=\"no matching backup files available\"")
	if !strings.Contains(err.Error(), "s3://backups/shop/production.sqlite3 has no backup of /rails/storage/production.sqlite3 yet: boot the writer's Litestream") {
		t.Errorf("empty replica: %v", err)
	}
	if !errors.Is(err, ErrNoBackup) {
		t.Errorf("empty replica: %v is not ErrNoBackup", err)
	}
	err = restoreError(c, cps[0], "restore", 1, "access denied\n")
	if !strings.Contains(err.Error(), "could not restore /rails/storage/production.sqlite3 from s3://backups/shop/production.sqlite3 (exit 1):\n  access denied") {
		t.Errorf("other failure: %v", err)
	}
}
