#!/bin/bash
# ship's fire drill, run by the host itself: in the SERVICE-drill
# container (chroot into the host's root, so these are the host's own
# bash, sqlite3, curl and docker), with no ship on the host. Runs after
# database/safe.sh. $1 is the drill's config file, which ship writes
# (drill/hostconfig.go): one "KEY VALUE" per line, never run as code. $2 is
# "once" for one drill now (ship db drill --now), else it loops, running a
# drill at every minute the schedule matches.
#
# One drill: each database's latest replica restored by a one-off
# container of the Litestream image (its credentials from the accessory's
# env file, --env-file, never argv) into a private directory on the host,
# the copy's integrity checked, its row counts compared with the live
# database's, read-only and without following a link the app planted,
# measured again a few times when they differ (lag, not damage). With
# boot, the app's running image then starts on a writable scratch copy of
# the restored databases, on a network of its own, and must pass its
# health check (and the drill command). The outcome is appended as one
# JSON line to the log; the heartbeat or failure URL is pinged with curl,
# which reads the URL from a file (-K), never from argv, and never prints
# it.
set -u
umask 022
conf=$1 mode=${2:-loop}
[ -r "$conf" ] || { echo "the drill's config $conf is missing: run ship db drill --schedule again" >&2; exit 2; }

run_args=() config_args=() dbs=() boot=0 boot_filters=() boot_cmd=() boot_command=()
while IFS= read -r line || [ -n "$line" ]; do
	key=${line%% *} val=${line#* }
	case $key in
	name) name=$val ;;
	log) log=$val ;;
	minutes) minutes=$val ;;
	hours) hours=$val ;;
	days) days=$val ;;
	months) months=$val ;;
	weekdays) weekdays=$val ;;
	any_day) any_day=$val ;;
	any_weekday) any_weekday=$val ;;
	retry_wait) retry_wait=$val ;;
	image) image=$val ;;
	run_arg) run_args+=("$val") ;;
	config_arg) config_args+=("$val") ;;
	ltx) ltx=$val ;;
	db) dbs+=("$val") ;;
	heartbeat) heartbeat=$val ;;
	failure) failure=$val ;;
	boot) boot=$val ;;
	boot_filter) boot_filters+=("$val") ;;
	boot_destination) boot_destination=$val ;;
	boot_cmd) boot_cmd+=("$val") ;;
	boot_check) boot_check=$val ;;
	boot_wait) boot_wait=$val ;;
	boot_command) boot_command+=("$val") ;;
	esac
done <"$conf"

# json (onhost/json.sh) is put before this script.

# in_list says whether $1 is in the comma list $2.
in_list() { case ",$2," in *",$1,"*) return 0 ;; esac; return 1; }

# due says whether the schedule matches the minute of the epoch second $1,
# in the host's local time; days as cron has them.
due() {
	local m h d mo w day
	read -r m h d mo w < <(date -d "@$1" '+%-M %-H %-d %-m %w')
	in_list "$m" "$minutes" && in_list "$h" "$hours" && in_list "$mo" "$months" || return 1
	in_list "$d" "$days" && day=1 || day=0
	if [ "$any_day" = 1 ] && [ "$any_weekday" = 1 ]; then return 0; fi
	if [ "$any_day" = 1 ]; then in_list "$w" "$weekdays"; return; fi
	if [ "$any_weekday" = 1 ]; then [ "$day" = 1 ]; return; fi
	[ "$day" = 1 ] || in_list "$w" "$weekdays"
}

now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# counts prints each table's row count in the database $1 (a path, or
# ./NAME in the working directory) as one JSON object, tables in order,
# reading with -readonly (no write lock) and -nofollow. Litestream 0.3's
# bookkeeping tables are not the app's data.
counts() {
	local q
	q=$(sqlite3 -readonly -nofollow -bail "$1" "SELECT group_concat('SELECT ' || quote(name) || ' AS t, count(*) AS n FROM \"' || replace(name, '\"', '\"\"') || '\"', ' UNION ALL ') FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name NOT LIKE '\_litestream\_%' ESCAPE '\'") || return 1
	[ -n "$q" ] || { echo '{}'; return 0; }
	sqlite3 -readonly -nofollow -bail "$1" "SELECT json_group_object(t, n) FROM (SELECT * FROM ($q) ORDER BY t)"
}

# live runs "counts" or "bytes" on the live database: in a subshell that
# enters its volume from the mount point, refusing links (safe.sh).
live() {
	(
		enter "$root" "$dir"
		no_link "$file" "$file-wal" "$file-shm" "$file-journal"
		case $1 in
		counts) counts "./$file" ;;
		bytes) stat -c %s -- "$file" ;;
		owner) stat -c %u:%g -- "$file" ;;
		esac
	)
}

# litestream runs a one-off container of the Litestream image with the
# accessory's mounts (read-only), network and env file.
litestream() {
	docker run --rm --name "$name-drill-$RANDOM$RANDOM" --label ship.drill="$name" \
		-v "$tmp:$tmp" "${run_args[@]}" "$image" "$@"
}

# replica_age prints the seconds since the newest file in the replica $1
# (a URL, or the database's path for a hand-written litestream.yml), as
# Litestream 0.5's ltx lists them; or null.
replica_age() {
	local newest
	[ "$ltx" = 1 ] || { echo null; return; }
	if ! litestream ltx -json -level all "${config_args[@]}" "$1" >"$tmp/ltx.json" 2>"$tmp/ltx.err"; then
		echo "could not list the replica's files for its age: $(tail -n 3 "$tmp/ltx.err")" >&2
		echo null
		return
	fi
	newest=$(sqlite3 :memory: "SELECT max(json_extract(value, '\$.timestamp')) FROM json_each(CAST(readfile('$tmp/ltx.json') AS TEXT))" 2>&1)
	case $newest in
	[0-9]*) ;;
	*)
		echo "could not read the replica's files for its age: $newest" >&2
		echo null
		return
		;;
	esac
	newest=$(date -d "$newest" +%s 2>/dev/null) || { echo null; return; }
	echo $(($(date +%s) - newest))
}

# restore_db restores, checks and compares database number $1; it sets
# entry (its JSON) and problem ("" when it passed).
restore_db() {
	local i=$1 path litestream_path replica ltx_target target copy attempt t0 out replica_rows live_rows bytes age rs=0
	IFS=$'\t' read -r path litestream_path root dir file replica ltx_target target <<<"${dbs[$i]}"
	problem="" rows=null bytes=null
	for attempt in 0 1 2 3; do
		copy="$tmp/$i-$attempt-$file"
		echo "restoring $path from $replica"
		t0=$(now)
		if ! out=$(litestream restore "${config_args[@]}" -o "$copy" "$litestream_path" 2>&1); then
			case $out in
			*"no matching backup"* | *"no backups found"* | *"no snapshots available"* | *"no generations"*)
				problem="the replica $replica has no backup of $path: Litestream has not replicated it (is the litestream accessory running?), or the replica was deleted" ;;
			*) problem="restoring $path from $replica failed: $(printf '%s' "$out" | tail -n 5)" ;;
			esac
			break
		fi
		rs=$(seconds "$t0" "$(now)")
		restore_seconds=$(awk -v a="$restore_seconds" -v b="$rs" 'BEGIN { printf "%.3f", a + b }')
		out=$(sqlite3 -nofollow -bail "$copy" "PRAGMA integrity_check" 2>&1)
		if [ "$out" != ok ]; then
			problem="the restored copy of $path is damaged: $(printf '%s' "$out" | head -n 5)"
			break
		fi
		if ! replica_rows=$(counts "$copy" 2>&1); then
			problem="count rows of the restored copy of $path: $replica_rows"
			break
		fi
		if ! live_rows=$(live counts 2>&1); then
			problem="count rows of the live $path: $live_rows"
			break
		fi
		rows=$replica_rows
		if [ "$replica_rows" = "$live_rows" ]; then
			echo "$path: integrity ok, row counts match: $live_rows"
			restored[i]=$copy
			break
		fi
		if [ "$attempt" = 3 ]; then
			problem="row counts of $path differ from the live database: replica $replica_rows, live $live_rows"
			break
		fi
		echo "$path: row counts differ (replica $replica_rows, live $live_rows); measuring again in ${retry_wait}s"
		sleep "$retry_wait"
	done
	bytes=$(live bytes 2>/dev/null) || bytes=null
	age=$(replica_age "$ltx_target")
	if [ "$age" != null ] && { [ "$replica_age" = null ] || [ "$age" -gt "$replica_age" ]; }; then replica_age=$age; fi
	entry="{\"path\":$(json "$path"),\"ok\":$([ -z "$problem" ] && echo true || echo false),\"rows\":$rows,\"bytes\":$bytes,\"restore_seconds\":$rs,\"replica_age_seconds\":$age}"
}

# ping sends the outcome to the heartbeat or failure URL, whose curl
# config file (url = "...") is $1; the reason, if any, is the body.
ping() {
	[ -n "${1-}" ] && [ -r "$1" ] || return 0
	if [ -n "${2-}" ]; then
		printf '%s\n' "$2" | curl -fsS -m 10 --retry 2 -o /dev/null -K "$1" --data-binary @- 2>/dev/null || echo "could not reach the failure URL" >&2
	else
		curl -fsS -m 10 --retry 2 -o /dev/null -K "$1" 2>/dev/null || echo "could not reach the heartbeat URL" >&2
	fi
}

# app_container prints the ID of the newest of the app's containers that
# docker ps with $@ lists, in the destination.
app_container() {
	docker ps "$@" --format '{{.Label "destination"}}	{{.ID}}' "${boot_filters[@]}" |
		awk -F '\t' -v d="${boot_destination-}" '$1 == d { print $2; exit }'
}

# boot_app starts the app's running image on a writable scratch copy of
# the restored databases, on a network of its own, with no proxy and no
# published port; waits for its health check; runs the drill command in
# it; and removes everything. It prints the problem, if any, on stdout,
# and its progress on stderr.
boot_app() {
	local src img net ct scratch i path litestream_path root dir file replica ltx_target target owner vols=() seen=, ip port check_path state status deadline
	# The running version's image and environment; else the newest
	# container's (the app may be stopped for maintenance). The environment
	# holds the app's secrets: it goes to a file in the drill's private
	# directory, never argv.
	src=$(app_container --filter status=running)
	[ -n "$src" ] || src=$(app_container -a)
	[ -n "$src" ] || { echo "no container of the app to take the image from: deploy first"; return; }
	img=$(docker inspect -f '{{.Config.Image}}' "$src") || { echo "could not inspect the app's container $src"; return; }
	(umask 077 && docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$src" >"$tmp/app.env") || { echo "could not read the app's environment"; return; }
	scratch="$tmp/boot"
	for i in "${!dbs[@]}"; do
		IFS=$'\t' read -r path litestream_path root dir file replica ltx_target target <<<"${dbs[$i]}"
		mkdir -p "$(dirname "$scratch$path")" || return
		cp -- "${restored[$i]}" "$scratch$path" || return
		# The app's user owns the copy as it owns the live database.
		owner=$(live owner 2>/dev/null) || owner=0:0
		chown -R "$owner" "$scratch$target" || return
		in_list "$target" "$seen" || vols+=(-v "$scratch$target:$target")
		seen+="$target,"
	done
	net="$name-drill-boot-$RANDOM$RANDOM"
	ct="$net"
	docker network create --label ship.drill="$name" "$net" >/dev/null || { echo "could not create the network $net"; return; }
	echo "booting $img on the restored copy as $ct" >&2
	if ! docker run -d --name "$ct" --label ship.drill="$name" --network "$net" "${vols[@]}" --env-file "$tmp/app.env" "$img" "${boot_cmd[@]}" >/dev/null; then
		docker network rm "$net" >/dev/null 2>&1
		echo "could not start $img on the restored copy"
		return
	fi
	IFS=$'\t' read -r check_path port <<<"$boot_check"
	deadline=$(($(date +%s) + boot_wait))
	while :; do
		state=$(docker inspect -f '{{.State.Running}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' "$ct" 2>/dev/null)
		case $state in
		true*) ;;
		*) status="the app exited on the restored copy: $(docker logs --tail 5 "$ct" 2>&1)"; break ;;
		esac
		if [ -n "$check_path" ]; then
			ip=$(docker inspect -f "{{(index .NetworkSettings.Networks \"$net\").IPAddress}}" "$ct")
			if curl -fsS -m 5 -o /dev/null "http://$ip:$port$check_path" 2>/dev/null; then status=""; break; fi
		elif [ "$state" = "true healthy" ] || [ "$state" = "true " ]; then
			status=""
			break
		fi
		if [ "$(date +%s)" -ge "$deadline" ]; then status="the app on the restored copy did not pass its health check in ${boot_wait}s"; break; fi
		sleep 1
	done
	if [ -z "$status" ] && [ ${#boot_command[@]} -gt 0 ]; then
		echo "running the drill command in $ct" >&2
		if ! out=$(docker exec "$ct" "${boot_command[@]}" 2>&1); then
			status="the drill command failed on the restored copy: $(printf '%s' "$out" | tail -n 5)"
		fi
	fi
	[ -z "$status" ] && echo "the app passed its health check on the restored copy" >&2
	docker rm -f "$ct" >/dev/null 2>&1
	docker network rm "$net" >/dev/null 2>&1
	printf '%s' "$status"
}

# leftovers removes what a drill of this service that was killed left:
# its private directory, its restores and its booted app and network.
# Only with the lock held: then no other drill of the service runs.
leftovers() {
	local d n
	for d in /var/tmp/ship-drill-"$name"-????????; do
		if [ -d "$d" ] && [ ! -L "$d" ]; then
			echo "removing $d, left by a drill that was stopped" >&2
			rm -rf -- "$d"
		fi
	done
	while read -r n; do
		case $n in
		"$name"-drill-boot-* | "$name"-drill-[0-9]*)
			echo "removing $n, left by a drill that was stopped" >&2
			docker rm -f "$n" >/dev/null
			;;
		esac
	done < <(docker ps -a --filter label=ship.drill="$name" --format '{{.Names}}')
	while read -r n; do
		docker network rm "$n" >/dev/null
	done < <(docker network ls --filter label=ship.drill="$name" --format '{{.Name}}')
}

# drill runs one drill and logs it. Drills of the service run one at a
# time (the scheduled one and --now), behind a lock beside the log.
drill() {
	local started t0 i ok problems=() entries=() problem entry restore_seconds=0 replica_age=null booted=null restored=()
	mkdir -p "${log%/*}"
	exec 9>>"$log.lock"
	if ! flock -n 9; then
		echo "waiting for the drill that is running" >&2
		flock 9
	fi
	leftovers
	started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	t0=$(now)
	tmp=$(mktemp -d /var/tmp/ship-drill-"$name"-XXXXXXXX) || return 1
	chmod 700 "$tmp"
	for i in "${!dbs[@]}"; do
		restore_db "$i"
		entries+=("$entry")
		[ -z "$problem" ] || problems+=("$problem")
	done
	if [ "$boot" = 1 ] && [ ${#problems[@]} = 0 ]; then
		problem=$(boot_app)
		if [ -n "$problem" ]; then problems+=("$problem") booted=false; else booted=true; fi
	fi
	rm -rf -- "$tmp"
	ok=true problem=""
	if [ ${#problems[@]} -gt 0 ]; then
		ok=false
		problem=$(printf '%s; ' "${problems[@]}")
		problem=${problem%; }
	fi
	printf '{"time":%s,"ok":%s,"problem":%s,"seconds":%s,"restore_seconds":%s,"replica_age_seconds":%s,"booted":%s,"databases":[%s]}\n' \
		"$(json "$started")" "$ok" "$(json "$problem")" "$(seconds "$t0" "$(now)")" "$restore_seconds" "$replica_age" "$booted" \
		"$(IFS=,; echo "${entries[*]}")" >>"$log"
	# A drill a minute is 1440 lines a day: keep the newest 10000 or so.
	if [ "$(wc -l <"$log")" -gt 20000 ]; then
		tail -n 10000 -- "$log" >"$log.trim" && mv -- "$log.trim" "$log"
	fi
	flock -u 9
	if [ "$ok" = true ]; then
		echo "drill passed"
		ping "${heartbeat-}"
	else
		echo "drill FAILED: $problem"
		ping "${failure-}" "$problem"
		return 1
	fi
}

case $mode in
once)
	drill
	exit
	;;
due)
	# Says whether the schedule matches the epoch second $3.
	due "$3"
	exit
	;;
esac
echo "drill scheduled: minutes $minutes, hours $hours, days $days, months $months, weekdays $weekdays (host time)"
while :; do
	# Sleep to the start of the next minute, then run if it is due.
	sleep $((60 - $(date +%s) % 60))
	t=$(date +%s)
	if due "$t"; then drill; fi
done
