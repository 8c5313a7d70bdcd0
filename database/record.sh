#!/bin/sh
# Copies the database $1 to $2 with SQLite's online backup, which reads the
# WAL too, then keeps the newest $3 restore points: the directories beside
# $2's. A missing database has nothing to copy.
command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed on this host: ship server bootstrap installs it (or apt-get install sqlite3)" >&2; exit 127; }
db=$1 dest=$2 keep=$3
[ -e "$db" ] || exit 0
umask 077
mkdir -p "$(dirname "$dest")"
rm -f -- "$dest.tmp"
sqlite3 -readonly -bail "$db" ".backup '$dest.tmp'" || exit 1
mv -- "$dest.tmp" "$dest"
# ls -t is what orders by time; the names are ship's versions, one a line.
# shellcheck disable=SC2012
cd "$(dirname "$(dirname "$dest")")" && ls -1t | tail -n +$((keep + 1)) | while read -r old; do rm -rf -- "$old"; done
