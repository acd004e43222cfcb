#!/bin/sh
# tests/e2e/graph-diff.sh: `drplan graph` and `drplan diff` as a user runs them: every example plan
# at every level renders with Graphviz (when `dot` is installed; skipped otherwise), hostile names
# stay inside their quotes, a compiled plan draws like its source, and diff exits like diff(1): 0
# for a plan against itself or its compiled form, 1 with the expected lines for an edited copy, 2
# for trouble.
cd "$(dirname "$0")/../.." || exit 2
# dash ignores the arguments of `.`: the name is passed as the positional parameter.
set -- graph-diff-e2e
. tests/e2e/lib/assert.sh graph-diff-e2e

have_dot=false
if command -v dot >/dev/null 2>&1; then
	have_dot=true
else
	echo "note: Graphviz 'dot' is not installed: the DOT output is checked for shape only (apt-get install graphviz)"
fi

# renders FILE DESCRIPTION: the DOT in FILE is non-empty, a digraph, and (with dot) renders to SVG.
# dot exits 0 on empty input, hence the first checks.
renders() {
	if ! test -s "$1" || ! head -n 1 "$1" | grep -q '^digraph "'; then
		fail "$2: no digraph"
		return
	fi
	if $have_dot; then
		if dot -Tsvg "$1" >"$scratch/svg" 2>"$scratch/dot.err" && grep -q '<svg' "$scratch/svg"; then
			pass
		else
			fail "$2: dot -Tsvg refused it"
			sed 's/^/  | /' "$scratch/dot.err" | head -n 10
		fi
	else
		pass
	fi
}

# Every example plan at every level.
for plan in plans/*.drp; do
	name=$(basename "$plan" .drp)
	for level in step workgroup operation; do
		expect_status 0 "graph --level $level $plan" "$DRPLAN" graph --root plans --level "$level" "$plan"
		cp "$scratch/out" "$scratch/$name.$level.dot"
		renders "$scratch/$name.$level.dot" "$plan at level $level"
	done
	check "$plan: the default level is workgroup" sh -c \
		"'$DRPLAN' graph --root plans '$plan' | cmp -s - '$scratch/$name.workgroup.dot'"
done

# A compiled plan draws exactly as its source; -o writes the file.
expect_status 0 "compile payments" "$DRPLAN" compile --root plans -o "$scratch/pay.yaml" plans/payments-failover.drp
expect_status 0 "graph of a compiled plan" "$DRPLAN" graph --level operation -o "$scratch/pay.dot" "$scratch/pay.yaml"
check "the compiled plan's graph is the source's" cmp -s "$scratch/pay.dot" "$scratch/payments-failover.operation.dot"
contains "$scratch/pay.dot" 'label="s3.failover.cg-pay-db' "operation nodes carry their ids"
contains "$scratch/payments-failover.workgroup.dot" 'label="power-on w4-w5\n6 VMs, priority 2' \
	"workgroups that move alike are one node"

# Usage errors.
expect_status 2 "an unknown level" "$DRPLAN" graph --level operations plans/payments-failover.drp
contains "$scratch/err" "did you mean 'operation'" "the level gets a suggestion"
expect_status 2 "a machine format without -o" "$DRPLAN" graph --root plans --format json plans/payments-failover.drp
expect_status 2 "graph of a missing file" "$DRPLAN" graph "$scratch/missing.drp"

# Hostile names: quotes, backslashes, braces, an entity, a right-to-left override, non-ASCII.
mkdir -p "$scratch/h"
cat >"$scratch/h/plan.drp" <<'EOF'
site "ea\"st" { adapter sim }
site "wést\\" { adapter sim }
device "lun &lt; 1\u{202E}x" at "ea\"st" replicated to "peer 1" at "wést\\" consistency "cg \"a\""
device "lun}2{" at "ea\"st" replicated to "p2" at "wést\\"
protection "pg" { devices "lun &lt; 1\u{202E}x" "lun}2{" }
vm "db \"1\"" priority 1 on "lun &lt; 1\u{202E}x" host "h\\1"
vm "app 2" priority 2 after "db \"1\"" on "lun}2{" host "h\\1"
plan "evil\" } digraph" {
  from "ea\"st" to "wést\\"
  mode planned
  protect "pg"
  step sync storage
  step shutdown vms
  step failover storage
  step register vms
  step power-on vms by priority
  step prompt "a \"b\" \\ c\nd"
}
EOF
for level in step workgroup operation; do
	expect_status 0 "graph of hostile names at level $level" "$DRPLAN" graph --root "$scratch/h" --level "$level" "$scratch/h/plan.drp"
	cp "$scratch/out" "$scratch/h.$level.dot"
	renders "$scratch/h.$level.dot" "hostile names at level $level"
done
contains "$scratch/h.operation.dot" 'digraph "evil\" } digraph" {' "the graph's name is escaped"
contains "$scratch/h.operation.dot" 'label="s1.sync.lun &amp;lt; 1\\u{202E}x"' \
	"an entity stays text and the override shows as an escape"
if $have_dot; then
	dot -Tsvg "$scratch/h.operation.dot" >"$scratch/h.svg" 2>/dev/null
	contains "$scratch/h.svg" 's1.sync.lun &amp;lt; 1\u{202E}x' "the SVG shows the name as written"
fi

# diff: a plan against itself and against its compiled form: the same.
expect_status 0 "diff of a plan with itself" "$DRPLAN" diff --root plans plans/payments-failover.drp plans/payments-failover.drp
check "prints nothing" test ! -s "$scratch/out"
expect_status 0 "diff of a plan with its compiled form" "$DRPLAN" diff --root plans plans/payments-failover.drp "$scratch/pay.yaml"
for plan in plans/*.drp; do
	expect_status 0 "diff of $plan with itself" "$DRPLAN" diff --root plans "$plan" "$plan"
done

# An edited copy: one more failover at a time, a wait before power-on, web servers up with priority 2.
mkdir -p "$scratch/new"
cp -R plans/. "$scratch/new/"
sed -e 's/limit failover 2 /limit failover 3 /' \
	-e 's/^vm web-\* priority 3/vm web-* priority 2/' \
	-e 's/^\(  step power-on vms by priority.*\)$/  step wait 1m\
\1/' plans/payments-failover.drp >"$scratch/new/payments-failover.drp"
expect_status 1 "diff of an edited copy" "$DRPLAN" diff --root "$scratch" "$scratch/pay.yaml" "$scratch/new/payments-failover.drp"
cp "$scratch/out" "$scratch/diff.out"
contains "$scratch/diff.out" "--- $scratch/pay.yaml" "the header names the old side"
contains "$scratch/diff.out" "~ limit failover 2 -> 3" "a changed limit"
contains "$scratch/diff.out" "+ step 5: wait 1m" "an added step"
contains "$scratch/diff.out" "~ w4 (was w6): priority 3 -> priority 2" "a workgroup's priority, under its new number"
contains "$scratch/diff.out" "+ s5.wait" "the added operation"
contains "$scratch/diff.out" "- s5.gate.p3" "a removed gate, under its old id"
contains "$scratch/diff.out" "~ s6.power-on.w4 (was s5.power-on.w6)" "a reordered operation and its old id"
contains "$scratch/diff.out" "    + waits for s5.wait [barrier]" "its new predecessor"
check "the summary line comes last" sh -c \
	"tail -n 1 '$scratch/diff.out' | grep -Eq '^[0-9]+ operations? added, [0-9]+ removed, [0-9]+ reordered, [0-9]+ VMs? moved'"
check "no escape sequences without a terminal" sh -c "! grep -q \"$(printf '\033')\" '$scratch/diff.out'"
expect_status 1 "diff --color always" "$DRPLAN" diff --color always --root "$scratch" "$scratch/pay.yaml" "$scratch/new/payments-failover.drp"
contains "$scratch/out" "$(printf '\033[32m+ s5.wait\033[0m')" "added lines are green"
expect_status 1 "diff the other way round" "$DRPLAN" diff --root "$scratch" "$scratch/new/payments-failover.drp" "$scratch/pay.yaml"
contains "$scratch/out" "- step 5: wait 1m" "the step is removed"
contains "$scratch/out" "+ s5.gate.p3" "the gate is added"

# VMs moved between workgroups: smaller workgroups cut the six app servers 3 + 3 instead of 4 + 2.
sed 's/^  workgroup 4 /  workgroup 3 /' plans/payments-failover.drp >"$scratch/new/moved.drp"
expect_status 1 "diff with VMs moved" "$DRPLAN" diff --root "$scratch" "$scratch/pay.yaml" "$scratch/new/moved.drp"
check "VMs moved are listed by name" grep -Eq '^~ vm app-0[0-9]: w[0-9]+ -> w[0-9]+$' "$scratch/out"
check "and counted" sh -c "tail -n 1 '$scratch/out' | grep -Eq ', [1-9][0-9]* VMs? moved'"

# Trouble: exit 2, as diff(1).
expect_status 2 "diff with a missing file" "$DRPLAN" diff --root plans plans/payments-failover.drp "$scratch/missing.drp"
printf 'site east { adapter sim }\nplan p {\n  from east to nowhere\n}\n' >"$scratch/bad.drp"
expect_status 2 "diff with an invalid plan" "$DRPLAN" diff --root "$scratch" "$scratch/bad.drp" "$scratch/pay.yaml"
contains "$scratch/err" "is not a valid plan" "says why"
expect_status 2 "diff with one file" "$DRPLAN" diff plans/payments-failover.drp

summary
