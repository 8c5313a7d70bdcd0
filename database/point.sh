#!/bin/sh
# The restore points of the database $3 in the directory $2 of the volume
# whose root is $1. With a version $4: copies that version's restore point
# into the database's place, which must be free (set-aside.sh moved the
# files away); without: prints "present VERSION" lines for each version
# that has one, newest first. Runs after safe.sh.
root=$1 dir=$2 db=$3 version=${4-}
enter "$root" "$dir"
no_link "$db"
if [ -n "$version" ]; then
	[ ! -e "$db" ] || { echo "$PWD/$db is in the way of the restore point" >&2; exit 1; }
	step "$root" .ship
	step "$root" restore-points
	step "$root" "$version"
	no_link "$db"
	cp -- "$db" "../../../$db"
	exit
fi
[ -d .ship ] || exit 0
step "$root" .ship
[ -d restore-points ] || exit 0
step "$root" restore-points
# shellcheck disable=SC2012
ls -1t | while read -r v; do
	if [ ! -L "$v" ] && [ ! -L "$v/$db" ] && [ -f "$v/$db" ]; then echo "present $v"; fi
done
