/* faults.h: the fault-injection proxy (docs/faults.md): an adapter that forwards every call to
 * another and, when a rule of a YAML rules file matches the call, fails it, delays it, loses its
 * reply or crashes the process, deterministically for a seed; for chaos tests of the scheduler. */
#ifndef DRP_FAULTS_H
#define DRP_FAULTS_H

#include <stdbool.h>
#include <stdint.h>

#include "../compiler/dag.h"
#include "../compiler/diag.h"
#include "../compiler/source.h"
#include "adapter.h"

/* The most rules a file may hold, and errors reported before the reading stops (DRP013). */
#define FAULTS_MAX_RULES 1000
#define FAULTS_MAX_ERRORS 20

enum fault_action {
	FAULT_ERROR,                   /* the call fails (ADAPTER_FAILED, or TRANSIENT) without effect */
	FAULT_TIMEOUT,                 /* the call fails "injected timeout" (TRANSIENT) without effect */
	FAULT_DELAY,                   /* the call takes delay_ms longer, then goes through */
	FAULT_LOST_REPLY,              /* the call goes through but its reply says TRANSIENT */
	FAULT_CRASH_AFTER,             /* after `count` matching calls, the process _exits 70 */
	FAULT_PARTIAL_TIMEOUT,         /* a workgroup call goes through for the first half of the VMs it
	                                  names, then times out (TRANSIENT); other calls: as timeout */
	FAULT_N_ACTIONS
};
extern const char *const fault_action_names[]; /* "error", "timeout", "delay", "lost-reply", "crash-after",
                                                  "partial-timeout" */

/* The exit status of an injected crash. */
#define FAULTS_CRASH_STATUS 70

/* One rule. Match fields are glob patterns (lib/glob.h) or NULL (any); all given must match. */
struct fault_rule {
	int kind;                      /* enum dag_op_kind, or -1: any */
	char *site, *device, *vm, *op; /* op: the operation id, as dag_op_id writes it */
	enum fault_action action;
	bool transient;                /* error: ADAPTER_TRANSIENT rather than ADAPTER_FAILED */
	double probability;            /* 0..1 (1 if not given); crash-after ignores it */
	int64_t delay_ms;              /* delay */
	uint64_t count;                /* crash-after */
	uint32_t line;                 /* the rule's line in its file, for messages */
};

struct fault_rules {
	struct fault_rule *rules;
	uint32_t n;
	bool sleep_delays;             /* real time: a delay sleeps rather than adding virtual time */
};

/* Reads the rules file in src into *out (initialised here: free it with fault_rules_free even on
 * failure). Every problem is a DRP056 diagnostic at the YAML node at fault; false if any error. */
bool fault_rules_load(struct fault_rules *out, const struct src_file *src, struct diag_list *diags);
void fault_rules_free(struct fault_rules *r);

/* A proxy adapter in front of inner. The rules are copied; d must outlive the proxy. Closing the
 * proxy closes inner too. Calls may arrive from several threads. */
struct adapter *faults_wrap(struct adapter *inner, const struct dag *d, const struct fault_rules *rules,
                            uint64_t seed);
/* How many calls the proxy altered so far (for tests and the end-of-run line). */
uint64_t faults_injected(struct adapter *proxy);

#endif
