/* adapter.h: the plug between the scheduler and the infrastructure. An adapter is a vtable with one
 * entry per thing it can do to devices and to VMs (DESIGN.md section 6); the scheduler's workers
 * call adapter_perform, which maps a DAG operation to those entries. Entries are called from
 * several worker threads at once: an adapter protects its own state. */
#ifndef DRP_ADAPTER_H
#define DRP_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../compiler/dag.h"
#include "../lib/buf.h"

/* What the scheduler asks: one operation of the compiled plan, one attempt of it. */
struct adapter_request {
	const struct dag *dag;
	uint32_t op;                   /* index in dag->ops; its kind, target and site say what to do */
	uint32_t attempt;              /* 1 for the first try, 2 for the first retry, ... */
	uint32_t run;                  /* which run of the plan (1, then 2 after a --resume, ...) */
	bool best_effort;              /* a failure will be logged and ignored (disaster mode) */
	int64_t timeout_ms;            /* the step's timeout (0: none). Adapters enforce it: an attempt
	                                  that would take longer fails with ADAPTER_TRANSIENT "timed out
	                                  after ..." (exec kills the process group; the simulator checks
	                                  its drawn latency). A device operation then has no effect; a
	                                  workgroup call may have acted on some of its VMs, which query
	                                  tells */
	const uint8_t *vms;            /* workgroup operations: NULL for every VM of the workgroup, else
	                                  one byte per VM of the workgroup, in its order: nonzero = act on
	                                  (query: answer for) that VM. A retry after a fault names only
	                                  the VMs that did not complete (docs/runtime.md) */
};

/* Whether a request names VM k of its workgroup (its k-th VM). */
static inline bool adapter_names_vm(const struct adapter_request *req, uint32_t k)
{
	return !req->vms || req->vms[k];
}

enum adapter_status {
	ADAPTER_DONE,                  /* the operation took effect */
	ADAPTER_FAILED,                /* it did not, and retrying will not help */
	ADAPTER_TRANSIENT,             /* it did not; a retry may succeed (the plan's `retry N`) */
};

#define ADAPTER_MESSAGE_MAX 240

struct adapter_reply {
	enum adapter_status status;
	char message[ADAPTER_MESSAGE_MAX]; /* why it failed, for the journal and the report; "" if done */
	int64_t duration_ms;           /* virtual time the call took (the simulator in virtual time);
	                                  0 for adapters that take real time */
	struct buf notes;              /* empty, or one line per VM the call has something to say about,
	                                  "VM: text\n" (register: which copy of a VM being moved it
	                                  registered, and why). adapter_perform starts it empty,
	                                  adapter_note appends, and whoever takes the reply frees it */
};

/* After a fault, what became of an operation (or of one VM of it) that was in flight. */
enum adapter_outcome {
	ADAPTER_HAPPENED,              /* it took effect: do not perform it again */
	ADAPTER_NOT_HAPPENED,          /* it did not: it may be performed */
	ADAPTER_UNKNOWN,               /* the adapter cannot tell: an operator must decide */
};
extern const char *const adapter_outcome_names[]; /* "happened", "not-happened", "unknown" */

/* Room for a description of a VM at both sites ("on at east (esx-e01, destination copy on lun-1);
 * off at west (...)"): the simulator's run to about 100 bytes; a longer one is cut. */
#define ADAPTER_WHERE_MAX 256

/* One VM's answer to a query. */
struct adapter_vm_answer {
	enum adapter_outcome outcome;
	char where[ADAPTER_WHERE_MAX]; /* where the VM is ("west (esx-w01)"), or "" if the adapter does
	                                  not say */
};

/* The answer to a query. The caller owns it and the vms array; adapter_query initialises both. */
struct adapter_answer {
	enum adapter_outcome outcome;  /* device operations: the answer. Workgroup operations:
	                                  adapter_query sums the VMs asked about up (all happened:
	                                  HAPPENED; none: NOT_HAPPENED; else UNKNOWN) */
	struct adapter_vm_answer *vms; /* workgroup operations: one per VM of the workgroup, in its
	                                  order; only those the request names are answered (the others
	                                  stay UNKNOWN); NULL for device operations */
	uint32_t n_vms;
	char message[ADAPTER_MESSAGE_MAX]; /* why something is unknown, naming the adapter; may be "" */
};

struct adapter;

typedef void (*adapter_fn)(struct adapter *a, const struct adapter_request *req, struct adapter_reply *reply);

struct adapter_vtable {
	const char *name;
	/* Devices: the request's op targets a device or a consistency group. */
	adapter_fn sync;               /* copy the latest changes to the peer */
	adapter_fn prepare_failover;   /* make the source read-only (the protected site's half) */
	adapter_fn failover;           /* promote the peer at the recovery site */
	adapter_fn set_preference;     /* stretched: prefer op.site */
	adapter_fn snapshot;           /* test: a writable snapshot of the peer */
	adapter_fn reverse;            /* reverse the direction of replication */
	/* VMs: the request's op targets a workgroup. */
	adapter_fn shutdown;
	adapter_fn migrate;
	adapter_fn register_vms;
	adapter_fn power_on;
	/* Reconciliation after a fault: did this operation (any attempt of it) take effect? For a
	 * workgroup operation, per VM the request names (ans->vms); for a device operation, in
	 * ans->outcome. Called through adapter_query, which sets ans up: anything left unanswered is
	 * UNKNOWN. May be NULL (every answer is UNKNOWN). */
	void (*query)(struct adapter *a, const struct adapter_request *req, struct adapter_answer *ans);
	/* Makes every effect acknowledged so far durable; the scheduler calls it before each journal
	 * commit, so an adapter may batch its own writes (the simulator's effects.log) until then.
	 * May be NULL (nothing to do). False with err set if the disk refused. */
	bool (*flush)(struct adapter *a, char *err, size_t errlen);
	void (*close)(struct adapter *a);
	/* Cleanup (test-failover stop). VMs: remove the workgroup's powered-off test VMs from the
	 * inventory of op.site's hypervisors. Devices: discard the writable snapshot that `snapshot`
	 * made of the device's (or group's) peers. May be NULL: adapter_perform then refuses. */
	adapter_fn unregister_vms;
	adapter_fn discard_snapshot;
};

struct adapter {
	const struct adapter_vtable *vt;
};

/* Performs one operation: failover is prepare_failover (best-effort in disaster mode) then
 * failover; plan operations (run, prompt, wait, gate) are not the adapter's and are refused. */
void adapter_perform(struct adapter *a, const struct adapter_request *req, struct adapter_reply *reply);

/* Asks a's query about req's operation (and the VMs req names). ans->vms must hold the workgroup's
 * n_vms entries for a workgroup operation (NULL otherwise): they are set to UNKNOWN first, and
 * ans->outcome is summed up from the VMs asked about afterwards. */
void adapter_query(struct adapter *a, const struct adapter_request *req, struct adapter_answer *ans);

/* The whole operation's outcome: adapter_query with an answer array of its own for a workgroup
 * operation (the VMs req names, summed up). For callers that need no per-VM detail. */
enum adapter_outcome adapter_query_op(struct adapter *a, const struct adapter_request *req);

/* Appends a note about one VM to reply->notes: "vm: text", on one line (line breaks in the text
 * become spaces). */
void adapter_note(struct adapter_reply *reply, const char *vm, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Fills reply with a status and a printf-style message. */
void adapter_reply_set(struct adapter_reply *reply, enum adapter_status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
