#!/bin/sh
# Prints the file $1 if there is one; nothing, and exit 0, if there is none.
if [ -f "$1" ]; then cat -- "$1"; fi
