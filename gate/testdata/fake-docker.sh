#!/bin/bash
# A stand-in for the docker CLI in gate.sh's unit tests: the commands and
# formats gate.sh uses, on containers kept as directories under $FAKE/c
# (files name, status, code, started, and label.KEY, and ltx: what
# `litestream ltx -json` prints in it, failing without one), and volumes
# as directories $FAKE/v/NAME, their own mount points. Each stop and
# start is appended to $FAKE/calls.
set -u
us=$'\x1f'
find_ct() {
	local d
	for d in "$FAKE"/c/*; do
		[ -d "$d" ] || continue
		if [ "${d##*/}" = "$1" ] || [ "$(cat "$d/name")" = "$1" ]; then
			echo "$d"
			return 0
		fi
	done
	echo "Error response from daemon: No such container: $1" >&2
	return 1
}
label() { cat "$1/label.$2" 2>/dev/null || true; }
case "$1 $2" in
"container inspect")
	fmt=$4 d=$(find_ct "$6") || exit 1
	case $fmt in
	*State.Status*) echo "$(cat "$d/status") $(cat "$d/code") $(cat "$d/started")" ;;
	*Config.Labels*) echo "$(label "$d" service)$us$(label "$d" role)$us$(label "$d" destination)$us$(label "$d" ship.version)" ;;
	*) exit 2 ;;
	esac
	;;
"volume inspect")
	[ -d "$FAKE/v/$6" ] || { echo "Error response from daemon: get $6: no such volume" >&2 && exit 1; }
	echo "$FAKE/v/$6"
	;;
"exec --")
	d=$(find_ct "$3") || exit 1
	# The database is the one the follower restores (its label).
	[ "$4 $5 $6 $7 $8 $9" = "litestream ltx -json -level all $(label "$d" ship.follower)" ] || { echo "fake docker: unexpected exec $*" >&2 && exit 2; }
	[ -f "$d/ltx" ] || { echo "ERROR: cannot list the replica" >&2 && exit 1; }
	cat "$d/ltx"
	;;
"info --format")
	echo "${FAKE_ENGINE:-E1}"
	;;
"ps --no-trunc")
	svc=${4#label=service=} role=${6#label=role=}
	for d in "$FAKE"/c/*; do
		[ "$(cat "$d/status")" = running ] && [ "$(label "$d" service)" = "$svc" ] && [ "$(label "$d" role)" = "$role" ] &&
			echo "${d##*/}$us$(cat "$d/name")$us$(label "$d" destination)"
	done
	;;
"stop -t")
	d=$(find_ct "$5") || exit 1
	echo "stop $(cat "$d/name")" >>"$FAKE/calls"
	echo exited >"$d/status"
	;;
"start --")
	d=$(find_ct "$3") || exit 1
	echo "start $(cat "$d/name")" >>"$FAKE/calls"
	echo running >"$d/status"
	date -u +%Y-%m-%dT%H:%M:%S.000000000Z >"$d/started"
	;;
*)
	echo "fake docker: unexpected $*" >&2
	exit 2
	;;
esac
