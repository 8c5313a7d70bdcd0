package database

import (
	"context"
	_ "embed"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
)

//go:embed owner.sh
var ownerScript string

// FileOwner is who owns a file or directory, and its permission bits.
type FileOwner struct {
	HostPath string
	UID, GID int
	Mode     uint32
}

// Ownership is who owns a database's directory and files.
type Ownership struct {
	Database string
	Dir      FileOwner
	// Files are the database and its -wal and -shm files, those that
	// exist.
	Files []FileOwner
}

// Ownerships reads who owns the directory and files of every database
// ship knows on the host for roles: the app's user must be able to write
// them all. It only stats, refusing links (owner.sh).
func Ownerships(ctx context.Context, h *host.Host, c *config.Config, roles []string) ([]Ownership, error) {
	var out []Ownership
	seen := map[string]bool{}
	for _, r := range roles {
		dbs, err := locateKnown(ctx, h, c, r)
		if err != nil {
			return nil, err
		}
		for _, db := range dbs {
			if seen[db.Path] {
				continue
			}
			seen[db.Path] = true
			text, err := inVolume(ctx, h, db, ownerScript)
			if err != nil {
				return nil, fmt.Errorf("read the owner of %s on %s: %w", db.HostPath, h.Name, err)
			}
			o, err := parseOwners(db, text)
			if err != nil {
				return nil, fmt.Errorf("read the owner of %s on %s: %w", db.HostPath, h.Name, err)
			}
			out = append(out, o)
		}
	}
	return out, nil
}

// parseOwners reads owner.sh's lines.
func parseOwners(db DB, text string) (Ownership, error) {
	o := Ownership{Database: db.Path}
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		f := strings.SplitN(line, " ", 4)
		if len(f) != 4 {
			return o, fmt.Errorf("unexpected line %q", line)
		}
		uid, err1 := strconv.Atoi(f[0])
		gid, err2 := strconv.Atoi(f[1])
		mode, err3 := strconv.ParseUint(f[2], 8, 32)
		if err1 != nil || err2 != nil || err3 != nil {
			return o, fmt.Errorf("unexpected line %q", line)
		}
		fo := FileOwner{HostPath: path.Join(db.Dir(), f[3]), UID: uid, GID: gid, Mode: uint32(mode)}
		if f[3] == "." {
			fo.HostPath = db.Dir()
			o.Dir = fo
		} else {
			o.Files = append(o.Files, fo)
		}
	}
	return o, nil
}
