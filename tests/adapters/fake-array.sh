#!/bin/sh
# fake-array.sh: the reference adapter of the exec protocol (docs/adapters.md), written in POSIX sh
# for the tests: it keeps a fake array in $FAKE_ARRAY_DIR and misbehaves on request.
#
# State, in $FAKE_ARRAY_DIR: dev.NAME and vm.NAME hold the last state of each device and VM;
# effects.log gets one line per effect, "OP-ID OPERATION OBJECT SITE"; argv.log and env.log record
# how each call was started (for the tests that check that secrets never reach argv); inventory/
# holds what `discover` reports (see below).
# FAKE_ARRAY_MODE (with FAKE_ARRAY_MODE_OP: only for that operation) makes it misbehave:
#   garbage, missing-status, unknown-field, huge, wrong-op, silent, exit3, sleep, background,
#   crash-after-effect, failed, transient, no-read, in-progress.
# An asynchronous array (leave FAKE_ARRAY_MODE_OP unset: sync and sync-status both need the mode):
#   slow-sync:N     the first N replies of a sync (the sync's, then sync-status's) say
#                   `status: in-progress` with a progress, the next one `done`;
#   slow-sync-bad:N the same, but the reply after them has an unknown status word.
set -u

operation=${1:-}
dir=${FAKE_ARRAY_DIR:?FAKE_ARRAY_DIR is not set}
mode=${FAKE_ARRAY_MODE:-}
if [ -n "${FAKE_ARRAY_MODE_OP:-}" ] && [ "$FAKE_ARRAY_MODE_OP" != "$operation" ]; then
	mode=
fi

if [ "$mode" = no-read ]; then
	# Exits before reading its request: drplan must not die of SIGPIPE.
	exit 0
fi

request=$(cat)
if [ "$operation" = discover ]; then
	# The inventory of the fake array, kept in $dir/inventory and seeded on first use with what the
	# tests' plans use: hosts.SITE holds a site's hosts ("esx-east-01, esx-east-02"; default
	# esx-SITE-01), dev.ID and vm.NAME one flow mapping each. Tests edit these files to move, add or
	# remove things behind a compiled plan's back.
	inv=$dir/inventory
	if [ ! -d "$inv" ]; then
		mkdir -p "$inv"
		echo '{id: lun-1, site: east, kind: replicated, peer: {id: lun-1p, site: west}}' >"$inv/dev.lun-1"
		echo '{name: db-01, host: esx-east-01, devices: [lun-1]}' >"$inv/vm.db-01"
	fi
	printf 'drplan-adapter-reply: 1\nop: discover\nstatus: done\ninventory:\n'
	printf '  version: 1\n  sites:\n'
	for s in $(printf '%s\n' "$request" | sed -n 's/^sites: \[\(.*\)\]$/\1/p' | tr ',' ' '); do
		hosts=esx-$s-01
		if [ -f "$inv/hosts.$s" ]; then
			hosts=$(cat "$inv/hosts.$s")
		fi
		printf '    - {name: %s, hosts: [%s]}\n' "$s" "$hosts"
	done
	for kind in dev vm; do
		if [ $kind = dev ]; then echo '  devices:'; else echo '  vms:'; fi
		for f in "$inv/$kind".*; do
			if [ -f "$f" ]; then
				printf '    - %s\n' "$(cat "$f")"
			fi
		done
	done
	exit 0
fi
field() {
	printf '%s\n' "$request" | sed -n "s/^$1: *//p" | head -n 1 | sed 's/^"\(.*\)"$/\1/'
}
op=$(field op)
site=$(field site)

printf '%s\n' "$*" >>"$dir/argv.log"
env | sort >"$dir/env.$op.log"
echo "fake-array: $operation $op starting" >&2

reply() { # status [message]
	printf 'drplan-adapter-reply: 1\nop: %s\nstatus: %s\n' "$op" "$1"
	if [ $# -gt 1 ]; then
		printf 'message: "%s"\n' "$2"
	fi
}

case $mode in
garbage) printf 'drplan-adapter-reply: 1\n\top: %s\nstatus: done\n' "$op"; exit 0 ;;
missing-status) printf 'drplan-adapter-reply: 1\nop: %s\n' "$op"; exit 0 ;;
unknown-field) reply done; printf 'colour: blue\n'; exit 0 ;;
huge) yes 'message: this reply never ends'; exit 0 ;;
wrong-op) printf 'drplan-adapter-reply: 1\nop: s99.sync.other\nstatus: done\n'; exit 0 ;;
silent) exit 0 ;;
exit3) reply done; exit 3 ;;
failed) reply failed "the array said no"; exit 0 ;;
transient) reply transient "the array is busy"; exit 0 ;;
in-progress) reply in-progress; exit 0 ;;
sleep)
	# A child that ignores SIGTERM and outlives its parent unless the whole group is killed.
	echo $$ >"$dir/pgid"
	(trap '' TERM; sleep 60) &
	echo $! >"$dir/child"
	trap '' TERM
	sleep 60
	exit 0 ;;
background)
	# Answers, but leaves a child holding stdout and stderr open.
	echo $$ >"$dir/pgid"
	sleep 60 &
	echo $! >"$dir/child"
	reply done
	exit 0 ;;
esac

# The asynchronous sync: sync.OP-ID counts the replies given so far.
case $mode in
slow-sync:* | slow-sync-bad:*)
	if [ "$operation" = sync ] || [ "$operation" = sync-status ]; then
		polls=${mode#*:}
		count=0
		if [ "$operation" = sync-status ]; then
			if [ ! -f "$dir/sync.$op" ]; then
				reply failed "no sync of $op is in progress"
				exit 0
			fi
			count=$(cat "$dir/sync.$op")
		fi
		if [ "$count" -lt "$polls" ]; then
			echo $((count + 1)) >"$dir/sync.$op"
			reply in-progress
			printf 'progress: %s%%\n' $((count * 100 / polls))
			exit 0
		fi
		rm -f "$dir/sync.$op"
		case $mode in slow-sync-bad:*) reply finished; exit 0 ;; esac
		operation=sync # done: the effects below are the sync's
	fi ;;
esac

effect() { # object state
	printf '%s %s %s %s\n' "$op" "$operation" "$1" "$site" >>"$dir/effects.log"
	printf '%s\n' "$2" >"$dir/$1"
}

devices=$(printf '%s\n' "$request" | grep '^  - {name: .*peer:' | sed 's/^  - {name: \([^,]*\),.*/\1/')
vms=$(printf '%s\n' "$request" | grep '^  - {name: .*host:' | sed 's/^  - {name: \([^,]*\),.*/\1/')

case $operation in
sync | prepare-failover | failover | set-preference | snapshot | reverse | discard-snapshot)
	for d in $devices; do
		effect "dev.$d" "$operation@$site"
	done ;;
shutdown | migrate | register | power-on | unregister)
	for v in $vms; do
		effect "vm.$v" "$operation@$site"
	done ;;
query)
	asked=$(field query)
	if [ -f "$dir/effects.log" ] && grep -q "^$op $asked " "$dir/effects.log"; then
		outcome=happened
	else
		outcome=not-happened
	fi
	printf 'drplan-adapter-reply: 1\nop: %s\noutcome: %s\n' "$op" "$outcome"
	exit 0 ;;
*)
	reply failed "unknown operation $operation"
	exit 0 ;;
esac

if [ "$mode" = crash-after-effect ]; then
	kill -KILL $$
fi
echo "fake-array: $operation $op done" >&2
reply done
