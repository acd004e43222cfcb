/* estimate.h: the predicted duration of a run (its RTO) under the plan's concurrency limits: a
 * discrete-event simulation of the list scheduler the runtime uses, with durations from the latency
 * model (dag_op_duration_ms), plus the critical path and a lower bound that no schedule can beat. */
#ifndef DRP_ESTIMATE_H
#define DRP_ESTIMATE_H

#include <stdbool.h>
#include <stdint.h>

#include "dag.h"
#include "limits.h"

/* One operation of the critical path. */
struct estimate_hop {
	uint32_t op;
	uint32_t waited;               /* the limit counter (of estimate.limits) it waited for after its
	                                  predecessors were done, or LIMITS_NONE: it started at once */
};

/* Owns its arrays (estimate_free). */
struct estimate {
	bool complete;                 /* every operation ran; false if the DAG has a cycle or a limit
	                                  can never admit an operation (a count of 0) */
	int64_t makespan_ms;           /* the predicted RTO: when the last operation finishes */
	int64_t lower_bound_ms;        /* max(longest_path_ms, every counter's bound) */
	int64_t longest_path_ms;       /* the longest duration-weighted path: the RTO without limits */
	uint32_t bound_counter;        /* the counter whose load makes the lower bound, or LIMITS_NONE
	                                  when the longest path does */
	uint32_t n_prompts;            /* prompts, counted as taking no time (operator time excluded) */
	/* Per operation (dag.n_ops entries). */
	int64_t *ready_ms;             /* when its last predecessor finished */
	int64_t *start_ms, *finish_ms; /* -1 for an operation that never ran (!complete) */
	int64_t *bottom_ms;            /* the longest path from its start to the end */
	int64_t *prio;                 /* its priority (smaller starts first): -bottom_ms, or its start in
	                                  a right-justified schedule (dispatch_justify) */
	/* The critical path, first operation first: from the one that finishes last back to time 0,
	 * through the predecessor that finished last, or, when an operation waited for a limit, the
	 * operation whose completion let it start. */
	struct estimate_hop *path;
	uint32_t n_path;
	struct limits *limits;         /* the counters the hops and bound_counter refer to */
};

/* Simulates d (finished) under its limits and its latency model: an operation becomes ready when
 * all its predecessors are done; ready operations start in order of priority (dispatch_priorities
 * improved by dispatch_justify, then smallest index), each as soon as the limits admit it.
 * O((ops + edges) log ops). Returns e->complete. */
bool estimate_run(const struct dag *d, struct estimate *e);
void estimate_free(struct estimate *e);

#endif
