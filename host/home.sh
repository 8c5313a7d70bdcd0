#!/bin/sh
# Prints the login user's $HOME, without a newline.
printf %s "$HOME"
