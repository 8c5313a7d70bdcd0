#!/bin/sh
# Prints "UID GID MODE NAME" for the directory $2 of the volume whose root
# is $1 (NAME "."), and for the database $3 and its -wal and -shm files
# where they exist. It only stats, from the real directory, and refuses a
# link. Runs after safe.sh.
root=$1 dir=$2 db=$3
enter "$root" "$dir"
no_link "$db" "$db-wal" "$db-shm"
for f in . "$db" "$db-wal" "$db-shm"; do
	if [ -e "$f" ]; then printf '%s %s\n' "$(stat -c '%u %g %a' -- "$f")" "$f"; fi
done
