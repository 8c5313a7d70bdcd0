#!/bin/sh
# Gives the database $3 in the directory $2 of the volume whose root is $1
# the owner of the file $4 (relative to that directory) it replaces, or of
# the directory when $4 is gone or is a link: the app may not run as root.
# Runs after safe.sh.
root=$1 dir=$2 db=$3 ref=$4
enter "$root" "$dir"
no_link "$db"
if [ -L "$ref" ] || [ ! -e "$ref" ]; then ref=.; fi
chown -h --reference="$ref" -- "$db"
