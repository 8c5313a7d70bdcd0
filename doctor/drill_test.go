package doctor

import (
	"strings"
	"testing"
	"time"

	"github.com/shipdeploy/ship/drill"
)

func TestDrillState(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	passed := &drill.Entry{Time: now.Add(-time.Hour), OK: true}
	old := &drill.Entry{Time: now.Add(-72 * time.Hour), OK: true}
	failed := &drill.Entry{Time: now.Add(-time.Minute), Problem: "the replica s3://b/app has no backup"}
	tests := []struct {
		name  string
		s     drill.Summary
		state State
		says  string
		fix   string
	}{
		{"never", drill.Summary{}, Warn, "no drill has ever restored", "ship db drill --schedule daily"},
		{"passed an hour ago", drill.Summary{Last: passed, LastOK: passed, Schedule: "hourly", Running: true}, OK, "passed 1h0m0s ago; scheduled hourly", ""},
		{"passed long ago, unscheduled", drill.Summary{Last: old, LastOK: old}, Warn, "was 72h0m0s ago", "ship db drill --schedule daily"},
		{"the last failed", drill.Summary{Last: failed, LastOK: passed, Schedule: "daily", Running: true}, Fail, "failed: the replica s3://b/app has no backup", "ship db drill --now"},
		{"the schedule's container stopped", drill.Summary{Last: passed, LastOK: passed, Schedule: "*/5 * * * *"}, Fail, "not running", `ship db drill --schedule "*/5 * * * *"`},
	}
	for _, tt := range tests {
		c := drillState(tt.s, now)
		if c.State != tt.state || !strings.Contains(c.Message, tt.says) || !strings.Contains(c.Fix, tt.fix) {
			t.Errorf("%s: %v, want %v saying %q, fix %q", tt.name, c, tt.state, tt.says, tt.fix)
		}
	}
}
