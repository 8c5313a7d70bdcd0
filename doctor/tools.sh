#!/bin/sh
# Prints "missing NAME" for each program ship's scripts run on a host that
# is not on the PATH, and "nosudo" when the login user is not root and has
# no passwordless sudo, which the database scripts need. It only looks.
for p in bash flock sqlite3 stat dd od readlink mktemp df; do
	command -v "$p" >/dev/null 2>&1 || echo "missing $p"
done
if [ "$(id -u)" != 0 ] && ! sudo -n true 2>/dev/null; then echo nosudo; fi
exit 0
