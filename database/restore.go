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

	"github.com/docker/docker/client"

	"github.com/shipdeploy/ship/accessories"
	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/deploy"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/spec"
)

// Restore replaces the live databases with their replica, as of at (an
// RFC 3339 time) when set. The caller holds the deploy queue.
//
//  1. the app and Litestream stop on the host;
//  2. the current files move aside into NAME.before-restore-TIME beside
//     the database, never deleted;
//  3. a one-off Litestream restores each database in place;
//  4. each passes PRAGMA integrity_check;
//  5. Litestream and the app start again, and the app must be healthy.
//
// If 3 or 4 fails, the files set aside are put back and everything that
// ran is started again, as it was; if ship is killed, the next ship
// command on the host does that (RepairData).
func Restore(ctx context.Context, h *host.Host, c *config.Config, at string, out io.Writer) error {
	dbs, err := Locate(ctx, h, c)
	if err != nil {
		return err
	}
	running, err := stopApp(ctx, h, c, out)
	if err != nil {
		return err
	}
	stamp := "before-restore-" + time.Now().UTC().Format("20060102T150405Z")
	err, restarted := replace(ctx, h, c, dbs, stamp, running, out, func(db DB, aside string) (bool, error) {
		fmt.Fprintf(out, "restoring %s from %s\n", db.Path, db.Replica)
		return true, runRestore(ctx, h, c, db, restoreRun{out: db.Litestream, at: at})
	}, nil)
	return errors.Join(err, restarted)
}

// replicating says whether the Litestream accessory (the litestream
// section's, or the hand-written one, by its name) runs on the host.
func replicating(ctx context.Context, h *host.Host, c *config.Config) bool {
	if name, err := Host(c); err != nil || name != h.Name {
		return false
	}
	info, err := h.Docker.ContainerInspect(ctx, spec.AccessoryName(c, Accessory(c)))
	return err == nil && info.State.Running
}

// replace gives every database what fill puts in its place (fill says
// false to leave one absent), which must pass the integrity check, as
// one step that nothing leaves half-done:
//
//  1. a journal on the host records the step before any file moves;
//  2. Litestream stops: it must not replicate a set of databases while
//     they are replaced;
//  3. every database's files move aside beside it, NAME.why;
//  4. fill puts new ones in place, each checked;
//  5. if 3 or 4 fails, every database gets its own files back; else
//     check, if given, looks at the new files as a whole;
//  6. Litestream, and the versions in start, start again;
//  7. the journal is cleared, once every database is whole.
//
// A ship killed between 1 and 7 leaves the journal, and the next ship
// command on the host finishes 5 and 6 (RepairData). restarted is 6's
// error.
func replace(ctx context.Context, h *host.Host, c *config.Config, dbs []DB, why string, start []ran, out io.Writer, fill func(db DB, aside string) (bool, error), check func() error) (err, restarted error) {
	j := replacement{Why: why, Databases: dbs, Replicating: replicating(ctx, h, c)}
	for _, x := range start {
		j.Start = append(j.Start, startAgain{Role: x.role.Name, Version: x.version})
	}
	if err := writeJournal(ctx, h, c, j); err != nil {
		return err, restart(ctx, h, c, false, start, out)
	}
	if j.Replicating {
		if err := accessories.Stop(ctx, h, c, Accessory(c), out); err != nil {
			return err, finish(ctx, h, c, j, start, out)
		}
	} else {
		fmt.Fprintf(out, "Litestream is not running\n")
	}
	err = replaceFiles(ctx, h, c, &j, out, fill)
	var whole *notWholeError
	if errors.As(err, &whole) {
		return err, restart(ctx, h, c, j.Replicating, start, out)
	}
	if err == nil && check != nil {
		// Before Litestream starts again: it adds tables of its own.
		err = check()
	}
	return err, finish(ctx, h, c, j, start, out)
}

// finish starts again what ran, then clears the journal.
func finish(ctx context.Context, h *host.Host, c *config.Config, j replacement, start []ran, out io.Writer) error {
	err := restart(ctx, h, c, j.Replicating, start, out)
	return errors.Join(err, clearJournal(ctx, h, c))
}

// notWholeError is a replacement whose databases could not all be put
// back: the journal stays for the next ship command to finish it.
type notWholeError struct{ err error }

func (e *notWholeError) Error() string {
	return fmt.Sprintf("%v; the next ship command on this host puts the databases back (its repair step)", e.err)
}

func (e *notWholeError) Unwrap() error { return e.err }

// replaceFiles is replace's steps 3 to 5, recording the phase in the
// journal as it moves on.
func replaceFiles(ctx context.Context, h *host.Host, c *config.Config, j *replacement, out io.Writer, fill func(db DB, aside string) (bool, error)) error {
	undo := func(cause error) error {
		if err := putBackAll(ctx, h, j, out); err != nil {
			return &notWholeError{errors.Join(cause, err)}
		}
		return cause
	}
	asides := map[string]string{}
	for _, db := range j.Databases {
		aside, err := setAside(ctx, h, db, j.Why)
		if err != nil {
			return undo(err)
		}
		asides[db.Path] = aside
		fmt.Fprintf(out, "moved %s aside to %s\n", db.HostPath, aside)
	}
	j.Phase = filling
	if err := writeJournal(ctx, h, c, *j); err != nil {
		return undo(err)
	}
	for _, db := range j.Databases {
		filled, err := fill(db, asides[db.Path])
		if err != nil {
			return undo(err)
		}
		if !filled {
			continue
		}
		if err := ownLike(ctx, h, db, asides[db.Path]); err != nil {
			return undo(err)
		}
		if err := integrityCheck(ctx, h, db); err != nil {
			return undo(err)
		}
		fmt.Fprintf(out, "%s: integrity ok\n", db.Path)
	}
	return nil
}

// putBackAll gives every database of the journal its own files back:
// while setting aside, what is still in place is the rest of them; while
// filling, it is new, and removed.
func putBackAll(ctx context.Context, h *host.Host, j *replacement, out io.Writer) error {
	mode := "discard"
	if j.Phase == settingAside {
		mode = "keep"
	}
	var errs []error
	for _, db := range j.Databases {
		errs = append(errs, putBack(ctx, h, db, path.Join(db.Dir(), db.Name()+"."+j.Why), mode))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Fprintf(out, "put the databases back as they were\n")
	return nil
}

// stopApp stops every role on the host and returns the versions that ran.
func stopApp(ctx context.Context, h *host.Host, c *config.Config, out io.Writer) ([]ran, error) {
	var running []ran
	for _, r := range c.Roles {
		if !slices.ContainsFunc(r.Hosts, func(x config.Host) bool { return x.Address == h.Name }) {
			continue
		}
		list, err := deploy.Containers(ctx, h, c, r.Name)
		if err != nil {
			return nil, err
		}
		// A container in a restart loop writes whenever it runs.
		if i := slices.IndexFunc(list, func(a deploy.AppContainer) bool { return a.State == "running" || a.State == "restarting" }); i >= 0 {
			running = append(running, ran{role: r, version: list[i].Version})
		}
	}
	for i, x := range running {
		if err := deploy.Stop(ctx, h, c, x.role, out); err != nil {
			return nil, errors.Join(err, restart(ctx, h, c, false, running[:i], out))
		}
	}
	return running, nil
}

// ran is a role's version that ran before the app was stopped: the one to
// start again, not the role's newest container, which may be one whose
// start failed.
type ran struct {
	role    *config.Role
	version string
}

// restart starts Litestream if it ran, and the versions that ran, and
// waits for them.
func restart(ctx context.Context, h *host.Host, c *config.Config, litestream bool, roles []ran, out io.Writer) error {
	ctx = context.WithoutCancel(ctx)
	var errs []error
	if litestream {
		errs = append(errs, accessories.Start(ctx, h, c, Accessory(c), out))
	}
	for _, x := range roles {
		errs = append(errs, deploy.Start(ctx, h, c, x.role, x.version, out))
	}
	return errors.Join(errs...)
}

// RestoreIfMissing restores each database that does not exist on the host
// from its replica, when the replica has a backup: a new server comes up
// with the old one's data instead of an empty database that Litestream
// would then replicate over the backups. It runs before Litestream and
// the app start (ship setup).
func RestoreIfMissing(ctx context.Context, h *host.Host, local client.APIClient, c *config.Config, out io.Writer) error {
	dbs, err := Locate(ctx, h, c)
	if err != nil {
		return err
	}
	for _, db := range dbs {
		if exists, err := dbExists(ctx, h, db); err != nil {
			return err
		} else if exists {
			continue
		}
		fmt.Fprintf(out, "%s does not exist: restoring it from %s if that has a backup\n", db.Path, db.Replica)
		if err := runRestore(ctx, h, c, db, restoreRun{out: db.Litestream, ifReplicaExists: true, local: local}); err != nil {
			return err
		}
		if exists, err := dbExists(ctx, h, db); err != nil {
			return err
		} else if !exists {
			fmt.Fprintf(out, "%s: the replica has no backup yet; the app starts with a new database\n", db.Path)
			continue
		}
		if err := ownLike(ctx, h, db, ""); err != nil {
			return err
		}
		if err := integrityCheck(ctx, h, db); err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: restored from the replica, integrity ok\n", db.Path)
	}
	return nil
}

//go:embed exists.sh
var existsScript string

// dbExists says whether the database's file exists, refusing a link in
// its place.
func dbExists(ctx context.Context, h *host.Host, db DB) (bool, error) {
	out, err := inVolume(ctx, h, db, existsScript)
	if err != nil {
		return false, fmt.Errorf("look for %s: %w", db.HostPath, err)
	}
	return strings.TrimSpace(out) == "yes", nil
}
