#!/bin/sh
# Makes the pinned restore $3, in the directory $2 of the copy volume whose
# root is $1, a rollback-mode file (PRAGMA journal_mode=DELETE: readers on
# a read-only mount cannot open a WAL-mode file, docs/replicas.md), then
# writes the TXID $4 it was restored at to $3-txid, where
# `litestream restore -f` resumes from. DB-txid comes last, so a copy with
# one is always a prepared copy. Runs after safe.sh.
command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed on this host: ship server bootstrap installs it (or apt-get install sqlite3)" >&2; exit 127; }
root=$1 dir=$2 db=$3 txid=$4
enter "$root" "$dir"
no_link "$db" "$db-wal" "$db-shm" "$db-journal" "$db-txid" "$db-txid.tmp"
[ -f "$db" ] || { echo "the restore left no $PWD/$db" >&2; exit 1; }
mode=$(sqlite3 -nofollow -bail "./$db" "PRAGMA journal_mode=DELETE") || exit 1
[ "$mode" = delete ] || { echo "PRAGMA journal_mode=DELETE on $PWD/$db answered $mode" >&2; exit 1; }
# Switching to rollback mode checkpoints and deletes the WAL; whatever is
# left beside the file was SQLite's, never the follower's.
rm -f -- "$db-wal" "$db-shm" "$db-journal"
printf '%s\n' "$txid" >"$db-txid.tmp" || exit 1
sync -- "$db" "$db-txid.tmp" || exit 1
mv -f -- "$db-txid.tmp" "$db-txid" || exit 1
sync -- . || exit 1
