/* dag.c: the compiled plan's graph: adding operations and edges, the predecessor and successor
 * indexes, a deterministic topological order, and the names of things. */
#include "dag.h"

#include <stdlib.h>
#include <string.h>

#include "../lib/alloc.h"

const char *const dag_op_kind_names[] = {
	"sync", "failover", "prefer", "shutdown", "migrate", "register", "power-on",
	"run", "snapshot", "reverse", "prompt", "wait", "gate", "unregister", "discard", NULL,
};

const char *const dag_edge_kind_names[] = {
	"step", "prefer", "storage", "sync", "shutdown", "priority", "after", "barrier", "unregister", NULL,
};

const char *const dag_scope_names[] = {"plan", "site", "host", "device", NULL};

/* The built-in latency model: typical figures for arrays and hypervisors, in milliseconds. A
 * profile (`drplan plan --latency FILE`) overrides them. */
static const struct dag_latency default_latency = {
	.base_ms = {
		[DAG_SYNC] = 60000, [DAG_FAILOVER] = 90000, [DAG_PREFER] = 10000, [DAG_SHUTDOWN] = 30000,
		[DAG_MIGRATE] = 10000, [DAG_REGISTER] = 5000, [DAG_POWER_ON] = 20000, [DAG_RUN] = 30000,
		[DAG_SNAPSHOT] = 20000, [DAG_REVERSE] = 60000, [DAG_UNREGISTER] = 5000, [DAG_DISCARD] = 15000,
	},
	.per_vm_ms = {
		[DAG_SHUTDOWN] = 1000, [DAG_MIGRATE] = 30000, [DAG_REGISTER] = 1000, [DAG_POWER_ON] = 3000,
		[DAG_UNREGISTER] = 500,
	},
};

void dag_init(struct dag *d)
{
	memset(d, 0, sizeof *d);
	arena_init(&d->arena);
	d->from = d->to = DAG_NONE;
	d->latency = default_latency;
}

void dag_free(struct dag *d)
{
	free(d->ops);
	free(d->edges);
	arena_free(&d->arena);
	memset(d, 0, sizeof *d);
}

void dag_reserve(struct dag *d, uint32_t ops, uint32_t edges)
{
	if (ops > d->cap_ops) {
		d->cap_ops = ops;
		d->ops = xrealloc(d->ops, (size_t)ops * sizeof *d->ops);
	}
	if (edges > d->cap_edges) {
		d->cap_edges = edges;
		d->edges = xrealloc(d->edges, (size_t)edges * sizeof *d->edges);
	}
}

uint32_t dag_add_op(struct dag *d, enum dag_op_kind kind, enum dag_target target_kind, uint32_t target,
                    uint32_t step, uint32_t site, unsigned flags)
{
	if (d->n_ops == d->cap_ops) {
		d->cap_ops = d->cap_ops ? d->cap_ops * 2 : 64;
		d->ops = xrealloc(d->ops, d->cap_ops * sizeof *d->ops);
	}
	d->ops[d->n_ops] = (struct dag_op){
		.kind = (uint8_t)kind, .target_kind = (uint8_t)target_kind, .flags = (uint8_t)flags,
		.step = step, .target = target, .site = site,
	};
	return d->n_ops++;
}

void dag_add_edge(struct dag *d, uint32_t from, uint32_t to, enum dag_edge_kind kind)
{
	if (d->n_edges == d->cap_edges) {
		d->cap_edges = d->cap_edges ? d->cap_edges * 2 : 64;
		d->edges = xrealloc(d->edges, d->cap_edges * sizeof *d->edges);
	}
	d->edges[d->n_edges++] = (struct dag_edge){.from = from, .to = to, .kind = kind};
}

/* Edges are sorted by `to` with one counting pass (O(edges + ops)), then each operation's few
 * predecessors by `from` and kind with an insertion sort: far faster than qsort on millions. */
void dag_finish(struct dag *d)
{
	/* Give back the growth slack first: at a million VMs it is a hundred megabytes. */
	d->ops = xrealloc(d->ops, ((size_t)d->n_ops + 1) * sizeof *d->ops);
	d->cap_ops = d->n_ops + 1;
	d->edges = xrealloc(d->edges, ((size_t)d->n_edges + 1) * sizeof *d->edges);
	uint32_t *first = xcalloc((size_t)d->n_ops + 1, sizeof *first);
	for (uint32_t i = 0; i < d->n_edges; i++)
		first[d->edges[i].to + 1]++;
	for (uint32_t i = 0; i < d->n_ops; i++)
		first[i + 1] += first[i];
	struct dag_edge *sorted = xmalloc(((size_t)d->n_edges + 1) * sizeof *sorted);
	for (uint32_t i = 0; i < d->n_edges; i++)
		sorted[first[d->edges[i].to]++] = d->edges[i];
	free(d->edges);
	d->edges = sorted;
	d->cap_edges = d->n_edges;
	free(first);

	uint32_t n = 0;
	for (uint32_t i = 0, j; i < d->n_edges; i = j) {
		uint32_t to = d->edges[i].to, start = n;
		for (j = i; j < d->n_edges && d->edges[j].to == to; j++) {
			struct dag_edge e = d->edges[j];
			uint32_t k = n++;
			while (k > start && (d->edges[k - 1].from > e.from ||
			                     (d->edges[k - 1].from == e.from && d->edges[k - 1].kind > e.kind))) {
				d->edges[k] = d->edges[k - 1];
				k--;
			}
			d->edges[k] = e;
		}
		/* Merge duplicate pairs, keeping the smallest kind (sorted first). */
		uint32_t kept = start;
		for (uint32_t k = start; k < n; k++)
			if (k == start || d->edges[k].from != d->edges[kept - 1].from)
				d->edges[kept++] = d->edges[k];
		n = kept;
	}
	d->n_edges = n;
	for (uint32_t i = 0; i < d->n_ops; i++)
		d->ops[i].first_pred = d->ops[i].n_preds = 0;
	for (uint32_t i = n; i-- > 0;) {
		struct dag_op *op = &d->ops[d->edges[i].to];
		op->first_pred = i;
		op->n_preds++;
	}
	d->finished = true;
}

void dag_succ_build(const struct dag *d, struct dag_succ *s)
{
	s->first = xcalloc((size_t)d->n_ops + 1, sizeof *s->first);
	s->succ = xmalloc(((size_t)d->n_edges + 1) * sizeof *s->succ);
	for (uint32_t i = 0; i < d->n_edges; i++)
		s->first[d->edges[i].from + 1]++;
	for (uint32_t i = 0; i < d->n_ops; i++)
		s->first[i + 1] += s->first[i];
	uint32_t *fill = xmalloc(((size_t)d->n_ops + 1) * sizeof *fill);
	memcpy(fill, s->first, ((size_t)d->n_ops + 1) * sizeof *fill);
	/* Edges are sorted by `to`, so each successor list comes out ascending. */
	for (uint32_t i = 0; i < d->n_edges; i++)
		s->succ[fill[d->edges[i].from]++] = d->edges[i].to;
	free(fill);
}

void dag_succ_free(struct dag_succ *s)
{
	free(s->first);
	free(s->succ);
	s->first = s->succ = NULL;
}

/* A binary min-heap of operation indices: Kahn's algorithm taking the smallest ready index. */
static void heap_push(uint32_t *heap, uint32_t *n, uint32_t v)
{
	uint32_t i = (*n)++;
	while (i > 0 && heap[(i - 1) / 2] > v) {
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = v;
}

static uint32_t heap_pop(uint32_t *heap, uint32_t *n)
{
	uint32_t top = heap[0], v = heap[--*n], i = 0;
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && heap[c + 1] < heap[c])
			c++;
		if (heap[c] >= v)
			break;
		heap[i] = heap[c];
		i = c;
	}
	if (*n > 0)
		heap[i] = v;
	return top;
}

uint32_t dag_topo_order(const struct dag *d, uint32_t *order)
{
	struct dag_succ s;
	dag_succ_build(d, &s);
	uint32_t *waiting = xmalloc(((size_t)d->n_ops + 1) * sizeof *waiting);
	uint32_t *heap = xmalloc(((size_t)d->n_ops + 1) * sizeof *heap);
	uint32_t n_heap = 0, n = 0;
	for (uint32_t i = 0; i < d->n_ops; i++) {
		waiting[i] = d->ops[i].n_preds;
		if (waiting[i] == 0)
			heap_push(heap, &n_heap, i);
	}
	while (n_heap > 0) {
		uint32_t op = heap_pop(heap, &n_heap);
		order[n++] = op;
		for (uint32_t j = s.first[op]; j < s.first[op + 1]; j++)
			if (--waiting[s.succ[j]] == 0)
				heap_push(heap, &n_heap, s.succ[j]);
	}
	free(heap);
	free(waiting);
	dag_succ_free(&s);
	return n;
}

void dag_op_id(const struct dag *d, uint32_t i, struct buf *out)
{
	const struct dag_op *op = &d->ops[i];
	buf_putc(out, 's');
	buf_put_uint(out, (uint64_t)op->step + 1);
	buf_putc(out, '.');
	buf_puts(out, dag_op_kind_names[op->kind]);
	switch ((enum dag_target)op->target_kind) {
	case DAG_TARGET_DEVICE:
		buf_putc(out, '.');
		buf_puts(out, d->devices[op->target].name);
		break;
	case DAG_TARGET_GROUP:
		buf_putc(out, '.');
		buf_puts(out, d->groups[op->target].name);
		break;
	case DAG_TARGET_WORKGROUP:
		buf_puts(out, ".w");
		buf_put_uint(out, (uint64_t)op->target + 1);
		break;
	case DAG_TARGET_PLAN:
		if (op->kind == DAG_GATE) {
			if ((int32_t)op->target == DAG_NO_PRIORITY)
				buf_puts(out, ".last");
			else
				buf_printf(out, ".p%d", (int32_t)op->target);
		}
		break;
	}
}

uint32_t dag_op_default_site(const struct dag *d, const struct dag_op *op)
{
	const struct dag_device *dev = NULL;
	if (op->target_kind == DAG_TARGET_DEVICE)
		dev = &d->devices[op->target];
	else if (op->target_kind == DAG_TARGET_GROUP && d->groups[op->target].n_devices > 0)
		dev = &d->devices[d->groups[op->target].devices[0]];
	switch ((enum dag_op_kind)op->kind) {
	case DAG_SYNC:
	case DAG_REVERSE: return dev ? dev->site : DAG_NONE;
	case DAG_FAILOVER:
	case DAG_SNAPSHOT:
	case DAG_DISCARD: return dev ? dev->peer_site : DAG_NONE;
	case DAG_PREFER:
	case DAG_SHUTDOWN:
	case DAG_REGISTER:
	case DAG_UNREGISTER: return d->steps[op->step].site;
	case DAG_MIGRATE:
	case DAG_POWER_ON: return d->to;
	case DAG_RUN: return op->target_kind == DAG_TARGET_WORKGROUP ? d->to : DAG_NONE;
	case DAG_PROMPT:
	case DAG_WAIT:
	case DAG_GATE:
	case DAG_N_OP_KINDS: break;
	}
	return DAG_NONE;
}

unsigned dag_op_default_flags(const struct dag *d, const struct dag_op *op)
{
	bool protected_site = op->kind == DAG_SYNC || op->kind == DAG_SHUTDOWN;
	return d->mode == AST_MODE_DISASTER && protected_site ? DAG_BEST_EFFORT : 0;
}

static bool plan_wide(const struct dag_op *op)
{
	return op->target_kind == DAG_TARGET_PLAN && op->kind != DAG_GATE;
}

enum dag_edge_kind dag_edge_kind_of(const struct dag *d, uint32_t from, uint32_t to)
{
	const struct dag_op *a = &d->ops[from], *b = &d->ops[to];
	if (plan_wide(a) || plan_wide(b))
		return DAG_EDGE_BARRIER;
	if (a->kind == DAG_GATE || b->kind == DAG_GATE)
		return DAG_EDGE_PRIORITY;
	bool b_fails_over = b->kind == DAG_FAILOVER || b->kind == DAG_SNAPSHOT;
	if (a->kind == DAG_PREFER && b->kind == DAG_MIGRATE)
		return DAG_EDGE_PREFER;
	if ((a->kind == DAG_FAILOVER || a->kind == DAG_SNAPSHOT) && (b->kind == DAG_REGISTER || b->kind == DAG_POWER_ON))
		return DAG_EDGE_STORAGE;
	if (a->kind == DAG_SYNC && b_fails_over)
		return DAG_EDGE_SYNC;
	if (a->kind == DAG_SHUTDOWN && b_fails_over)
		return DAG_EDGE_SHUTDOWN;
	if (a->kind == DAG_POWER_ON && b->kind == DAG_POWER_ON && a->target != b->target)
		return DAG_EDGE_AFTER;
	if (a->kind == DAG_UNREGISTER && b->kind == DAG_DISCARD)
		return DAG_EDGE_UNREGISTER;
	return DAG_EDGE_STEP;
}

void dag_derive(struct dag *d)
{
	for (uint32_t i = 0; i < d->n_ops; i++) {
		d->ops[i].site = dag_op_default_site(d, &d->ops[i]);
		d->ops[i].flags = (uint8_t)dag_op_default_flags(d, &d->ops[i]);
	}
	for (uint32_t i = 0; i < d->n_edges; i++)
		d->edges[i].kind = dag_edge_kind_of(d, d->edges[i].from, d->edges[i].to);
}

uint32_t dag_vm_to_host(const struct dag *d, uint32_t vm)
{
	return d->n_placement ? d->placement[vm % d->n_placement] : DAG_NONE;
}

const char *const dag_migration_state_names[] = {"completed", "in-progress", NULL};

static int migration_of_vm(const void *key, const void *entry)
{
	uint32_t vm = *(const uint32_t *)key, other = ((const struct dag_migration *)entry)->vm;
	return (vm > other) - (vm < other);
}

const struct dag_migration *dag_vm_migration(const struct dag *d, uint32_t vm)
{
	if (d->n_migrations == 0)
		return NULL;
	return bsearch(&vm, d->migrations, d->n_migrations, sizeof *d->migrations, migration_of_vm);
}

uint32_t dag_op_vms(const struct dag *d, uint32_t i)
{
	const struct dag_op *op = &d->ops[i];
	return op->target_kind == DAG_TARGET_WORKGROUP ? d->workgroups[op->target].n_vms : 0;
}

int64_t dag_op_duration_ms(const struct dag *d, uint32_t i)
{
	const struct dag_op *op = &d->ops[i];
	switch ((enum dag_op_kind)op->kind) {
	case DAG_WAIT: return d->steps[op->step].wait_ms;
	case DAG_PROMPT:
	case DAG_GATE:
	case DAG_N_OP_KINDS: return 0;
	default: return d->latency.base_ms[op->kind] + d->latency.per_vm_ms[op->kind] * (int64_t)dag_op_vms(d, i);
	}
}
