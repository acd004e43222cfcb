/* test_verify.c: the DAG verifier (compiler/verify.c) on DAGs built here by hand for a small plan with
 * every kind of step: the correct ones pass without a word, and copies that break one guarantee each
 * (an edge removed, an operation in the wrong step, a consistency group failed over per device, a VM
 * in two workgroups, a cycle, a test that shuts VMs down, ...) fail with DRP050 naming it. A DAG of
 * 50,000 workgroups, built by a loop, checks the exact many-to-many path and that it is quick. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../compiler/dag.h"
#include "../../compiler/diag.h"
#include "../../compiler/load.h"
#include "../../compiler/model.h"
#include "../../compiler/verify.h"
#include "../../lib/alloc.h"
#include "../../lib/buf.h"
#include "suites.h"

/* ---- Loading a plan into a model ---- */

struct fixture {
	struct src_set sources;
	struct diag_list diags;
	struct program program;
	struct model *m;
};

/* Writes `text` to a temporary plan file and builds its model, which must have no errors. */
static struct fixture *load_plan(const char *text)
{
	char dir[] = "/tmp/drplan-verify-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof path, "%s/plan.drp", dir);
	FILE *file = fopen(path, "w");
	ck_assert_ptr_nonnull(file);
	fputs(text, file);
	ck_assert_int_eq(fclose(file), 0);
	struct fixture *f = xcalloc(1, sizeof *f);
	src_set_init(&f->sources);
	diag_list_init(&f->diags);
	program_init(&f->program);
	struct load_options options = {dir};
	ck_assert(program_load(&f->program, &f->sources, &f->diags, path, &options));
	unlink(path);
	rmdir(dir);
	ck_assert(!program_incomplete(&f->program));
	f->m = model_build(&f->program, &f->diags);
	if (f->diags.errors) {
		struct buf out = BUF_INIT;
		diag_render(&out, &f->diags, &f->sources, DIAG_FORMAT_TEXT, false);
		ck_abort_msg("the test plan has errors:\n%s", out.data);
	}
	return f;
}

static void fixture_free(struct fixture *f)
{
	model_free(f->m);
	program_free(&f->program);
	diag_list_free(&f->diags);
	src_set_free(&f->sources);
	free(f);
}

static uint32_t plan_index(const struct fixture *f, const char *name)
{
	for (uint32_t i = 0; i < f->m->n_plans; i++)
		if (strcmp(f->m->plans[i].name, name) == 0)
			return i;
	ck_abort_msg("no plan '%s'", name);
	return 0;
}

/* Finishes d if needed and verifies it against `plan`; returns every message, one per line (free
 * it), after checking that each is a DRP050 error at the plan's name and that the result agrees. */
static char *verify(struct fixture *f, struct dag *d, const char *plan)
{
	if (!d->finished)
		dag_finish(d);
	uint32_t p = plan_index(f, plan);
	struct diag_list diags;
	diag_list_init(&diags);
	bool ok = verify_dag(d, f->m, p, &diags);
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < diags.len; i++) {
		const struct diag *e = diags.items[i];
		ck_assert_int_eq(e->rule, DRP050);
		ck_assert_int_eq(e->severity, DIAG_ERROR);
		ck_assert_uint_eq(e->at.start, f->m->plans[p].decl->name.at.start);
		buf_printf(&b, "%s\n", e->message);
	}
	ck_assert_int_eq(ok, diags.len == 0);
	ck_assert_uint_le(diags.len, VERIFY_MAX_REPORTS + 1);
	diag_list_free(&diags);
	return buf_detach(&b);
}

static void expect_clean(struct fixture *f, struct dag *d, const char *plan)
{
	char *out = verify(f, d, plan);
	ck_assert_msg(out[0] == '\0', "the verifier rejects a correct DAG:\n%s", out);
	free(out);
}

/* The verifier must reject d with a message that contains every one of the NULL-terminated
 * substrings (in one message). */
static void expect_violation(struct fixture *f, struct dag *d, const char *plan, ...)
{
	char *out = verify(f, d, plan);
	ck_assert_msg(out[0] != '\0', "the verifier accepts a broken DAG");
	bool found = false;
	for (char *line = out, *end; *line && !found; line = end + 1) {
		end = strchr(line, '\n');
		*end = '\0';
		va_list ap;
		va_start(ap, plan);
		bool all = true;
		for (const char *s; all && (s = va_arg(ap, const char *));)
			all = strstr(line, s) != NULL;
		va_end(ap);
		found = all;
		*end = '\n';
	}
	if (!found) {
		va_list ap;
		va_start(ap, plan);
		const char *first = va_arg(ap, const char *);
		va_end(ap);
		ck_abort_msg("no message with '%s' (and the rest) among:\n%s", first, out);
	}
	free(out);
}

/* ---- The small plan and its DAGs, by hand ---- */

/* Three plans over one world: planned with every kind of step, the same without `prefer` (the
 * compiler inserts it), and a test. */
static const char *const PLAN_TEXT =
	"site east { adapter sim }\n"
	"site west { adapter sim }\n"
	"device lun-101 at east replicated to lun-201 at west consistency cg-pay\n"
	"device lun-102 at east replicated to lun-202 at west consistency cg-pay\n"
	"device lun-103 at east replicated to lun-203 at west\n"
	"device metro-7 stretched between east and west prefer east\n"
	"protection pay { devices lun-101 lun-102 lun-103 metro-7 }\n"
	"vm db-01 priority 1 on lun-101 lun-102\n"
	"vm db-02 priority 1 on lun-101 lun-102\n"
	"vm app-01 priority 2 on lun-103\n"
	"vm app-02 priority 2 on lun-103 after app-01\n"
	"vm web-01 priority 3 on metro-7\n"
	"vm web-02 priority 3 on metro-7 after web-01\n"
	"vm other-01 priority 1 on lun-999\n"
	"device lun-999 at east replicated to lun-998 at west\n"
	"plan pay {\n"
	"  from east to west\n"
	"  mode planned\n"
	"  protect pay\n"
	"  workgroup 2\n"
	"  step sync storage\n"
	"  step shutdown vms\n"
	"  step failover storage\n"
	"  step prefer west\n"
	"  step migrate live\n"
	"  step register vms\n"
	"  step power-on vms by priority\n"
	"  step prompt \"Confirm DNS has moved to west\"\n"
	"}\n"
	"plan pay-auto {\n"
	"  from east to west\n"
	"  mode planned\n"
	"  protect pay\n"
	"  workgroup 2\n"
	"  step sync storage\n"
	"  step shutdown vms\n"
	"  step failover storage\n"
	"  step migrate live\n"
	"  step register vms\n"
	"  step power-on vms by priority\n"
	"  step prompt \"Confirm DNS has moved to west\"\n"
	"}\n"
	"plan pay-test {\n"
	"  from east to west\n"
	"  mode test\n"
	"  protect pay\n"
	"  workgroup 2\n"
	"  step failover storage\n"
	"  step register vms\n"
	"  step power-on vms by priority\n"
	"  step prompt \"The test is up\"\n"
	"  step run \"smoke.sh\" per workgroup\n"
	"  step wait 1m\n"
	"}\n"
	"plan pay-cleanup {\n"
	"  from east to west\n"
	"  mode cleanup\n"
	"  protect pay\n"
	"  workgroup 2\n"
	"  step shutdown vms\n"
	"  step unregister vms\n"
	"  step discard snapshots\n"
	"}\n";

enum { EAST, WEST };
enum { LUN101, LUN102, LUN103, METRO7 };
/* Workgroups (w1 .. w5 in ids): db-01 and db-02; app-01; app-02 (after app-01, so not with it);
 * web-01; web-02 (after web-01). */
enum { W_DB, W_APP1, W_APP2, W_WEB1, W_WEB2, N_WG };

static const uint32_t cg_devices[] = {LUN101, LUN102};
static const uint32_t lun103_devices[] = {LUN103};
static const uint32_t metro_devices[] = {METRO7};

/* The operations of a hand-built DAG, by name (DAG_NONE if absent). */
struct ops {
	uint32_t sync[3], shut[3], fo_cg, fo_103, prefer, mig[2], reg[3], pon[3], gate, run[N_WG], prompt, wait;
};

/* The world as the plans see it: sites, devices, the group, VMs and workgroups. */
static void world(struct dag *d, const char *name, enum ast_mode mode)
{
	dag_init(d);
	d->name = name;
	d->mode = mode;
	d->from = EAST;
	d->to = WEST;
	d->workgroup_size = 2;
	d->sites = arena_alloc(&d->arena, 2 * sizeof *d->sites);
	d->sites[EAST].name = "east";
	d->sites[WEST].name = "west";
	d->n_sites = 2;
	d->devices = arena_alloc(&d->arena, 4 * sizeof *d->devices);
	static const char *const names[] = {"lun-101", "lun-102", "lun-103", "metro-7"};
	static const char *const peers[] = {"lun-201", "lun-202", "lun-203", "metro-7"};
	for (uint32_t i = 0; i < 4; i++)
		d->devices[i] = (struct dag_device){
			.name = names[i], .peer = peers[i], .kind = i == METRO7 ? DAG_STRETCHED : DAG_REPLICATED,
			.site = EAST, .peer_site = WEST, .group = i < LUN103 ? 0 : DAG_NONE,
			.prefer = i == METRO7 ? EAST : DAG_NONE,
		};
	d->n_devices = 4;
	d->groups = arena_alloc(&d->arena, sizeof *d->groups);
	d->groups[0] = (struct dag_group){"cg-pay", (uint32_t *)cg_devices, 2};
	d->n_groups = 1;
	static const char *const vms[] = {"db-01", "db-02", "app-01", "app-02", "web-01", "web-02"};
	static const uint32_t vm_wg[] = {W_DB, W_DB, W_APP1, W_APP2, W_WEB1, W_WEB2};
	d->vms = arena_alloc(&d->arena, 6 * sizeof *d->vms);
	for (uint32_t i = 0; i < 6; i++)
		d->vms[i] = (struct dag_vm){vms[i], DAG_NONE, vm_wg[i]};
	d->n_vms = 6;
	d->workgroups = arena_alloc(&d->arena, N_WG * sizeof *d->workgroups);
	d->workgroups[W_DB] = (struct dag_workgroup){1, false, 0, 2, cg_devices, 2};
	d->workgroups[W_APP1] = (struct dag_workgroup){2, false, 2, 1, lun103_devices, 1};
	d->workgroups[W_APP2] = (struct dag_workgroup){2, false, 3, 1, lun103_devices, 1};
	d->workgroups[W_WEB1] = (struct dag_workgroup){3, true, 4, 1, metro_devices, 1};
	d->workgroups[W_WEB2] = (struct dag_workgroup){3, true, 5, 1, metro_devices, 1};
	d->n_workgroups = N_WG;
	d->steps = arena_alloc(&d->arena, 12 * sizeof *d->steps);
}

static uint32_t add_step(struct dag *d, enum ast_step_kind kind, uint32_t site)
{
	d->steps[d->n_steps] = (struct dag_step){.kind = kind, .site = site};
	return d->n_steps++;
}

enum prefer_kind { PREFER_STEP, PREFER_INSERTED, PREFER_NONE };

static void no_ops(struct ops *o)
{
	memset(o, 0xff, sizeof *o);
}

/* Plan `pay` (PREFER_STEP), or `pay-auto` with the inserted prefer step, or without it. */
static void planned_dag(struct dag *d, enum prefer_kind pk, struct ops *o)
{
	world(d, pk == PREFER_STEP ? "pay" : "pay-auto", AST_MODE_PLANNED);
	no_ops(o);
	uint32_t s_sync = add_step(d, AST_STEP_SYNC, DAG_NONE);
	uint32_t s_shut = add_step(d, AST_STEP_SHUTDOWN, EAST);
	uint32_t s_fo = add_step(d, AST_STEP_FAILOVER, DAG_NONE);
	uint32_t s_pref = DAG_NONE;
	if (pk != PREFER_NONE) {
		s_pref = add_step(d, AST_STEP_PREFER, WEST);
		d->steps[s_pref].inserted = pk == PREFER_INSERTED;
	}
	uint32_t s_mig = add_step(d, AST_STEP_MIGRATE, DAG_NONE);
	uint32_t s_reg = add_step(d, AST_STEP_REGISTER, WEST);
	uint32_t s_pon = add_step(d, AST_STEP_POWER_ON, DAG_NONE);
	d->steps[s_pon].by_priority = true;
	uint32_t s_prompt = add_step(d, AST_STEP_PROMPT, DAG_NONE);
	d->steps[s_prompt].text = "Confirm DNS has moved to west";

	for (uint32_t i = 0; i < 3; i++)
		o->sync[i] = dag_add_op(d, DAG_SYNC, DAG_TARGET_DEVICE, LUN101 + i, s_sync, EAST, 0);
	for (uint32_t i = 0; i < 3; i++)
		o->shut[i] = dag_add_op(d, DAG_SHUTDOWN, DAG_TARGET_WORKGROUP, W_DB + i, s_shut, EAST, 0);
	o->fo_cg = dag_add_op(d, DAG_FAILOVER, DAG_TARGET_GROUP, 0, s_fo, WEST, 0);
	o->fo_103 = dag_add_op(d, DAG_FAILOVER, DAG_TARGET_DEVICE, LUN103, s_fo, WEST, 0);
	if (pk != PREFER_NONE)
		o->prefer = dag_add_op(d, DAG_PREFER, DAG_TARGET_DEVICE, METRO7, s_pref, WEST, 0);
	for (uint32_t i = 0; i < 2; i++)
		o->mig[i] = dag_add_op(d, DAG_MIGRATE, DAG_TARGET_WORKGROUP, W_WEB1 + i, s_mig, WEST, 0);
	for (uint32_t i = 0; i < 3; i++)
		o->reg[i] = dag_add_op(d, DAG_REGISTER, DAG_TARGET_WORKGROUP, W_DB + i, s_reg, WEST, 0);
	for (uint32_t i = 0; i < 3; i++)
		o->pon[i] = dag_add_op(d, DAG_POWER_ON, DAG_TARGET_WORKGROUP, W_DB + i, s_pon, WEST, 0);
	o->gate = dag_add_op(d, DAG_GATE, DAG_TARGET_PLAN, 2, s_pon, DAG_NONE, 0);
	o->prompt = dag_add_op(d, DAG_PROMPT, DAG_TARGET_PLAN, 0, s_prompt, DAG_NONE, 0);

	dag_add_edge(d, o->sync[0], o->fo_cg, DAG_EDGE_SYNC);
	dag_add_edge(d, o->sync[1], o->fo_cg, DAG_EDGE_SYNC);
	dag_add_edge(d, o->sync[2], o->fo_103, DAG_EDGE_SYNC);
	dag_add_edge(d, o->shut[0], o->fo_cg, DAG_EDGE_SHUTDOWN);
	dag_add_edge(d, o->shut[1], o->fo_103, DAG_EDGE_SHUTDOWN);
	dag_add_edge(d, o->shut[2], o->fo_103, DAG_EDGE_SHUTDOWN);
	if (pk != PREFER_NONE) {
		dag_add_edge(d, o->prefer, o->mig[0], DAG_EDGE_PREFER);
		dag_add_edge(d, o->prefer, o->mig[1], DAG_EDGE_PREFER);
	}
	dag_add_edge(d, o->mig[0], o->mig[1], DAG_EDGE_AFTER);
	for (uint32_t i = 0; i < 3; i++) {
		dag_add_edge(d, o->shut[i], o->reg[i], DAG_EDGE_STEP);
		dag_add_edge(d, o->reg[i], o->pon[i], DAG_EDGE_STEP);
	}
	dag_add_edge(d, o->fo_cg, o->reg[0], DAG_EDGE_STORAGE);
	dag_add_edge(d, o->fo_cg, o->pon[0], DAG_EDGE_STORAGE);
	for (uint32_t i = 1; i < 3; i++) {
		dag_add_edge(d, o->fo_103, o->reg[i], DAG_EDGE_STORAGE);
		dag_add_edge(d, o->fo_103, o->pon[i], DAG_EDGE_STORAGE);
	}
	dag_add_edge(d, o->pon[0], o->gate, DAG_EDGE_PRIORITY);
	dag_add_edge(d, o->gate, o->pon[1], DAG_EDGE_PRIORITY);
	dag_add_edge(d, o->gate, o->pon[2], DAG_EDGE_PRIORITY);
	dag_add_edge(d, o->pon[1], o->pon[2], DAG_EDGE_AFTER);
	dag_add_edge(d, o->mig[1], o->prompt, DAG_EDGE_BARRIER);
	dag_add_edge(d, o->pon[2], o->prompt, DAG_EDGE_BARRIER);
}

/* Plan `pay-test`: snapshots instead of failovers, nothing at east, a script per workgroup. */
static void test_dag(struct dag *d, struct ops *o)
{
	world(d, "pay-test", AST_MODE_TEST);
	no_ops(o);
	uint32_t s_fo = add_step(d, AST_STEP_FAILOVER, DAG_NONE);
	uint32_t s_reg = add_step(d, AST_STEP_REGISTER, WEST);
	uint32_t s_pon = add_step(d, AST_STEP_POWER_ON, DAG_NONE);
	d->steps[s_pon].by_priority = true;
	uint32_t s_prompt = add_step(d, AST_STEP_PROMPT, DAG_NONE);
	d->steps[s_prompt].text = "The test is up";
	uint32_t s_run = add_step(d, AST_STEP_RUN, DAG_NONE);
	d->steps[s_run].per_workgroup = true;
	d->steps[s_run].text = "smoke.sh";
	uint32_t s_wait = add_step(d, AST_STEP_WAIT, DAG_NONE);
	d->steps[s_wait].wait_ms = 60000;

	o->fo_cg = dag_add_op(d, DAG_SNAPSHOT, DAG_TARGET_GROUP, 0, s_fo, WEST, 0);
	o->fo_103 = dag_add_op(d, DAG_SNAPSHOT, DAG_TARGET_DEVICE, LUN103, s_fo, WEST, 0);
	for (uint32_t i = 0; i < 3; i++)
		o->reg[i] = dag_add_op(d, DAG_REGISTER, DAG_TARGET_WORKGROUP, W_DB + i, s_reg, WEST, 0);
	for (uint32_t i = 0; i < 3; i++)
		o->pon[i] = dag_add_op(d, DAG_POWER_ON, DAG_TARGET_WORKGROUP, W_DB + i, s_pon, WEST, 0);
	o->gate = dag_add_op(d, DAG_GATE, DAG_TARGET_PLAN, 2, s_pon, DAG_NONE, 0);
	o->prompt = dag_add_op(d, DAG_PROMPT, DAG_TARGET_PLAN, 0, s_prompt, DAG_NONE, 0);
	for (uint32_t w = 0; w < N_WG; w++)
		o->run[w] = dag_add_op(d, DAG_RUN, DAG_TARGET_WORKGROUP, w, s_run, DAG_NONE, 0);
	o->wait = dag_add_op(d, DAG_WAIT, DAG_TARGET_PLAN, 0, s_wait, DAG_NONE, 0);

	dag_add_edge(d, o->fo_cg, o->reg[0], DAG_EDGE_STORAGE);
	dag_add_edge(d, o->fo_cg, o->pon[0], DAG_EDGE_STORAGE);
	for (uint32_t i = 1; i < 3; i++) {
		dag_add_edge(d, o->fo_103, o->reg[i], DAG_EDGE_STORAGE);
		dag_add_edge(d, o->fo_103, o->pon[i], DAG_EDGE_STORAGE);
	}
	for (uint32_t i = 0; i < 3; i++) {
		dag_add_edge(d, o->reg[i], o->pon[i], DAG_EDGE_STEP);
		dag_add_edge(d, o->pon[i], o->run[i], DAG_EDGE_STEP);
	}
	dag_add_edge(d, o->pon[0], o->gate, DAG_EDGE_PRIORITY);
	dag_add_edge(d, o->gate, o->pon[1], DAG_EDGE_PRIORITY);
	dag_add_edge(d, o->gate, o->pon[2], DAG_EDGE_PRIORITY);
	dag_add_edge(d, o->pon[1], o->pon[2], DAG_EDGE_AFTER);
	for (uint32_t i = 0; i < 3; i++)
		dag_add_edge(d, o->pon[i], o->prompt, DAG_EDGE_BARRIER);
	for (uint32_t w = 0; w < N_WG; w++) {
		dag_add_edge(d, o->prompt, o->run[w], DAG_EDGE_BARRIER);
		dag_add_edge(d, o->run[w], o->wait, DAG_EDGE_BARRIER);
	}
}

/* Plan `pay-cleanup`: the test VMs shut down and unregistered at west, then the snapshots
 * discarded; shut[] holds the shutdowns, reg[] the unregisters, fo_* the discards. */
static void cleanup_dag(struct dag *d, struct ops *o)
{
	world(d, "pay-cleanup", AST_MODE_CLEANUP);
	no_ops(o);
	uint32_t s_shut = add_step(d, AST_STEP_SHUTDOWN, WEST);
	uint32_t s_unreg = add_step(d, AST_STEP_UNREGISTER, WEST);
	uint32_t s_discard = add_step(d, AST_STEP_DISCARD, DAG_NONE);
	for (uint32_t i = 0; i < 3; i++)
		o->shut[i] = dag_add_op(d, DAG_SHUTDOWN, DAG_TARGET_WORKGROUP, W_DB + i, s_shut, WEST, 0);
	for (uint32_t i = 0; i < 3; i++)
		o->reg[i] = dag_add_op(d, DAG_UNREGISTER, DAG_TARGET_WORKGROUP, W_DB + i, s_unreg, WEST, 0);
	o->fo_cg = dag_add_op(d, DAG_DISCARD, DAG_TARGET_GROUP, 0, s_discard, WEST, 0);
	o->fo_103 = dag_add_op(d, DAG_DISCARD, DAG_TARGET_DEVICE, LUN103, s_discard, WEST, 0);
	for (uint32_t i = 0; i < 3; i++)
		dag_add_edge(d, o->shut[i], o->reg[i], DAG_EDGE_STEP);
	dag_add_edge(d, o->reg[0], o->fo_cg, DAG_EDGE_UNREGISTER);
	dag_add_edge(d, o->reg[1], o->fo_103, DAG_EDGE_UNREGISTER);
	dag_add_edge(d, o->reg[2], o->fo_103, DAG_EDGE_UNREGISTER);
}

/* Removes the edge from -> to (before dag_finish). */
static void remove_edge(struct dag *d, uint32_t from, uint32_t to)
{
	ck_assert(!d->finished);
	for (uint32_t i = 0; i < d->n_edges; i++)
		if (d->edges[i].from == from && d->edges[i].to == to) {
			d->edges[i] = d->edges[--d->n_edges];
			return;
		}
	ck_abort_msg("no edge %u -> %u", from, to);
}

static struct fixture *fx;

static void setup(void)
{
	fx = load_plan(PLAN_TEXT);
}

static void teardown(void)
{
	fixture_free(fx);
}

/* ---- Correct DAGs pass ---- */

START_TEST(test_correct_dags)
{
	struct dag d;
	struct ops o;
	planned_dag(&d, PREFER_STEP, &o);
	expect_clean(fx, &d, "pay");
	dag_free(&d);
	planned_dag(&d, PREFER_INSERTED, &o);
	expect_clean(fx, &d, "pay-auto");
	dag_free(&d);
	test_dag(&d, &o);
	expect_clean(fx, &d, "pay-test");
	dag_free(&d);
	cleanup_dag(&d, &o);
	expect_clean(fx, &d, "pay-cleanup");
	dag_free(&d);
}
END_TEST

/* ---- 9: cleanup: no snapshot discarded while a test VM on it is registered ---- */

START_TEST(test_cleanup_discard_after_unregister)
{
	struct dag d;
	struct ops o;
	/* A missing edge: the lone device's snapshot could go while app-02 is still registered. */
	cleanup_dag(&d, &o);
	remove_edge(&d, o.reg[2], o.fo_103);
	expect_violation(fx, &d, "pay-cleanup", "no snapshot discarded while a test VM on it is registered",
	                 "s3.discard.lun-103 is not ordered after s2.unregister.w3, the unregister of workgroup w3 on "
	                 "device 'lun-103'",
	                 NULL);
	dag_free(&d);

	/* Discarding before unregistering: the edge the wrong way round. */
	cleanup_dag(&d, &o);
	remove_edge(&d, o.reg[0], o.fo_cg);
	dag_add_edge(&d, o.fo_cg, o.reg[0], DAG_EDGE_STEP);
	expect_violation(fx, &d, "pay-cleanup", "no snapshot discarded while a test VM on it is registered",
	                 "s3.discard.cg-pay is not ordered after s2.unregister.w1, the unregister of workgroup w1 on "
	                 "device 'lun-101'",
	                 NULL);
	dag_free(&d);

	/* Shutting down at the protected site in a cleanup would stop production, not the test. */
	cleanup_dag(&d, &o);
	d.steps[0].site = EAST;
	d.ops[o.shut[1]].site = EAST;
	expect_violation(fx, &d, "pay-cleanup", "cleanup mode leaves the protected site alone",
	                 "s1.shutdown.w2 acts at site 'east' in a cleanup, not at the recovery site 'west'", NULL);
	dag_free(&d);

	/* A discard that acts at the protected site's devices alone is still a discard of the group:
	 * one operation per consistency group, every member covered. */
	cleanup_dag(&d, &o);
	d.ops[o.fo_cg].target_kind = DAG_TARGET_DEVICE;
	d.ops[o.fo_cg].target = LUN101;
	expect_violation(fx, &d, "pay-cleanup", "device 'lun-102' has no operation in step 3 (discard)", NULL);
	dag_free(&d);
}
END_TEST

/* Extra edges (beyond the guarantees) and gates anywhere are fine. */
START_TEST(test_extra_edges_and_gates)
{
	struct dag d;
	struct ops o;
	planned_dag(&d, PREFER_STEP, &o);
	dag_add_edge(&d, o.sync[2], o.prefer, DAG_EDGE_BARRIER);
	dag_add_edge(&d, o.sync[0], o.mig[0], DAG_EDGE_BARRIER);
	uint32_t g = dag_add_op(&d, DAG_GATE, DAG_TARGET_PLAN, 7, 0, DAG_NONE, 0);
	dag_add_edge(&d, o.sync[1], g, DAG_EDGE_PRIORITY);
	dag_add_edge(&d, o.sync[0], o.sync[1], DAG_EDGE_SYNC); /* within a step: harmless */
	expect_clean(fx, &d, "pay");
	dag_free(&d);
}
END_TEST

/* ---- 0 and 1: structure and cycles ---- */

START_TEST(test_structure)
{
	struct dag d;
	struct ops o;
	planned_dag(&d, PREFER_STEP, &o);
	dag_finish(&d);
	d.edges[0].from = 999;
	expect_violation(fx, &d, "pay", "well-formed graph", "edge #0 joins operations #999", NULL);
	dag_free(&d);

	planned_dag(&d, PREFER_STEP, &o);
	d.ops[o.reg[1]].target = 77;
	expect_violation(fx, &d, "pay", "well-formed graph", "out of range", NULL);
	dag_free(&d);

	/* A gate is a plan operation; a sync is a device operation. */
	planned_dag(&d, PREFER_STEP, &o);
	d.ops[o.sync[0]].target_kind = DAG_TARGET_WORKGROUP;
	expect_violation(fx, &d, "pay", "well-formed graph", "s1.sync.w1 acts on a workgroup", NULL);
	dag_free(&d);

	planned_dag(&d, PREFER_STEP, &o);
	dag_finish(&d);
	d.finished = false;
	struct diag_list diags;
	diag_list_init(&diags);
	ck_assert(!verify_dag(&d, fx->m, plan_index(fx, "pay"), &diags));
	ck_assert_uint_eq(diags.len, 1);
	ck_assert_ptr_nonnull(strstr(diags.items[0]->message, "the DAG was not finished"));
	diag_list_free(&diags);
	dag_free(&d);

	/* A DAG whose steps are not the plan's. */
	planned_dag(&d, PREFER_STEP, &o);
	expect_violation(fx, &d, "pay-auto", "well-formed graph", "step 4 is 'prefer', but the plan's step 4 is 'migrate'",
	                 NULL);
	dag_free(&d);
}
END_TEST

/* An operation moved to another step: the wrong kind for it, or out of its workgroup's order. */
START_TEST(test_operation_in_wrong_step)
{
	struct dag d;
	struct ops o;
	planned_dag(&d, PREFER_STEP, &o);
	d.ops[o.reg[0]].step = d.ops[o.pon[0]].step;
	expect_violation(fx, &d, "pay", "well-formed graph", "s7.register.w1 is a register operation in step 7", NULL);
	dag_free(&d);

	/* Power-on before register: the edge reversed. */
	planned_dag(&d, PREFER_STEP, &o);
	remove_edge(&d, o.reg[1], o.pon[1]);
	dag_add_edge(&d, o.pon[1], o.reg[1], DAG_EDGE_STEP);
	expect_violation(fx, &d, "pay", "one operation per step, in step order",
	                 "s7.power-on.w2 is not ordered after s6.register.w2, workgroup w2's previous step", NULL);
	dag_free(&d);

	/* A workgroup without its register operation, and one with two. */
	planned_dag(&d, PREFER_STEP, &o);
	d.ops[o.reg[2]].target = W_APP1;
	expect_violation(fx, &d, "pay", "workgroup w2 has two operations in step 6, s6.register.w2 and s6.register.w2",
	                 NULL);
	expect_violation(fx, &d, "pay", "workgroup w3 has no operation in step 6 (register)", NULL);
	dag_free(&d);

	/* Register is for workgroups that move by storage. */
	planned_dag(&d, PREFER_STEP, &o);
	uint32_t x = dag_add_op(&d, DAG_REGISTER, DAG_TARGET_WORKGROUP, W_WEB1, d.ops[o.reg[0]].step, WEST, 0);
	dag_add_edge(&d, x, o.prompt, DAG_EDGE_BARRIER);
	expect_violation(fx, &d, "pay", "s6.register.w4 acts on workgroup w4, which moves by live migration", NULL);
	dag_free(&d);
}
END_TEST

START_TEST(test_cycle)
{
	struct dag d;
	struct ops o;
	planned_dag(&d, PREFER_STEP, &o);
	dag_add_edge(&d, o.prompt, o.sync[0], DAG_EDGE_BARRIER);
	expect_violation(fx, &d, "pay", "no cycle",
	                 "cycle: s1.sync.lun-101 -> s3.failover.cg-pay -> s7.power-on.w1 -> s7.gate.p2 -> s7.power-on.w2 "
	                 "-> s7.power-on.w3 -> s8.prompt -> s1.sync.lun-101",
	                 NULL);
	dag_free(&d);

	planned_dag(&d, PREFER_STEP, &o);
	dag_add_edge(&d, o.gate, o.gate, DAG_EDGE_PRIORITY);
	expect_violation(fx, &d, "pay", "no cycle", "cycle: s7.gate.p2 -> s7.gate.p2", NULL);
	dag_free(&d);
}
END_TEST

/* ---- Workgroups ---- */

START_TEST(test_vm_in_two_workgroups)
{
	struct dag d;
	struct ops o;
	planned_dag(&d, PREFER_STEP, &o);
	d.vms[5].name = "web-01";
	expect_violation(fx, &d, "pay", "workgroups", "VM 'web-01' is in two workgroups, w4 and w5", NULL);
	expect_violation(fx, &d, "pay", "workgroups", "VM 'web-02' of the plan is in no workgroup", NULL);
	dag_free(&d);

	/* A VM that the plan does not move. */
	planned_dag(&d, PREFER_STEP, &o);
	d.vms[3].name = "other-01";
	expect_violation(fx, &d, "pay", "workgroups", "VM 'other-01' is in workgroup w3, but the plan does not protect",
	                 NULL);
	dag_free(&d);
}
END_TEST

START_TEST(test_workgroup_not_alike)
{
	struct dag d;
	struct ops o;
	planned_dag(&d, PREFER_STEP, &o);
	d.workgroups[W_DB].priority = 2;
	expect_violation(fx, &d, "pay", "workgroups", "VM 'db-01' of priority 1 is in workgroup w1 of priority 2", NULL);
	dag_free(&d);

	/* A workgroup that leaves out one of its VMs' devices. */
	planned_dag(&d, PREFER_STEP, &o);
	d.workgroups[W_DB].n_devices = 1;
	expect_violation(fx, &d, "pay", "workgroups", "VM 'db-01' is on device 'lun-102', which is not one of workgroup w1's",
	                 NULL);
	dag_free(&d);

	planned_dag(&d, PREFER_STEP, &o);
	d.workgroups[W_WEB1].live = false;
	expect_violation(fx, &d, "pay", "workgroups", "VM 'web-01' moves by live migration but is in workgroup w4", NULL);
	dag_free(&d);

	/* Larger than the plan's workgroup size. */
	planned_dag(&d, PREFER_STEP, &o);
	d.workgroup_size = 1;
	expect_violation(fx, &d, "pay", "workgroups", "workgroup w1 has 2 VMs, more than the workgroup size 1", NULL);
	dag_free(&d);
}
END_TEST

START_TEST(test_after_pair_in_one_workgroup)
{
	struct dag d;
	struct ops o;
	planned_dag(&d, PREFER_STEP, &o);
	/* app-02 joins app-01 in w2; w3 is left empty. */
	d.workgroups[W_APP1].n_vms = 2;
	d.workgroups[W_APP2].first_vm = 4;
	d.workgroups[W_APP2].n_vms = 0;
	d.vms[3].workgroup = W_APP1;
	expect_violation(fx, &d, "pay", "after dependencies", "VM 'app-02' powers on after 'app-01', but both are in workgroup w2",
	                 NULL);
	dag_free(&d);
}
END_TEST

/* ---- 2: prefer before migrate ---- */

START_TEST(test_prefer_before_migrate)
{
	struct dag d;
	struct ops o;
	planned_dag(&d, PREFER_STEP, &o);
	remove_edge(&d, o.prefer, o.mig[0]);
	expect_violation(fx, &d, "pay", "prefer before migrate",
	                 "live migration s5.migrate.w4 is not ordered after s4.prefer.metro-7, the preference switch of its "
	                 "stretched device 'metro-7'",
	                 NULL);
	dag_free(&d);

	/* The compiler forgot to insert the prefer step. */
	planned_dag(&d, PREFER_NONE, &o);
	expect_violation(fx, &d, "pay-auto", "prefer before migrate",
	                 "live migration s4.migrate.w4 has no preference switch of its stretched device 'metro-7'", NULL);
	dag_free(&d);

	/* A preference switched to the wrong site. */
	planned_dag(&d, PREFER_STEP, &o);
	d.ops[o.prefer].site = EAST;
	expect_violation(fx, &d, "pay", "prefer before migrate", "s4.prefer.metro-7 prefers site 'east'", NULL);
	dag_free(&d);

	/* An inserted prefer step after the migration. */
	planned_dag(&d, PREFER_INSERTED, &o);
	d.steps[3].kind = AST_STEP_MIGRATE;
	d.steps[3].inserted = false;
	d.steps[4].kind = AST_STEP_PREFER;
	d.steps[4].inserted = true;
	d.ops[o.prefer].step = 4;
	for (int i = 0; i < 2; i++)
		d.ops[o.mig[i]].step = 3;
	expect_violation(fx, &d, "pay-auto", "prefer before migrate", "does not come before a 'migrate live' step", NULL);
	dag_free(&d);
}
END_TEST

/* ---- 3 and 4: storage ---- */

START_TEST(test_storage_before_register_and_power_on)
{
	struct dag d;
	struct ops o;
	planned_dag(&d, PREFER_STEP, &o);
	remove_edge(&d, o.fo_cg, o.reg[0]);
	expect_violation(fx, &d, "pay", "storage before register and power-on",
	                 "s6.register.w1 is not ordered after s3.failover.cg-pay, the failover of device 'lun-101'", NULL);
	dag_free(&d);

	test_dag(&d, &o);
	remove_edge(&d, o.fo_103, o.pon[2]);
	remove_edge(&d, o.fo_103, o.reg[2]);
	expect_violation(fx, &d, "pay-test", "storage before register and power-on",
	                 "s2.register.w3 is not ordered after s1.snapshot.lun-103, the test snapshot of device 'lun-103'",
	                 NULL);
	dag_free(&d);
}
END_TEST

START_TEST(test_sync_and_shutdown_before_failover)
{
	struct dag d;
	struct ops o;
	planned_dag(&d, PREFER_STEP, &o);
	remove_edge(&d, o.sync[1], o.fo_cg);
	expect_violation(fx, &d, "pay", "sync before failover",
	                 "s3.failover.cg-pay is not ordered after s1.sync.lun-102, the sync of its device 'lun-102'", NULL);
	dag_free(&d);

	planned_dag(&d, PREFER_STEP, &o);
	remove_edge(&d, o.shut[2], o.fo_103);
	expect_violation(fx, &d, "pay", "shutdown before failover",
	                 "s3.failover.lun-103 is not ordered after s2.shutdown.w3, the shutdown of workgroup w3 on device "
	                 "'lun-103'",
	                 NULL);
	dag_free(&d);
}
END_TEST

/* ---- 5: priorities and `after` ---- */

START_TEST(test_priority_and_after)
{
	struct dag d;
	struct ops o;
	planned_dag(&d, PREFER_STEP, &o);
	remove_edge(&d, o.gate, o.pon[1]);
	expect_violation(fx, &d, "pay", "power-on by priority",
	                 "s7.power-on.w2 (priority 2) is not ordered after s7.power-on.w1 (priority 1)", NULL);
	dag_free(&d);

	planned_dag(&d, PREFER_STEP, &o);
	remove_edge(&d, o.pon[1], o.pon[2]);
	expect_violation(fx, &d, "pay", "after dependencies",
	                 "s7.power-on.w3 (VM 'app-02') is not ordered after s7.power-on.w2 (VM 'app-01', its 'after' target)",
	                 NULL);
	dag_free(&d);

	/* `after` orders power-ons only: VMs that migrate live never stop, so their migrations are not
	 * ordered by it. */
	planned_dag(&d, PREFER_STEP, &o);
	remove_edge(&d, o.mig[0], o.mig[1]);
	dag_add_edge(&d, o.mig[0], o.prompt, DAG_EDGE_BARRIER);
	expect_clean(fx, &d, "pay");
	dag_free(&d);

	/* The power-on step must keep the plan's `by priority`. */
	planned_dag(&d, PREFER_STEP, &o);
	d.steps[d.ops[o.pon[0]].step].by_priority = false;
	expect_violation(fx, &d, "pay", "power-on by priority",
	                 "step 7 (power-on) is not by priority in the DAG but by priority in the plan", NULL);
	dag_free(&d);
}
END_TEST

/* ---- 6: consistency groups ---- */

START_TEST(test_consistency_group_per_device)
{
	struct dag d;
	struct ops o;
	planned_dag(&d, PREFER_STEP, &o);
	/* cg-pay failed over device by device. */
	d.ops[o.fo_cg].target_kind = DAG_TARGET_DEVICE;
	d.ops[o.fo_cg].target = LUN101;
	uint32_t x = dag_add_op(&d, DAG_FAILOVER, DAG_TARGET_DEVICE, LUN102, d.ops[o.fo_cg].step, WEST, 0);
	dag_add_edge(&d, o.sync[1], x, DAG_EDGE_SYNC);
	dag_add_edge(&d, o.shut[0], x, DAG_EDGE_SHUTDOWN);
	dag_add_edge(&d, x, o.reg[0], DAG_EDGE_STORAGE);
	dag_add_edge(&d, x, o.pon[0], DAG_EDGE_STORAGE);
	expect_violation(fx, &d, "pay", "one failover per consistency group",
	                 "s3.failover.lun-102 fails over device 'lun-102' alone, but it belongs to consistency group 'cg-pay'",
	                 NULL);
	dag_free(&d);

	/* A device failed over twice. */
	planned_dag(&d, PREFER_STEP, &o);
	x = dag_add_op(&d, DAG_FAILOVER, DAG_TARGET_DEVICE, LUN101, d.ops[o.fo_cg].step, WEST, 0);
	dag_add_edge(&d, x, o.prompt, DAG_EDGE_BARRIER);
	expect_violation(fx, &d, "pay", "one failover per consistency group",
	                 "device 'lun-101' has two operations in step 3, s3.failover.cg-pay and s3.failover.lun-101", NULL);
	dag_free(&d);

	/* A device that nothing fails over. */
	planned_dag(&d, PREFER_STEP, &o);
	d.ops[o.fo_103].kind = DAG_SYNC;
	d.ops[o.fo_103].step = 0;
	expect_violation(fx, &d, "pay", "one failover per consistency group",
	                 "device 'lun-103' is not failed over: no operation of step 3 covers it", NULL);
	dag_free(&d);

	/* The DAG's group must list the model's devices: the runtime fails over what it lists. */
	planned_dag(&d, PREFER_STEP, &o);
	d.groups[0].n_devices = 1;
	expect_violation(fx, &d, "pay", "one failover per consistency group",
	                 "consistency group 'cg-pay' of the DAG leaves out its device 'lun-102'", NULL);
	dag_free(&d);
}
END_TEST

/* ---- 7: test mode ---- */

START_TEST(test_test_mode)
{
	struct dag d;
	struct ops o;
	test_dag(&d, &o);
	uint32_t x = dag_add_op(&d, DAG_SHUTDOWN, DAG_TARGET_WORKGROUP, W_DB, 0, EAST, 0);
	dag_add_edge(&d, x, o.reg[0], DAG_EDGE_STEP);
	expect_violation(fx, &d, "pay-test", "test mode leaves the protected site alone",
	                 "a test must not touch the protected site, but the DAG has s1.shutdown.w1", NULL);
	dag_free(&d);

	test_dag(&d, &o);
	d.ops[o.fo_103].kind = DAG_FAILOVER;
	expect_violation(fx, &d, "pay-test", "test mode leaves the protected site alone", "s1.failover.lun-103", NULL);
	dag_free(&d);

	test_dag(&d, &o);
	d.ops[o.reg[1]].site = EAST;
	expect_violation(fx, &d, "pay-test", "test mode leaves the protected site alone",
	                 "s2.register.w2 acts at the protected site 'east' in a test", NULL);
	dag_free(&d);
}
END_TEST

/* ---- 8: plan-wide steps ---- */

START_TEST(test_plan_wide_steps)
{
	struct dag d;
	struct ops o;
	planned_dag(&d, PREFER_STEP, &o);
	remove_edge(&d, o.mig[1], o.prompt);
	expect_violation(fx, &d, "pay", "plan-wide steps", "plan-wide step s8.prompt does not wait for s5.migrate.w5", NULL);
	dag_free(&d);

	/* Everything after a barrier waits for it: the test plan's scripts after its prompt. */
	test_dag(&d, &o);
	remove_edge(&d, o.prompt, o.run[W_WEB1]);
	expect_violation(fx, &d, "pay-test", "plan-wide steps", "s5.run.w4 does not wait for plan-wide step s4.prompt", NULL);
	dag_free(&d);

	/* The second barrier: everything before the first one too, through it. */
	test_dag(&d, &o);
	remove_edge(&d, o.run[W_APP2], o.wait);
	expect_violation(fx, &d, "pay-test", "plan-wide steps", "plan-wide step s6.wait does not wait for s5.run.w3", NULL);
	dag_free(&d);

	/* Two operations for one plan-wide step. */
	planned_dag(&d, PREFER_STEP, &o);
	uint32_t x = dag_add_op(&d, DAG_PROMPT, DAG_TARGET_PLAN, 0, d.ops[o.prompt].step, DAG_NONE, 0);
	dag_add_edge(&d, o.prompt, x, DAG_EDGE_BARRIER);
	expect_violation(fx, &d, "pay", "step 8 (prompt) acts on the whole plan and needs one operation, not several", NULL);
	dag_free(&d);
}
END_TEST

/* ---- Many violations: 20 shown, then a count ---- */

START_TEST(test_report_limit)
{
	struct dag d;
	struct ops o;
	planned_dag(&d, PREFER_STEP, &o);
	d.n_edges = 0;
	dag_finish(&d);
	struct diag_list diags;
	diag_list_init(&diags);
	ck_assert(!verify_dag(&d, fx->m, plan_index(fx, "pay"), &diags));
	ck_assert_uint_eq(diags.len, VERIFY_MAX_REPORTS + 1);
	ck_assert_ptr_nonnull(strstr(diags.items[VERIFY_MAX_REPORTS]->message, "more times (only the first 20 are shown"));
	ck_assert_ptr_nonnull(diags.items[0]->hint);
	diag_list_free(&diags);
	dag_free(&d);
}
END_TEST

/* ---- A big DAG ---- */

/* BIG_WG workgroups of two VMs each (vm<2k> and vm<2k+1>), on BIG_DEV replicated devices (groups
 * of four devices in consistency groups, the rest alone), priority 1 + k % BIG_PRI; the plan
 * syncs, shuts down, fails over, registers, powers on by priority and prompts. */
#define BIG_WG 50000
#define BIG_DEV 200
#define BIG_PRI 5

static char *big_plan_text(void)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "site east { adapter sim }\nsite west { adapter sim }\n");
	for (int i = 0; i < BIG_DEV; i++) {
		buf_printf(&b, "device lun-%03d at east replicated to peer-%03d at west", i, i);
		if (i < BIG_DEV / 2)
			buf_printf(&b, " consistency cg-%02d", i / 4);
		buf_putc(&b, '\n');
	}
	buf_puts(&b, "protection big { devices");
	for (int i = 0; i < BIG_DEV; i++)
		buf_printf(&b, " lun-%03d", i);
	buf_puts(&b, " }\n");
	for (int k = 0; k < BIG_WG; k++)
		for (int j = 0; j < 2; j++)
			buf_printf(&b, "vm vm%06d priority %d on lun-%03d\n", 2 * k + j, 1 + k % BIG_PRI, k % BIG_DEV);
	/* vm000008 (workgroup 4, priority 5) after vm000000 (workgroup 0, priority 1): both up ops. */
	buf_puts(&b, "vm vm000008 after vm000000\n");
	buf_puts(&b, "plan big {\n  from east to west\n  mode planned\n  protect big\n  workgroup 2\n"
	             "  step sync storage\n  step shutdown vms\n  step failover storage\n  step register vms\n"
	             "  step power-on vms by priority\n  step prompt \"done\"\n}\n");
	return buf_detach(&b);
}

struct big {
	struct dag d;
	char (*names)[12];
	uint32_t *pon;     /* per workgroup */
	uint32_t *gate;    /* per priority */
	uint32_t prompt;
};

/* The big plan's DAG, built the way the contract says, as a lowering would. With `split`, the
 * power-ons of priority 2 reach those of priority 3 through two gates, each waiting for half of
 * them: no one operation is reached by all of priority 2, so only the exact check can tell. */
static void big_dag(struct big *g, bool split)
{
	struct dag *d = &g->d;
	dag_init(d);
	d->name = "big";
	d->mode = AST_MODE_PLANNED;
	d->workgroup_size = 2;
	d->sites = arena_alloc(&d->arena, 2 * sizeof *d->sites);
	d->sites[0].name = "east";
	d->sites[1].name = "west";
	d->n_sites = 2;
	d->from = 0;
	d->to = 1;
	g->names = xmalloc((size_t)(2 * BIG_WG + BIG_DEV + 64) * sizeof *g->names);
	char (*nm)[12] = g->names;
	d->devices = arena_alloc(&d->arena, BIG_DEV * sizeof *d->devices);
	uint32_t n_groups = BIG_DEV / 8;
	d->groups = arena_alloc(&d->arena, n_groups * sizeof *d->groups);
	uint32_t *group_devs = arena_alloc(&d->arena, BIG_DEV * sizeof *group_devs);
	for (uint32_t i = 0; i < BIG_DEV; i++) {
		snprintf(*nm, sizeof *nm, "lun-%03u", i);
		bool grouped = i < BIG_DEV / 2;
		d->devices[i] = (struct dag_device){*nm++, "", DAG_REPLICATED, 0, 1, grouped ? i / 4 : DAG_NONE, DAG_NONE};
		group_devs[i] = i;
	}
	for (uint32_t c = 0; c < n_groups; c++) {
		snprintf(*nm, sizeof *nm, "cg-%02u", c);
		d->groups[c] = (struct dag_group){*nm++, group_devs + 4 * c, 4};
	}
	d->n_devices = BIG_DEV;
	d->n_groups = n_groups;
	d->vms = arena_alloc(&d->arena, 2 * BIG_WG * sizeof *d->vms);
	d->workgroups = arena_alloc(&d->arena, BIG_WG * sizeof *d->workgroups);
	for (uint32_t k = 0; k < BIG_WG; k++) {
		for (uint32_t j = 0; j < 2; j++) {
			snprintf(*nm, sizeof *nm, "vm%06u", 2 * k + j);
			d->vms[2 * k + j] = (struct dag_vm){*nm++, DAG_NONE, k};
		}
		d->workgroups[k] = (struct dag_workgroup){(int32_t)(1 + k % BIG_PRI), false, 2 * k, 2, group_devs + k % BIG_DEV, 1};
	}
	d->n_vms = 2 * BIG_WG;
	d->n_workgroups = BIG_WG;
	d->steps = arena_alloc(&d->arena, 6 * sizeof *d->steps);
	enum ast_step_kind kinds[] = {AST_STEP_SYNC, AST_STEP_SHUTDOWN, AST_STEP_FAILOVER, AST_STEP_REGISTER,
	                              AST_STEP_POWER_ON, AST_STEP_PROMPT};
	for (uint32_t s = 0; s < 6; s++)
		d->steps[s] = (struct dag_step){.kind = kinds[s], .site = DAG_NONE};
	d->steps[1].site = 0;
	d->steps[3].site = 1;
	d->steps[4].by_priority = true;
	d->n_steps = 6;

	uint32_t sync[BIG_DEV], fo[BIG_DEV];
	for (uint32_t i = 0; i < BIG_DEV; i++)
		sync[i] = dag_add_op(d, DAG_SYNC, DAG_TARGET_DEVICE, i, 0, 0, 0);
	uint32_t *shut = xmalloc(BIG_WG * sizeof *shut), *reg = xmalloc(BIG_WG * sizeof *reg);
	g->pon = xmalloc(BIG_WG * sizeof *g->pon);
	for (uint32_t k = 0; k < BIG_WG; k++)
		shut[k] = dag_add_op(d, DAG_SHUTDOWN, DAG_TARGET_WORKGROUP, k, 1, 0, 0);
	for (uint32_t i = 0; i < BIG_DEV; i++) {
		if (i < BIG_DEV / 2 && i % 4)
			fo[i] = fo[i - i % 4];
		else if (i < BIG_DEV / 2)
			fo[i] = dag_add_op(d, DAG_FAILOVER, DAG_TARGET_GROUP, i / 4, 2, 1, 0);
		else
			fo[i] = dag_add_op(d, DAG_FAILOVER, DAG_TARGET_DEVICE, i, 2, 1, 0);
		dag_add_edge(d, sync[i], fo[i], DAG_EDGE_SYNC);
	}
	for (uint32_t k = 0; k < BIG_WG; k++)
		reg[k] = dag_add_op(d, DAG_REGISTER, DAG_TARGET_WORKGROUP, k, 3, 1, 0);
	for (uint32_t k = 0; k < BIG_WG; k++)
		g->pon[k] = dag_add_op(d, DAG_POWER_ON, DAG_TARGET_WORKGROUP, k, 4, 1, 0);
	g->gate = xmalloc((BIG_PRI + 2) * sizeof *g->gate);
	for (uint32_t p = 2; p <= BIG_PRI; p++)
		g->gate[p] = dag_add_op(d, DAG_GATE, DAG_TARGET_PLAN, p, 4, DAG_NONE, 0);
	g->gate[BIG_PRI + 1] = split ? dag_add_op(d, DAG_GATE, DAG_TARGET_PLAN, 3, 4, DAG_NONE, 0) : DAG_NONE;
	g->prompt = dag_add_op(d, DAG_PROMPT, DAG_TARGET_PLAN, 0, 5, DAG_NONE, 0);
	for (uint32_t k = 0; k < BIG_WG; k++) {
		uint32_t dev = k % BIG_DEV, p = 1 + k % BIG_PRI;
		dag_add_edge(d, shut[k], fo[dev], DAG_EDGE_SHUTDOWN);
		dag_add_edge(d, shut[k], reg[k], DAG_EDGE_STEP);
		dag_add_edge(d, fo[dev], reg[k], DAG_EDGE_STORAGE);
		dag_add_edge(d, reg[k], g->pon[k], DAG_EDGE_STEP);
		dag_add_edge(d, fo[dev], g->pon[k], DAG_EDGE_STORAGE);
		if (p > 1)
			dag_add_edge(d, g->gate[p], g->pon[k], DAG_EDGE_PRIORITY);
		if (p == 3 && split)
			dag_add_edge(d, g->gate[BIG_PRI + 1], g->pon[k], DAG_EDGE_PRIORITY);
		if (p == 2 && split && k % 2)
			dag_add_edge(d, g->pon[k], g->gate[BIG_PRI + 1], DAG_EDGE_PRIORITY);
		else if (p < BIG_PRI)
			dag_add_edge(d, g->pon[k], g->gate[p + 1], DAG_EDGE_PRIORITY);
		dag_add_edge(d, g->pon[k], g->prompt, DAG_EDGE_BARRIER);
	}
	dag_add_edge(d, g->pon[0], g->pon[4], DAG_EDGE_AFTER);
	free(shut);
	free(reg);
}

static void big_free(struct big *g)
{
	dag_free(&g->d);
	free(g->names);
	free(g->pon);
	free(g->gate);
}

START_TEST(test_big_dag)
{
	char *text = big_plan_text();
	struct fixture *f = load_plan(text);
	free(text);
	struct big g;
	big_dag(&g, false);
	expect_clean(f, &g.d, "big");
	big_free(&g);

	/* Two half gates: correct, but only the bit masks can show it. */
	big_dag(&g, true);
	expect_clean(f, &g.d, "big");
	big_free(&g);

	/* One power-on of priority 3 that does not wait for its gate: every power-on of priority 2
	 * (10,000) is missing before it. */
	big_dag(&g, false);
	remove_edge(&g.d, g.gate[3], g.pon[2]);
	char *out = verify(f, &g.d, "big");
	ck_assert_ptr_nonnull(strstr(out, "s5.power-on.w3 (priority 3) is not ordered after s5.power-on.w2 (priority 2)"));
	ck_assert_ptr_nonnull(strstr(out, "compiled DAG breaks its guarantees 9980 more times"));
	free(out);
	big_free(&g);

	/* One power-on of priority 2 (w7) that the gate does not wait for: each of the 10,000 of
	 * priority 3 misses exactly that one, except w8, which waits for it directly. */
	big_dag(&g, false);
	remove_edge(&g.d, g.pon[6], g.gate[3]);
	dag_add_edge(&g.d, g.pon[6], g.pon[7], DAG_EDGE_PRIORITY);
	out = verify(f, &g.d, "big");
	ck_assert_ptr_nonnull(strstr(out, "s5.power-on.w3 (priority 3) is not ordered after s5.power-on.w7 (priority 2)"));
	ck_assert_ptr_null(strstr(out, "s5.power-on.w8 (priority 3)"));
	ck_assert_ptr_nonnull(strstr(out, "compiled DAG breaks its guarantees 9979 more times"));
	free(out);
	big_free(&g);

	big_dag(&g, false);
	remove_edge(&g.d, g.pon[0], g.pon[4]);
	/* Still ordered through the priorities: 0 is priority 1, 4 is priority 5. */
	expect_clean(f, &g.d, "big");
	big_free(&g);

	fixture_free(f);
}
END_TEST

Suite *verify_suite(void)
{
	Suite *s = suite_create("verify");
	TCase *tc = tcase_create("verify");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_correct_dags);
	tcase_add_test(tc, test_extra_edges_and_gates);
	tcase_add_test(tc, test_structure);
	tcase_add_test(tc, test_operation_in_wrong_step);
	tcase_add_test(tc, test_cycle);
	tcase_add_test(tc, test_vm_in_two_workgroups);
	tcase_add_test(tc, test_workgroup_not_alike);
	tcase_add_test(tc, test_after_pair_in_one_workgroup);
	tcase_add_test(tc, test_prefer_before_migrate);
	tcase_add_test(tc, test_storage_before_register_and_power_on);
	tcase_add_test(tc, test_sync_and_shutdown_before_failover);
	tcase_add_test(tc, test_priority_and_after);
	tcase_add_test(tc, test_consistency_group_per_device);
	tcase_add_test(tc, test_test_mode);
	tcase_add_test(tc, test_plan_wide_steps);
	tcase_add_test(tc, test_report_limit);
	tcase_add_test(tc, test_cleanup_discard_after_unregister);
	suite_add_tcase(s, tc);
	TCase *big = tcase_create("big");
	tcase_set_timeout(big, 120);
	tcase_add_test(big, test_big_dag);
	suite_add_tcase(s, big);
	return s;
}
