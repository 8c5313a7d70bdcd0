#!/bin/sh
# Prints the last $2 lines of the audit log $HOME/$1 (all when $2 is 0), and
# nothing when there is no log yet. The shared lock keeps out half-written
# lines.
set -e
f="$HOME/$1"
[ -e "$f" ] || exit 0
exec 9<"$f"
flock -s -w 30 9 || { echo "timed out waiting for the lock on $f" >&2; exit 1; }
if [ "$2" -gt 0 ]; then tail -n "$2" "$f"; else cat "$f"; fi
