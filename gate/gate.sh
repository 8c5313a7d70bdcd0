#!/bin/bash
# ship's replica gate, run by the host itself: in the
# SERVICE-replica-gate container (chroot into the host's root, so these
# are the host's own bash and docker CLI), with no ship on the host. Runs
# after onhost/json.sh. $1 is the gate's data file, which ship writes
# (gate/hostconfig.go): one "KEY VALUE" per line, never run as code. $2 is
# "once" for one reconcile (tests), else it watches.
#
# While any follower named there is not running, the replica roles'
# running app containers on this host are stopped, so that kamal-proxy's
# next health check finds nothing there and drops them from the read
# targets; once every follower has run for `settle` seconds, the
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
	state) state=$val ;;
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

# next is when the gate checks again without an event, in $SECONDS.
next=0

# reconcile makes the replicas match the followers: out while any is not
# running, back in once all have run for settle seconds.
reconcile() {
	local f st now down=() wait=0
	next=$((SECONDS + recheck))
	now=$(date +%s)
	for f in "${followers[@]}"; do
		st=$(follower_state "$f") || return 0
		case $st in
		running\ *)
			st=$((settle - (now - ${st#running })))
			[ "$st" -le "$wait" ] || wait=$st
			;;
		*) down+=("$f is $st") ;;
		esac
	done
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
	reconcile
	exit 0
fi

trap 'exit 0' TERM INT
echo "gate for $service${destination:+ ($destination)} is watching the followers ${followers[*]}"
while :; do
	since=$(date +%s.%N)
	reconcile
	while :; do
		wait=$((next - SECONDS))
		[ "$wait" -ge 1 ] || wait=1
		if IFS=' ' read -r -t "$wait" action name svc; then
			follows "$action" "$name" "$svc" && reconcile
		elif [ $? -gt 128 ]; then
			reconcile
		else
			break # docker events ended: the engine restarted
		fi
	done < <(docker events --since "$since" --filter type=container \
		--filter event=start --filter event=die --filter event=stop --filter event=kill \
		--filter event=destroy --filter event=pause --filter event=unpause \
		--format '{{.Action}} {{index .Actor.Attributes "name"}} {{index .Actor.Attributes "service"}}')
	sleep 1
done
