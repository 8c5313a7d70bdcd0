package database

import (
	"context"

	"github.com/shipdeploy/ship/config"
	"github.com/shipdeploy/ship/host"
)

// HostStatuses reads the files of every database ship knows on the host
// for roles (config.KnownDatabases): size, WAL and journal mode, each
// listed once. Replication is left empty: Statuses asks Litestream. Like
// Statuses, it takes no lock and only reads.
func HostStatuses(ctx context.Context, h *host.Host, c *config.Config, roles []string) ([]Status, error) {
	var out []Status
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
			s := Status{Database: db.Path, HostPath: db.HostPath, Warnings: []string{}}
			if err := fileStatus(ctx, h, db, &s); err != nil {
				return nil, err
			}
			out = append(out, s)
		}
	}
	return out, nil
}
