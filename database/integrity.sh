#!/bin/sh
# Runs PRAGMA integrity_check on the database $1, which prints "ok" when
# it is sound.
command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed on this host: ship server bootstrap installs it (or apt-get install sqlite3)" >&2; exit 127; }
sqlite3 -bail "$1" "PRAGMA integrity_check"
