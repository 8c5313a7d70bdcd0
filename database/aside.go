package database

import (
	"context"
	"fmt"
	"path"

	"github.com/shipdeploy/ship/host"
)

// A database is its file, its WAL and shared memory, a rollback journal if
// one is left, and Litestream's directory of its position (.NAME-litestream):
// all move together, or Litestream and SQLite see a mix of two states.
const setAsideScript = `db=$1 dest=$2
meta="$(dirname "$db")/.$(basename "$db")-litestream"
mkdir -p "$dest"
for f in "$db" "$db-wal" "$db-shm" "$db-journal" "$meta"; do
	if [ -e "$f" ]; then mv -- "$f" "$dest/" || exit 1; fi
done
`

// putBackScript removes what was put in the database's place and moves
// the set-aside files back.
const putBackScript = `db=$1 dest=$2
dir=$(dirname "$db")
meta="$dir/.$(basename "$db")-litestream"
rm -rf -- "$db" "$db-wal" "$db-shm" "$db-journal" "$meta"
find "$dest" -mindepth 1 -maxdepth 1 -exec mv -- {} "$dir/" \; || exit 1
rmdir -- "$dest"
`

// setAside moves db's files into a directory beside it, named for why.
func setAside(ctx context.Context, h *host.Host, db DB, why string) (string, error) {
	dest := path.Join(db.Dir(), db.Name()+"."+why)
	if _, err := asRoot(ctx, h, setAsideScript, db.HostPath, dest); err != nil {
		return "", fmt.Errorf("move %s aside to %s: %w", db.HostPath, dest, err)
	}
	return dest, nil
}

// putBack undoes setAside.
func putBack(ctx context.Context, h *host.Host, db DB, dest string) error {
	if _, err := asRoot(context.WithoutCancel(ctx), h, putBackScript, db.HostPath, dest); err != nil {
		return fmt.Errorf("move %s back from %s: %w", db.HostPath, dest, err)
	}
	return nil
}

// ownLike gives a restored database the owner of the file it replaces
// (or of its directory): the app may not run as root.
const ownLikeScript = `db=$1 ref=$2
[ -e "$ref" ] || ref=$(dirname "$db")
chown --reference="$ref" -- "$db"
`

func ownLike(ctx context.Context, h *host.Host, db DB, aside string) error {
	if _, err := asRoot(ctx, h, ownLikeScript, db.HostPath, path.Join(aside, db.Name())); err != nil {
		return fmt.Errorf("set the owner of %s: %w", db.HostPath, err)
	}
	return nil
}
