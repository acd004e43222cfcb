/* test_estimate.c: the limit counters (compiler/limits.c), the RTO estimate (compiler/estimate.c)
 * and latency profiles (compiler/latency.c), on hand-built DAGs: exact schedules of chains,
 * diamonds, limits per plan and per host and device, gates, prompts and waits; the critical path;
 * the lower bound; the fast simulation against a naive reference on random DAGs; 200,000 operations
 * in well under a second; and every DRP055 problem of a profile at its exact bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../compiler/estimate.h"
#include "../../compiler/latency.h"
#include "../../compiler/limits.h"
#include "../../lib/alloc.h"
#include "suites.h"

/* ---- Hand-built DAGs: every workgroup operation lasts one second per VM of its workgroup, so a
 * test picks an operation's duration by its workgroup's size. */

#define T_MAX_WG 4096
#define T_MAX_VMS 65536
#define T_STEPS 8

static const char *const host_names[] = {"esx-a", "esx-b", "esx-c", "esx-d"};

static void t_init(struct dag *d)
{
	dag_init(d);
	d->name = "t";
	d->sites = arena_alloc(&d->arena, 2 * sizeof *d->sites);
	d->sites[0].name = "east";
	d->sites[1].name = "west";
	d->n_sites = 2;
	d->from = 0;
	/* No recovery site: a `per host` limit counts the VMs' inventory hosts wherever an operation
	 * acts (test_per_host_recovery sets one, and places the VMs). */
	d->to = DAG_NONE;
	d->hosts = arena_alloc(&d->arena, 4 * sizeof *d->hosts);
	for (uint32_t h = 0; h < 4; h++)
		d->hosts[h] = (struct dag_host){host_names[h], 1};
	d->n_hosts = 4;
	d->devices = arena_alloc(&d->arena, 4 * sizeof *d->devices);
	static const char *const dev_names[] = {"lun-1", "lun-2", "lun-3", "lun-4"};
	for (uint32_t i = 0; i < 4; i++)
		d->devices[i] = (struct dag_device){dev_names[i], dev_names[i], DAG_REPLICATED, 0, 1, DAG_NONE, DAG_NONE};
	d->n_devices = 4;
	d->vms = arena_alloc(&d->arena, T_MAX_VMS * sizeof *d->vms);
	d->workgroups = arena_alloc(&d->arena, T_MAX_WG * sizeof *d->workgroups);
	d->steps = arena_alloc(&d->arena, T_STEPS * sizeof *d->steps);
	for (uint32_t s = 0; s < T_STEPS; s++)
		d->steps[s] = (struct dag_step){.kind = AST_STEP_POWER_ON, .site = DAG_NONE, .line = s + 1};
	d->n_steps = T_STEPS;
	d->limits = arena_alloc(&d->arena, 8 * sizeof *d->limits);
	memset(&d->latency, 0, sizeof d->latency);
	for (unsigned k = DAG_SHUTDOWN; k <= DAG_RUN; k++)
		if (k != DAG_PREFER)
			d->latency.per_vm_ms[k] = 1000;
}

static void t_limit(struct dag *d, uint32_t kind, enum dag_scope scope, uint32_t count)
{
	d->limits[d->n_limits++] = (struct dag_limit){kind, scope, count};
}

/* A workgroup of `secs` VMs on hosts (a bit mask of esx-a..esx-d, taken in turn), on `devices`. */
static uint32_t t_workgroup(struct dag *d, uint32_t secs, unsigned hosts, const uint32_t *devices, uint32_t n_devices)
{
	ck_assert_uint_lt(d->n_workgroups, T_MAX_WG);
	ck_assert_uint_le(d->n_vms + secs, T_MAX_VMS);
	uint32_t w = d->n_workgroups++;
	d->workgroups[w] = (struct dag_workgroup){.priority = 1, .first_vm = d->n_vms, .n_vms = secs,
	                                          .devices = devices, .n_devices = n_devices};
	uint32_t h = 0;
	for (uint32_t v = 0; v < secs; v++) {
		while (hosts && !(hosts & (1u << (h % 4))))
			h++;
		d->vms[d->n_vms++] = (struct dag_vm){"vm", hosts ? h % 4 : DAG_NONE, w};
		h++;
	}
	return w;
}

/* A workgroup operation lasting `secs` seconds (0 allowed: an empty workgroup). */
static uint32_t t_op_on(struct dag *d, enum dag_op_kind kind, uint32_t secs, unsigned hosts)
{
	uint32_t w = t_workgroup(d, secs, hosts, NULL, 0);
	return dag_add_op(d, kind, DAG_TARGET_WORKGROUP, w, 0, 1, 0);
}

static uint32_t t_op(struct dag *d, uint32_t secs)
{
	return t_op_on(d, DAG_POWER_ON, secs, 0);
}

static void t_edge(struct dag *d, uint32_t from, uint32_t to)
{
	dag_add_edge(d, from, to, DAG_EDGE_STEP);
}

static int64_t sec(int64_t s)
{
	return s * 1000;
}

static void assert_path(const struct estimate *e, const uint32_t *ops, uint32_t n)
{
	if (e->n_path != n)
		for (uint32_t i = 0; i < e->n_path; i++)
			fprintf(stderr, "  path[%u] = op %u\n", i, e->path[i].op);
	ck_assert_uint_eq(e->n_path, n);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_uint_eq(e->path[i].op, ops[i]);
}

/* ---- Limits */

START_TEST(test_limits_counters)
{
	struct dag d;
	t_init(&d);
	static const uint32_t devs12[] = {0, 1};
	uint32_t w0 = t_workgroup(&d, 3, 0x3, devs12, 2); /* VMs on esx-a, esx-b, esx-a */
	uint32_t w1 = t_workgroup(&d, 2, 0x4, devs12 + 1, 1);
	uint32_t a = dag_add_op(&d, DAG_POWER_ON, DAG_TARGET_WORKGROUP, w0, 0, 1, 0);
	uint32_t b = dag_add_op(&d, DAG_POWER_ON, DAG_TARGET_WORKGROUP, w1, 0, 1, 0);
	uint32_t f = dag_add_op(&d, DAG_FAILOVER, DAG_TARGET_DEVICE, 3, 0, 1, 0);
	uint32_t g = dag_add_op(&d, DAG_GATE, DAG_TARGET_PLAN, 1, 0, DAG_NONE, 0);
	uint32_t p = dag_add_op(&d, DAG_PROMPT, DAG_TARGET_PLAN, 0, 0, DAG_NONE, 0);
	dag_finish(&d);
	t_limit(&d, DAG_POWER_ON, DAG_SCOPE_HOST, 1);
	t_limit(&d, DAG_LIMIT_ALL, DAG_SCOPE_PLAN, 2);
	t_limit(&d, DAG_LIMIT_ALL, DAG_SCOPE_DEVICE, 5);
	t_limit(&d, DAG_SYNC, DAG_SCOPE_SITE, 1); /* counts nothing here: no counter */
	struct limits *l = limits_new(&d);
	/* power-on per host: esx-a, esx-b, esx-c; all: the plan; all per device: lun-1, lun-2, lun-4
	 * (nobody uses lun-3, so it has no counter). */
	ck_assert_uint_eq(limits_n_counters(l), 3 + 1 + 3);
	uint32_t n;
	const uint32_t *cs = limits_op_counters(l, a, &n);
	ck_assert_uint_eq(n, 2 + 1 + 2); /* two distinct hosts, the plan, two devices */
	struct buf b0 = BUF_INIT;
	limits_describe(&d, l, cs[0], &b0);
	ck_assert_str_eq(b0.data, "power-on 1 per host (esx-a)");
	buf_clear(&b0);
	limits_describe(&d, l, cs[2], &b0);
	ck_assert_str_eq(b0.data, "all 2");
	buf_clear(&b0);
	limits_describe(&d, l, cs[4], &b0);
	ck_assert_str_eq(b0.data, "all 5 per device (lun-2)");
	buf_free(&b0);
	limits_op_counters(l, f, &n);
	ck_assert_uint_eq(n, 2); /* the plan and lun-4 */
	limits_op_counters(l, g, &n);
	ck_assert_uint_eq(n, 0);
	limits_op_counters(l, p, &n);
	ck_assert_uint_eq(n, 0);
	/* The reverse index: the plan's counter counts the three operations that are not gate or prompt. */
	const uint32_t *ops = limits_counter_ops(l, cs[2], &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(ops[0], a);
	ck_assert_uint_eq(ops[1], b);
	ck_assert_uint_eq(ops[2], f);

	/* Admission: a and b share no host but the plan limit is 2; f then waits for the plan. */
	ck_assert(limits_admit(l, a));
	ck_assert(!limits_admit(l, a)); /* esx-a is full */
	ck_assert(limits_admit(l, b));
	ck_assert_uint_eq(limits_try(l, f), cs[2]);
	ck_assert_uint_eq(limits_counter(l, cs[2])->in_flight, 2);
	ck_assert(limits_admit(l, g)); /* gates never count */
	limits_release(l, a);
	ck_assert_uint_eq(limits_counter(l, cs[2])->in_flight, 1);
	ck_assert(limits_admit(l, f));
	limits_reset(l);
	ck_assert_uint_eq(limits_counter(l, cs[2])->in_flight, 0);
	limits_free(l);
	dag_free(&d);
}
END_TEST

START_TEST(test_limits_groups)
{
	struct dag d;
	t_init(&d);
	static uint32_t members[] = {1, 2};
	d.groups = arena_alloc(&d.arena, sizeof *d.groups);
	d.groups[0] = (struct dag_group){"cg", members, 2};
	d.n_groups = 1;
	uint32_t g = dag_add_op(&d, DAG_FAILOVER, DAG_TARGET_GROUP, 0, 0, 1, 0);
	uint32_t s = dag_add_op(&d, DAG_SYNC, DAG_TARGET_DEVICE, 2, 0, 0, 0);
	dag_finish(&d);
	t_limit(&d, DAG_LIMIT_ALL, DAG_SCOPE_DEVICE, 1);
	t_limit(&d, DAG_LIMIT_ALL, DAG_SCOPE_SITE, 4);
	struct limits *l = limits_new(&d);
	uint32_t n;
	limits_op_counters(l, g, &n);
	ck_assert_uint_eq(n, 2 + 1); /* lun-2, lun-3, west */
	ck_assert(limits_admit(l, g));
	ck_assert(!limits_admit(l, s)); /* lun-3 is busy with the group's failover */
	limits_release(l, g);
	ck_assert(limits_admit(l, s));
	limits_free(l);
	dag_free(&d);
}
END_TEST

/* ---- The estimate */

START_TEST(test_chain)
{
	struct dag d;
	t_init(&d);
	uint32_t a = t_op(&d, 3), b = t_op(&d, 2), c = t_op(&d, 4);
	t_edge(&d, a, b);
	t_edge(&d, b, c);
	dag_finish(&d);
	struct estimate e;
	ck_assert(estimate_run(&d, &e));
	ck_assert_int_eq(e.makespan_ms, sec(9));
	ck_assert_int_eq(e.start_ms[b], sec(3));
	ck_assert_int_eq(e.start_ms[c], sec(5));
	ck_assert_int_eq(e.finish_ms[c], sec(9));
	ck_assert_int_eq(e.bottom_ms[a], sec(9));
	ck_assert_int_eq(e.lower_bound_ms, sec(9));
	ck_assert_uint_eq(e.bound_counter, LIMITS_NONE);
	uint32_t path[] = {a, b, c};
	assert_path(&e, path, 3);
	for (uint32_t i = 0; i < 3; i++)
		ck_assert_uint_eq(e.path[i].waited, LIMITS_NONE);
	estimate_free(&e);
	dag_free(&d);
}
END_TEST

START_TEST(test_diamond)
{
	struct dag d;
	t_init(&d);
	uint32_t a = t_op(&d, 1), b = t_op(&d, 5), c = t_op(&d, 2), z = t_op(&d, 1);
	t_edge(&d, a, b);
	t_edge(&d, a, c);
	t_edge(&d, b, z);
	t_edge(&d, c, z);
	dag_finish(&d);
	struct estimate e;
	ck_assert(estimate_run(&d, &e));
	ck_assert_int_eq(e.makespan_ms, sec(7));
	ck_assert_int_eq(e.start_ms[c], sec(1));
	ck_assert_int_eq(e.ready_ms[z], sec(6));
	ck_assert_int_eq(e.start_ms[z], sec(6));
	ck_assert_int_eq(e.lower_bound_ms, e.makespan_ms);
	uint32_t path[] = {a, b, z};
	assert_path(&e, path, 3);
	estimate_free(&e);
	dag_free(&d);
}
END_TEST

/* A limit of one serialises independent operations, longest first; the path shows each wait. */
START_TEST(test_limit_one_serialises)
{
	struct dag d;
	t_init(&d);
	uint32_t o1 = t_op(&d, 1), o2 = t_op(&d, 2), o3 = t_op(&d, 3), o4 = t_op(&d, 4);
	dag_finish(&d);
	t_limit(&d, DAG_POWER_ON, DAG_SCOPE_PLAN, 1);
	struct estimate e;
	ck_assert(estimate_run(&d, &e));
	ck_assert_int_eq(e.makespan_ms, sec(10));
	ck_assert_int_eq(e.start_ms[o4], 0);
	ck_assert_int_eq(e.start_ms[o3], sec(4));
	ck_assert_int_eq(e.start_ms[o2], sec(7));
	ck_assert_int_eq(e.start_ms[o1], sec(9));
	ck_assert_int_eq(e.longest_path_ms, sec(4));
	ck_assert_int_eq(e.lower_bound_ms, sec(10));
	ck_assert_uint_ne(e.bound_counter, LIMITS_NONE);
	uint32_t path[] = {o4, o3, o2, o1};
	assert_path(&e, path, 4);
	ck_assert_uint_eq(e.path[0].waited, LIMITS_NONE);
	for (uint32_t i = 1; i < 4; i++)
		ck_assert_uint_eq(e.path[i].waited, e.bound_counter);
	estimate_free(&e);

	/* Two at a time: 4 and 3 first, then 2 when 3 ends and 1 when 4 ends. */
	d.limits[0].count = 2;
	ck_assert(estimate_run(&d, &e));
	ck_assert_int_eq(e.start_ms[o2], sec(3));
	ck_assert_int_eq(e.start_ms[o1], sec(4));
	ck_assert_int_eq(e.makespan_ms, sec(5));
	ck_assert_int_eq(e.lower_bound_ms, sec(5)); /* ceil(10 / 2) */
	estimate_free(&e);

	/* A limit on another kind changes nothing. */
	d.limits[0].kind = DAG_SHUTDOWN;
	ck_assert(estimate_run(&d, &e));
	ck_assert_int_eq(e.makespan_ms, sec(4));
	ck_assert_int_eq(e.lower_bound_ms, sec(4));
	estimate_free(&e);
	dag_free(&d);
}
END_TEST

/* `per host` counts the hosts where an operation acts: the recovery hosts the plan placed the VMs
 * on for one at `to` (power-on), their inventory hosts for one at the protected site (shutdown),
 * both for a migrate. esx-a and esx-b are at east, esx-c and esx-d at west. */
START_TEST(test_per_host_recovery)
{
	struct dag d;
	t_init(&d);
	d.hosts[0].site = d.hosts[1].site = 0;
	/* Three one-VM workgroups of 1 s: from esx-a, esx-a and esx-b, dealt to esx-c, esx-d, esx-c. */
	static const uint32_t from[] = {0, 0, 1};
	uint32_t w[3];
	for (int i = 0; i < 3; i++)
		w[i] = t_workgroup(&d, 1, 1u << from[i], NULL, 0);
	d.to = 1;
	d.n_placement = 2;
	d.placement = arena_alloc(&d.arena, 2 * sizeof *d.placement);
	d.placement[0] = 2;
	d.placement[1] = 3;
	uint32_t on[3], off[3];
	for (int i = 0; i < 3; i++)
		on[i] = dag_add_op(&d, DAG_POWER_ON, DAG_TARGET_WORKGROUP, w[i], 1, 1, 0);
	for (int i = 0; i < 3; i++)
		off[i] = dag_add_op(&d, DAG_SHUTDOWN, DAG_TARGET_WORKGROUP, w[i], 0, 0, 0);
	dag_finish(&d);
	t_limit(&d, DAG_POWER_ON, DAG_SCOPE_HOST, 1);
	t_limit(&d, DAG_SHUTDOWN, DAG_SCOPE_HOST, 1);
	struct estimate e;
	ck_assert(estimate_run(&d, &e));
	/* Power-on: the two placed on esx-c take turns; the two from esx-a do not. */
	ck_assert_int_eq(e.start_ms[on[0]], 0);
	ck_assert_int_eq(e.start_ms[on[1]], 0);
	ck_assert_int_eq(e.start_ms[on[2]], sec(1));
	/* Shutdown, at east: the two on esx-a take turns. */
	ck_assert_int_eq(e.start_ms[off[0]], 0);
	ck_assert_int_eq(e.start_ms[off[1]], sec(1));
	ck_assert_int_eq(e.start_ms[off[2]], 0);
	struct buf b = BUF_INIT;
	uint32_t n;
	const uint32_t *cs = limits_op_counters(e.limits, on[2], &n);
	ck_assert_uint_eq(n, 1);
	limits_describe(&d, e.limits, cs[0], &b);
	ck_assert_str_eq(b.data, "power-on 1 per host (esx-c)");
	buf_free(&b);
	estimate_free(&e);

	/* A migrate loads both ends: its source and its destination. */
	struct limits *l = NULL;
	d.ops[on[0]].kind = DAG_MIGRATE;
	d.limits[0].kind = DAG_MIGRATE;
	l = limits_new(&d);
	cs = limits_op_counters(l, on[0], &n);
	ck_assert_uint_eq(n, 2);
	limits_describe(&d, l, cs[0], &b);
	buf_putc(&b, ' ');
	limits_describe(&d, l, cs[1], &b);
	ck_assert_str_eq(b.data, "migrate 1 per host (esx-a) migrate 1 per host (esx-c)");
	buf_free(&b);
	limits_free(l);
	dag_free(&d);
}
END_TEST

START_TEST(test_per_host)
{
	struct dag d;
	t_init(&d);
	/* Two workgroups on esx-a, two on esx-b, 3 s each; one spans esx-c and esx-d. */
	uint32_t a1 = t_op_on(&d, DAG_POWER_ON, 3, 0x1), a2 = t_op_on(&d, DAG_POWER_ON, 3, 0x1);
	uint32_t b1 = t_op_on(&d, DAG_POWER_ON, 3, 0x2), b2 = t_op_on(&d, DAG_POWER_ON, 3, 0x2);
	uint32_t cd = t_op_on(&d, DAG_POWER_ON, 2, 0xC);
	uint32_t c = t_op_on(&d, DAG_POWER_ON, 1, 0x4), dd = t_op_on(&d, DAG_POWER_ON, 1, 0x8);
	dag_finish(&d);
	t_limit(&d, DAG_POWER_ON, DAG_SCOPE_HOST, 1);
	struct estimate e;
	ck_assert(estimate_run(&d, &e));
	ck_assert_int_eq(e.start_ms[a1], 0);
	ck_assert_int_eq(e.start_ms[a2], sec(3));
	ck_assert_int_eq(e.start_ms[b1], 0);
	ck_assert_int_eq(e.start_ms[b2], sec(3));
	/* cd (2 s) goes first on esx-c and esx-d; c and dd wait for it. */
	ck_assert_int_eq(e.start_ms[cd], 0);
	ck_assert_int_eq(e.start_ms[c], sec(2));
	ck_assert_int_eq(e.start_ms[dd], sec(2));
	ck_assert_int_eq(e.makespan_ms, sec(6));
	ck_assert_int_eq(e.lower_bound_ms, sec(6));
	ck_assert_int_le(e.lower_bound_ms, e.makespan_ms);
	/* The last to finish is a2 (index before b2): it waited for esx-a, freed by a1. */
	uint32_t path[] = {a1, a2};
	assert_path(&e, path, 2);
	struct buf b = BUF_INIT;
	limits_describe(&d, e.limits, e.path[1].waited, &b);
	ck_assert_str_eq(b.data, "power-on 1 per host (esx-a)");
	buf_free(&b);
	estimate_free(&e);
	dag_free(&d);
}
END_TEST

START_TEST(test_per_device)
{
	struct dag d;
	t_init(&d);
	static const uint32_t lun1[] = {0}, lun12[] = {0, 1}, lun2[] = {1};
	uint32_t w1 = t_workgroup(&d, 2, 0, lun1, 1), w12 = t_workgroup(&d, 2, 0, lun12, 2);
	uint32_t w2 = t_workgroup(&d, 2, 0, lun2, 1);
	uint32_t o1 = dag_add_op(&d, DAG_REGISTER, DAG_TARGET_WORKGROUP, w1, 0, 1, 0);
	uint32_t o12 = dag_add_op(&d, DAG_REGISTER, DAG_TARGET_WORKGROUP, w12, 0, 1, 0);
	uint32_t o2 = dag_add_op(&d, DAG_REGISTER, DAG_TARGET_WORKGROUP, w2, 0, 1, 0);
	dag_finish(&d);
	t_limit(&d, DAG_REGISTER, DAG_SCOPE_DEVICE, 1);
	struct estimate e;
	ck_assert(estimate_run(&d, &e));
	/* Equal priorities: by index, o1 first, then o12 waits for lun-1, o2 goes at once. */
	ck_assert_int_eq(e.start_ms[o1], 0);
	ck_assert_int_eq(e.start_ms[o2], 0);
	ck_assert_int_eq(e.start_ms[o12], sec(2));
	ck_assert_int_eq(e.makespan_ms, sec(4));
	ck_assert_int_eq(e.lower_bound_ms, sec(4)); /* lun-1 carries 4 s at one at a time */
	estimate_free(&e);
	dag_free(&d);
}
END_TEST

/* Gates and prompts take no time and never count against a limit, not even `all`. */
START_TEST(test_gates_and_prompts)
{
	struct dag d;
	t_init(&d);
	uint32_t p1 = t_op(&d, 3), q1 = t_op(&d, 1);
	uint32_t gate = dag_add_op(&d, DAG_GATE, DAG_TARGET_PLAN, 2, 0, DAG_NONE, 0);
	uint32_t p2 = t_op(&d, 2);
	uint32_t ask = dag_add_op(&d, DAG_PROMPT, DAG_TARGET_PLAN, 0, 1, DAG_NONE, 0);
	t_edge(&d, p1, gate);
	t_edge(&d, q1, gate);
	t_edge(&d, gate, p2);
	t_edge(&d, p2, ask);
	dag_finish(&d);
	struct estimate e;
	ck_assert(estimate_run(&d, &e));
	ck_assert_int_eq(e.makespan_ms, sec(5));
	ck_assert_uint_eq(e.n_prompts, 1);
	ck_assert_int_eq(e.finish_ms[ask], sec(5));
	uint32_t path[] = {p1, gate, p2, ask};
	assert_path(&e, path, 4);
	estimate_free(&e);

	t_limit(&d, DAG_LIMIT_ALL, DAG_SCOPE_PLAN, 1);
	ck_assert(estimate_run(&d, &e));
	ck_assert_int_eq(e.start_ms[q1], sec(3));
	ck_assert_int_eq(e.start_ms[gate], sec(4));
	ck_assert_int_eq(e.makespan_ms, sec(6));
	ck_assert_int_eq(e.lower_bound_ms, sec(6)); /* 3 + 1 + 2 at one at a time */
	uint32_t path2[] = {p1, q1, gate, p2, ask};
	assert_path(&e, path2, 5);
	ck_assert_uint_ne(e.path[1].waited, LIMITS_NONE);
	estimate_free(&e);
	dag_free(&d);
}
END_TEST

START_TEST(test_wait)
{
	struct dag d;
	t_init(&d);
	d.steps[1].kind = AST_STEP_WAIT;
	d.steps[1].wait_ms = sec(30);
	uint32_t a = t_op_on(&d, DAG_RUN, 1, 0);
	uint32_t w = dag_add_op(&d, DAG_WAIT, DAG_TARGET_PLAN, 0, 1, DAG_NONE, 0);
	uint32_t b = t_op_on(&d, DAG_RUN, 1, 0);
	uint32_t side = t_op_on(&d, DAG_RUN, 10, 0); /* independent */
	t_edge(&d, a, w);
	t_edge(&d, w, b);
	dag_finish(&d);
	struct estimate e;
	ck_assert(estimate_run(&d, &e));
	ck_assert_int_eq(e.makespan_ms, sec(32));
	ck_assert_int_eq(e.start_ms[b], sec(31));
	uint32_t path[] = {a, w, b};
	assert_path(&e, path, 3);
	estimate_free(&e);
	/* `limit all 1`: the wait does not hold the slot, so `side` runs during it. */
	t_limit(&d, DAG_LIMIT_ALL, DAG_SCOPE_PLAN, 1);
	ck_assert(estimate_run(&d, &e));
	ck_assert_int_eq(e.start_ms[a], 0);
	ck_assert_int_eq(e.start_ms[side], sec(1));
	ck_assert_int_eq(e.start_ms[w], sec(1));
	ck_assert_int_eq(e.makespan_ms, sec(32));
	estimate_free(&e);
	dag_free(&d);
}
END_TEST

START_TEST(test_empty_and_cycle)
{
	struct dag d;
	t_init(&d);
	dag_finish(&d);
	struct estimate e;
	ck_assert(estimate_run(&d, &e));
	ck_assert_int_eq(e.makespan_ms, 0);
	ck_assert_uint_eq(e.n_path, 0);
	estimate_free(&e);
	dag_free(&d);

	t_init(&d);
	uint32_t a = t_op(&d, 1), b = t_op(&d, 1), c = t_op(&d, 1);
	t_edge(&d, a, b);
	t_edge(&d, b, a);
	(void)c;
	dag_finish(&d);
	ck_assert(!estimate_run(&d, &e));
	ck_assert(!e.complete);
	ck_assert_int_eq(e.start_ms[a], -1);
	ck_assert_int_eq(e.finish_ms[c], sec(1));
	estimate_free(&e);

	/* A limit of 0 (refused by the compiler, but a compiled plan could say so) never admits. */
	d.limits[d.n_limits++] = (struct dag_limit){DAG_POWER_ON, DAG_SCOPE_PLAN, 0};
	ck_assert(!estimate_run(&d, &e));
	ck_assert_int_eq(e.start_ms[c], -1);
	estimate_free(&e);
	dag_free(&d);
}
END_TEST

/* ---- Random DAGs against a naive list scheduler */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)((rng_state >> 33) % n);
}

/* At each instant, try every ready operation in priority order, again until nothing starts; then
 * advance to the next completion. Quadratic, and obviously the definition. */
static void naive_schedule(const struct dag *d, const int64_t *prio, int64_t *start)
{
	uint32_t n = d->n_ops;
	struct limits *l = limits_new(d);
	int64_t *finish = xmalloc((n + 1) * sizeof *finish);
	bool *done = xcalloc(n + 1, 1);
	uint32_t *order = xmalloc((n + 1) * sizeof *order);
	for (uint32_t i = 0; i < n; i++) {
		start[i] = finish[i] = -1;
		order[i] = i;
	}
	/* Priority order: smaller key first, then index (insertion sort: n is small). */
	for (uint32_t i = 1; i < n; i++)
		for (uint32_t j = i; j > 0 && (prio[order[j]] < prio[order[j - 1]] ||
		                               (prio[order[j]] == prio[order[j - 1]] && order[j] < order[j - 1]));
		     j--) {
			uint32_t t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	int64_t t = 0;
	for (;;) {
		for (bool again = true; again;) {
			again = false;
			/* Completions at t first (zero-length operations finish within the instant). */
			for (uint32_t i = 0; i < n; i++)
				if (start[i] >= 0 && !done[i] && finish[i] <= t) {
					done[i] = true;
					limits_release(l, i);
					again = true;
				}
			for (uint32_t k = 0; k < n; k++) {
				uint32_t i = order[k];
				if (start[i] >= 0)
					continue;
				bool ready = true;
				for (uint32_t j = d->ops[i].first_pred; j < d->ops[i].first_pred + d->ops[i].n_preds; j++)
					ready &= done[d->edges[j].from];
				if (ready && limits_admit(l, i)) {
					start[i] = t;
					finish[i] = t + dag_op_duration_ms(d, i);
					again = true;
				}
			}
		}
		int64_t next = -1;
		for (uint32_t i = 0; i < n; i++)
			if (start[i] >= 0 && !done[i] && (next < 0 || finish[i] < next))
				next = finish[i];
		if (next < 0)
			break;
		t = next;
	}
	free(order);
	free(done);
	free(finish);
	limits_free(l);
}

static void random_dag(struct dag *d, uint32_t n, bool with_limits)
{
	t_init(d);
	static const uint32_t devsets[][2] = {{0, 1}, {1, 2}, {2, 3}, {3, 0}};
	for (uint32_t i = 0; i < n; i++) {
		uint32_t kind = rnd(6);
		if (kind == 5) {
			dag_add_op(d, DAG_GATE, DAG_TARGET_PLAN, 1, 0, DAG_NONE, 0);
			continue;
		}
		static const enum dag_op_kind kinds[] = {DAG_SHUTDOWN, DAG_REGISTER, DAG_POWER_ON, DAG_RUN, DAG_POWER_ON};
		const uint32_t *devs = devsets[rnd(4)];
		uint32_t w = t_workgroup(d, rnd(6), 1u + rnd(15), devs, 1 + rnd(2));
		dag_add_op(d, kinds[kind], DAG_TARGET_WORKGROUP, w, 0, rnd(2), 0);
	}
	for (uint32_t i = 1; i < n; i++)
		for (uint32_t k = rnd(3); k > 0; k--)
			t_edge(d, rnd(i), i);
	dag_finish(d);
	if (with_limits) {
		uint32_t nl = 1 + rnd(3);
		for (uint32_t i = 0; i < nl; i++) {
			static const uint32_t lkinds[] = {DAG_POWER_ON, DAG_REGISTER, DAG_LIMIT_ALL, DAG_RUN};
			t_limit(d, lkinds[rnd(4)], (enum dag_scope)rnd(4), 1 + rnd(3));
		}
	}
}

/* The critical path: contiguous in time, from 0 to the makespan, through real edges or waits. */
static void assert_path_contiguous(const struct dag *d, const struct estimate *e)
{
	ck_assert_uint_gt(e->n_path, 0);
	ck_assert_int_eq(e->start_ms[e->path[0].op], 0);
	ck_assert_int_eq(e->finish_ms[e->path[e->n_path - 1].op], e->makespan_ms);
	for (uint32_t k = 1; k < e->n_path; k++) {
		uint32_t prev = e->path[k - 1].op, cur = e->path[k].op;
		ck_assert_int_eq(e->finish_ms[prev], e->start_ms[cur]);
		if (e->path[k].waited == LIMITS_NONE) {
			bool edge = false;
			for (uint32_t j = d->ops[cur].first_pred; j < d->ops[cur].first_pred + d->ops[cur].n_preds; j++)
				edge |= d->edges[j].from == prev;
			ck_assert(edge);
		} else {
			ck_assert_int_gt(e->start_ms[cur], e->ready_ms[cur]);
		}
	}
}

/* Random DAGs under a plan-wide `limit all N` beside limits per host, device or site: the
 * dispatcher parks the counters whose offers the universal counter refuses (dispatch.h), and the
 * schedule must still be the naive one, start for start. */
START_TEST(test_random_universal_against_naive)
{
	rng_state = 7;
	for (int round = 0; round < 300; round++) {
		struct dag d;
		random_dag(&d, 5 + rnd(80), false);
		t_limit(&d, DAG_LIMIT_ALL, DAG_SCOPE_PLAN, 1 + rnd(4));
		static const uint32_t kinds[] = {DAG_POWER_ON, DAG_REGISTER, DAG_LIMIT_ALL, DAG_SHUTDOWN};
		for (uint32_t k = rnd(3) + 1; k > 0; k--)
			t_limit(&d, kinds[rnd(4)], (enum dag_scope)(1 + rnd(3)), 1 + rnd(2));
		struct estimate e;
		ck_assert(estimate_run(&d, &e));
		int64_t *start = xmalloc((d.n_ops + 1) * sizeof *start);
		naive_schedule(&d, e.prio, start);
		for (uint32_t i = 0; i < d.n_ops; i++)
			ck_assert_msg(start[i] == e.start_ms[i], "round %d op %u: naive %lld, estimate %lld", round, i,
			              (long long)start[i], (long long)e.start_ms[i]);
		assert_path_contiguous(&d, &e);
		free(start);
		estimate_free(&e);
		dag_free(&d);
	}
}
END_TEST

/* The makespan of the plain critical-path schedule, by the naive scheduler. */
static int64_t critical_path_makespan(const struct dag *d, const struct estimate *e)
{
	int64_t *prio = xmalloc((d->n_ops + 1) * sizeof *prio), *start = xmalloc((d->n_ops + 1) * sizeof *start);
	for (uint32_t i = 0; i < d->n_ops; i++)
		prio[i] = -e->bottom_ms[i];
	naive_schedule(d, prio, start);
	int64_t makespan = 0;
	for (uint32_t i = 0; i < d->n_ops; i++)
		if (start[i] + dag_op_duration_ms(d, i) > makespan)
			makespan = start[i] + dag_op_duration_ms(d, i);
	free(prio);
	free(start);
	return makespan;
}

START_TEST(test_random_against_naive)
{
	rng_state = 42;
	int improved = 0;
	for (int round = 0; round < 300; round++) {
		struct dag d;
		random_dag(&d, 5 + rnd(60), round % 5 != 0);
		struct estimate e;
		ck_assert(estimate_run(&d, &e));
		/* Justification keeps the critical-path priorities unless it shortens the schedule. */
		int64_t plain = critical_path_makespan(&d, &e);
		ck_assert_int_le(e.makespan_ms, plain);
		improved += e.makespan_ms < plain;
		int64_t *start = xmalloc((d.n_ops + 1) * sizeof *start);
		naive_schedule(&d, e.prio, start);
		for (uint32_t i = 0; i < d.n_ops; i++)
			ck_assert_msg(start[i] == e.start_ms[i], "round %d op %u: naive %lld, estimate %lld", round, i,
			              (long long)start[i], (long long)e.start_ms[i]);
		ck_assert_int_le(e.lower_bound_ms, e.makespan_ms);
		if (d.n_limits == 0)
			ck_assert_int_eq(e.lower_bound_ms, e.makespan_ms);
		assert_path_contiguous(&d, &e);
		free(start);
		estimate_free(&e);
		dag_free(&d);
	}
	/* ... and it does shorten some: limits make plain critical-path order a poor rule. */
	ck_assert_int_gt(improved, 0);
}
END_TEST

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The shape of a 1M-VM plan (workgroups of 16: 62,500 workgroups, ~200,000 operations): register,
 * power-on by priority through gates, a smoke test per workgroup, under per-host and plan limits. */
START_TEST(test_large)
{
	struct dag d;
	dag_init(&d);
	uint32_t n_wg = 62500, per = 16, n_hosts = 2000;
	d.n_sites = 2;
	d.sites = arena_alloc(&d.arena, 2 * sizeof *d.sites);
	d.sites[0].name = "east";
	d.sites[1].name = "west";
	d.hosts = arena_alloc(&d.arena, n_hosts * sizeof *d.hosts);
	for (uint32_t h = 0; h < n_hosts; h++)
		d.hosts[h] = (struct dag_host){"h", 1};
	d.n_hosts = n_hosts;
	d.vms = xmalloc((size_t)n_wg * per * sizeof *d.vms);
	d.workgroups = xmalloc(n_wg * sizeof *d.workgroups);
	for (uint32_t w = 0; w < n_wg; w++) {
		d.workgroups[w] = (struct dag_workgroup){.priority = (int32_t)(w % 4), .first_vm = w * per, .n_vms = per};
		for (uint32_t v = 0; v < per; v++)
			d.vms[w * per + v] = (struct dag_vm){"vm", (w * 7 + v) % n_hosts, w};
	}
	d.n_vms = n_wg * per;
	d.n_workgroups = n_wg;
	d.steps = arena_alloc(&d.arena, 4 * sizeof *d.steps);
	d.n_steps = 4;
	d.limits = arena_alloc(&d.arena, 2 * sizeof *d.limits);
	d.limits[0] = (struct dag_limit){DAG_POWER_ON, DAG_SCOPE_HOST, 2};
	d.limits[1] = (struct dag_limit){DAG_LIMIT_ALL, DAG_SCOPE_PLAN, 256};
	d.n_limits = 2;
	uint32_t gates[4];
	for (uint32_t p = 0; p < 4; p++)
		gates[p] = dag_add_op(&d, DAG_GATE, DAG_TARGET_PLAN, p, 2, DAG_NONE, 0);
	for (uint32_t w = 0; w < n_wg; w++) {
		uint32_t prio = w % 4;
		uint32_t r = dag_add_op(&d, DAG_REGISTER, DAG_TARGET_WORKGROUP, w, 1, 1, 0);
		uint32_t p = dag_add_op(&d, DAG_POWER_ON, DAG_TARGET_WORKGROUP, w, 2, 1, 0);
		uint32_t s = dag_add_op(&d, DAG_RUN, DAG_TARGET_WORKGROUP, w, 3, 1, 0);
		dag_add_edge(&d, r, p, DAG_EDGE_STEP);
		dag_add_edge(&d, p, s, DAG_EDGE_STEP);
		dag_add_edge(&d, gates[prio], p, DAG_EDGE_PRIORITY);
		if (prio < 3)
			dag_add_edge(&d, p, gates[prio + 1], DAG_EDGE_PRIORITY);
	}
	dag_finish(&d);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct estimate e;
	ck_assert(estimate_run(&d, &e));
	double took = seconds_since(&t0);
	fprintf(stderr, "estimate: %u operations, %u edges in %.3f s; RTO %lld s, lower bound %lld s\n", d.n_ops,
	        d.n_edges, took, (long long)e.makespan_ms / 1000, (long long)e.lower_bound_ms / 1000);
	ck_assert_int_le(e.lower_bound_ms, e.makespan_ms);
	ck_assert_uint_gt(e.n_path, 2);
	/* Well under a second on a quiet machine; the bound leaves room for a busy or sanitized one. */
	ck_assert_msg(took < 5.0, "took %.3f s", took);
	estimate_free(&e);
	free(d.vms);
	free(d.workgroups);
	dag_free(&d);
}
END_TEST

/* ---- Latency profiles */

struct profile {
	struct src_set set;
	struct diag_list diags;
	struct src_file *src;
	struct dag_latency lat;
	bool ok;
};

static struct profile *profile_load(const char *text)
{
	struct profile *p = xcalloc(1, sizeof *p);
	src_set_init(&p->set);
	diag_list_init(&p->diags);
	p->src = src_add(&p->set, "lat.yaml", text, strlen(text));
	struct dag d;
	dag_init(&d);
	p->lat = d.latency;
	dag_free(&d);
	p->ok = latency_load(&p->lat, p->src, &p->diags);
	return p;
}

static void profile_free(struct profile *p)
{
	diag_list_free(&p->diags);
	src_set_free(&p->set);
	free(p);
}

/* The profile failed with exactly one DRP055 error: this message, at these bytes. */
static struct diag *profile_error(struct profile *p, const char *message, const char *at)
{
	if (p->diags.len != 1)
		for (size_t i = 0; i < p->diags.len; i++)
			fprintf(stderr, "  diagnostic %zu: %s\n", i, p->diags.items[i]->message);
	ck_assert(!p->ok);
	ck_assert_uint_eq(p->diags.len, 1);
	struct diag *d = p->diags.items[0];
	ck_assert_int_eq(d->severity, DIAG_ERROR);
	ck_assert_int_eq(d->rule, DRP055);
	ck_assert_str_eq(d->message, message);
	ck_assert_uint_eq(d->at.file, p->src->id);
	ck_assert_uint_eq(d->at.end - d->at.start, strlen(at));
	ck_assert_mem_eq(p->src->text + d->at.start, at, strlen(at));
	/* Nothing was applied. */
	struct dag def;
	dag_init(&def);
	ck_assert_mem_eq(&p->lat, &def.latency, sizeof p->lat);
	dag_free(&def);
	return d;
}

START_TEST(test_latency_applies)
{
	struct profile *p = profile_load("# latency profile\n"
	                                 "failover: {base: 2m, per-vm: 0s}\n"
	                                 "power-on: {base: 20s, per-vm: 3s}\n"
	                                 "register:\n"
	                                 "  per-vm: 1h30m\n"
	                                 "run: {base: \"250ms\"}\n");
	ck_assert_msg(p->ok && p->diags.len == 0, "%s", p->diags.len ? p->diags.items[0]->message : "");
	ck_assert_int_eq(p->lat.base_ms[DAG_FAILOVER], 120000);
	ck_assert_int_eq(p->lat.per_vm_ms[DAG_FAILOVER], 0);
	ck_assert_int_eq(p->lat.base_ms[DAG_POWER_ON], 20000);
	ck_assert_int_eq(p->lat.per_vm_ms[DAG_POWER_ON], 3000);
	ck_assert_int_eq(p->lat.per_vm_ms[DAG_REGISTER], 5400000);
	ck_assert_int_eq(p->lat.base_ms[DAG_REGISTER], 5000); /* not named: the default */
	ck_assert_int_eq(p->lat.base_ms[DAG_RUN], 250);
	ck_assert_int_eq(p->lat.base_ms[DAG_SYNC], 60000);
	profile_free(p);

	/* A cleanup's kinds are set like the others; their defaults stand otherwise. */
	p = profile_load("unregister: {base: 2s, per-vm: 1s}\ndiscard: {base: 40s}\n");
	ck_assert_msg(p->ok && p->diags.len == 0, "%s", p->diags.len ? p->diags.items[0]->message : "");
	ck_assert_int_eq(p->lat.base_ms[DAG_UNREGISTER], 2000);
	ck_assert_int_eq(p->lat.per_vm_ms[DAG_UNREGISTER], 1000);
	ck_assert_int_eq(p->lat.base_ms[DAG_DISCARD], 40000);
	profile_free(p);
	p = profile_load("# nothing yet\n");
	ck_assert_int_eq(p->lat.base_ms[DAG_UNREGISTER], 5000);
	ck_assert_int_eq(p->lat.per_vm_ms[DAG_UNREGISTER], 500);
	ck_assert_int_eq(p->lat.base_ms[DAG_DISCARD], 15000);
	profile_free(p);

	/* Empty files and comments change nothing. */
	p = profile_load("");
	ck_assert(p->ok);
	profile_free(p);
	p = profile_load("# nothing yet\n");
	ck_assert(p->ok);
	ck_assert_int_eq(p->lat.base_ms[DAG_FAILOVER], 90000);
	profile_free(p);
}
END_TEST

START_TEST(test_latency_errors)
{
	struct profile *p = profile_load("failover: {base: 2m}\npower_on: {base: 20s}\n");
	struct diag *d = profile_error(p, "unknown operation kind 'power_on'", "power_on");
	ck_assert_str_eq(d->hint, "did you mean 'power-on'?");
	ck_assert_str_eq(d->fixit, "power-on");
	profile_free(p);

	p = profile_load("failover: {base: 5x}\n");
	profile_error(p, "invalid duration '5x' for 'base' of 'failover': unknown unit (the units are ms, s, m, h and d)",
	              "5x");
	profile_free(p);

	p = profile_load("failover: {base: -5s}\n");
	profile_error(p, "invalid duration '-5s' for 'base' of 'failover': a duration cannot be negative", "-5s");
	profile_free(p);

	p = profile_load("failover: {base: 90}\n");
	profile_error(p, "invalid duration '90' for 'base' of 'failover': a duration needs a unit after each number "
	                 "(ms, s, m, h or d)", "90");
	profile_free(p);

	p = profile_load("failover: {base: }\n");
	profile_error(p, "expected a duration for 'base' of 'failover', found an empty value", "");
	profile_free(p);

	p = profile_load("failover: 2m\n");
	profile_error(p, "expected a mapping for 'failover', found '2m'", "2m");
	profile_free(p);

	p = profile_load("failover: {base: [2m]}\n");
	profile_error(p, "expected a duration for 'base' of 'failover', found a list", "[");
	profile_free(p);

	p = profile_load("failover: {bsae: 2m}\n");
	d = profile_error(p, "unknown field 'bsae' in 'failover'; the fields are 'base' and 'per-vm'", "bsae");
	ck_assert_str_eq(d->hint, "did you mean 'base'?");
	profile_free(p);

	p = profile_load("failover: {}\n");
	profile_error(p, "'failover' sets neither 'base' nor 'per-vm'", "failover");
	profile_free(p);

	p = profile_load("- failover\n");
	profile_error(p, "a latency profile is a mapping of operation kinds, found a list", "-");
	profile_free(p);

	p = profile_load("prompt: {base: 1m}\n");
	d = profile_error(p, "the duration of 'prompt' cannot be set", "prompt");
	ck_assert_ptr_nonnull(d->hint);
	profile_free(p);

	p = profile_load("wait: {base: 1m}\n");
	profile_error(p, "the duration of 'wait' cannot be set", "wait");
	profile_free(p);

	p = profile_load("sync: {base: 1m}\nsync: {base: 2m}\n");
	d = profile_error(p, "'sync' is given twice", "sync");
	ck_assert_uint_eq(d->at.start, 17);
	ck_assert_uint_eq(d->n_notes, 1);
	ck_assert_uint_eq(d->notes[0].at.start, 0);
	profile_free(p);

	p = profile_load("sync: {base: 1m, base: 2m}\n");
	profile_error(p, "'base' of 'sync' is given twice", "base");
	profile_free(p);

	p = profile_load("sync: &a {base: 1m}\nfailover: *a\n");
	profile_error(p, "YAML anchors are not allowed in a latency profile", "&");
	profile_free(p);

	p = profile_load("sync: {base: 1m}\nfailover: *a\n");
	ck_assert(!p->ok);
	ck_assert_uint_ge(p->diags.len, 1);
	ck_assert_int_eq(p->diags.items[0]->rule, DRP055);
	profile_free(p);

	p = profile_load("sync: {base: 1m}\n---\nsync: {base: 2m}\n");
	profile_error(p, "a second YAML document; a latency profile is one document", "---");
	profile_free(p);

	p = profile_load("sync: {base: 1m\n");
	ck_assert(!p->ok);
	ck_assert_uint_eq(p->diags.len, 1);
	ck_assert_int_eq(p->diags.items[0]->rule, DRP055);
	ck_assert(strncmp(p->diags.items[0]->message, "invalid YAML: ", 14) == 0);
	profile_free(p);

	/* One mistake per entry, all reported. */
	p = profile_load("syncc: {base: 1m}\nfailover: {base: 1x}\nrun: 3\n");
	ck_assert(!p->ok);
	ck_assert_uint_eq(p->diags.len, 3);
	profile_free(p);

	/* After a multi-byte character, ranges are still bytes. */
	p = profile_load("# é\nfailover: {base: 1x}\n");
	profile_error(p, "invalid duration '1x' for 'base' of 'failover': unknown unit (the units are ms, s, m, h and d)",
	              "1x");
	profile_free(p);
}
END_TEST

START_TEST(test_latency_warning)
{
	struct profile *p = profile_load("failover: {per-vm: 1s}\n");
	ck_assert(p->ok);
	ck_assert_uint_eq(p->diags.len, 1);
	ck_assert_int_eq(p->diags.items[0]->severity, DIAG_WARNING);
	ck_assert_int_eq(p->diags.items[0]->rule, DRP055);
	ck_assert_str_eq(p->diags.items[0]->message, "'per-vm' has no effect on 'failover', a device operation");
	profile_free(p);
}
END_TEST

START_TEST(test_latency_hostile)
{
	/* Deep nesting inside a skipped value, and many errors: bounded, no crash. */
	struct buf b = BUF_INIT;
	buf_puts(&b, "sync: ");
	buf_repeat(&b, '[', 5000);
	buf_repeat(&b, ']', 5000);
	buf_puts(&b, "\n");
	for (int i = 0; i < 200; i++)
		buf_printf(&b, "bad%d: 1\n", i);
	struct profile *p = profile_load(b.data);
	ck_assert(!p->ok);
	ck_assert_uint_le(p->diags.len, LATENCY_MAX_ERRORS + 1);
	ck_assert_int_eq(p->diags.items[p->diags.len - 1]->rule, DRP013);
	profile_free(p);
	buf_free(&b);
}
END_TEST

Suite *estimate_suite(void)
{
	Suite *s = suite_create("estimate");
	TCase *tc = tcase_create("estimate");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_limits_counters);
	tcase_add_test(tc, test_limits_groups);
	tcase_add_test(tc, test_chain);
	tcase_add_test(tc, test_diamond);
	tcase_add_test(tc, test_limit_one_serialises);
	tcase_add_test(tc, test_per_host);
	tcase_add_test(tc, test_per_host_recovery);
	tcase_add_test(tc, test_per_device);
	tcase_add_test(tc, test_gates_and_prompts);
	tcase_add_test(tc, test_wait);
	tcase_add_test(tc, test_empty_and_cycle);
	tcase_add_test(tc, test_random_against_naive);
	tcase_add_test(tc, test_random_universal_against_naive);
	tcase_add_test(tc, test_large);
	tcase_add_test(tc, test_latency_applies);
	tcase_add_test(tc, test_latency_errors);
	tcase_add_test(tc, test_latency_warning);
	tcase_add_test(tc, test_latency_hostile);
	suite_add_tcase(s, tc);
	return s;
}
