#!/bin/sh
# Deletes the copy $3 in the directory $2 of the copy volume whose root is
# $1, with everything Litestream or SQLite leaves beside it: the restore's
# temporary file, DB-txid and its temporary file, a journal. Only while no
# follower runs on it. Runs after safe.sh.
root=$1 dir=$2 db=$3
[ -d "$root/$dir" ] || exit 0
enter "$root" "$dir"
set -- "$db" "$db.tmp" "$db-txid" "$db-txid.tmp" "$db-wal" "$db-shm" "$db-journal"
no_link "$@"
rm -f -- "$@"
