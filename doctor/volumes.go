package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/kballard/go-shellquote"

	"github.com/shipdeploy/ship/database"
)

// volumeChecks checks that each writable app volume, and each database's
// directory and files, are writable by the user each role's app runs as:
// when they are not, SQLite fails with "attempt to write a readonly
// database". Not for replica roles: they mount every volume read-only
// and open the copies read-only, so their user needs no write access,
// and the copies' one writer is the follower, as root.
func volumeChecks(ctx context.Context, t *Target) []Check {
	if len(t.appRoleNames()) == 0 {
		return nil
	}
	if err := t.layout(ctx); err != nil {
		return []Check{fail("volumes", t.exec("docker volume ls"), "cannot read the app's volumes: %v", err)}
	}
	var out []Check
	for _, r := range t.Roles {
		if r.IsReplica() {
			continue
		}
		u, found, err := roleUser(ctx, t, r.Name)
		if err != nil {
			out = append(out, fail("volumes "+r.Name, "set the image's USER to a user of its /etc/passwd, or to numbers (USER 1000:1000)", "cannot tell which user %s runs as: %v", r.Name, err))
			continue
		}
		if !found {
			out = append(out, warn("volumes "+r.Name, "ship deploy -h "+t.Host.Name, "role %s has no container on the host, so no image to check its volumes against", r.Name))
			continue
		}
		for _, v := range t.vols {
			if v.Mount.ReadOnly() || v.Copy {
				continue
			}
			out = append(out, volumeWritable(t, r.Name, v, t.dirs[v.Dir], u))
		}
		owners, err := database.Ownerships(ctx, t.Host, t.Config, []string{r.Name})
		if err != nil {
			out = append(out, fail("database files "+r.Name, "what the message says, then ship doctor again", "cannot read who owns the databases' files: %v", err))
			continue
		}
		for _, o := range owners {
			out = append(out, databaseWritable(t, r.Name, o, u))
		}
	}
	return out
}

// databaseWritable judges whether u can write a database: create files in
// its directory, and write the database and its -wal and -shm files.
func databaseWritable(t *Target, role string, o database.Ownership, u appUser) Check {
	name := "writable " + o.Database
	var bad []string
	var paths []string
	if !canWrite(dirInfo{UID: o.Dir.UID, GID: o.Dir.GID, Mode: o.Dir.Mode}, u) {
		bad = append(bad, fmt.Sprintf("its directory %s (%d:%d, mode %o)", o.Dir.HostPath, o.Dir.UID, o.Dir.GID, o.Dir.Mode))
		paths = append(paths, o.Dir.HostPath)
	}
	for _, f := range o.Files {
		if !canWriteFile(f, u) {
			bad = append(bad, fmt.Sprintf("%s (%d:%d, mode %o)", f.HostPath, f.UID, f.GID, f.Mode))
			paths = append(paths, f.HostPath)
		}
	}
	if len(bad) == 0 {
		return ok(name, "its directory and files are writable by %s", u)
	}
	args := append([]string{"chown", "-h", fmt.Sprintf("%d:%d", u.UID, u.GID)}, paths...)
	return fail(name, t.asRoot(shellquote.Join(args...)), "%s runs as %s, who cannot write %s: SQLite fails with \"attempt to write a readonly database\"",
		role, u, strings.Join(bad, ", "))
}

// canWriteFile reports whether u may write the file f: the write bit of
// the one class of its mode that applies to u.
func canWriteFile(f database.FileOwner, u appUser) bool {
	const w = 2
	switch {
	case u.UID == 0:
		return true
	case f.UID == u.UID:
		return f.Mode>>6&w == w
	case f.GID == u.GID:
		return f.Mode>>3&w == w
	}
	return f.Mode&w == w
}

// volumeWritable judges whether u can create and write files in v's
// directory d.
func volumeWritable(t *Target, role string, v volumeDir, d dirInfo, u appUser) Check {
	name := "volume " + v.Mount.Source
	if v.Dir == "" || d.Missing {
		return fail(name, "ship setup", "the volume %s does not exist on the host", v.Mount.Source)
	}
	if d.Type != "directory" {
		return fail(name, "make "+d.Path+" a directory, not a "+d.Type, "%s, the volume mounted at %s, is a %s", d.Path, v.Mount.Target, d.Type)
	}
	where := fmt.Sprintf("%s (mounted at %s)", d.Path, v.Mount.Target)
	if canWrite(d, u) {
		return ok(name, "%s is writable by %s, whom %s runs as", where, u, role)
	}
	fix := t.asRoot(shellquote.Join("chown", "-R", "-h", fmt.Sprintf("%d:%d", u.UID, u.GID), d.Path))
	return fail(name, fix, "%s is owned by %d:%d with mode %o, but %s runs as %s, who cannot write it: SQLite fails with \"attempt to write a readonly database\"",
		where, d.UID, d.GID, d.Mode, role, u)
}

// canWrite reports whether u may create files in d: write and search
// permission in the one class of d's mode that applies to u (owner, group
// or other, as the kernel picks it). Supplementary groups are not known.
func canWrite(d dirInfo, u appUser) bool {
	const wx = 3
	switch {
	case u.UID == 0:
		return true
	case d.UID == u.UID:
		return d.Mode>>6&wx == wx
	case d.GID == u.GID:
		return d.Mode>>3&wx == wx
	}
	return d.Mode&wx == wx
}
