#!/bin/sh
# Writes stdin to a new file $1 that only its owner can read. noclobber
# (set -C) refuses to follow anything already at that name.
umask 077 && set -C && cat > "$1"
