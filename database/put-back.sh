#!/bin/sh
# Undoes set-aside.sh: moves the files set aside in $4 back into the
# directory $2 of the volume whose root is $1 as the database $3, then
# removes $4. Unless $5 is "keep", what is in their place now is new (a
# restore that failed, or was interrupted) and is removed first; with
# "keep", it is the rest of the live files, which set-aside.sh had not
# moved yet when it was interrupted, and stays. A marker in $4 records that
# the discard is done, so that a put-back interrupted halfway can run
# again without removing the files it had already moved back. Nothing is
# moved over an existing file. rm and mv never follow a link. Runs after
# safe.sh.
root=$1 dir=$2 db=$3 dest=$4 mode=$5
# A volume removed since has nothing left to put back.
[ -d "$root" ] || exit 0
enter "$root" "$dir"
no_link "$dest"
[ -d "$dest" ] || exit 0 # put back already
done_mark="$dest/.ship-put-back"
no_link "$done_mark"
if [ ! -e "$done_mark" ]; then
	if [ "$mode" != keep ]; then
		rm -rf -- "$db" "$db-wal" "$db-shm" "$db-journal" ".$db-litestream" || exit 1
	fi
	: >"$done_mark" || exit 1
fi
for f in "$db" "$db-wal" "$db-shm" "$db-journal" ".$db-litestream"; do
	[ -e "$dest/$f" ] || [ -L "$dest/$f" ] || continue
	if [ -e "$f" ] || [ -L "$f" ]; then
		echo "both $PWD/$f and $PWD/$dest/$f exist: ship does not know which is the database's; compare them, remove the one that is not the database's, and run ship again" >&2
		exit 1
	fi
	mv -- "$dest/$f" "$f" || exit 1
done
rm -f -- "$done_mark"
rmdir -- "$dest"
