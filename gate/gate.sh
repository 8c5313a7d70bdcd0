#!/bin/bash
# ship's replica gate, run by the host itself: in the
# SERVICE-replica-gate container (chroot into the host's root, so these
# are the host's own bash and docker CLI), with no ship on the host. Runs
# after onhost/json.sh. $1 is the gate's data file, which ship writes
# (gate/hostconfig.go): one "KEY VALUE" per line, never run as code. $2 is
# "once" for one reconcile (tests), else it watches.
#
# While any follower named there is not running, or runs but is stuck
# (its copy behind the replica and unmoved for `recheck` seconds, seen at
# two checks: benbjohnson/litestream#1515), the replica roles' running
# app containers on this host are stopped, so that kamal-proxy's next
# health check finds nothing there and drops them from the read targets;
# once every follower has run for `settle` seconds and none is stuck, the
# containers the gate stopped are started again, each only if ship still
# runs its version here (the role's healthy record), so a container ship
# replaced or stopped meanwhile stays stopped. A container is written to
# the state file before it is stopped, and the state file goes only after
# every recorded container is started, so a gate killed at any point
# loses none. It wakes on Docker's events for the followers (and for app
# containers starting while out), and re-checks every `recheck` seconds,
# since events are missed while the engine restarts. Each change is one
# JSON line appended to the log. It touches no follower, no volume, and
# no container without the replica roles' labels.
set -u
# The log and the record are root's, and the SSH user reads them.
umask 022
conf=$1 mode=${2:-watch}
[ -r "$conf" ] || { echo "the gate's data file $conf is missing: run ship deploy again" >&2; exit 2; }

engine='' service='' destination='' roles=() followers=() state='' log='' settle=5 recheck=30 stop_timeout=1
while IFS= read -r line || [ -n "$line" ]; do
	key=${line%% *} val=${line#* }
	case $key in
	engine) engine=$val ;;
	service) service=$val ;;
	destination) destination=$val ;;
	role) roles+=("$val") ;;
	follower) followers+=("$val") ;;
	copy) copies+=("$val") ;;
	state) state=$val ;;
	positions) positions=$val ;;
	log) log=$val ;;
	settle) settle=$val ;;
	recheck) recheck=$val ;;
	stop_timeout) stop_timeout=$val ;;
	esac
done <"$conf"

# us separates fields Docker prints that may be empty (a tab would not:
# read folds a run of tabs into one).
us=$'\x1f'

# change appends one change to the log and says it: $1 out or in, $2 the
# reason, the rest the containers stopped or started.
change() {
	local dir=$1 reason=$2 list='' n line
	shift 2
	for n in "$@"; do list+="${list:+,}$(json "$n")"; done
	line=$(printf '{"time":"%s","state":"%s","reason":%s,"containers":[%s]}' \
		"$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$dir" "$(json "$reason")" "$list")
	printf '%s\n' "$line" >>"$log" || echo "cannot append to $log" >&2
	printf '%s\n' "$line"
}

# follower_state prints "running EPOCH" (when it started), or what the
# follower $1 is instead; it fails when Docker cannot say.
follower_state() {
	local out status code started
	if ! out=$(docker container inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.State.StartedAt}}' -- "$1" 2>&1); then
		case $out in
		*"No such"*) echo "missing" && return 0 ;;
		esac
		echo "cannot inspect $1: $out" >&2
		return 1
	fi
	read -r status code started <<<"$out"
	case $status in
	running) echo "running $(date -d "$started" +%s 2>/dev/null || echo 0)" ;;
	exited) echo "exited ($code)" ;;
	*) echo "$status" ;;
	esac
}

# version prints the role's version ship runs here: its healthy record
# ("" after a deliberate stop, or when there is none).
version() {
	local v=''
	if [ -f "$1" ]; then v=$(cat -- "$1") || v=''; fi
	printf '%s' "$v"
}

# running_apps prints "ID<TAB>NAME" of each running container of the
# replica roles, by ship's labels: service, role and destination.
running_apps() {
	local r role id name dest
	for r in "${roles[@]}"; do
		role=${r%%$'\t'*}
		docker ps --no-trunc --filter "label=service=$service" --filter "label=role=$role" \
			--format "{{.ID}}$us{{.Names}}$us{{.Label \"destination\"}}" | while IFS=$us read -r id name dest; do
			[ "$dest" = "$destination" ] && printf '%s\t%s\n' "$id" "$name"
		done
	done
}

# take_out stops the replica roles' running containers, each recorded
# first; it logs when the gate goes out, or stops more while out.
take_out() {
	local reason=$1 was_out=0 id name stopped=()
	[ -f "$state" ] && was_out=1
	if [ "$was_out" = 0 ]; then printf 'out\n' >"$state" || return 1; fi
	while IFS=$'\t' read -r id name; do
		[ -n "$id" ] || continue
		if ! grep -q "^$id	" "$state"; then
			printf '%s\t%s\n' "$id" "$name" >>"$state" || return 1
		fi
		if docker stop -t "$stop_timeout" -- "$id" >/dev/null; then
			stopped+=("$name")
		fi
	done < <(running_apps)
	if [ "$was_out" = 0 ] || [ "${#stopped[@]}" -gt 0 ]; then
		change out "$reason" "${stopped[@]}"
	fi
}

# role_of prints "PREFIX<TAB>VERSION" of the role $1: its containers'
# name prefix and the version ship runs (version); it fails when $1 is
# none of the gate's roles.
role_of() {
	local r role rest
	for r in "${roles[@]}"; do
		role=${r%%$'\t'*} rest=${r#*$'\t'}
		if [ "$role" = "$1" ]; then
			printf '%s\t%s' "${rest%%$'\t'*}" "$(version "${rest#*$'\t'}")"
			return 0
		fi
	done
	return 1
}

# put_back starts each container the gate stopped that ship still runs
# the version of, then forgets them all; a start that fails keeps the
# record, to be tried again at the next check.
put_back() {
	[ -f "$state" ] || return 0
	local id name info svc role dest ver prefix want started=() kept=() failed=0
	while IFS=$'\t' read -r id name; do
		[ -n "$name" ] || continue
		if ! info=$(docker container inspect -f "{{index .Config.Labels \"service\"}}$us{{index .Config.Labels \"role\"}}$us{{index .Config.Labels \"destination\"}}$us{{index .Config.Labels \"ship.version\"}}" -- "$id" 2>/dev/null); then
			kept+=("$name is gone")
			continue
		fi
		IFS=$us read -r svc role dest ver <<<"$info"
		if [ "$svc" != "$service" ] || [ "$dest" != "$destination" ] || ! want=$(role_of "$role"); then
			kept+=("$name is no longer a replica's")
			continue
		fi
		prefix=${want%%$'\t'*} want=${want#*$'\t'}
		[ -n "$ver" ] || ver=${name#"$prefix"}
		if [ "$ver" != "$want" ]; then
			kept+=("$name is not the version ship runs here${want:+ ($want)}")
			continue
		fi
		if docker start -- "$id" >/dev/null; then
			started+=("$name")
		else
			failed=1
		fi
	done <"$state"
	[ "$failed" = 0 ] || return 1
	rm -f -- "$state" || return 1
	local reason="every follower runs"
	if [ "${#kept[@]}" -gt 0 ]; then
		reason+="; left stopped: $(printf '%s, ' "${kept[@]}")"
		reason=${reason%, }
	fi
	change in "$reason" "${started[@]}"
}

# copy_txid prints what the DB-txid beside follower $1's copy says,
# reading it from the copy volume's mount point through safe.sh's
# primitives (no link followed, in a subshell, so that a refusal fails
# this call, not the gate); it fails, saying why, when it cannot.
copy_txid() {
	local c f db vol rel root
	for c in "${copies[@]}"; do
		IFS=$'\t' read -r f db vol rel <<<"$c"
		[ "$f" = "$1" ] && break
		f=''
	done
	[ -n "$f" ] || { echo "the data file names no copy for $1" >&2 && return 1; }
	root=$(docker volume inspect -f '{{.Mountpoint}}' -- "$vol") || return 1
	(
		enter "$root" "$(dirname -- "$rel")"
		base=$(basename -- "$rel")
		no_link "$base-txid"
		[ -f "$base-txid" ] || { echo "$root/$rel-txid is missing" >&2 && exit 1; }
		head -c 64 -- "$base-txid" | head -n 1
	) | grep -x '[0-9a-f]\{16\}' || { echo "cannot read the position of $1's copy" >&2 && return 1; }
}

# replica_txid prints the newest TXID of the replica of the database $2,
# by `litestream ltx` inside the follower $1, with its litestream.yml and
# credentials (as follower.Status asks); it fails when it cannot say.
replica_txid() {
	local out newest
	if ! out=$(timeout 120 docker exec -- "$1" litestream ltx -json -level all "$2" 2>&1); then
		echo "litestream ltx in $1: $out" >&2
		return 1
	fi
	newest=$(grep -o '"max_txid": *"[0-9a-f]\{16\}"' <<<"$out" | grep -o '[0-9a-f]\{16\}' | sort | tail -n 1)
	[ -n "$newest" ] || { echo "litestream ltx in $1 lists no file of the replica" >&2 && return 1; }
	echo "$newest"
}

# check_positions compares each running follower's copy with the replica
# ($@: FOLLOWER@EPOCH, when it started) and rewrites the positions file:
# one line "FOLLOWER COPY REPLICA SINCE VERDICT EPOCH" per copy that is
# behind, SINCE when the gate first saw the copy at that TXID, VERDICT
# stuck once a later check of the same run of the follower finds it
# there still, recheck seconds on, else behind. A follower started again
# meanwhile (a re-seed, say, while the gate was stopped) starts over. A
# copy the gate cannot read keeps its line (a stuck follower stays stuck
# until seen to move); a caught-up copy, or a follower not running, has
# none.
check_positions() {
	local f up start c r now was pc since verdict pstart lines=''
	[ -n "$positions" ] || return 0
	now=$(date +%s)
	for up in "$@"; do
		f=${up%@*} start=${up##*@} was=''
		[ -f "$positions" ] && was=$(while read -r pf rest; do [ "$pf" = "$f" ] && printf '%s\n' "$rest"; done <"$positions")
		read -r pc _ since verdict pstart <<<"$was"
		[ "$pstart" = "$start" ] || pc=''
		if ! c=$(copy_txid "$f") || ! r=$(replica_txid "$f" "$(db_of "$f")"); then
			[ -z "$pc" ] || lines+="$f $was"$'\n'
			continue
		fi
		[[ $c < $r ]] || continue
		verdict=behind
		if [ "$c" != "$pc" ]; then
			since=$now
		elif [ $((now - since)) -ge "$recheck" ]; then
			verdict=stuck
		fi
		lines+="$f $c $r $since $verdict $start"$'\n'
	done
	printf '%s' "$lines" >"$positions.tmp" && mv -f -- "$positions.tmp" "$positions"
}

# db_of prints the database the follower $1 restores.
db_of() {
	local c f db rest
	for c in "${copies[@]}"; do
		IFS=$'\t' read -r f db rest <<<"$c"
		[ "$f" = "$1" ] && printf '%s' "$db" && return 0
	done
	return 1
}

# stuck prints, for each follower of $@ the positions file has as
# stuck, why, one a line.
stuck() {
	local f c r since verdict g
	[ -n "$positions" ] && [ -f "$positions" ] || return 0
	while read -r f c r since verdict _; do
		[ "$verdict" = stuck ] || continue
		for g in "$@"; do
			[ "$g" = "$f" ] && printf '%s does not advance: its copy is at TXID %s, the replica at %s, since %s\n' \
				"$f" "$c" "$r" "$(date -u -d "@$since" +%Y-%m-%dT%H:%M:%SZ)"
		done
	done <"$positions"
}

# next is when the gate checks again without an event, in $SECONDS.
next=0

# reconcile makes the replicas match the followers: out while any is not
# running or is stuck, back in once all have run for settle seconds and
# none is stuck. With $1 "full" (at start, and every recheck seconds) it
# compares the copies' positions with the replica first; on an event it
# goes by the last comparison.
reconcile() {
	local f st now down=() up=() wait=0
	next=$((SECONDS + recheck))
	now=$(date +%s)
	for f in "${followers[@]}"; do
		st=$(follower_state "$f") || return 0
		case $st in
		running\ *)
			up+=("$f@${st#running }")
			st=$((settle - (now - ${st#running })))
			[ "$st" -le "$wait" ] || wait=$st
			;;
		*) down+=("$f is $st") ;;
		esac
	done
	[ "${1-}" != full ] || check_positions "${up[@]}"
	while IFS= read -r st; do
		[ -z "$st" ] || down+=("$st")
	done < <(stuck "${up[@]%@*}")
	if [ "${#down[@]}" -gt 0 ]; then
		take_out "$(printf '%s, ' "${down[@]}" | sed 's/, $//')"
	elif [ "$wait" -gt 0 ]; then
		[ -f "$state" ] && next=$((SECONDS + wait))
	else
		put_back
	fi
}

# follows says whether a Docker event ($1 action, $2 name, $3 service
# label) may change what the gate should do.
follows() {
	local f
	for f in "${followers[@]}"; do [ "$2" = "$f" ] && return 0; done
	[ "$1" = start ] && [ "$3" = "$service" ] && [ -f "$state" ]
}

# The docker CLI of the host's root must reach the engine ship deployed
# to: a host whose ship user reaches another (rootless Docker, a
# DOCKER_HOST of its own) would have the gate watch the wrong containers.
if [ -n "$engine" ]; then
	seen=$(docker info --format '{{.ID}}' 2>&1) || { echo "the gate cannot reach Docker: $seen" >&2; exit 2; }
	if [ "$seen" != "$engine" ]; then
		echo "the gate's docker CLI (as root, at the host's default socket) reaches the Docker engine $seen, not $engine, which ship deployed to: the gate cannot watch this host's followers; make ship's SSH user use the host's default engine (/var/run/docker.sock)" >&2
		exit 2
	fi
fi

if [ "$mode" = once ]; then
	reconcile full
	exit 0
fi

trap 'exit 0' TERM INT
echo "gate for $service${destination:+ ($destination)} is watching the followers ${followers[*]}"
while :; do
	since=$(date +%s.%N)
	reconcile full
	while :; do
		wait=$((next - SECONDS))
		[ "$wait" -ge 1 ] || wait=1
		if IFS=' ' read -r -t "$wait" action name svc; then
			follows "$action" "$name" "$svc" && reconcile
		elif [ $? -gt 128 ]; then
			reconcile full
		else
			break # docker events ended: the engine restarted
		fi
	done < <(docker events --since "$since" --filter type=container \
		--filter event=start --filter event=die --filter event=stop --filter event=kill \
		--filter event=destroy --filter event=pause --filter event=unpause \
		--format '{{.Action}} {{index .Actor.Attributes "name"}} {{index .Actor.Attributes "service"}}')
	sleep 1
done
