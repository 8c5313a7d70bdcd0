#!/bin/sh
# Prints the kamal-proxy boot config in directory $1: for each of the files
# options, image, image_version and run_command, "y" and its content
# without trailing newlines (as Kamal's $(cat FILE) reads it) if it
# exists, else "n"; each record ends with a NUL byte.
set -e
for name in options image image_version run_command; do
	if [ -f "$1/$name" ]; then
		printf 'y%s\0' "$(cat -- "$1/$name")"
	else
		printf 'n\0'
	fi
done
