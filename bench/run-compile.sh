#!/bin/sh
# run-compile.sh: `drplan compile` on generated plans (issue "The DAG compiler"). For each size it
# generates a plan and its inventory (bench/gen-plan --vms N), then runs, RUNS times and
# alternating so that a busy machine slows them alike (after one untimed warm-up of each):
#   1. the baseline: /usr/bin/time -v ./drplan check --root DIR DIR/plan.drp (the front end alone:
#      parse, inventory, validation);
#   2. /usr/bin/time -v ./drplan compile --root DIR -o DIR/compiled.yaml DIR/plan.drp (the same,
#      then lowering, the verifier and the compiled plan's YAML, written atomically).
# It prints one table: medians over the RUNS rounds of wall and CPU time, the ratio compile / check
# (the median of per-round ratios of adjacent runs), peak RSS (the largest of the runs) and per VM,
# the DAG's size, and at the end time(largest) / time(next size), the linearity check.
# Nothing here is a pass/fail test.
#
#   sh bench/run-compile.sh                                # from the repository root, after ./configure
#   SIZES="100000" RUNS=7 sh bench/run-compile.sh
#
# Needs /usr/bin/time (Debian package `time`).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
SIZES=${SIZES:-10000 100000 1000000}
RUNS=${RUNS:-5}
SEED=${SEED:-1}
WORK=${WORK:-build/bench/compile-data}
DRPLAN=${DRPLAN:-./drplan}

[ -x /usr/bin/time ] || { echo "run-compile.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "   load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
make -s drplan build/bench/gen-plan

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
max() { sort -g | tail -n 1; }
now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", (b - a) / 1e9 }'; }

# timed TAG COMMAND...: one run, appended to $WORK/TAG.{wall,cpu,rss}; prints the wall time.
timed() {
	tag=$1
	shift
	t0=$(now)
	if ! /usr/bin/time -v "$@" >"$WORK/run.out" 2>&1; then
		cat "$WORK/run.out" >&2
		echo "run-compile.sh: $* failed" >&2
		exit 1
	fi
	t1=$(now)
	wall=$(secs "$t0" "$t1")
	echo "$wall" >>"$WORK/$tag.wall"
	awk -F': ' '/User time|System time/ { t += $2 } END { printf "%.2f\n", t }' "$WORK/run.out" >>"$WORK/$tag.cpu"
	sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$WORK/run.out" >>"$WORK/$tag.rss"
	echo "$wall"
}

mkdir -p "$WORK"
table=$WORK/table
: >"$table"
prev_n= prev_t=
for n in $SIZES; do
	dir=$WORK/$n
	echo "== build/bench/gen-plan --vms $n --seed $SEED --out $dir"
	rm -rf "$dir"
	build/bench/gen-plan --vms "$n" --seed "$SEED" --out "$dir" >/dev/null
	rm -f "$WORK"/check.* "$WORK"/compile.* "$WORK"/ratio
	"$DRPLAN" check --root "$dir" "$dir/plan.drp"
	"$DRPLAN" compile --root "$dir" -o "$dir/compiled.yaml" "$dir/plan.drp"
	r=1
	while [ "$r" -le "$RUNS" ]; do
		a=$(timed check "$DRPLAN" check --root "$dir" "$dir/plan.drp")
		b=$(timed compile "$DRPLAN" compile --root "$dir" -o "$dir/compiled.yaml" "$dir/plan.drp")
		awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f\n", b / a }' >>"$WORK/ratio"
		echo "   round $r: check $a s, compile $b s"
		r=$((r + 1))
	done
	ops=$(grep -c '^- {id: \|^  - id: \|^- id: ' "$dir/compiled.yaml" || true)
	bytes=$(wc -c <"$dir/compiled.yaml" | tr -d ' ')
	t=$(median <"$WORK/compile.wall")
	rss=$(max <"$WORK/compile.rss")
	printf '| %s | %s | %s | %s | %s | %s | %s KB | %s B | %s |\n' "$n" "$(median <"$WORK/check.wall")" \
		"$t" "$(median <"$WORK/compile.cpu")" "$(median <"$WORK/ratio")" "$(max <"$WORK/check.rss")" "$rss" \
		"$(awk -v r="$rss" -v n="$n" 'BEGIN { printf "%d", r * 1024 / n }')" "$bytes" >>"$table"
	if [ -n "$prev_t" ]; then
		echo "time($n) / time($prev_n) = $(awk -v a="$t" -v b="$prev_t" 'BEGIN { printf "%.2f", a / b }')" >>"$table.lin"
	fi
	prev_n=$n prev_t=$t
done
echo
echo "| VMs | check wall (s) | compile wall (s) | compile CPU (s) | compile / check | check peak RSS (KB) | compile peak RSS | per VM | compiled plan (bytes) |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
cat "$table"
[ -f "$table.lin" ] && cat "$table.lin" && rm -f "$table.lin"
echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
