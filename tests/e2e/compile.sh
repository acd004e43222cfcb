#!/bin/sh
# tests/e2e/compile.sh: `drplan compile` as a user runs it: the example plans, determinism (same
# bytes twice, same DAG when declarations are reordered), the round trip through a compiled plan,
# refusals (invalid plans, tampered compiled plans), and a property test: a few hundred generated
# plans (bench/gen-plan, different seeds and modes) all compile and pass the verifier.
cd "$(dirname "$0")/../.." || exit 2
set -- compile-e2e # dash ignores the arguments of `.`: they are passed as $1 this way
. tests/e2e/lib/assert.sh
SEEDS=${COMPILE_SEEDS:-240}

# The example plans compile, twice to the same bytes, and a compiled plan reads back to itself.
for plan in plans/*.drp; do
	name=$(basename "$plan" .drp)
	expect_status 0 "compile $plan" "$DRPLAN" compile --root plans -o "$scratch/$name.yaml" "$plan"
	expect_status 0 "compile $plan again" "$DRPLAN" compile --root plans -o "$scratch/$name.again" "$plan"
	check "$plan: two compiles give the same bytes" cmp -s "$scratch/$name.yaml" "$scratch/$name.again"
	expect_status 0 "read back $name.yaml" "$DRPLAN" compile -o "$scratch/$name.round" "$scratch/$name.yaml"
	check "$plan: the round trip keeps every byte" cmp -s "$scratch/$name.yaml" "$scratch/$name.round"
done

# Standard output, and the first line that tells a compiled plan from a plan file.
"$DRPLAN" compile --root plans plans/payments-failover.drp >"$scratch/stdout.yaml" 2>"$scratch/stderr"
check "compile writes to standard output" cmp -s "$scratch/stdout.yaml" "$scratch/payments-failover.yaml"
check "the first line says what the file is" sh -c "head -n 1 '$scratch/stdout.yaml' | grep -q '^# drplan compiled plan'"

# The inserted prefer step is announced.
expect_status 0 "compile metro" "$DRPLAN" compile --root plans -o "$scratch/metro.yaml" plans/metro-live-migration.drp
if grep -q 'step prefer' plans/metro-live-migration.drp; then
	pass
else
	contains "$scratch/err" "DRP048" "a plan without prefer gets a note"
fi

# Reordered declarations: the same operations and edges (only the source digest and the steps'
# line numbers may change).
gen=bench/gen-plan
"$gen" --vms 300 --seed 7 --out "$scratch/g" >/dev/null || fail "gen-plan"
expect_status 0 "compile a generated plan" "$DRPLAN" compile --root "$scratch/g" -o "$scratch/g1.yaml" "$scratch/g/plan.drp"
{ grep -v '^device ' "$scratch/g/plan.drp"; grep '^device ' "$scratch/g/plan.drp" | sort -r; } >"$scratch/g/reordered.drp"
expect_status 0 "compile it reordered" "$DRPLAN" compile --root "$scratch/g" -o "$scratch/g2.yaml" "$scratch/g/reordered.drp"
sed -e '/digest:/d' -e 's/, line: [0-9]*//' "$scratch/g1.yaml" >"$scratch/g1.body"
sed -e '/digest:/d' -e 's/, line: [0-9]*//' "$scratch/g2.yaml" >"$scratch/g2.body"
check "reordering declarations changes no operation or edge" cmp -s "$scratch/g1.body" "$scratch/g2.body"

# Refusals.
printf 'site east { adapter sim }\nplan p {\n  from east to nowhere\n}\n' >"$scratch/bad.drp"
expect_status 1 "an invalid plan exits 1" "$DRPLAN" compile --root "$scratch" -o "$scratch/bad.yaml" "$scratch/bad.drp"
check "and writes nothing" test ! -e "$scratch/bad.yaml"
expect_status 2 "an unreadable file exits 2" "$DRPLAN" compile "$scratch/missing.drp"
cp -R plans "$scratch/plans"
two=$scratch/plans/payments-failover.drp
awk '/^plan /,0' plans/payments-failover.drp | sed 's/^plan payments-failover/plan payments-rehearsal/' >>"$two"
expect_status 2 "two plans and no --plan exits 2" "$DRPLAN" compile --root "$scratch/plans" "$two"
contains "$scratch/err" "choose one with --plan NAME" "the message says how to choose"
expect_status 0 "--plan chooses" "$DRPLAN" compile --root "$scratch/plans" --plan payments-rehearsal -o "$scratch/rehearsal.yaml" "$two"
contains "$scratch/rehearsal.yaml" "plan: payments-rehearsal" "the chosen plan is compiled"
expect_status 2 "--plan naming no plan exits 2" "$DRPLAN" compile --root "$scratch/plans" --plan nope "$two"
contains "$scratch/err" "has no plan 'nope'" "and says so"
sed 's/kind: power-on/kind: power-off/' "$scratch/payments-failover.yaml" >"$scratch/tampered.yaml"
expect_status 1 "a tampered compiled plan is refused" "$DRPLAN" compile "$scratch/tampered.yaml"
contains "$scratch/err" "DRP053" "with the digest rule"

# Property: generated plans of every mode compile and verify, whatever the seed.
seed=1
while [ "$seed" -le "$SEEDS" ]; do
	dir="$scratch/p$seed"
	"$gen" --vms $((20 + seed % 90)) --seed "$seed" --out "$dir" >/dev/null || fail "gen-plan seed $seed"
	case $((seed % 3)) in
	1) sed -i 's/^  mode planned/  mode disaster/' "$dir/plan.drp" ;;
	2) # A test plan: no step at the protected site, no live migration, and no stretched devices.
		sed -i -e 's/^  mode planned/  mode test/' \
			-e '/^  step \(sync\|shutdown\|prefer\|migrate\)/d' -e '/^  limit \(sync\|shutdown\|prefer\|migrate\)/d' \
			"$dir/plan.drp" ;;
	esac
	if "$DRPLAN" compile --root "$dir" -o "$dir/out.yaml" "$dir/plan.drp" 2>"$dir/err"; then
		pass
	elif [ $((seed % 3)) -eq 2 ] && grep -q 'DRP04[01]' "$dir/err" && ! grep -q 'DRP050' "$dir/err"; then
		pass # a test plan over live VMs is rightly refused by validation; never by the verifier
	else
		fail "generated plan, seed $seed, mode $((seed % 3))"
		sed 's/^/  | /' "$dir/err" | head -n 10
	fi
	rm -rf "$dir"
	seed=$((seed + 1))
done

summary
