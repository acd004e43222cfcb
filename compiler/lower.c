/* lower.c: turns one validated plan into its DAG. First the world the plan touches is copied in name
 * order (so that reordering declarations changes nothing), then VMs are grouped into workgroups,
 * then each step becomes operations and edges, in step order, so that an operation's index is
 * always larger than its predecessors'. */
#include "lower.h"

#include <stdlib.h>
#include <string.h>

#include "../lib/alloc.h"
#include "../lib/strmap.h"

struct lowering {
	const struct model *m;
	const struct model_plan *plan;
	struct dag *d;
	uint32_t *site_of, *host_of, *device_of, *group_of; /* model index -> DAG index, or DAG_NONE */
	uint32_t *workgroup_of_vm;     /* model VM -> workgroup, or DAG_NONE if not in the plan */
	uint32_t *recovery_hosts;      /* model hosts at the plan's `to`, by name: where VMs are placed */
	uint32_t n_recovery_hosts;
	/* Per DAG device: its last operation, the sync, the failover or snapshot covering it, the prefer. */
	uint32_t *dev_last, *dev_sync, *dev_unit, *dev_prefer;
	/* Per workgroup: its last operation, and those that others wait for. */
	uint32_t *wg_last, *wg_shutdown, *wg_register, *wg_power_on;
	uint32_t *wg_unregister;       /* cleanup: per workgroup, its unregister */
	uint8_t *has_succ;             /* per operation: something waits for it */
	uint32_t cap_has_succ;
	uint32_t barrier;              /* the last plan-wide operation, or DAG_NONE */
};

/* ---- The world, in name order. */

static const struct model *sort_model;

static int by_site_name(const void *a, const void *b)
{
	return strcmp(sort_model->sites[*(const uint32_t *)a].name, sort_model->sites[*(const uint32_t *)b].name);
}

static int by_host_name(const void *a, const void *b)
{
	return strcmp(sort_model->hosts[*(const uint32_t *)a].name, sort_model->hosts[*(const uint32_t *)b].name);
}

static int by_device_name(const void *a, const void *b)
{
	return strcmp(sort_model->devices[*(const uint32_t *)a].name, sort_model->devices[*(const uint32_t *)b].name);
}

static int by_group_name(const void *a, const void *b)
{
	return strcmp(sort_model->groups[*(const uint32_t *)a].name, sort_model->groups[*(const uint32_t *)b].name);
}

static int by_vm_name(const void *a, const void *b)
{
	return strcmp(sort_model->vms[*(const uint32_t *)a].name, sort_model->vms[*(const uint32_t *)b].name);
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int by_index(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Sorts the model indices `chosen[0..n)` by name and numbers them: map[model index] = position. */
static void number_by_name(uint32_t *chosen, uint32_t n, uint32_t *map, int (*cmp)(const void *, const void *))
{
	qsort(chosen, n, sizeof *chosen, cmp);
	for (uint32_t i = 0; i < n; i++)
		map[chosen[i]] = i;
}

static uint32_t *none_filled(uint32_t n)
{
	uint32_t *a = xmalloc((n ? n : 1) * sizeof *a);
	memset(a, 0xff, (n ? n : 1) * sizeof *a);
	return a;
}

static bool vm_in_plan(const struct model_plan *plan, const struct model_vm *vm)
{
	for (uint32_t k = 0; k < vm->n_devices; k++)
		if (plan->covered[vm->devices[k]])
			return true;
	return false;
}

/* A site's adapter and its settings, values in the compiled plan's spelling (dag.h). */
static void copy_adapter(struct dag *d, struct dag_site *site, const struct ast_adapter *a)
{
	site->adapter = a->kind.text;
	uint32_t n = 0;
	for (const struct ast_setting *s = a->settings; s; s = s->next)
		n++;
	struct dag_setting *out = arena_alloc(&d->arena, (n + 1) * sizeof *out);
	struct buf v = BUF_INIT;
	for (const struct ast_setting *s = a->settings; s; s = s->next, site->n_settings++) {
		buf_clear(&v);
		switch (s->value.kind) {
		case AST_VALUE_STRING: buf_append(&v, s->value.string.text, s->value.string.len); break;
		case AST_VALUE_NAME: buf_append(&v, s->value.name.text, s->value.name.len); break;
		case AST_VALUE_NUMBER: buf_printf(&v, "%lld", (long long)s->value.number.value); break;
		case AST_VALUE_DURATION: buf_printf(&v, "%lldms", (long long)s->value.duration.ms); break;
		}
		out[site->n_settings] = (struct dag_setting){s->key.text, arena_strndup(&d->arena, v.data ? v.data : "", v.len)};
	}
	buf_free(&v);
	site->settings = out;
}

/* Every site of the model, by name, with its adapter; site_of[model site] = its index in d. */
static void copy_sites(const struct model *m, struct dag *d, uint32_t *site_of)
{
	sort_model = m;
	uint32_t *chosen = xmalloc(((size_t)m->n_sites + 1) * sizeof *chosen);
	for (uint32_t i = 0; i < m->n_sites; i++)
		chosen[i] = i;
	number_by_name(chosen, m->n_sites, site_of, by_site_name);
	d->n_sites = m->n_sites;
	d->sites = arena_alloc(&d->arena, (d->n_sites + 1) * sizeof *d->sites);
	for (uint32_t i = 0; i < d->n_sites; i++) {
		d->sites[i].name = m->sites[chosen[i]].name;
		const struct ast_item *decl = m->sites[chosen[i]].decl;
		if (decl && decl->u.site_adapters)
			copy_adapter(d, &d->sites[i], decl->u.site_adapters);
	}
	free(chosen);
}

void lower_sites(const struct model *m, struct dag *d)
{
	uint32_t *site_of = none_filled(m->n_sites);
	copy_sites(m, d, site_of);
	free(site_of);
	dag_finish(d);
}

static void copy_world(struct lowering *l, const uint32_t *plan_vms, uint32_t n_plan_vms)
{
	const struct model *m = l->m;
	struct dag *d = l->d;
	sort_model = m;
	uint32_t *chosen = xmalloc(((size_t)m->n_sites + m->n_hosts + m->n_devices + m->n_groups + 1) * sizeof *chosen);

	l->site_of = none_filled(m->n_sites);
	copy_sites(m, d, l->site_of);

	uint32_t n = 0;
	for (uint32_t i = 0; i < m->n_devices; i++)
		if (l->plan->covered[i])
			chosen[n++] = i;
	l->device_of = none_filled(m->n_devices);
	number_by_name(chosen, n, l->device_of, by_device_name);
	d->n_devices = n;
	d->devices = arena_alloc(&d->arena, (n + 1) * sizeof *d->devices);
	for (uint32_t i = 0; i < n; i++) {
		const struct model_device *md = &m->devices[chosen[i]];
		d->devices[i] = (struct dag_device){
			.name = md->name,
			.peer = md->kind == AST_DEVICE_STRETCHED ? md->name : md->peer,
			.kind = md->kind == AST_DEVICE_STRETCHED ? DAG_STRETCHED : DAG_REPLICATED,
			.site = md->site == MODEL_NONE ? DAG_NONE : l->site_of[md->site],
			.peer_site = md->peer_site == MODEL_NONE ? DAG_NONE : l->site_of[md->peer_site],
			.group = DAG_NONE, /* set below */
			.prefer = md->prefer == MODEL_NONE ? DAG_NONE : l->site_of[md->prefer],
		};
	}

	/* Consistency groups with a device in the plan (validation made sure it has them all). */
	n = 0;
	bool *used = xcalloc(m->n_groups + 1, sizeof *used);
	for (uint32_t i = 0; i < m->n_devices; i++)
		if (l->plan->covered[i] && m->devices[i].consistency != MODEL_NONE && !used[m->devices[i].consistency]) {
			used[m->devices[i].consistency] = true;
			chosen[n++] = m->devices[i].consistency;
		}
	free(used);
	l->group_of = none_filled(m->n_groups);
	number_by_name(chosen, n, l->group_of, by_group_name);
	d->n_groups = n;
	d->groups = arena_alloc(&d->arena, (n + 1) * sizeof *d->groups);
	for (uint32_t g = 0; g < n; g++) {
		const struct model_cgroup *mg = &m->groups[chosen[g]];
		struct dag_group *dg = &d->groups[g];
		dg->name = mg->name;
		dg->devices = arena_alloc(&d->arena, (mg->n_devices + 1) * sizeof *dg->devices);
		for (uint32_t k = 0; k < mg->n_devices; k++) {
			uint32_t dev = l->device_of[mg->devices[k]];
			if (dev == DAG_NONE)
				continue;
			dg->devices[dg->n_devices++] = dev;
			d->devices[dev].group = g;
		}
		qsort(dg->devices, dg->n_devices, sizeof *dg->devices, by_index);
	}

	/* Hosts of the plan's VMs, and the recovery hosts that placement will use (place_vms). */
	bool *host_used = xcalloc(m->n_hosts + 1, sizeof *host_used);
	n = 0;
	for (uint32_t i = 0; i < n_plan_vms; i++) {
		uint32_t h = m->vms[plan_vms[i]].host;
		if (h != MODEL_NONE && !host_used[h]) {
			host_used[h] = true;
			chosen[n++] = h;
		}
	}
	l->recovery_hosts = xmalloc(((size_t)m->n_hosts + 1) * sizeof *l->recovery_hosts);
	l->n_recovery_hosts = 0;
	if (l->plan->to != MODEL_NONE && l->plan->mode != AST_MODE_REPROTECT && n_plan_vms > 0) {
		for (uint32_t h = 0; h < m->n_hosts; h++)
			if (m->hosts[h].site == l->plan->to)
				l->recovery_hosts[l->n_recovery_hosts++] = h;
		qsort(l->recovery_hosts, l->n_recovery_hosts, sizeof *l->recovery_hosts, by_host_name);
		/* Round-robin uses the first min(hosts, VMs) of them: only those enter the table. */
		for (uint32_t i = 0; i < l->n_recovery_hosts && i < n_plan_vms; i++) {
			uint32_t h = l->recovery_hosts[i];
			if (!host_used[h]) {
				host_used[h] = true;
				chosen[n++] = h;
			}
		}
	}
	free(host_used);
	l->host_of = none_filled(m->n_hosts);
	number_by_name(chosen, n, l->host_of, by_host_name);
	d->n_hosts = n;
	d->hosts = arena_alloc(&d->arena, (n + 1) * sizeof *d->hosts);
	for (uint32_t i = 0; i < n; i++) {
		const struct model_host *mh = &m->hosts[chosen[i]];
		d->hosts[i] = (struct dag_host){mh->name, mh->site == MODEL_NONE ? DAG_NONE : l->site_of[mh->site]};
	}
	free(chosen);
}

/* ---- Workgroups. */

/* VMs that move together: the grouping key, and where its VMs go. */
struct vm_group {
	int32_t priority;
	uint32_t level;                /* depth of `after` chains within the priority */
	uint32_t live;
	uint32_t devset;
	uint32_t count, first;
};

struct devset {
	uint32_t *devices;             /* DAG device indices, ascending (= by name) */
	uint32_t n;
};

static struct {
	const struct vm_group *groups;
	const struct devset *devsets;
} group_sort;

static int by_group_key(const void *a, const void *b)
{
	const struct vm_group *x = &group_sort.groups[*(const uint32_t *)a];
	const struct vm_group *y = &group_sort.groups[*(const uint32_t *)b];
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	if (x->level != y->level)
		return x->level < y->level ? -1 : 1;
	if (x->live != y->live)
		return x->live < y->live ? -1 : 1;
	const struct devset *p = &group_sort.devsets[x->devset], *q = &group_sort.devsets[y->devset];
	for (uint32_t k = 0; k < p->n && k < q->n; k++)
		if (p->devices[k] != q->devices[k])
			return p->devices[k] < q->devices[k] ? -1 : 1;
	return (p->n > q->n) - (p->n < q->n);
}

/* The depth of each plan VM in the `after` relation restricted to its own priority: a VM that waits
 * for another of the same priority must be in a later workgroup. Iterative, as chains can be long;
 * validation has rejected cycles, and a VM met again on the stack counts as depth 0 regardless. */
static uint32_t *after_levels(const struct model *m, const uint32_t *plan_vms, uint32_t n_plan_vms,
                              const uint32_t *in_plan)
{
	uint32_t *level = xcalloc(m->n_vms + 1, sizeof *level);
	uint8_t *state = xcalloc(m->n_vms + 1, 1); /* 0 new, 1 on the stack, 2 done */
	uint32_t *stack = NULL;
	size_t depth = 0, cap = 0;
	for (uint32_t i = 0; i < n_plan_vms; i++) {
		uint32_t root = plan_vms[i];
		if (state[root] || !m->vms[root].afters) {
			state[root] = 2;
			continue;
		}
		if (depth == cap) {
			cap = cap ? cap * 2 : 64;
			stack = xrealloc(stack, cap * sizeof *stack);
		}
		stack[depth++] = root;
		state[root] = 1;
		while (depth > 0) {
			uint32_t v = stack[depth - 1];
			const struct model_vm *vm = &m->vms[v];
			bool pushed = false;
			uint32_t deepest = 0;
			for (const struct model_vm_after *a = vm->afters; a && !pushed; a = a->next) {
				const struct model_after *after = &m->afters[a->after];
				for (uint32_t k = 0; k < after->n_targets; k++) {
					uint32_t t = after->targets[k];
					if (in_plan[t] == DAG_NONE || m->vms[t].priority != vm->priority || t == v)
						continue;
					if (state[t] == 0) {
						if (depth == cap) {
							cap *= 2;
							stack = xrealloc(stack, cap * sizeof *stack);
						}
						stack[depth++] = t;
						state[t] = 1;
						pushed = true;
						break;
					}
					if (state[t] == 2 && level[t] + 1 > deepest)
						deepest = level[t] + 1;
				}
			}
			if (pushed)
				continue;
			level[v] = deepest;
			state[v] = 2;
			depth--;
		}
	}
	free(stack);
	free(state);
	return level;
}

/* Inserts a DAG device into a sorted device set of n, once; returns the new size. */
static uint32_t devset_add(uint32_t *key, uint32_t n, uint32_t dev)
{
	if (dev == DAG_NONE)
		return n;
	uint32_t j = n;
	while (j > 0 && key[j - 1] > dev)
		j--;
	if (j > 0 && key[j - 1] == dev)
		return n;
	memmove(key + j + 1, key + j, (n - j) * sizeof *key);
	key[j] = dev;
	return n + 1;
}

static void form_workgroups(struct lowering *l, const uint32_t *plan_vms, uint32_t n_plan_vms)
{
	const struct model *m = l->m;
	struct dag *d = l->d;
	uint32_t size = d->workgroup_size;
	l->workgroup_of_vm = none_filled(m->n_vms);
	/* in_plan marks plan VMs until workgroup_of_vm takes over below. */
	for (uint32_t i = 0; i < n_plan_vms; i++)
		l->workgroup_of_vm[plan_vms[i]] = 0;
	uint32_t *level = after_levels(m, plan_vms, n_plan_vms, l->workgroup_of_vm);

	/* Intern device sets and grouping keys. Consecutive VMs usually share both (inventories list
	 * a device's VMs together), so the previous VM's answer is tried first. */
	struct strmap devset_ids, group_ids;
	strmap_init(&devset_ids);
	strmap_init(&group_ids);
	struct devset *devsets = NULL;
	struct vm_group *groups = NULL;
	uint32_t n_devsets = 0, cap_devsets = 0, n_groups = 0, cap_groups = 0;
	uint32_t *group_of_vm = xmalloc((n_plan_vms + 1) * sizeof *group_of_vm);
	uint32_t key[64];
	struct vm_group prev = {.devset = DAG_NONE};
	uint32_t prev_n = 0, prev_group = DAG_NONE;
	uint32_t prev_key[64];
	for (uint32_t i = 0; i < n_plan_vms; i++) {
		const struct model_vm *vm = &m->vms[plan_vms[i]];
		/* Its devices, as sorted DAG indices (a VM has a handful: insertion sort). */
		uint32_t n = 0;
		for (uint32_t k = 0; k < vm->n_devices && n < 64; k++)
			n = devset_add(key, n, l->device_of[vm->devices[k]]);
		/* A VM being moved needs both copies recovered before its register: both devices. */
		uint32_t mg = m->vm_migration ? m->vm_migration[plan_vms[i]] : MODEL_NONE;
		if (mg != MODEL_NONE && n < 63) {
			n = devset_add(key, n, l->device_of[m->migrations[mg].from]);
			n = devset_add(key, n, l->device_of[m->migrations[mg].to]);
		}
		struct vm_group g = {vm->priority, level[plan_vms[i]], vm->live, DAG_NONE, 0, 0};
		if (prev_group != DAG_NONE && n == prev_n && memcmp(key, prev_key, n * sizeof *key) == 0 &&
		    g.priority == prev.priority && g.level == prev.level && g.live == prev.live) {
			group_of_vm[i] = prev_group;
			groups[prev_group].count++;
			continue;
		}
		uint32_t ds = strmap_get(&devset_ids, (const char *)key, n * sizeof *key);
		if (ds == STRMAP_NONE) {
			if (n_devsets == cap_devsets) {
				cap_devsets = cap_devsets ? cap_devsets * 2 : 64;
				devsets = xrealloc(devsets, cap_devsets * sizeof *devsets);
			}
			uint32_t *copy = arena_alloc(&d->arena, (n + 1) * sizeof *copy);
			memcpy(copy, key, n * sizeof *key);
			devsets[n_devsets] = (struct devset){copy, n};
			ds = strmap_put(&devset_ids, (const char *)copy, n * sizeof *copy, n_devsets++);
		}
		g.devset = ds;
		uint32_t packed[4] = {(uint32_t)g.priority, g.level, g.live, g.devset};
		uint32_t gi = strmap_get(&group_ids, (const char *)packed, sizeof packed);
		if (gi == STRMAP_NONE) {
			if (n_groups == cap_groups) {
				cap_groups = cap_groups ? cap_groups * 2 : 64;
				groups = xrealloc(groups, cap_groups * sizeof *groups);
			}
			uint32_t *stored = arena_alloc(&d->arena, sizeof packed);
			memcpy(stored, packed, sizeof packed);
			groups[n_groups] = g;
			gi = strmap_put(&group_ids, (const char *)stored, sizeof packed, n_groups++);
		}
		groups[gi].count++;
		group_of_vm[i] = gi;
		prev = g;
		prev_n = n;
		prev_group = gi;
		memcpy(prev_key, key, n * sizeof *key);
	}
	strmap_free(&devset_ids);
	strmap_free(&group_ids);
	free(level);

	/* Groups in key order; each group's VMs by name; then cut. */
	uint32_t *order = xmalloc((n_groups + 1) * sizeof *order);
	for (uint32_t g = 0; g < n_groups; g++)
		order[g] = g;
	group_sort.groups = groups;
	group_sort.devsets = devsets;
	qsort(order, n_groups, sizeof *order, by_group_key);
	uint32_t first = 0, n_workgroups = 0;
	for (uint32_t k = 0; k < n_groups; k++) {
		struct vm_group *g = &groups[order[k]];
		g->first = first;
		first += g->count;
		n_workgroups += (g->count + size - 1) / size;
		g->count = 0; /* refilled below */
	}
	uint32_t *by_group = xmalloc((n_plan_vms + 1) * sizeof *by_group);
	for (uint32_t i = 0; i < n_plan_vms; i++) {
		struct vm_group *g = &groups[group_of_vm[i]];
		by_group[g->first + g->count++] = plan_vms[i];
	}
	free(group_of_vm);

	sort_model = m;
	d->n_vms = n_plan_vms;
	d->vms = arena_alloc(&d->arena, ((size_t)n_plan_vms + 1) * sizeof *d->vms);
	d->n_workgroups = n_workgroups;
	d->workgroups = arena_alloc(&d->arena, ((size_t)n_workgroups + 1) * sizeof *d->workgroups);
	/* The records of the plan's VMs, filled in DAG VM order below (groups are in `first` order). */
	uint32_t n_migrations = 0;
	for (uint32_t i = 0; i < n_plan_vms && m->vm_migration; i++)
		n_migrations += m->vm_migration[plan_vms[i]] != MODEL_NONE;
	d->migrations = arena_alloc(&d->arena, ((size_t)n_migrations + 1) * sizeof *d->migrations);
	uint32_t w = 0;
	for (uint32_t k = 0; k < n_groups; k++) {
		const struct vm_group *g = &groups[order[k]];
		uint32_t *vms = by_group + g->first;
		qsort(vms, g->count, sizeof *vms, by_vm_name);
		for (uint32_t start = 0; start < g->count; start += size, w++) {
			uint32_t count = g->count - start < size ? g->count - start : size;
			d->workgroups[w] = (struct dag_workgroup){
				.priority = g->priority, .live = g->live, .first_vm = g->first + start, .n_vms = count,
				.devices = devsets[g->devset].devices, .n_devices = devsets[g->devset].n,
			};
			for (uint32_t j = 0; j < count; j++) {
				uint32_t v = vms[start + j];
				const struct model_vm *vm = &m->vms[v];
				d->vms[g->first + start + j] = (struct dag_vm){
					.name = vm->name, .host = vm->host == MODEL_NONE ? DAG_NONE : l->host_of[vm->host],
					.workgroup = w,
				};
				l->workgroup_of_vm[v] = w;
				uint32_t mg = n_migrations ? m->vm_migration[v] : MODEL_NONE;
				/* Both devices are the plan's once validation passed (DRP059). */
				if (mg != MODEL_NONE && l->device_of[m->migrations[mg].from] != DAG_NONE &&
				    l->device_of[m->migrations[mg].to] != DAG_NONE) {
					const struct model_migration *rec = &m->migrations[mg];
					d->migrations[d->n_migrations++] = (struct dag_migration){
						g->first + start + j, l->device_of[rec->from], l->device_of[rec->to],
						rec->completed ? DAG_MIGRATION_COMPLETED : DAG_MIGRATION_IN_PROGRESS,
					};
				}
			}
		}
	}
	free(by_group);
	free(order);
	free(groups);
	free(devsets);
}

/* ---- Placement. */

/* Places each VM on a recovery host: the hosts the inventory lists at the plan's `to`, by name,
 * dealt round-robin in the order of dag.vms (workgroups in order, each one's VMs by name). That
 * order and the hosts' follow from names only, so the same plan always places the same way,
 * whatever the order of its declarations, and the VMs spread evenly. A cleanup places like the test
 * it undoes (the same VMs in the same order), so its shutdown and unregister find the test's VMs on
 * the hosts the test put them on. Placement is not pinned: no rule or inventory field chooses a
 * VM's recovery host. The DAG keeps the hosts in dealing order (dag.placement, as many as there are
 * VMs at most), and dag_vm_to_host deals: the compiled plan writes the list once, not a host per VM. */
static void place_vms(struct lowering *l)
{
	struct dag *d = l->d;
	uint32_t n = l->n_recovery_hosts < d->n_vms ? l->n_recovery_hosts : d->n_vms;
	if (n == 0)
		return;
	d->placement = arena_alloc(&d->arena, n * sizeof *d->placement);
	for (uint32_t i = 0; i < n; i++)
		d->placement[i] = l->host_of[l->recovery_hosts[i]];
	d->n_placement = n;
}

/* ---- Steps and limits. */

static bool plan_has_stretched(const struct dag *d)
{
	for (uint32_t i = 0; i < d->n_devices; i++)
		if (d->devices[i].kind == DAG_STRETCHED)
			return true;
	return false;
}

static void copy_steps(struct lowering *l, struct src_set *sources, struct diag_list *diags)
{
	const struct model_plan *plan = l->plan;
	struct dag *d = l->d;
	bool has_prefer = false, has_migrate = false;
	for (uint32_t i = 0; i < plan->n_steps; i++) {
		has_prefer |= plan->steps[i].kind == AST_STEP_PREFER;
		has_migrate |= plan->steps[i].kind == AST_STEP_MIGRATE;
	}
	bool insert_prefer = has_migrate && !has_prefer && plan_has_stretched(d) && plan->to != MODEL_NONE;
	d->steps = arena_alloc(&d->arena, (plan->n_steps + 2) * sizeof *d->steps);
	for (uint32_t i = 0; i < plan->n_steps; i++) {
		const struct model_step *ms = &plan->steps[i];
		const struct ast_stmt *stmt = ms->stmt;
		const struct ast_step *s = &stmt->u.step;
		if (ms->kind == AST_STEP_MIGRATE && insert_prefer) {
			const char *to = l->m->sites[plan->to].name;
			d->steps[d->n_steps++] = (struct dag_step){
				.kind = AST_STEP_PREFER, .inserted = true, .site = l->site_of[plan->to],
			};
			struct diag *note = diag_add(diags, DIAG_NOTE, DRP048, stmt->at,
			                             "no 'step prefer' before 'step migrate live': inserted 'step prefer %s' "
			                             "before it",
			                             to);
			diag_hint(note, "a live migration never starts before the preference of its stretched devices has "
			                "switched; write 'step prefer %s' to make this explicit",
			          to);
			insert_prefer = false;
		}
		struct src_file *f = src_get(sources, stmt->at.file);
		d->steps[d->n_steps++] = (struct dag_step){
			.kind = ms->kind,
			.by_priority = s->by_priority,
			.per_workgroup = s->per_workgroup,
			.site = ms->site == MODEL_NONE ? DAG_NONE : l->site_of[ms->site],
			.text = s->text.text,
			.wait_ms = s->wait.present ? s->wait.ms : 0,
			.timeout_ms = s->timeout.present ? s->timeout.ms : 0,
			.retries = s->retries.present ? (uint32_t)s->retries.value : 0,
			.backoff_ms = s->backoff.present ? s->backoff.ms : 0,
			.line = f ? src_position(f, stmt->at.start).line : 0,
		};
	}
}

static void copy_limits(struct lowering *l)
{
	const struct model_plan *plan = l->plan;
	struct dag *d = l->d;
	d->limits = arena_alloc(&d->arena, (plan->n_limits + 1) * sizeof *d->limits);
	for (uint32_t i = 0; i < plan->n_limits; i++) {
		const struct model_limit *ml = &plan->limits[i];
		uint32_t kind = DAG_LIMIT_ALL;
		for (uint32_t k = 0; ast_operation_names[k]; k++)
			if (strcmp(ast_operation_names[k], ml->operation) == 0)
				kind = k; /* "all" is the word after the ten kinds: DAG_LIMIT_ALL */
		enum dag_scope scope = DAG_SCOPE_PLAN;
		for (uint32_t k = 1; ml->scope && dag_scope_names[k]; k++)
			if (strcmp(dag_scope_names[k], ml->scope) == 0)
				scope = (enum dag_scope)k;
		d->limits[d->n_limits++] = (struct dag_limit){kind, scope, ml->count};
	}
}

/* ---- Operations and edges. */

static uint32_t add_op(struct lowering *l, enum dag_op_kind kind, enum dag_target target_kind, uint32_t target,
                       uint32_t step, uint32_t site, unsigned flags)
{
	uint32_t op = dag_add_op(l->d, kind, target_kind, target, step, site, flags);
	if (op >= l->cap_has_succ) {
		uint32_t cap = l->cap_has_succ ? l->cap_has_succ * 2 : 1024;
		l->has_succ = xrealloc(l->has_succ, cap);
		memset(l->has_succ + l->cap_has_succ, 0, cap - l->cap_has_succ);
		l->cap_has_succ = cap;
	}
	return op;
}

static void edge(struct lowering *l, uint32_t from, uint32_t to, enum dag_edge_kind kind)
{
	if (from == DAG_NONE)
		return;
	dag_add_edge(l->d, from, to, kind);
	l->has_succ[from] = 1;
}

/* `op` comes after `prev`, the previous operation of its workgroup or device (DAG_NONE if none).
 * If the last plan-wide operation came after prev, op waits for that instead (prev is before it). */
static void follow(struct lowering *l, uint32_t op, uint32_t prev, enum dag_edge_kind kind)
{
	if (l->barrier != DAG_NONE && (prev == DAG_NONE || prev < l->barrier))
		edge(l, l->barrier, op, DAG_EDGE_BARRIER);
	else
		edge(l, prev, op, kind);
}

static unsigned best_effort(const struct lowering *l)
{
	return l->plan->mode == AST_MODE_DISASTER ? DAG_BEST_EFFORT : 0;
}

static void lower_sync(struct lowering *l, uint32_t step)
{
	struct dag *d = l->d;
	for (uint32_t i = 0; i < d->n_devices; i++) {
		if (d->devices[i].kind != DAG_REPLICATED)
			continue;
		uint32_t op = add_op(l, DAG_SYNC, DAG_TARGET_DEVICE, i, step, d->devices[i].site, best_effort(l));
		follow(l, op, l->dev_last[i], DAG_EDGE_STEP);
		l->dev_last[i] = l->dev_sync[i] = op;
	}
}

/* Adds the operation of kind `kind` that covers replicated device *i: one for its consistency
 * group (whose devices it returns in *members), or one for the device alone. */
static uint32_t add_unit_op(struct lowering *l, enum dag_op_kind kind, uint32_t step, const uint32_t *i,
                            const uint32_t **members, uint32_t *n_members)
{
	const struct dag *d = l->d;
	const struct dag_device *dev = &d->devices[*i];
	if (dev->group != DAG_NONE) {
		*members = d->groups[dev->group].devices;
		*n_members = d->groups[dev->group].n_devices;
		return add_op(l, kind, DAG_TARGET_GROUP, dev->group, step, dev->peer_site, 0);
	}
	*members = i;
	*n_members = 1;
	return add_op(l, kind, DAG_TARGET_DEVICE, *i, step, dev->peer_site, 0);
}

/* Each workgroup's operation wg_op[w] (a shutdown, an unregister) before the unit operations made
 * since first_op (unit[device]) on its devices. */
static void unit_edges(struct lowering *l, const uint32_t *wg_op, const uint32_t *unit, uint32_t first_op,
                       enum dag_edge_kind kind)
{
	const struct dag *d = l->d;
	for (uint32_t w = 0; w < d->n_workgroups; w++) {
		if (wg_op[w] == DAG_NONE)
			continue;
		const struct dag_workgroup *wg = &d->workgroups[w];
		for (uint32_t k = 0; k < wg->n_devices; k++) {
			uint32_t u = unit[wg->devices[k]];
			if (u != DAG_NONE && u >= first_op)
				edge(l, wg_op[w], u, kind);
		}
	}
}

/* One failover (or test snapshot) per consistency group and per replicated device outside one. */
static void lower_failover(struct lowering *l, uint32_t step)
{
	struct dag *d = l->d;
	enum dag_op_kind kind = l->plan->mode == AST_MODE_TEST ? DAG_SNAPSHOT : DAG_FAILOVER;
	uint32_t first_op = d->n_ops;
	for (uint32_t i = 0; i < d->n_devices; i++) {
		const struct dag_device *dev = &d->devices[i];
		if (dev->kind != DAG_REPLICATED || (l->dev_unit[i] != DAG_NONE && l->dev_unit[i] >= first_op))
			continue;
		const uint32_t *members;
		uint32_t n_members, op = add_unit_op(l, kind, step, &i, &members, &n_members);
		for (uint32_t k = 0; k < n_members; k++) {
			uint32_t e = members[k];
			bool after_sync = l->dev_last[e] != DAG_NONE && l->dev_last[e] == l->dev_sync[e];
			follow(l, op, l->dev_last[e], after_sync ? DAG_EDGE_SYNC : DAG_EDGE_STEP);
			l->dev_last[e] = l->dev_unit[e] = op;
		}
	}
	/* The guests on a device are shut down before it fails over. */
	unit_edges(l, l->wg_shutdown, l->dev_unit, first_op, DAG_EDGE_SHUTDOWN);
}

/* Cleanup: one discard per consistency group and per replicated device outside one (as the test's
 * snapshots were taken), each after the unregister of every workgroup on its devices: a snapshot
 * goes only once no test VM registered on it remains. */
static void lower_discard(struct lowering *l, uint32_t step)
{
	struct dag *d = l->d;
	uint32_t first_op = d->n_ops;
	uint32_t *unit = none_filled(d->n_devices); /* the discard covering each device */
	for (uint32_t i = 0; i < d->n_devices; i++) {
		if (d->devices[i].kind != DAG_REPLICATED || unit[i] != DAG_NONE)
			continue;
		const uint32_t *members;
		uint32_t n_members, op = add_unit_op(l, DAG_DISCARD, step, &i, &members, &n_members);
		for (uint32_t k = 0; k < n_members; k++) {
			follow(l, op, l->dev_last[members[k]], DAG_EDGE_STEP);
			l->dev_last[members[k]] = unit[members[k]] = op;
		}
	}
	unit_edges(l, l->wg_unregister, unit, first_op, DAG_EDGE_UNREGISTER);
	free(unit);
}

static void lower_device_step(struct lowering *l, uint32_t step, enum dag_op_kind kind, enum dag_device_kind on)
{
	struct dag *d = l->d;
	const struct dag_step *s = &d->steps[step];
	for (uint32_t i = 0; i < d->n_devices; i++) {
		if (d->devices[i].kind != on)
			continue;
		uint32_t site = kind == DAG_PREFER ? s->site : d->devices[i].site;
		uint32_t op = add_op(l, kind, DAG_TARGET_DEVICE, i, step, site, 0);
		follow(l, op, l->dev_last[i], DAG_EDGE_STEP);
		l->dev_last[i] = op;
		if (kind == DAG_PREFER)
			l->dev_prefer[i] = op;
	}
}

/* register(W) or power-on(W) waits for the failover or snapshot of each replicated device under W. */
static void storage_edges(struct lowering *l, uint32_t w, uint32_t op)
{
	const struct dag_workgroup *wg = &l->d->workgroups[w];
	for (uint32_t k = 0; k < wg->n_devices; k++)
		edge(l, l->dev_unit[wg->devices[k]], op, DAG_EDGE_STORAGE);
}

static void lower_workgroup_step(struct lowering *l, uint32_t step)
{
	struct dag *d = l->d;
	const struct dag_step *s = &d->steps[step];
	uint32_t to = l->plan->to == MODEL_NONE ? DAG_NONE : l->site_of[l->plan->to];
	/* Power-on by priority: the power-ons of one priority wait for a gate that waits for every
	 * power-on of the priority before (workgroups come in priority order). */
	int32_t level_priority = 0;
	uint32_t level_first = DAG_NONE, level_end = DAG_NONE, gate = DAG_NONE;
	for (uint32_t w = 0; w < d->n_workgroups; w++) {
		const struct dag_workgroup *wg = &d->workgroups[w];
		uint32_t op;
		switch (s->kind) {
		case AST_STEP_SHUTDOWN:
			if (wg->live)
				continue;
			op = add_op(l, DAG_SHUTDOWN, DAG_TARGET_WORKGROUP, w, step, s->site, best_effort(l));
			follow(l, op, l->wg_last[w], DAG_EDGE_STEP);
			l->wg_shutdown[w] = op;
			break;
		case AST_STEP_MIGRATE:
			if (!wg->live)
				continue;
			op = add_op(l, DAG_MIGRATE, DAG_TARGET_WORKGROUP, w, step, to, 0);
			follow(l, op, l->wg_last[w], DAG_EDGE_STEP);
			for (uint32_t k = 0; k < wg->n_devices; k++)
				edge(l, l->dev_prefer[wg->devices[k]], op, DAG_EDGE_PREFER);
			break;
		case AST_STEP_REGISTER:
			if (wg->live)
				continue;
			op = add_op(l, DAG_REGISTER, DAG_TARGET_WORKGROUP, w, step, s->site, 0);
			follow(l, op, l->wg_last[w], DAG_EDGE_STEP);
			storage_edges(l, w, op);
			l->wg_register[w] = op;
			break;
		case AST_STEP_POWER_ON:
			if (wg->live)
				continue;
			if (s->by_priority && (level_first == DAG_NONE || wg->priority != level_priority)) {
				if (level_first != DAG_NONE) {
					gate = add_op(l, DAG_GATE, DAG_TARGET_PLAN, (uint32_t)wg->priority, step, DAG_NONE, 0);
					for (uint32_t p = level_first; p < level_end; p++)
						if (d->ops[p].kind == DAG_POWER_ON)
							edge(l, p, gate, DAG_EDGE_PRIORITY);
				}
				level_priority = wg->priority;
				level_first = d->n_ops;
			}
			op = add_op(l, DAG_POWER_ON, DAG_TARGET_WORKGROUP, w, step, to, 0);
			follow(l, op, l->wg_last[w], DAG_EDGE_STEP);
			if (l->wg_register[w] == DAG_NONE)
				storage_edges(l, w, op);
			edge(l, gate, op, DAG_EDGE_PRIORITY);
			level_end = d->n_ops;
			l->wg_power_on[w] = op;
			break;
		case AST_STEP_UNREGISTER:
			if (wg->live)
				continue;
			op = add_op(l, DAG_UNREGISTER, DAG_TARGET_WORKGROUP, w, step, s->site, 0);
			follow(l, op, l->wg_last[w], DAG_EDGE_STEP);
			l->wg_unregister[w] = op;
			break;
		case AST_STEP_RUN:
			op = add_op(l, DAG_RUN, DAG_TARGET_WORKGROUP, w, step, to, 0);
			follow(l, op, l->wg_last[w], DAG_EDGE_STEP);
			break;
		default:
			return;
		}
		l->wg_last[w] = op;
	}
}

/* A plan-wide step waits for everything since the previous one (its operations that nothing waits
 * for yet: the rest reach it through them), and everything after it waits for it (see follow). */
static void lower_plan_step(struct lowering *l, uint32_t step, enum dag_op_kind kind)
{
	uint32_t since = l->barrier == DAG_NONE ? 0 : l->barrier;
	uint32_t op = add_op(l, kind, DAG_TARGET_PLAN, 0, step, DAG_NONE, 0);
	for (uint32_t i = since; i < op; i++)
		if (!l->has_succ[i])
			edge(l, i, op, DAG_EDGE_BARRIER);
	l->barrier = op;
}

/* `after` dependencies: between the power-ons of the two VMs' workgroups. (A VM that migrates live
 * never stops, so its boot order has no meaning.) */
static void after_edges(struct lowering *l)
{
	const struct model *m = l->m;
	for (uint32_t v = 0; v < m->n_vms; v++) {
		uint32_t w = l->workgroup_of_vm[v];
		if (w == DAG_NONE || l->wg_power_on[w] == DAG_NONE)
			continue;
		for (const struct model_vm_after *a = m->vms[v].afters; a; a = a->next) {
			const struct model_after *after = &m->afters[a->after];
			for (uint32_t k = 0; k < after->n_targets; k++) {
				uint32_t tw = l->workgroup_of_vm[after->targets[k]];
				if (tw != DAG_NONE && tw != w && l->wg_power_on[tw] != DAG_NONE)
					edge(l, l->wg_power_on[tw], l->wg_power_on[w], DAG_EDGE_AFTER);
			}
		}
	}
}

void lower_plan(const struct model *m, uint32_t plan_index, struct src_set *sources, struct dag *d,
                struct diag_list *diags)
{
	const struct model_plan *plan = &m->plans[plan_index];
	struct lowering l = {.m = m, .plan = plan, .d = d, .barrier = DAG_NONE};
	d->name = plan->name;
	d->mode = plan->mode;
	d->workgroup_size = plan->workgroup ? plan->workgroup : LOWER_DEFAULT_WORKGROUP;
	d->rto_ms = plan->rto_ms;

	uint32_t n_plan_vms = 0;
	uint32_t *plan_vms = xmalloc(((size_t)m->n_vms + 1) * sizeof *plan_vms);
	for (uint32_t v = 0; v < m->n_vms; v++)
		if (vm_in_plan(plan, &m->vms[v]))
			plan_vms[n_plan_vms++] = v;
	copy_world(&l, plan_vms, n_plan_vms);
	d->protections = arena_alloc(&d->arena, (plan->n_protections + 1) * sizeof *d->protections);
	for (uint32_t i = 0; i < plan->n_protections; i++)
		d->protections[d->n_protections++] = m->protections[plan->protections[i]].name;
	qsort(d->protections, d->n_protections, sizeof *d->protections, by_string);
	d->from = plan->from == MODEL_NONE ? DAG_NONE : l.site_of[plan->from];
	d->to = plan->to == MODEL_NONE ? DAG_NONE : l.site_of[plan->to];
	form_workgroups(&l, plan_vms, n_plan_vms);
	free(plan_vms);
	place_vms(&l);
	copy_steps(&l, sources, diags);
	copy_limits(&l);

	/* At most one operation per device or workgroup and step, plus the gates, and a few edges each. */
	uint64_t most = 0;
	for (uint32_t s = 0; s < d->n_steps; s++)
		most += (uint64_t)d->n_devices + 2 * (uint64_t)d->n_workgroups + 1;
	most = most < UINT32_MAX / 4 ? most : UINT32_MAX / 4;
	dag_reserve(d, (uint32_t)most, 4 * (uint32_t)most);
	l.dev_last = none_filled(d->n_devices);
	l.dev_sync = none_filled(d->n_devices);
	l.dev_unit = none_filled(d->n_devices);
	l.dev_prefer = none_filled(d->n_devices);
	l.wg_last = none_filled(d->n_workgroups);
	l.wg_shutdown = none_filled(d->n_workgroups);
	l.wg_register = none_filled(d->n_workgroups);
	l.wg_power_on = none_filled(d->n_workgroups);
	l.wg_unregister = none_filled(d->n_workgroups);
	for (uint32_t s = 0; s < d->n_steps; s++) {
		const struct dag_step *step = &d->steps[s];
		switch (step->kind) {
		case AST_STEP_SYNC: lower_sync(&l, s); break;
		case AST_STEP_FAILOVER: lower_failover(&l, s); break;
		case AST_STEP_PREFER: lower_device_step(&l, s, DAG_PREFER, DAG_STRETCHED); break;
		case AST_STEP_REVERSE: lower_device_step(&l, s, DAG_REVERSE, DAG_REPLICATED); break;
		case AST_STEP_RUN:
			if (step->per_workgroup)
				lower_workgroup_step(&l, s);
			else
				lower_plan_step(&l, s, DAG_RUN);
			break;
		case AST_STEP_PROMPT: lower_plan_step(&l, s, DAG_PROMPT); break;
		case AST_STEP_WAIT: lower_plan_step(&l, s, DAG_WAIT); break;
		case AST_STEP_SHUTDOWN:
		case AST_STEP_MIGRATE:
		case AST_STEP_REGISTER:
		case AST_STEP_POWER_ON:
		case AST_STEP_UNREGISTER: lower_workgroup_step(&l, s); break;
		case AST_STEP_DISCARD: lower_discard(&l, s); break;
		}
	}
	after_edges(&l);
	dag_finish(d);

	free(l.site_of);
	free(l.host_of);
	free(l.recovery_hosts);
	free(l.device_of);
	free(l.group_of);
	free(l.workgroup_of_vm);
	free(l.dev_last);
	free(l.dev_sync);
	free(l.dev_unit);
	free(l.dev_prefer);
	free(l.wg_last);
	free(l.wg_shutdown);
	free(l.wg_register);
	free(l.wg_power_on);
	free(l.wg_unregister);
	free(l.has_succ);
}
