#!/bin/sh
# Copies the database $3 in the directory $2 of the volume whose root is
# $1 to .ship/restore-points/$4/$3 beside it, with SQLite's online backup,
# which reads the WAL too; then keeps the newest $5 restore points. The
# backup resets the copy's schema_version, so the script sets it back to
# the database's: a failed start is found to have changed the schema by
# comparing the two (schema.sh). A missing database has nothing to copy,
# and a copy an earlier swap left under the version is removed, so the
# restore point says the database did not exist. Runs after safe.sh.
command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed on this host: ship server bootstrap installs it (or apt-get install sqlite3)" >&2; exit 127; }
root=$1 dir=$2 db=$3 version=$4 keep=$5
enter "$root" "$dir"
no_link "$db" "$db-wal" "$db-shm" "$db-journal"
if [ ! -e "$db" ]; then
	[ -d .ship ] || exit 0
	step "$root" .ship
	[ -d restore-points ] || exit 0
	step "$root" restore-points
	[ -d "$version" ] || exit 0
	step "$root" "$version"
	rm -f -- "$db" "$db-wal" "$db-shm"
	exit 0
fi
umask 077
step "$root" .ship make
step "$root" restore-points make
step "$root" "$version" make
rm -f -- restore.tmp restore.tmp-wal restore.tmp-shm restore.tmp-journal
# The working directory is the real .ship/restore-points/VERSION, so
# ../../.. is the real directory of the database; -nofollow and SQLite's
# own O_NOFOLLOW for the WAL and shared memory refuse links. The copy's
# name is fixed: no path is quoted into the dot-command. Nothing writes
# the database now, so the schema_version read first is the copy's.
cookie=$(sqlite3 -readonly -nofollow -bail "../../../$db" "PRAGMA schema_version") || exit 1
case $cookie in
'' | *[!0-9-]*)
	echo "unexpected schema_version of $db: $cookie" >&2
	exit 1
	;;
esac
sqlite3 -readonly -nofollow -bail "../../../$db" ".backup restore.tmp" || exit 1
sqlite3 -nofollow -bail restore.tmp "PRAGMA schema_version = $cookie" >/dev/null || exit 1
# Files an earlier read of the previous copy left beside it belong to that
# copy, not to this one.
rm -f -- "$db-wal" "$db-shm"
mv -f -- restore.tmp "$db"
cd .. || exit 1
# ls -t is what orders by time; the names are ship's versions, one a line,
# and rm removes a planted link, never what it points to.
# shellcheck disable=SC2012
ls -1t | tail -n +$((keep + 1)) | while read -r old; do rm -rf -- "$old"; done
