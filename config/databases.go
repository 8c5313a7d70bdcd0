package config

import (
	"path"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/shipdeploy/ship/volumes"
)

// databases decodes the top-level databases key, a ship extension: the
// app's SQLite files, as paths inside the app container. ship records a
// restore point of them at every swap's quiet moment and, when a new
// version that changed a schema fails after it started, puts them back
// before the old version starts again. The litestream section's databases
// need not be repeated here. Each path becomes a root file operation on
// the host, so it must be clean, absolute and on a writable app volume,
// which decodeRoot has decoded by the time this runs.
func (d *decoder) databases(n *yaml.Node, c *Config) {
	seen := map[string]int{}
	for i, item := range d.list(n, "databases") {
		p := index("databases", i)
		db := d.str(item, p)
		if db == "" {
			continue
		}
		at := resolve(item)
		switch {
		case !path.IsAbs(db):
			d.errorf(at, p, "%q should be the absolute path of the database inside the app container, e.g. /rails/storage/production.sqlite3", db)
			continue
		case path.Clean(db) != db:
			d.errorf(at, p, "%q is not a clean path: write it as %s", db, path.Clean(db))
			continue
		}
		if v, ok := volumeAt(c.Volumes, db); ok {
			d.errorf(at, p, "%s is the volume %s itself, not a database file in it: name the file, e.g. %s/production.sqlite3", db, v.Source, db)
			continue
		}
		if _, ok := volumeOf(c.Volumes, db); !ok {
			d.errorf(at, p, "%s is not on any of the app's writable volumes: ship can only keep restore points of a database that outlives the container. Put it under one of: %s", db, targets(c.Volumes))
			continue
		}
		if first, dup := seen[db]; dup {
			d.errorf(at, p, "%s is listed twice (first as databases[%d]): drop one", db, first)
			continue
		}
		seen[db] = i
		c.Databases = append(c.Databases, db)
	}
}

// KnownDatabases are the databases ship keeps restore points of on a host
// that runs role: those of the databases key on every host of the app,
// and the litestream section's on the primary role's host, where it
// replicates them. Each is listed once, the databases key's first.
func (c *Config) KnownDatabases(host, role string) []string {
	out := append([]string(nil), c.Databases...)
	if c.Litestream == nil || role != c.PrimaryRole {
		return out
	}
	if primary := c.Role(c.PrimaryRole); primary == nil || len(primary.Hosts) != 1 || primary.Hosts[0].Address != host {
		return out
	}
	for _, db := range c.Litestream.Databases {
		if !containsString(out, db) {
			out = append(out, db)
		}
	}
	return out
}

// volumeAt is the app volume mounted at dir itself.
func volumeAt(vols []volumes.Mount, dir string) (volumes.Mount, bool) {
	for _, v := range vols {
		if strings.TrimSuffix(v.Target, "/") == dir {
			return v, true
		}
	}
	return volumes.Mount{}, false
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
