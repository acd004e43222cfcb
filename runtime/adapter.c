/* adapter.c: what every adapter shares: the mapping from a DAG operation's kind to the vtable entry
 * that performs it, and the reply helper. */
#include "adapter.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/alloc.h"
#include "../lib/buf.h"

const char *const adapter_outcome_names[] = {"happened", "not-happened", "unknown", NULL};

void adapter_query(struct adapter *a, const struct adapter_request *req, struct adapter_answer *ans)
{
	ans->outcome = ADAPTER_UNKNOWN;
	ans->message[0] = '\0';
	for (uint32_t k = 0; ans->vms && k < ans->n_vms; k++) {
		ans->vms[k].outcome = ADAPTER_UNKNOWN;
		ans->vms[k].where[0] = '\0';
	}
	if (!a->vt->query)
		return;
	a->vt->query(a, req, ans);
	if (!ans->vms)
		return;
	uint32_t happened = 0, not = 0, asked = 0;
	for (uint32_t k = 0; k < ans->n_vms; k++) {
		if (!adapter_names_vm(req, k))
			continue;
		asked++;
		happened += ans->vms[k].outcome == ADAPTER_HAPPENED;
		not += ans->vms[k].outcome == ADAPTER_NOT_HAPPENED;
	}
	ans->outcome = asked && happened == asked ? ADAPTER_HAPPENED
	               : not == asked             ? ADAPTER_NOT_HAPPENED
	                                          : ADAPTER_UNKNOWN;
}

enum adapter_outcome adapter_query_op(struct adapter *a, const struct adapter_request *req)
{
	struct adapter_answer ans = {0};
	const struct dag *d = req->dag;
	if (d && req->op < d->n_ops && d->ops[req->op].target_kind == DAG_TARGET_WORKGROUP &&
	    d->ops[req->op].target < d->n_workgroups) {
		ans.n_vms = d->workgroups[d->ops[req->op].target].n_vms;
		ans.vms = xcalloc((size_t)ans.n_vms + 1, sizeof *ans.vms);
	}
	adapter_query(a, req, &ans);
	free(ans.vms);
	return ans.outcome;
}

void adapter_reply_set(struct adapter_reply *reply, enum adapter_status status, const char *fmt, ...)
{
	reply->status = status;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(reply->message, sizeof reply->message, fmt, ap);
	va_end(ap);
	if (n < 0) {
		reply->message[0] = '\0';
		return;
	}
	if ((size_t)n >= sizeof reply->message) {
		/* Cut at a character boundary, so that a truncated name never ends in half a UTF-8
		 * sequence in the journal or on a terminal. */
		const unsigned char *m = (const unsigned char *)reply->message;
		size_t len = sizeof reply->message - 1, lead = len;
		while (lead > 0 && (m[lead - 1] & 0xC0) == 0x80)
			lead--;
		if (lead > 0 && m[lead - 1] >= 0xC0) {
			size_t need = m[lead - 1] >= 0xF0 ? 4 : m[lead - 1] >= 0xE0 ? 3 : 2;
			if (len - (lead - 1) < need)
				reply->message[lead - 1] = '\0';
		}
	}
}

void adapter_note(struct adapter_reply *reply, const char *vm, const char *fmt, ...)
{
	struct buf *b = &reply->notes;
	size_t start = b->len;
	buf_printf(b, "%s: ", vm);
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
	for (size_t i = start; i < b->len; i++)
		if (b->data[i] == '\n' || b->data[i] == '\r')
			b->data[i] = ' ';
	buf_putc(b, '\n');
}

/* The entry that performs a kind, or NULL for the kinds that are not an adapter's (plan operations
 * and scripts, which the scheduler runs itself). */
static adapter_fn entry_for(const struct adapter_vtable *vt, enum dag_op_kind kind)
{
	switch (kind) {
	case DAG_SYNC: return vt->sync;
	case DAG_FAILOVER: return vt->failover;
	case DAG_PREFER: return vt->set_preference;
	case DAG_SHUTDOWN: return vt->shutdown;
	case DAG_MIGRATE: return vt->migrate;
	case DAG_REGISTER: return vt->register_vms;
	case DAG_POWER_ON: return vt->power_on;
	case DAG_SNAPSHOT: return vt->snapshot;
	case DAG_REVERSE: return vt->reverse;
	case DAG_UNREGISTER: return vt->unregister_vms;
	case DAG_DISCARD: return vt->discard_snapshot;
	case DAG_RUN:
	case DAG_PROMPT:
	case DAG_WAIT:
	case DAG_GATE:
	case DAG_N_OP_KINDS: break;
	}
	return NULL;
}

static bool adapter_kind(enum dag_op_kind kind)
{
	return (kind <= DAG_REVERSE && kind != DAG_RUN) || kind == DAG_UNREGISTER || kind == DAG_DISCARD;
}

void adapter_perform(struct adapter *a, const struct adapter_request *req, struct adapter_reply *reply)
{
	reply->status = ADAPTER_DONE;
	reply->message[0] = '\0';
	reply->duration_ms = 0;
	reply->notes = (struct buf)BUF_INIT;
	const struct dag *d = req->dag;
	if (!d || req->op >= d->n_ops) {
		adapter_reply_set(reply, ADAPTER_FAILED, "no operation %u in the plan", req->op);
		return;
	}
	enum dag_op_kind kind = (enum dag_op_kind)d->ops[req->op].kind;
	struct buf id = BUF_INIT; /* the operation's id, for the error messages only: no allocation per call */
	if (!adapter_kind(kind)) {
		dag_op_id(d, req->op, &id);
		adapter_reply_set(reply, ADAPTER_FAILED, "%s: a %s operation is not an adapter's to perform", id.data,
		                  kind < DAG_N_OP_KINDS ? dag_op_kind_names[kind] : "unknown");
		goto out;
	}
	adapter_fn fn = entry_for(a->vt, kind);
	if (!fn) {
		dag_op_id(d, req->op, &id);
		adapter_reply_set(reply, ADAPTER_FAILED, "%s: the %s adapter cannot %s", id.data, a->vt->name,
		                  dag_op_kind_names[kind]);
		goto out;
	}
	if (kind == DAG_FAILOVER && a->vt->prepare_failover) {
		/* The protected site's half first. In disaster mode that site may be gone: its failure is
		 * ignored (docs/language.md, "failover storage"), whatever the operation's own flags say,
		 * since promoting the peer is not best-effort. */
		struct adapter_reply prep = {ADAPTER_DONE, "", 0, BUF_INIT};
		a->vt->prepare_failover(a, req, &prep);
		bool ignore = req->best_effort || d->mode == AST_MODE_DISASTER;
		if (prep.status != ADAPTER_DONE && !ignore) {
			*reply = prep;
			goto out;
		}
		fn(a, req, reply);
		reply->duration_ms += prep.duration_ms;
		goto out;
	}
	fn(a, req, reply);
out:
	buf_free(&id);
}
