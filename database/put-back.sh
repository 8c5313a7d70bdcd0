#!/bin/sh
# Undoes set-aside.sh: removes what was put in the place of the database $1
# and moves the files set aside in $2 back, then removes $2.
db=$1 dest=$2
dir=$(dirname "$db")
meta="$dir/.$(basename "$db")-litestream"
rm -rf -- "$db" "$db-wal" "$db-shm" "$db-journal" "$meta"
find "$dest" -mindepth 1 -maxdepth 1 -exec mv -- {} "$dir/" \; || exit 1
rmdir -- "$dest"
