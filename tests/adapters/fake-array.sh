#!/bin/sh
# fake-array.sh: the reference adapter of the exec protocol (docs/adapters.md), written in POSIX sh
# for the tests: it keeps a fake array in $FAKE_ARRAY_DIR and misbehaves on request.
#
# State, in $FAKE_ARRAY_DIR: dev.NAME and vm.NAME hold the last state of each device and VM;
# effects.log gets one line per effect, "OP-ID OPERATION OBJECT SITE"; argv.log and env.log record
# how each call was started (for the tests that check that secrets never reach argv),
# request.OP-ID.log the last request of each operation; inventory/ holds what `discover` reports
# (see below).
# Storage-migration records: record.DEVICE.VM holds the record the recovered copy of DEVICE has
# for VM (completed or in-progress; no file: none). A register of a VM being moved (the request
# gives its source and destination) registers the destination copy only if both devices hold a
# completed record, says so under `copies`, and keeps its choice in copy.VM (COPY@SITE).
# FAKE_ARRAY_MODE (with FAKE_ARRAY_MODE_OP: only for that operation) makes it misbehave:
#   garbage, missing-status, unknown-field, huge, wrong-op, silent, exit3, sleep, background,
#   crash-after-effect, failed, transient, no-read, in-progress, copies-elsewhere (`copies` in any
#   reply),
#   big-discover (a discovery of FAKE_ARRAY_VMS VMs, default 20000);
#   for a register: no-copies, bad-copy, stranger-copy;
#   partial-timeout and partial-lost (attempt 1 only: act on the first half of the VMs, then hang
#   until the timeout kills the process group, or exit without a reply);
#   query-missing-vm, query-extra-vm, query-bad-word (a per-VM query reply that leaves out the last
#   VM asked about, adds one nobody asked about, or says "maybe").
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
	if [ "$mode" = big-discover ]; then
		# A site of FAKE_ARRAY_VMS VMs (default 20000) on one device: a reply of megabytes.
		awk -v n="${FAKE_ARRAY_VMS:-20000}" 'BEGIN {
			printf "drplan-adapter-reply: 1\nop: discover\nstatus: done\ninventory:\n  version: 1\n"
			printf "  sites:\n    - {name: east, hosts: [esx-east-01]}\n"
			printf "  devices:\n    - {id: lun-1, site: east, kind: replicated, peer: {id: lun-1p, site: west}}\n"
			printf "  vms:\n"
			for (i = 1; i <= n; i++)
				printf "    - {name: vm-%06d, host: esx-east-01, devices: [lun-1], power: on}\n", i
		}'
		exit 0
	fi
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
case $mode in
partial-*) [ "$(field attempt)" = 1 ] || mode= ;;
esac

printf '%s\n' "$*" >>"$dir/argv.log"
env | sort >"$dir/env.$op.log"
printf '%s\n' "$request" >"$dir/request.$op.log"
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
copies-elsewhere) reply done; printf 'copies: {}\n'; exit 0 ;;
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

# choose_copy VM: for a VM being moved, the copy the records on the recovered devices decide;
# appended to $copies for the reply.
copies=
choose_copy() {
	line=$(printf '%s\n' "$request" | grep "^  - {name: $1, ")
	src=$(printf '%s\n' "$line" | sed -n 's/.*, source: \([^,}]*\).*/\1/p')
	dst=$(printf '%s\n' "$line" | sed -n 's/.*, destination: \([^,}]*\).*/\1/p')
	[ -n "$src" ] || return 0
	on_src=$(cat "$dir/record.$src.$1" 2>/dev/null || echo none)
	on_dst=$(cat "$dir/record.$dst.$1" 2>/dev/null || echo none)
	if [ "$on_src" = completed ] && [ "$on_dst" = completed ]; then
		copy=destination why="completed records on $src and $dst"
	else
		copy=source why="records: $src $on_src, $dst $on_dst"
	fi
	[ "$mode" = bad-copy ] && copy=elsewhere
	printf '%s@%s\n' "$copy" "$site" >"$dir/copy.$1"
	copies="$copies  $1: {copy: $copy, why: \"$why\"}
"
}

devices=$(printf '%s\n' "$request" | grep '^  - {name: .*peer:' | sed 's/^  - {name: \([^,]*\),.*/\1/')
vms=$(printf '%s\n' "$request" | grep '^  - {name: .*host:' | sed 's/^  - {name: \([^,]*\),.*/\1/')

case $operation in
sync | prepare-failover | failover | set-preference | snapshot | reverse | discard-snapshot)
	for d in $devices; do
		effect "dev.$d" "$operation@$site"
	done ;;
shutdown | migrate | register | power-on | unregister)
	# The request names the VMs to act on: after a fault, only those not done yet.
	n=$(printf '%s\n' $vms | grep -c .)
	i=0
	for v in $vms; do
		case $mode in
		partial-*) [ $((i * 2)) -lt "$n" ] || break ;;
		esac
		if [ "$operation" = register ]; then
			choose_copy "$v"
		fi
		effect "vm.$v" "$operation@$site"
		i=$((i + 1))
	done
	case $mode in
	partial-timeout) echo "fake-array: $operation $op cut off after $i VMs" >&2; exec sleep 60 ;;
	partial-lost) exit 0 ;;
	esac
	[ "$mode" = stranger-copy ] && copies="$copies  nobody: {copy: source, why: \"?\"}
"
	[ "$mode" = no-copies ] && copies= ;;
query)
	asked=$(field query)
	case $asked in
	shutdown | migrate | register | power-on)
		# Per VM: each VM the request asks about, and where the effect left it.
		printf 'drplan-adapter-reply: 1\nop: %s\nvms:\n' "$op"
		last=$(printf '%s\n' $vms | tail -n 1)
		for v in $vms; do
			[ "$mode" = query-missing-vm ] && [ "$v" = "$last" ] && continue
			line=
			if [ -f "$dir/effects.log" ]; then
				line=$(grep "^$op $asked vm.$v " "$dir/effects.log" | tail -n 1)
			fi
			if [ "$mode" = query-bad-word ]; then
				printf '  %s: maybe\n' "$v"
			elif [ -n "$line" ]; then
				printf '  %s: {outcome: happened, where: %s}\n' "$v" "${line##* }"
			else
				printf '  %s: not-happened\n' "$v"
			fi
		done
		if [ "$mode" = query-extra-vm ]; then
			printf '  nobody-asked: happened\n'
		fi
		exit 0 ;;
	esac
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
if [ -n "$copies" ]; then
	printf 'copies:\n%s' "$copies"
fi
