#!/bin/sh
# Runs the command in its arguments ($1 the program, the rest its own
# arguments) as root: directly when the login user is root, else through
# sudo -n, which fails rather than asks for a password: the volumes live
# under /var/lib/docker, which only root may enter.
if [ "$(id -u)" = 0 ]; then exec "$@"; fi
exec sudo -n "$@"
