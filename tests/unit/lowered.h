/* lowered.h: for unit tests: a plan given as text, compiled to its DAG (parse, validate, lower), as
 * `drplan compile` does it but without the verifier, so tests can also break what it would catch. */
#ifndef DRP_TEST_LOWERED_H
#define DRP_TEST_LOWERED_H

#include "../../compiler/dag.h"
#include "../../compiler/load.h"
#include "../../compiler/model.h"
#include "../../compiler/source.h"

struct lowered {
	struct src_set sources;
	struct diag_list diags;
	struct program program;
	struct model *model;
	struct dag dag;
};

/* Writes `text` to a temporary file and compiles its only plan; a test fails if the plan is
 * invalid, or if lowering disagrees with what the compiled plan leaves out (dag_derive). */
void lower_text(struct lowered *l, const char *text);
/* The same with the plan as DIR/plan.drp and, if `inventory` is not NULL, DIR/inv.yaml beside it
 * (for plans that say `inventory "inv.yaml"`); DIR is the root of includes. */
void lower_files(struct lowered *l, const char *dir, const char *plan, const char *inventory);
void lowered_free(struct lowered *l);
/* Writes text to path; the test fails if it cannot. */
void write_text(const char *path, const char *text);

/* A small world for the runtime's tests (the simulator, the exec adapter): two sites, a
 * consistency group of two replicated devices, a lone replicated device and a stretched one, four
 * VMs in an inventory (RUNTIME_INVENTORY, to be written as inv.yaml: see lower_files) and the rules RUNTIME_WORLD
 * gives them; a test appends its plan to RUNTIME_WORLD. */
#define RUNTIME_INVENTORY                                                                               \
	"version: 1\n"                                                                              \
	"sites:\n"                                                                                  \
	"  - name: east\n"                                                                          \
	"    hosts: [esx-e01, esx-e02]\n"                                                           \
	"  - name: west\n"                                                                          \
	"    hosts: [esx-w01, esx-w02]\n"                                                           \
	"devices:\n"                                                                                \
	"  - {id: lun-1, site: east, kind: replicated, peer: {id: lun-1p, site: west}, consistency_group: cg-a}\n" \
	"  - {id: lun-2, site: east, kind: replicated, peer: {id: lun-2p, site: west}, consistency_group: cg-a}\n" \
	"  - {id: lun-3, site: east, kind: replicated, peer: {id: lun-3p, site: west}}\n"           \
	"  - {id: metro-1, site: east, kind: stretched, peer: {id: metro-1, site: west}, preference: east}\n" \
	"vms:\n"                                                                                    \
	"  - {name: db-01, host: esx-e01, devices: [lun-1, lun-2]}\n"                              \
	"  - {name: db-02, host: esx-e02, devices: [lun-1, lun-2]}\n"                              \
	"  - {name: app-01, host: esx-e01, devices: [lun-3]}\n"                                    \
	"  - {name: web-01, host: esx-e02, devices: [metro-1]}\n"

#define RUNTIME_WORLD                                                                                   \
	"site east { adapter sim }\n"                                                               \
	"site west { adapter sim }\n"                                                               \
	"inventory \"inv.yaml\"\n"                                                                  \
	"protection p { devices lun-1 lun-2 lun-3 metro-1 }\n"                                      \
	"vm db-* priority 1\n"                                                                      \
	"vm app-* priority 2\n"                                                                     \
	"vm web-* priority 2\n"

/* A small world and plan that the lowering and runtime tests share: two sites, a consistency
 * group, a lone replicated device and a stretched one, four VMs, and (PLANNED) every kind of step. */
#define WORLD                                                                                   \
	"site east { adapter sim }\n"                                                               \
	"site west { adapter sim }\n"                                                               \
	"device lun-1 at east replicated to lun-1p at west consistency cg-a\n"                      \
	"device lun-2 at east replicated to lun-2p at west consistency cg-a\n"                      \
	"device lun-3 at east replicated to lun-3p at west\n"                                       \
	"device metro-1 stretched between east and west prefer east\n"                              \
	"protection p { devices lun-1 lun-2 lun-3 metro-1 }\n"

#define VMS                                                                                     \
	"vm db-02 priority 1 on lun-1 lun-2\n"                                                      \
	"vm db-01 priority 1 on lun-2 lun-1\n"                                                      \
	"vm app-01 priority 2 after db-01 on lun-3\n"                                               \
	"vm web-01 priority 2 on metro-1\n"

/* Every kind of edge and step: gates, an inserted prefer, a prompt, a script per workgroup. */
#define PLANNED                                                                                 \
	"plan move {\n"                                                                             \
	"  from east to west\n"                                                                     \
	"  mode planned\n"                                                                          \
	"  protect p\n"                                                                             \
	"  workgroup 2\n"                                                                           \
	"  step sync storage\n"                                                                     \
	"  step shutdown vms at east\n"                                                             \
	"  step failover storage\n"                                                                 \
	"  step migrate live\n"                                                                     \
	"  step register vms\n"                                                                     \
	"  step power-on vms by priority\n"                                                         \
	"  step prompt \"ok?\"\n"                                                                   \
	"  step run \"check.sh\" per workgroup\n"                                                   \
	"}\n"

#endif
