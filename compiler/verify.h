/* verify.h: the verifier, an independent proof that a finished DAG keeps every guarantee of
 * DESIGN.md section 3 for the plan it was lowered from. It works out what must hold from the model
 * alone and shares no code with lowering, so that a bug in one is caught by the other. */
#ifndef DRP_VERIFY_H
#define DRP_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "dag.h"
#include "diag.h"
#include "model.h"

/* How many violations are reported one by one; one more diagnostic counts the rest. */
#define VERIFY_MAX_REPORTS 20

/* Checks the finished DAG d (dag_finish'ed), lowered from plan `plan` of model m (built without
 * errors), against every guarantee of DESIGN.md section 3: a well-formed graph without cycles;
 * workgroups that hold exactly the plan's VMs, alike in devices, priority and way of moving, with
 * no VM beside its `after` targets; one operation per workgroup or device and step, in step order;
 * prefer before migrate, storage before register and power-on, sync and shutdown before a planned
 * failover, power-on by priority and `after`, one failover per consistency group, nothing at the
 * protected site in test mode, plan-wide steps as barriers, and in a cleanup no snapshot discarded
 * before the unregister of every workgroup on it. Each violation is a DRP050 error at
 * the plan's name that names the guarantee and the operations (dag_op_id); at most
 * VERIFY_MAX_REPORTS are reported, then one saying how many more. Returns true if there is none.
 * Reads d and m only; allocates nothing that outlives the call. */
bool verify_dag(const struct dag *d, const struct model *m, uint32_t plan, struct diag_list *diags);

#endif
