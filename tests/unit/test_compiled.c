/* test_compiled.c: SHA-256 (lib/digest.c) against the FIPS 180-2 vectors, and the compiled plan
 * (compiler/compiled.c): a DAG with every kind of step, operation, edge, limit and target is
 * written, read back and written again to the same bytes and the same fields; names that YAML
 * would misread are quoted; every rejection (DRP051-DRP054) comes with its rule and message at the
 * right bytes, including on input edited and then resealed so that it passes the digest; truncated
 * and hostile files fail cleanly; and a plan of 100,000 VMs makes the round trip quickly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../compiler/compiled.h"
#include "../../lib/alloc.h"
#include "../../lib/digest.h"
#include "lowered.h"
#include "suites.h"

/* The sample DAG: two sites, hosts, a consistency group of two replicated devices, a lone
 * replicated device, a stretched one, three workgroups (one live), a step of every kind (one
 * inserted), limits of every scope, an operation of every kind and an edge of every kind. */
static const char *const sample_sites[] = {"east", "west"};

static void *table(struct dag *d, size_t n, size_t size)
{
	return arena_alloc(&d->arena, n * size);
}

static void sample_build(struct dag *d)
{
	dag_init(d);
	d->name = "payments-failover";
	d->mode = AST_MODE_PLANNED;
	strcpy(d->plan_digest, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
	strcpy(d->inventory_digest, "");
	static const char *protections[] = {"payments", "yes"};
	d->protections = protections;
	d->n_protections = 2;
	d->n_sites = 2;
	d->sites = table(d, 2, sizeof *d->sites);
	d->sites[0].name = sample_sites[0];
	d->sites[1].name = sample_sites[1];
	static const struct dag_setting east_settings[] = {
		{"program", "adapters/array-east"}, {"timeout", "30000ms"}, {"retries", "3"},
	};
	d->sites[0].adapter = "exec";
	d->sites[0].settings = east_settings;
	d->sites[0].n_settings = 3;
	d->sites[1].adapter = "sim";
	d->from = 0;
	d->to = 1;
	d->workgroup_size = 4;
	d->rto_ms = 1800000;

	d->n_hosts = 3;
	d->hosts = table(d, 3, sizeof *d->hosts);
	d->hosts[0] = (struct dag_host){"esx-e1", 0};
	d->hosts[1] = (struct dag_host){"esx-w1", 1};
	d->hosts[2] = (struct dag_host){"yes", DAG_NONE}; /* a YAML 1.1 boolean if written plain */

	d->n_devices = 4;
	d->devices = table(d, 4, sizeof *d->devices);
	d->devices[0] = (struct dag_device){"lun-101", "lun-201", DAG_REPLICATED, 0, 1, 0, DAG_NONE};
	d->devices[1] = (struct dag_device){"lun-102", "lun-202", DAG_REPLICATED, 0, 1, 0, DAG_NONE};
	d->devices[2] = (struct dag_device){"lun-103", "lun-203", DAG_REPLICATED, 0, 1, DAG_NONE, DAG_NONE};
	d->devices[3] = (struct dag_device){"metro-7", "metro-7", DAG_STRETCHED, 0, 1, DAG_NONE, 0};
	d->n_groups = 1;
	d->groups = table(d, 1, sizeof *d->groups);
	uint32_t *members = table(d, 2, sizeof *members);
	members[0] = 0;
	members[1] = 1;
	d->groups[0] = (struct dag_group){"cg-pay-db", members, 2};

	d->n_steps = 11;
	d->steps = table(d, 11, sizeof *d->steps);
	d->steps[0] = (struct dag_step){.kind = AST_STEP_SYNC, .site = DAG_NONE, .timeout_ms = 1800000, .line = 10};
	d->steps[1] = (struct dag_step){.kind = AST_STEP_SHUTDOWN, .site = 0, .line = 11};
	d->steps[2] = (struct dag_step){.kind = AST_STEP_FAILOVER, .site = DAG_NONE, .retries = 3, .backoff_ms = 30000,
	                                .line = 12};
	d->steps[3] = (struct dag_step){.kind = AST_STEP_REVERSE, .site = DAG_NONE, .line = 13};
	d->steps[4] = (struct dag_step){.kind = AST_STEP_PREFER, .site = 1, .inserted = true};
	d->steps[5] = (struct dag_step){.kind = AST_STEP_MIGRATE, .site = DAG_NONE, .line = 14};
	d->steps[6] = (struct dag_step){.kind = AST_STEP_REGISTER, .site = 1, .line = 15};
	d->steps[7] = (struct dag_step){.kind = AST_STEP_POWER_ON, .site = DAG_NONE, .by_priority = true,
	                                .timeout_ms = 900000, .line = 16};
	d->steps[8] = (struct dag_step){.kind = AST_STEP_RUN, .site = DAG_NONE, .per_workgroup = true,
	                                .text = "scripts/smoke-test.sh", .retries = 2, .backoff_ms = 60000, .line = 17};
	d->steps[9] = (struct dag_step){.kind = AST_STEP_PROMPT, .site = DAG_NONE,
	                                .text = "Confirm DNS: \"west\" \xE2\x80\x94 ok?", .line = 18};
	d->steps[10] = (struct dag_step){.kind = AST_STEP_WAIT, .site = DAG_NONE, .wait_ms = 120000, .line = 19};

	d->n_limits = 4;
	d->limits = table(d, 4, sizeof *d->limits);
	d->limits[0] = (struct dag_limit){DAG_POWER_ON, DAG_SCOPE_HOST, 2};
	d->limits[1] = (struct dag_limit){DAG_FAILOVER, DAG_SCOPE_PLAN, 2};
	d->limits[2] = (struct dag_limit){DAG_LIMIT_ALL, DAG_SCOPE_SITE, 64};
	d->limits[3] = (struct dag_limit){DAG_MIGRATE, DAG_SCOPE_DEVICE, 4};
	d->latency.base_ms[DAG_RUN] = 45000;
	d->latency.per_vm_ms[DAG_POWER_ON] = 0;
	d->latency.base_ms[DAG_PROMPT] = 1;

	d->n_vms = 5;
	d->vms = table(d, 5, sizeof *d->vms);
	d->vms[0] = (struct dag_vm){"db-01", 0, 0};
	d->vms[1] = (struct dag_vm){"db-02", DAG_NONE, 0};
	d->vms[2] = (struct dag_vm){"app-01", 0, 1};
	d->vms[3] = (struct dag_vm){"on", 1, 1}; /* another YAML 1.1 boolean */
	d->vms[4] = (struct dag_vm){"web-01", 1, 2};
	d->n_placement = 1; /* every VM on esx-w1 */
	d->placement = table(d, 1, sizeof *d->placement);
	d->placement[0] = 1;
	uint32_t *lone = table(d, 1, sizeof *lone), *metro = table(d, 1, sizeof *metro);
	lone[0] = 2;
	metro[0] = 3;
	d->n_workgroups = 3;
	d->workgroups = table(d, 3, sizeof *d->workgroups);
	d->workgroups[0] = (struct dag_workgroup){1, false, 0, 2, members, 2};
	d->workgroups[1] = (struct dag_workgroup){2, false, 2, 2, lone, 1};
	d->workgroups[2] = (struct dag_workgroup){DAG_NO_PRIORITY, true, 4, 1, metro, 1};
	/* db-02 was being moved from lun-101 to lun-102 (both its workgroup's). */
	d->n_migrations = 1;
	d->migrations = table(d, 1, sizeof *d->migrations);
	d->migrations[0] = (struct dag_migration){1, 0, 1, DAG_MIGRATION_COMPLETED};

	uint32_t sync1 = dag_add_op(d, DAG_SYNC, DAG_TARGET_DEVICE, 0, 0, 0, DAG_BEST_EFFORT);
	uint32_t sync2 = dag_add_op(d, DAG_SYNC, DAG_TARGET_DEVICE, 1, 0, 0, DAG_BEST_EFFORT);
	uint32_t sync3 = dag_add_op(d, DAG_SYNC, DAG_TARGET_DEVICE, 2, 0, 0, DAG_BEST_EFFORT);
	uint32_t down1 = dag_add_op(d, DAG_SHUTDOWN, DAG_TARGET_WORKGROUP, 0, 1, 0, 0);
	uint32_t down2 = dag_add_op(d, DAG_SHUTDOWN, DAG_TARGET_WORKGROUP, 1, 1, 0, 0);
	uint32_t fo_cg = dag_add_op(d, DAG_FAILOVER, DAG_TARGET_GROUP, 0, 2, 1, 0);
	uint32_t fo3 = dag_add_op(d, DAG_FAILOVER, DAG_TARGET_DEVICE, 2, 2, 1, 0);
	uint32_t rev = dag_add_op(d, DAG_REVERSE, DAG_TARGET_DEVICE, 0, 3, 1, 0);
	uint32_t pref = dag_add_op(d, DAG_PREFER, DAG_TARGET_DEVICE, 3, 4, 1, 0);
	uint32_t mig = dag_add_op(d, DAG_MIGRATE, DAG_TARGET_WORKGROUP, 2, 5, 1, 0);
	uint32_t reg1 = dag_add_op(d, DAG_REGISTER, DAG_TARGET_WORKGROUP, 0, 6, 1, 0);
	uint32_t reg2 = dag_add_op(d, DAG_REGISTER, DAG_TARGET_WORKGROUP, 1, 6, 1, 0);
	uint32_t on1 = dag_add_op(d, DAG_POWER_ON, DAG_TARGET_WORKGROUP, 0, 7, 1, 0);
	uint32_t gate2 = dag_add_op(d, DAG_GATE, DAG_TARGET_PLAN, 2, 7, DAG_NONE, 0);
	uint32_t on2 = dag_add_op(d, DAG_POWER_ON, DAG_TARGET_WORKGROUP, 1, 7, 1, 0);
	uint32_t last = dag_add_op(d, DAG_GATE, DAG_TARGET_PLAN, (uint32_t)DAG_NO_PRIORITY, 7, DAG_NONE, 0);
	uint32_t run1 = dag_add_op(d, DAG_RUN, DAG_TARGET_WORKGROUP, 0, 8, DAG_NONE, 0);
	uint32_t run2 = dag_add_op(d, DAG_RUN, DAG_TARGET_WORKGROUP, 1, 8, DAG_NONE, 0);
	uint32_t ask = dag_add_op(d, DAG_PROMPT, DAG_TARGET_PLAN, 0, 9, DAG_NONE, 0);
	uint32_t wait = dag_add_op(d, DAG_WAIT, DAG_TARGET_PLAN, 0, 10, DAG_NONE, 0);
	/* Last, though power-on w2 waits for it: a predecessor written after its successor. */
	uint32_t snap = dag_add_op(d, DAG_SNAPSHOT, DAG_TARGET_DEVICE, 2, 2, 1, 0);

	dag_add_edge(d, sync1, fo_cg, DAG_EDGE_SYNC);
	dag_add_edge(d, sync2, fo_cg, DAG_EDGE_SYNC);
	dag_add_edge(d, sync3, fo3, DAG_EDGE_SYNC);
	dag_add_edge(d, down1, fo_cg, DAG_EDGE_SHUTDOWN);
	dag_add_edge(d, down2, fo3, DAG_EDGE_SHUTDOWN);
	dag_add_edge(d, fo_cg, rev, DAG_EDGE_STEP);
	dag_add_edge(d, pref, mig, DAG_EDGE_PREFER);
	dag_add_edge(d, down1, reg1, DAG_EDGE_STEP);
	dag_add_edge(d, down2, reg2, DAG_EDGE_STEP);
	dag_add_edge(d, fo_cg, reg1, DAG_EDGE_STORAGE);
	dag_add_edge(d, fo3, reg2, DAG_EDGE_STORAGE);
	dag_add_edge(d, reg1, on1, DAG_EDGE_STEP);
	dag_add_edge(d, reg2, on2, DAG_EDGE_STEP);
	dag_add_edge(d, fo_cg, on1, DAG_EDGE_STORAGE);
	dag_add_edge(d, snap, on2, DAG_EDGE_STORAGE);
	dag_add_edge(d, on1, gate2, DAG_EDGE_PRIORITY);
	dag_add_edge(d, gate2, on2, DAG_EDGE_PRIORITY);
	dag_add_edge(d, on1, on2, DAG_EDGE_AFTER);
	dag_add_edge(d, on1, on2, DAG_EDGE_BARRIER); /* merged: the smaller kind stays */
	dag_add_edge(d, on1, last, DAG_EDGE_PRIORITY);
	dag_add_edge(d, on2, last, DAG_EDGE_PRIORITY);
	dag_add_edge(d, on1, run1, DAG_EDGE_STEP);
	dag_add_edge(d, on2, run2, DAG_EDGE_STEP);
	dag_add_edge(d, run1, ask, DAG_EDGE_BARRIER);
	dag_add_edge(d, run2, ask, DAG_EDGE_BARRIER);
	dag_add_edge(d, mig, ask, DAG_EDGE_BARRIER);
	dag_add_edge(d, last, ask, DAG_EDGE_BARRIER);
	dag_add_edge(d, ask, wait, DAG_EDGE_BARRIER);
	dag_add_edge(d, rev, ask, DAG_EDGE_BARRIER);
	dag_derive(d); /* what the file does not carry: a hand-built DAG must agree with it to round-trip */
	dag_finish(d);
}

/* ---- Helpers */

static char *sample_text(size_t *len)
{
	struct dag d;
	sample_build(&d);
	struct buf out = BUF_INIT;
	compiled_write(&d, &out);
	dag_free(&d);
	*len = out.len;
	return buf_detach(&out);
}

struct readback {
	struct src_set set;
	struct diag_list diags;
	struct dag d;
	struct src_file *src;
	bool ok;
};

static struct readback *read_n(const char *text, size_t len)
{
	struct readback *r = xcalloc(1, sizeof *r);
	src_set_init(&r->set);
	diag_list_init(&r->diags);
	dag_init(&r->d);
	r->src = src_add(&r->set, "plan.compiled.yaml", text, len);
	r->ok = compiled_read(&r->d, r->src, &r->diags);
	/* Whatever happened, every range lies in the file. */
	for (size_t i = 0; i < r->diags.len; i++) {
		const struct diag *dg = r->diags.items[i];
		ck_assert_uint_eq(dg->at.file, r->src->id);
		ck_assert_uint_le(dg->at.start, dg->at.end);
		ck_assert_uint_le(dg->at.end, r->src->len);
		for (size_t k = 0; k < dg->n_notes; k++)
			ck_assert_uint_le(dg->notes[k].at.end, r->src->len);
	}
	ck_assert(r->ok == (r->diags.len == 0));
	return r;
}

static struct readback *read_text(const char *text)
{
	return read_n(text, strlen(text));
}

static void readback_free(struct readback *r)
{
	dag_free(&r->d);
	diag_list_free(&r->diags);
	src_set_free(&r->set);
	free(r);
}

static void dump_diags(const struct readback *r)
{
	for (size_t i = 0; i < r->diags.len; i++)
		fprintf(stderr, "  [%s] %s\n", diag_rule_info(r->diags.items[i]->rule)->id, r->diags.items[i]->message);
}

/* text with its first `from` replaced by `to` (which must be there), resealed unless raw. */
static char *edit(const char *text, const char *from, const char *to, bool raw)
{
	const char *at = strstr(text, from);
	ck_assert_msg(at != NULL, "'%s' is not in the sample", from);
	struct buf b = BUF_INIT;
	buf_append(&b, text, (size_t)(at - text));
	buf_puts(&b, to);
	buf_puts(&b, at + strlen(from));
	if (!raw)
		ck_assert(compiled_reseal(b.data, b.len));
	return buf_detach(&b);
}

/* The diagnostic of `rule` whose message contains `part`; the reading must have failed. */
static const struct diag *find(const struct readback *r, enum diag_rule rule, const char *part)
{
	ck_assert(!r->ok);
	for (size_t i = 0; i < r->diags.len; i++) {
		const struct diag *dg = r->diags.items[i];
		if (dg->rule == rule && strstr(dg->message, part))
			return dg;
	}
	fprintf(stderr, "no [%s] ...%s... among:\n", diag_rule_info(rule)->id, part);
	dump_diags(r);
	ck_abort_msg("missing diagnostic");
	return NULL;
}

/* The sample edited (and resealed) must be refused with this rule and message, at these bytes. */
static void expect(const char *from, const char *to, enum diag_rule rule, const char *part, const char *at)
{
	size_t len;
	char *text = sample_text(&len);
	char *bad = edit(text, from, to, false);
	struct readback *r = read_text(bad);
	const struct diag *dg = find(r, rule, part);
	if (at) {
		size_t n = dg->at.end - dg->at.start;
		ck_assert_msg(n == strlen(at) && memcmp(r->src->text + dg->at.start, at, n) == 0,
		              "the range is '%.*s', not '%s'", (int)n, r->src->text + dg->at.start, at);
	}
	readback_free(r);
	free(bad);
	free(text);
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Every field of two DAGs, table by table. */
static void assert_dag_equal(const struct dag *a, const struct dag *b)
{
	ck_assert_str_eq(a->name, b->name);
	ck_assert_int_eq(a->mode, b->mode);
	ck_assert_uint_eq(a->from, b->from);
	ck_assert_uint_eq(a->to, b->to);
	ck_assert_uint_eq(a->workgroup_size, b->workgroup_size);
	ck_assert_uint_eq(a->n_sites, b->n_sites);
	for (uint32_t i = 0; i < a->n_sites; i++) {
		ck_assert(same_str(a->sites[i].adapter, b->sites[i].adapter));
		ck_assert_uint_eq(a->sites[i].n_settings, b->sites[i].n_settings);
		for (uint32_t k = 0; k < a->sites[i].n_settings; k++) {
			ck_assert_str_eq(a->sites[i].settings[k].key, b->sites[i].settings[k].key);
			ck_assert_str_eq(a->sites[i].settings[k].value, b->sites[i].settings[k].value);
		}
	}
	ck_assert_uint_eq(a->n_protections, b->n_protections);
	for (uint32_t i = 0; i < a->n_protections; i++)
		ck_assert_str_eq(a->protections[i], b->protections[i]);
	ck_assert_int_eq(a->rto_ms, b->rto_ms);
	ck_assert_str_eq(a->plan_digest, b->plan_digest);
	ck_assert_str_eq(a->inventory_digest, b->inventory_digest);
	ck_assert_uint_eq(a->n_sites, b->n_sites);
	for (uint32_t i = 0; i < a->n_sites; i++)
		ck_assert_str_eq(a->sites[i].name, b->sites[i].name);
	ck_assert_uint_eq(a->n_hosts, b->n_hosts);
	for (uint32_t i = 0; i < a->n_hosts; i++) {
		ck_assert_str_eq(a->hosts[i].name, b->hosts[i].name);
		ck_assert_uint_eq(a->hosts[i].site, b->hosts[i].site);
	}
	ck_assert_uint_eq(a->n_devices, b->n_devices);
	for (uint32_t i = 0; i < a->n_devices; i++) {
		const struct dag_device *x = &a->devices[i], *y = &b->devices[i];
		ck_assert_str_eq(x->name, y->name);
		ck_assert(same_str(x->peer, y->peer));
		ck_assert_int_eq(x->kind, y->kind);
		ck_assert_uint_eq(x->site, y->site);
		ck_assert_uint_eq(x->peer_site, y->peer_site);
		ck_assert_uint_eq(x->group, y->group);
		ck_assert_uint_eq(x->prefer, y->prefer);
	}
	ck_assert_uint_eq(a->n_groups, b->n_groups);
	for (uint32_t i = 0; i < a->n_groups; i++) {
		ck_assert_str_eq(a->groups[i].name, b->groups[i].name);
		ck_assert_uint_eq(a->groups[i].n_devices, b->groups[i].n_devices);
		ck_assert_mem_eq(a->groups[i].devices, b->groups[i].devices, a->groups[i].n_devices * sizeof(uint32_t));
	}
	ck_assert_uint_eq(a->n_migrations, b->n_migrations);
	for (uint32_t i = 0; i < a->n_migrations; i++) {
		ck_assert_uint_eq(a->migrations[i].vm, b->migrations[i].vm);
		ck_assert_uint_eq(a->migrations[i].from, b->migrations[i].from);
		ck_assert_uint_eq(a->migrations[i].to, b->migrations[i].to);
		ck_assert_uint_eq(a->migrations[i].state, b->migrations[i].state);
	}
	ck_assert_uint_eq(a->n_vms, b->n_vms);
	for (uint32_t i = 0; i < a->n_vms; i++) {
		ck_assert_str_eq(a->vms[i].name, b->vms[i].name);
		ck_assert_uint_eq(a->vms[i].host, b->vms[i].host);
		ck_assert_uint_eq(a->vms[i].workgroup, b->vms[i].workgroup);
	}
	ck_assert_uint_eq(a->n_placement, b->n_placement);
	for (uint32_t i = 0; i < a->n_placement; i++)
		ck_assert_uint_eq(a->placement[i], b->placement[i]);
	ck_assert_uint_eq(a->n_workgroups, b->n_workgroups);
	for (uint32_t i = 0; i < a->n_workgroups; i++) {
		const struct dag_workgroup *x = &a->workgroups[i], *y = &b->workgroups[i];
		ck_assert_int_eq(x->priority, y->priority);
		ck_assert(x->live == y->live);
		ck_assert_uint_eq(x->first_vm, y->first_vm);
		ck_assert_uint_eq(x->n_vms, y->n_vms);
		ck_assert_uint_eq(x->n_devices, y->n_devices);
		ck_assert_mem_eq(x->devices, y->devices, x->n_devices * sizeof(uint32_t));
	}
	ck_assert_uint_eq(a->n_steps, b->n_steps);
	for (uint32_t i = 0; i < a->n_steps; i++) {
		const struct dag_step *x = &a->steps[i], *y = &b->steps[i];
		ck_assert_int_eq(x->kind, y->kind);
		ck_assert(x->inserted == y->inserted && x->by_priority == y->by_priority &&
		          x->per_workgroup == y->per_workgroup);
		ck_assert_uint_eq(x->site, y->site);
		ck_assert(same_str(x->text, y->text));
		ck_assert_int_eq(x->wait_ms, y->wait_ms);
		ck_assert_int_eq(x->timeout_ms, y->timeout_ms);
		ck_assert_uint_eq(x->retries, y->retries);
		ck_assert_int_eq(x->backoff_ms, y->backoff_ms);
		ck_assert_uint_eq(x->line, y->line);
	}
	ck_assert_uint_eq(a->n_limits, b->n_limits);
	for (uint32_t i = 0; i < a->n_limits; i++) {
		ck_assert_uint_eq(a->limits[i].kind, b->limits[i].kind);
		ck_assert_int_eq(a->limits[i].scope, b->limits[i].scope);
		ck_assert_uint_eq(a->limits[i].count, b->limits[i].count);
	}
	ck_assert_mem_eq(&a->latency, &b->latency, sizeof a->latency);
	ck_assert_uint_eq(a->n_ops, b->n_ops);
	for (uint32_t i = 0; i < a->n_ops; i++) {
		const struct dag_op *x = &a->ops[i], *y = &b->ops[i];
		ck_assert_uint_eq(x->kind, y->kind);
		ck_assert_uint_eq(x->target_kind, y->target_kind);
		ck_assert_uint_eq(x->flags, y->flags);
		ck_assert_uint_eq(x->step, y->step);
		ck_assert_uint_eq(x->target, y->target);
		ck_assert_uint_eq(x->site, y->site);
		ck_assert_uint_eq(x->first_pred, y->first_pred);
		ck_assert_uint_eq(x->n_preds, y->n_preds);
	}
	ck_assert_uint_eq(a->n_edges, b->n_edges);
	for (uint32_t i = 0; i < a->n_edges; i++) {
		ck_assert_uint_eq(a->edges[i].from, b->edges[i].from);
		ck_assert_uint_eq(a->edges[i].to, b->edges[i].to);
		ck_assert_uint_eq(a->edges[i].kind, b->edges[i].kind);
	}
	ck_assert(b->finished);
}

/* ---- SHA-256 */

START_TEST(test_sha256_vectors)
{
	static const struct {
		const char *in, *hex;
	} vectors[] = {
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
	};
	for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		char hex[65];
		memset(hex, 'x', sizeof hex);
		digest_hex_of(vectors[i].in, strlen(vectors[i].in), hex);
		ck_assert_str_eq(hex, vectors[i].hex);
		/* Fed a byte at a time, the same. */
		struct digest g;
		digest_init(&g);
		for (size_t k = 0; vectors[i].in[k]; k++)
			digest_update(&g, vectors[i].in + k, 1);
		digest_hex(&g, hex);
		ck_assert_str_eq(hex, vectors[i].hex);
	}
	/* A million 'a's (the long FIPS 180-2 vector), in uneven pieces. */
	char *a = xmalloc(1000000);
	memset(a, 'a', 1000000);
	struct digest g;
	digest_init(&g);
	for (size_t k = 0; k < 1000000;) {
		size_t n = k % 997 + 1 < 1000000 - k ? k % 997 + 1 : 1000000 - k;
		digest_update(&g, a + k, n);
		k += n;
	}
	char hex[65];
	digest_hex(&g, hex);
	ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);
}
END_TEST

/* ---- Writing and reading back */

/* Writes d into *first, reads it back and checks that the DAG and its rewritten bytes are d's. */
static void assert_round_trip(const struct dag *d, struct buf *first)
{
	compiled_write(d, first);
	struct readback *r = read_n(first->data, first->len);
	if (!r->ok)
		dump_diags(r);
	ck_assert(r->ok);
	assert_dag_equal(d, &r->d);
	struct buf second = BUF_INIT;
	compiled_write(&r->d, &second);
	ck_assert_uint_eq(first->len, second.len);
	ck_assert_mem_eq(first->data, second.data, first->len);
	buf_free(&second);
	readback_free(r);
}

START_TEST(test_round_trip)
{
	struct dag d;
	sample_build(&d);
	struct buf first = BUF_INIT;
	assert_round_trip(&d, &first);
	/* The forward reference was resolved: power-on w2 waits for the snapshot written after it. */
	ck_assert_ptr_nonnull(strstr(first.data, "{id: s8.power-on.w2, after: ["));
	ck_assert(strstr(first.data, "s3.snapshot.lun-103]") < strstr(first.data, "- {id: s3.snapshot.lun-103"));
	buf_free(&first);
	dag_free(&d);
}
END_TEST

/* A cleanup plan's kinds (unregister, discard per group and per device) and its unregister edges
 * make the round trip: the reader derives the same sites and edge kinds as lowering. */
START_TEST(test_round_trip_cleanup)
{
	struct lowered l;
	lower_text(&l, "site east { adapter sim }\nsite west { adapter sim }\n"
	               "device lun-1 at east replicated to lun-1p at west consistency cg-a\n"
	               "device lun-2 at east replicated to lun-2p at west consistency cg-a\n"
	               "device lun-3 at east replicated to lun-3p at west\n"
	               "protection p { devices lun-1 lun-2 lun-3 }\n"
	               "vm db-01 priority 1 on lun-1 lun-2\nvm app-01 priority 2 on lun-3\n"
	               "plan c {\n  from east to west\n  mode cleanup\n  protect p\n"
	               "  step shutdown vms\n  step unregister vms at west\n  step discard snapshots\n}\n");
	struct buf first = BUF_INIT;
	assert_round_trip(&l.dag, &first); /* assert_dag_equal compares the edges' kinds too */
	ck_assert_ptr_nonnull(strstr(first.data, "- {id: s2.unregister.w1, after: [s1.shutdown.w1]}"));
	ck_assert_ptr_nonnull(strstr(first.data, "- {id: s3.discard.cg-a, after: [s2.unregister.w1]}"));
	ck_assert_ptr_nonnull(strstr(first.data, "- {id: s3.discard.lun-3, after: [s2.unregister.w2]}"));
	ck_assert_uint_eq(l.dag.edges[l.dag.ops[l.dag.n_ops - 1].first_pred].kind, DAG_EDGE_UNREGISTER);
	buf_free(&first);
	lowered_free(&l);
}
END_TEST

START_TEST(test_deterministic)
{
	size_t n1, n2;
	char *a = sample_text(&n1), *b = sample_text(&n2);
	ck_assert_uint_eq(n1, n2);
	ck_assert_mem_eq(a, b, n1);
	/* Appending to a buffer that holds something already writes the same bytes after it. */
	struct dag d;
	sample_build(&d);
	struct buf out = BUF_INIT;
	buf_puts(&out, "prefix");
	compiled_write(&d, &out);
	ck_assert_uint_eq(out.len, n1 + 6);
	ck_assert_mem_eq(out.data + 6, a, n1);
	buf_free(&out);
	dag_free(&d);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_header_and_seal)
{
	size_t len;
	char *text = sample_text(&len);
	ck_assert_uint_eq(strncmp(text, COMPILED_HEADER, strlen(COMPILED_HEADER)), 0);
	ck_assert(compiled_sniff(text, len));
	ck_assert(!compiled_sniff("plan x {\n}\n", 11));
	ck_assert(!compiled_sniff("# drplan", 8));
	ck_assert(!compiled_sniff("", 0));
	ck_assert_ptr_nonnull(strstr(text, "\nformat: 1\ndigest: sha256:"));
	/* The digest is the SHA-256 of the text with its 64 digits as zeros. */
	char *digits = strstr(text, "digest: sha256:") + 15;
	char written[65], zeroed_hex[65];
	memcpy(written, digits, 64);
	written[64] = '\0';
	memset(digits, '0', 64);
	digest_hex_of(text, len, zeroed_hex);
	ck_assert_str_eq(written, zeroed_hex);
	/* Resealing finds the same digest; without a digest line there is nothing to reseal. */
	ck_assert(compiled_reseal(text, len));
	ck_assert_mem_eq(digits, written, 64);
	ck_assert(!compiled_reseal((char[]){"format: 1\n"}, 10));
	free(text);
}
END_TEST

/* Names and texts that YAML would read as something else are quoted, and come back as they were;
 * so do texts with escapes, a long key and a name with a colon. */
START_TEST(test_quoting)
{
	size_t len;
	char *text = sample_text(&len);
	ck_assert_ptr_nonnull(strstr(text, "- {name: 'yes'}\n"));
	ck_assert_ptr_nonnull(strstr(text, "'on': esx-w1"));
	ck_assert_ptr_nonnull(strstr(text, "inventory-digest: ''\n"));
	ck_assert_ptr_nonnull(strstr(text, "- {name: esx-e1, site: east}\n"));
	ck_assert_ptr_nonnull(strstr(text, "text: scripts/smoke-test.sh,"));
	free(text);

	static const char *const odd[] = {
		"null", "Null", "~", "true", "False", "y", "N", "off", "ON", "1", "-2", "+3", "0x1F", "0o17", "0b101",
		"1e3", "1.5", ".5", ".inf", "-.Inf", ".NaN", "10.0.0.1", "2024-05-14", "2024-05-14T10:00:00Z", "1_000",
		"12:30:00", "<<", "=", "- x", "a: b", "#x", "x #y", " lead", "trail ", "[x]", "{x}", "&a", "*a", "!t",
		"%x", "@x", "`x", "'x", "\"x", "a\"b", "tab\there", "line\nbreak", "\xC2\x85nel", "ls\xE2\x80\xA8",
		"bom\xEF\xBB\xBF", "\xE6\x9D\xB1\xE4\xBA\xAC", "caf\xC3\xA9", "x\x7F", "esc\x1B[31m", "\xF0\x9F\x98\x80",
		"?", "-", ":", "3par-array", "1st",
	};
	for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
		struct dag d;
		sample_build(&d);
		d.steps[9].text = odd[i];
		bool control = false;
		for (const unsigned char *c = (const unsigned char *)odd[i]; *c; c++)
			control = control || *c < 0x20 || *c == 0x7F || (c[0] == 0xC2 && c[1] >= 0x80 && c[1] <= 0x9F);
		if (!control) /* a name may not hold control characters; a text may */
			d.hosts[2].name = odd[i];
		struct buf first = BUF_INIT;
		compiled_write(&d, &first);
		struct readback *r = read_n(first.data, first.len);
		if (!r->ok) {
			fprintf(stderr, "text %zu '%s':\n", i, odd[i]);
			dump_diags(r);
		}
		ck_assert(r->ok);
		ck_assert_str_eq(r->d.steps[9].text, odd[i]);
		ck_assert_str_eq(r->d.hosts[2].name, d.hosts[2].name);
		struct buf second = BUF_INIT;
		compiled_write(&r->d, &second);
		ck_assert_uint_eq(first.len, second.len);
		ck_assert_mem_eq(first.data, second.data, first.len);
		readback_free(r);
		buf_free(&first);
		buf_free(&second);
		dag_free(&d);
	}

	/* A VM name too long for a simple key, one with ": " in it, and a host name that is a number. */
	struct dag d;
	sample_build(&d);
	char long_name[300];
	memset(long_name, 'v', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	d.vms[0].name = long_name;
	d.vms[1].name = "odd: name";
	d.hosts[1].name = "42";
	struct buf first = BUF_INIT;
	compiled_write(&d, &first);
	ck_assert_ptr_nonnull(strstr(first.data, "'42'"));
	struct readback *r = read_n(first.data, first.len);
	ck_assert(r->ok);
	assert_dag_equal(&d, &r->d);
	readback_free(r);
	buf_free(&first);
	dag_free(&d);
}
END_TEST

/* Not UTF-8 (the front end never lets that through): written as U+FFFD, so the file still reads. */
START_TEST(test_invalid_utf8_written)
{
	struct dag d;
	sample_build(&d);
	d.steps[8].text = "bad\xFF\xC3";
	struct buf out = BUF_INIT;
	compiled_write(&d, &out);
	struct readback *r = read_n(out.data, out.len);
	ck_assert(r->ok);
	ck_assert_str_eq(r->d.steps[8].text, "bad\xEF\xBF\xBD\xEF\xBF\xBD");
	readback_free(r);
	buf_free(&out);
	dag_free(&d);
}
END_TEST

START_TEST(test_empty_tables)
{
	struct dag d;
	dag_init(&d);
	d.name = "nothing";
	d.workgroup_size = 1;
	memset(&d.latency, 0, sizeof d.latency);
	dag_finish(&d);
	struct buf out = BUF_INIT;
	compiled_write(&d, &out);
	ck_assert_ptr_nonnull(strstr(out.data, "\nsites: []\nhosts: []\ndevices: []\ngroups: []\nsteps: []\nlimits: []\n"
	                                       "latency: {}\nworkgroups: []\noperations: []\n"));
	ck_assert_ptr_null(strstr(out.data, "from:"));
	ck_assert_ptr_null(strstr(out.data, "migrations")); /* optional: a plan without records reads as before */
	struct readback *r = read_n(out.data, out.len);
	ck_assert(r->ok);
	assert_dag_equal(&d, &r->d);
	ck_assert_uint_eq(r->d.from, DAG_NONE);
	readback_free(r);
	buf_free(&out);
	dag_free(&d);
}
END_TEST

/* Storage-migration records: optional, after the workgroups; each names a VM and two different
 * replicated devices of its workgroup, once per VM. */
START_TEST(test_migrations)
{
	size_t len;
	char *text = sample_text(&len);
	ck_assert_ptr_nonnull(strstr(text, "\nmigrations:\n- {vm: db-02, from: lun-101, to: lun-102, state: completed}\n"
	                                   "placement: [esx-w1]\n"));
	free(text);
	const char *rec = "- {vm: db-02, from: lun-101, to: lun-102, state: completed}";
	expect(rec, "- {vm: db-09, from: lun-101, to: lun-102, state: completed}", DRP054, "unknown VM 'db-09'", "db-09");
	expect(rec, "- {vm: db-02, from: lun-101, to: lun-109, state: completed}", DRP054, "unknown device 'lun-109'",
	       "lun-109");
	expect(rec, "- {vm: db-02, from: lun-101, to: lun-101, state: completed}", DRP054,
	       "the storage migration of VM 'db-02' moves it from device 'lun-101' to the same device", "lun-101");
	expect(rec, "- {vm: db-02, from: lun-101, to: metro-7, state: completed}", DRP054,
	       "the storage migration of VM 'db-02' involves stretched device 'metro-7'", "metro-7");
	expect(rec, "- {vm: db-02, from: lun-101, to: lun-103, state: completed}", DRP054,
	       "VM 'db-02' is being moved to or from device 'lun-103', which its workgroup 'w1' does not recover",
	       "lun-103");
	expect(rec, "- {vm: db-02, from: lun-101, to: lun-102, state: done}", DRP051,
	       "unknown migration state: found plain 'done'; expected completed or in-progress", "done");
	expect(rec, "- {vm: db-02, from: lun-101, to: lun-102}", DRP051, "missing key 'state' in a storage migration",
	       NULL);
	expect(rec, "- {vm: db-02, from: lun-101, to: lun-102, state: completed, time: now}", DRP051, "'time'", "time");
	expect(rec, "- {vm: db-02, from: lun-101, to: lun-102, state: completed}\n- {vm: db-02, from: lun-102, to: lun-101, "
	       "state: in-progress}", DRP054, "VM 'db-02' has two storage-migration records", NULL);
	/* Out of order: after the operations. */
	char *sample = sample_text(&len);
	char *moved = edit(sample, "migrations:\n- {vm: db-02, from: lun-101, to: lun-102, state: completed}\n", "", true);
	struct buf late = BUF_INIT;
	buf_printf(&late, "%smigrations:\n%s\n", moved, rec);
	ck_assert(compiled_reseal(late.data, late.len));
	struct readback *r = read_text(late.data);
	find(r, DRP051, "'migrations' is out of order: it comes before 'operations'");
	readback_free(r);
	buf_free(&late);
	free(moved);

	/* Two records, written in any order, are kept in VM order. */
	char *two = edit(sample, rec, "- {vm: 'on', from: lun-103, to: lun-101, state: in-progress}\n" /* not w2's */
	                              "- {vm: db-02, from: lun-101, to: lun-102, state: completed}", false);
	r = read_text(two);
	find(r, DRP054, "VM 'on' is being moved to or from device 'lun-101', which its workgroup 'w2' does not recover");
	readback_free(r);
	free(two);
	two = edit(sample, rec, "- {vm: db-02, from: lun-101, to: lun-102, state: in-progress}\n"
	                        "- {vm: db-01, from: lun-102, to: lun-101, state: completed}", false);
	r = read_text(two);
	ck_assert(r->ok);
	ck_assert_uint_eq(r->d.n_migrations, 2);
	ck_assert_str_eq(r->d.vms[r->d.migrations[0].vm].name, "db-01");
	ck_assert_uint_eq(r->d.migrations[0].from, 1);
	ck_assert_uint_eq(r->d.migrations[0].state, DAG_MIGRATION_COMPLETED);
	ck_assert_str_eq(r->d.vms[r->d.migrations[1].vm].name, "db-02");
	ck_assert_uint_eq(r->d.migrations[1].state, DAG_MIGRATION_IN_PROGRESS);
	ck_assert_ptr_eq(dag_vm_migration(&r->d, 1), &r->d.migrations[1]);
	ck_assert_ptr_null(dag_vm_migration(&r->d, 2));
	readback_free(r);
	free(two);
	free(sample);
}
END_TEST

/* Placement: the recovery hosts the VMs are dealt to, once, before the operations; left out when
 * nothing is placed, so that plans compiled before placement read as plans without it. */
START_TEST(test_placement)
{
	size_t len;
	char *text = sample_text(&len);
	const char *line = "placement: [esx-w1]\n";
	ck_assert_ptr_nonnull(strstr(text, "\nplacement: [esx-w1]\noperations:\n"));
	/* Without the key (an older plan): every VM reads unplaced. */
	char *old = edit(text, line, "", false);
	struct readback *r = read_text(old);
	if (!r->ok)
		dump_diags(r);
	ck_assert(r->ok);
	ck_assert_uint_eq(r->d.n_placement, 0);
	for (uint32_t v = 0; v < r->d.n_vms; v++)
		ck_assert_uint_eq(dag_vm_to_host(&r->d, v), DAG_NONE);
	readback_free(r);
	free(old);
	/* With it: every VM on esx-w1. */
	r = read_text(text);
	ck_assert(r->ok);
	ck_assert_uint_eq(r->d.n_vms, 5);
	for (uint32_t v = 0; v < r->d.n_vms; v++)
		ck_assert_str_eq(r->d.hosts[dag_vm_to_host(&r->d, v)].name, "esx-w1");
	readback_free(r);
	free(text);
	/* Hostile: unknown hosts, hosts at the wrong site or none, twice, the wrong shapes, no `to`, and
	 * out of its place among the top-level keys. */
	expect(line, "placement: [esx-w9]\n", DRP054, "unknown host 'esx-w9'", "esx-w9");
	expect(line, "placement: [esx-e1]\n", DRP054,
	       "placement host 'esx-e1' is at site 'east', not at the recovery site 'west'", "esx-e1");
	expect(line, "placement: ['yes']\n", DRP054, "placement host 'yes' has no site", "'yes'");
	expect(line, "placement: [esx-w1, esx-w1]\n", DRP054, "placement host 'esx-w1' is listed twice", NULL);
	expect(line, "placement: {esx-w1: 1}\n", DRP051, "'placement'", NULL);
	expect(line, "placement: [[esx-w1]]\n", DRP051, "a placement host", NULL);
	expect(line, "placement: [~]\n", DRP051, "a placement host must be text, found an empty value", "~");
	expect("to: west\n", "", DRP054, "placement host 'esx-w1' is given, but the plan has no recovery site", "esx-w1");
}
END_TEST

/* ---- The format version and the seal, checked first */

START_TEST(test_format_version)
{
	size_t len;
	char *text = sample_text(&len);
	/* Format 2 says so, and nothing else: not the keys it might not know. */
	char *v2 = edit(text, "format: 1", "format: 2", true);
	struct readback *r = read_text(v2);
	ck_assert_uint_eq(r->diags.len, 1);
	const struct diag *dg = find(r, DRP052, "compiled plan format 2 is not supported: this drplan reads format 1");
	ck_assert_uint_eq(dg->at.end - dg->at.start, 1);
	ck_assert_int_eq(r->src->text[dg->at.start], '2');
	readback_free(r);
	free(v2);

	char *word = edit(text, "format: 1", "format: one", true);
	r = read_text(word);
	find(r, DRP052, "'format' is 'one', not a version number");
	readback_free(r);
	free(word);

	char *none = edit(text, "format: 1\n", "", true);
	r = read_text(none);
	ck_assert_uint_eq(r->diags.len, 1);
	find(r, DRP052, "not a compiled plan: there is no 'format' line");
	readback_free(r);
	free(none);

	r = read_text("");
	find(r, DRP052, "no 'format' line");
	readback_free(r);
	r = read_text("plan p {\n  from east to west\n}\n");
	find(r, DRP052, "no 'format' line");
	readback_free(r);
	free(text);
}
END_TEST

START_TEST(test_seal)
{
	size_t len;
	char *text = sample_text(&len);
	/* One byte changed, not resealed. */
	char *edited = edit(text, "count: 64", "count: 65", true);
	struct readback *r = read_text(edited);
	ck_assert_uint_eq(r->diags.len, 1);
	const struct diag *dg = find(r, DRP053, "edited or damaged after `drplan compile` wrote it");
	ck_assert_uint_eq(dg->at.end - dg->at.start, 7 + 64);
	ck_assert_mem_eq(r->src->text + dg->at.start, "sha256:", 7);
	ck_assert_ptr_nonnull(strstr(dg->hint, "compile the plan again"));
	readback_free(r);
	free(edited);

	/* Line endings changed by an editor or a transfer are damage too. */
	struct buf crlf = BUF_INIT;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n')
			buf_putc(&crlf, '\r');
		buf_putc(&crlf, text[i]);
	}
	r = read_n(crlf.data, crlf.len);
	find(r, DRP053, "edited or damaged");
	readback_free(r);
	buf_free(&crlf);

	char *no_seal = edit(text, "digest: sha256:", "checksum: sha256:", true);
	r = read_text(no_seal);
	find(r, DRP053, "the compiled plan has no 'digest' line");
	readback_free(r);
	free(no_seal);

	char *upper = edit(text, "digest: sha256:", "digest: SHA256:", true);
	r = read_text(upper);
	find(r, DRP053, "malformed digest 'SHA256:");
	readback_free(r);
	free(upper);

	char *short_seal = edit(text, "digest: sha256:", "digest: sha256:0", true);
	r = read_text(short_seal);
	find(r, DRP053, "malformed digest");
	readback_free(r);
	free(short_seal);
	free(text);
}
END_TEST

/* ---- Shape: DRP051 */

START_TEST(test_shape)
{
	expect("rto-ms: 1800000\n", "rto-ms: 1800000\ncolour: red\n", DRP051, "unknown key 'colour' at the top level",
	       "colour");
	expect("rto-ms: 1800000\n", "rto-ms: 1800000\nrto-ms: 1\n", DRP051, "duplicate key 'rto-ms' at the top level",
	       "rto-ms");
	expect("workgroup-size: 4", "workgroup-size: many", DRP051, "'workgroup-size' must be an integer, found plain 'many'",
	       "many");
	expect("workgroup-size: 4", "workgroup-size: '4'", DRP051, "'workgroup-size' must be an integer", "'4'");
	expect("rto-ms: 1800000\n", "", DRP051, "missing key 'rto-ms' at the top level", NULL);
	expect("mode: planned\nfrom: east\nto: west\n", "from: east\nto: west\nmode: planned\n", DRP051,
	       "'mode' is out of order: it comes before 'to' in a compiled plan", "mode");
	expect("mode: planned", "mode: planed", DRP051, "unknown mode: found plain 'planed'; expected planned, disaster,",
	       "planed");
	expect("{kind: reverse, line: 13}", "{kind: rewind, line: 13}", DRP051, "unknown step kind", "rewind");
	expect("- {name: 'yes'}", "- {name: yes}", DRP051, "'name' must be text, found plain 'yes'", "yes");
	expect("- {name: 'yes'}", "- {name: ~}", DRP051, "'name' must be text, found an empty value", "~");
	expect("- {name: 'yes'}", "- {name: [a]}", DRP051, "'name' must be text, found a list", "[a]");
	expect("- {name: 'yes'}", "- {site: east}", DRP051, "missing key 'name' in a host", "{site: east}");
	expect("- {name: 'yes'}", "- {name: 'yes', nmae: x}", DRP051, "unknown key 'nmae' in a host", "nmae");
	expect("- {name: 'yes'}", "- name", DRP051, "a host must be a mapping, found plain 'name'", "name");
	expect("protections: [payments, 'yes']", "protections: [payments, payments]", DRP054,
	       "duplicate protection group 'payments'", NULL);
	expect("- {site: west, kind: sim}", "- {site: west, kind: sim}\n- {site: west, kind: exec}", DRP054,
	       "site 'west' is given two adapters", NULL);
	expect("- {site: west, kind: sim}", "- {site: north, kind: sim}", DRP054, "unknown site 'north'", "north");
	expect("- {site: west, kind: sim}", "- {kind: sim}", DRP051, "missing key 'site' in an adapter", NULL);
	expect("retries: '3'}", "retries: '3', retries: '4'}", DRP051, "setting 'retries' is given twice", NULL);
	expect("retries: '3'}", "retries: [3]}", DRP051, "a setting's value must be text", NULL);
	expect("sites: [east, west]", "sites: east", DRP051, "'sites' must be a list, found plain 'east'", "east");
	expect("by-priority: true", "by-priority: yes", DRP051, "'by-priority' must be true or false", "yes");
	expect("peer: lun-203, ", "", DRP051, "missing key 'peer' in replicated device 'lun-103'", NULL);
	expect("{id: s1.sync.lun-101}", "{id: s1.sync.lun-101, kind: sync}", DRP051, "unknown key 'kind' in an operation",
	       "kind");
	expect("{id: s1.sync.lun-101}", "{after: []}", DRP051, "missing key 'id' in an operation", NULL);
	expect("after: [s10.prompt]", "after: {s10.prompt: barrier}", DRP051, "'after' must be a list", NULL);
	expect("id: w2", "id: 2", DRP051, "'id' must be a workgroup id (w1, w2, ...)", "2");
	expect("plan-digest: sha256:9f86", "plan-digest: sha1:9f86", DRP051,
	       "'plan-digest' must be '' or sha256: and 64 lowercase hex digits", NULL);
	expect("vms: {web-01: esx-w1}", "vms: {web-01: esx-w1, web-01: ~}", DRP051,
	       "duplicate key: VM 'web-01' is given twice in workgroup 'w3'", "web-01");
	expect("  sync: {base-ms: 60000, per-vm-ms: 0}\n",
	       "  sync: {base-ms: 60000, per-vm-ms: 0}\n  sync: {base-ms: 1, per-vm-ms: 0}\n", DRP051,
	       "duplicate key 'sync' in 'latency'", "sync");
	expect("  sync: {base-ms: 60000, per-vm-ms: 0}\n", "  sink: {base-ms: 60000, per-vm-ms: 0}\n", DRP051,
	       "unknown operation kind", "sink");
	expect("  sync: {base-ms: 60000, per-vm-ms: 0}\n", "  sync: {base-ms: 60000}\n", DRP051,
	       "missing key 'per-vm-ms' in the latency of sync", NULL);
	/* Not YAML at all, and YAML that libyaml cannot parse. */
	expect("steps:\n", "steps: [\n", DRP051, "not a compiled plan: invalid YAML", NULL);
	expect("- {name: 'yes'}", "- {name: &a 'yes'}", DRP051, "YAML anchors are not allowed", NULL);
	expect("- {name: 'yes'}", "- {name: !!str 'yes'}", DRP051, "YAML tags are not allowed", NULL);
	expect("{id: s3.snapshot.lun-103}\n", "{id: s3.snapshot.lun-103}\n---\nmore: 1\n", DRP051,
	       "a second YAML document; a compiled plan is one document", "---");
	expect("rto-ms: 1800000\n", "rto-ms: 1800000\n- x\n", DRP051, "not a compiled plan: invalid YAML", NULL);
	/* The format and the digest checked on the raw bytes must be the ones the YAML holds. */
	/* No "did you mean" and no fix-it: a compiled plan is never edited by hand. */
	size_t len;
	char *text = sample_text(&len);
	char *bad = edit(text, "rto-ms: 1800000\n", "rto-ms: 1800000\nrto: 1\n", false);
	struct readback *r = read_text(bad);
	const struct diag *dg = find(r, DRP051, "unknown key 'rto' at the top level");
	ck_assert_ptr_null(dg->fixit);
	ck_assert_ptr_nonnull(strstr(dg->hint, "compile the plan again"));
	readback_free(r);
	free(bad);
	free(text);
	expect("format: 1\n", "note: \"a\nformat: 1 b\"\nformat: 1\n", DRP051,
	       "this 'format' is not the value on the file's 'format:' line", "1");
	expect("format: 1\ndigest: ",
	       "format: 1\nnote: \"a\ndigest: sha256:"
	       "0000000000000000000000000000000000000000000000000000000000000000 b\"\ndigest: ",
	       DRP051, "this 'digest' is not the value on the file's 'digest:' line", NULL);
}
END_TEST

/* Aliases, deep nesting and huge values are refused at once, in little time. */
START_TEST(test_hostile)
{
	size_t len;
	char *text = sample_text(&len);
	/* Billion laughs: refused at the first anchor, nothing is expanded. */
	struct buf b = BUF_INIT;
	buf_puts(&b, "a: &a [x, x, x, x, x, x, x, x, x]\n");
	for (int i = 0; i < 9; i++)
		buf_printf(&b, "%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n", 'b' + i, 'b' + i, 'a' + i, 'a' + i,
		           'a' + i, 'a' + i, 'a' + i, 'a' + i, 'a' + i, 'a' + i, 'a' + i);
	char *laughs = edit(text, "rto-ms: 1800000\n", b.data, false);
	struct readback *r = read_text(laughs);
	find(r, DRP051, "YAML anchors are not allowed in a compiled plan");
	readback_free(r);
	free(laughs);
	buf_free(&b);

	/* Deep nesting. */
	buf_puts(&b, "rto-ms: 1800000\ndeep: ");
	buf_repeat(&b, '[', 100000);
	buf_repeat(&b, ']', 100000);
	buf_putc(&b, '\n');
	char *deep = edit(text, "rto-ms: 1800000\n", b.data, false);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = read_text(deep);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	find(r, DRP051, "nesting deeper than 8 levels");
	ck_assert((t1.tv_sec - t0.tv_sec) < 2);
	readback_free(r);
	free(deep);
	buf_free(&b);

	/* A 1 MB name. */
	buf_puts(&b, "- {name: ");
	buf_repeat(&b, 'x', 1000000);
	buf_puts(&b, "}");
	char *huge = edit(text, "- {name: 'yes'}", b.data, false);
	r = read_text(huge);
	find(r, DRP051, "a value of 1000000 bytes; the limit is 65536 bytes");
	readback_free(r);
	free(huge);
	buf_free(&b);

	/* NUL and control characters in names, through YAML's escapes. */
	expect("- {name: 'yes'}", "- {name: \"a\\0b\"}", DRP054, "'name' contains a control character (U+0000)", NULL);
	expect("- {name: 'yes'}", "- {name: \"a\\eb\"}", DRP054, "'name' contains a control character (U+001B)", NULL);
	expect("text: scripts/smoke-test.sh", "text: \"a\\0b\"", DRP054, "'text' contains a NUL character", NULL);
	expect("- {name: 'yes'}", "- {name: ''}", DRP054, "'name' is empty", "''");
	free(text);
}
END_TEST

/* ---- Meaning: DRP054 */

START_TEST(test_references)
{
	expect("- {name: esx-w1, site: west}", "- {name: esx-w1, site: north}", DRP054, "unknown site 'north'", "north");
	expect("from: east", "from: south", DRP054, "unknown site 'south'", "south");
	expect("sites: [east, west]", "sites: [east, west, east]", DRP054, "duplicate site 'east'", "east");
	expect("- {name: esx-w1, site: west}", "- {name: esx-e1, site: west}", DRP054, "duplicate host 'esx-e1'", "esx-e1");
	expect("devices: [lun-103]", "devices: [lun-104]", DRP054, "unknown device 'lun-104'", "lun-104");
	expect("devices: [lun-101, lun-102]\n  vms", "devices: [lun-101, lun-101]\n  vms", DRP054,
	       "device 'lun-101' is listed twice", "lun-101");
	expect("app-01: esx-e1", "app-01: esx-e9", DRP054, "unknown host 'esx-e9'", "esx-e9");
	expect("{id: s3.failover.cg-pay-db,", "{id: s3.failover.cg-pay-dc,", DRP054,
	       "operation 's3.failover.cg-pay-dc' names no consistency group or device of this plan", NULL);
	expect("peer-site: west, group: cg-pay-db}\n- {name: lun-102", "peer-site: west, group: cg-other}\n- {name: lun-102",
	       DRP054, "unknown consistency group 'cg-other'", "cg-other");
	expect("{name: cg-pay-db, devices: [lun-101, lun-102]}", "{name: cg-pay-db, devices: [lun-101, lun-102, lun-103]}",
	       DRP054, "consistency group 'cg-pay-db' lists device 'lun-103', which names no group", "lun-103");
	expect("{name: cg-pay-db, devices: [lun-101, lun-102]}", "{name: cg-pay-db, devices: [lun-101]}", DRP054,
	       "device 'lun-102' names consistency group 'cg-pay-db', which does not list it", NULL);
	expect("{name: cg-pay-db, devices: [lun-101, lun-102]}", "{name: cg-pay-db, devices: []}", DRP054,
	       "consistency group 'cg-pay-db' has no devices", NULL);
	expect("kind: replicated, site: east, peer: lun-203, peer-site: west}",
	       "kind: replicated, site: east, peer: lun-203, peer-site: west, prefer: east}", DRP054,
	       "'prefer' applies only to stretched devices, and 'lun-103' is replicated", "prefer");
	expect("- id: w2\n", "- id: w5\n", DRP054, "workgroup 'w5' is out of sequence", "w5");
	expect("{id: s6.migrate.w3,", "{id: s6.migrate.w4,", DRP054, "operation 's6.migrate.w4' names no workgroup", NULL);
	expect("vms: {web-01: esx-w1}", "vms: {}", DRP054, "workgroup 'w3' has no VMs", "vms");
	expect("vms: {web-01: esx-w1}", "vms: {db-01: esx-w1}", DRP054, "VM 'db-01' is in two workgroups, 'w1' and 'w3'",
	       "db-01");
	expect("workgroup-size: 4", "workgroup-size: 1", DRP054, "workgroup 'w1' has 2 VMs, more than the workgroup size (1)",
	       "vms");
}
END_TEST

START_TEST(test_operations)
{
	/* An operation is its id: step, kind and target are read from it. */
	expect("{id: s11.wait,", "{id: s12.wait,", DRP054, "operation 's12.wait' is in step 12, but the plan has 11 steps",
	       "s12.wait");
	expect("{id: s11.wait,", "{id: s0.wait,", DRP054, "operation 's0.wait' is in step 0", "s0.wait");
	expect("{id: s11.wait,", "{id: s011.wait,", DRP054,
	       "operation id 's011.wait' is not written as drplan writes it: 's11.wait'", "s011.wait");
	expect("{id: s11.wait,", "{id: s11.pause,", DRP054, "'s11.pause' is not an operation id", "s11.pause");
	expect("{id: s11.wait,", "{id: wait,", DRP054, "'wait' is not an operation id", "wait");
	expect("{id: s9.run.w2,", "{id: s9.run.w1,", DRP054, "duplicate operation id 's9.run.w1'", "s9.run.w1");
	expect("after: [s10.prompt]", "after: [s10.prompt, s12.nothing]", DRP054,
	       "'after' names operation 's12.nothing', which does not exist", "s12.nothing");
	expect("after: [s10.prompt]", "after: [s10.prompt, s10.prompt]", DRP051,
	       "'after' names operation 's10.prompt' twice", NULL);
	expect("{id: s2.shutdown.w1}", "{id: s2.shutdown.cg-pay-db}", DRP054,
	       "operation 's2.shutdown.cg-pay-db' names no workgroup of this plan", "s2.shutdown.cg-pay-db");
	expect("{id: s2.shutdown.w1}", "{id: s2.shutdown.w9}", DRP054, "names no workgroup of this plan", NULL);
	expect("{id: s1.sync.lun-101}", "{id: s1.sync.lun-999}", DRP054,
	       "operation 's1.sync.lun-999' names no device of this plan", NULL);
	expect("{id: s10.prompt,", "{id: s10.prompt.w1,", DRP054, "'s10.prompt.w1' is not an operation id", NULL);
	expect("{id: s8.gate.p2,", "{id: s8.gate,", DRP054, "operation 's8.gate' names no priority", NULL);
	expect("{id: s8.gate.p2,", "{id: s8.gate.p-2,", DRP054, "names no priority", NULL);
	/* A cycle: the first failover waits for a register that waits for it. */
	expect("{id: s3.failover.lun-103, after: [", "{id: s3.failover.lun-103, after: [s7.register.w2, ", DRP054,
	       "operations wait for each other in a cycle: s3.failover.lun-103 -> s7.register.w2 -> s3.failover.lun-103",
	       "s3.failover.lun-103");
	expect("after: [s10.prompt]", "after: [s10.prompt, s11.wait]", DRP054, "in a cycle: s11.wait -> s11.wait",
	       "s11.wait");
}
END_TEST

START_TEST(test_ranges_of_values)
{
	expect("timeout-ms: 1800000", "timeout-ms: -5", DRP054, "'timeout-ms' is negative (-5)", "-5");
	expect("wait-ms: 120000", "wait-ms: 31536000001", DRP054,
	       "'wait-ms' is out of range: 31536000001 is not between 0 and 31536000000", NULL);
	expect("backoff-ms: 30000", "backoff-ms: 99999999999999999999999", DRP054, "'backoff-ms' is out of range", NULL);
	expect("backoff-ms: 30000", "backoff-ms: 1.5", DRP051, "'backoff-ms' must be a number of milliseconds", "1.5");
	expect("count: 2, per: host", "count: 0, per: host", DRP054, "'count' is out of range: 0 is not between 1 and",
	       "0");
	expect("count: 2, per: host", "count: 4294967296, per: host", DRP054, "'count' is out of range", NULL);
	expect("workgroup-size: 4", "workgroup-size: 0", DRP054, "'workgroup-size' is out of range", "0");
	expect("retries: 3", "retries: -1", DRP054, "'retries' is negative (-1)", "-1");
	expect("  sync: {base-ms: 60000", "  sync: {base-ms: -60000", DRP054, "'base-ms' is negative", NULL);
	expect("per: host", "per: rack", DRP051, "unknown limit scope: found plain 'rack'; expected site, host or device",
	       "rack");
}
END_TEST

/* Every problem is reported, up to the limit, then DRP013. */
START_TEST(test_error_limit)
{
	size_t len;
	char *text = sample_text(&len);
	struct buf b = BUF_INIT;
	buf_puts(&b, "hosts:\n");
	for (int i = 0; i < 80; i++)
		buf_printf(&b, "- {name: h%d, site: nowhere}\n", i);
	char *many = edit(text, "hosts:\n", b.data, false);
	struct readback *r = read_text(many);
	ck_assert_uint_eq(r->diags.len, COMPILED_MAX_ERRORS + 1);
	find(r, DRP013, "too many errors in this compiled plan (50)");
	readback_free(r);
	free(many);
	buf_free(&b);
	free(text);
}
END_TEST

/* Cut anywhere, a compiled plan fails cleanly: at the seal, or (resealed) at whatever is missing. */
START_TEST(test_truncated)
{
	size_t len;
	char *text = sample_text(&len);
	size_t cut_at_seal = 0, cut_later = 0;
	for (size_t n = 0; n < len; n += 97) {
		struct readback *r = read_n(text, n);
		ck_assert(!r->ok);
		ck_assert_uint_ge(r->diags.len, 1);
		readback_free(r);
		char *copy = xmalloc(n + 1);
		memcpy(copy, text, n);
		copy[n] = '\0';
		bool sealed = compiled_reseal(copy, n);
		r = read_n(copy, n);
		/* Resealed and cut right after an operation, it is a whole (smaller) plan: the seal is
		 * what catches a truncation, and without the reseal it did. */
		const char *rest = text + n + (text[n] == '\n');
		bool whole = n > 0 && text[n - 1] != ' ' && (strncmp(rest, "- {id: ", 7) == 0 || *rest == '\0');
		ck_assert_msg(!r->ok || whole, "cut at %zu: '%.20s'", n, text + n);
		ck_assert(r->ok || r->diags.len >= 1);
		if (sealed) {
			cut_later++;
			for (size_t i = 0; i < r->diags.len; i++)
				ck_assert_int_ne(r->diags.items[i]->rule, DRP053);
		} else {
			cut_at_seal++;
		}
		readback_free(r);
		free(copy);
	}
	ck_assert_uint_gt(cut_later, 20);
	ck_assert_uint_gt(cut_at_seal, 0);
	free(text);
}
END_TEST

/* Ranges count bytes where libyaml counts characters. */
START_TEST(test_ranges_multibyte)
{
	expect("- {name: 'yes'}", "- {name: \xC3\xA9t\xC3\xA9, site: nowh\xC3\xA8re}", DRP054, "unknown site 'nowh\xC3\xA8re'",
	       "nowh\xC3\xA8re");
	expect("text: 'Confirm DNS: \"west\" \xE2\x80\x94 ok?', line: 18}",
	       "text: 'Confirm DNS: \"west\" \xE2\x80\x94 ok?', line: eighteen}", DRP051, "'line' must be an integer",
	       "eighteen");
}
END_TEST

/* ---- Scale */

START_TEST(test_100k_vms)
{
	enum { WG = 3125, PER = 32 };
	struct dag d;
	dag_init(&d);
	d.name = "big";
	d.workgroup_size = PER;
	d.n_sites = 2;
	d.sites = table(&d, 2, sizeof *d.sites);
	d.sites[0].name = "east";
	d.sites[1].name = "west";
	d.from = 0;
	d.to = 1;
	d.n_hosts = 100;
	d.hosts = table(&d, d.n_hosts, sizeof *d.hosts);
	for (uint32_t i = 0; i < d.n_hosts; i++) {
		char name[32];
		snprintf(name, sizeof name, "esx-%03u", i);
		d.hosts[i] = (struct dag_host){arena_strndup(&d.arena, name, strlen(name)), i % 2};
	}
	d.n_devices = 100;
	d.devices = table(&d, d.n_devices, sizeof *d.devices);
	for (uint32_t i = 0; i < d.n_devices; i++) {
		char name[32];
		snprintf(name, sizeof name, "lun-%03u", i);
		d.devices[i] = (struct dag_device){arena_strndup(&d.arena, name, strlen(name)), "peer", DAG_REPLICATED, 0, 1,
		                                   DAG_NONE, DAG_NONE};
	}
	d.n_steps = 3;
	d.steps = table(&d, 3, sizeof *d.steps);
	d.steps[0] = (struct dag_step){.kind = AST_STEP_FAILOVER, .site = DAG_NONE, .line = 1};
	d.steps[1] = (struct dag_step){.kind = AST_STEP_REGISTER, .site = 1, .line = 2};
	d.steps[2] = (struct dag_step){.kind = AST_STEP_POWER_ON, .site = DAG_NONE, .line = 3};
	d.n_vms = WG * PER;
	d.vms = table(&d, d.n_vms, sizeof *d.vms);
	d.n_workgroups = WG;
	d.workgroups = table(&d, WG, sizeof *d.workgroups);
	uint32_t *fo = table(&d, d.n_devices, sizeof *fo);
	for (uint32_t i = 0; i < d.n_devices; i++)
		fo[i] = dag_add_op(&d, DAG_FAILOVER, DAG_TARGET_DEVICE, i, 0, 1, 0);
	for (uint32_t w = 0; w < WG; w++) {
		uint32_t *dv = table(&d, 1, sizeof *dv);
		dv[0] = w % d.n_devices;
		d.workgroups[w] = (struct dag_workgroup){(int32_t)(w % 4), false, w * PER, PER, dv, 1};
		for (uint32_t k = 0; k < PER; k++) {
			char name[32];
			snprintf(name, sizeof name, "vm-%06u", w * PER + k);
			d.vms[w * PER + k] = (struct dag_vm){arena_strndup(&d.arena, name, strlen(name)), (w + k) % d.n_hosts, w};
		}
		uint32_t reg = dag_add_op(&d, DAG_REGISTER, DAG_TARGET_WORKGROUP, w, 1, 1, 0);
		uint32_t on = dag_add_op(&d, DAG_POWER_ON, DAG_TARGET_WORKGROUP, w, 2, 1, 0);
		dag_add_edge(&d, fo[dv[0]], reg, DAG_EDGE_STORAGE);
		dag_add_edge(&d, reg, on, DAG_EDGE_STEP);
	}
	dag_finish(&d);

	struct timespec t0, t1, t2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct buf first = BUF_INIT;
	compiled_write(&d, &first);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	struct readback *r = read_n(first.data, first.len);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	ck_assert(r->ok);
	assert_dag_equal(&d, &r->d);
	double write_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	double read_s = (double)(t2.tv_sec - t1.tv_sec) + (double)(t2.tv_nsec - t1.tv_nsec) / 1e9;
	fprintf(stderr, "compiled: 100k VMs, %u operations (%.1f MB): written in %.3f s, read in %.3f s, "
	                "%.1f MB in the arena\n",
	        d.n_ops, first.len / 1e6, write_s, read_s, r->d.arena.total / 1e6);
	/* A tenth of the million-VM goal of well under 2 s each, with room for sanitizers. */
	ck_assert_msg(write_s < 2.0 && read_s < 2.0, "write %.3f s, read %.3f s", write_s, read_s);
	/* Memory proportional to the output: the names, the tables and little else. */
	ck_assert_uint_lt(r->d.arena.total, first.len * 2);
	readback_free(r);
	buf_free(&first);
	dag_free(&d);
}
END_TEST

Suite *compiled_suite(void)
{
	Suite *s = suite_create("compiled");
	TCase *tc = tcase_create("compiled");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sha256_vectors);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_round_trip_cleanup);
	tcase_add_test(tc, test_deterministic);
	tcase_add_test(tc, test_header_and_seal);
	tcase_add_test(tc, test_quoting);
	tcase_add_test(tc, test_invalid_utf8_written);
	tcase_add_test(tc, test_empty_tables);
	tcase_add_test(tc, test_format_version);
	tcase_add_test(tc, test_seal);
	tcase_add_test(tc, test_shape);
	tcase_add_test(tc, test_hostile);
	tcase_add_test(tc, test_references);
	tcase_add_test(tc, test_migrations);
	tcase_add_test(tc, test_placement);
	tcase_add_test(tc, test_operations);
	tcase_add_test(tc, test_ranges_of_values);
	tcase_add_test(tc, test_error_limit);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_ranges_multibyte);
	tcase_add_test(tc, test_100k_vms);
	suite_add_tcase(s, tc);
	return s;
}
