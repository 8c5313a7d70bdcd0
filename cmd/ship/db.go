package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/shipdeploy/ship/audit"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/database"
	"github.com/shipdeploy/ship/fleet"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/queue"
	"github.com/shipdeploy/ship/ssh"
)

func dbCommand() *cli.Command {
	jsonFlag := &cli.BoolFlag{Name: "json", Usage: "one JSON document"}
	return &cli.Command{
		Name:  "db",
		Usage: "the databases of the litestream section: health, the restore drill, restores",
		Subcommands: []*cli.Command{
			{Name: "status", Usage: "size, WAL, journal mode, pages and replication lag of each database (takes no lock)", Flags: []cli.Flag{jsonFlag}, Action: dbStatus},
			{Name: "verify", Usage: "restore the replica into a temporary copy on the host, check it, and compare row counts with the live database", Flags: []cli.Flag{jsonFlag}, Action: dbVerify},
			{
				Name:  "restore",
				Usage: "replace the live databases with the replica: stops the app, sets the current files aside, restores, checks, starts",
				Flags: append([]cli.Flag{
					&cli.StringFlag{Name: "timestamp", Usage: "restore the state as of this time (RFC 3339, e.g. 2026-11-21T09:30:00Z)"},
					&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "do not ask (needed without a terminal)"},
				}, queueFlags()...),
				Action: dbRestore,
			},
		},
	}
}

// dbHost loads the config and connects to the host the litestream
// section runs on.
func dbHost(c *cli.Context) (*config.Config, *ssh.Pool, *host.Host, error) {
	cfg, err := loadConfig(c)
	if err != nil {
		return nil, nil, nil, err
	}
	pool, h, err := connectDBHost(c, cfg)
	return cfg, pool, h, err
}

func connectDBHost(c *cli.Context, cfg *config.Config) (*ssh.Pool, *host.Host, error) {
	name, err := database.Host(cfg)
	if err != nil {
		return nil, nil, usageError{err}
	}
	pool := ssh.NewPool(fleet.SSHConfig(cfg))
	engines, err := openHosts(c.Context, pool, []string{name})
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	return pool, engines[name], nil
}

func dbStatus(c *cli.Context) error {
	cfg, pool, h, err := dbHost(c)
	if err != nil {
		return err
	}
	defer pool.Close()
	statuses, err := database.Statuses(c.Context, h, cfg, time.Now())
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return writeJSON(c.App.Writer, map[string]any{"host": h.Name, "databases": statuses})
	}
	for i, s := range statuses {
		if i > 0 {
			fmt.Fprintln(c.App.Writer)
		}
		printStatus(c.App.Writer, h.Name, s)
	}
	return nil
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

func dbVerify(c *cli.Context) error {
	cfg, pool, h, err := dbHost(c)
	if err != nil {
		return err
	}
	defer pool.Close()
	progress := c.App.Writer
	if c.Bool("json") {
		progress = c.App.ErrWriter
	}
	checks, err := database.Verify(c.Context, h, cfg, progress)
	if err != nil {
		return err
	}
	failed := 0
	for _, ch := range checks {
		if !ch.OK {
			failed++
		}
	}
	if c.Bool("json") {
		if err := writeJSON(c.App.Writer, map[string]any{"host": h.Name, "ok": failed == 0, "databases": checks}); err != nil {
			return err
		}
	} else {
		for _, ch := range checks {
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
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d databases failed the restore drill", failed, len(checks))
	}
	return nil
}

func dbRestore(c *cli.Context) error {
	at := c.String("timestamp")
	if at != "" {
		if _, err := time.Parse(time.RFC3339, at); err != nil {
			return usageError{fmt.Errorf("--timestamp %q: want RFC 3339, like 2026-11-21T09:30:00Z", at)}
		}
	}
	cfg, pool, h, err := dbHost(c)
	if err != nil {
		return err
	}
	defer pool.Close()
	what := "the latest replica"
	if at != "" {
		what = "the replica as of " + at
	}
	prompt := fmt.Sprintf("Stop %s on %s and replace %s with %s? The current files are kept beside them. [y/N] ",
		cfg.Service, h.Name, strings.Join(cfg.Litestream.Databases, ", "), what)
	if !c.Bool("yes") && !confirm(c, prompt) {
		return errors.New("not restored: confirm on a terminal, or pass --yes")
	}
	engines := map[string]*host.Host{h.Name: h}
	return mutate(c, cfg, pool, engines, nil, queue.Ticket{Command: "db restore"}, func(ctx context.Context) error {
		out := output(c.App.Writer).Prefixed("[" + h.Name + "] ")
		defer out.Close()
		err := database.Restore(ctx, h, cfg, at, out)
		result := "restored " + what
		if err != nil {
			result = "failed: " + err.Error()
		}
		e := audit.Entry{Time: time.Now(), Performer: audit.Performer(), Command: "db restore", Result: result}
		if aerr := audit.Append(context.WithoutCancel(ctx), h.Shell, audit.Path(cfg.ServiceAndDestination()), e); aerr != nil {
			fmt.Fprintf(out, "audit log: %v\n", aerr)
		}
		return err
	})
}

// writeJSON prints a --json document (docs/json.md): indented by two
// spaces, with <, > and & left as they are ("v1 -> v2", "Name <email>"),
// not \u003e and the like, for the people who read it in CI logs.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
