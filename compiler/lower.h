/* lower.h: lowering a validated plan to its DAG of operations (DESIGN.md section 3, docs/language.md
 * section 7): workgroups, one operation per device, consistency group, workgroup or plan and step,
 * and the edges that order them. The verifier (verify.h) then checks the result independently. */
#ifndef DRP_LOWER_H
#define DRP_LOWER_H

#include <stdint.h>

#include "dag.h"
#include "diag.h"
#include "model.h"

/* The workgroup size of a plan that does not give one. */
#define LOWER_DEFAULT_WORKGROUP 16

/* Lowers plan `plan` of model m (built without errors) into d (dag_init'ed; finished on return).
 * Strings are borrowed from the model, which must outlive d. Adds notes to diags (an inserted
 * `prefer` step, DRP048); `sources` gives the steps' line numbers. */
void lower_plan(const struct model *m, uint32_t plan, struct src_set *sources, struct dag *d,
                struct diag_list *diags);

/* Only the sites of model m (built without errors), with their adapters, into d (dag_init'ed;
 * finished on return): for `drplan discover` of a file that declares sites but no plan yet. */
void lower_sites(const struct model *m, struct dag *d);

#endif
