/* dispatch.h: which ready operations may start now. Ready operations wait in a priority queue
 * (longest duration-weighted path to the end first, then smallest index: the critical-path rule);
 * one that a full limit counter refuses is parked on that counter's own queue until the counter
 * frees a slot. The estimate (estimate.c) and the runtime's scheduler use this one dispatcher and
 * the same priorities (dispatch_priorities, then dispatch_justify), so that `drplan plan` predicts
 * exactly the order `drplan run` follows. */
#ifndef DRP_DISPATCH_H
#define DRP_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "dag.h"
#include "limits.h"

/* A binary min-heap of operations by (key, op). Each entry carries its key: a heap of a million
 * operations then costs one cache miss per level, not three (the key array is as large). */
struct dispatch_heap_entry {
	int64_t key;
	uint32_t op;
};
struct dispatch_heap {
	struct dispatch_heap_entry *v; /* v[0]: the smallest */
	uint32_t len, cap;
};
void dispatch_heap_push(struct dispatch_heap *h, int64_t key, uint32_t op);
uint32_t dispatch_heap_pop(struct dispatch_heap *h);

struct dispatch {
	struct limits *limits;         /* owned */
	const int64_t *prio;           /* per op: smaller starts first (the caller's array) */
	struct dispatch_heap cand;     /* operations that may be able to start now */
	struct dispatch_heap *waiters; /* per counter: operations it refused */
	bool *offered;                 /* per counter: its best waiter is in `cand` */
	bool *freed;                   /* per counter: in freed_list */
	uint32_t *freed_list, n_freed;
	uint32_t *origin;              /* per op: the counter that offered it, while in `cand` */
	uint32_t *last_release;        /* per counter: the operation that last freed a slot */
	uint32_t n_counters;
	/* Universal counters (a plan-wide `limit all N`) count every operation that counts anywhere:
	 * while one is full nothing can start. An operation another counter offered and a universal
	 * one refused goes back to the counter that offered it, which is parked (it offers nothing)
	 * until the universal counters have room again; then the parked counters are offered one at
	 * a time, best first. Without parking, each completion sent the best waiter of every counter it
	 * freed to the universal counter's queue and back: 18 moves per operation at 1M VMs. */
	bool *universal;               /* per counter */
	uint32_t *universals, n_universals;
	bool *parked;                  /* per counter: waiting for the universal counters */
	struct dispatch_heap parking;  /* parked counters' best waiters, by (key, op) as everywhere
	                                  (entries that are no longer a parked counter's best are skipped) */
	uint32_t *home;                /* per op: the counter whose waiters it joined last */
	uint64_t *release_seq;         /* per counter: when it last freed a slot, in releases */
	uint64_t n_releases;
	uint32_t *refused_by;          /* per op: the counter that refused it last */
	uint32_t unparked_op;          /* the operation offered from the best parked counter, in `cand` */
};

/* prio: per operation, smaller first; it must outlive the dispatcher. */
void dispatch_init(struct dispatch *s, const struct dag *d, const int64_t *prio);
void dispatch_free(struct dispatch *s);
/* op's predecessors are done: it may start once the limits admit it. */
void dispatch_ready(struct dispatch *s, uint32_t op);
/* The best operation that may start now, already counted against its limits, or DAG_NONE. *via is
 * the counter it had been waiting for: of its counters, one that freed a slot last, preferring the
 * one that refused it last (LIMITS_NONE if none refused it). Call it until DAG_NONE after readying
 * or releasing operations. */
uint32_t dispatch_next(struct dispatch *s, uint32_t *via);
/* op has finished (or will never run again after being admitted): its slots are free. */
void dispatch_release(struct dispatch *s, uint32_t op);

/* Priorities for dispatch: bottom_ms[i] = dur[i] + the longest bottom_ms of i's successors, and
 * prio[i] = -bottom_ms[i]. Returns the longest path (the largest bottom_ms). A cycle's operations
 * keep what they have (0). */
int64_t dispatch_priorities(const struct dag *d, const struct dag_succ *succ, const int64_t *dur,
                            int64_t *bottom_ms, int64_t *prio);

/* When each operation starts and finishes in a list schedule (dispatch_simulate). Arrays of n_ops
 * entries, filled by the call; ready, via and released_by may be NULL. */
struct dispatch_timeline {
	int64_t *start, *finish;       /* -1 for an operation that never started (a cycle, a limit of 0) */
	int64_t *ready;                /* when its last predecessor finished */
	uint32_t *via;                 /* the counter that let it start after a wait, or LIMITS_NONE */
	uint32_t *released_by;         /* whose completion freed that counter, or LIMITS_NONE */
};

/* Simulates the list schedule of d under its limits with priorities prio and durations dur: an
 * operation becomes ready when its predecessors are done (backward: its successors, the schedule
 * of the reversed DAG) and starts as soon as the dispatcher admits it. Returns the makespan, or -1
 * if some operation never started. O((ops + edges) log ops). */
int64_t dispatch_simulate(const struct dag *d, const struct dag_succ *succ, const int64_t *dur, const int64_t *prio,
                          bool backward, struct dispatch_timeline *tl);

/* Improves the critical-path priorities for plans whose limits, not their longest path, decide the
 * makespan: forward-backward improvement (justification). Schedule forward with prio; schedule the
 * reversed DAG taking the operations that finished last first; then each operation's priority is
 * its start in that right-justified schedule. The new priorities replace prio only if the schedule
 * they give is shorter, and shorter on average over DISPATCH_JUSTIFY_SAMPLES draws of durations
 * around the model too (a timetable can be brittle where the critical-path rule is not). So the
 * predicted schedule never gets longer. 3 + 2 * DISPATCH_JUSTIFY_SAMPLES simulations: plans of more
 * than DISPATCH_JUSTIFY_MAX_OPS operations keep prio as it is (the check would take seconds). */
#define DISPATCH_JUSTIFY_SAMPLES 4
#define DISPATCH_JUSTIFY_MAX_OPS 50000
void dispatch_justify(const struct dag *d, const struct dag_succ *succ, const int64_t *dur, int64_t *prio);

#endif
