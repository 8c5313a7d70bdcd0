#!/bin/sh
# Prints the size of the database $3 in the directory $2 of the volume
# whose root is $1, its WAL's size (0 without one), and its first 100
# bytes as decimal numbers; or "missing". The app may be running: dd
# opens with O_NOFOLLOW in the real directory. Runs after safe.sh.
root=$1 dir=$2 db=$3
enter "$root" "$dir"
no_link "$db" "$db-wal"
[ -e "$db" ] || { echo missing; exit 0; }
stat -c %s -- "$db"
if [ -e "$db-wal" ]; then stat -c %s -- "$db-wal"; else echo 0; fi
dd if="$db" iflag=nofollow bs=100 count=1 2>/dev/null | od -An -v -tu1
