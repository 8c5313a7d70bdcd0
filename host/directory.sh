#!/bin/sh
# Creates the directory $1 if missing, and gives it the owner $2 (USER or
# USER:GROUP) and the mode $3 (octal), each only if not empty and only
# where it differs. Prints what it changed. The config checks owner and
# mode (volumes.CheckOwner, CheckMode); "--" keeps them operands anyway.
set -e
dir=$1 owner=$2 mode=$3
if [ ! -d "$dir" ]; then mkdir -p -- "$dir"; echo "created directory $dir"; fi
if [ -n "$owner" ]; then
	case "$owner" in *:*) want=$owner ;; *) want="$owner:$(stat -c %g "$dir")" ;; esac
	now_ids="$(stat -c %u:%g "$dir")" now_names="$(stat -c %U:%G "$dir")"
	if [ "$want" != "$now_ids" ] && [ "$want" != "$now_names" ]; then chown -- "$owner" "$dir"; echo "chown $owner $dir"; fi
fi
if [ -n "$mode" ] && [ "$(stat -c %a "$dir")" != "${mode#0}" ]; then chmod -- "$mode" "$dir"; echo "chmod $mode $dir"; fi
