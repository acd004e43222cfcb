/* limits.h: the accounting of a plan's concurrency limits (dag.limits), shared by the estimate and
 * the runtime's scheduler. Each limit becomes counters: one for the plan, or one per site, host or
 * device that some operation touches; each operation is counted once against every counter it
 * touches (dag.h, enum dag_scope: a `per host` limit counts the recovery hosts of the VMs of an
 * operation at the plan's `to`, their inventory hosts elsewhere, both for a migrate), precomputed so that admitting and releasing cost O(counters of
 * the operation). Prompts, waits and gates never count. */
#ifndef DRP_LIMITS_H
#define DRP_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

#include "../lib/buf.h"
#include "dag.h"

#define LIMITS_NONE UINT32_MAX

/* One counter: a limit applied to one plan, site, host or device. Counters used by no operation
 * are not made; the others are numbered in the order of dag.limits, then of the member's index. */
struct limits_counter {
	uint32_t limit;                /* index into dag.limits */
	uint32_t member;               /* site, host or device index by the limit's scope; DAG_NONE for
	                                  the plan */
	uint32_t capacity;             /* the limit's count */
	uint32_t in_flight;            /* operations admitted and not released */
};

/* Owns its arrays; reads d only in limits_new (it may be freed afterwards), except that
 * limits_describe takes d again for names. */
struct limits;

/* Builds the counters of a finished DAG, all empty. Never fails (allocation aborts). */
struct limits *limits_new(const struct dag *d);
void limits_free(struct limits *l);

/* Admits op if every counter it touches has room: counts it and returns true. Otherwise changes
 * nothing and returns false. */
bool limits_admit(struct limits *l, uint32_t op);
/* limits_admit that says why not: LIMITS_NONE if admitted (and counted), else the first counter of
 * op's that is full. */
uint32_t limits_try(struct limits *l, uint32_t op);
/* Uncounts an admitted op. */
void limits_release(struct limits *l, uint32_t op);
/* Forgets every admission. */
void limits_reset(struct limits *l);

/* The counters, and the two indexes between counters and operations (ascending). */
uint32_t limits_n_counters(const struct limits *l);
const struct limits_counter *limits_counter(const struct limits *l, uint32_t counter);
const uint32_t *limits_op_counters(const struct limits *l, uint32_t op, uint32_t *n);
const uint32_t *limits_counter_ops(const struct limits *l, uint32_t counter, uint32_t *n);
/* True if the counter can take one more operation. */
static inline bool limits_has_room(const struct limits_counter *c)
{
	return c->in_flight < c->capacity;
}

/* A counter as the plan wrote its limit, with the member: "power-on 2 per host (esx-01)",
 * "all 64". */
void limits_describe(const struct dag *d, const struct limits *l, uint32_t counter, struct buf *out);

#endif
