#!/bin/sh
# Builds the image $1, when the host lacks it, from the host's own chroot
# binary and the libraries ldd says it loads: the container only chroots
# into the host's root, so the image is the host's own architecture, and
# nothing is pulled. It prints the chroot's path.
set -eu
image=$1
bin=$(command -v chroot) || { echo "chroot is not installed on this host: apt-get install coreutils" >&2; exit 127; }
echo "$bin"
if docker image inspect "$image" >/dev/null 2>&1; then exit 0; fi
command -v ldd >/dev/null || { echo "ldd is not installed on this host: apt-get install libc-bin" >&2; exit 127; }
# ldd prints "lib => /path (addr)" or "/path (addr)"; a static binary none.
libs=$( (ldd "$bin" 2>/dev/null || true) | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
set -f
# shellcheck disable=SC2086,SC2046 # one word per path, none with spaces
set -- ${bin#/} $(printf '%s\n' $libs | sed 's|^/||')
set +f
tar -ch -C / -- "$@" | docker import --change 'LABEL ship.image=onhost' - "$image" >/dev/null
