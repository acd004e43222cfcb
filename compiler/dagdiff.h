/* dagdiff.h: what changed between two compiled plans (`drplan diff`), for code review: the plan's
 * settings, its steps, devices, workgroups and VMs, and its operations and their ordering. */
#ifndef DRP_DAGDIFF_H
#define DRP_DAGDIFF_H

#include <stdbool.h>
#include <stdint.h>

#include "../lib/buf.h"
#include "dag.h"

/* The counts of the summary line. */
struct dagdiff_stats {
	uint32_t ops_added, ops_removed;
	uint32_t ops_reordered;  /* matched operations whose predecessors (or their edge kinds) changed */
	uint32_t ops_changed;    /* matched operations whose site or best-effort flag changed */
	uint32_t vms_added, vms_removed;
	uint32_t vms_moved;      /* VMs whose workgroup is not the match of their old one */
	uint32_t other;          /* plan settings, steps, devices, workgroups, VM hosts */
};

/* Compares two finished DAGs and appends a report to out: "--- OLD_NAME" and "+++ NEW_NAME", then
 * sections (plan, steps, devices, workgroups, VMs, operations) of lines that start with `+`
 * (only in new), `-` (only in old) or `~` (changed), and a summary line ("3 operations added, 1
 * removed, 2 reordered, 5 VMs moved"). Appends nothing when the plans are the same. Returns true if
 * they differ; stats (may be NULL) receives the counts.
 *
 * Matching: steps by their text (the longest common subsequence of the two lists, so an inserted
 * step does not make every later step new); devices, groups, sites and VMs by name; workgroups by
 * the VMs they share (each old workgroup matches the new one that holds most of its VMs, so a
 * renumbering is not a move), and, failing that, by priority, way of moving and devices;
 * operations by their id translated through those matches (dag_op_id with the new step and
 * workgroup numbers). Operations and workgroups are shown under their new numbers, VM moves as
 * "old workgroup -> new workgroup". Names are written as the plan language spells them (quoted and
 * escaped when they must be), so the output is safe on a terminal. Linear in the size of the
 * plans, plus sorting what changed; the steps' matching is quadratic in the number of steps that
 * differ (beyond a few thousand, the middle is shown as removed and added). */
bool dagdiff_write(struct buf *out, const struct dag *old, const char *old_name, const struct dag *new,
                   const char *new_name, struct dagdiff_stats *stats);

#endif
