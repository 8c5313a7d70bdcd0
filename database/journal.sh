#!/bin/sh
# Keeps the file $2, the record of databases being replaced on this host
# (readable by its owner only): "write" puts $3 in it whole (written
# beside it and renamed over it), "read" prints it if it exists, "clear"
# removes it.
file=$2
case $1 in
write)
	mkdir -p -- "${file%/*}" || exit
	tmp="$file.ship-$$"
	umask 077
	printf '%s\n' "$3" >"$tmp" || exit
	mv -f -- "$tmp" "$file" || {
		rm -f -- "$tmp"
		exit 1
	}
	;;
read) if [ -f "$file" ]; then cat -- "$file"; fi ;;
clear) rm -f -- "$file" ;;
*)
	echo "journal.sh: unknown action $1" >&2
	exit 2
	;;
esac
