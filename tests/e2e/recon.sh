#!/bin/sh
# tests/e2e/recon.sh: reconciliation per VM after a fault (docs/runtime.md): a workgroup call that
# times out halfway, on the simulator and through the exec adapter, is retried for the VMs that did
# not complete only (power-ons, live migrations, registers); a --resume after a partial failure
# does not redo the VMs found done; the journal, the run's report and `drplan status` name the VMs
# reconciled; and a VM the adapter cannot tell about fails its operation, naming the VM.
cd "$(dirname "$0")/../.." || exit 2
set -- recon-e2e # dash ignores the arguments of `.`: they are passed as $1 this way
. tests/e2e/lib/assert.sh
fake_array
plans=$PWD/plans
cd "$scratch" || exit 2

# effects FILE: the simulator's effects, one line per (operation, effect, object).
effects() { grep -v '^#' "$1" | awk '{ print $4, $6, $7 }' | sort; }
# once FILE OP EFFECT N: every one of N VMs has OP's EFFECT exactly once in the simulator's log.
once() {
	effects "$1" >once.all
	check "$2: no effect twice" test -z "$(uniq -d once.all)"
	check "$2: each of the $4 VMs once" test "$(grep -c "^$2 $3 vm:" once.all)" -eq "$4"
}

cat >inv.yaml <<'INV'
version: 1
sites:
  - name: east
    hosts: [esx-e01, esx-e02]
  - name: west
    hosts: [esx-w01, esx-w02]
devices:
  - {id: lun-1, site: east, kind: replicated, peer: {id: lun-1p, site: west}}
vms:
  - {name: db-01, host: esx-e01, devices: [lun-1]}
  - {name: db-02, host: esx-e02, devices: [lun-1]}
  - {name: db-03, host: esx-e01, devices: [lun-1]}
  - {name: db-04, host: esx-e02, devices: [lun-1]}
  - {name: db-05, host: esx-e01, devices: [lun-1]}
  - {name: db-06, host: esx-e02, devices: [lun-1]}
  - {name: db-07, host: esx-e01, devices: [lun-1]}
  - {name: db-08, host: esx-e02, devices: [lun-1]}
INV
world='site east { adapter sim }
site west { adapter sim }
inventory "inv.yaml"
protection p { devices lun-1 }
vm db-* priority 1'

# 1. The simulator: power-on of 8 VMs takes about 44s; with a 40s timeout some attempts time out
# after the first VMs. Seed 1 times out after 7 of 8 VMs, then on the last VM alone.
printf '%s\nplan move {\n  from east to west\n  mode disaster\n  protect p\n  workgroup 8\n  step failover storage\n  step register vms\n  step power-on vms timeout 40s retry 4 backoff 5s\n}\n' "$world" >sim.drp
expect_status 0 "a power-on that times out mid-workgroup is retried and completes" \
	"$DRPLAN" run --root . --simulate --seed 1 --journal sim.journal sim.drp
cp "$scratch/out" sim.out
contains sim.journal "retry s3.power-on.w1: timed out after 40.0s with 7 of 8 VMs done" \
	"the journal says how far the timed-out attempt got"
check "the journal names each VM found done" test "$(grep -c ' vm-done db-0[1-7] powered on; the adapter says: ' sim.journal)" -eq 7
check "and not the VM that was not" test "$(grep -c ' vm-done db-08 ' sim.journal)" -eq 0
once sim.journal.sim/effects.log s3.power-on.w1 power-on 8
check "the retries act on db-08 alone" test "$(grep 's3.power-on.w1' sim.journal.sim/effects.log | grep -c -v ' 1 power-on ')" -eq 1
contains sim.out "db-01                    w1     recovered (reconciled after a fault: power-on)" \
	"the report names the VMs reconciled"
contains sim.out "7 VM operations found done after a fault, not redone" "and counts them"
expect_status 0 "status of the run" "$DRPLAN" status sim.journal
contains "$scratch/out" "VMs reconciled after a fault (found done, not redone): 7" "status counts the VMs reconciled"
contains "$scratch/out" "db-07 powered on; the adapter says: " "and names them"
expect_status 0 "status as JSON" "$DRPLAN" status --json sim.journal
contains "$scratch/out" '"reconciled_vms":[{"op":2,"class":"done","state":"vm-done"' "lists them in JSON"

# The same with live migrations: plans/metro-live-migration.drp with a migrate timeout of 1m
# (its VMs' migrations take 1m40s and more): several workgroups time out partway, and their
# retries migrate the VMs left, each exactly once.
mkdir metro && cp -r "$plans/inventory" metro/
sed 's/step migrate live timeout 30m/step migrate live timeout 1m retry 6 backoff 5s/' \
	"$plans/metro-live-migration.drp" >metro/m.drp
check "the metro plan's migrate step was changed" grep -q 'migrate live timeout 1m retry 6' metro/m.drp
expect_status 0 "live migrations that time out mid-workgroup are retried and complete" \
	"$DRPLAN" run --root metro --simulate --yes --seed 1 --journal metro.journal metro/m.drp
contains metro.journal "VMs done (the simulated call takes" "some migrations timed out"
check "VMs found migrated are journaled" grep -q ' vm-done crm-[a-z]*-0[0-9] migrated; the adapter says: on at fra2' metro.journal
contains "$scratch/out" "(reconciled after a fault: migrate)" "the report names them"
effects metro.journal.sim/effects.log >metro.all
check "migrate: no effect twice" test -z "$(uniq -d metro.all)"
check "migrate: each of the 12 live VMs once" test "$(grep -c '^s3.migrate.w[0-9]* migrate vm:' metro.all)" -eq 12

# 2. The fault proxy cuts register off after half of the VMs; the step has no retry, so the run
# fails. --resume asks the simulator per VM, journals the 4 it finds done, and registers the 4
# others only. A second --resume has nothing to do.
printf '%s\nplan move {\n  from east to west\n  mode disaster\n  protect p\n  workgroup 8\n  step failover storage\n  step register vms\n  step power-on vms\n}\n' "$world" >resume.drp
printf 'rules:\n  - {match: {kind: register}, action: partial-timeout}\n' >half.yaml
expect_status 1 "a register cut off halfway fails without retry" \
	"$DRPLAN" run --root . --simulate --faults half.yaml --journal resume.journal resume.drp
contains "$scratch/err" "s2.register.w1 failed: injected timeout after 4 of 8 VMs: rule 1 (line 2)" "and says how far it got"
check "4 VMs registered" test "$(grep -c 's2.register.w1 1 register vm:' resume.journal.sim/effects.log)" -eq 4
expect_status 0 "--resume completes it" "$DRPLAN" run --root . --simulate --resume --journal resume.journal resume.drp
contains resume.journal "reconciled-not-done 4 of 8 VMs done: the others are to do" "the journal says what was found"
check "the 4 VMs found done are journaled" test "$(grep -c ' 2 [0-9]* [0-9]* 0 vm-done db-0[1-4] registered' resume.journal)" -eq 4
once resume.journal.sim/effects.log s2.register.w1 register 8
contains "$scratch/out" "4 VM operations found done after a fault, not redone" "the resumed run's report counts them"
expect_status 0 "a second --resume" "$DRPLAN" run --root . --simulate --resume --journal resume.journal resume.drp
once resume.journal.sim/effects.log s2.register.w1 register 8

# 3. The exec adapter: attempt 1 of power-on acts on db-01 and db-02, then hangs until the step's
# timeout kills it (or exits without a reply); the retry asks fake-array.sh per VM and powers on
# db-03 and db-04 only.
# new_array: an empty fake array whose discovery reports the plan's world (`drplan run` checks it).
new_array() {
	rm -rf array
	mkdir -p array/inventory
	echo '{id: lun-1, site: east, kind: replicated, peer: {id: lun-1p, site: west}}' >array/inventory/dev.lun-1
	for vm in db-01 db-02 db-03 db-04; do
		echo "{name: $vm, host: esx-east-01, devices: [lun-1]}" >array/inventory/vm.$vm
	done
}
new_array
cat >exec.drp <<'PLAN'
site east {
  adapter exec {
    program "fake-array.sh"
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
vm db-02 priority 1 on lun-1 host esx-east-01
vm db-03 priority 1 on lun-1 host esx-east-01
vm db-04 priority 1 on lun-1 host esx-east-01
plan x {
  from east to west
  mode disaster
  protect p
  workgroup 4
  step failover storage
  step register vms at west
  step power-on vms timeout 2s retry 1
}
PLAN
for mode in partial-timeout partial-lost; do
	new_array
	FAKE_ARRAY_MODE=$mode FAKE_ARRAY_MODE_OP=power-on
	export FAKE_ARRAY_MODE FAKE_ARRAY_MODE_OP
	expect_status 0 "exec, $mode: the power-on is retried and completes" \
		"$DRPLAN" run --root . --yes --journal "$mode.journal" exec.drp
	cp "$scratch/out" exec.out
	check "exec, $mode: each VM powered on once" \
		test "$(grep -c '^s3.power-on.w1 power-on vm.db-0[1-4] west$' array/effects.log)" -eq 4
	check "exec, $mode: nothing twice" test -z "$(awk '{ print $1, $2, $3 }' array/effects.log | sort | uniq -d)"
	contains "$mode.journal" "vm-done db-01 powered on; the adapter says: west" "exec, $mode: db-01 found done"
	contains "$mode.journal" "vm-done db-02 powered on; the adapter says: west" "exec, $mode: db-02 found done"
	check "exec, $mode: db-03 and db-04 were not" test "$(grep -c 'vm-done db-0[34]' "$mode.journal")" -eq 0
	contains exec.out "db-02                    w1     recovered (reconciled after a fault: power-on)" \
		"exec, $mode: the report names them"
done
contains partial-timeout.journal "retry exec:./fake-array.sh power-on s3.power-on.w1: timed out after 2s (the process group was killed)" \
	"the timeout is a transient failure"

# A hostile query reply: the retry's query answers "maybe" for each VM, so the power-on fails,
# naming the first VM and the adapter's fault; nothing is powered on twice.
new_array
printf 'rules:\n  - {match: {kind: power-on}, action: lost-reply}\n' >lost.yaml
FAKE_ARRAY_MODE=query-bad-word FAKE_ARRAY_MODE_OP=query
expect_status 1 "exec: a query that cannot tell fails the operation" \
	"$DRPLAN" run --root . --yes --faults lost.yaml --journal bad.journal exec.drp
contains "$scratch/err" "s3.power-on.w1 failed: cannot tell whether db-01 powered on: check by hand (exec:./fake-array.sh query s3.power-on.w1: line 4: unknown outcome \"maybe\" for VM db-01)" \
	"naming the VM and the adapter"
check "exec: each VM powered on once" test "$(grep -c '^s3.power-on.w1 power-on' array/effects.log)" -eq 4
unset FAKE_ARRAY_MODE FAKE_ARRAY_MODE_OP

summary
