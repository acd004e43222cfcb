/* dispatch.c: the dispatcher of ready operations under the plan's limits (dispatch.h). A counter
 * that frees a slot offers only its best waiter back, and offers the next one only while it still
 * has room; so the candidates come out of the queue in exactly the order a scan of every ready
 * operation would try them, without rescanning operations that cannot start. A counter whose offer
 * a full universal counter (`limit all N`) refused is parked with its waiters until that one has
 * room again (struct dispatch), so that completions do not move them back and forth. */
#include "dispatch.h"

#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "../lib/alloc.h"

static bool heap_before(const struct dispatch_heap_entry *a, const struct dispatch_heap_entry *b)
{
	return a->key < b->key || (a->key == b->key && a->op < b->op);
}

/* Four children per node: half the levels of a binary heap, and a node's children side by side
 * in memory, so that a pop from a heap of a million waiters takes half the cache misses. */
#define HEAP_ARITY 4

void dispatch_heap_push(struct dispatch_heap *h, int64_t key, uint32_t op)
{
	if (h->len == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 16;
		h->v = xrealloc(h->v, (size_t)h->cap * sizeof *h->v);
	}
	struct dispatch_heap_entry x = {key, op};
	uint32_t i = h->len++;
	while (i > 0 && heap_before(&x, &h->v[(i - 1) / HEAP_ARITY])) {
		h->v[i] = h->v[(i - 1) / HEAP_ARITY];
		i = (i - 1) / HEAP_ARITY;
	}
	h->v[i] = x;
}

uint32_t dispatch_heap_pop(struct dispatch_heap *h)
{
	uint32_t top = h->v[0].op, i = 0;
	struct dispatch_heap_entry x = h->v[--h->len];
	for (;;) {
		uint32_t first = HEAP_ARITY * i + 1, best = first;
		if (first >= h->len)
			break;
		uint32_t end = first + HEAP_ARITY < h->len ? first + HEAP_ARITY : h->len;
		for (uint32_t c = first + 1; c < end; c++)
			if (heap_before(&h->v[c], &h->v[best]))
				best = c;
		if (!heap_before(&h->v[best], &x))
			break;
		h->v[i] = h->v[best];
		i = best;
	}
	if (h->len > 0)
		h->v[i] = x;
	return top;
}

void dispatch_init(struct dispatch *s, const struct dag *d, const int64_t *prio)
{
	memset(s, 0, sizeof *s);
	s->limits = limits_new(d);
	s->prio = prio;
	s->n_counters = limits_n_counters(s->limits);
	size_t sz = (size_t)d->n_ops + 1, cz = (size_t)s->n_counters + 1;
	s->origin = xmalloc(sz * sizeof *s->origin);
	memset(s->origin, 0xff, sz * sizeof *s->origin);
	s->waiters = xcalloc(cz, sizeof *s->waiters);
	s->offered = xcalloc(cz, sizeof *s->offered);
	s->freed = xcalloc(cz, sizeof *s->freed);
	s->freed_list = xmalloc(cz * sizeof *s->freed_list);
	s->last_release = xmalloc(cz * sizeof *s->last_release);
	memset(s->last_release, 0xff, cz * sizeof *s->last_release);
	s->universal = xcalloc(cz, sizeof *s->universal);
	s->universals = xmalloc(cz * sizeof *s->universals);
	s->parked = xcalloc(cz, sizeof *s->parked);
	s->unparked_op = DAG_NONE;
	s->home = xmalloc(sz * sizeof *s->home);
	s->release_seq = xcalloc(cz, sizeof *s->release_seq);
	s->refused_by = xmalloc(sz * sizeof *s->refused_by);
	uint32_t counted = 0;
	for (uint32_t op = 0; op < d->n_ops; op++) {
		uint32_t n;
		limits_op_counters(s->limits, op, &n);
		counted += n > 0;
	}
	for (uint32_t c = 0; c < s->n_counters; c++) {
		uint32_t n;
		limits_counter_ops(s->limits, c, &n);
		if (n == counted) {
			s->universal[c] = true;
			s->universals[s->n_universals++] = c;
		}
	}
}

void dispatch_free(struct dispatch *s)
{
	for (uint32_t c = 0; c < s->n_counters; c++)
		free(s->waiters[c].v);
	free(s->waiters);
	free(s->offered);
	free(s->freed);
	free(s->freed_list);
	free(s->last_release);
	free(s->origin);
	free(s->cand.v);
	free(s->universal);
	free(s->universals);
	free(s->parked);
	free(s->parking.v);
	free(s->home);
	free(s->release_seq);
	free(s->refused_by);
	limits_free(s->limits);
	memset(s, 0, sizeof *s);
}

void dispatch_ready(struct dispatch *s, uint32_t op)
{
	dispatch_heap_push(&s->cand, s->prio[op], op);
}

/* Offers counter c's best waiter if c has room, is not parked and has none offered yet; returns
 * the operation offered, or DAG_NONE. */
static uint32_t offer(struct dispatch *s, uint32_t c)
{
	if (s->parked[c] || s->offered[c] || s->waiters[c].len == 0 || !limits_has_room(limits_counter(s->limits, c)))
		return DAG_NONE;
	uint32_t op = dispatch_heap_pop(&s->waiters[c]);
	s->origin[op] = c;
	s->offered[c] = true;
	dispatch_heap_push(&s->cand, s->prio[op], op);
	return op;
}

/* op waits for counter c. A parked counter whose best waiter this becomes is queued again with it
 * (the entry of the one before goes stale). */
static void wait_for(struct dispatch *s, uint32_t c, uint32_t op)
{
	dispatch_heap_push(&s->waiters[c], s->prio[op], op);
	s->home[op] = c;
	if (s->parked[c] && s->waiters[c].v[0].op == op)
		dispatch_heap_push(&s->parking, s->prio[op], op);
}

static void park(struct dispatch *s, uint32_t c)
{
	s->parked[c] = true;
	dispatch_heap_push(&s->parking, s->waiters[c].v[0].key, s->waiters[c].v[0].op);
}

static bool universals_have_room(const struct dispatch *s)
{
	for (uint32_t i = 0; i < s->n_universals; i++)
		if (!limits_has_room(limits_counter(s->limits, s->universals[i])))
			return false;
	return true;
}

/* While the universal counters have room, the best parked counter's best waiter is a candidate:
 * one at a time, the next as soon as it has been tried, so the candidates still come out in
 * priority order. A parked counter that is itself full is simply unparked: its own release
 * offers it. */
static void unpark_next(struct dispatch *s)
{
	if (s->unparked_op != DAG_NONE || s->parking.len == 0 || !universals_have_room(s))
		return;
	while (s->parking.len > 0) {
		uint32_t best = dispatch_heap_pop(&s->parking), c = s->home[best];
		if (!s->parked[c] || s->waiters[c].len == 0 || s->waiters[c].v[0].op != best)
			continue; /* stale */
		s->parked[c] = false;
		uint32_t op = offer(s, c);
		if (op != DAG_NONE) {
			s->unparked_op = op;
			return;
		}
	}
}

/* What an operation that a limit held back waited for. It starts at a release of one of its
 * counters (nothing else changes between dispatches), so the counters that freed a slot last did
 * so at the very instant it starts: the one that refused it last if it is one of them (the limit
 * that held it), else the first of them. */
static uint32_t waited_for(const struct dispatch *s, uint32_t op)
{
	uint32_t n, best = LIMITS_NONE;
	const uint32_t *cs = limits_op_counters(s->limits, op, &n);
	for (uint32_t i = 0; i < n; i++)
		if (best == LIMITS_NONE || s->release_seq[cs[i]] > s->release_seq[best])
			best = cs[i];
	uint32_t held = s->refused_by[op];
	return best != LIMITS_NONE && s->release_seq[held] == s->release_seq[best] ? held : best;
}

uint32_t dispatch_next(struct dispatch *s, uint32_t *via)
{
	for (uint32_t i = 0; i < s->n_freed; i++) {
		s->freed[s->freed_list[i]] = false;
		offer(s, s->freed_list[i]);
	}
	s->n_freed = 0;
	unpark_next(s);
	while (s->cand.len > 0) {
		uint32_t op = dispatch_heap_pop(&s->cand);
		uint32_t from = s->origin[op];
		s->origin[op] = LIMITS_NONE;
		bool unparked = op == s->unparked_op;
		if (unparked)
			s->unparked_op = DAG_NONE;
		if (from != LIMITS_NONE)
			s->offered[from] = false;
		uint32_t full = limits_try(s->limits, op);
		if (full != LIMITS_NONE)
			s->refused_by[op] = full;
		if (full != LIMITS_NONE && s->universal[full] && from != LIMITS_NONE && !s->universal[from]) {
			wait_for(s, from, op);
			park(s, from);
		} else {
			if (full != LIMITS_NONE)
				wait_for(s, full, op);
			if (from != LIMITS_NONE)
				offer(s, from);
		}
		if (unparked)
			unpark_next(s);
		if (full == LIMITS_NONE) {
			*via = from == LIMITS_NONE ? LIMITS_NONE : waited_for(s, op);
			return op;
		}
	}
	return DAG_NONE;
}

void dispatch_release(struct dispatch *s, uint32_t op)
{
	limits_release(s->limits, op);
	s->n_releases++; /* one instant for all of op's counters: ties go to the first of them */
	uint32_t n;
	const uint32_t *cs = limits_op_counters(s->limits, op, &n);
	for (uint32_t i = 0; i < n; i++) {
		s->last_release[cs[i]] = op;
		s->release_seq[cs[i]] = s->n_releases;
		if (!s->freed[cs[i]] && s->waiters[cs[i]].len > 0) {
			s->freed[cs[i]] = true;
			s->freed_list[s->n_freed++] = cs[i];
		}
	}
}

int64_t dispatch_priorities(const struct dag *d, const struct dag_succ *succ, const int64_t *dur,
                            int64_t *bottom_ms, int64_t *prio)
{
	uint32_t *order = xmalloc(((size_t)d->n_ops + 1) * sizeof *order);
	uint32_t n_order = dag_topo_order(d, order);
	int64_t longest = 0;
	for (uint32_t k = n_order; k-- > 0;) {
		uint32_t i = order[k];
		int64_t best = 0;
		for (uint32_t j = succ->first[i]; j < succ->first[i + 1]; j++)
			if (bottom_ms[succ->succ[j]] > best)
				best = bottom_ms[succ->succ[j]];
		bottom_ms[i] = dur[i] + best;
		if (bottom_ms[i] > longest)
			longest = bottom_ms[i];
	}
	free(order);
	for (uint32_t i = 0; i < d->n_ops; i++)
		prio[i] = -bottom_ms[i];
	return longest;
}

int64_t dispatch_simulate(const struct dag *d, const struct dag_succ *succ, const int64_t *dur, const int64_t *prio,
                          bool backward, struct dispatch_timeline *tl)
{
	uint32_t n = d->n_ops, started = 0;
	size_t sz = (size_t)n + 1;
	struct dispatch disp;
	dispatch_init(&disp, d, prio);
	uint32_t *waiting = xmalloc(sz * sizeof *waiting);
	for (uint32_t i = 0; i < n; i++) {
		waiting[i] = backward ? succ->first[i + 1] - succ->first[i] : d->ops[i].n_preds;
		tl->start[i] = tl->finish[i] = -1;
		if (tl->ready)
			tl->ready[i] = 0;
		if (tl->via)
			tl->via[i] = tl->released_by[i] = LIMITS_NONE;
		if (waiting[i] == 0)
			dispatch_ready(&disp, i);
	}
	struct dispatch_heap events = {0}; /* operations in flight, by finish time */
	int64_t t = 0;
	for (;;) {
		uint32_t op, via;
		while ((op = dispatch_next(&disp, &via)) != DAG_NONE) {
			tl->start[op] = t;
			tl->finish[op] = t + dur[op];
			dispatch_heap_push(&events, tl->finish[op], op);
			started++;
			if (tl->via && via != LIMITS_NONE && t > tl->ready[op]) {
				tl->via[op] = via;
				tl->released_by[op] = disp.last_release[via];
			}
		}
		if (events.len == 0)
			break;
		t = events.v[0].key;
		while (events.len > 0 && events.v[0].key == t) {
			op = dispatch_heap_pop(&events);
			dispatch_release(&disp, op);
			/* Backward, an operation's predecessors wait for it. */
			const struct dag_op *o = &d->ops[op];
			uint32_t first = backward ? o->first_pred : succ->first[op];
			uint32_t end = backward ? o->first_pred + o->n_preds : succ->first[op + 1];
			for (uint32_t j = first; j < end; j++) {
				uint32_t next = backward ? d->edges[j].from : succ->succ[j];
				if (tl->ready && tl->ready[next] < t)
					tl->ready[next] = t;
				if (--waiting[next] == 0)
					dispatch_ready(&disp, next);
			}
		}
	}
	free(events.v);
	free(waiting);
	dispatch_free(&disp);
	return started == n ? t : -1;
}

/* Real durations stray from the model, and justified priorities are a timetable: they start an
 * operation late when the model gives it slack, and a long operation that then runs long ends the
 * run late, where the critical-path rule would have started it early. So both rules are compared on
 * durations drawn around the model (factors in [1/2, 2], log-uniform, fixed seeds: the same answer
 * every time) and the justified priorities kept only if they win on the total. */
static bool robust(const struct dag *d, const struct dag_succ *succ, const int64_t *dur, const int64_t *plain,
                   const int64_t *justified, struct dispatch_timeline *tl)
{
	uint32_t n = d->n_ops;
	int64_t *drawn = xmalloc(((size_t)n + 1) * sizeof *drawn);
	int64_t plain_ms = 0, justified_ms = 0;
	for (uint64_t sample = 1; sample <= DISPATCH_JUSTIFY_SAMPLES; sample++) {
		uint64_t state = 0x9e3779b97f4a7c15ULL * sample;
		for (uint32_t i = 0; i < n; i++) {
			state = state * 6364136223846793005ULL + 1442695040888963407ULL;
			double u = (double)(state >> 11) / 9007199254740992.0; /* [0, 1) */
			drawn[i] = (int64_t)((double)dur[i] * exp2(2.0 * u - 1.0));
		}
		plain_ms += dispatch_simulate(d, succ, drawn, plain, false, tl);
		justified_ms += dispatch_simulate(d, succ, drawn, justified, false, tl);
	}
	free(drawn);
	return justified_ms < plain_ms;
}

void dispatch_justify(const struct dag *d, const struct dag_succ *succ, const int64_t *dur, int64_t *prio)
{
	uint32_t n = d->n_ops;
	if (n > DISPATCH_JUSTIFY_MAX_OPS)
		return;
	size_t sz = (size_t)n + 1;
	struct dispatch_timeline tl = {.start = xmalloc(sz * sizeof *tl.start), .finish = xmalloc(sz * sizeof *tl.finish)};
	int64_t *key = xmalloc(sz * sizeof *key);
	int64_t forward = dispatch_simulate(d, succ, dur, prio, false, &tl);
	if (forward > 0) {
		for (uint32_t i = 0; i < n; i++)
			key[i] = -tl.finish[i];
		int64_t backward = dispatch_simulate(d, succ, dur, key, true, &tl);
		/* Backward, an operation "finishes" when it may start at the latest: its start in the
		 * right-justified schedule is the backward makespan minus that. */
		for (uint32_t i = 0; i < n; i++)
			key[i] = backward - tl.finish[i];
		int64_t again = backward > 0 ? dispatch_simulate(d, succ, dur, key, false, &tl) : -1;
		if (again >= 0 && again < forward && robust(d, succ, dur, prio, key, &tl))
			memcpy(prio, key, n * sizeof *key);
	}
	free(key);
	free(tl.start);
	free(tl.finish);
}
