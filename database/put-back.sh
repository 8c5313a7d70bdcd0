#!/bin/sh
# Undoes set-aside.sh: removes what was put in the place of the database
# $3 in the directory $2 of the volume whose root is $1, and moves the
# files set aside in $4 back, then removes $4. rm and find never follow a
# link. Runs after safe.sh.
root=$1 dir=$2 db=$3 dest=$4
enter "$root" "$dir"
no_link "$dest"
rm -rf -- "$db" "$db-wal" "$db-shm" "$db-journal" ".$db-litestream"
find "$dest" -mindepth 1 -maxdepth 1 -exec mv -- {} ./ \; || exit 1
rmdir -- "$dest"
