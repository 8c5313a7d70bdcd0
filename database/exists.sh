#!/bin/sh
# Prints "yes" when the database $3 in the directory $2 of the volume whose
# root is $1 exists, else "no". Runs after safe.sh.
root=$1 dir=$2 db=$3
enter "$root" "$dir"
no_link "$db"
if [ -e "$db" ]; then echo yes; else echo no; fi
