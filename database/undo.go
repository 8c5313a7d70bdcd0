package database

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/volumes"
)

// A new version that migrates at boot (Rails 8 runs db:prepare when the
// server starts) has changed its databases by the time it fails its
// health check. The old version, started again on that schema, passes its
// health check and then fails its writes. So after a failed start, at the
// quiet moment before the old version starts, each database is compared
// with the restore point recorded at this swap's step 7: PRAGMA
// schema_version, which SQLite bumps at every change to the schema, and
// user_version, which migration tools may keep. If any changed, every
// database goes back to the restore point, because the set was taken at
// one instant and is consistent only as a whole; the failed version's
// files are set aside beside each database, never deleted; and the schema
// must then match the restore point. With no change, the data stays: the
// old version works on it, and the rows the failed version wrote are
// kept.
//
// A migration that changes only data leaves the schema as it was, and is
// not undone; rollback --restore-data is the answer to that one.

//go:embed schema.sh
var schemaScript string

// schemas is a database's schema live and in the restore point: "absent",
// or "SCHEMA_VERSION USER_VERSION".
type schemas struct{ live, point string }

// readSchemas reads db's schema and its restore point's of version.
func readSchemas(ctx context.Context, h *host.Host, db DB, version string) (schemas, error) {
	out, err := inVolume(ctx, h, db, schemaScript, version)
	if err != nil {
		return schemas{}, fmt.Errorf("compare %s with the restore point of %s: %w", db.HostPath, version, err)
	}
	var s schemas
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if v, ok := strings.CutPrefix(line, "live "); ok {
			s.live = v
		} else if v, ok := strings.CutPrefix(line, "point "); ok {
			s.point = v
		}
	}
	if s.live == "" || s.point == "" {
		return schemas{}, fmt.Errorf("compare %s with the restore point of %s: unexpected output %q", db.HostPath, version, out)
	}
	return s, nil
}

// UndoStep is the failure path's data step (deploy.Request.Undo): after
// the version failed started and failed, and has stopped, it compares the
// databases ship knows on the host with the restore point of from, and
// puts that back if a schema changed.
func UndoStep(c *config.Config) func(ctx context.Context, h *host.Host, r *config.Role, from, failed string, out io.Writer) *deploy.DataUndo {
	if !slices.ContainsFunc(c.Volumes, func(v volumes.Mount) bool { return !v.ReadOnly() }) {
		return nil // no database outlives the container: nothing to check
	}
	return func(ctx context.Context, h *host.Host, r *config.Role, from, failed string, out io.Writer) *deploy.DataUndo {
		dbs, err := locateKnown(ctx, h, c, r.Name)
		if err != nil {
			return notChecked(out, failed, err.Error())
		}
		if len(dbs) == 0 {
			return notChecked(out, failed, "ship knows no databases on this host: list them under databases: in config/deploy.yml, so that a failed version that migrated takes its data back with it")
		}
		return undoFailedStart(ctx, h, c, dbs, from, failed, out)
	}
}

func notChecked(out io.Writer, failed, why string) *deploy.DataUndo {
	fmt.Fprintf(out, "WARNING: could not check whether %s changed a database's schema: %s\n", failed, why)
	return &deploy.DataUndo{Check: deploy.DataNotChecked, Note: why}
}

// undoFailedStart compares dbs with the restore point of from and, if
// failed changed a schema, puts back the restore point of all of them.
func undoFailedStart(ctx context.Context, h *host.Host, c *config.Config, dbs []DB, from, failed string, out io.Writer) *deploy.DataUndo {
	u := &deploy.DataUndo{Check: deploy.SchemaUnchanged}
	before := make([]schemas, len(dbs))
	var changed []string
	for i, db := range dbs {
		s, err := readSchemas(ctx, h, db, from)
		if err != nil {
			return notChecked(out, failed, err.Error())
		}
		before[i] = s
		u.Databases = append(u.Databases, deploy.DatabaseUndo{Database: db.Path, SchemaChanged: s.live != s.point})
		if s.live != s.point {
			changed = append(changed, fmt.Sprintf("%s (schema_version and user_version: %s, before it started: %s)", db.Path, s.live, s.point))
		}
	}
	if len(changed) == 0 {
		fmt.Fprintf(out, "%s changed no database's schema: the data stays as it left it\n", failed)
		return u
	}
	u.Check = deploy.SchemaChanged
	fmt.Fprintf(out, "%s changed the schema of %s: putting every database back as %s left it\n", failed, strings.Join(changed, ", "), from)

	why := "failed-" + failed + "-" + time.Now().UTC().Format("20060102T150405Z")
	err, restarted := replace(ctx, h, c, dbs, why, nil, out, func(db DB, aside string) (bool, error) {
		for i := range dbs {
			if dbs[i].Path == db.Path && before[i].point == "absent" {
				fmt.Fprintf(out, "%s did not exist before %s started: leaving it absent\n", db.Path, failed)
				return false, nil
			}
		}
		fmt.Fprintf(out, "putting back %s from the restore point of %s\n", db.Path, from)
		if _, err := inVolume(ctx, h, db, pointScript, from); err != nil {
			return false, fmt.Errorf("copy the restore point %s: %w", path.Join(pointDir(db, from), db.Name()), err)
		}
		return true, nil
	}, func() error { return checkSchemas(ctx, h, dbs, from) })
	if err == nil {
		for i := range u.Databases {
			u.Databases[i].SetAside = path.Join(dbs[i].Dir(), dbs[i].Name()+"."+why)
		}
	}
	switch {
	case err != nil:
		u.Note = fmt.Sprintf("%v; the databases are as %s left them: stop the app, and put back the copies in .ship/restore-points/%s beside each database", err, failed, from)
	case restarted != nil:
		u.Restored = true
		u.Note = fmt.Sprintf("Litestream did not start again: %v; start it with ship accessory boot litestream", restarted)
	default:
		u.Restored = true
	}
	if u.Restored {
		fmt.Fprintf(out, "the schema of every database matches the restore point of %s; %s's files are set aside beside each database\n", from, failed)
	}
	return u
}

// checkSchemas fails unless every database's schema is its restore
// point's: the put-back is checked, not assumed.
func checkSchemas(ctx context.Context, h *host.Host, dbs []DB, version string) error {
	var errs []error
	for _, db := range dbs {
		s, err := readSchemas(ctx, h, db, version)
		if err != nil {
			errs = append(errs, err)
		} else if s.live != s.point {
			errs = append(errs, fmt.Errorf("after putting back the restore point of %s, %s has schema_version and user_version %s, not %s", version, db.Path, s.live, s.point))
		}
	}
	return errors.Join(errs...)
}

// TallyStep is the failure path's last data step (deploy.Request.Tally):
// once the old version serves again, it counts the rows of each table in
// the failed version's files set aside and in the restore point of from,
// so the outcome says what the failed version wrote and where it is.
// Nothing but ship reads those files, so it runs while the app serves.
func TallyStep(c *config.Config) func(ctx context.Context, h *host.Host, r *config.Role, from string, u *deploy.DataUndo, out io.Writer) {
	return func(ctx context.Context, h *host.Host, r *config.Role, from string, u *deploy.DataUndo, out io.Writer) {
		dbs, err := locateKnown(ctx, h, c, r.Name)
		if err != nil {
			fmt.Fprintf(out, "WARNING: could not count the rows set aside: %v\n", err)
			return
		}
		for i := range u.Databases {
			d := &u.Databases[i]
			for _, db := range dbs {
				if db.Path != d.Database || d.SetAside == "" {
					continue
				}
				changes, err := rowChanges(ctx, h, db, path.Base(d.SetAside), from)
				if err != nil {
					fmt.Fprintf(out, "WARNING: could not count the rows of %s set aside in %s: %v\n", db.Path, d.SetAside, err)
					continue
				}
				d.RowChanges = changes
			}
		}
	}
}

// rowChanges counts the rows per table in db's files set aside in the
// directory aside beside it, and in its restore point of version, and
// returns the tables whose counts differ: set aside minus restore point.
// A file that is absent has no rows.
func rowChanges(ctx context.Context, h *host.Host, db DB, aside, version string) (map[string]int64, error) {
	count := func(rel string) (map[string]int64, error) {
		f := DB{Path: db.Path, HostPath: path.Join(db.Root, rel), Root: db.Root, Rel: rel}
		if ok, err := dbExists(ctx, h, f); err != nil || !ok {
			return map[string]int64{}, err
		}
		return countRows(ctx, h, f)
	}
	failed, err := count(path.Join(db.relDir(), aside, db.Name()))
	if err != nil {
		return nil, err
	}
	// The restore point's directories exist only if some database was
	// there to copy: schema.sh looks for them without failing.
	point := map[string]int64{}
	if s, err := readSchemas(ctx, h, db, version); err != nil {
		return nil, err
	} else if s.point != "absent" {
		if point, err = count(path.Join(db.relDir(), ".ship", "restore-points", version, db.Name())); err != nil {
			return nil, err
		}
	}
	changes := map[string]int64{}
	for t, n := range failed {
		if n != point[t] {
			changes[t] = n - point[t]
		}
	}
	for t, n := range point {
		if _, ok := failed[t]; !ok && n != 0 {
			changes[t] = -n
		}
	}
	if len(changes) == 0 {
		return nil, nil
	}
	return changes, nil
}
