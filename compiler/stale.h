/* stale.h: is a compiled plan stale? Compares the world a DAG carries (the devices it protects, the
 * VMs on them, their hosts) with inventories freshly discovered from the sites' adapters, and lists
 * what vanished, appeared, changed or moved, each difference judged harmful to the plan or not
 * (the rules are in docs/commands.md, `drplan run`, and docs/adapters.md section 5). */
#ifndef DRP_STALE_H
#define DRP_STALE_H

#include <stdbool.h>
#include <stdint.h>

#include "../lib/arena.h"
#include "dag.h"
#include "diag.h"
#include "inventory.h"

/* How many differences of each kind (harmful, harmless) a diagnostic lists before "... and N more". */
#define STALE_MAX_LINES 20

enum stale_kind { STALE_VANISHED, STALE_APPEARED, STALE_CHANGED, STALE_MOVED };
enum stale_object { STALE_DEVICE, STALE_VM };

struct stale_diff {
	enum stale_kind kind;
	enum stale_object object;
	const char *name;              /* the device or VM */
	const char *text;              /* one line: "moved: vm db-01: host esx-01 -> esx-07 (...)" */
	bool harmless;                 /* reported, but does not make the plan stale */
};

/* Owns its lines (in arena). */
struct stale_report {
	struct arena arena;
	struct stale_diff *diffs;      /* sorted by name, then devices before VMs, then text */
	uint32_t n_diffs, cap;
	uint32_t n_harmful;            /* the plan is stale when this is not 0 */
};

/* One site's fresh discovery. */
struct stale_source {
	uint32_t site;                 /* index in dag.sites */
	const struct inventory *inv;
};

/* Compares d's world with the union of the sources (where two name the same device or VM, the
 * plan's protected site's report counts, else the first) and fills r (initialised here; free it
 * with stale_report_free). Only what the answering sites can see is judged: a device whose site or
 * peer site answered, a VM whose host's site answered (the plan's protected site for a VM without
 * a host). Linear in the sizes of the DAG and the inventories, plus sorting the differences. */
void stale_compare(const struct dag *d, const struct stale_source *sources, uint32_t n_sources,
                   struct stale_report *r);
void stale_report_free(struct stale_report *r);

/* Appends to diags what r says, at `at`: nothing for an identical world; an error DRP060 naming
 * `sites` (as the message's words, "east and west") when the plan is stale, with `hint`; a note
 * DRP060 when every difference is harmless. One diagnostic note per difference, harmful ones
 * first, at most STALE_MAX_LINES of each, then "... and N more". Returns the diagnostic or NULL. */
struct diag *stale_diagnose(const struct stale_report *r, const struct dag *d, const char *sites, const char *hint,
                            struct src_range at, struct diag_list *diags);

#endif
