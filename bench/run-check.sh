#!/bin/sh
# run-check.sh: `drplan check` on generated inventories (issue "Inventory and semantic
# validation"). For each size it generates a plan and its inventory (bench/gen-plan --vms N), then
# runs (after one untimed warm-up run of each), RUNS times and alternating so that a busy machine
# slows them alike:
#   1. the floor: build/bench/yaml-baseline --events-only --runs 1 INVENTORY, libyaml's event
#      parser alone over the inventory, in memory (the file read and process start are not timed);
#   2. /usr/bin/time -v ./drplan check --root DIR DIR/plan.drp (inventory mode: the VMs are in
#      DIR/inventory.yaml), wall time from date +%s%N around it, CPU time and peak RSS from time -v;
#   3. with BEFORE=PATH, the same with another drplan binary (an older build), for a side-by-side
#      comparison in one run.
# It prints one table: medians over the RUNS rounds, the ratio check / libyaml (the median of the
# per-round ratios, each taken from two adjacent runs; also against the whole yaml-baseline process,
# which like check starts a process and reads the file), peak RSS (the largest of the runs) and peak
# RSS per VM. Nothing here is a pass/fail test; `drplan check` must find the generated plan valid.
#
#   sh bench/run-check.sh                                  # from the repository root, after ./configure
#   SIZES="100000" RUNS=7 sh bench/run-check.sh
#   BEFORE=/tmp/old/drplan sh bench/run-check.sh           # compare with an older build
#
# Needs /usr/bin/time (Debian package `time`: apt-get install time).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
SIZES=${SIZES:-10000 100000 1000000}
RUNS=${RUNS:-5}
SEED=${SEED:-1}
WORK=${WORK:-build/bench/check-data}
DRPLAN=${DRPLAN:-./drplan}
BEFORE=${BEFORE:-}

if [ ! -x /usr/bin/time ]; then
	echo "run-check.sh: /usr/bin/time is missing (Debian/Ubuntu: apt-get install time)" >&2
	exit 2
fi

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "   load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine inflates wall times)"
echo "== building (make -s drplan build/bench/gen-plan build/bench/yaml-baseline)"
make -s drplan build/bench/gen-plan build/bench/yaml-baseline
[ -n "$BEFORE" ] && [ ! -x "$BEFORE" ] && { echo "run-check.sh: BEFORE=$BEFORE is not an executable" >&2; exit 2; }

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
max() { sort -g | tail -n 1; }
min() { sort -g | head -n 1; }
now() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", (b - a) / 1e9 }'; }

# check BINARY DIR TAG: one timed run of `BINARY check`, appended to $WORK/TAG.{wall,cpu,rss}.
check() {
	t0=$(now)
	if ! /usr/bin/time -v "$1" check --root "$2" "$2/plan.drp" >"$WORK/check.out" 2>&1; then
		cat "$WORK/check.out" >&2
		echo "run-check.sh: $1 check --root $2 $2/plan.drp failed" >&2
		exit 1
	fi
	t1=$(now)
	wall=$(secs "$t0" "$t1")
	rss=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$WORK/check.out")
	cpu=$(awk -F': ' '/User time|System time/ { t += $2 } END { printf "%.2f", t }' "$WORK/check.out")
	echo "$wall" >>"$WORK/$3.wall"
	echo "$cpu" >>"$WORK/$3.cpu"
	echo "$rss" >>"$WORK/$3.rss"
	printf '  %s: wall %s s, cpu %s s, peak RSS %s KB' "$3" "$wall" "$cpu" "$rss"
}

mkdir -p "$WORK"
table=$WORK/table
: >"$table"
for n in $SIZES; do
	dir=$WORK/$n
	echo "== generating: build/bench/gen-plan --vms $n --seed $SEED --out $dir"
	rm -rf "$dir"
	build/bench/gen-plan --vms "$n" --seed "$SEED" --out "$dir"
	inv_bytes=$(wc -c <"$dir/inventory.yaml" | tr -d ' ')
	plan_bytes=$(wc -c <"$dir/plan.drp" | tr -d ' ')
	echo "   inventory $inv_bytes bytes, plan $plan_bytes bytes"
	rm -f "$WORK"/yaml.* "$WORK"/after.* "$WORK"/before.* "$WORK"/ratio.*
	# One untimed run of each first, so that no round pays for cold caches alone.
	build/bench/yaml-baseline --events-only --runs 1 "$dir/inventory.yaml" >/dev/null
	"$DRPLAN" check --root "$dir" "$dir/plan.drp"
	[ -z "$BEFORE" ] || "$BEFORE" check --root "$dir" "$dir/plan.drp"
	r=1
	while [ "$r" -le "$RUNS" ]; do
		printf 'round %d:' "$r"
		t0=$(now)
		build/bench/yaml-baseline --events-only --runs 1 "$dir/inventory.yaml" >"$WORK/yaml.out"
		t1=$(now)
		echo "$(secs "$t0" "$t1")" >>"$WORK/yaml.process"
		yw=$(sed -n 's/^libyaml .*: \([0-9.]*\) s wall, \([0-9.]*\) s CPU.*/\1/p' "$WORK/yaml.out")
		yc=$(sed -n 's/^libyaml .*: \([0-9.]*\) s wall, \([0-9.]*\) s CPU.*/\2/p' "$WORK/yaml.out")
		echo "$yw" >>"$WORK/yaml.wall"
		echo "$yc" >>"$WORK/yaml.cpu"
		printf ' libyaml: wall %s s, cpu %s s;' "$yw" "$yc"
		check "$DRPLAN" "$dir" after
		awk -v c="$wall" -v y="$yw" 'BEGIN { printf "%.4f\n", c / y }' >>"$WORK/ratio.wall"
		awk -v c="$cpu" -v y="$yc" 'BEGIN { printf "%.4f\n", c / y }' >>"$WORK/ratio.cpu"
		awk -v c="$wall" -v y="$(tail -n 1 "$WORK/yaml.process")" 'BEGIN { printf "%.4f\n", c / y }' >>"$WORK/ratio.process"
		if [ -n "$BEFORE" ]; then
			printf ';'
			check "$BEFORE" "$dir" before
			awk -v a="$(tail -n 1 "$WORK/after.wall")" -v b="$wall" 'BEGIN { printf "%.4f\n", b / a }' >>"$WORK/ratio.speedup"
			awk -v c="$wall" -v y="$yw" 'BEGIN { printf "%.4f\n", c / y }' >>"$WORK/ratio.before"
		fi
		echo
		r=$((r + 1))
	done
	row="$n $inv_bytes $(median <"$WORK/yaml.wall") $(median <"$WORK/after.wall") $(median <"$WORK/after.cpu")"
	row="$row $(median <"$WORK/ratio.wall") $(median <"$WORK/ratio.cpu") $(max <"$WORK/after.rss")"
	row="$row $(median <"$WORK/ratio.process")"
	row="$row $(awk -v c="$(min <"$WORK/after.wall")" -v y="$(min <"$WORK/yaml.wall")" 'BEGIN { printf "%.4f", c / y }')"
	if [ -n "$BEFORE" ]; then
		row="$row $(median <"$WORK/before.wall") $(median <"$WORK/ratio.before") $(max <"$WORK/before.rss") $(median <"$WORK/ratio.speedup")"
	fi
	echo "$row" >>"$table"
done

echo
echo "== summary: median of $RUNS rounds; each round runs libyaml, then drplan check${BEFORE:+, then BEFORE}"
echo "   drplan: $DRPLAN${BEFORE:+; BEFORE: $BEFORE}"
awk -v before="$BEFORE" '
BEGIN {
	printf "| VMs | inventory | libyaml alone | check wall | check CPU | ratio wall | ratio CPU | ratio to process | ratio of bests | peak RSS | RSS/VM |"
	if (before != "") printf " before: wall | before: ratio wall | before: peak RSS | speed-up |"
	printf "\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	if (before != "") printf "---:|---:|---:|---:|"
	printf "\n"
}
{
	printf "| %d | %.1f MB | %.3f s | %.3f s | %.2f s | %.2f | %.2f | %.2f | %.2f | %.1f MiB | %.0f B |", \
	       $1, $2 / 1e6, $3, $4, $5, $6, $7, $9, $10, $8 / 1024, $8 * 1024 / $1
	if (before != "") printf " %.3f s | %.2f | %.1f MiB | %.2fx |", $11, $12, $13 / 1024, $14
	printf "\n"
}' "$table"
[ -n "$BEFORE" ] && echo "(speed-up = before wall / check wall, the median of the per-round ratios)"
echo "(ratio = check / libyaml alone, the median of the per-round ratios: wall to wall, CPU to CPU (check's CPU time"
echo " has 10 ms steps); ratio to process = check wall / wall of the whole yaml-baseline process, which like"
echo " check also starts a process and reads the file; ratio of bests = fastest check / fastest libyaml run, the"
echo " least disturbed of each on a busy machine; peak RSS = largest of the runs; MB = 10^6 bytes, MiB = 2^20)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
