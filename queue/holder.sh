#!/usr/bin/env bash
# The queue's holder, run with bash on the primary host for as long as a ship
# process waits in or holds the queue. $1: queue directory under $HOME;
# $2: lease in seconds. The ticket (one JSON line) comes first on stdin.
#
# Its ticket file carries a shared flock for as long as this process lives:
# others tell a live ticket from a dead one's leftover by that lock. The
# queue lock itself is fd 9. When ship stops sending heartbeats (it died, or
# the network is cut), read times out after the lease and the process exits,
# and with it every lock: nobody releases anything by hand.
set -u
dir="$HOME/$1" lease=$2
mkdir -p "$dir/tickets" || exit 1
IFS= read -r ticket || exit 1
id="$(date +%s%N)-$$"
file="$dir/tickets/$id"
# The ticket is locked and written under a name list.sh skips, then renamed:
# in tickets/ an unlocked file must only ever be a dead process's leftover,
# else a list between the file's creation and its lock sweeps a live ticket,
# and its owner waits for a turn that never comes.
new="$dir/tickets/.$id"
holding=""
trap 'rm -f "$new" "$file"; [ -n "$holding" ] && rm -f "$dir/holder"' EXIT
exec 8>"$new" || exit 1
flock -s 8 || exit 1
printf '%s\n' "$ticket" >&8
mv "$new" "$file" || exit 1
exec 9>>"$dir/lock" || exit 1
echo "READY $id"
while IFS= read -r -t "$lease" cmd; do
	case $cmd in
	hb) echo hb ;;
	lock)
		if flock -n -x 9; then
			holding=1
			cp "$file" "$dir/holder"
			echo LOCKED
		else
			echo BUSY
		fi
		;;
	esac
done
