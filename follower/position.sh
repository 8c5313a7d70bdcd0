#!/bin/sh
# Prints what the copy $3 in the directory $2 of the copy volume whose
# root is $1 holds: "yes" or "no" for the file, then DB-txid's content or
# "-" without one. The follower may be writing: nothing here takes a lock
# or writes. Runs after safe.sh.
root=$1 dir=$2 db=$3
# A directory the restore has not made yet holds no copy.
[ -d "$root/$dir" ] || { echo "no -"; exit 0; }
enter "$root" "$dir"
no_link "$db" "$db-txid"
if [ -e "$db" ]; then printf 'yes '; else printf 'no '; fi
if [ -e "$db-txid" ]; then head -c 64 -- "$db-txid"; echo; else echo -; fi
