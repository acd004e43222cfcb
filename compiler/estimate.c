/* estimate.c: the RTO estimate: a discrete-event simulation of the runtime's list scheduler under
 * the plan's limits (the same dispatcher, dispatch.h), the critical path traced back through it, and
 * a lower bound. */
#include "estimate.h"

#include <stdlib.h>
#include <string.h>

#include "../lib/alloc.h"
#include "dispatch.h"

/* The simulation's state. */
struct sim {
	struct estimate *e;
	struct dispatch dispatch;
	int64_t *dur;
	int64_t *prio;
	struct dispatch_heap events; /* operations in flight, by finish time */
	uint32_t *via;             /* per op: the counter that finally let it start after a wait */
	uint32_t *released_by;     /* per op: whose completion freed that counter */
	uint32_t started;
};

/* Starts, at time t, every operation the limits admit, best first. */
static void sim_dispatch(struct sim *s, int64_t t)
{
	uint32_t op, from;
	while ((op = dispatch_next(&s->dispatch, &from)) != DAG_NONE) {
		s->e->start_ms[op] = t;
		s->e->finish_ms[op] = t + s->dur[op];
		dispatch_heap_push(&s->events, s->e->finish_ms, op);
		s->started++;
		if (t > s->e->ready_ms[op] && from != LIMITS_NONE) {
			s->via[op] = from;
			s->released_by[op] = s->dispatch.last_release[from];
		}
	}
}

/* Completes op at time t: frees its counters and readies its successors. */
static void sim_complete(struct sim *s, const struct dag_succ *succ, uint32_t *waiting, uint32_t op, int64_t t)
{
	dispatch_release(&s->dispatch, op);
	for (uint32_t j = succ->first[op]; j < succ->first[op + 1]; j++) {
		uint32_t next = succ->succ[j];
		if (s->e->ready_ms[next] < t)
			s->e->ready_ms[next] = t;
		if (--waiting[next] == 0)
			dispatch_ready(&s->dispatch, next);
	}
}

/* The critical path, traced back from the operation that finishes last. */
static void trace_path(const struct dag *d, struct sim *s)
{
	struct estimate *e = s->e;
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
		hop->waited = s->via[cur];
		if (s->via[cur] != LIMITS_NONE) {
			cur = s->released_by[cur];
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
static void lower_bound(struct sim *s)
{
	struct estimate *e = s->e;
	e->lower_bound_ms = e->longest_path_ms;
	e->bound_counter = LIMITS_NONE;
	const struct limits *limits = s->dispatch.limits;
	uint32_t n_counters = limits_n_counters(limits);
	for (uint32_t c = 0; c < n_counters; c++) {
		uint32_t cap = limits_counter(limits, c)->capacity, n;
		if (cap == 0)
			continue;
		const uint32_t *ops = limits_counter_ops(limits, c, &n);
		int64_t load = 0;
		for (uint32_t i = 0; i < n; i++)
			load += s->dur[ops[i]];
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
	e->bound_counter = LIMITS_NONE;

	struct sim s = {.e = e};
	s.dur = xmalloc(sz * sizeof *s.dur);
	s.prio = xcalloc(sz, sizeof *s.prio);
	s.via = xmalloc(sz * sizeof *s.via);
	s.released_by = xmalloc(sz * sizeof *s.released_by);
	for (uint32_t i = 0; i < n; i++) {
		int64_t ms = dag_op_duration_ms(d, i);
		s.dur[i] = ms > 0 ? ms : 0;
		e->start_ms[i] = e->finish_ms[i] = -1;
		s.via[i] = s.released_by[i] = LIMITS_NONE;
		e->n_prompts += d->ops[i].kind == DAG_PROMPT;
	}
	struct dag_succ succ;
	dag_succ_build(d, &succ);
	e->longest_path_ms = dispatch_priorities(d, &succ, s.dur, e->bottom_ms, s.prio);
	dispatch_init(&s.dispatch, d, s.prio);

	uint32_t *waiting = xmalloc(sz * sizeof *waiting);
	for (uint32_t i = 0; i < n; i++) {
		waiting[i] = d->ops[i].n_preds;
		if (waiting[i] == 0)
			dispatch_ready(&s.dispatch, i);
	}
	int64_t t = 0;
	for (;;) {
		sim_dispatch(&s, t);
		if (s.events.len == 0)
			break;
		t = e->finish_ms[s.events.v[0]];
		while (s.events.len > 0 && e->finish_ms[s.events.v[0]] == t)
			sim_complete(&s, &succ, waiting, dispatch_heap_pop(&s.events, e->finish_ms), t);
	}
	e->complete = s.started == n;
	e->makespan_ms = 0;
	for (uint32_t i = 0; i < n; i++)
		if (e->finish_ms[i] > e->makespan_ms)
			e->makespan_ms = e->finish_ms[i];

	trace_path(d, &s);
	lower_bound(&s);
	/* The hops and bound_counter name counters: the estimate keeps the dispatcher's limits. */
	e->limits = dispatch_take_limits(&s.dispatch);

	free(waiting);
	dispatch_free(&s.dispatch);
	free(s.events.v);
	free(s.dur);
	free(s.prio);
	free(s.via);
	free(s.released_by);
	dag_succ_free(&succ);
	return e->complete;
}

void estimate_free(struct estimate *e)
{
	free(e->ready_ms);
	free(e->start_ms);
	free(e->finish_ms);
	free(e->bottom_ms);
	free(e->path);
	limits_free(e->limits);
	memset(e, 0, sizeof *e);
}
