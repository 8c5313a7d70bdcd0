#!/bin/sh
# Moves the database $3 in the directory $2 of the volume whose root is $1
# into the directory $4 beside it, made if missing: its file, its WAL and
# shared memory, a rollback journal if one is left, and Litestream's
# directory of its position (.NAME-litestream). All move together, or
# Litestream and SQLite see a mix of two states. A link planted in their
# place moves aside too (mv moves the link, never what it points to), so
# nothing written later goes through it. Runs after safe.sh.
root=$1 dir=$2 db=$3 dest=$4
enter "$root" "$dir"
no_link "$dest"
[ -d "$dest" ] || mkdir -m 700 -- "$dest" || exit 1
for f in "$db" "$db-wal" "$db-shm" "$db-journal" ".$db-litestream"; do
	if [ -e "$f" ] || [ -L "$f" ]; then mv -- "$f" "$dest/" || exit 1; fi
done
