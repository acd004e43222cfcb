/* dot.h: the compiled plan as a Graphviz DOT graph (`drplan graph`), at three levels of detail, and
 * the plan-language spellings of names, steps and durations that the views (graph, diff) share. */
#ifndef DRP_DOT_H
#define DRP_DOT_H

#include <stdbool.h>
#include <stdint.h>

#include "../lib/buf.h"
#include "dag.h"

enum dot_level {
	DOT_STEP,      /* one node per step; an edge between two steps that have edges between their
	                  operations, labelled with their number */
	DOT_WORKGROUP, /* one cluster per step; in it one node per batch of workgroups that move alike
	                  (same priority, way of moving and devices), per device or group operation,
	                  and per plan operation; edges collapsed between nodes */
	DOT_OPERATION, /* one cluster per step; one node per operation and every edge, drawn by kind,
	                  with a legend */
	DOT_N_LEVELS
};
extern const char *const dot_level_names[]; /* "step", "workgroup", "operation" */

/* Appends the DOT graph of d (finished: dag_finish was called) to out. The output is deterministic
 * for a given DAG; every name is quoted and escaped, so hostile names (quotes, backslashes,
 * control characters, invalid UTF-8, bidirectional overrides) neither break the syntax nor reach a
 * viewer raw. Node identifiers are synthetic (n1, n2, ...), never names. */
void dot_write(const struct dag *d, enum dot_level level, struct buf *out);

/* A name as the plan language writes it: bare when it can be (lun-101), else a string literal with
 * the language's escapes ("db \"01\""). Invisible and control characters become \u{...} escapes
 * and invalid UTF-8 bytes U+FFFD, so the result is safe to print on a terminal. */
void dot_name(struct buf *out, const char *name);
/* A string literal (with quotes) with the same escapes as dot_name. */
void dot_string(struct buf *out, const char *s, size_t len);
/* A step as the plan spells it: `failover storage`, `register vms at west`, `run "x.sh" per
 * workgroup`; with options, followed by ` timeout 5m retry 2 backoff 10s` as the step has them. */
void dot_step_text(struct buf *out, const struct dag *d, uint32_t step, bool options);
/* A duration in the language's spelling, largest unit first: 1h30m, 45s, 250ms, 0s. */
void dot_duration(struct buf *out, int64_t ms);

#endif
