package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/database"
	"github.com/shipdeploy/ship/drill"
	"github.com/shipdeploy/ship/workflow"
)

// dbDrill prints what ship db drill did; a drill that failed is printed,
// then its error returned.
func dbDrill(c *cli.Context) error {
	res, err := workflow.DBDrill(c.Context, workflow.DBDrillRequest{
		Globals: docGlobals(c), Schedule: c.String("schedule"), Now: c.Bool("now"), Unschedule: c.Bool("unschedule"),
	})
	if res == nil {
		return err
	}
	w := c.App.Writer
	if c.Bool("json") {
		doc := map[string]any{"host": res.Host}
		switch {
		case res.Entry != nil:
			doc["drill"] = res.Entry
		case res.Scheduled != "":
			doc["scheduled"] = res.Scheduled
		default:
			doc["removed"] = res.Removed
		}
		if jerr := writeJSON(w, doc); jerr != nil {
			return jerr
		}
		return err
	}
	switch {
	case res.Entry != nil:
		printEntry(w, res.Entry)
	case res.Scheduled != "":
		fmt.Fprintf(w, "fire drill scheduled on %s: %s\n", res.Host, res.Scheduled)
	case res.Removed:
		fmt.Fprintf(w, "fire drill schedule removed on %s\n", res.Host)
	default:
		fmt.Fprintf(w, "no fire drill was scheduled on %s\n", res.Host)
	}
	return err
}

// printEntry prints one drill: a line per database, then the outcome.
func printEntry(w io.Writer, e *drill.Entry) {
	for _, d := range e.Databases {
		word := "FAIL"
		if d.OK {
			word = "ok  "
		}
		fmt.Fprintf(w, "%s  %s: %d tables, %s rows restored in %.1fs\n", word, d.Path, len(d.Rows), rowTotal(d.Rows), d.RestoreSeconds)
	}
	fmt.Fprintf(w, "%s\n", entryLine(e))
}

func rowTotal(rows map[string]int64) string {
	var n int64
	for _, r := range rows {
		n += r
	}
	return fmt.Sprint(n)
}

// entryLine is a drill's outcome in one line.
func entryLine(e *drill.Entry) string {
	when := e.Time.Local().Format(time.DateTime)
	age := "unknown"
	if e.ReplicaAgeSeconds != nil {
		age = (time.Duration(*e.ReplicaAgeSeconds) * time.Second).String()
	}
	if !e.OK {
		return fmt.Sprintf("FAILED at %s: %s", when, e.Problem)
	}
	line := fmt.Sprintf("passed at %s: restore %.1fs, newest backup %s old", when, e.RestoreSeconds, age)
	if e.Booted != nil && *e.Booted {
		line += ", the app booted on the restored copy"
	}
	return line
}

// drillDoc is the drill part of db status --json.
func drillDoc(s drill.Summary, problem string) map[string]any {
	doc := map[string]any{"schedule": s.Schedule, "running": s.Running, "last": s.Last, "last_ok": s.LastOK, "day_before": s.DayBefore, "growth_bytes": s.Growth()}
	if problem != "" {
		doc["error"] = problem
	}
	return doc
}

// printDrills is the drill part of db status.
func printDrills(w io.Writer, s drill.Summary, problem string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	defer tw.Flush()
	fmt.Fprintf(tw, "fire drills\t")
	switch {
	case s.Schedule == "":
		fmt.Fprintf(tw, "not scheduled (ship db drill --schedule daily)\n")
	case s.Running:
		fmt.Fprintf(tw, "scheduled: %s\n", s.Schedule)
	default:
		fmt.Fprintf(tw, "scheduled: %s, but its container is not running (ship db drill --schedule again)\n", s.Schedule)
	}
	if problem != "" {
		fmt.Fprintf(tw, "  error\t%s\n", problem)
	}
	if s.Last == nil {
		fmt.Fprintf(tw, "  last drill\tnone yet\n")
		return
	}
	fmt.Fprintf(tw, "  last drill\t%s\n", entryLine(s.Last))
	if s.LastOK == nil {
		fmt.Fprintf(tw, "  last passed\tnever\n")
	} else if s.LastOK != s.Last {
		fmt.Fprintf(tw, "  last passed\t%s\n", entryLine(s.LastOK))
	}
	growth := s.Growth()
	for _, p := range slices.Sorted(maps.Keys(growth)) {
		sign := "+"
		n := growth[p]
		if n < 0 {
			sign, n = "-", -n
		}
		fmt.Fprintf(tw, "  growth\t%s %s%s since the drill of %s\n", p, sign, database.HumanBytes(n), s.DayBefore.Time.Local().Format(time.DateTime))
	}
}
