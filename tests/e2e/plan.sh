#!/bin/sh
# tests/e2e/plan.sh: `drplan plan` as a user runs it: every example plan against its golden snapshot
# (tests/e2e/plan/NAME.out; UPDATE_GOLDEN=1 rewrites them), the same view from a compiled plan, an
# RTO too small for the plan (DRP049, still exit 0, in every format), latency profiles good and bad
# (DRP055), --all on a generated plan too big to list, and usage errors.
cd "$(dirname "$0")/../.." || exit 2
# POSIX sh's `.` takes no arguments (dash ignores them): the name goes in as $1 this way.
set -- plan-e2e
. tests/e2e/lib/assert.sh
golden=tests/e2e/plan

# Every example plan: exit 0, the sections a reviewer reads, and the golden snapshot.
for plan in plans/*.drp; do
	name=$(basename "$plan" .drp)
	expect_status 0 "plan $plan" "$DRPLAN" plan --root plans --color never "$plan"
	contains "$scratch/out" "predicted RTO" "$plan: the prediction"
	contains "$scratch/out" "critical path (" "$plan: the critical path"
	contains "$scratch/out" "workgroups (" "$plan: the workgroups"
	if [ -n "$UPDATE_GOLDEN" ]; then
		cp "$scratch/out" "$golden/$name.out"
		pass
	elif cmp -s "$scratch/out" "$golden/$name.out"; then
		pass
	else
		fail "$plan: output differs from $golden/$name.out (UPDATE_GOLDEN=1 sh $0 rewrites it)"
		diff -u "$golden/$name.out" "$scratch/out" | head -n 30 | sed 's/^/  | /'
	fi
	# A compiled plan shows the same.
	cp "$scratch/out" "$scratch/$name.source"
	expect_status 0 "compile $plan" "$DRPLAN" compile --root plans -o "$scratch/$name.yaml" "$plan"
	expect_status 0 "plan $name.yaml" "$DRPLAN" plan --color never "$scratch/$name.yaml"
	check "$plan: the compiled plan shows the same" cmp -s "$scratch/out" "$scratch/$name.source"
done

# Key lines of the payments plan.
expect_status 0 "plan payments" "$DRPLAN" plan --root plans --color never plans/payments-failover.drp
contains "$scratch/out" "plan payments-failover: planned, east -> west" "the header"
contains "$scratch/out" "shutdown vms at east" "a step as written"
contains "$scratch/out" "retry 2, backoff 1m" "step options"
contains "$scratch/out" "within the RTO of 30m (" "the RTO check"
contains "$scratch/out" "operator time is not included" "prompts are said to take no time"
check "no diagnostics for a plan within its RTO" test ! -s "$scratch/err"

# A compiler-inserted step is marked.
mkdir "$scratch/plans" && cp -r plans/. "$scratch/plans/"
sed '/step prefer/d' plans/metro-live-migration.drp >"$scratch/plans/metro-noprefer.drp"
expect_status 0 "plan without prefer" "$DRPLAN" plan --root "$scratch/plans" --color never "$scratch/plans/metro-noprefer.drp"
contains "$scratch/out" "(inserted by the compiler)" "an inserted prefer step is marked"
contains "$scratch/err" "DRP048" "and announced"

# An RTO the plan cannot meet: a warning on the rto statement, exit 0.
sed 's/^\(  rto \)30m/\11m/' plans/payments-failover.drp >"$scratch/plans/tight.drp"
check "the tight plan has rto 1m" grep -q '^  rto 1m' "$scratch/plans/tight.drp"
expect_status 0 "an exceeded RTO still exits 0" "$DRPLAN" plan --root "$scratch/plans" --color never "$scratch/plans/tight.drp"
contains "$scratch/out" "exceeds the RTO of 1m by" "the summary says so"
contains "$scratch/err" "tight.drp:63:3: warning: the predicted RTO of" "DRP049 at the rto statement"
contains "$scratch/err" "[DRP049]" "with its rule id"
contains "$scratch/err" "note: the critical path (" "the critical path in a note"
contains "$scratch/err" "drplan: 0 errors, 1 warning" "one warning"
expect_status 0 "json" "$DRPLAN" plan --root "$scratch/plans" --format json "$scratch/plans/tight.drp"
contains "$scratch/out" '"code":"DRP049"' "json carries DRP049"
check "json: nothing but diagnostics on standard output" sh -c "! grep -v '^{' '$scratch/out'"
contains "$scratch/err" "predicted RTO" "json: the summary goes to standard error"
expect_status 0 "github" "$DRPLAN" plan --root "$scratch/plans" --format github "$scratch/plans/tight.drp"
contains "$scratch/out" "::warning file=" "github annotation"
expect_status 0 "compile the tight plan" "$DRPLAN" compile --root "$scratch/plans" -o "$scratch/tight.yaml" "$scratch/plans/tight.drp"
expect_status 0 "plan the compiled tight plan" "$DRPLAN" plan --color never "$scratch/tight.yaml"
contains "$scratch/err" "tight.yaml:1:1: warning: the predicted RTO of" "compiled: DRP049 at the start of the file"

# Latency profiles: a faster model predicts less; a broken one is refused with DRP055.
printf '# fast arrays\nsync: {base: 1s}\nfailover: {base: 1s}\nregister: {base: 1s, per-vm: 0s}\npower-on: {base: 1s, per-vm: 0s}\nrun: {base: 1s}\nshutdown: {base: 1s, per-vm: 0s}\n' >"$scratch/fast.yaml"
expect_status 0 "plan --latency" "$DRPLAN" plan --root plans --color never --latency "$scratch/fast.yaml" plans/payments-failover.drp
contains "$scratch/out" "predicted RTO  00:0" "a fast profile predicts seconds"
printf 'failover: {base: 2m}\npower_on: {base: 20s}\nsync: {base: -5s}\n' >"$scratch/bad.yaml"
expect_status 1 "a bad profile exits 1" "$DRPLAN" plan --root plans --color never --latency "$scratch/bad.yaml" plans/payments-failover.drp
contains "$scratch/err" "bad.yaml:2:1: error: unknown operation kind 'power_on' [DRP055]" "unknown kind, located"
contains "$scratch/err" "did you mean 'power-on'?" "with a suggestion"
contains "$scratch/err" "bad.yaml:3:14: error: invalid duration '-5s'" "negative duration, located"
check "a bad profile shows no estimate" sh -c "! grep -q 'predicted RTO' '$scratch/out'"
expect_status 2 "an unreadable profile exits 2" "$DRPLAN" plan --root plans --latency "$scratch/missing.yaml" plans/payments-failover.drp

# A plan too big to list (600 VMs in 240 workgroups): summarised, and whole with --all.
mkdir "$scratch/big"
awk 'BEGIN {
	print "site east { adapter sim }"
	print "site west { adapter sim }"
	for (d = 1; d <= 40; d++) printf "device lun-%d at east replicated to lun-p%d at west\n", d, d
	printf "protection all {\n  devices"
	for (d = 1; d <= 40; d++) printf " lun-%d", d
	print "\n}"
	for (v = 1; v <= 600; v++) printf "vm vm-%04d priority %d on lun-%d host esx-%02d\n", v, v % 3 + 1, v % 40 + 1, v % 16
	print "plan big {\n  from east to west\n  mode planned\n  protect all\n  workgroup 4"
	print "  limit power-on 2 per host\n  rto 4h\n  step sync storage\n  step shutdown vms"
	print "  step failover storage\n  step register vms\n  step power-on vms by priority\n}"
}' >"$scratch/big/plan.drp"
expect_status 0 "plan a big plan" "$DRPLAN" plan --root "$scratch/big" --color never "$scratch/big/plan.drp"
contains "$scratch/out" "600 VMs in 240 workgroups" "the header counts"
contains "$scratch/out" "... and 190 more workgroups (--all lists them)" "workgroups are summarised"
contains "$scratch/out" "40 sync  on lun-1 lun-10 lun-11 lun-12 lun-13 lun-14 lun-15 lun-16 ... (40 in all)" "targets are summarised"
rows=$(grep -c '^  w[0-9]' "$scratch/out")
check "50 workgroup rows ($rows)" test "$rows" -eq 50
expect_status 0 "plan --all" "$DRPLAN" plan --root "$scratch/big" --color never --all "$scratch/big/plan.drp"
check "--all lists every workgroup" sh -c "! grep -q 'more workgroups' '$scratch/out'"
rows=$(grep -c '^  w[0-9]' "$scratch/out")
check "240 rows with --all ($rows)" test "$rows" -eq 240

# Usage errors and unreadable input.
expect_status 2 "no file" "$DRPLAN" plan
expect_status 2 "two files" "$DRPLAN" plan plans/payments-failover.drp plans/dr-test.drp
expect_status 2 "unknown option" "$DRPLAN" plan --bogus plans/payments-failover.drp
expect_status 2 "missing option value" "$DRPLAN" plan plans/payments-failover.drp --latency
contains "$scratch/err" "needs a value" "the message says what is missing"
expect_status 2 "missing file" "$DRPLAN" plan "$scratch/missing.drp"
expect_status 0 "help" "$DRPLAN" plan --help
contains "$scratch/out" "usage: drplan plan" "help text"
printf 'site east { adapter sim }\nplan p {\n  from east to nowhere\n}\n' >"$scratch/invalid.drp"
expect_status 1 "an invalid plan exits 1" "$DRPLAN" plan --root "$scratch" "$scratch/invalid.drp"
check "and shows nothing" test ! -s "$scratch/out"

summary
