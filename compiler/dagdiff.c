/* dagdiff.c: `drplan diff`: matches two compiled plans piece by piece (steps by text, names by name,
 * workgroups by shared VMs, operations by translated id) and reports what was added, removed,
 * moved or reordered, in a stable order. */
#include "dagdiff.h"

#include <stdlib.h>
#include <string.h>

#include "../lib/alloc.h"
#include "../lib/strmap.h"
#include "dot.h"

#define NONE DAG_NONE

struct ctx {
	const struct dag *a, *b; /* old, new */
	struct dagdiff_stats st;
	struct buf plan, steps, devices, workgroups, vms, ops;
	uint32_t *step_ab, *step_ba; /* old index -> new index and back, or NONE */
	uint32_t *site_ab, *dev_ab, *dev_ba, *group_ab;
	uint32_t *wg_ab, *wg_ba;
	uint32_t *vm_ba;               /* new VM -> old VM of the same name */
	uint32_t *op_ab, *op_ba;
};

/* ---- Small helpers */

static bool str_eq(const char *x, const char *y)
{
	return x == y || (x && y && strcmp(x, y) == 0);
}

static uint32_t *none_array(uint32_t n)
{
	uint32_t *v = xmalloc(((size_t)n + 1) * sizeof *v);
	memset(v, 0xff, ((size_t)n + 1) * sizeof *v); /* NONE everywhere */
	return v;
}

/* Every table of names (sites, hosts, devices, groups, VMs) starts with `const char *name`. */
static const char *name_at(const void *table, size_t stride, uint32_t i)
{
	return *(const char *const *)(const void *)((const char *)table + (size_t)i * stride);
}

/* old index -> index of the new entry of the same name, or NONE. The first of duplicate names wins. */
static uint32_t *match_by_name(const void *ta, uint32_t na, const void *tb, uint32_t nb, size_t stride)
{
	struct strmap m;
	strmap_init(&m);
	strmap_reserve(&m, nb);
	for (uint32_t j = 0; j < nb; j++) {
		const char *name = name_at(tb, stride, j);
		if (name)
			strmap_put(&m, name, strlen(name), j);
	}
	uint32_t *ab = none_array(na);
	for (uint32_t i = 0; i < na; i++) {
		const char *name = name_at(ta, stride, i);
		if (name)
			ab[i] = strmap_get(&m, name, strlen(name));
	}
	strmap_free(&m);
	return ab;
}

/* The reverse of a partial matching: the first old entry matched to each new one. */
static uint32_t *invert(const uint32_t *ab, uint32_t na, uint32_t nb)
{
	uint32_t *ba = none_array(nb);
	for (uint32_t i = 0; i < na; i++)
		if (ab[i] != NONE && ab[i] < nb && ba[ab[i]] == NONE)
			ba[ab[i]] = i;
	return ba;
}

static const char *site_name(const struct dag *d, uint32_t s)
{
	return s < d->n_sites ? d->sites[s].name : NULL;
}

static void put_site(struct buf *out, const struct dag *d, uint32_t s)
{
	if (s < d->n_sites)
		dot_name(out, d->sites[s].name);
	else
		buf_puts(out, "none");
}

static void put_duration_or_none(struct buf *out, int64_t ms)
{
	if (ms > 0)
		dot_duration(out, ms);
	else
		buf_puts(out, "none");
}

static const char *mode_name(enum ast_mode m)
{
	return (unsigned)m <= AST_MODE_REPROTECT ? ast_mode_names[m] : "?";
}

static const char *op_kind_name(uint32_t k)
{
	return k < DAG_N_OP_KINDS ? dag_op_kind_names[k] : "?";
}

static const char *edge_kind_name(uint32_t k)
{
	return k < DAG_N_EDGE_KINDS ? dag_edge_kind_names[k] : "?";
}

/* ---- Plan settings */

static void put_limit(struct buf *out, const struct dag_limit *l)
{
	buf_printf(out, "limit %s %u", l->kind == DAG_LIMIT_ALL ? "all" : op_kind_name(l->kind), l->count);
	if (l->scope != DAG_SCOPE_PLAN && (unsigned)l->scope <= DAG_SCOPE_DEVICE)
		buf_printf(out, " per %s", dag_scope_names[l->scope]);
}

static int limit_cmp(const void *x, const void *y)
{
	const struct dag_limit *a = x, *b = y;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->scope != b->scope)
		return a->scope < b->scope ? -1 : 1;
	return (a->count > b->count) - (a->count < b->count);
}

static void diff_limits(struct ctx *c)
{
	const struct dag *a = c->a, *b = c->b;
	struct dag_limit *la = xmalloc(((size_t)a->n_limits + 1) * sizeof *la);
	struct dag_limit *lb = xmalloc(((size_t)b->n_limits + 1) * sizeof *lb);
	if (a->n_limits)
		memcpy(la, a->limits, a->n_limits * sizeof *la);
	if (b->n_limits)
		memcpy(lb, b->limits, b->n_limits * sizeof *lb);
	qsort(la, a->n_limits, sizeof *la, limit_cmp);
	qsort(lb, b->n_limits, sizeof *lb, limit_cmp);
	uint32_t i = 0, j = 0;
	while (i < a->n_limits || j < b->n_limits) {
		int cmp = i == a->n_limits ? 1 : j == b->n_limits ? -1 : 0;
		if (cmp == 0 && (la[i].kind != lb[j].kind || la[i].scope != lb[j].scope))
			cmp = limit_cmp(&la[i], &lb[j]);
		if (cmp == 0) {
			if (la[i].count != lb[j].count) {
				buf_puts(&c->plan, "~ ");
				put_limit(&c->plan, &la[i]);
				buf_printf(&c->plan, " -> %u\n", lb[j].count);
				c->st.other++;
			}
			i++;
			j++;
		} else {
			buf_puts(&c->plan, cmp < 0 ? "- " : "+ ");
			put_limit(&c->plan, cmp < 0 ? &la[i++] : &lb[j++]);
			buf_putc(&c->plan, '\n');
			c->st.other++;
		}
	}
	free(la);
	free(lb);
}

static void put_latency(struct buf *out, const struct dag_latency *l, unsigned k)
{
	dot_duration(out, l->base_ms[k]);
	if (l->per_vm_ms[k]) {
		buf_puts(out, " + ");
		dot_duration(out, l->per_vm_ms[k]);
		buf_puts(out, " per VM");
	}
}

static void diff_plan(struct ctx *c)
{
	const struct dag *a = c->a, *b = c->b;
	struct buf *p = &c->plan;
	if (!str_eq(a->name, b->name)) {
		buf_puts(p, "~ name ");
		dot_name(p, a->name);
		buf_puts(p, " -> ");
		dot_name(p, b->name);
		buf_putc(p, '\n');
		c->st.other++;
	}
	if (a->mode != b->mode) {
		buf_printf(p, "~ mode %s -> %s\n", mode_name(a->mode), mode_name(b->mode));
		c->st.other++;
	}
	if (!str_eq(site_name(a, a->from), site_name(b, b->from)) || !str_eq(site_name(a, a->to), site_name(b, b->to))) {
		buf_puts(p, "~ from ");
		put_site(p, a, a->from);
		buf_puts(p, " to ");
		put_site(p, a, a->to);
		buf_puts(p, " -> from ");
		put_site(p, b, b->from);
		buf_puts(p, " to ");
		put_site(p, b, b->to);
		buf_putc(p, '\n');
		c->st.other++;
	}
	for (uint32_t i = 0; i < a->n_sites; i++)
		if (c->site_ab[i] == NONE) {
			buf_puts(p, "- site ");
			dot_name(p, a->sites[i].name);
			buf_putc(p, '\n');
			c->st.other++;
		}
	uint32_t *site_ba = invert(c->site_ab, a->n_sites, b->n_sites);
	for (uint32_t j = 0; j < b->n_sites; j++)
		if (site_ba[j] == NONE) {
			buf_puts(p, "+ site ");
			dot_name(p, b->sites[j].name);
			buf_putc(p, '\n');
			c->st.other++;
		}
	free(site_ba);
	if (a->workgroup_size != b->workgroup_size) {
		buf_printf(p, "~ workgroup %u -> %u\n", a->workgroup_size, b->workgroup_size);
		c->st.other++;
	}
	if (a->rto_ms != b->rto_ms) {
		buf_puts(p, "~ rto ");
		put_duration_or_none(p, a->rto_ms);
		buf_puts(p, " -> ");
		put_duration_or_none(p, b->rto_ms);
		buf_putc(p, '\n');
		c->st.other++;
	}
	diff_limits(c);
	for (unsigned k = 0; k < DAG_N_OP_KINDS; k++)
		if (a->latency.base_ms[k] != b->latency.base_ms[k] || a->latency.per_vm_ms[k] != b->latency.per_vm_ms[k]) {
			buf_printf(p, "~ latency %s ", dag_op_kind_names[k]);
			put_latency(p, &a->latency, k);
			buf_puts(p, " -> ");
			put_latency(p, &b->latency, k);
			buf_putc(p, '\n');
			c->st.other++;
		}
}

/* ---- Steps: matched by their text, as the longest common subsequence of the two lists. */

enum { LCS_MAX_CELLS = 4 << 20 }; /* 16 MiB of table: a few thousand steps that differ */

static char **step_keys(const struct dag *d)
{
	char **keys = xmalloc(((size_t)d->n_steps + 1) * sizeof *keys);
	for (uint32_t s = 0; s < d->n_steps; s++) {
		struct buf k = BUF_INIT;
		dot_step_text(&k, d, s, false);
		keys[s] = buf_detach(&k);
	}
	return keys;
}

static void match_steps(struct ctx *c)
{
	uint32_t na = c->a->n_steps, nb = c->b->n_steps;
	char **ka = step_keys(c->a), **kb = step_keys(c->b);
	c->step_ab = none_array(na);
	c->step_ba = none_array(nb);
	uint32_t lo = 0, ea = na, eb = nb;
	for (; lo < na && lo < nb && strcmp(ka[lo], kb[lo]) == 0; lo++)
		c->step_ab[lo] = lo;
	for (; ea > lo && eb > lo && strcmp(ka[ea - 1], kb[eb - 1]) == 0; ea--, eb--)
		c->step_ab[ea - 1] = eb - 1;
	size_t n = ea - lo, m = eb - lo;
	if (n && m && (n + 1) * (m + 1) <= LCS_MAX_CELLS) {
		/* L[i][j]: the LCS of the suffixes ka[lo+i..ea) and kb[lo+j..eb). */
		uint32_t *L = xcalloc((n + 1) * (m + 1), sizeof *L);
#define CELL(i, j) L[(i) * (m + 1) + (j)]
		for (size_t i = n; i-- > 0;)
			for (size_t j = m; j-- > 0;)
				CELL(i, j) = strcmp(ka[lo + i], kb[lo + j]) == 0 ? CELL(i + 1, j + 1) + 1
				             : CELL(i + 1, j) >= CELL(i, j + 1) ? CELL(i + 1, j) : CELL(i, j + 1);
		for (size_t i = 0, j = 0; i < n && j < m;) {
			if (strcmp(ka[lo + i], kb[lo + j]) == 0)
				c->step_ab[lo + i++] = (uint32_t)(lo + j++);
			else if (CELL(i + 1, j) >= CELL(i, j + 1))
				i++;
			else
				j++;
		}
#undef CELL
		free(L);
	}
	for (uint32_t i = 0; i < na; i++)
		if (c->step_ab[i] != NONE)
			c->step_ba[c->step_ab[i]] = i;
	for (uint32_t i = 0; i < na; i++)
		free(ka[i]);
	for (uint32_t j = 0; j < nb; j++)
		free(kb[j]);
	free(ka);
	free(kb);
}

/* A step's options alone ("timeout 5m retry 2"), or "no options". */
static void put_step_options(struct buf *out, const struct dag *d, uint32_t s)
{
	struct buf bare = BUF_INIT, full = BUF_INIT;
	dot_step_text(&bare, d, s, false);
	dot_step_text(&full, d, s, true);
	if (full.len > bare.len)
		buf_puts(out, full.data + bare.len + 1);
	else
		buf_puts(out, "no options");
	if (d->steps[s].inserted)
		buf_puts(out, ", inserted by drplan");
	buf_free(&bare);
	buf_free(&full);
}

static void put_step(struct buf *out, char mark, const struct dag *d, uint32_t s)
{
	buf_printf(out, "%c step %u: ", mark, s + 1);
	dot_step_text(out, d, s, true);
	if (d->steps[s].inserted)
		buf_puts(out, " (inserted by drplan)");
	buf_putc(out, '\n');
}

static void diff_steps(struct ctx *c)
{
	const struct dag *a = c->a, *b = c->b;
	for (uint32_t i = 0; i < a->n_steps; i++)
		if (c->step_ab[i] == NONE) {
			put_step(&c->steps, '-', a, i);
			c->st.other++;
		}
	for (uint32_t j = 0; j < b->n_steps; j++)
		if (c->step_ba[j] == NONE) {
			put_step(&c->steps, '+', b, j);
			c->st.other++;
		}
	for (uint32_t j = 0; j < b->n_steps; j++) {
		uint32_t i = c->step_ba[j];
		if (i == NONE)
			continue;
		const struct dag_step *x = &a->steps[i], *y = &b->steps[j];
		if (x->timeout_ms == y->timeout_ms && x->retries == y->retries &&
		    (x->retries == 0 || x->backoff_ms == y->backoff_ms) && x->inserted == y->inserted)
			continue;
		buf_printf(&c->steps, "~ step %u: ", j + 1);
		dot_step_text(&c->steps, b, j, false);
		if (i != j)
			buf_printf(&c->steps, " (was step %u)", i + 1);
		buf_puts(&c->steps, ": ");
		put_step_options(&c->steps, a, i);
		buf_puts(&c->steps, " -> ");
		put_step_options(&c->steps, b, j);
		buf_putc(&c->steps, '\n');
		c->st.other++;
	}
}

/* ---- Devices */

static const char *group_name(const struct dag *d, uint32_t g)
{
	return g < d->n_groups ? d->groups[g].name : NULL;
}

static void put_device(struct buf *out, const struct dag *d, const struct dag_device *dev)
{
	if (dev->kind == DAG_STRETCHED) {
		buf_puts(out, "stretched between ");
		put_site(out, d, dev->site);
		buf_puts(out, " and ");
		put_site(out, d, dev->peer_site);
		if (dev->prefer != NONE) {
			buf_puts(out, ", prefer ");
			put_site(out, d, dev->prefer);
		}
	} else {
		buf_puts(out, "replicated at ");
		put_site(out, d, dev->site);
		buf_puts(out, " to ");
		dot_name(out, dev->peer);
		buf_puts(out, " at ");
		put_site(out, d, dev->peer_site);
	}
	if (dev->group != NONE) {
		buf_puts(out, ", consistency ");
		dot_name(out, group_name(d, dev->group));
	}
}

static void diff_devices(struct ctx *c)
{
	const struct dag *a = c->a, *b = c->b;
	struct buf *o = &c->devices;
	for (uint32_t i = 0; i < a->n_devices; i++)
		if (c->dev_ab[i] == NONE) {
			buf_puts(o, "- device ");
			dot_name(o, a->devices[i].name);
			buf_puts(o, ": ");
			put_device(o, a, &a->devices[i]);
			buf_putc(o, '\n');
			c->st.other++;
		}
	for (uint32_t j = 0; j < b->n_devices; j++)
		if (c->dev_ba[j] == NONE) {
			buf_puts(o, "+ device ");
			dot_name(o, b->devices[j].name);
			buf_puts(o, ": ");
			put_device(o, b, &b->devices[j]);
			buf_putc(o, '\n');
			c->st.other++;
		}
	struct buf x = BUF_INIT, y = BUF_INIT;
	for (uint32_t j = 0; j < b->n_devices; j++) {
		uint32_t i = c->dev_ba[j];
		if (i == NONE)
			continue;
		buf_clear(&x);
		buf_clear(&y);
		put_device(&x, a, &a->devices[i]);
		put_device(&y, b, &b->devices[j]);
		if (strcmp(x.data, y.data) == 0)
			continue;
		buf_puts(o, "~ device ");
		dot_name(o, b->devices[j].name);
		buf_printf(o, ": %s -> %s\n", x.data, y.data);
		c->st.other++;
	}
	buf_free(&x);
	buf_free(&y);
}

/* ---- Workgroups: matched by the VMs they share, then by kind. */

struct wg_pair {
	uint32_t old, new, count;
};

static int wg_pair_cmp(const void *x, const void *y)
{
	const struct wg_pair *a = x, *b = y;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	if (a->old != b->old)
		return a->old < b->old ? -1 : 1;
	return (a->new > b->new) - (a->new < b->new);
}

/* What makes workgroups alike across two plans: priority, way of moving, devices by name. */
static char *wg_class_key(const struct dag *d, uint32_t w, size_t *len)
{
	const struct dag_workgroup *g = &d->workgroups[w];
	struct buf k = BUF_INIT;
	buf_printf(&k, "%d/%d", g->priority, g->live);
	for (uint32_t i = 0; i < g->n_devices; i++) {
		buf_putc(&k, '\0');
		if (g->devices[i] < d->n_devices)
			buf_puts(&k, d->devices[g->devices[i]].name);
	}
	*len = k.len;
	return buf_detach(&k);
}

static void match_workgroups(struct ctx *c)
{
	const struct dag *a = c->a, *b = c->b;
	c->wg_ab = none_array(a->n_workgroups);
	c->wg_ba = none_array(b->n_workgroups);
	/* Count the VMs each (old, new) pair of workgroups shares; the 8-byte keys live in `keys`. */
	struct strmap pairs;
	strmap_init(&pairs);
	uint32_t(*keys)[2] = xmalloc(((size_t)b->n_vms + 1) * sizeof *keys);
	struct wg_pair *p = xmalloc(((size_t)b->n_vms + 1) * sizeof *p);
	uint32_t n = 0;
	for (uint32_t j = 0; j < b->n_vms; j++) {
		uint32_t i = c->vm_ba[j];
		if (i == NONE || a->vms[i].workgroup >= a->n_workgroups || b->vms[j].workgroup >= b->n_workgroups)
			continue;
		keys[j][0] = a->vms[i].workgroup;
		keys[j][1] = b->vms[j].workgroup;
		uint32_t k = strmap_put(&pairs, (const char *)keys[j], sizeof keys[j], n);
		if (k == n)
			p[n++] = (struct wg_pair){keys[j][0], keys[j][1], 0};
		p[k].count++;
	}
	strmap_free(&pairs);
	free(keys);
	qsort(p, n, sizeof *p, wg_pair_cmp);
	for (uint32_t k = 0; k < n; k++)
		if (c->wg_ab[p[k].old] == NONE && c->wg_ba[p[k].new] == NONE) {
			c->wg_ab[p[k].old] = p[k].new;
			c->wg_ba[p[k].new] = p[k].old;
		}
	free(p);

	/* The rest (every VM renamed, say): alike workgroups, in order. Each class queues its unmatched
	 * new workgroups through next[]. */
	struct strmap classes;
	strmap_init(&classes);
	char **ckeys = xcalloc((size_t)b->n_workgroups + 1, sizeof *ckeys);
	uint32_t *head = xmalloc(((size_t)b->n_workgroups + 1) * sizeof *head);
	uint32_t *tail = xmalloc(((size_t)b->n_workgroups + 1) * sizeof *tail);
	uint32_t *next = none_array(b->n_workgroups);
	uint32_t n_classes = 0;
	for (uint32_t j = 0; j < b->n_workgroups; j++) {
		if (c->wg_ba[j] != NONE)
			continue;
		size_t len;
		ckeys[j] = wg_class_key(b, j, &len);
		uint32_t k = strmap_put(&classes, ckeys[j], len, n_classes);
		if (k == n_classes) {
			head[n_classes++] = j;
		} else {
			next[tail[k]] = j;
		}
		tail[k] = j;
	}
	for (uint32_t i = 0; i < a->n_workgroups && n_classes; i++) {
		if (c->wg_ab[i] != NONE)
			continue;
		size_t len;
		char *key = wg_class_key(a, i, &len);
		uint32_t k = strmap_get(&classes, key, len);
		free(key);
		if (k == STRMAP_NONE || head[k] == NONE)
			continue;
		uint32_t j = head[k];
		head[k] = next[j];
		c->wg_ab[i] = j;
		c->wg_ba[j] = i;
	}
	strmap_free(&classes);
	for (uint32_t j = 0; j < b->n_workgroups; j++)
		free(ckeys[j]);
	free(ckeys);
	free(head);
	free(tail);
	free(next);
}

static void put_wg_devices(struct buf *out, const struct dag *d, const struct dag_workgroup *g)
{
	if (!g->n_devices)
		buf_puts(out, " none");
	for (uint32_t i = 0; i < g->n_devices; i++) {
		buf_putc(out, ' ');
		dot_name(out, g->devices[i] < d->n_devices ? d->devices[g->devices[i]].name : NULL);
	}
}

static void put_priority(struct buf *out, int32_t p)
{
	if (p == DAG_NO_PRIORITY)
		buf_puts(out, "no priority");
	else
		buf_printf(out, "priority %d", p);
}

static void put_workgroup(struct buf *out, char mark, const struct dag *d, uint32_t w)
{
	const struct dag_workgroup *g = &d->workgroups[w];
	buf_printf(out, "%c w%u: %u VM%s, ", mark, w + 1, g->n_vms, g->n_vms == 1 ? "" : "s");
	put_priority(out, g->priority);
	buf_puts(out, g->live ? ", live, devices" : ", devices");
	put_wg_devices(out, d, g);
	buf_putc(out, '\n');
}

static bool same_devices(const struct dag *a, const struct dag_workgroup *x, const struct dag *b,
                         const struct dag_workgroup *y)
{
	if (x->n_devices != y->n_devices)
		return false;
	for (uint32_t i = 0; i < x->n_devices; i++) {
		const char *p = x->devices[i] < a->n_devices ? a->devices[x->devices[i]].name : NULL;
		const char *q = y->devices[i] < b->n_devices ? b->devices[y->devices[i]].name : NULL;
		if (!str_eq(p, q))
			return false;
	}
	return true;
}

static void diff_workgroups(struct ctx *c)
{
	const struct dag *a = c->a, *b = c->b;
	struct buf *o = &c->workgroups;
	uint32_t renumbered = 0;
	for (uint32_t i = 0; i < a->n_workgroups; i++)
		if (c->wg_ab[i] == NONE) {
			put_workgroup(o, '-', a, i);
			c->st.other++;
		}
	for (uint32_t j = 0; j < b->n_workgroups; j++)
		if (c->wg_ba[j] == NONE) {
			put_workgroup(o, '+', b, j);
			c->st.other++;
		}
	for (uint32_t j = 0; j < b->n_workgroups; j++) {
		uint32_t i = c->wg_ba[j];
		if (i == NONE)
			continue;
		if (i != j)
			renumbered++;
		const struct dag_workgroup *x = &a->workgroups[i], *y = &b->workgroups[j];
		bool devices = same_devices(a, x, b, y);
		if (x->priority == y->priority && x->live == y->live && devices)
			continue;
		buf_printf(o, "~ w%u", j + 1);
		if (i != j)
			buf_printf(o, " (was w%u)", i + 1);
		const char *sep = ": ";
		if (x->priority != y->priority) {
			buf_puts(o, sep);
			put_priority(o, x->priority);
			buf_puts(o, " -> ");
			put_priority(o, y->priority);
			sep = "; ";
		}
		if (x->live != y->live) {
			buf_printf(o, "%s%s -> %s", sep, x->live ? "live" : "by storage", y->live ? "live" : "by storage");
			sep = "; ";
		}
		if (!devices) {
			buf_printf(o, "%sdevices", sep);
			put_wg_devices(o, a, x);
			buf_puts(o, " ->");
			put_wg_devices(o, b, y);
		}
		buf_putc(o, '\n');
		c->st.other++;
	}
	if (renumbered) {
		buf_printf(o, "~ %u workgroup%s renumbered (shown by their new numbers)\n", renumbered,
		           renumbered == 1 ? "" : "s");
		c->st.other++;
	}
}

/* ---- VMs: sorted by name. */

enum vm_change { VM_REMOVED, VM_ADDED, VM_MOVED, VM_HOST };

struct vm_line {
	const char *name;
	uint32_t change;
	uint32_t old, new; /* VM indices, or NONE */
};

static int vm_line_cmp(const void *x, const void *y)
{
	const struct vm_line *a = x, *b = y;
	int r = strcmp(a->name, b->name);
	if (r)
		return r;
	if (a->change != b->change)
		return a->change < b->change ? -1 : 1;
	return (a->old > b->old) - (a->old < b->old);
}

static const char *host_name(const struct dag *d, uint32_t h)
{
	return h < d->n_hosts ? d->hosts[h].name : NULL;
}

static void diff_vms(struct ctx *c)
{
	const struct dag *a = c->a, *b = c->b;
	bool *seen = xcalloc((size_t)a->n_vms + 1, sizeof *seen);
	size_t n = 0, cap = 64;
	struct vm_line *lines = xmalloc(cap * sizeof *lines);
#define ADD_LINE(...)                                                    \
	do {                                                             \
		if (n == cap)                                            \
			lines = xrealloc(lines, (cap *= 2) * sizeof *lines); \
		lines[n++] = (struct vm_line){__VA_ARGS__};              \
	} while (0)
	for (uint32_t j = 0; j < b->n_vms; j++) {
		uint32_t i = c->vm_ba[j];
		const char *name = b->vms[j].name ? b->vms[j].name : "";
		if (i == NONE) {
			ADD_LINE(name, VM_ADDED, NONE, j);
			continue;
		}
		seen[i] = true;
		uint32_t ow = a->vms[i].workgroup;
		uint32_t match = ow < a->n_workgroups ? c->wg_ab[ow] : NONE;
		if (match != b->vms[j].workgroup)
			ADD_LINE(name, VM_MOVED, i, j);
		if (!str_eq(host_name(a, a->vms[i].host), host_name(b, b->vms[j].host)))
			ADD_LINE(name, VM_HOST, i, j);
	}
	for (uint32_t i = 0; i < a->n_vms; i++)
		if (!seen[i])
			ADD_LINE(a->vms[i].name ? a->vms[i].name : "", VM_REMOVED, i, NONE);
#undef ADD_LINE
	free(seen);
	qsort(lines, n, sizeof *lines, vm_line_cmp);
	struct buf *o = &c->vms;
	for (size_t k = 0; k < n; k++) {
		const struct vm_line *l = &lines[k];
		switch ((enum vm_change)l->change) {
		case VM_ADDED:
			buf_puts(o, "+ vm ");
			dot_name(o, l->name);
			buf_printf(o, ": w%u\n", b->vms[l->new].workgroup + 1);
			c->st.vms_added++;
			break;
		case VM_REMOVED:
			buf_puts(o, "- vm ");
			dot_name(o, l->name);
			buf_printf(o, ": w%u\n", a->vms[l->old].workgroup + 1);
			c->st.vms_removed++;
			break;
		case VM_MOVED:
			buf_puts(o, "~ vm ");
			dot_name(o, l->name);
			buf_printf(o, ": w%u -> w%u\n", a->vms[l->old].workgroup + 1, b->vms[l->new].workgroup + 1);
			c->st.vms_moved++;
			break;
		case VM_HOST:
			buf_puts(o, "~ vm ");
			dot_name(o, l->name);
			buf_puts(o, ": host ");
			dot_name(o, host_name(a, a->vms[l->old].host));
			buf_puts(o, " -> ");
			dot_name(o, host_name(b, b->vms[l->new].host));
			buf_putc(o, '\n');
			c->st.other++;
			break;
		}
	}
	free(lines);
}

/* ---- Operations: by id, translated into the new plan's numbering. */

/* The key of operation i in the new plan's terms: (step, kind and target kind, target). Maps are
 * NULL for the new plan itself. False if a part has no match (the operation cannot be in new). */
static bool op_key(const struct ctx *c, const struct dag *d, uint32_t i, bool old, uint32_t key[4])
{
	const struct dag_op *op = &d->ops[i];
	uint32_t step = op->step, target = op->target;
	if (step >= d->n_steps)
		return false;
	if (old)
		step = c->step_ab[step];
	switch ((enum dag_target)op->target_kind) {
	case DAG_TARGET_DEVICE:
		if (target >= d->n_devices)
			return false;
		if (old)
			target = c->dev_ab[target];
		break;
	case DAG_TARGET_GROUP:
		if (target >= d->n_groups)
			return false;
		if (old)
			target = c->group_ab[target];
		break;
	case DAG_TARGET_WORKGROUP:
		if (target >= d->n_workgroups)
			return false;
		if (old)
			target = c->wg_ab[target];
		break;
	case DAG_TARGET_PLAN:
		if (op->kind != DAG_GATE)
			target = 0; /* unused: the step and kind say it all */
		break;
	default: return false;
	}
	if (step == NONE || (target == NONE && op->target_kind != DAG_TARGET_PLAN))
		return false;
	key[0] = step;
	key[1] = (uint32_t)op->kind | (uint32_t)op->target_kind << 8;
	key[2] = target;
	key[3] = 0;
	return true;
}

static void match_ops(struct ctx *c)
{
	const struct dag *a = c->a, *b = c->b;
	c->op_ab = none_array(a->n_ops);
	c->op_ba = none_array(b->n_ops);
	struct strmap map;
	strmap_init(&map);
	strmap_reserve(&map, b->n_ops);
	uint32_t(*keys)[4] = xmalloc(((size_t)b->n_ops + 1) * sizeof *keys);
	for (uint32_t j = 0; j < b->n_ops; j++)
		if (op_key(c, b, j, false, keys[j]))
			strmap_put(&map, (const char *)keys[j], sizeof keys[j], j);
	for (uint32_t i = 0; i < a->n_ops; i++) {
		uint32_t key[4];
		if (!op_key(c, a, i, true, key))
			continue;
		uint32_t j = strmap_get(&map, (const char *)key, sizeof key);
		if (j != STRMAP_NONE && c->op_ba[j] == NONE) {
			c->op_ab[i] = j;
			c->op_ba[j] = i;
		}
	}
	strmap_free(&map);
	free(keys);
}

static void put_op_id(struct buf *out, const struct dag *d, uint32_t i, struct buf *scratch)
{
	buf_clear(scratch);
	dag_op_id(d, i, scratch);
	dot_name(out, scratch->data);
}

/* A predecessor of a matched operation: in new numbering when it is matched (`from`), or an old
 * operation that is gone (`old`, with from == NONE). */
struct pred {
	uint32_t from, old, kind;
};

static int pred_cmp(const void *x, const void *y)
{
	const struct pred *a = x, *b = y;
	if (a->from != b->from)
		return a->from < b->from ? -1 : 1;
	return (a->old > b->old) - (a->old < b->old);
}

/* Appends the changes of j's predecessors (new j, old i) to lines; returns whether there were any. */
static bool diff_preds(struct ctx *c, uint32_t i, uint32_t j, struct buf *lines, struct pred **scratch,
                       uint32_t *cap, struct buf *id)
{
	const struct dag *a = c->a, *b = c->b;
	const struct dag_op *x = &a->ops[i], *y = &b->ops[j];
	if (x->n_preds > *cap) {
		*cap = x->n_preds;
		*scratch = xrealloc(*scratch, (size_t)*cap * sizeof **scratch);
	}
	struct pred *p = *scratch;
	for (uint32_t k = 0; k < x->n_preds; k++) {
		const struct dag_edge *e = &a->edges[x->first_pred + k];
		p[k] = (struct pred){e->from < a->n_ops ? c->op_ab[e->from] : NONE, e->from, e->kind};
	}
	if (x->n_preds > 1)
		qsort(p, x->n_preds, sizeof *p, pred_cmp); /* gone ones (NONE) last */
	size_t before = lines->len;
	uint32_t k = 0, l = 0;
	while (k < x->n_preds || l < y->n_preds) {
		bool has_old = k < x->n_preds, has_new = l < y->n_preds;
		struct pred o = has_old ? p[k] : (struct pred){NONE, NONE, 0};
		struct dag_edge e = has_new ? b->edges[y->first_pred + l] : (struct dag_edge){NONE, NONE, 0};
		if (has_old && has_new && o.from == e.from) {
			if (o.kind != e.kind) {
				buf_puts(lines, "    ~ waits for ");
				put_op_id(lines, b, e.from, id);
				buf_printf(lines, " [%s -> %s]\n", edge_kind_name(o.kind), edge_kind_name(e.kind));
			}
			k++;
			l++;
		} else if (has_old && (!has_new || o.from < e.from)) {
			buf_puts(lines, "    - waits for ");
			if (o.from == NONE)
				put_op_id(lines, a, o.old, id);
			else
				put_op_id(lines, b, o.from, id);
			buf_printf(lines, " [%s]\n", edge_kind_name(o.kind));
			k++;
		} else {
			buf_puts(lines, "    + waits for ");
			put_op_id(lines, b, e.from, id);
			buf_printf(lines, " [%s]\n", edge_kind_name(e.kind));
			l++;
		}
	}
	return lines->len > before;
}

static void diff_ops(struct ctx *c)
{
	const struct dag *a = c->a, *b = c->b;
	struct buf *o = &c->ops, id = BUF_INIT, lines = BUF_INIT;
	for (uint32_t i = 0; i < a->n_ops; i++)
		if (c->op_ab[i] == NONE) {
			buf_puts(o, "- ");
			put_op_id(o, a, i, &id);
			buf_putc(o, '\n');
			c->st.ops_removed++;
		}
	for (uint32_t j = 0; j < b->n_ops; j++)
		if (c->op_ba[j] == NONE) {
			buf_puts(o, "+ ");
			put_op_id(o, b, j, &id);
			buf_putc(o, '\n');
			c->st.ops_added++;
		}
	struct pred *scratch = NULL;
	uint32_t cap = 0;
	struct buf head = BUF_INIT, old_id = BUF_INIT, new_id = BUF_INIT;
	for (uint32_t j = 0; j < b->n_ops; j++) {
		uint32_t i = c->op_ba[j];
		if (i == NONE)
			continue;
		const struct dag_op *x = &a->ops[i], *y = &b->ops[j];
		buf_clear(&head);
		buf_clear(&lines);
		const char *sep = ": ";
		if (!str_eq(site_name(a, x->site), site_name(b, y->site))) {
			buf_printf(&head, "%ssite ", sep);
			put_site(&head, a, x->site);
			buf_puts(&head, " -> ");
			put_site(&head, b, y->site);
			sep = "; ";
		}
		if ((x->flags ^ y->flags) & DAG_BEST_EFFORT)
			buf_printf(&head, "%s%s", sep, y->flags & DAG_BEST_EFFORT ? "now best-effort" : "no longer best-effort");
		bool changed = head.len > 0;
		bool reordered = diff_preds(c, i, j, &lines, &scratch, &cap, &id);
		if (!changed && !reordered)
			continue;
		c->st.ops_changed += changed;
		c->st.ops_reordered += reordered;
		buf_puts(o, "~ ");
		put_op_id(o, b, j, &new_id);
		buf_clear(&old_id);
		dag_op_id(a, i, &old_id);
		buf_clear(&id);
		dag_op_id(b, j, &id);
		if (strcmp(old_id.data, id.data) != 0) {
			buf_puts(o, " (was ");
			dot_name(o, old_id.data);
			buf_putc(o, ')');
		}
		buf_append(o, head.data, head.len);
		buf_putc(o, '\n');
		buf_append(o, lines.data, lines.len);
	}
	free(scratch);
	buf_free(&head);
	buf_free(&old_id);
	buf_free(&new_id);
	buf_free(&lines);
	buf_free(&id);
}

/* ---- The report */

static void put_section(struct buf *out, const char *title, const struct buf *body)
{
	if (!body->len)
		return;
	buf_printf(out, "%s:\n", title);
	buf_append(out, body->data, body->len);
}

static void put_count(struct buf *out, uint32_t n, const char *one, const char *many)
{
	buf_printf(out, "%u %s", n, n == 1 ? one : many);
}

static void put_summary(struct buf *out, const struct dagdiff_stats *s)
{
	put_count(out, s->ops_added, "operation added", "operations added");
	buf_printf(out, ", %u removed, %u reordered, ", s->ops_removed, s->ops_reordered);
	put_count(out, s->vms_moved, "VM moved", "VMs moved");
	if (s->ops_changed) {
		buf_puts(out, ", ");
		put_count(out, s->ops_changed, "operation changed", "operations changed");
	}
	if (s->vms_added) {
		buf_puts(out, ", ");
		put_count(out, s->vms_added, "VM added", "VMs added");
	}
	if (s->vms_removed) {
		buf_puts(out, ", ");
		put_count(out, s->vms_removed, "VM removed", "VMs removed");
	}
	if (s->other) {
		buf_puts(out, ", ");
		put_count(out, s->other, "other change", "other changes");
	}
	buf_putc(out, '\n');
}

bool dagdiff_write(struct buf *out, const struct dag *old, const char *old_name, const struct dag *new,
                   const char *new_name, struct dagdiff_stats *stats)
{
	struct ctx c = {.a = old, .b = new};
	c.plan = c.steps = c.devices = c.workgroups = c.vms = c.ops = (struct buf)BUF_INIT;
	c.site_ab = match_by_name(old->sites, old->n_sites, new->sites, new->n_sites, sizeof *old->sites);
	c.dev_ab = match_by_name(old->devices, old->n_devices, new->devices, new->n_devices, sizeof *old->devices);
	c.dev_ba = invert(c.dev_ab, old->n_devices, new->n_devices);
	c.group_ab = match_by_name(old->groups, old->n_groups, new->groups, new->n_groups, sizeof *old->groups);
	/* VMs are looked up from the new side, the one they are reported in. */
	c.vm_ba = match_by_name(new->vms, new->n_vms, old->vms, old->n_vms, sizeof *old->vms);
	match_steps(&c);
	match_workgroups(&c);
	match_ops(&c);

	diff_plan(&c);
	diff_steps(&c);
	diff_devices(&c);
	diff_workgroups(&c);
	diff_vms(&c);
	diff_ops(&c);

	const struct dagdiff_stats *s = &c.st;
	bool differ = s->ops_added || s->ops_removed || s->ops_reordered || s->ops_changed || s->vms_added ||
	              s->vms_removed || s->vms_moved || s->other;
	if (differ) {
		buf_printf(out, "--- %s\n+++ %s\n", old_name ? old_name : "old", new_name ? new_name : "new");
		put_section(out, "plan", &c.plan);
		put_section(out, "steps", &c.steps);
		put_section(out, "devices", &c.devices);
		put_section(out, "workgroups", &c.workgroups);
		put_section(out, "VMs", &c.vms);
		put_section(out, "operations", &c.ops);
		put_summary(out, s);
	}
	if (stats)
		*stats = c.st;
	buf_free(&c.plan);
	buf_free(&c.steps);
	buf_free(&c.devices);
	buf_free(&c.workgroups);
	buf_free(&c.vms);
	buf_free(&c.ops);
	free(c.step_ab);
	free(c.step_ba);
	free(c.site_ab);
	free(c.dev_ab);
	free(c.dev_ba);
	free(c.group_ab);
	free(c.vm_ba);
	free(c.wg_ab);
	free(c.wg_ba);
	free(c.op_ab);
	free(c.op_ba);
	return differ;
}
