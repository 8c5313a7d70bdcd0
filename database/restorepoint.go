package database

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
)

// A restore point is a copy of every database taken at the quiet moment
// of a swap: the old version has exited and the new one has not started,
// so the copy is exactly the data the old version left, before any
// migration of the new one ran. It is a local copy rather than a
// Litestream position because it must work when the replica is behind or
// unreachable, and it restores in the time of a file copy. Copies live
// beside the databases, in .ship/restore-points/VERSION on their volume,
// readable by root only; one is kept per retained version. The copy keeps
// the database's schema_version (record.sh), so that after a failed start
// the live database can be compared with it (undo.go). Its bulk is
// copied before the pause and brought up to date at the quiet moment
// (prepoint.go), so the copy's cost in the hold does not grow with the
// database.

// pointDir is where the restore point of version is kept for db.
func pointDir(db DB, version string) string {
	return path.Join(db.Dir(), ".ship", "restore-points", version)
}

var (
	//go:embed record.sh
	recordScript string
	//go:embed point.sh
	pointScript string
)

// recordRestorePoint copies the databases as the version that just
// stopped left them. The caller runs it while nothing writes.
func recordRestorePoint(ctx context.Context, h *host.Host, c *config.Config, dbs []DB, version string, out io.Writer) error {
	began := time.Now()
	for _, db := range dbs {
		if _, err := inVolume(ctx, h, db, recordScript, version, strconv.Itoa(c.RetainContainers+1)); err != nil {
			return fmt.Errorf("record a restore point of %s: %w", db.Path, err)
		}
	}
	fmt.Fprintf(out, "recorded the restore point of %s (%.2fs)\n", version, time.Since(began).Seconds())
	return nil
}

// HasRestorePoint fails unless every database ship knows on the host,
// for the primary role, has a restore point of version there.
func HasRestorePoint(ctx context.Context, h *host.Host, c *config.Config, version string) error {
	dbs, err := locateKnown(ctx, h, c, c.PrimaryRole)
	if err != nil {
		return err
	}
	return hasRestorePoint(ctx, h, dbs, version)
}

func hasRestorePoint(ctx context.Context, h *host.Host, dbs []DB, version string) error {
	for _, db := range dbs {
		out, err := inVolume(ctx, h, db, pointScript)
		if err != nil {
			return fmt.Errorf("restore points of %s: %w", db.Path, err)
		}
		var have []string
		for _, line := range strings.Split(out, "\n") {
			if v, ok := strings.CutPrefix(line, "present "); ok {
				have = append(have, v)
			}
		}
		if !slices.Contains(have, version) {
			list := strings.Join(have, ", ")
			if list == "" {
				list = "none"
			}
			return fmt.Errorf("%s has no restore point of %s for %s (restore points: %s); one is recorded when a deploy stops a version",
				h.Name, version, db.Path, list)
		}
	}
	return nil
}

// putBackRestorePoint replaces the live databases with the restore point
// of version. The writes made since are set aside beside each database,
// in NAME.set-aside-TIME, never deleted. The caller runs it while the app
// is stopped, inside the deploy queue; Litestream is stopped around it.
func putBackRestorePoint(ctx context.Context, h *host.Host, c *config.Config, dbs []DB, version string, out io.Writer) error {
	if err := hasRestorePoint(ctx, h, dbs, version); err != nil {
		return err
	}
	stamp := "set-aside-" + time.Now().UTC().Format("20060102T150405Z")
	err, restarted := replace(ctx, h, c, dbs, stamp, nil, out, func(db DB, aside string) (bool, error) {
		point := path.Join(pointDir(db, version), db.Name())
		fmt.Fprintf(out, "putting back %s as it was before the deploy that replaced %s\n", db.Path, version)
		if _, err := inVolume(ctx, h, db, pointScript, version); err != nil {
			return false, fmt.Errorf("copy the restore point %s: %w", point, err)
		}
		fmt.Fprintf(out, "WARNING: the writes made to %s since then are set aside in %s on %s, not in the database\n", db.Path, aside, h.Name)
		return true, nil
	}, nil)
	return errors.Join(err, restarted)
}

// DataStep is the swap's quiet-point step (deploy.Request.Data): where
// ship knows databases on the host (the databases key, and the litestream
// section on its host's primary role), it records a restore point of the
// version that stopped, then, for rollback --restore-data, puts back the
// one of the version that starts. It is nil when ship knows no databases.
// PrepareStep returns the same step, with copies taken before the pause.
func DataStep(c *config.Config, restoreVersion string) DataFunc {
	if c.Litestream == nil && len(c.Databases) == 0 {
		return nil
	}
	return func(ctx context.Context, h *host.Host, r *config.Role, from string, out io.Writer) error {
		return dataStep(ctx, h, c, r, from, restoreVersion, nil, out)
	}
}

// dataStep is DataStep, finishing the copies taken before the pause.
func dataStep(ctx context.Context, h *host.Host, c *config.Config, r *config.Role, from, restoreVersion string, copies map[string]*preCopy, out io.Writer) error {
	dbs, err := locateKnown(ctx, h, c, r.Name)
	if err != nil || len(dbs) == 0 {
		return err
	}
	if from != "" {
		if err := finishRestorePoint(ctx, h, c, dbs, from, copies, out); err != nil {
			return err
		}
	}
	if restoreVersion == "" {
		return nil
	}
	return putBackRestorePoint(ctx, h, c, dbs, restoreVersion, out)
}
