#!/bin/sh
# tests/e2e/cleanup.sh: test-failover stop, end to end: plans/dr-test.drp brings the ledger up at
# west from snapshots, then plans/dr-test-cleanup.drp, against the same simulated world, powers the
# test VMs off, unregisters them and discards the snapshots; east is never touched. The simulator's
# physics refuse a discard while a test VM is still registered on the snapshot. Then the same
# cleanup through the exec adapter and its reference program (tests/adapters/fake-array.sh).
cd "$(dirname "$0")/../.." || exit 2
set -- cleanup-e2e # dash ignores the arguments of `.`: they are passed as $1 this way
. tests/e2e/lib/assert.sh
cp -R plans "$scratch/plans" # a copy: a variant is written beside the plans below
plans=$scratch/plans
fake_array
cd "$scratch" || exit 2

drun() { "$DRPLAN" run --root "$plans" "$@"; }
world=st/world.yaml

expect_status 0 "the DR test" drun --simulate --yes --sim-state st --journal test.journal "$plans/dr-test.drp"
check "the test VMs run at west from snapshots" test "$(grep -c 'west: {[^}]*power: on, from: snapshot[,}]' $world)" -eq 13
check "the snapshots exist at west" test "$(grep -c 'snapshots: \[west\]' $world)" -eq 4
grep -o '^  [^:]*: {east: {[^}]*}' $world | sort >east-before
check "production runs at east" test "$(grep -c 'power: on' east-before)" -eq 13
cp st/effects.log test-effects.log

expect_status 0 "the cleanup" drun --simulate --yes --sim-state st --journal cleanup.journal "$plans/dr-test-cleanup.drp"
contains st/world.yaml "plan: ledger-test-cleanup" "the cleanup took the test's world over"
contains "$scratch/out" "13 VMs cleaned up, 0 not" "the report says what a cleanup did"
check "no test VM is left at west" test "$(grep -c 'west:' $world)" -eq 0
check "no snapshot is left" test "$(grep -c 'snapshots: \[\]' $world)" -eq 4
grep -o '^  [^:]*: {east: {[^}]*}' $world | sort >east-after
check "the protected site is untouched" cmp -s east-before east-after
check "east still replicates to west" test "$(grep -c 'source: east, writable: \[east\], snapshots: \[\], replicating: true' $world)" -eq 4
check "the test's effects are kept" cmp -s test-effects.log st/effects.log.1
log=st/effects.log
check "13 test VMs shut down" test "$(grep -c ' shutdown vm:' $log)" -eq 13
check "13 test VMs unregistered" test "$(grep -c ' unregister vm:' $log)" -eq 13
check "4 snapshots discarded" test "$(grep -c ' discard-snapshot dev:' $log)" -eq 4
check "nothing acts at east: no sync, failover or reverse" test -z "$(grep -E ' (sync|prepare-failover|failover|reverse) ' $log)"
# Every discard comes after every unregister of the VMs on its devices: here, after the last one
# of each workgroup (w1 is on cg-ledger's lun-131/132, w2 on lun-141, w3 on lun-141 and lun-142:
# gl-rpt-01, being moved between them, w4 on lun-142).
last_unreg=$(grep -n ' unregister vm:' $log | tail -n 1 | cut -d: -f1)
first_discard=$(grep -n ' discard-snapshot dev:lun-142' $log | head -n 1 | cut -d: -f1)
check "lun-142's snapshot goes after its VMs are unregistered" test "$first_discard" -gt "$(grep -n 's3.unregister.w[34]' $log | tail -n 1 | cut -d: -f1)"
check "the log is in order" test "$last_unreg" -gt 0

expect_status 0 "a second cleanup finds nothing left to do" drun --simulate --yes --sim-state st --journal again.journal "$plans/dr-test-cleanup.drp"
check "and still nothing at west" test "$(grep -c 'west:' $world)" -eq 0

# Discarding a snapshot under a registered test VM: the compiler refuses such a plan, and a run
# whose unregister fails leaves the snapshot under that workgroup alone.
sed -e 's/^  step unregister vms at west$//' -e 's/^plan ledger-test-cleanup {/plan no-unregister {/' \
	"$plans/dr-test-cleanup.drp" >"$plans/no-unregister.drp"
expect_status 1 "a cleanup without unregister is refused by the compiler" drun --simulate --yes --journal nu.journal "$plans/no-unregister.drp"
contains "$scratch/err" "a cleanup needs 'step unregister vms' before 'step discard snapshots'" "with the rule"
expect_status 0 "a second DR test" drun --simulate --yes --sim-state st2 --journal test2.journal "$plans/dr-test.drp"
expect_status 1 "a cleanup whose unregister fails" drun --simulate --yes --sim-state st2 --journal fail.journal \
	--fail s3.unregister.w3 "$plans/dr-test-cleanup.drp"
check "w3's test VM stays registered" test "$(grep -c 'west: {[^}]*power: off, from: snapshot[,}]' st2/world.yaml)" -eq 1
check "lun-142's snapshot stays under it" grep -q 'lun-142: {source: east, writable: \[east\], snapshots: \[west\]' st2/world.yaml
check "and lun-141's" grep -q 'lun-141: {source: east, writable: \[east\], snapshots: \[west\]' st2/world.yaml

# The same cleanup through the exec adapter: the program gets unregister and discard-snapshot.
cat >exec.drp <<'PLAN'
site east { adapter exec { program "fake-array.sh" env "FAKE_ARRAY_DIR" } }
site west { adapter exec { program "fake-array.sh" env "FAKE_ARRAY_DIR" } }
device lun-1 at east replicated to lun-1p at west
protection p { devices lun-1 }
vm db-01 priority 1 on lun-1 host esx-east-01
plan c {
  from east to west
  mode cleanup
  protect p
  step shutdown vms
  step unregister vms
  step discard snapshots
}
PLAN
expect_status 0 "a cleanup through the exec adapter" "$DRPLAN" run --root . --yes --journal exec.journal exec.drp
contains array/effects.log "s1.shutdown.w1 shutdown vm.db-01 west" "the test VM shut down at west"
contains array/effects.log "s2.unregister.w1 unregister vm.db-01 west" "unregistered at west"
contains array/effects.log "s3.discard.lun-1 discard-snapshot dev.lun-1 west" "the snapshot discarded at west"
check "in that order" test "$(awk '{ print $2 }' array/effects.log | tr '\n' ' ')" = "shutdown unregister discard-snapshot "

summary
