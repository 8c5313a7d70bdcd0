#!/bin/sh
# Writes $2 into $1, one of a role's records (spec.AppDir: the version to
# run, or the one a stop stopped), readable by its owner only, creating its
# directory. The new record is written beside it and renamed over it, so
# a reader sees the old record or the new one, whole. One session, where
# a mkdir and an upload took three: the healthy record is written while
# requests are held.
mkdir -p -- "${1%/*}" || exit
tmp="$1.ship-$$"
umask 077
printf '%s' "$2" >"$tmp" || exit
mv -f -- "$tmp" "$1" || {
	rm -f -- "$tmp"
	exit 1
}
