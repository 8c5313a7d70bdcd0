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
	name := db.Name() + "." + why
	dest := path.Join(db.Dir(), name)
	if _, err := inVolume(ctx, h, db, setAsideScript, name); err != nil {
		return "", fmt.Errorf("move %s aside to %s: %w", db.HostPath, dest, err)
	}
	return dest, nil
}

// putBack undoes setAside, if dest is still there. mode is put-back.sh's:
// "discard" when what is in place now is new, "keep" when it is the rest
// of the database's own files.
func putBack(ctx context.Context, h *host.Host, db DB, dest, mode string) error {
	if _, err := inVolume(context.WithoutCancel(ctx), h, db, putBackScript, path.Base(dest), mode); err != nil {
		return fmt.Errorf("move %s back from %s: %w", db.HostPath, dest, err)
	}
	return nil
}

// ownLike gives a restored database the owner of the file it replaces,
// set aside in the directory aside ("" for none: then its directory's):
// the app may not run as root.
func ownLike(ctx context.Context, h *host.Host, db DB, aside string) error {
	ref := "."
	if aside != "" {
		ref = path.Join(path.Base(aside), db.Name())
	}
	if _, err := inVolume(ctx, h, db, ownLikeScript, ref); err != nil {
		return fmt.Errorf("set the owner of %s: %w", db.HostPath, err)
	}
	return nil
}
