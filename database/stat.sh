#!/bin/sh
# Prints the size of the database $1, its WAL's size (0 without one), and
# its first 100 bytes as decimal numbers; or "missing".
db=$1
[ -e "$db" ] || { echo missing; exit 0; }
stat -c %s "$db"
if [ -e "$db-wal" ]; then stat -c %s "$db-wal"; else echo 0; fi
head -c 100 "$db" | od -An -v -tu1
