#!/bin/sh
# tests/e2e/stale.sh: `drplan run` refuses a stale plan. A plan is compiled against an inventory
# discovered from the fake array (tests/adapters/fake-array.sh); the array then changes behind its
# back (a VM moves, one appears, a device vanishes) and the run refuses (DRP060, exit 1) listing
# what changed, performing nothing; --no-discovery-check runs it anyway; a same-site host move is
# only a note; a site that cannot be discovered, or reports an inventory with errors, stops a
# planned run (exit 2) but not a disaster run at its protected site; a resumed run is not checked.
cd "$(dirname "$0")/../.." || exit 2
set -- stale-e2e # dash ignores the arguments of `.`: they are passed as $1 this way
. tests/e2e/lib/assert.sh
fake_array
cd "$scratch" || exit 2
inv=array/inventory

# Only east's program sees FAKE_ARRAY_MODE, so a test can break east's discovery alone.
cat >sites.drp <<'SITES'
site east {
  adapter exec {
    program "fake-array.sh"
    env "FAKE_ARRAY_DIR FAKE_ARRAY_MODE FAKE_ARRAY_MODE_OP"
  }
}
site west {
  adapter exec {
    program "fake-array.sh"
    env "FAKE_ARRAY_DIR"
  }
}
SITES
cat >plan.drp <<'PLAN'
include "sites.drp"
inventory "inv.yaml"
protection p { devices lun-1 lun-2 }
vm db-* priority 1
vm app-* priority 2
plan move {
  from east to west
  mode planned
  protect p
  step sync storage
  step shutdown vms at east
  step failover storage
  step register vms at west
  step power-on vms
}
plan disaster {
  from east to west
  mode disaster
  protect p
  step failover storage
  step register vms at west
  step power-on vms
}
plan paused {
  from east to west
  mode planned
  protect p
  step prompt "really?"
  step sync storage
  step shutdown vms at east
  step failover storage
  step register vms at west
  step power-on vms
}
PLAN
# The first discovery comes before any plan: the sites' file alone names the programs.
expect_status 0 "discover from the sites alone (seeds the fake array)" "$DRPLAN" discover --root . --site east sites.drp
contains "$scratch/out" "{id: lun-1, site: east, kind: replicated, peer: {id: lun-1p, site: west}}" "what the array has"
echo 'esx-east-01, esx-east-02' >"$inv/hosts.east"
echo '{id: lun-2, site: east, kind: replicated, peer: {id: lun-2p, site: west}}' >"$inv/dev.lun-2"
echo '{name: app-01, host: esx-east-01, devices: [lun-2]}' >"$inv/vm.app-01"
expect_status 0 "discover the array" "$DRPLAN" discover --root . --site east sites.drp
cp "$scratch/out" inv.yaml
expect_status 0 "the plan's file discovers the same" "$DRPLAN" discover --root . --site east --plan move plan.drp
check "the same inventory" cmp -s "$scratch/out" inv.yaml
contains inv.yaml "{name: app-01, host: esx-east-01, devices: [lun-2]}" "the inventory is the array's"
expect_status 0 "compile against it" "$DRPLAN" compile --root . --plan move -o move.yaml plan.drp
cp -r "$inv" fresh-inventory
# reset: the array as discovered, nothing performed yet.
reset() { rm -rf array && mkdir array && cp -r fresh-inventory "$inv"; }

# Unchanged: the run checks and goes on.
expect_status 0 "an up-to-date plan runs" "$DRPLAN" run --root . --yes --journal fresh.journal move.yaml
contains "$scratch/err" "the plan matches a fresh discovery of east and west" "after checking both sites"
contains "$scratch/out" "2 VMs recovered, 0 not" "and recovers every VM"

# A move to another host at the same site is harmless to this plan: a note, and the run goes on.
reset
echo '{name: db-01, host: esx-east-02, devices: [lun-1]}' >"$inv/vm.db-01"
expect_status 0 "a same-site host move does not stop the run" "$DRPLAN" run --root . --yes --journal harmless.journal move.yaml
contains "$scratch/err" "note: moved: vm db-01: host esx-east-01 -> esx-east-02 (same site: harmless)" "it is noted"
check "the run performed its operations" test -s array/effects.log

# Stale: db-01 moved to a host at west, web-01 appeared on a protected device, lun-2 vanished.
reset
echo '{name: db-01, host: esx-west-01, devices: [lun-1]}' >"$inv/vm.db-01"
echo '{name: web-01, host: esx-east-01, devices: [lun-1]}' >"$inv/vm.web-01"
rm "$inv/dev.lun-2"
expect_status 1 "a stale compiled plan is refused" "$DRPLAN" run --root . --yes --journal stale.journal move.yaml
contains "$scratch/err" "error: the plan 'move' is stale: 3 differences between the world it was compiled against and a fresh discovery of east and west [DRP060]" "with DRP060"
contains "$scratch/err" "note: moved: vm db-01: host esx-east-01 -> esx-west-01 (at west, not east)" "the moved VM"
contains "$scratch/err" "note: appeared: vm web-01 on lun-1, which the plan protects: the plan would leave the VM behind" "the new VM"
contains "$scratch/err" "note: vanished: device lun-2" "the vanished device"
contains "$scratch/err" "help: discover again (drplan discover --site SITE PLAN.drp, into the plan's inventory for east and west)" "how to fix it"
check "in name order" sh -c "grep -n 'note:' '$scratch/err' | cut -d: -f4- | awk '{ print \$3 }' | sort -c"
check "nothing was performed" test ! -e array/effects.log
check "no journal was written" test ! -e stale.journal
expect_status 1 "the plan's source is refused too, at its declaration" "$DRPLAN" run --root . --yes --plan move --journal stale.journal plan.drp
contains "$scratch/err" "plan.drp:6:6: error: the plan 'move' is stale" "pointing at the plan"
contains "$scratch/err" "help: discover again (drplan discover --site SITE plan.drp, into the plan's inventory for east and west)" "naming it in the hint"
expect_status 1 "--format json" "$DRPLAN" run --root . --yes --format json --journal stale.journal move.yaml
contains "$scratch/out" '"code":"DRP060"' "one JSON diagnostic"
contains "$scratch/out" '{"message":"vanished: device lun-2","range":null}' "whose notes are the differences"
check "still nothing performed" test ! -e array/effects.log
expect_status 0 "--no-discovery-check runs it anyway" "$DRPLAN" run --root . --yes --no-discovery-check --journal forced.journal move.yaml
check "and it performed its operations" test -s array/effects.log

# A site that cannot be discovered: a planned run cannot be checked and stops; a disaster run
# expects its protected site to be down, warns, and checks the site that answers.
reset
FAKE_ARRAY_MODE=no-read FAKE_ARRAY_MODE_OP=discover
export FAKE_ARRAY_MODE FAKE_ARRAY_MODE_OP
expect_status 2 "a planned run whose site does not answer" "$DRPLAN" run --root . --yes --journal down.journal move.yaml
contains "$scratch/err" "cannot check the plan against site 'east': its discovery failed" "says which site"
check "nothing was performed" test ! -e array/effects.log
expect_status 0 "a disaster run goes on" "$DRPLAN" run --root . --yes --plan disaster --journal dis.journal plan.drp
contains "$scratch/err" "warning: the discovery of the protected site 'east' failed" "with a warning"
contains "$scratch/err" "the plan matches a fresh discovery of west" "after checking west"
unset FAKE_ARRAY_MODE FAKE_ARRAY_MODE_OP

# What a program reports is hostile input: an inventory that does not read cleanly is a failed
# discovery, shown where it is wrong.
reset
echo '{name: db-01, hots: esx-east-01, devices: [lun-1]}' >"$inv/vm.db-01"
expect_status 2 "a discovered inventory with an error" "$DRPLAN" run --root . --yes --journal bad-inv.journal move.yaml
contains "$scratch/err" "<discovery of east>:" "is shown in the discovery's own text"
contains "$scratch/err" "unknown key 'hots'" "with the inventory reader's words"
contains "$scratch/err" "its discovery failed: the inventory it reported is not usable" "and stops the run"
check "nothing was performed" test ! -e array/effects.log

# A resumed run is not checked: the world has changed by its own hand.
reset
expect_status 3 "a run stopped at its prompt" "$DRPLAN" run --root . --plan paused --journal paused.journal plan.drp
rm "$inv/dev.lun-2"
expect_status 1 "a new run of that plan would be refused" "$DRPLAN" run --root . --yes --plan paused --journal other.journal plan.drp
expect_status 0 "but its resumption is not checked" "$DRPLAN" run --root . --yes --resume --plan paused --journal paused.journal plan.drp

# A site whose program cannot discover says so in the plan, and is not asked.
sed 's/^    program "fake-array.sh"$/&\n    discover no/' sites.drp >nodisc-sites.drp
sed 's/include "sites.drp"/include "nodisc-sites.drp"/' plan.drp >nodisc.drp
check "both sites say discover no" test "$(grep -c 'discover no' nodisc-sites.drp)" -eq 2
expect_status 0 "a plan whose sites do not discover runs unchecked" "$DRPLAN" run --root . --yes --plan move --journal nodisc.journal nodisc.drp
check "no check was made" sh -c "! grep -q 'fresh discovery' '$scratch/err'"
sed 's/discover no/discover maybe/' nodisc-sites.drp >bad-sites.drp
sed 's/include "sites.drp"/include "bad-sites.drp"/' plan.drp >bad.drp
expect_status 2 "a bad discover setting" "$DRPLAN" run --root . --yes --plan move --journal bad.journal bad.drp
contains "$scratch/err" "'discover' is yes or no, not 'maybe'" "is named"

summary
