/* estimate.c: the RTO estimate: a discrete-event simulation of a list scheduler under the plan's
 * limits, the critical path traced back through it, and a lower bound.
 *
 * The simulation keeps ready operations that may be able to start in one heap, by priority, and
 * parks an operation that a full counter refuses on that counter's own heap. A counter that frees a
 * slot offers only its best waiter back, and offers the next one only while it still has room; so
 * an instant's candidates come out of the heap in exactly the order a scan of every ready operation
 * would try them, without rescanning operations that cannot start. */
#include "estimate.h"

#include <stdlib.h>
#include <string.h>

#include "../lib/alloc.h"

/* A binary min-heap of operations by (key[op], op). */
struct heap {
	uint32_t *v;
	uint32_t len, cap;
};

static bool heap_before(const int64_t *key, uint32_t a, uint32_t b)
{
	return key[a] < key[b] || (key[a] == key[b] && a < b);
}

static void heap_push(struct heap *h, const int64_t *key, uint32_t x)
{
	if (h->len == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 16;
		h->v = xrealloc(h->v, (size_t)h->cap * sizeof *h->v);
	}
	uint32_t i = h->len++;
	while (i > 0 && heap_before(key, x, h->v[(i - 1) / 2])) {
		h->v[i] = h->v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->v[i] = x;
}

static uint32_t heap_pop(struct heap *h, const int64_t *key)
{
	uint32_t top = h->v[0], x = h->v[--h->len], i = 0;
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= h->len)
			break;
		if (c + 1 < h->len && heap_before(key, h->v[c + 1], h->v[c]))
			c++;
		if (!heap_before(key, h->v[c], x))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->len > 0)
		h->v[i] = x;
	return top;
}

/* The simulation's state. */
struct sim {
	struct estimate *e;
	struct limits *limits;
	int64_t *dur;
	int64_t *prio;             /* -bottom_ms: the heaps are min-heaps */
	struct heap cand;          /* operations that may be able to start now */
	struct heap events;        /* operations in flight, by finish time */
	struct heap *waiters;      /* per counter: operations it refused */
	bool *offered;             /* per counter: its best waiter is in `cand` */
	bool *freed;               /* per counter: in `freed_list` */
	uint32_t *freed_list, n_freed;
	uint32_t *last_release;    /* per counter: the operation that last freed a slot */
	uint32_t *origin;          /* per op: the counter that offered it, while in `cand` */
	uint32_t *via;             /* per op: the counter that finally let it start after a wait */
	uint32_t *released_by;     /* per op: whose completion freed that counter */
	uint32_t started;
};

/* Offers counter c's best waiter if c has room and none is offered yet. */
static void sim_offer(struct sim *s, uint32_t c)
{
	if (s->offered[c] || s->waiters[c].len == 0 || !limits_has_room(limits_counter(s->limits, c)))
		return;
	uint32_t op = heap_pop(&s->waiters[c], s->prio);
	s->origin[op] = c;
	s->offered[c] = true;
	heap_push(&s->cand, s->prio, op);
}

/* Starts, at time t, every candidate the limits admit, best first. */
static void sim_dispatch(struct sim *s, int64_t t)
{
	for (uint32_t i = 0; i < s->n_freed; i++) {
		s->freed[s->freed_list[i]] = false;
		sim_offer(s, s->freed_list[i]);
	}
	s->n_freed = 0;
	while (s->cand.len > 0) {
		uint32_t op = heap_pop(&s->cand, s->prio);
		uint32_t from = s->origin[op];
		s->origin[op] = LIMITS_NONE;
		if (from != LIMITS_NONE)
			s->offered[from] = false;
		uint32_t full = limits_try(s->limits, op);
		if (full == LIMITS_NONE) {
			s->e->start_ms[op] = t;
			s->e->finish_ms[op] = t + s->dur[op];
			heap_push(&s->events, s->e->finish_ms, op);
			s->started++;
			if (t > s->e->ready_ms[op] && from != LIMITS_NONE) {
				s->via[op] = from;
				s->released_by[op] = s->last_release[from];
			}
		} else {
			heap_push(&s->waiters[full], s->prio, op);
		}
		if (from != LIMITS_NONE)
			sim_offer(s, from);
	}
}

/* Completes op at time t: frees its counters and readies its successors. */
static void sim_complete(struct sim *s, const struct dag_succ *succ, uint32_t *waiting, uint32_t op, int64_t t)
{
	limits_release(s->limits, op);
	uint32_t n;
	const uint32_t *cs = limits_op_counters(s->limits, op, &n);
	for (uint32_t i = 0; i < n; i++) {
		s->last_release[cs[i]] = op;
		if (!s->freed[cs[i]] && s->waiters[cs[i]].len > 0) {
			s->freed[cs[i]] = true;
			s->freed_list[s->n_freed++] = cs[i];
		}
	}
	for (uint32_t j = succ->first[op]; j < succ->first[op + 1]; j++) {
		uint32_t next = succ->succ[j];
		if (s->e->ready_ms[next] < t)
			s->e->ready_ms[next] = t;
		if (--waiting[next] == 0)
			heap_push(&s->cand, s->prio, next);
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
	uint32_t n_counters = limits_n_counters(s->limits);
	for (uint32_t c = 0; c < n_counters; c++) {
		uint32_t cap = limits_counter(s->limits, c)->capacity, n;
		if (cap == 0)
			continue;
		const uint32_t *ops = limits_counter_ops(s->limits, c, &n);
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
	e->limits = limits_new(d);
	e->bound_counter = LIMITS_NONE;

	struct sim s = {.e = e, .limits = e->limits};
	s.dur = xmalloc(sz * sizeof *s.dur);
	s.prio = xmalloc(sz * sizeof *s.prio);
	s.origin = xmalloc(sz * sizeof *s.origin);
	s.via = xmalloc(sz * sizeof *s.via);
	s.released_by = xmalloc(sz * sizeof *s.released_by);
	for (uint32_t i = 0; i < n; i++) {
		int64_t ms = dag_op_duration_ms(d, i);
		s.dur[i] = ms > 0 ? ms : 0;
		e->start_ms[i] = e->finish_ms[i] = -1;
		s.origin[i] = s.via[i] = s.released_by[i] = LIMITS_NONE;
		e->n_prompts += d->ops[i].kind == DAG_PROMPT;
	}

	/* Priorities: the longest path from each operation to the end, in reverse topological order. */
	struct dag_succ succ;
	dag_succ_build(d, &succ);
	uint32_t *order = xmalloc(sz * sizeof *order);
	uint32_t n_order = dag_topo_order(d, order);
	for (uint32_t k = n_order; k-- > 0;) {
		uint32_t i = order[k];
		int64_t best = 0;
		for (uint32_t j = succ.first[i]; j < succ.first[i + 1]; j++)
			if (e->bottom_ms[succ.succ[j]] > best)
				best = e->bottom_ms[succ.succ[j]];
		e->bottom_ms[i] = s.dur[i] + best;
		if (e->bottom_ms[i] > e->longest_path_ms)
			e->longest_path_ms = e->bottom_ms[i];
	}
	free(order);
	for (uint32_t i = 0; i < n; i++)
		s.prio[i] = -e->bottom_ms[i];

	uint32_t n_counters = limits_n_counters(e->limits);
	size_t cz = (size_t)n_counters + 1;
	s.waiters = xcalloc(cz, sizeof *s.waiters);
	s.offered = xcalloc(cz, sizeof *s.offered);
	s.freed = xcalloc(cz, sizeof *s.freed);
	s.freed_list = xmalloc(cz * sizeof *s.freed_list);
	s.last_release = xmalloc(cz * sizeof *s.last_release);
	for (uint32_t c = 0; c < n_counters; c++)
		s.last_release[c] = LIMITS_NONE;

	uint32_t *waiting = xmalloc(sz * sizeof *waiting);
	for (uint32_t i = 0; i < n; i++) {
		waiting[i] = d->ops[i].n_preds;
		if (waiting[i] == 0)
			heap_push(&s.cand, s.prio, i);
	}
	int64_t t = 0;
	for (;;) {
		sim_dispatch(&s, t);
		if (s.events.len == 0)
			break;
		t = e->finish_ms[s.events.v[0]];
		while (s.events.len > 0 && e->finish_ms[s.events.v[0]] == t)
			sim_complete(&s, &succ, waiting, heap_pop(&s.events, e->finish_ms), t);
	}
	e->complete = n_order == n && s.started == n;
	e->makespan_ms = 0;
	for (uint32_t i = 0; i < n; i++)
		if (e->finish_ms[i] > e->makespan_ms)
			e->makespan_ms = e->finish_ms[i];

	trace_path(d, &s);
	lower_bound(&s);

	free(waiting);
	for (uint32_t c = 0; c < n_counters; c++)
		free(s.waiters[c].v);
	free(s.waiters);
	free(s.offered);
	free(s.freed);
	free(s.freed_list);
	free(s.last_release);
	free(s.cand.v);
	free(s.events.v);
	free(s.dur);
	free(s.prio);
	free(s.origin);
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
