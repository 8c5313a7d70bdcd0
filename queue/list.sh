#!/usr/bin/env bash
# Lists the queue in $HOME/$1 for the owner of ticket $2 (may be empty),
# which is live, as its owner asks: one "ID<TAB>TICKET" line per live ticket,
# oldest first; then "FREEZE<TAB>JSON" if frozen, and "HELD<TAB>JSON" if
# the lock is held. A ticket file without its owner's lock is a dead
# process's leftover and is removed here, unless $3 is "look": then it is
# only left out. Tickets still being made are named .ID (see holder.sh),
# which ls leaves out.
dir="$HOME/$1" mine=${2-} look=${3-}
if [ -d "$dir/tickets" ]; then
	# Ticket names are holder.sh's digits and a dash, so ls's output splits
	# safely; and ls leaves out the .ID files, as it must.
	# shellcheck disable=SC2012
	for f in $(ls "$dir/tickets" | sort); do
		path="$dir/tickets/$f"
		if [ "$f" = "$mine" ]; then
			printf '%s\t%s\n' "$f" "$(cat "$path" 2>/dev/null)"
			continue
		fi
		# Another sweeper may hold the lock for an instant: wait that
		# long, where a live owner holds it for good.
		if flock -w 0.05 -x "$path" true 2>/dev/null; then
			[ "$look" = look ] || rm -f "$path"
			continue
		fi
		printf '%s\t%s\n' "$f" "$(cat "$path" 2>/dev/null)"
	done
fi
if [ -s "$dir/freeze" ]; then printf 'FREEZE\t%s\n' "$(cat "$dir/freeze")"; fi
# A shared lock to look: only a holder's exclusive lock refuses it. An
# exclusive look would itself hold the lock for an instant, and another
# list at that instant would report a holder that is not there.
if [ -e "$dir/lock" ] && ! flock -n -s "$dir/lock" true 2>/dev/null; then
	printf 'HELD\t%s\n' "$(cat "$dir/holder" 2>/dev/null)"
fi
exit 0
