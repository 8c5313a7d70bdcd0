#!/bin/sh
# Takes the bulk of a restore point before a swap's pause, while the old
# version still serves, then finishes it at the quiet point with only what
# changed since. The database is $3 in the directory $2 of the volume whose
# root is $1; the restore point is .ship/restore-points/$4/$3 beside it, and
# the newest $5 are kept. Runs after safe.sh.
#
# In WAL mode the database file changes only when a checkpoint copies WAL
# frames into it. A reader holding a read transaction keeps the WAL from
# being restarted (its frames overwritten) and from being deleted when the
# app closes its last connection. So, with such a reader open from before
# the copy until the quiet point: a plain copy of the database file, even
# one torn by a concurrent checkpoint, differs from the file at the quiet
# point only in pages whose newest committed frames are in the WAL there;
# SQLite's own recovery of that WAL beside the copy, then a checkpoint,
# gives the database exactly as the old version left it, page for page,
# schema_version included. The WAL header's salts, which change whenever
# the WAL restarts, are compared too: when they differ, or the database is
# not in WAL mode, the script says "full: WHY" and the caller copies the
# whole database at the quiet point (record.sh).
#
# Protocol: it prints "ready" once the copy is taken (or "full: WHY" and
# exits), then reads one line. "go" (at the quiet point, nothing writing)
# finishes the restore point and prints "recorded" (then removes what it
# pruned before it exits), or "full: WHY"; any
# other line, or the end of input (ship stopped or killed), removes the
# copy. The copy lives in .ship/pre-point/$3, never among the restore
# points, and the next run removes whatever a killed one left there.
#
# The app runs while the copy is taken and can write in its volume, so
# every file made there is created exclusively without following a link
# (dd conv=excl, SQLite's -nofollow); the reader's pipes are in a private
# directory outside the volume.
command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed on this host: ship server bootstrap installs it (or apt-get install sqlite3)" >&2; exit 127; }
root=$1 dir=$2 db=$3 version=$4 keep=$5
enter "$root" "$dir"
no_link "$db" "$db-wal" "$db-shm" "$db-journal"
base=$(pwd -P)
umask 077
step "$root" .ship make
step "$root" pre-point make
no_link "$db"
rm -rf -- "$db"
[ -f "../../$db" ] || { echo "full: $db does not exist yet"; exit 0; }
mkdir -m 700 -- "$db" || exit 1
holder='' pipes=''
# finish closes the reader and removes the copy.
finish() {
	if [ -n "$holder" ]; then
		exec 3>&- 4<&-
		wait "$holder"
		holder=
	fi
	[ -z "$pipes" ] || rm -rf -- "$pipes"
	cd -P -- "$work" && rm -rf -- "$db"
}
work=$(pwd -P)
trap finish EXIT
step "$root" "$db"
trap 'exit 1' HUP INT TERM

# salts prints the WAL header's magic, format, page size and salts (bytes
# 0-11 and 16-23) of the database's WAL, or nothing when it has no whole
# header.
salts() {
	[ ! -L "../../../$db-wal" ] || planted "../../../$db-wal"
	dd if="../../../$db-wal" iflag=nofollow bs=24 count=1 2>/dev/null | od -An -v -tu1 | tr -s ' \n' ' ' | awk 'NF == 24 { print $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $17, $18, $19, $20, $21, $22, $23, $24 }'
}

# u32 prints the unsigned 32-bit integer at byte $2 of the live file $1,
# big-endian (as in the WAL) or, with a third argument, in this machine's
# order (as in the shared memory).
u32() {
	if [ -n "${3-}" ]; then
		dd if="$1" iflag=nofollow,skip_bytes,count_bytes skip="$2" count=4 bs=4 2>/dev/null | od -An -tu4 | tr -d ' '
		return
	fi
	# The four numbers od prints are meant to be split.
	# shellcheck disable=SC2046
	set -- $(dd if="$1" iflag=nofollow,skip_bytes,count_bytes skip="$2" count=4 bs=4 2>/dev/null | od -An -v -tu1)
	[ $# -eq 4 ] && echo $((($1 << 24) | ($2 << 16) | ($3 << 8) | $4))
}

# wal_bytes prints how much of the live WAL SQLite's recovery can read:
# its header and the frames from the first that carry the header's salts,
# up to the first that does not. Beyond them are frames of earlier runs of
# the WAL, which can be most of the file. The shared memory's count of
# frames is where it starts looking; when that is not a frame of this run,
# it prints the whole file's size.
wal_bytes() {
	_wal="../../../$db-wal"
	_size=$(wc -c <"$_wal")
	_page=$(u32 "$_wal" 8)
	_salts=$(dd if="$_wal" iflag=nofollow,skip_bytes,count_bytes skip=16 count=8 bs=8 2>/dev/null | od -An -v -tu1)
	_n=
	[ ! -L "../../../$db-shm" ] || planted "../../../$db-shm"
	[ ! -f "../../../$db-shm" ] || _n=$(u32 "../../../$db-shm" 16 native)
	case $_n$_page in '' | *[!0-9]*) echo "$_size" && return ;; esac
	_frame=$((24 + _page))
	frame_salts() {
		dd if="$_wal" iflag=nofollow,skip_bytes,count_bytes skip=$((32 + ($1 - 1) * _frame + 8)) count=8 bs=8 2>/dev/null | od -An -v -tu1
	}
	if [ "$_n" -gt 0 ] && { [ $((32 + _n * _frame)) -gt "$_size" ] || [ "$(frame_salts "$_n")" != "$_salts" ]; }; then
		echo "$_size" && return
	fi
	while [ $((32 + (_n + 1) * _frame)) -le "$_size" ] && [ "$(frame_salts $((_n + 1)))" = "$_salts" ]; do
		_n=$((_n + 1))
	done
	echo $((32 + _n * _frame))
}

# Byte 18 of the database header is 2 in WAL mode.
mode=$(dd if="../../../$db" iflag=nofollow bs=1 skip=18 count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
[ "$mode" = 2 ] || { echo "full: $db is not in WAL mode"; exit 0; }
[ -n "$(salts)" ] || { echo "full: $db has no WAL"; exit 0; }

# The reader: a read transaction on the live database, open until finish.
pipes=$(mktemp -d) || exit 1
mkfifo "$pipes/in" "$pipes/out" || exit 1
sqlite3 -readonly -nofollow -bail "../../../$db" <"$pipes/in" >"$pipes/out" &
holder=$!
exec 3>"$pipes/in" 4<"$pipes/out"
printf '%s\n' "BEGIN;" "SELECT count(*) FROM sqlite_schema;" ".system echo ready" >&3
began=
while read -r line <&4; do
	if [ "$line" = ready ]; then began=1 && break; fi
done
[ -n "$began" ] || { echo "could not open a read transaction on $base/$db" >&2; exit 1; }
before=$(salts)
[ -n "$before" ] || { echo "full: the WAL of $db went away"; exit 0; }
# Synced now, so that the quiet point's checkpoint syncs only its pages.
dd if="../../../$db" iflag=nofollow of=db oflag=nofollow conv=excl,fsync bs=4M status=none || exit 1
echo ready

read -r cmd || exit 0
[ "$cmd" = go ] || exit 0
no_link "../../../$db" "../../../$db-wal"
[ "$(salts)" = "$before" ] || { echo "full: the WAL of $db restarted since the copy"; exit 0; }
wal=$(wal_bytes)
dd if="../../../$db-wal" iflag=nofollow,count_bytes count="$wal" of=db-wal oflag=nofollow conv=excl bs=4M status=none || exit 1
exec 3>&- 4<&-
wait "$holder"
holder=
# Recovery reads the copied WAL up to its last commit, as the new version
# will read the live one; the checkpoint writes it into the copy.
sqlite3 -nofollow -bail db "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null || exit 1
[ ! -e db-wal ] || { echo "the WAL beside the copy of $db was not checkpointed" >&2; exit 1; }

# Old restore points leave the hold by a rename into the copy's directory,
# which the exit removes once "recorded" is out: deleting a big file takes
# as long as copying the WAL. The app is stopped: nothing races the checks.
cd -P -- "$work" || exit 1
step "$root" "$db"
mkdir -m 700 old || exit 1
trash=$(pwd -P)/old
cd -P -- "$base" || exit 1
inside "$root"
step "$root" .ship
step "$root" restore-points make
step "$root" "$version" make
rm -f -- "$db-wal" "$db-shm"
no_link "$db"
mv -f -- "$work/$db/db" "$db" || exit 1
cd .. || exit 1
# As in record.sh, ls -t orders by time; the names are ship's versions,
# and mv moves a planted link, never what it points to.
# shellcheck disable=SC2012
ls -1t | tail -n +$((keep + 1)) | while read -r old; do mv -- "$old" "$trash/"; done
echo recorded
