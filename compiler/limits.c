/* limits.c: the counters of a plan's concurrency limits and which operations each one counts, as
 * two CSR indexes built once, so that admitting or releasing an operation touches only its own
 * counters. */
#include "limits.h"

#include <stdlib.h>
#include <string.h>

#include "../lib/alloc.h"

struct limits {
	struct limits_counter *counters;
	uint32_t n_counters;
	uint32_t n_ops;
	/* Operation -> counters: op_counters[op_first[i] .. op_first[i + 1]). */
	uint32_t *op_first, *op_counters;
	/* Counter -> operations: counter_ops[counter_first[c] .. counter_first[c + 1]). */
	uint32_t *counter_first, *counter_ops;
};

/* A growable array of uint32_t. */
struct u32vec {
	uint32_t *v;
	size_t len, cap;
};

static void u32_push(struct u32vec *a, uint32_t x)
{
	if (a->len == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 256;
		a->v = xrealloc(a->v, a->cap * sizeof *a->v);
	}
	a->v[a->len++] = x;
}

/* True if a limit of this kind counts op kind k. */
static bool limit_counts(uint32_t limit_kind, unsigned k)
{
	if (k == DAG_PROMPT || k == DAG_WAIT || k == DAG_GATE || k >= DAG_N_OP_KINDS)
		return false;
	return limit_kind == DAG_LIMIT_ALL || limit_kind == k;
}

/* How many members a scope has in d: the size of the limit's block of dense counter ids. */
static size_t scope_size(const struct dag *d, enum dag_scope scope)
{
	switch (scope) {
	case DAG_SCOPE_PLAN: return 1;
	case DAG_SCOPE_SITE: return d->n_sites;
	case DAG_SCOPE_HOST: return d->n_hosts;
	case DAG_SCOPE_DEVICE: return d->n_devices;
	}
	return 0;
}

/* Which hosts of its VMs a workgroup operation touches: the inventory hosts (where the VMs run at
 * the protected site), the recovery hosts (where the plan placed them at `to`), or both. */
enum { HOSTS_INVENTORY = 1, HOSTS_RECOVERY = 2, HOSTS_BOTH = 3 };

static unsigned op_host_side(const struct dag *d, const struct dag_op *op)
{
	if (op->kind == DAG_MIGRATE)
		return HOSTS_BOTH; /* a live migration loads its source and its destination */
	return op->site != DAG_NONE && op->site == d->to ? HOSTS_RECOVERY : HOSTS_INVENTORY;
}

/* The distinct hosts of each workgroup's VMs on one side (known ones only), as CSR: hosts[first[w]
 * .. first[w + 1]), in the order the VMs name them (a VM's inventory host before its recovery
 * host). A stamp per host makes it one pass over the VMs. */
static void workgroup_hosts(const struct dag *d, unsigned side, uint32_t **first_out, uint32_t **hosts_out)
{
	uint32_t *first = xcalloc((size_t)d->n_workgroups + 1, sizeof *first);
	uint32_t *stamp = xcalloc((size_t)d->n_hosts + 1, sizeof *stamp);
	struct u32vec hosts = {0};
	for (uint32_t w = 0; w < d->n_workgroups; w++) {
		const struct dag_workgroup *wg = &d->workgroups[w];
		for (uint32_t v = wg->first_vm; v < wg->first_vm + wg->n_vms && v < d->n_vms; v++) {
			uint32_t pair[2] = {side & HOSTS_INVENTORY ? d->vms[v].host : DAG_NONE,
			                    side & HOSTS_RECOVERY ? dag_vm_to_host(d, v) : DAG_NONE};
			for (int k = 0; k < 2; k++) {
				uint32_t h = pair[k];
				if (h >= d->n_hosts || stamp[h] == w + 1)
					continue;
				stamp[h] = w + 1;
				u32_push(&hosts, h);
			}
		}
		first[w + 1] = (uint32_t)hosts.len;
	}
	free(stamp);
	*first_out = first;
	*hosts_out = hosts.v;
}

/* Per side (HOSTS_INVENTORY .. HOSTS_BOTH), each workgroup's hosts, built when first needed. */
struct wg_hosts {
	uint32_t *first[4], *hosts[4];
};

/* Appends the members of `scope` that op touches, as dense ids base + member. */
static void op_members(const struct dag *d, const struct dag_op *op, enum dag_scope scope, uint32_t base,
                       struct wg_hosts *wh, struct u32vec *out)
{
	switch (scope) {
	case DAG_SCOPE_PLAN:
		u32_push(out, base);
		break;
	case DAG_SCOPE_SITE:
		if (op->site < d->n_sites)
			u32_push(out, base + op->site);
		break;
	case DAG_SCOPE_HOST:
		if (op->target_kind == DAG_TARGET_WORKGROUP && op->target < d->n_workgroups) {
			unsigned side = op_host_side(d, op);
			if (!wh->first[side])
				workgroup_hosts(d, side, &wh->first[side], &wh->hosts[side]);
			const uint32_t *first = wh->first[side], *hosts = wh->hosts[side];
			for (uint32_t i = first[op->target]; i < first[op->target + 1]; i++)
				u32_push(out, base + hosts[i]);
		}
		break;
	case DAG_SCOPE_DEVICE:
		if (op->target_kind == DAG_TARGET_DEVICE && op->target < d->n_devices) {
			u32_push(out, base + op->target);
		} else if (op->target_kind == DAG_TARGET_GROUP && op->target < d->n_groups) {
			const struct dag_group *g = &d->groups[op->target];
			for (uint32_t i = 0; i < g->n_devices; i++)
				if (g->devices[i] < d->n_devices)
					u32_push(out, base + g->devices[i]);
		} else if (op->target_kind == DAG_TARGET_WORKGROUP && op->target < d->n_workgroups) {
			const struct dag_workgroup *wg = &d->workgroups[op->target];
			for (uint32_t i = 0; i < wg->n_devices; i++)
				if (wg->devices[i] < d->n_devices)
					u32_push(out, base + wg->devices[i]);
		}
		break;
	}
}

struct limits *limits_new(const struct dag *d)
{
	struct limits *l = xcalloc(1, sizeof *l);
	l->n_ops = d->n_ops;
	l->op_first = xcalloc((size_t)d->n_ops + 1, sizeof *l->op_first);

	/* Dense ids first: limit i owns ids base[i] .. base[i] + scope_size. */
	size_t *base = xmalloc(((size_t)d->n_limits + 1) * sizeof *base);
	size_t n_dense = 0;
	for (uint32_t i = 0; i < d->n_limits; i++) {
		base[i] = n_dense;
		n_dense += scope_size(d, d->limits[i].scope);
	}
	struct wg_hosts wh = {0};

	struct u32vec ids = {0};
	for (uint32_t o = 0; o < d->n_ops; o++) {
		const struct dag_op *op = &d->ops[o];
		for (uint32_t i = 0; i < d->n_limits; i++)
			if (limit_counts(d->limits[i].kind, op->kind))
				op_members(d, op, d->limits[i].scope, (uint32_t)base[i], &wh, &ids);
		l->op_first[o + 1] = (uint32_t)ids.len;
	}
	for (int k = 0; k < 4; k++) {
		free(wh.first[k]);
		free(wh.hosts[k]);
	}

	/* Keep the counters some operation uses, numbered in dense order. */
	uint32_t *compact = xcalloc(n_dense + 1, sizeof *compact);
	for (size_t i = 0; i < ids.len; i++)
		compact[ids.v[i]] = 1;
	uint32_t n = 0;
	for (size_t i = 0; i < n_dense; i++)
		compact[i] = compact[i] ? n++ : LIMITS_NONE;
	l->n_counters = n;
	l->counters = xcalloc((size_t)n + 1, sizeof *l->counters);
	for (uint32_t i = 0, c = 0; i < d->n_limits; i++) {
		size_t size = scope_size(d, d->limits[i].scope);
		for (size_t m = 0; m < size; m++) {
			if (compact[base[i] + m] == LIMITS_NONE)
				continue;
			l->counters[c++] = (struct limits_counter){
				.limit = i,
				.member = d->limits[i].scope == DAG_SCOPE_PLAN ? DAG_NONE : (uint32_t)m,
				.capacity = d->limits[i].count,
			};
		}
	}
	for (size_t i = 0; i < ids.len; i++)
		ids.v[i] = compact[ids.v[i]];
	l->op_counters = ids.v ? ids.v : xmalloc(sizeof *l->op_counters);
	free(compact);
	free(base);

	/* The reverse index; walking operations in order leaves each counter's list ascending. */
	l->counter_first = xcalloc((size_t)n + 1, sizeof *l->counter_first);
	l->counter_ops = xmalloc((ids.len + 1) * sizeof *l->counter_ops);
	for (size_t i = 0; i < ids.len; i++)
		l->counter_first[l->op_counters[i] + 1]++;
	for (uint32_t c = 0; c < n; c++)
		l->counter_first[c + 1] += l->counter_first[c];
	uint32_t *fill = xmalloc(((size_t)n + 1) * sizeof *fill);
	memcpy(fill, l->counter_first, ((size_t)n + 1) * sizeof *fill);
	for (uint32_t o = 0; o < d->n_ops; o++)
		for (uint32_t i = l->op_first[o]; i < l->op_first[o + 1]; i++)
			l->counter_ops[fill[l->op_counters[i]]++] = o;
	free(fill);
	return l;
}

void limits_free(struct limits *l)
{
	if (!l)
		return;
	free(l->counters);
	free(l->op_first);
	free(l->op_counters);
	free(l->counter_first);
	free(l->counter_ops);
	free(l);
}

uint32_t limits_try(struct limits *l, uint32_t op)
{
	const uint32_t *c = l->op_counters + l->op_first[op], *end = l->op_counters + l->op_first[op + 1];
	for (const uint32_t *p = c; p < end; p++)
		if (l->counters[*p].in_flight >= l->counters[*p].capacity)
			return *p;
	for (const uint32_t *p = c; p < end; p++)
		l->counters[*p].in_flight++;
	return LIMITS_NONE;
}

bool limits_admit(struct limits *l, uint32_t op)
{
	return limits_try(l, op) == LIMITS_NONE;
}

void limits_release(struct limits *l, uint32_t op)
{
	for (uint32_t i = l->op_first[op]; i < l->op_first[op + 1]; i++)
		if (l->counters[l->op_counters[i]].in_flight > 0)
			l->counters[l->op_counters[i]].in_flight--;
}

void limits_reset(struct limits *l)
{
	for (uint32_t c = 0; c < l->n_counters; c++)
		l->counters[c].in_flight = 0;
}

uint32_t limits_n_counters(const struct limits *l)
{
	return l->n_counters;
}

const struct limits_counter *limits_counter(const struct limits *l, uint32_t counter)
{
	return &l->counters[counter];
}

const uint32_t *limits_op_counters(const struct limits *l, uint32_t op, uint32_t *n)
{
	*n = l->op_first[op + 1] - l->op_first[op];
	return l->op_counters + l->op_first[op];
}

const uint32_t *limits_counter_ops(const struct limits *l, uint32_t counter, uint32_t *n)
{
	*n = l->counter_first[counter + 1] - l->counter_first[counter];
	return l->counter_ops + l->counter_first[counter];
}

void limits_describe(const struct dag *d, const struct limits *l, uint32_t counter, struct buf *out)
{
	const struct limits_counter *c = &l->counters[counter];
	const struct dag_limit *lim = &d->limits[c->limit];
	buf_printf(out, "%s %u", lim->kind == DAG_LIMIT_ALL ? "all" : dag_op_kind_names[lim->kind], lim->count);
	if (lim->scope == DAG_SCOPE_PLAN)
		return;
	const char *name = NULL;
	switch (lim->scope) {
	case DAG_SCOPE_SITE: name = c->member < d->n_sites ? d->sites[c->member].name : NULL; break;
	case DAG_SCOPE_HOST: name = c->member < d->n_hosts ? d->hosts[c->member].name : NULL; break;
	case DAG_SCOPE_DEVICE: name = c->member < d->n_devices ? d->devices[c->member].name : NULL; break;
	case DAG_SCOPE_PLAN: break;
	}
	buf_printf(out, " per %s (%s)", dag_scope_names[lim->scope], name ? name : "?");
}
