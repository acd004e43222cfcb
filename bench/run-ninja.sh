#!/bin/sh
# run-ninja.sh: drplan's runtime against ninja on the same DAG (issue "Adapters to the outside").
# One description, bench/gen-plan's plan of VMS VMs without limits, scripts or prompts, with both
# sites on the exec adapter, is compiled; its operations become both
#   1. `drplan run --yes --workers JOBS` through build/bench/noop-adapter (an exec adapter that
#      replies `done` at once), with the journal (group commit) and every check on;
#   2. `ninja -j JOBS` over a build.ninja generated from the compiled plan: one edge per operation
#      running `true`, its predecessors as order-only inputs (outputs are never created, so every
#      edge runs once per invocation).
# Both run RUNS times, alternating; it prints the medians, their ratio drplan / ninja, and the
# median of the rounds' own ratios (each round runs the two side by side).
#
#   sh bench/run-ninja.sh                       # VMS=2000 JOBS=16 RUNS=5
# Needs ninja (Debian: ninja-build).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
VMS=${VMS:-2000}
JOBS=${JOBS:-16}
RUNS=${RUNS:-5}
WORK=${WORK:-build/bench/ninja-data}
command -v ninja >/dev/null || { echo "run-ninja.sh: ninja is missing (apt-get install ninja-build)" >&2; exit 2; }
make -s drplan build/bench/gen-plan build/bench/noop-adapter
rm -rf "$WORK"
mkdir -p "$WORK"
build/bench/gen-plan --vms "$VMS" --seed 1 --out "$WORK/g" >/dev/null
adapter=$root/build/bench/noop-adapter
# The noop adapter does not implement discover: `discover no`, so the run is not checked against it.
sed -e "s|^site \([a-z]*\) { adapter sim }|site \1 {\n  adapter exec {\n    program \"$adapter\"\n    discover no\n  }\n}|" \
	-e '/^  limit /d' -e '/^  step run /d' -e '/^  step prompt /d' "$WORK/g/plan.drp" >"$WORK/g/ninja.drp"
./drplan compile --root "$WORK/g" -o "$WORK/plan.yaml" "$WORK/g/ninja.drp"
ops=$(grep -c '^- {id: ' "$WORK/plan.yaml")
edges=$(grep '^- {id: ' "$WORK/plan.yaml" | awk -F'after: \\[' 'NF > 1 { n += split($2, a, ",") } END { print n + 0 }')
# The same DAG for ninja.
awk 'BEGIN { print "rule noop\n  command = true\n" }
/^- \{id: / {
	line = $0
	sub(/^- \{id: /, "", line)
	id = line
	sub(/[,}].*/, "", id)
	deps = ""
	if (match(line, /after: \[[^]]*\]/)) {
		deps = substr(line, RSTART + 8, RLENGTH - 9)
		gsub(/, /, " ", deps)
	}
	printf "build %s: noop", id
	if (deps != "")
		printf " || %s", deps
	printf "\n"
}' "$WORK/plan.yaml" >"$WORK/build.ninja"

now() { date +%s%N; }
: >"$WORK/drplan.wall"
: >"$WORK/ninja.wall"
r=1
while [ "$r" -le "$RUNS" ]; do
	rm -rf "$WORK/j.journal" "$WORK/j.journal.sim" "$WORK/j.journal.adapters.log"
	t0=$(now)
	./drplan run --yes --workers "$JOBS" --journal "$WORK/j.journal" --scripts "$WORK/g" "$WORK/plan.yaml" >/dev/null 2>"$WORK/drplan.err" ||
		{ tail -n 5 "$WORK/drplan.err" >&2; exit 1; }
	t1=$(now)
	(cd "$WORK" && ninja -j "$JOBS" -f build.ninja >/dev/null)
	t2=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", (b - a) / 1e9 }' >>"$WORK/drplan.wall"
	awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.4f\n", (b - a) / 1e9 }' >>"$WORK/ninja.wall"
	echo "   round $r: drplan $(tail -n 1 "$WORK/drplan.wall") s, ninja $(tail -n 1 "$WORK/ninja.wall") s"
	r=$((r + 1))
done
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
d=$(median <"$WORK/drplan.wall")
n=$(median <"$WORK/ninja.wall")
# Each round's ratio: the two ran side by side, so the machine's drift cancels out of it.
paste "$WORK/drplan.wall" "$WORK/ninja.wall" | awk '{ printf "%.4f\n", $1 / $2 }' >"$WORK/ratio"
echo "$ops operations, $edges edges, $JOBS in parallel: drplan $d s, ninja $n s (medians of $RUNS); drplan / ninja = $(awk -v a="$d" -v b="$n" 'BEGIN { printf "%.3f", a / b }')"
echo "median of the rounds' ratios: $(median <"$WORK/ratio") (each round: $(tr '\n' ' ' <"$WORK/ratio"))"
