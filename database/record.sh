#!/bin/sh
# Copies the database $3 in the directory $2 of the volume whose root is
# $1 to .ship/restore-points/$4/$3 beside it, with SQLite's online backup,
# which reads the WAL too; then keeps the newest $5 restore points. A
# missing database has nothing to copy. Runs after safe.sh.
command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed on this host: ship server bootstrap installs it (or apt-get install sqlite3)" >&2; exit 127; }
root=$1 dir=$2 db=$3 version=$4 keep=$5
enter "$root" "$dir"
no_link "$db" "$db-wal" "$db-shm" "$db-journal"
[ -e "$db" ] || exit 0
umask 077
step "$root" .ship make
step "$root" restore-points make
step "$root" "$version" make
rm -f -- restore.tmp
# The working directory is the real .ship/restore-points/VERSION, so
# ../../.. is the real directory of the database; -nofollow and SQLite's
# own O_NOFOLLOW for the WAL and shared memory refuse links. The copy's
# name is fixed: no path is quoted into the dot-command.
sqlite3 -readonly -nofollow -bail "../../../$db" ".backup restore.tmp" || exit 1
mv -f -- restore.tmp "$db"
cd .. || exit 1
# ls -t is what orders by time; the names are ship's versions, one a line,
# and rm removes a planted link, never what it points to.
# shellcheck disable=SC2012
ls -1t | tail -n +$((keep + 1)) | while read -r old; do rm -rf -- "$old"; done
