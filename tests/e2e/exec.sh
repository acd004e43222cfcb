#!/bin/sh
# tests/e2e/exec.sh: `drplan run` driving both sites through the exec adapter (docs/adapters.md)
# and its reference program, tests/adapters/fake-array.sh: the plan's `adapter exec { ... }`
# reaches the compiled plan and the run, each operation reaches the program of the site where it
# acts, and a program that answers garbage fails its operation with the adapter's name.
cd "$(dirname "$0")/../.." || exit 2
set -- exec-e2e # dash ignores the arguments of `.`: they are passed as $1 this way
. tests/e2e/lib/assert.sh
fake_array
cd "$scratch" || exit 2
cat >plan.drp <<'PLAN'
site east {
  adapter exec {
    program "fake-array.sh"
    timeout 20s
    env "FAKE_ARRAY_DIR FAKE_ARRAY_MODE FAKE_ARRAY_MODE_OP"
  }
}
site west {
  adapter exec {
    program "fake-array.sh"
    env "FAKE_ARRAY_DIR FAKE_ARRAY_MODE FAKE_ARRAY_MODE_OP"
  }
}
device lun-1 at east replicated to lun-1p at west
protection p { devices lun-1 }
vm db-01 priority 1 on lun-1 host esx-east-01
plan x {
  from east to west
  mode planned
  protect p
  step sync storage
  step shutdown vms at east
  step failover storage
  step register vms at west
  step power-on vms
}
PLAN

expect_status 0 "compile" "$DRPLAN" compile --root . -o x.yaml plan.drp
contains x.yaml "{site: east, kind: exec, settings: {program: fake-array.sh, timeout: 20000ms, env: FAKE_ARRAY_DIR FAKE_ARRAY_MODE FAKE_ARRAY_MODE_OP}}" \
	"the compiled plan names the sites' adapters"
expect_status 0 "a planned failover through the exec adapter" "$DRPLAN" run --root . --yes --journal ok.journal plan.drp
contains "$scratch/out" "1 VM recovered, 0 not" "the VM recovered"
check "the program performed the operations" test -s array/effects.log
contains array/effects.log "s1.sync.lun-1" "sync reached the array"
contains array/effects.log "s3.failover.lun-1" "and the failover"
check "the protected half at east, the promotion at west" \
	sh -c "grep 's3.failover.lun-1 prepare-failover' array/effects.log | grep -q east && grep 's3.failover.lun-1 failover ' array/effects.log | grep -q west"
check "no operation performed twice" test -z "$(awk '{ print $1, $2, $3 }' array/effects.log | sort | uniq -d)"

# Discovery: the site's program reports its devices and VMs as an inventory.
expect_status 0 "discover" "$DRPLAN" discover --root . --site east plan.drp
contains "$scratch/out" "{id: lun-1, site: east, kind: replicated, peer: {id: lun-1p, site: west}}" \
	"the device and its peer"
contains "$scratch/out" "{name: db-01, host: esx-east-01, devices: [lun-1]}" "the VM and its placement"
expect_status 2 "discover of an unknown site" "$DRPLAN" discover --root . --site north plan.drp
contains "$scratch/err" "no site 'north'" "says so"

rm -rf array && mkdir array
FAKE_ARRAY_MODE=garbage FAKE_ARRAY_MODE_OP=power-on
export FAKE_ARRAY_MODE FAKE_ARRAY_MODE_OP
expect_status 1 "a garbage reply fails its operation" "$DRPLAN" run --root . --yes --journal bad.journal plan.drp
contains "$scratch/err" "exec:" "naming the adapter"
unset FAKE_ARRAY_MODE FAKE_ARRAY_MODE_OP

# An asynchronous array: each sync answers in-progress twice, and is asked again (sync-status)
# every `poll` of its site; the progress goes to the adapters' log.
rm -rf array && mkdir array
sed 's/^    timeout 20s$/    poll 50ms/' plan.drp >async.drp
FAKE_ARRAY_MODE=slow-sync:2
export FAKE_ARRAY_MODE
expect_status 0 "a failover whose sync is polled" "$DRPLAN" run --root . --yes --journal async.journal async.drp
contains "$scratch/out" "1 VM recovered, 0 not" "the VM recovered"
check "sync, then sync-status twice" test "$(grep -c '^sync-status$' array/argv.log)" -eq 2
contains async.journal.adapters.log "s1.sync.lun-1: sync in progress, 50% (poll 2)" "the progress is logged"
contains array/effects.log "s1.sync.lun-1 sync dev.lun-1 east" "the sync took effect once done"
unset FAKE_ARRAY_MODE

printf 'site east {\n  adapter exec {\n    timeout 20s\n  }\n}\n' >noprog.drp
sed -n '/^site west/,$p' plan.drp >>noprog.drp
expect_status 2 "exec without a program is refused" "$DRPLAN" run --root . --yes --journal np.journal noprog.drp
contains "$scratch/err" "needs a 'program' setting" "with the reason"

summary
