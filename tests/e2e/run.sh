#!/bin/sh
# tests/e2e/run.sh: `drplan run` on the simulator as an operator uses it: a planned failover that
# succeeds, failure isolation, the planned-mode stop, a disaster that goes on without its protected
# site, a test that leaves the protected site untouched, prompts, locks, a resume refused against
# another plan, and kill -9 at 20 seeded instants followed by --resume: the simulator's effects.log
# must show every operation performed exactly once, and the world failed over.
cd "$(dirname "$0")/../.." || exit 2
set -- run-e2e # dash ignores the arguments of `.`: they are passed as $1 this way
. tests/e2e/lib/assert.sh
plans=$PWD/plans
KILLS=${RUN_KILLS:-20}
cd "$scratch" || exit 2

drun() { "$DRPLAN" run --root "$plans" "$@"; }
# effects FILE: the effects of a run, without their checksum, sequence, run and attempt numbers:
# one line per (operation, effect, object).
effects() { grep -v '^#' "$1" | awk '{ print $4, $6, $7 }' | sort; }

# A planned failover that succeeds, in real time (scaled down).
expect_status 0 "payments failover" drun --yes --time-scale 0.001 --journal ok.journal "$plans/payments-failover.drp"
contains "$scratch/out" "18 VMs recovered, 0 not" "every VM recovered"
check "every VM runs at west" test "$(grep -c 'west: {host: esx-w0[1-4], power: on}' ok.journal.sim/world.yaml)" -eq 18
# Placement: the 18 VMs dealt round-robin over west's four hosts, by workgroup and name.
check "placed on esx-w01 five times" test "$(grep -c 'west: {host: esx-w01, power: on}' ok.journal.sim/world.yaml)" -eq 5
check "placed on esx-w04 four times" test "$(grep -c 'west: {host: esx-w04, power: on}' ok.journal.sim/world.yaml)" -eq 4
check "no VM runs at east" test "$(grep -c 'east: {host: [^,]*, power: on[,}]' ok.journal.sim/world.yaml)" -eq 0
effects ok.journal.sim/effects.log >reference
check "the reference run has effects" test -s reference
check "no operation performed twice" test -z "$(uniq -d reference)"
expect_status 0 "status of the finished run" "$DRPLAN" status ok.journal
expect_status 2 "a second run on the same journal needs --resume" drun --yes --journal ok.journal "$plans/payments-failover.drp"
contains "$scratch/err" "add --resume" "and says so"

# Failure isolation (disaster mode goes on): one workgroup's power-on fails; only it and what
# depends on it do not recover.
expect_status 1 "a failure exits 1" drun --simulate --journal iso.journal --fail s5.power-on.w3 "$plans/erp-disaster.drp"
contains "$scratch/out" "failed at s5.power-on.w3" "the failed workgroup's VMs say where"
check "other VMs recovered" grep -q ' recovered ' "$scratch/out"
expect_status 1 "status of a run with a failure" "$DRPLAN" status iso.journal
expect_status 1 "status per VM" "$DRPLAN" status --compiled "$plans/erp-disaster.drp" --root "$plans" --all iso.journal
contains "$scratch/out" "s5.power-on.w3" "names the failed operation"
expect_status 0 "status as JSON" "$DRPLAN" status --json ok.journal
check "the JSON is one object" sh -c "head -c 1 '$scratch/out' | grep -q '{'"

# Planned mode stops starting new work at the first failure.
expect_status 1 "planned stop" drun --simulate --journal stop.journal --fail s2.shutdown.w1 "$plans/payments-failover.drp"
check "nothing was powered on" test "$(grep -c 'power-on' stop.journal.sim/effects.log)" -eq 0
check "the rest was skipped" grep -q 'skipped' "$scratch/out"

# Disaster with the protected site down: its operations are best-effort, the recovery goes on.
expect_status 0 "disaster without east" drun --simulate --journal down.journal --down east "$plans/erp-disaster.drp"
contains "$scratch/err" "best-effort, ignored" "the protected site's failures are ignored"
contains "$scratch/out" " 0 not;" "and every VM recovered"

# Test mode never touches the protected site.
expect_status 0 "DR test" drun --simulate --journal test.journal "$plans/dr-test.drp"
check "no effect at the protected site" test -z "$(grep -E ' (shutdown|prepare-failover|sync|reverse) ' test.journal.sim/effects.log)"
check "the production VMs still run at east" \
	test "$(grep -c 'east: {host: [^,]*, power: on[,}]' test.journal.sim/world.yaml)" -eq "$(grep -c 'east: {host:' test.journal.sim/world.yaml)"

# A prompt without --yes and without a terminal: unfinished (exit 3), then resumed and confirmed.
# (A rehearsal, --simulate, confirms prompts by itself: this is real time, scaled down.)
expect_status 3 "a prompt leaves the run unfinished" drun --time-scale 0.001 --journal ask.journal "$plans/payments-failover.drp" </dev/null
contains "$scratch/err" "resume with" "and says how to go on"
expect_status 3 "status of an unfinished run" "$DRPLAN" status ask.journal
expect_status 0 "resumed with --yes" drun --time-scale 0.001 --yes --resume --journal ask.journal "$plans/payments-failover.drp"
effects ask.journal.sim/effects.log >ask.effects
check "the resumed run performed nothing twice" test -z "$(uniq -d ask.effects)"

# Resuming against another plan is refused.
expect_status 2 "resume with another plan" drun --simulate --resume --journal ask.journal "$plans/metro-live-migration.drp"
contains "$scratch/err" "cannot resume" "with the reason"

# The lock: a second run over the same protection group exits 3 and names the holder.
# (The binary itself in the background, not through drun: $! must be its pid, for kill -9.)
"$DRPLAN" run --root "$plans" --yes --time-scale 0.05 --journal long.journal --sim-state shared.sim \
	"$plans/payments-failover.drp" >/dev/null 2>&1 &
holder=$!
sleep 0.5
expect_status 3 "a second run over the same devices" drun --yes --journal second.journal --sim-state shared.sim "$plans/payments-failover.drp"
contains "$scratch/err" "is locked by pid $holder" "naming the holder"
kill -9 "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

# kill -9 at seeded instants, then --resume until done: exactly once, nothing lost.
i=1
while [ "$i" -le "$KILLS" ]; do
	j=k$i.journal
	"$DRPLAN" run --root "$plans" --yes --time-scale 0.001 --journal "$j" "$plans/payments-failover.drp" >/dev/null 2>&1 &
	pid=$!
	sleep "$(awk -v s="$i" 'BEGIN { srand(s); printf "%.3f", 0.02 + rand() * 0.5 }')"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	if [ -f "$j" ]; then
		drun --yes --time-scale 0.001 --resume --journal "$j" "$plans/payments-failover.drp" >"k$i.out" 2>&1
	else # killed before the journal existed: nothing happened yet
		drun --yes --time-scale 0.001 --journal "$j" "$plans/payments-failover.drp" >"k$i.out" 2>&1
	fi
	rc=$?
	effects "$j.sim/effects.log" >"k$i.effects"
	if [ "$rc" -ne 0 ]; then
		fail "kill $i: the resumed run exited $rc"
		sed 's/^/  | /' "k$i.out" | tail -n 5
	elif [ -n "$(uniq -d "k$i.effects")" ]; then
		fail "kill $i: an operation was performed twice: $(uniq -d "k$i.effects" | head -n 3)"
	elif ! cmp -s "k$i.effects" reference; then
		fail "kill $i: the effects differ from an uninterrupted run"
		diff reference "k$i.effects" | head -n 5
	elif [ "$(grep -c 'west: {host: esx-w0[1-4], power: on}' "$j.sim/world.yaml")" -ne 18 ]; then
		fail "kill $i: the world did not end failed over"
	else
		pass
	fi
	i=$((i + 1))
done

summary
