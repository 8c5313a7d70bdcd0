#!/bin/sh
# Runs PRAGMA integrity_check on the database $3 in the directory $2 under
# $1, which prints "ok" when it is sound. Runs after safe.sh.
command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed on this host: ship server bootstrap installs it (or apt-get install sqlite3)" >&2; exit 127; }
root=$1 dir=$2 db=$3
enter "$root" "$dir"
no_link "$db" "$db-wal" "$db-shm" "$db-journal"
sqlite3 -nofollow -bail "./$db" "PRAGMA integrity_check"
