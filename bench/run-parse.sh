#!/bin/sh
# run-parse.sh: the parse-throughput benchmark (issue 2). Generates a plan of about TARGET_LINES
# lines with the VMs declared in the plan (bench/gen-plan --inline-vms), then measures
#   1. the parser alone, in process: build/bench/parse-bench, RUNS parses, median -> MB/s;
#   2. the whole `drplan check FILE`, RUNS times under /usr/bin/time -v: median wall time (taken
#      with date +%s%N around the command: /usr/bin/time's own clock has 10 ms steps) and peak RSS.
# Both are measured in this one run, on the same file, so their ratio is meaningful even on a noisy
# machine; absolute figures are not. Nothing here is a pass/fail test.
#
#   sh bench/run-parse.sh                      # from the repository root, after ./configure
#   TARGET_LINES=200000 RUNS=7 sh bench/run-parse.sh
#
# Needs /usr/bin/time (Debian package `time`: apt-get install time).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
TARGET_LINES=${TARGET_LINES:-100000}
RUNS=${RUNS:-5}
SEED=${SEED:-1}
WORK=${WORK:-build/bench/parse-data}

if [ ! -x /usr/bin/time ]; then
	echo "run-parse.sh: /usr/bin/time is missing (Debian/Ubuntu: apt-get install time)" >&2
	exit 2
fi

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "   load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine inflates wall times)"
echo "== building (make -s drplan build/bench/gen-plan build/bench/parse-bench)"
make -s drplan build/bench/gen-plan build/bench/parse-bench

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
max() { sort -n | tail -n 1; }
count_lines() { wc -l <"$1" | tr -d ' '; }

# Lines grow linearly with --vms (about 1.08 lines per VM); a sample of 10,000 VMs gives the
# slope, one correction pass absorbs the fixed part.
mkdir -p "$WORK"
build/bench/gen-plan --vms 10000 --seed "$SEED" --inline-vms --out "$WORK/sample"
sample=$(count_lines "$WORK/sample/plan.drp")
vms=$(( 10000 * TARGET_LINES / sample ))
build/bench/gen-plan --vms "$vms" --seed "$SEED" --inline-vms --out "$WORK/sample"
got=$(count_lines "$WORK/sample/plan.drp")
vms=$(( vms * TARGET_LINES / got ))
rm -rf "$WORK/sample"

plan=$WORK/plan.drp
echo "== generating: build/bench/gen-plan --vms $vms --seed $SEED --inline-vms --out $WORK"
build/bench/gen-plan --vms "$vms" --seed "$SEED" --inline-vms --out "$WORK"
bytes=$(wc -c <"$plan" | tr -d ' ')
lines=$(count_lines "$plan")
echo "   $plan: $bytes bytes, $lines lines"

echo "== parser in process: build/bench/parse-bench -n $RUNS $plan"
build/bench/parse-bench -n "$RUNS" "$plan" | tee "$WORK/parse-bench.out"
mbps=$(sed -n 's/^median_mb_per_s: //p' "$WORK/parse-bench.out")
parse_s=$(sed -n 's/^median_s: //p' "$WORK/parse-bench.out")
cpu_mbps=$(sed -n 's/^median_cpu_mb_per_s: //p' "$WORK/parse-bench.out")

echo "== drplan check, $RUNS runs: /usr/bin/time -v ./drplan check $plan"
: >"$WORK/check-wall"
: >"$WORK/check-rss"
: >"$WORK/check-cpu"
i=1
while [ "$i" -le "$RUNS" ]; do
	t0=$(date +%s%N)
	/usr/bin/time -v ./drplan check "$plan" 2>"$WORK/time.out" || {
		cat "$WORK/time.out" >&2
		echo "run-parse.sh: drplan check failed" >&2
		exit 1
	}
	t1=$(date +%s%N)
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
	rss=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$WORK/time.out")
	cpu=$(awk -F': ' '/User time|System time/ { t += $2 } END { printf "%.2f", t }' "$WORK/time.out")
	echo "run $i: wall $wall s, cpu $cpu s, peak RSS $rss KB"
	echo "$cpu" >>"$WORK/check-cpu"
	echo "$wall" >>"$WORK/check-wall"
	echo "$rss" >>"$WORK/check-rss"
	i=$((i + 1))
done
check_s=$(median <"$WORK/check-wall")
check_cpu=$(median <"$WORK/check-cpu")
rss_med=$(median <"$WORK/check-rss")
rss_max=$(max <"$WORK/check-rss")

echo
echo "== summary"
echo "file:               $plan ($bytes bytes, $lines lines, --vms $vms --seed $SEED --inline-vms)"
echo "parse (in process): median of $RUNS: $parse_s s = $mbps MB/s (CPU time: $cpu_mbps MB/s)"
echo "drplan check wall:  median of $RUNS: $check_s s (CPU time, 10 ms steps: $check_cpu s)"
awk -v b="$bytes" -v s="$check_s" -v p="$parse_s" 'BEGIN {
	printf "drplan check:       %.1f MB/s end to end; parse is %.0f%% of its wall time\n", b / 1e6 / s, 100 * p / s }'
echo "drplan check RSS:   peak $rss_max KB (median $rss_med KB) = $(awk -v k="$rss_max" -v b="$bytes" 'BEGIN { printf "%.1f", k * 1024 / b }') x the file size"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
