#!/bin/sh
# Freezes the queue in $HOME/$1: writes stdin, the freeze as one JSON line,
# to its freeze file, through a rename so that a list never reads half of it.
mkdir -p "$HOME/$1" && cat > "$HOME/$1/freeze.tmp" && mv "$HOME/$1/freeze.tmp" "$HOME/$1/freeze"
