/* estimate.c: the RTO estimate: the runtime's list schedule under the plan's limits, simulated with
 * the same dispatcher and priorities (dispatch.h), the critical path traced back through it, and a
 * lower bound. */
#include "estimate.h"

#include <stdlib.h>
#include <string.h>

#include "../lib/alloc.h"
#include "dispatch.h"

/* The critical path, traced back from the operation that finishes last. */
static void trace_path(const struct dag *d, struct estimate *e, const uint32_t *via, const uint32_t *released_by)
{
	/* The operation that finishes last; of those, the one that started last, which is the end of
	 * the others' chain when it takes no time (a closing prompt or gate). */
	uint32_t last = DAG_NONE;
	for (uint32_t i = 0; i < d->n_ops; i++)
		if (e->finish_ms[i] >= 0 &&
		    (last == DAG_NONE || e->finish_ms[i] > e->finish_ms[last] ||
		     (e->finish_ms[i] == e->finish_ms[last] && e->start_ms[i] > e->start_ms[last])))
			last = i;
	e->path = xmalloc(((size_t)d->n_ops + 1) * sizeof *e->path);
	/* Each hop goes to an operation that started earlier, so the walk ends; n_ops bounds it anyway. */
	for (uint32_t cur = last; cur != DAG_NONE && e->n_path < d->n_ops;) {
		struct estimate_hop *hop = &e->path[e->n_path++];
		hop->op = cur;
		hop->waited = via[cur];
		if (via[cur] != LIMITS_NONE) {
			cur = released_by[cur];
			continue;
		}
		const struct dag_op *op = &d->ops[cur];
		uint32_t best = DAG_NONE;
		for (uint32_t k = op->first_pred; k < op->first_pred + op->n_preds; k++) {
			uint32_t p = d->edges[k].from;
			if (best == DAG_NONE || e->finish_ms[p] > e->finish_ms[best])
				best = p;
		}
		cur = best;
	}
	for (uint32_t i = 0, j = e->n_path; i + 1 < j; i++, j--) {
		struct estimate_hop tmp = e->path[i];
		e->path[i] = e->path[j - 1];
		e->path[j - 1] = tmp;
	}
}

/* max(longest path, for each counter: the total duration of its operations / its capacity). */
static void lower_bound(struct estimate *e, const int64_t *dur)
{
	e->lower_bound_ms = e->longest_path_ms;
	e->bound_counter = LIMITS_NONE;
	const struct limits *limits = e->limits;
	uint32_t n_counters = limits_n_counters(limits);
	for (uint32_t c = 0; c < n_counters; c++) {
		uint32_t cap = limits_counter(limits, c)->capacity, n;
		if (cap == 0)
			continue;
		const uint32_t *ops = limits_counter_ops(limits, c, &n);
		int64_t load = 0;
		for (uint32_t i = 0; i < n; i++)
			load += dur[ops[i]];
		int64_t bound = (load + cap - 1) / cap;
		if (bound > e->lower_bound_ms) {
			e->lower_bound_ms = bound;
			e->bound_counter = c;
		}
	}
}

bool estimate_run(const struct dag *d, struct estimate *e)
{
	memset(e, 0, sizeof *e);
	uint32_t n = d->n_ops;
	size_t sz = (size_t)n + 1;
	e->ready_ms = xcalloc(sz, sizeof *e->ready_ms);
	e->start_ms = xmalloc(sz * sizeof *e->start_ms);
	e->finish_ms = xmalloc(sz * sizeof *e->finish_ms);
	e->bottom_ms = xcalloc(sz, sizeof *e->bottom_ms);
	e->prio = xcalloc(sz, sizeof *e->prio);
	e->bound_counter = LIMITS_NONE;

	int64_t *dur = xmalloc(sz * sizeof *dur);
	for (uint32_t i = 0; i < n; i++) {
		int64_t ms = dag_op_duration_ms(d, i);
		dur[i] = ms > 0 ? ms : 0;
		e->n_prompts += d->ops[i].kind == DAG_PROMPT;
	}
	struct dag_succ succ;
	dag_succ_build(d, &succ);
	e->longest_path_ms = dispatch_priorities(d, &succ, dur, e->bottom_ms, e->prio);
	dispatch_justify(d, &succ, dur, e->prio);
	uint32_t *via = xmalloc(sz * sizeof *via), *released_by = xmalloc(sz * sizeof *released_by);
	struct dispatch_timeline tl = {e->start_ms, e->finish_ms, e->ready_ms, via, released_by};
	e->complete = dispatch_simulate(d, &succ, dur, e->prio, false, &tl) >= 0;
	e->makespan_ms = 0;
	for (uint32_t i = 0; i < n; i++)
		if (e->finish_ms[i] > e->makespan_ms)
			e->makespan_ms = e->finish_ms[i];

	trace_path(d, e, via, released_by);
	/* The hops and bound_counter name counters of these limits. */
	e->limits = limits_new(d);
	lower_bound(e, dur);

	free(via);
	free(released_by);
	free(dur);
	dag_succ_free(&succ);
	return e->complete;
}

void estimate_free(struct estimate *e)
{
	free(e->ready_ms);
	free(e->start_ms);
	free(e->finish_ms);
	free(e->bottom_ms);
	free(e->prio);
	free(e->path);
	limits_free(e->limits);
	memset(e, 0, sizeof *e);
}
