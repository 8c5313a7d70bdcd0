#!/bin/sh
# Writes the kamal-proxy boot config in directory $1, as Kamal's
# boot_config set does: the files options, image, image_version and
# run_command get $2, $3, $4 and $5, without a newline; a file whose value
# is empty is removed, leaving Kamal's default.
set -e
dir=$1
shift
mkdir -p -- "$dir"
for name in options image image_version run_command; do
	if [ -n "$1" ]; then
		printf '%s' "$1" >"$dir/$name.tmp"
		mv -f -- "$dir/$name.tmp" "$dir/$name"
	else
		rm -f -- "$dir/$name"
	fi
	shift
done
