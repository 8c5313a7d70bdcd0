#!/bin/sh
# For each directory in the arguments (a volume's mount point or Docker's
# data root: paths from Docker or the config, never from inside a volume,
# and a mount point the app cannot replace), prints one line:
# "PATH<TAB>UID GID MODE TYPE<TAB>KB AVAILABLE_KB", or "PATH<TAB>missing".
# stat does not follow the path if it is a link; df only reads the
# filesystem's counts. Runs as root (as-root.sh): only root may enter
# /var/lib/docker.
for p in "$@"; do
	if [ ! -e "$p" ] && [ ! -L "$p" ]; then
		printf '%s\tmissing\n' "$p"
		continue
	fi
	owner=$(stat -c '%u %g %a %F' -- "$p" | tr ' ' _ | sed 's/_/ /; s/_/ /; s/_/ /')
	space=$(df -Pk -- "$p" | awk 'NR == 2 { print $2, $4 }')
	printf '%s\t%s\t%s\n' "$p" "$owner" "$space"
done
