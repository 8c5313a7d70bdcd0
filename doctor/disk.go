package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/kballard/go-shellquote"

	"github.com/shipdeploy/ship/database"
)

// warnFree is the free space, in percent, below which a filesystem warns.
const warnFree = 10.0

// layout reads, once, the app volumes' directories and Docker's data
// root, and what paths.sh says of each.
func (t *Target) layout(ctx context.Context) error {
	if t.dirs != nil || t.layoutErr != nil {
		return t.layoutErr
	}
	info, err := t.Host.Docker.Info(ctx)
	if err != nil {
		t.layoutErr = fmt.Errorf("docker info: %w", err)
		return t.layoutErr
	}
	t.dockerRoot = info.DockerRootDir
	if t.vols, err = t.volumeDirs(ctx); err != nil {
		t.layoutErr = err
		return err
	}
	paths := []string{t.dockerRoot}
	for _, v := range t.vols {
		if v.Dir != "" {
			paths = append(paths, v.Dir)
		}
	}
	t.dirs, t.layoutErr = t.readDirs(ctx, paths)
	return t.layoutErr
}

// diskChecks looks at the free space of the filesystem of each app volume
// and of Docker's data root, and on a replica host of each volume of
// copies, which a re-seed fills again. A replica host's databases are
// none of the app roles': its copies need no restore points.
func diskChecks(ctx context.Context, t *Target) []Check {
	if err := t.layout(ctx); err != nil {
		return []Check{fail("disk", t.exec("df -h"), "cannot read the free space: %v", err)}
	}
	dbs, _ := t.databaseStatuses(ctx) // their absence is the databases check's to report
	var out []Check
	out = append(out, diskSpace(t, "Docker's data root", t.dirs[t.dockerRoot], dbs))
	for _, v := range t.vols {
		if d, found := t.dirs[v.Dir]; found && !d.Missing {
			out = append(out, diskSpace(t, "volume "+v.Mount.Source, d, dbs))
		}
	}
	return out
}

// diskSpace judges the free space of the filesystem of d, which holds
// what, and those of dbs that live under it.
func diskSpace(t *Target, what string, d dirInfo, dbs []database.Status) Check {
	name := "disk " + what
	if d.Missing || d.Size == 0 {
		return fail(name, t.exec("df -h"), "%s is missing, or its filesystem has no size", d.Path)
	}
	var dbBytes int64
	for _, s := range dbs {
		if strings.HasPrefix(s.HostPath, strings.TrimSuffix(d.Path, "/")+"/") {
			dbBytes += s.Size + s.WALSize
		}
	}
	pct := 100 * float64(d.Free) / float64(d.Size)
	free := fmt.Sprintf("%s free of %s (%.1f %%) on the filesystem of %s", database.HumanBytes(d.Free), database.HumanBytes(d.Size), pct, d.Path)
	fix := "free space on that filesystem (ship prune removes old versions; " + t.asRoot(shellquote.Join("du", "-xsh", d.Path)) + " shows what takes it), or grow it"
	dbs2 := ""
	if dbBytes > 0 {
		dbs2 = fmt.Sprintf("; its databases take %s", database.HumanBytes(dbBytes))
	}
	switch {
	case pct < t.MinFree:
		return fail(name, fix, "%s: below the %.4g %% ship doctor fails at (--min-free)%s", free, t.MinFree, dbs2)
	case d.Free < dbBytes:
		return fail(name, fix, "%s%s: a deploy's restore point, a copy of each database, would not fit", free, dbs2)
	case pct < warnFree:
		return warn(name, fix, "%s: below %.0f %%%s", free, warnFree, dbs2)
	case d.Free < 2*dbBytes:
		return warn(name, fix, "%s%s: less than twice their size is left, for restore points and restores", free, dbs2)
	}
	return ok(name, "%s%s", free, dbs2)
}
