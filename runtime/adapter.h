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

/* What the scheduler asks: one operation of the compiled plan, one attempt of it. */
struct adapter_request {
	const struct dag *dag;
	uint32_t op;                   /* index in dag->ops; its kind, target and site say what to do */
	uint32_t attempt;              /* 1 for the first try, 2 for the first retry, ... */
	uint32_t run;                  /* which run of the plan (1, then 2 after a --resume, ...) */
	bool best_effort;              /* a failure will be logged and ignored (disaster mode) */
	int64_t timeout_ms;            /* the step's timeout (0: none). Adapters enforce it: an attempt
	                                  that would take longer fails with ADAPTER_FAILED "timed out
	                                  after ..." and has no effect (exec kills the process group;
	                                  the simulator checks its drawn latency) */
};

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
};

/* After a crash, what became of an operation that was in flight. */
enum adapter_outcome {
	ADAPTER_HAPPENED,              /* it took effect: do not perform it again */
	ADAPTER_NOT_HAPPENED,          /* it did not: it may be performed */
	ADAPTER_UNKNOWN,               /* the adapter cannot tell: an operator must decide */
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
	/* Reconciliation after a crash: did this operation (any attempt of it) take effect? */
	enum adapter_outcome (*query)(struct adapter *a, const struct adapter_request *req);
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

/* Fills reply with a status and a printf-style message. */
void adapter_reply_set(struct adapter_reply *reply, enum adapter_status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
