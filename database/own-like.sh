#!/bin/sh
# Gives the database $1 the owner of the file $2 it replaces, or of its own
# directory when $2 is gone: the app may not run as root.
db=$1 ref=$2
[ -e "$ref" ] || ref=$(dirname "$db")
chown --reference="$ref" -- "$db"
