package doctor

import (
	"context"
	"time"

	"github.com/shipdeploy/ship/drill"
)

// drillAge is how old the last passing fire drill may be before doctor
// warns: a daily schedule, with a day to spare.
const drillAge = 48 * time.Hour

// drillChecks reads the fire drills' log and schedule on the host
// Litestream runs on: a backup nobody restored is a hope, not a backup.
func drillChecks(ctx context.Context, t *Target) []Check {
	if !t.litestreamHost() {
		return nil
	}
	s, err := drill.Last(ctx, t.Host, t.Config)
	if err != nil {
		return []Check{fail("fire drill", "ship db drill --now", "cannot read the drills: %v", err)}
	}
	return []Check{drillState(s, t.Now())}
}

// drillState judges the last drills and the schedule.
func drillState(s drill.Summary, now time.Time) Check {
	const name = "fire drill"
	ago := func(e *drill.Entry) string { return now.Sub(e.Time).Round(time.Second).String() + " ago" }
	switch {
	case s.Schedule != "" && !s.Running:
		return fail(name, "ship db drill --schedule "+quoteSchedule(s.Schedule),
			"the drill is scheduled %s, but its container is not running", s.Schedule)
	case s.Last != nil && !s.Last.OK:
		return fail(name, "fix what it names, then ship db drill --now",
			"the last drill, %s, failed: %s", ago(s.Last), s.Last.Problem)
	case s.LastOK == nil:
		return warn(name, "ship db drill --now, and ship db drill --schedule daily",
			"no drill has ever restored the backups on this host")
	case now.Sub(s.LastOK.Time) > drillAge:
		fix := "ship db drill --now"
		if s.Schedule == "" {
			fix += ", and ship db drill --schedule daily"
		}
		return warn(name, fix, "the last drill that passed was %s", ago(s.LastOK))
	}
	schedule := "not scheduled"
	if s.Schedule != "" {
		schedule = "scheduled " + s.Schedule
	}
	return ok(name, "the last drill passed %s; %s", ago(s.LastOK), schedule)
}

// quoteSchedule quotes a cron expression for the shell, as the fix is
// typed.
func quoteSchedule(s string) string {
	if s == "hourly" || s == "daily" {
		return s
	}
	return `"` + s + `"`
}
