#!/bin/sh
# run-rehearsal.sh: the runtime's benchmarks (issue "The runtime"), each printed with its figures:
#   (a) a rehearsal of 100k VMs: `drplan run --simulate` of bench/gen-plan's plan, from the plan file
#       (compile included) and from its compiled plan: wall time (median of RUNS) and peak RSS;
#   (b) the reference scenario (bench/gen-plan --vms REF_VMS: limits per site, host and device,
#       five priorities, the simulator's latency spreads drawn from a seed): the makespan of a
#       pipelined rehearsal against a lower bound computed from the run's own durations by
#       build/bench/lower-bound (longest path, and each limited resource's work over its capacity);
#   (c) the same scenario with --strategy barrier: pipelined makespan / barrier makespan;
#   (d) scheduler overhead: zero-latency operations (a latency profile of zeros), one VM per
#       workgroup, in virtual time: operations per second of `drplan run` on the compiled plan.
# Nothing here is a pass/fail test.
#
#   sh bench/run-rehearsal.sh                # from the repository root, after ./configure
#   RUNS=7 REF_VMS=5000 SEEDS="1 2 3" sh bench/run-rehearsal.sh
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
RUNS=${RUNS:-5}
REF_VMS=${REF_VMS:-3000}
SEEDS=${SEEDS:-1 2 3 4 5}
WORK=${WORK:-build/bench/rehearsal-data}
DRPLAN=${DRPLAN:-$root/drplan}
[ -x /usr/bin/time ] || { echo "run-rehearsal.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
make -s drplan build/bench/gen-plan build/bench/lower-bound
rm -rf "$WORK"
mkdir -p "$WORK"
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
max() { sort -g | tail -n 1; }
now() { date +%s%N; }

# rehearse TAG ARGS...: one `drplan run --simulate` with a fresh journal and world; appends the
# wall time and peak RSS to $WORK/TAG.wall and .rss.
rehearse() {
	tag=$1
	shift
	rm -rf "$WORK/$tag.journal" "$WORK/$tag.journal.sim"
	t0=$(now)
	/usr/bin/time -v "$DRPLAN" run --simulate --journal "$WORK/$tag.journal" "$@" >"$WORK/$tag.out" 2>"$WORK/$tag.err" || {
		rc=$?
		[ "$rc" -eq 1 ] || { tail -n 20 "$WORK/$tag.err" >&2; echo "run-rehearsal.sh: drplan run failed ($rc)" >&2; exit 1; }
	}
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", (b - a) / 1e9 }' >>"$WORK/$tag.wall"
	sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$WORK/$tag.err" >>"$WORK/$tag.rss"
}

echo "== (a) a rehearsal of 100,000 VMs"
build/bench/gen-plan --vms 100000 --seed 1 --out "$WORK/g100k" >/dev/null
"$DRPLAN" compile --root "$WORK/g100k" -o "$WORK/g100k.yaml" "$WORK/g100k/plan.drp"
r=1
while [ "$r" -le "$RUNS" ]; do
	rehearse plan100k --root "$WORK/g100k" "$WORK/g100k/plan.drp"
	rehearse compiled100k --scripts "$WORK/g100k" "$WORK/g100k.yaml"
	r=$((r + 1))
done
ops=$(grep -c '^- {id: ' "$WORK/g100k.yaml")
echo "   operations: $ops; $(tail -n 1 "$WORK/plan100k.out")"
echo "   from the plan file:     median $(median <"$WORK/plan100k.wall") s, peak RSS $(max <"$WORK/plan100k.rss") KB"
echo "   from the compiled plan: median $(median <"$WORK/compiled100k.wall") s, peak RSS $(max <"$WORK/compiled100k.rss") KB"

echo "== (b), (c) the reference scenario: gen-plan --vms $REF_VMS, simulator seeds: $SEEDS"
build/bench/gen-plan --vms "$REF_VMS" --seed 1 --out "$WORK/ref" >/dev/null
"$DRPLAN" compile --root "$WORK/ref" -o "$WORK/ref.yaml" "$WORK/ref/plan.drp"
: >"$WORK/ratio.lb"
: >"$WORK/ratio.barrier"
: >"$WORK/ratio.tight"
: >"$WORK/ratio.release"
for seed in $SEEDS; do
	rehearse "pipe$seed" --yes --seed "$seed" --scripts "$WORK/ref" "$WORK/ref.yaml"
	rehearse "barrier$seed" --yes --seed "$seed" --strategy barrier --scripts "$WORK/ref" "$WORK/ref.yaml"
	build/bench/lower-bound "$WORK/ref.yaml" "$WORK/pipe$seed.journal" >"$WORK/lb$seed"
	build/bench/lower-bound "$WORK/ref.yaml" "$WORK/barrier$seed.journal" >"$WORK/lbb$seed"
	pm=$(sed -n 's/^makespan \([0-9]*\) ms/\1/p' "$WORK/lb$seed")
	bm=$(sed -n 's/^makespan \([0-9]*\) ms/\1/p' "$WORK/lbb$seed")
	lb=$(sed -n 's/^lower bound \([0-9]*\) ms.*/\1/p' "$WORK/lb$seed")
	tight=$(sed -n 's/^head-aware lower bound \([0-9]*\) ms/\1/p' "$WORK/lb$seed")
	rel=$(sed -n 's/^release-aware lower bound \([0-9]*\) ms/\1/p' "$WORK/lb$seed")
	awk -v a="$pm" -v b="$rel" 'BEGIN { printf "%.4f\n", a / b }' >>"$WORK/ratio.release"
	why=$(sed -n 's/^lower bound [0-9]* ms (\(.*\))/\1/p' "$WORK/lb$seed")
	awk -v a="$pm" -v b="$lb" 'BEGIN { printf "%.4f\n", a / b }' >>"$WORK/ratio.lb"
	awk -v a="$pm" -v b="$bm" 'BEGIN { printf "%.4f\n", a / b }' >>"$WORK/ratio.barrier"
	awk -v a="$pm" -v b="$tight" 'BEGIN { printf "%.4f\n", a / b }' >>"$WORK/ratio.tight"
	echo "   seed $seed: pipelined $pm ms, lower bound $lb ms ($why), head-aware bound $tight ms, release-aware bound $rel ms, barrier $bm ms"
done
echo "   makespan / lower bound: median $(median <"$WORK/ratio.lb"), worst $(max <"$WORK/ratio.lb")"
echo "   makespan / head-aware bound: median $(median <"$WORK/ratio.tight"), worst $(max <"$WORK/ratio.tight")"
echo "   makespan / release-aware bound: median $(median <"$WORK/ratio.release"), worst $(max <"$WORK/ratio.release")"
echo "   pipelined / barrier:    median $(median <"$WORK/ratio.barrier"), worst $(max <"$WORK/ratio.barrier")"

echo "== (d) scheduler overhead: zero-latency operations, one VM per workgroup"
build/bench/gen-plan --vms 50000 --seed 1 --out "$WORK/zero" >/dev/null
sed -i 's/^  workgroup [0-9]*/  workgroup 1/' "$WORK/zero/plan.drp"
for k in sync failover prefer shutdown migrate register power-on run snapshot reverse; do
	echo "$k: {base: 0s, per-vm: 0s}"
done >"$WORK/zero.latency"
"$DRPLAN" compile --root "$WORK/zero" --latency "$WORK/zero.latency" -o "$WORK/zero.yaml" "$WORK/zero/plan.drp"
zops=$(grep -c '^- {id: ' "$WORK/zero.yaml")
r=1
while [ "$r" -le "$RUNS" ]; do
	rehearse zero --yes --scripts "$WORK/zero" "$WORK/zero.yaml"
	r=$((r + 1))
done
zt=$(median <"$WORK/zero.wall")
echo "   $zops operations in a median $zt s (reading the compiled plan included): $(awk -v n="$zops" -v t="$zt" 'BEGIN { printf "%.0f", n / t }') operations/s, peak RSS $(max <"$WORK/zero.rss") KB"
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
