package follower

import (
	"context"
	_ "embed"
	"fmt"
	"path"
	"strings"

	"github.com/docker/docker/errdefs"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/database"
	"github.com/shipdeploy/ship/host"
	"github.com/shipdeploy/ship/spec"
	"github.com/shipdeploy/ship/volumes"
)

var (
	//go:embed prepare.sh
	prepareScript string
	//go:embed position.sh
	positionScript string
	//go:embed clear.sh
	clearScript string
)

// copyOf is a replica host's copy of one database of the litestream
// section: the follower that keeps it, and where it lives.
type copyOf struct {
	DB       string        // the database's path, in the app's containers and the follower's
	Follower string        // the follower's container
	Mount    volumes.Mount // the copy volume, mounted where the app mounts the database's volume
	Rel      string        // the database's path inside its volume
}

// copies are the copies a replica host keeps, one per database of the
// litestream section, in config order.
func copies(c *config.Config) ([]copyOf, error) {
	l := c.Litestream
	if l == nil {
		return nil, fmt.Errorf("a replica role needs the litestream section: its followers restore the writer's databases from the replica Litestream keeps")
	}
	if l.Written != nil {
		return nil, fmt.Errorf("followers restore with the litestream.yml ship generates from the litestream section; accessory %s's hand-written one is not supported for replicas yet: "+
			"replace it with the litestream section (see README, Backups)", l.Written.Accessory)
	}
	if l.Version03() {
		return nil, fmt.Errorf("followers need Litestream 0.5.16 or later (restore -f); %s is 0.3: set litestream.image to litestream/litestream:0.5.18", l.Image)
	}
	if strings.HasPrefix(l.Replica.URL, "file:") {
		return nil, fmt.Errorf("the replica %s is a directory on the writer's host, which a replica host cannot read: replicate to S3 for replicas", l.Replica.URL)
	}
	var out []copyOf
	for _, db := range l.Databases {
		m, rel, err := c.DatabaseVolume(db)
		if err != nil {
			return nil, err
		}
		out = append(out, copyOf{
			DB:       db,
			Follower: spec.FollowerName(c, db),
			Mount:    volumes.Mount{Source: spec.ReplicaVolume(c, m), Target: m.Target},
			Rel:      path.Clean(rel),
		})
	}
	return out, nil
}

// file locates the copy on the host for this package's scripts: the copy
// volume's mount point as the root scripts enter from, refusing links.
// It is false when the volume does not exist.
func (cp copyOf) file(ctx context.Context, h *host.Host) (database.DB, bool, error) {
	info, err := h.Docker.VolumeInspect(ctx, cp.Mount.Source)
	if errdefs.IsNotFound(err) {
		return database.DB{}, false, nil
	} else if err != nil {
		return database.DB{}, false, fmt.Errorf("inspect volume %s: %w", cp.Mount.Source, err)
	}
	root := info.Mountpoint
	return database.DB{Path: cp.DB, HostPath: path.Join(root, cp.Rel), Root: root, Rel: cp.Rel}, true, nil
}

// position is what a copy holds: whether its file exists, and the TXID
// DB-txid says it was restored or followed to (zero without one).
type position struct {
	Exists bool
	TXID   TXID
}

// Prepared says whether restore -f can resume the copy: the file and the
// TXID it holds, which prepare writes last.
func (p position) Prepared() bool { return p.Exists && p.TXID != 0 }

// Empty says whether nothing of the copy is there.
func (p position) Empty() bool { return !p.Exists && p.TXID == 0 }

// readPosition reads the copy's file and DB-txid on the host.
func readPosition(ctx context.Context, h *host.Host, db database.DB) (position, error) {
	out, err := database.InVolume(ctx, h, db, positionScript)
	if err != nil {
		return position{}, fmt.Errorf("read the copy %s on %s: %w", db.HostPath, h.Name, err)
	}
	return parsePosition(out)
}

// parsePosition reads position.sh's output.
func parsePosition(out string) (position, error) {
	fields := strings.Fields(out)
	if len(fields) != 2 || (fields[0] != "yes" && fields[0] != "no") {
		return position{}, fmt.Errorf("unexpected answer %q about the copy", out)
	}
	p := position{Exists: fields[0] == "yes"}
	if fields[1] != "-" {
		t, err := ParseTXID(fields[1])
		if err != nil {
			return position{}, fmt.Errorf("its -txid file: %w", err)
		}
		p.TXID = t
	}
	return p, nil
}

// makeRollback makes the pinned restore a rollback-mode file and writes
// the TXID it holds to DB-txid (prepare.sh).
func makeRollback(ctx context.Context, h *host.Host, db database.DB, txid TXID) error {
	if _, err := database.InVolume(ctx, h, db, prepareScript, txid.String()); err != nil {
		return fmt.Errorf("prepare the copy %s on %s: %w", db.HostPath, h.Name, err)
	}
	return nil
}

// clearCopy deletes the copy and what Litestream and SQLite leave beside
// it (clear.sh); the volume stays.
func clearCopy(ctx context.Context, h *host.Host, db database.DB) error {
	if _, err := database.InVolume(ctx, h, db, clearScript); err != nil {
		return fmt.Errorf("delete the copy %s on %s: %w", db.HostPath, h.Name, err)
	}
	return nil
}
