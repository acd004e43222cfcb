/* router.c: per-site routing of adapter calls (router.h). */
#include "router.h"

#include <stdlib.h>
#include <string.h>

#include "../lib/alloc.h"

struct router {
	struct adapter base;           /* first: the scheduler sees a struct adapter */
	const struct dag *d;
	struct adapter **by_site;      /* per site, never NULL (the fallback filled in) */
	struct adapter **distinct;     /* each adapter once, for flush and close */
	uint32_t n_distinct;
};

/* The site where the request acts: op.site, except the protected half of a failover, which acts
 * where the devices' sources are. */
static struct adapter *route(struct adapter *a, const struct adapter_request *q, bool source_side)
{
	struct router *r = (struct router *)a;
	const struct dag *d = r->d;
	const struct dag_op *op = &d->ops[q->op];
	uint32_t site = op->site;
	if (source_side) {
		if (op->target_kind == DAG_TARGET_DEVICE)
			site = d->devices[op->target].site;
		else if (op->target_kind == DAG_TARGET_GROUP && d->groups[op->target].n_devices)
			site = d->devices[d->groups[op->target].devices[0]].site;
	}
	return site < d->n_sites ? r->by_site[site] : r->distinct[0];
}

#define FORWARD(entry, source_side)                                                                 \
	static void r_##entry(struct adapter *a, const struct adapter_request *q, struct adapter_reply *reply) \
	{                                                                                               \
		struct adapter *t = route(a, q, source_side);                                               \
		if (!t->vt->entry) {                                                                        \
			adapter_reply_set(reply, ADAPTER_FAILED, "the %s adapter cannot " #entry, t->vt->name); \
			return;                                                                                 \
		}                                                                                           \
		t->vt->entry(t, q, reply);                                                                  \
	}
FORWARD(sync, false)
FORWARD(prepare_failover, true)
FORWARD(failover, false)
FORWARD(set_preference, false)
FORWARD(snapshot, false)
FORWARD(reverse, false)
FORWARD(shutdown, false)
FORWARD(migrate, false)
FORWARD(register_vms, false)
FORWARD(power_on, false)
FORWARD(unregister_vms, false)
FORWARD(discard_snapshot, false)
#undef FORWARD

static void r_query(struct adapter *a, const struct adapter_request *q, struct adapter_answer *ans)
{
	struct adapter *t = route(a, q, false);
	if (t->vt->query)
		t->vt->query(t, q, ans);
}

static bool r_flush(struct adapter *a, char *err, size_t errlen)
{
	struct router *r = (struct router *)a;
	for (uint32_t i = 0; i < r->n_distinct; i++)
		if (r->distinct[i]->vt->flush && !r->distinct[i]->vt->flush(r->distinct[i], err, errlen))
			return false;
	return true;
}

static void r_close(struct adapter *a)
{
	struct router *r = (struct router *)a;
	for (uint32_t i = 0; i < r->n_distinct; i++)
		if (r->distinct[i]->vt->close)
			r->distinct[i]->vt->close(r->distinct[i]);
	free(r->by_site);
	free(r->distinct);
	free(r);
}

static const struct adapter_vtable router_vt = {
	.name = "router",
	.sync = r_sync,
	.prepare_failover = r_prepare_failover,
	.failover = r_failover,
	.set_preference = r_set_preference,
	.snapshot = r_snapshot,
	.reverse = r_reverse,
	.shutdown = r_shutdown,
	.migrate = r_migrate,
	.register_vms = r_register_vms,
	.power_on = r_power_on,
	.query = r_query,
	.flush = r_flush,
	.close = r_close,
	.unregister_vms = r_unregister_vms,
	.discard_snapshot = r_discard_snapshot,
};

struct adapter *router_new(const struct dag *d, struct adapter **by_site, struct adapter *fallback)
{
	struct router *r = xcalloc(1, sizeof *r);
	r->base.vt = &router_vt;
	r->d = d;
	r->by_site = xcalloc((size_t)d->n_sites + 1, sizeof *r->by_site);
	r->distinct = xcalloc((size_t)d->n_sites + 2, sizeof *r->distinct);
	r->distinct[r->n_distinct++] = fallback;
	for (uint32_t i = 0; i < d->n_sites; i++) {
		struct adapter *a = by_site && by_site[i] ? by_site[i] : fallback;
		r->by_site[i] = a;
		bool seen = false;
		for (uint32_t k = 0; k < r->n_distinct; k++)
			seen |= r->distinct[k] == a;
		if (!seen)
			r->distinct[r->n_distinct++] = a;
	}
	return &r->base;
}
