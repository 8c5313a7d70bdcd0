package doctor

import (
	"context"
	"fmt"

	"github.com/kballard/go-shellquote"
)

// volumeChecks checks that each writable app volume is writable by the
// user each role's app runs as: when it is not, SQLite fails with "attempt
// to write a readonly database".
func volumeChecks(ctx context.Context, t *Target) []Check {
	if err := t.layout(ctx); err != nil {
		return []Check{fail("volumes", t.exec("docker volume ls"), "cannot read the app's volumes: %v", err)}
	}
	var out []Check
	for _, r := range t.Roles {
		u, found, err := roleUser(ctx, t, r.Name)
		if err != nil {
			out = append(out, fail("volumes "+r.Name, "", "cannot tell which user %s runs as: %v", r.Name, err))
			continue
		}
		if !found {
			out = append(out, warn("volumes "+r.Name, "ship deploy -h "+t.Host.Name, "role %s has no container on the host, so no image to check its volumes against", r.Name))
			continue
		}
		for _, v := range t.vols {
			if v.Mount.ReadOnly() {
				continue
			}
			out = append(out, volumeWritable(t, r.Name, v, t.dirs[v.Dir], u))
		}
	}
	return out
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
