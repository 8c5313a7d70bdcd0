#!/bin/sh
# Prints the newest lines of the drill log $1; nothing when there is none.
[ -f "$1" ] || exit 0
tail -n 20000 -- "$1"
