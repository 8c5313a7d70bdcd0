package workflow

import (
	"errors"
	"strings"
	"testing"
)

// ship db drill takes one action, and refuses a schedule that does not
// parse before anything is contacted, as a usage error.
func TestDBDrillRequestCheck(t *testing.T) {
	for _, tc := range []struct {
		r    DBDrillRequest
		want string
	}{
		{DBDrillRequest{}, "takes one of --schedule"},
		{DBDrillRequest{Now: true, Unschedule: true}, "takes one of --schedule"},
		{DBDrillRequest{Schedule: "daily", Now: true}, "takes one of --schedule"},
		{DBDrillRequest{Schedule: "* * * * 9"}, "--schedule: schedule \"* * * * 9\": the day of week field"},
	} {
		_, err := tc.r.check()
		var u UsageError
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &u) {
			t.Errorf("%+v: %v, want a usage error with %q", tc.r, err, tc.want)
		}
	}
	s, err := DBDrillRequest{Schedule: "*/10 * * * *"}.check()
	if err != nil || s == nil || len(s.Minutes) != 6 {
		t.Errorf("a good schedule: %+v %v", s, err)
	}
	if s, err := (DBDrillRequest{Now: true}).check(); err != nil || s != nil {
		t.Errorf("--now: %+v %v", s, err)
	}
}
