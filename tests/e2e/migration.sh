#!/bin/sh
# tests/e2e/migration.sh: storage-migration records decide which copy `register` uses
# (docs/inventory.md). The plan in tests/e2e/migration/ recovers app-01, whose move from lun-1 to
# lun-2 had completed, and app-02, whose move had not: through the simulator (and its compiled
# plan) app-01 runs from the destination copy and app-02 from the source, each choice and its
# reason in the output, the journal and the world; records that disagree or are missing on one
# side give the source copy. Through the exec adapter, the register request lists both copies,
# the program's choice is printed and journaled, and a reply that does not account for a VM being
# moved fails the register.
cd "$(dirname "$0")/../.." || exit 2
set -- migration-e2e # dash ignores the arguments of `.`: they are passed as $1 this way
. tests/e2e/lib/assert.sh
dir=$PWD/tests/e2e/migration
fake_array
cp "$dir/inventory.yaml" "$scratch/"
cd "$scratch" || exit 2

drun() { "$DRPLAN" run --root "$dir" --simulate "$@"; }

# The compiled plan carries the records; the VMs being moved share a workgroup with both devices.
expect_status 0 "compile" "$DRPLAN" compile --root "$dir" -o apps.yaml "$dir/plan.drp"
contains apps.yaml "- {vm: app-01, from: lun-1, to: lun-2, state: completed}" "the completed record is compiled"
contains apps.yaml "- {vm: app-02, from: lun-1, to: lun-2, state: in-progress}" "the record in progress too"
contains apps.yaml "devices: [lun-1, lun-2]" "their workgroup recovers both devices"

# The simulator: completed -> destination, in progress -> source.
expect_status 0 "a disaster recovery with two VMs being moved" drun --journal sim.journal "$dir/plan.drp"
contains "$scratch/err" "drplan: s2.register.w2: app-01: registered the destination copy (on lun-2): the records on lun-1 and lun-2 both say the move completed" \
	"the output says app-01 runs from the destination copy, and why"
contains "$scratch/err" "drplan: s2.register.w2: app-02: registered the source copy (on lun-1): the records on lun-1 and lun-2 say the move was in progress" \
	"and app-02 from the source copy, and why"
contains "$scratch/out" "app-01                   w2     recovered  [on at east (esx-e1, destination copy on lun-2); on at west (esx-w1, destination copy on lun-2)]" \
	"the report shows the copy each VM runs from"
contains sim.journal " note app-01: registered the destination copy (on lun-2): " "the journal has app-01's choice"
contains sim.journal " note app-02: registered the source copy (on lun-1): " "and app-02's"
contains sim.journal.sim/world.yaml "app-01: {east: {host: esx-e1, power: on, copy: lun-2}, west: {host: esx-w1, power: on, copy: lun-2}}" \
	"the world: app-01 registered at west from lun-2"
contains sim.journal.sim/world.yaml "app-02: {east: {host: esx-e1, power: on, copy: lun-1}, west: {host: esx-w1, power: on, copy: lun-1}}" \
	"app-02 from lun-1"
check "db-01, not being moved, has no copy and no note" sh -c "! grep -q 'db-01.*copy\|note db-01' sim.journal.sim/world.yaml sim.journal"
expect_status 0 "status" "$DRPLAN" status sim.journal
contains "$scratch/out" "note 2" "status counts the two notes"

# With the protected site gone, as in a real disaster: the records on the recovered copies decide.
expect_status 0 "a disaster without east" drun --journal down.journal --down east "$dir/plan.drp"
contains "$scratch/err" "app-01: registered the destination copy (on lun-2)" "the destination copy, east down"
contains down.journal.sim/world.yaml "west: {host: esx-w1, power: on, copy: lun-2}}" "app-01 runs at west from lun-2"

# The same from the compiled plan, as JSON events.
expect_status 0 "from the compiled plan" "$DRPLAN" run --simulate --json --journal compiled.journal apps.yaml
contains "$scratch/out" '{"event":"note","time_ms":' "a note is a JSON event"
contains "$scratch/out" '"op":"s2.register.w2","note":"app-01: registered the destination copy (on lun-2): the records on lun-1 and lun-2 both say the move completed"}' \
	"with the same choice"

# Records that disagree, or one that did not reach the recovery site: the source copy, and why.
expect_status 0 "records that disagree" drun --journal disagree.journal --migration-record lun-2=in-progress "$dir/plan.drp"
contains "$scratch/err" "app-01: registered the source copy (on lun-1): the records disagree (lun-1 says completed, lun-2 says in-progress), so the move cannot be taken as completed" \
	"disagreeing records give the source copy"
contains disagree.journal.sim/world.yaml "west: {host: esx-w1, power: on, copy: lun-1}}" "and the world has it"
expect_status 0 "a missing record" drun --journal missing.journal --migration-record lun-1=none "$dir/plan.drp"
contains "$scratch/err" "app-01: registered the source copy (on lun-1): no migration record on lun-1 (lun-2 says completed), so the move cannot be taken as completed" \
	"a record missing on one side gives the source copy"
expect_status 0 "a move that completed after the inventory was taken" drun --journal late.journal --migration-record 'lun-?=completed' "$dir/plan.drp"
contains "$scratch/err" "app-02: registered the destination copy (on lun-2)" "the records decide, not the compiled state"
expect_status 2 "a record on a device of no migration" drun --journal bad.journal --migration-record lun-3=none "$dir/plan.drp"
contains "$scratch/err" "name 'lun-3', which is no device of a storage-migration record" "is refused"
expect_status 2 "a record without a state" drun --journal bad2.journal --migration-record lun-1 "$dir/plan.drp"
contains "$scratch/err" "'lun-1' is not DEVICE=STATE" "is refused"

# The exec adapter: the same plan with both sites driven by the reference program (whose
# discovery knows nothing of this world: the stale-plan check is tests/e2e/stale.sh's).
sed -e 's|adapter sim|adapter exec { program "fake-array.sh" env "FAKE_ARRAY_DIR FAKE_ARRAY_MODE FAKE_ARRAY_MODE_OP" }|' \
	"$dir/plan.drp" >exec.drp
echo completed >array/record.lun-1.app-01
echo completed >array/record.lun-2.app-01
echo completed >array/record.lun-1.app-02
echo in-progress >array/record.lun-2.app-02
expect_status 0 "exec: a recovery with two VMs being moved" "$DRPLAN" run --root . --yes --no-discovery-check --journal exec.journal exec.drp
contains array/request.s2.register.w2.log "  - {name: app-01, host: esx-e1, to-host: esx-w1, source: lun-1, destination: lun-2}" \
	"the register request lists both copies of app-01"
contains array/request.s2.register.w2.log "  - {name: app-02, host: esx-e1, to-host: esx-w1, source: lun-1, destination: lun-2}" "and of app-02"
contains array/request.s2.register.w1.log "  - {name: db-01, host: esx-e1, to-host: esx-w1}" "but none for db-01"
contains array/request.s3.power-on.w1.log "  - {name: db-01, host: esx-e1, to-host: esx-w1}" \
	"the power-on request gives the recovery host the plan placed the VM on"
contains array/copy.app-01 "destination@west" "the program registered app-01's destination copy"
contains array/copy.app-02 "source@west" "and app-02's source copy"
contains "$scratch/err" "drplan: s2.register.w2: app-01: registered the destination copy (on lun-2): completed records on lun-1 and lun-2" \
	"the output says so"
contains "$scratch/err" "drplan: s2.register.w2: app-02: registered the source copy (on lun-1): records: lun-1 completed, lun-2 in-progress" \
	"and app-02's source copy, with the program's reason"
contains exec.journal " note app-02: registered the source copy (on lun-1): records: lun-1 completed, lun-2 in-progress" \
	"the journal has the program's reasons"

# Hostile replies: a register must account for every VM being moved, and only for those.
for mode in no-copies bad-copy stranger-copy; do
	rm -f array/effects.log
	expect_status 1 "exec: a register reply ($mode)" env FAKE_ARRAY_MODE=$mode FAKE_ARRAY_MODE_OP=register \
		"$DRPLAN" run --root . --yes --no-discovery-check --journal "$mode.journal" exec.drp
	check "no note is journaled ($mode)" sh -c "! grep -q ' note ' $mode.journal"
done
contains no-copies.journal "the reply does not say which copy of VM app-01 it registered (copies)" "a reply without copies fails"
contains bad-copy.journal "the copy of VM app-01 must be source or destination, not" "an unknown copy fails"
contains stranger-copy.journal "copies names nobody, which is no VM being moved of this register" "a stranger fails"

summary
