#!/bin/sh
# Gives the file $1 its owner ($4, if not empty) and mode ($3, octal), then
# renames it over $2. chown comes first because it may clear setuid bits.
if [ -n "$4" ]; then
	chown -- "$4" "$1" || exit
fi
chmod -- "$3" "$1" && mv -f -- "$1" "$2"
