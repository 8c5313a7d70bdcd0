#!/bin/sh
# Moves the database $1 into the directory $2, made if missing: its file,
# its WAL and shared memory, a rollback journal if one is left, and
# Litestream's directory of its position (.NAME-litestream). All move
# together, or Litestream and SQLite see a mix of two states.
db=$1 dest=$2
meta="$(dirname "$db")/.$(basename "$db")-litestream"
mkdir -p "$dest"
for f in "$db" "$db-wal" "$db-shm" "$db-journal" "$meta"; do
	if [ -e "$f" ]; then mv -- "$f" "$dest/" || exit 1; fi
done
