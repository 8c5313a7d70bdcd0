#!/bin/sh
# Appends stdin as one line to the audit log $HOME/$1. The line is read in
# full before the lock is taken, so a slow connection never holds the lock;
# flock keeps concurrent ship processes from interleaving. umask 077 makes a
# new directory 0700 and a new file 0600.
set -e
umask 077
f="$HOME/$1"
mkdir -p "${f%/*}"
line=$(cat)
exec 9>>"$f"
flock -w 30 9 || { echo "timed out waiting for the lock on $f" >&2; exit 1; }
printf '%s\n' "$line" >&9
