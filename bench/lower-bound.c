/* lower-bound.c: how close a run came to the best possible schedule. Reads a compiled plan and
 * the journal of a run of it (virtual or real time), takes each operation's actual duration from
 * the journal (its last `start` to its `done`), and computes, independently of the scheduler, a
 * lower bound that no schedule of those durations can beat: the larger of the longest path through
 * the DAG and, for each limited resource (a limit's counter: the plan, or one site, host or
 * device), the total duration of the operations that use it divided by its capacity. Prints the
 * run's makespan, the bound and their ratio.
 *
 * That bound (the issue's) lets every resource start at time 0. It also prints a tighter bound that
 * is still valid: no operation can start before its head (the longest path to it), so for each
 * resource and each k, the operations whose head is at least the k-th smallest cannot finish before
 * that head plus their work over the capacity. The gap between the two says how much of the ratio
 * is the bound's looseness rather than the schedule.
 *
 * A third bound sharpens the heads with the gates: a gate (or a plan-wide step) cannot fire before
 * every limited resource has done the work of its ancestors that uses it, so an operation's
 * release is at least, for each such join behind it, that join's release plus the longest path
 * from it. Same formula as the head-aware bound, with releases instead of heads.
 *
 *   build/bench/lower-bound COMPILED JOURNAL
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../compiler/compiled.h"
#include "../compiler/limits.h"
#include "../lib/alloc.h"
#include "../runtime/journal.h"

static const int64_t *sort_head;

static int by_head(const void *a, const void *b)
{
	int64_t x = sort_head[*(const uint32_t *)a], y = sort_head[*(const uint32_t *)b];
	return (x > y) - (x < y);
}

struct times {
	int64_t *start, *end;
	int64_t makespan;
};

static void on_record(void *ctx, const struct journal_record *r)
{
	struct times *t = ctx;
	if (r->time_ms > t->makespan)
		t->makespan = r->time_ms;
	if (r->op == DAG_NONE)
		return;
	if (r->state == JOURNAL_START)
		t->start[r->op] = r->time_ms;
	else if (r->state == JOURNAL_DONE || r->state == JOURNAL_IGNORED || r->state == JOURNAL_PROMPT_CONFIRMED)
		t->end[r->op] = r->time_ms;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: lower-bound COMPILED JOURNAL\n");
		return 2;
	}
	struct src_set sources;
	struct diag_list diags;
	src_set_init(&sources);
	diag_list_init(&diags);
	char err[512];
	struct src_file *src = src_load(&sources, argv[1], err, sizeof err);
	if (!src) {
		fprintf(stderr, "lower-bound: %s: %s\n", argv[1], err);
		return 2;
	}
	struct dag d;
	dag_init(&d);
	if (!compiled_read(&d, src, &diags)) {
		fprintf(stderr, "lower-bound: %s is not a good compiled plan\n", argv[1]);
		return 2;
	}
	struct times t = {xcalloc(d.n_ops + 1, sizeof *t.start), xcalloc(d.n_ops + 1, sizeof *t.end), 0};
	for (uint32_t i = 0; i < d.n_ops; i++)
		t.start[i] = t.end[i] = -1;
	if (!journal_read(argv[2], NULL, NULL, on_record, NULL, &t, err, sizeof err)) {
		fprintf(stderr, "lower-bound: %s: %s\n", argv[2], err);
		return 2;
	}
	int64_t *dur = xcalloc(d.n_ops + 1, sizeof *dur);
	uint32_t missing = 0;
	for (uint32_t i = 0; i < d.n_ops; i++) {
		if (t.start[i] < 0 || t.end[i] < t.start[i])
			missing++;
		else
			dur[i] = t.end[i] - t.start[i];
	}
	/* The longest path, in a topological order. */
	uint32_t *order = xmalloc((d.n_ops + 1) * sizeof *order);
	uint32_t n = dag_topo_order(&d, order);
	int64_t *finish = xcalloc(d.n_ops + 1, sizeof *finish), longest = 0;
	int64_t *head = xcalloc(d.n_ops + 1, sizeof *head);
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = order[k];
		int64_t ready = 0;
		for (uint32_t e = d.ops[i].first_pred; e < d.ops[i].first_pred + d.ops[i].n_preds; e++)
			if (finish[d.edges[e].from] > ready)
				ready = finish[d.edges[e].from];
		head[i] = ready;
		finish[i] = ready + dur[i];
		if (finish[i] > longest)
			longest = finish[i];
	}
	/* Each limited resource's load over its capacity. */
	struct limits *l = limits_new(&d);
	int64_t bound = longest;
	uint32_t bound_counter = LIMITS_NONE;
	for (uint32_t c = 0; c < limits_n_counters(l); c++) {
		uint32_t cap = limits_counter(l, c)->capacity, m;
		const uint32_t *ops = limits_counter_ops(l, c, &m);
		int64_t load = 0;
		for (uint32_t k = 0; k < m; k++)
			load += dur[ops[k]];
		if (cap && (load + cap - 1) / cap > bound) {
			bound = (load + cap - 1) / cap;
			bound_counter = c;
		}
	}
	/* Releases: heads sharpened at the joins (gates and plan-wide operations) by the work of their
	 * ancestors on each limited resource. */
	struct limits *l0 = limits_new(&d);
	int64_t *release = xcalloc(d.n_ops + 1, sizeof *release);
	int64_t *load = xcalloc(limits_n_counters(l0) + 1, sizeof *load);
	uint32_t *stack = xmalloc((d.n_ops + 1) * sizeof *stack), *seen = xcalloc(d.n_ops + 1, sizeof *seen);
	for (uint32_t k = 0; k < n; k++) {
		uint32_t i = order[k];
		int64_t r = 0;
		for (uint32_t e = d.ops[i].first_pred; e < d.ops[i].first_pred + d.ops[i].n_preds; e++) {
			uint32_t p = d.edges[e].from;
			if (release[p] + dur[p] > r)
				r = release[p] + dur[p];
		}
		const struct dag_op *op = &d.ops[i];
		if (op->kind == DAG_GATE || op->target_kind == DAG_TARGET_PLAN) {
			memset(load, 0, (limits_n_counters(l0) + 1) * sizeof *load);
			uint32_t sp = 0;
			stack[sp++] = i;
			seen[i] = i + 1;
			while (sp) {
				uint32_t x = stack[--sp];
				for (uint32_t e = d.ops[x].first_pred; e < d.ops[x].first_pred + d.ops[x].n_preds; e++) {
					uint32_t p = d.edges[e].from;
					if (seen[p] == i + 1)
						continue;
					seen[p] = i + 1;
					stack[sp++] = p;
					uint32_t nc;
					const uint32_t *cs = limits_op_counters(l0, p, &nc);
					for (uint32_t c = 0; c < nc; c++)
						load[cs[c]] += dur[p];
				}
			}
			for (uint32_t c = 0; c < limits_n_counters(l0); c++) {
				uint32_t cap = limits_counter(l0, c)->capacity;
				if (cap && (load[c] + cap - 1) / cap > r)
					r = (load[c] + cap - 1) / cap;
			}
		}
		release[i] = r;
	}
	free(stack);
	free(seen);
	free(load);
	limits_free(l0);
	/* The head-aware bound, and the release-aware one. */
	int64_t tight = longest, tighter = longest;
	for (uint32_t c = 0; c < limits_n_counters(l); c++) {
		uint32_t cap = limits_counter(l, c)->capacity, m;
		const uint32_t *ops = limits_counter_ops(l, c, &m);
		if (!cap || !m)
			continue;
		uint32_t *idx = xmalloc(m * sizeof *idx);
		for (uint32_t k = 0; k < m; k++)
			idx[k] = ops[k];
		sort_head = head;
		qsort(idx, m, sizeof *idx, by_head);
		int64_t suffix = 0;
		for (uint32_t k = m; k-- > 0;) {
			suffix += dur[idx[k]];
			int64_t b = head[idx[k]] + (suffix + cap - 1) / cap;
			if (b > tight)
				tight = b;
		}
		sort_head = release;
		qsort(idx, m, sizeof *idx, by_head);
		suffix = 0;
		for (uint32_t k = m; k-- > 0;) {
			suffix += dur[idx[k]];
			int64_t b = release[idx[k]] + (suffix + cap - 1) / cap;
			if (b > tighter)
				tighter = b;
		}
		free(idx);
	}
	struct buf why = BUF_INIT;
	if (bound_counter == LIMITS_NONE)
		buf_puts(&why, "the longest path");
	else
		limits_describe(&d, l, bound_counter, &why);
	printf("operations %u (without times: %u)\nmakespan %lld ms\nlongest path %lld ms\nlower bound %lld ms (%s)\n"
	       "ratio %.4f\nhead-aware lower bound %lld ms\nhead-aware ratio %.4f\n"
	       "release-aware lower bound %lld ms\nrelease-aware ratio %.4f\n",
	       d.n_ops, missing, (long long)t.makespan, (long long)longest, (long long)bound, why.data,
	       bound ? (double)t.makespan / (double)bound : 0.0, (long long)tight,
	       tight ? (double)t.makespan / (double)tight : 0.0, (long long)tighter,
	       tighter ? (double)t.makespan / (double)tighter : 0.0);
	buf_free(&why);
	limits_free(l);
	free(order);
	free(finish);
	free(head);
	free(release);
	free(dur);
	free(t.start);
	free(t.end);
	dag_free(&d);
	diag_list_free(&diags);
	src_set_free(&sources);
	return 0;
}
