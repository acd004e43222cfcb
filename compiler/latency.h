/* latency.h: latency profiles, the YAML files (`drplan plan --latency FILE`) that override the
 * built-in latency model (dag.c) for the estimate. A profile maps operation kinds to their expected
 * duration, each a base plus a per-VM term, written as the plan language writes durations:
 *
 *     failover: {base: 2m, per-vm: 0s}
 *     power-on: {base: 20s, per-vm: 3s}
 *
 * Kinds and fields not named keep their value. The format is documented in docs/commands.md. */
#ifndef DRP_LATENCY_H
#define DRP_LATENCY_H

#include <stdbool.h>

#include "dag.h"
#include "diag.h"
#include "source.h"

/* The most errors reported for one profile before giving up (DRP013). */
#define LATENCY_MAX_ERRORS 20

/* Applies the profile in src to *lat. Every problem is a DRP055 diagnostic at the YAML node at
 * fault (unknown kinds, malformed or negative durations, anchors and aliases, wrong shapes, a
 * second document); on any error *lat is left unchanged and false is returned. Warnings (a per-VM
 * term on a device operation) do not fail. */
bool latency_load(struct dag_latency *lat, const struct src_file *src, struct diag_list *diags);

#endif
