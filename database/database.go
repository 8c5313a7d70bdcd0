// Package database looks after the SQLite databases of ship's litestream
// section on the host: their health and their replica's (db status), the
// restore fire drill (db verify), restores from the replica (db restore);
// and, for those and the databases key's, the restore points a deploy
// records, so that a rollback can put the data back with the code, and a
// failed start that changed a schema takes its data back with it.
package database

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
)

// DB is one database on its host.
type DB struct {
	Path     string // inside the app container
	HostPath string // on the host: Root/Rel
	Replica  string // where Litestream replicates it; "" if it does not
	// Litestream is the database's path inside the Litestream container:
	// Path, but for a hand-written accessory that mounts it elsewhere.
	Litestream string
	// Root is the host directory of the volume the database is on: the
	// mount point, which the app cannot replace. Rel is the database's
	// clean path below it. Scripts enter the volume from Root, refusing
	// links (safe.sh).
	Root, Rel string
}

// Name is the database's file name.
func (d DB) Name() string { return path.Base(d.Rel) }

// Dir is the host directory that holds the database.
func (d DB) Dir() string { return path.Dir(d.HostPath) }

// relDir is the database's directory relative to Root ("." for Root).
func (d DB) relDir() string { return path.Dir(d.Rel) }

var errNoSection = errors.New("the config has no litestream section and no Litestream accessory whose litestream.yml ship reads: " +
	"ship db works on the databases one of them replicates (see README, Backups)")

// Host is the one host Litestream runs on (the primary role's).
func Host(c *config.Config) (string, error) {
	a := Accessory(c)
	if a == nil {
		return "", errNoSection
	}
	if c.Litestream.Written != nil {
		return c.Litestream.Written.Host, nil
	}
	return a.Hosts[0], nil
}

// Accessory is the Litestream accessory: the one the litestream section
// generates, or the hand-written one ship read; nil without either.
func Accessory(c *config.Config) *config.Accessory {
	if c.Litestream == nil {
		return nil
	}
	for _, a := range c.Accessories {
		if a.Name == c.Litestream.AccessoryName() {
			return a
		}
	}
	return nil
}

// Locate finds the litestream section's databases' files on the host,
// through the app volumes they live on.
func Locate(ctx context.Context, h *host.Host, c *config.Config) ([]DB, error) {
	if c.Litestream == nil {
		return nil, errNoSection
	}
	return locate(ctx, h, c, c.Litestream.Databases)
}

// locateKnown finds the files of the databases ship knows on the host for
// role r (config.KnownDatabases): none when it knows none there.
func locateKnown(ctx context.Context, h *host.Host, c *config.Config, r string) ([]DB, error) {
	paths := c.KnownDatabases(h.Name, r)
	if len(paths) == 0 {
		return nil, nil
	}
	return locate(ctx, h, c, paths)
}

// locate finds the files of the databases at paths (inside the app
// container) on the host.
func locate(ctx context.Context, h *host.Host, c *config.Config, paths []string) ([]DB, error) {
	var out []DB
	for _, p := range paths {
		v, rel, err := c.DatabaseVolume(p)
		if err != nil {
			return nil, err
		}
		root := v.Source
		if !v.IsHostPath() {
			info, err := h.Docker.VolumeInspect(ctx, v.Source)
			if errdefs.IsNotFound(err) {
				return nil, fmt.Errorf("volume %s does not exist on %s: run ship setup first", v.Source, h.Name)
			} else if err != nil {
				return nil, fmt.Errorf("inspect volume %s: %w", v.Source, err)
			}
			root = info.Mountpoint
		}
		rel = path.Clean(rel)
		if rel == "." || rel == ".." || strings.HasPrefix(rel, "../") || path.IsAbs(rel) {
			return nil, fmt.Errorf("database %s is not a file inside volume %s: fix its path in config/deploy.yml", p, v.Source)
		}
		db := DB{Path: p, HostPath: path.Join(root, rel), Root: root, Rel: rel, Litestream: p}
		if c.Litestream != nil && slices.Contains(c.Litestream.Databases, p) {
			db.Replica = c.Litestream.ReplicaURL(p)
			db.Litestream = c.Litestream.PathInLitestream(p)
		}
		out = append(out, db)
	}
	return out, nil
}
