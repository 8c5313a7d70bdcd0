package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/actions"
	"github.com/shipdeploy/ship/database"
	"github.com/shipdeploy/ship/follower"
	"github.com/shipdeploy/ship/gate"
	"github.com/shipdeploy/ship/workflow"
)

func dbCommand() *cli.Command {
	jsonFlag := &cli.BoolFlag{Name: "json", Usage: "one JSON document"}
	return &cli.Command{
		Name:        "db",
		Usage:       "the databases Litestream replicates: health, the restore drill, restores, the replicas' followers",
		Description: "The databases of the litestream section, or of a hand-written Litestream accessory (see Backups in the README).",
		Subcommands: []*cli.Command{
			{Name: "status", Usage: "size, WAL, journal mode, pages and replication lag of each database (takes no lock)", Flags: []cli.Flag{jsonFlag}, Action: dbStatus},
			{Name: "verify", Usage: "restore the replica into a temporary copy on the host, check it, and compare row counts with the live database", Flags: []cli.Flag{jsonFlag}, Action: dbVerify},
			{
				Name:  "drill",
				Usage: "the scheduled fire drill: --schedule installs it on the Litestream host (no ship needed there), --now runs one, --unschedule removes it",
				Description: "A drill restores each database's replica into a scratch directory on the host, checks it, compares row counts with the live database\n" +
					"(and with litestream.drill.boot, boots the app on a copy), appends one JSON line to ~/.ship/apps/SERVICE/drills.jsonl there,\n" +
					"and pings litestream.heartbeat_url or failure_url. ship db status shows the last drills.",
				Flags: append([]cli.Flag{
					&cli.StringFlag{Name: "schedule", Usage: "hourly, daily or a 5-field cron expression (\"*/15 * * * *\"), in the host's time; replaces any schedule"},
					&cli.BoolFlag{Name: "now", Usage: "run one drill now, as the schedule does, and print its result"},
					&cli.BoolFlag{Name: "unschedule", Usage: "remove the schedule (the log stays)"},
					jsonFlag,
				}, queueFlags()...),
				Action: dbDrill,
			},
			{
				Name:  "restore",
				Usage: "replace the live databases with the replica: stops the app, sets the current files aside, restores, checks, starts",
				Flags: append([]cli.Flag{
					&cli.StringFlag{Name: "timestamp", Usage: "restore the state as of this time (RFC 3339, e.g. 2026-11-21T09:30:00Z)"},
					&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "do not ask (needed without a terminal)"},
				}, queueFlags()...),
				Action: func(c *cli.Context) error {
					return workflow.DBRestore(c.Context, workflow.DBRestoreRequest{Globals: globals(c), Timestamp: c.String("timestamp"), Yes: c.Bool("yes")})
				},
			},
			{
				Name:  "reseed",
				Usage: "prepare the followers' copies afresh on each replica host (-h picks some): for a follower that runs but no longer advances",
				Description: "On each replica host the replica gate and the replica roles stop (kamal-proxy sends their reads to the writer),\n" +
					"each copy is deleted and restored from the replica's newest, the followers start again, then the replicas and the gate.\n" +
					"ship doctor and ship db status say when a follower is behind the replica by more than lag_warning.",
				Flags: queueFlags(),
				Action: func(c *cli.Context) error {
					return workflow.DBReseed(c.Context, workflow.DBReseedRequest{Globals: globals(c)})
				},
			},
		},
	}
}

// docGlobals are globals(c) for a command that takes --json: with it,
// stdout is the document's alone, so the workflow's progress goes to
// stderr.
func docGlobals(c *cli.Context) workflow.Globals {
	g := globals(c)
	if c.Bool("json") {
		g.UI.Out = c.App.ErrWriter
	}
	return g
}

func dbStatus(c *cli.Context) error {
	st, err := workflow.DBStatus(c.Context, workflow.DBStatusRequest{Globals: docGlobals(c)})
	if err != nil {
		return err
	}
	if c.Bool("json") {
		followers := st.Followers
		if followers == nil {
			followers = []workflow.FollowerHost{}
		}
		return writeJSON(c.App.Writer, map[string]any{"host": st.Host, "databases": st.Databases, "drill": drillDoc(st.Drill, st.DrillError), "followers": followers})
	}
	for i, s := range st.Databases {
		if i > 0 {
			fmt.Fprintln(c.App.Writer)
		}
		printStatus(c.App.Writer, st.Host, s)
	}
	fmt.Fprintln(c.App.Writer)
	printDrills(c.App.Writer, st.Drill, st.DrillError)
	for _, fh := range st.Followers {
		fmt.Fprintln(c.App.Writer)
		printFollowers(c.App.Writer, fh)
	}
	return nil
}

// printFollowers prints the followers of one replica host: each one's
// state, its copy's position against the replica's, and its lag.
func printFollowers(w io.Writer, fh workflow.FollowerHost) {
	fmt.Fprintf(w, "followers on %s\n", fh.Host)
	if fh.Error != "" {
		fmt.Fprintf(w, "  WARNING: cannot read them: %s\n", fh.Error)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range fh.Followers {
		fmt.Fprintf(tw, "  %s\t%s, %s\n", f.Database, f.Follower, f.Phase)
		fmt.Fprintf(tw, "    position\tcopy %s, replica %s", orDash(f.CopyTXID), orDash(f.ReplicaTXID))
		if f.ReplicaTXID != "" {
			fmt.Fprintf(tw, ", %d behind, lag %s", f.Behind, f.Lag().Round(time.Second))
		}
		fmt.Fprintln(tw)
		if f.Error != "" && f.Phase == follower.Following {
			fmt.Fprintf(tw, "    error\t%s\n", f.Error)
		}
	}
	state, warning := gateLine(fh.Gate)
	if state != "" {
		fmt.Fprintf(tw, "  replica gate\t%s\n", state)
	}
	tw.Flush()
	for _, f := range fh.Followers {
		for _, warning := range f.Warnings {
			fmt.Fprintf(w, "  WARNING: %s\n", warning)
		}
	}
	if warning != "" {
		fmt.Fprintf(w, "  WARNING: %s\n", warning)
	}
}

// gateLine is the replica gate's state as db status prints it, and what
// a person must act on; both "" when the gate could not be read.
func gateLine(g *gate.Summary) (state, warning string) {
	if g == nil {
		return "", ""
	}
	var since string
	if g.Last != nil {
		since = fmt.Sprintf(" since %s (%s ago)", g.Last.Time.Local().Format(time.DateTime), time.Since(g.Last.Time).Round(time.Second))
	}
	switch {
	case !g.Installed:
		return "not installed", "the replica gate is not installed: nothing takes the replicas out of the reads when a follower stops; ship deploy installs it"
	case !g.Running:
		return "stopped", "the replica gate does not run: nothing takes the replicas out of the reads when a follower stops; ship deploy starts it"
	case g.Last == nil:
		return "running, the replicas in", ""
	case g.Last.State == gate.Out:
		return "running, the replicas out" + since, "the replica gate has the replicas out of the reads: " + g.Last.Reason
	}
	return "running, the replicas in" + since, ""
}

func printStatus(w io.Writer, host string, s database.Status) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\ton %s (%s)\n", s.Database, host, s.HostPath)
	if s.Exists {
		fmt.Fprintf(tw, "  size\t%s, WAL %s\n", database.HumanBytes(s.Size), database.HumanBytes(s.WALSize))
		fmt.Fprintf(tw, "  pages\t%d of %d bytes\n", s.PageCount, s.PageSize)
		fmt.Fprintf(tw, "  journal mode\t%s\n", s.JournalMode)
	}
	r := s.Replication
	state := r.State
	if r.Error != "" {
		state += " (" + r.Error + ")"
	}
	fmt.Fprintf(tw, "  litestream\t%s\n", state)
	fmt.Fprintf(tw, "  replica\t%s\n", r.Replica)
	if r.LastSync != nil {
		fmt.Fprintf(tw, "  last sync\t%s (%s ago)\n", r.LastSync.Local().Format(time.DateTime), time.Since(*r.LastSync).Round(time.Second))
	}
	if r.LastBackup != nil {
		fmt.Fprintf(tw, "  newest backup\t%s\n", r.LastBackup.Local().Format(time.DateTime))
	}
	if r.LocalTXID != "" || r.ReplicaTXID != "" {
		fmt.Fprintf(tw, "  position\tlocal %s, replica %s, lag %s\n", orDash(r.LocalTXID), orDash(r.ReplicaTXID), time.Duration(r.LagSeconds*float64(time.Second)).Round(time.Second).String())
	}
	tw.Flush()
	for _, warning := range s.Warnings {
		fmt.Fprintf(w, "  WARNING: %s\n", warning)
	}
}

// dbVerify prints the drill's finding, whether or not a database failed
// (the error then says how many did).
func dbVerify(c *cli.Context) error {
	v, err := workflow.DBVerify(c.Context, workflow.DBVerifyRequest{Globals: docGlobals(c)})
	if v == nil {
		return err
	}
	if c.Bool("json") {
		if jerr := writeJSON(c.App.Writer, map[string]any{"host": v.Host, "ok": v.OK(), "databases": v.Databases}); jerr != nil {
			return jerr
		}
		return err
	}
	for _, ch := range v.Databases {
		age := "unknown"
		if ch.LastBackup != nil {
			age = time.Since(*ch.LastBackup).Round(time.Second).String()
		}
		if ch.OK {
			fmt.Fprintf(c.App.Writer, "ok    %s: restored, intact, row counts match (%d tables); newest backup %s old\n", ch.Database, len(ch.Live), age)
		} else {
			fmt.Fprintf(c.App.Writer, "FAIL  %s: %s\n", ch.Database, ch.Problem)
		}
	}
	return err
}

// writeJSON prints a --json document (docs/json.md): indented by two
// spaces, with <, > and & left as they are ("v1 -> v2", "Name <email>"),
// not \u003e and the like, for the people who read it in CI logs.
func writeJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	// Under GitHub Actions, stdout passes a Filter, whose escapes would
	// make the document invalid JSON: escape those texts the JSON way.
	_, err := w.Write(actions.EscapeJSON(b.Bytes()))
	return err
}
