package database

import (
	"context"
	_ "embed"
	"fmt"
	"path"

	"github.com/shipdeploy/ship/host"
)

var (
	//go:embed set-aside.sh
	setAsideScript string
	//go:embed put-back.sh
	putBackScript string
	//go:embed own-like.sh
	ownLikeScript string
)

// setAside moves db's files into a directory beside it, named for why.
func setAside(ctx context.Context, h *host.Host, db DB, why string) (string, error) {
	dest := path.Join(db.Dir(), db.Name()+"."+why)
	if _, err := scriptAsRoot(ctx, h, setAsideScript, db.HostPath, dest); err != nil {
		return "", fmt.Errorf("move %s aside to %s: %w", db.HostPath, dest, err)
	}
	return dest, nil
}

// putBack undoes setAside.
func putBack(ctx context.Context, h *host.Host, db DB, dest string) error {
	if _, err := scriptAsRoot(context.WithoutCancel(ctx), h, putBackScript, db.HostPath, dest); err != nil {
		return fmt.Errorf("move %s back from %s: %w", db.HostPath, dest, err)
	}
	return nil
}

// ownLike gives a restored database the owner of the file it replaces
// (or of its directory): the app may not run as root.
func ownLike(ctx context.Context, h *host.Host, db DB, aside string) error {
	if _, err := scriptAsRoot(ctx, h, ownLikeScript, db.HostPath, path.Join(aside, db.Name())); err != nil {
		return fmt.Errorf("set the owner of %s: %w", db.HostPath, err)
	}
	return nil
}
