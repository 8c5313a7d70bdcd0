#!/bin/sh
# Lifts the freeze of the queue in $HOME/$1, printing "cleared" if there was
# one.
if [ -e "$HOME/$1/freeze" ]; then rm -f "$HOME/$1/freeze"; echo cleared; fi
