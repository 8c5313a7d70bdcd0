package database

import (
	"context"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/accessories"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
)

// Check is the fire drill's finding for one database.
type Check struct {
	Database   string           `json:"database"`
	OK         bool             `json:"ok"`
	LastBackup *time.Time       `json:"last_backup,omitempty"`
	Replica    map[string]int64 `json:"replica_rows,omitempty"`
	Live       map[string]int64 `json:"live_rows,omitempty"`
	Problem    string           `json:"problem,omitempty"`
}

// verifyDir is where copies are restored on the host, never beside the
// live files; each drill makes its own directory in it and removes it.
const verifyDir = "/var/tmp"

// Verify restores each database's latest replica into a temporary
// directory on the host, checks the copy's integrity, and compares each
// table's row count with the live database, read-only. Counts that differ
// are measured again a few times: a write the replica has not caught up
// with yet is lag, not damage. The copies are removed.
func Verify(ctx context.Context, h *host.Host, c *config.Config, out io.Writer) ([]Check, error) {
	dbs, err := Locate(ctx, h, c)
	if err != nil {
		return nil, err
	}
	// Named for the app: a leftover says whose it is.
	tmp, err := asRoot(ctx, h, "mktemp", "-d", verifyDir+"/ship-verify-"+c.ServiceAndDestination()+"-XXXXXXXX")
	if err != nil {
		return nil, fmt.Errorf("make a directory for the copies: %w", err)
	}
	tmp = strings.TrimSpace(tmp)
	defer asRoot(context.WithoutCancel(ctx), h, "rm", "-rf", "--", tmp)
	var checks []Check
	for _, db := range dbs {
		checks = append(checks, verifyOne(ctx, h, c, db, tmp, out))
	}
	repl := replication(ctx, h, c, dbs, time.Now())
	for i, db := range dbs {
		checks[i].LastBackup = repl[db.Path].LastBackup
	}
	return checks, nil
}

// retries is how often differing counts are measured again, one sync
// interval apart.
const retries = 3

func verifyOne(ctx context.Context, h *host.Host, c *config.Config, db DB, tmp string, out io.Writer) Check {
	ch := Check{Database: db.Path}
	wait := c.Litestream.SyncInterval + time.Second
	for attempt := 0; ; attempt++ {
		copyPath := path.Join(tmp, fmt.Sprintf("%d-%s", attempt, db.Name()))
		fmt.Fprintf(out, "restoring %s from %s into %s\n", db.Path, db.Replica, copyPath)
		if err := runRestore(ctx, h, c, db, restoreRun{out: copyPath, copyDir: tmp}); err != nil {
			ch.Problem = err.Error()
			return ch
		}
		copyDB := DB{Path: db.Path, HostPath: copyPath, Root: tmp, Rel: path.Base(copyPath)}
		if err := integrityCheck(ctx, h, copyDB); err != nil {
			ch.Problem = "the restored copy is damaged: " + err.Error()
			return ch
		}
		replica, err := countRows(ctx, h, copyDB)
		if err != nil {
			ch.Problem = err.Error()
			return ch
		}
		live, err := countRows(ctx, h, db)
		if err != nil {
			ch.Problem = "the live database: " + err.Error()
			return ch
		}
		ch.Replica, ch.Live = replica, live
		diff := differences(replica, live)
		if len(diff) == 0 {
			ch.OK = true
			fmt.Fprintf(out, "%s: integrity ok, %d tables, row counts match\n", db.Path, len(live))
			return ch
		}
		if attempt == retries {
			ch.Problem = "row counts differ from the live database: " + strings.Join(diff, "; ")
			return ch
		}
		fmt.Fprintf(out, "%s: row counts differ (%s); measuring again in %s\n", db.Path, strings.Join(diff, "; "), wait)
		select {
		case <-ctx.Done():
			ch.Problem = ctx.Err().Error()
			return ch
		case <-time.After(wait):
		}
	}
}

func differences(replica, live map[string]int64) []string {
	var out []string
	for _, t := range slices.Sorted(maps.Keys(live)) {
		r, ok := replica[t]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("table %s is missing from the replica", t))
		case r != live[t]:
			out = append(out, fmt.Sprintf("%s has %d rows in the replica, %d live", t, r, live[t]))
		}
	}
	for _, t := range slices.Sorted(maps.Keys(replica)) {
		if _, ok := live[t]; !ok {
			out = append(out, fmt.Sprintf("table %s is in the replica but not live", t))
		}
	}
	return out
}

// restoreRun is one Litestream restore of a database's replica.
type restoreRun struct {
	out             string // where the copy goes, inside the Litestream container
	at              string // RFC 3339: the state as of then; "" for the latest
	ifReplicaExists bool   // no backup is not an error
	copyDir         string // a host directory mounted at the same path, for out
	local           client.APIClient
}

// runRestore runs the restore in a one-off container of the Litestream
// accessory. With copyDir the copy goes outside the app's volume, which is
// then mounted read-only; without, it is written into the volume, so
// nothing else may be writing (RunAccessory checks).
func runRestore(ctx context.Context, h *host.Host, c *config.Config, db DB, r restoreRun) error {
	cmd := append([]string{"restore"}, c.Litestream.ConfigArgs()...)
	cmd = append(cmd, "-o", r.out)
	if r.at != "" {
		cmd = append(cmd, "-timestamp", r.at)
	}
	if r.ifReplicaExists {
		cmd = append(cmd, "-if-replica-exists")
	}
	o := accessories.OneOff{Task: "restore", Cmd: append(cmd, db.Litestream), Local: r.local}
	if r.copyDir != "" {
		o.Binds, o.ReadOnly = []string{r.copyDir + ":" + r.copyDir}, true
	}
	status, logs, err := accessories.Run(ctx, h, c, Accessory(c), o)
	if err != nil {
		return err
	}
	if status != 0 {
		return restoreError(db, logs)
	}
	return nil
}

// restoreError says plainly what a failed Litestream restore means.
func restoreError(db DB, logs string) error {
	for _, none := range []string{"no matching backup", "no backups found", "no snapshots available", "no generations"} {
		if strings.Contains(logs, none) {
			return fmt.Errorf("the replica %s has no backup of %s: Litestream has not replicated it (is the litestream accessory running?), or the replica was deleted", db.Replica, db.Path)
		}
	}
	return fmt.Errorf("restoring %s from %s failed:\n%s", db.Path, db.Replica, indent(tail(logs, 15)))
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
