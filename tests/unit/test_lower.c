/* test_lower.c: lowering small plans to DAGs, compared operation by operation and edge by edge with
 * what docs/language.md section 7 says they must be; determinism under reordered declarations. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../compiler/dag.h"
#include "../../compiler/load.h"
#include "../../compiler/lower.h"
#include "../../compiler/model.h"
#include "../../compiler/verify.h"
#include "lowered.h"
#include "suites.h"

/* The DAG as text: workgroups, then one line per operation with its predecessors and why. */
static char *dump(const struct dag *d)
{
	struct buf out = BUF_INIT;
	for (uint32_t w = 0; w < d->n_workgroups; w++) {
		const struct dag_workgroup *wg = &d->workgroups[w];
		buf_printf(&out, "w%u p%d %s [", w + 1, wg->priority, wg->live ? "live" : "storage");
		for (uint32_t k = 0; k < wg->n_devices; k++)
			buf_printf(&out, "%s%s", k ? " " : "", d->devices[wg->devices[k]].name);
		buf_puts(&out, "]:");
		for (uint32_t v = 0; v < wg->n_vms; v++)
			buf_printf(&out, " %s", d->vms[wg->first_vm + v].name);
		buf_putc(&out, '\n');
	}
	for (uint32_t i = 0; i < d->n_ops; i++) {
		dag_op_id(d, i, &out);
		if (d->ops[i].flags & DAG_BEST_EFFORT)
			buf_puts(&out, " (best-effort)");
		const struct dag_op *op = &d->ops[i];
		for (uint32_t e = op->first_pred; e < op->first_pred + op->n_preds; e++) {
			buf_puts(&out, e == op->first_pred ? " <- " : ", ");
			dag_op_id(d, d->edges[e].from, &out);
			buf_printf(&out, " (%s)", dag_edge_kind_names[d->edges[e].kind]);
		}
		buf_putc(&out, '\n');
	}
	return buf_detach(&out);
}

static const char planned_dag[] =
	"w1 p1 storage [lun-1 lun-2]: db-01 db-02\n"
	"w2 p2 storage [lun-3]: app-01\n"
	"w3 p2 live [metro-1]: web-01\n"
	"s1.sync.lun-1\n"
	"s1.sync.lun-2\n"
	"s1.sync.lun-3\n"
	"s2.shutdown.w1\n"
	"s2.shutdown.w2\n"
	"s3.failover.cg-a <- s1.sync.lun-1 (sync), s1.sync.lun-2 (sync), s2.shutdown.w1 (shutdown)\n"
	"s3.failover.lun-3 <- s1.sync.lun-3 (sync), s2.shutdown.w2 (shutdown)\n"
	"s4.prefer.metro-1\n"
	"s5.migrate.w3 <- s4.prefer.metro-1 (prefer)\n"
	"s6.register.w1 <- s2.shutdown.w1 (step), s3.failover.cg-a (storage)\n"
	"s6.register.w2 <- s2.shutdown.w2 (step), s3.failover.lun-3 (storage)\n"
	"s7.power-on.w1 <- s6.register.w1 (step)\n"
	"s7.gate.p2 <- s7.power-on.w1 (priority)\n"
	"s7.power-on.w2 <- s6.register.w2 (step), s7.power-on.w1 (after), s7.gate.p2 (priority)\n"
	"s8.prompt <- s5.migrate.w3 (barrier), s7.power-on.w2 (barrier)\n"
	"s9.run.w1 <- s8.prompt (barrier)\n"
	"s9.run.w2 <- s8.prompt (barrier)\n"
	"s9.run.w3 <- s8.prompt (barrier)\n";

START_TEST(test_planned)
{
	struct lowered l;
	lower_text(&l, WORLD VMS PLANNED);
	char *text = dump(&l.dag);
	ck_assert_str_eq(text, planned_dag);
	/* The inserted prefer step: flagged, at the recovery site, and announced in a note. */
	ck_assert_uint_eq(l.dag.n_steps, 9);
	ck_assert(l.dag.steps[3].inserted);
	ck_assert_uint_eq(l.dag.steps[3].kind, AST_STEP_PREFER);
	ck_assert_str_eq(l.dag.sites[l.dag.steps[3].site].name, "west");
	ck_assert_uint_eq(l.diags.len, 1);
	ck_assert_uint_eq(l.diags.items[0]->rule, DRP048);
	ck_assert_ptr_nonnull(strstr(l.diags.items[0]->message, "inserted 'step prefer west'"));
	ck_assert_uint_eq(l.dag.steps[1].line, 18); /* shutdown: the plan starts on line 12 */
	ck_assert_uint_eq(l.dag.workgroup_size, 2);
	ck_assert_str_eq(l.dag.sites[0].adapter, "sim"); /* `site east { adapter sim }` */
	ck_assert_uint_eq(l.dag.sites[0].n_settings, 0);
	free(text);
	lowered_free(&l);
}
END_TEST

/* Declarations in another order (devices, VMs, the protection group's list) give the same DAG. */
START_TEST(test_reordered_declarations)
{
	struct lowered a, b;
	lower_text(&a, WORLD VMS PLANNED);
	lower_text(&b, "site west { adapter sim }\n"
	               "site east { adapter sim }\n"
	               "vm web-01 priority 2 on metro-1\n"
	               "device metro-1 stretched between east and west prefer east\n"
	               "device lun-3 at east replicated to lun-3p at west\n"
	               "vm app-01 priority 2 after db-01 on lun-3\n"
	               "device lun-2 at east replicated to lun-2p at west consistency cg-a\n"
	               "device lun-1 at east replicated to lun-1p at west consistency cg-a\n"
	               "vm db-01 priority 1 on lun-1 lun-2\n"
	               "vm db-02 priority 1 on lun-2 lun-1\n"
	               "protection p { devices metro-1 lun-3 lun-2 lun-1 }\n" PLANNED);
	char *x = dump(&a.dag), *y = dump(&b.dag);
	ck_assert_str_eq(x, y);
	free(x);
	free(y);
	lowered_free(&a);
	lowered_free(&b);
}
END_TEST

/* A VM that waits for another of its own priority and devices goes into a later workgroup. */
START_TEST(test_after_within_priority)
{
	struct lowered l;
	lower_text(&l, WORLD "vm auth-01 priority 1 on lun-3\n"
	                     "vm app-01 priority 1 after auth-01 on lun-3\n"
	                     "vm app-02 priority 1 on lun-3\n"
	                     "plan p1 {\n  from east to west\n  mode planned\n  protect p\n"
	                     "  step sync storage\n  step shutdown vms\n  step failover storage\n"
	                     "  step register vms\n  step power-on vms by priority\n}\n");
	char *text = dump(&l.dag);
	ck_assert_ptr_nonnull(strstr(text, "w1 p1 storage [lun-3]: app-02 auth-01\n"
	                                   "w2 p1 storage [lun-3]: app-01\n"));
	ck_assert_ptr_nonnull(strstr(text, "s5.power-on.w2 <- s4.register.w2 (step), s5.power-on.w1 (after)\n"));
	free(text);
	lowered_free(&l);
}
END_TEST

/* Test mode: snapshots instead of failovers, nothing at the protected site. Disaster mode: the
 * protected site's operations are best-effort. */
START_TEST(test_modes)
{
	struct lowered t;
	lower_text(&t, WORLD "vm db-01 priority 1 on lun-3\n"
	                     "plan t {\n  from east to west\n  mode test\n  protect p\n"
	                     "  step failover storage\n  step register vms\n  step power-on vms\n  step wait 2m\n}\n");
	char *text = dump(&t.dag);
	ck_assert_str_eq(text, "w1 p1 storage [lun-3]: db-01\n"
	                       "s1.snapshot.cg-a\n"
	                       "s1.snapshot.lun-3\n"
	                       "s2.register.w1 <- s1.snapshot.lun-3 (storage)\n"
	                       "s3.power-on.w1 <- s2.register.w1 (step)\n"
	                       "s4.wait <- s1.snapshot.cg-a (barrier), s3.power-on.w1 (barrier)\n");
	ck_assert_int_eq(t.dag.steps[3].wait_ms, 120000);
	free(text);
	lowered_free(&t);

	struct lowered d;
	lower_text(&d, WORLD "vm db-01 priority 1 on lun-3\n"
	                     "plan d {\n  from east to west\n  mode disaster\n  protect p\n"
	                     "  step sync storage\n  step shutdown vms\n  step failover storage\n"
	                     "  step register vms\n  step power-on vms\n}\n");
	text = dump(&d.dag);
	ck_assert_ptr_nonnull(strstr(text, "s1.sync.lun-3 (best-effort)\n"));
	ck_assert_ptr_nonnull(strstr(text, "s2.shutdown.w1 (best-effort)\n"));
	ck_assert_ptr_nonnull(strstr(text, "s3.failover.lun-3 <- s1.sync.lun-3 (sync), s2.shutdown.w1 (shutdown)\n"));
	free(text);
	lowered_free(&d);
}
END_TEST

/* Cleanup (test-failover stop): the test VMs are shut down and unregistered at the recovery site,
 * then each consistency group's or lone device's snapshot is discarded after the unregister of
 * every workgroup on it; live workgroups (which a test never copied) have no operation. */
START_TEST(test_cleanup)
{
	struct lowered l;
	lower_text(&l, WORLD VMS "vm app-02 priority 3 on lun-3\n"
	                         "plan c {\n  from east to west\n  mode cleanup\n  protect p\n  workgroup 2\n"
	                         "  step shutdown vms\n  step unregister vms\n  step discard snapshots\n"
	                         "  step wait 1m\n}\n");
	char *text = dump(&l.dag);
	ck_assert_str_eq(text, "w1 p1 storage [lun-1 lun-2]: db-01 db-02\n"
	                       "w2 p2 storage [lun-3]: app-01\n"
	                       "w3 p2 live [metro-1]: web-01\n"
	                       "w4 p3 storage [lun-3]: app-02\n"
	                       "s1.shutdown.w1\n"
	                       "s1.shutdown.w2\n"
	                       "s1.shutdown.w4\n"
	                       "s2.unregister.w1 <- s1.shutdown.w1 (step)\n"
	                       "s2.unregister.w2 <- s1.shutdown.w2 (step)\n"
	                       "s2.unregister.w4 <- s1.shutdown.w4 (step)\n"
	                       "s3.discard.cg-a <- s2.unregister.w1 (unregister)\n"
	                       "s3.discard.lun-3 <- s2.unregister.w2 (unregister), s2.unregister.w4 (unregister)\n"
	                       "s4.wait <- s3.discard.cg-a (barrier), s3.discard.lun-3 (barrier)\n");
	/* Both at the recovery site: the test's copies, never production. */
	uint32_t west = l.dag.to;
	for (uint32_t i = 0; i + 1 < l.dag.n_ops; i++)
		ck_assert_uint_eq(l.dag.ops[i].site, west);
	free(text);
	lowered_free(&l);
}
END_TEST

/* Workgroups are cut at the plan's size, and priorities chain through one gate each. */
START_TEST(test_workgroup_size_and_gates)
{
	struct lowered l;
	lower_text(&l, WORLD "vm a-0? priority 1\n"
	                     "vm b-0? priority 2\n"
	                     "vm c-0? priority 3\n"
	                     "vm a-01 on lun-3\nvm a-02 on lun-3\nvm a-03 on lun-3\n"
	                     "vm b-01 on lun-3\nvm c-01 on lun-3\nvm c-02 on lun-1 lun-2\n"
	                     "plan p1 {\n  from east to west\n  mode disaster\n  protect p\n  workgroup 2\n"
	                     "  step failover storage\n  step register vms\n  step power-on vms by priority\n}\n");
	char *text = dump(&l.dag);
	ck_assert_str_eq(text, "w1 p1 storage [lun-3]: a-01 a-02\n"
	                       "w2 p1 storage [lun-3]: a-03\n"
	                       "w3 p2 storage [lun-3]: b-01\n"
	                       "w4 p3 storage [lun-1 lun-2]: c-02\n"
	                       "w5 p3 storage [lun-3]: c-01\n"
	                       "s1.failover.cg-a\n"
	                       "s1.failover.lun-3\n"
	                       "s2.register.w1 <- s1.failover.lun-3 (storage)\n"
	                       "s2.register.w2 <- s1.failover.lun-3 (storage)\n"
	                       "s2.register.w3 <- s1.failover.lun-3 (storage)\n"
	                       "s2.register.w4 <- s1.failover.cg-a (storage)\n"
	                       "s2.register.w5 <- s1.failover.lun-3 (storage)\n"
	                       "s3.power-on.w1 <- s2.register.w1 (step)\n"
	                       "s3.power-on.w2 <- s2.register.w2 (step)\n"
	                       "s3.gate.p2 <- s3.power-on.w1 (priority), s3.power-on.w2 (priority)\n"
	                       "s3.power-on.w3 <- s2.register.w3 (step), s3.gate.p2 (priority)\n"
	                       "s3.gate.p3 <- s3.power-on.w3 (priority)\n"
	                       "s3.power-on.w4 <- s2.register.w4 (step), s3.gate.p3 (priority)\n"
	                       "s3.power-on.w5 <- s2.register.w5 (step), s3.gate.p3 (priority)\n");
	free(text);
	lowered_free(&l);
}
END_TEST

/* Placement: each VM gets a recovery host, the hosts of `to` by name dealt round-robin in the
 * DAG's VM order (workgroups in order, VMs by name), whatever order the inventory lists them in. */
#define PLACE_SITES(west)                                                                       \
	"version: 1\n"                                                                              \
	"sites:\n"                                                                                  \
	"  - name: east\n"                                                                          \
	"    hosts: [esx-e01, esx-e02]\n"                                                           \
	"  - name: west\n"                                                                          \
	"    hosts: " west "\n"                                                                     \
	"devices:\n"                                                                                \
	"  - {id: lun-1, site: east, kind: replicated, peer: {id: lun-1p, site: west}}\n"           \
	"  - {id: lun-3, site: east, kind: replicated, peer: {id: lun-3p, site: west}}\n"           \
	"vms:\n"
#define PLACE_PLAN(mode)                                                                        \
	"site east { adapter sim }\nsite west { adapter sim }\ninventory \"inv.yaml\"\n"             \
	"protection p { devices lun-1 lun-3 }\n"                                                    \
	"vm db-* priority 1\nvm app-* priority 2\n"                                                 \
	"plan dr {\n  from east to west\n  mode " mode "\n  protect p\n  workgroup 2\n"              \
	"  step failover storage\n  step register vms\n  step power-on vms by priority\n}\n"

static char *placement(const struct dag *d)
{
	struct buf out = BUF_INIT;
	for (uint32_t v = 0; v < d->n_vms; v++) {
		const struct dag_vm *vm = &d->vms[v];
		buf_printf(&out, "w%u %s: %s -> %s\n", vm->workgroup + 1, vm->name,
		           vm->host < d->n_hosts ? d->hosts[vm->host].name : "~",
		           dag_vm_to_host(d, v) < d->n_hosts ? d->hosts[dag_vm_to_host(d, v)].name : "~");
	}
	return buf_detach(&out);
}

/* Removes what lower_files wrote in dir, and dir. */
static void remove_plan_dir(const char *dir)
{
	char path[96];
	snprintf(path, sizeof path, "%s/plan.drp", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/inv.yaml", dir);
	unlink(path);
	rmdir(dir);
}

static void lower_in_tmp(struct lowered *l, const char *plan, const char *inventory)
{
	char dir[64];
	snprintf(dir, sizeof dir, "/tmp/drplan-lower-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	lower_files(l, dir, plan, inventory);
	remove_plan_dir(dir);
}

START_TEST(test_placement)
{
	struct lowered a, b;
	lower_in_tmp(&a, PLACE_PLAN("disaster"),
	             PLACE_SITES("[esx-w03, esx-w01, esx-w02]")
	             "  - {name: db-02, host: esx-e02, devices: [lun-1]}\n"
	             "  - {name: db-01, host: esx-e01, devices: [lun-1]}\n"
	             "  - {name: app-03, host: esx-e01, devices: [lun-3]}\n"
	             "  - {name: app-01, host: esx-e01, devices: [lun-3]}\n"
	             "  - {name: app-02, host: esx-e02, devices: [lun-3]}\n");
	char *x = placement(&a.dag);
	ck_assert_str_eq(x, "w1 db-01: esx-e01 -> esx-w01\n"
	                    "w1 db-02: esx-e02 -> esx-w02\n"
	                    "w2 app-01: esx-e01 -> esx-w03\n"
	                    "w2 app-02: esx-e02 -> esx-w01\n"
	                    "w3 app-03: esx-e01 -> esx-w02\n");
	/* The table has every recovery host used, at its site. */
	ck_assert_uint_eq(a.dag.n_hosts, 5);
	for (uint32_t h = 0; h < a.dag.n_hosts; h++)
		ck_assert_str_eq(a.dag.sites[a.dag.hosts[h].site].name, a.dag.hosts[h].name[4] == 'w' ? "west" : "east");
	/* Reordered: the inventory's hosts and VMs in another order place the same. */
	lower_in_tmp(&b, PLACE_PLAN("disaster"),
	             PLACE_SITES("[esx-w02, esx-w03, esx-w01]")
	             "  - {name: app-02, host: esx-e02, devices: [lun-3]}\n"
	             "  - {name: app-01, host: esx-e01, devices: [lun-3]}\n"
	             "  - {name: db-01, host: esx-e01, devices: [lun-1]}\n"
	             "  - {name: app-03, host: esx-e01, devices: [lun-3]}\n"
	             "  - {name: db-02, host: esx-e02, devices: [lun-1]}\n");
	char *y = placement(&b.dag);
	ck_assert_str_eq(x, y);
	free(x);
	free(y);
	lowered_free(&a);
	lowered_free(&b);

	/* Fewer VMs than hosts: only the hosts used enter the table. A reprotect places nothing. */
	lower_in_tmp(&a, PLACE_PLAN("test"),
	             PLACE_SITES("[esx-w03, esx-w01, esx-w02]") "  - {name: db-01, host: esx-e01, devices: [lun-1]}\n");
	x = placement(&a.dag);
	ck_assert_str_eq(x, "w1 db-01: esx-e01 -> esx-w01\n");
	ck_assert_uint_eq(a.dag.n_hosts, 2);
	free(x);
	lowered_free(&a);
	lower_in_tmp(&a, "site east { adapter sim }\nsite west { adapter sim }\ninventory \"inv.yaml\"\n"
	                 "protection p { devices lun-1 lun-3 }\n"
	                 "plan rp {\n  from west to east\n  mode reprotect\n  protect p\n  step reverse storage\n}\n",
	             PLACE_SITES("[esx-w01]") "  - {name: db-01, host: esx-e01, devices: [lun-1]}\n");
	x = placement(&a.dag);
	ck_assert_str_eq(x, "w1 db-01: esx-e01 -> ~\n");
	free(x);
	lowered_free(&a);
	/* A recovery site that lists no hosts: no placement. */
	lower_in_tmp(&a, PLACE_PLAN("disaster"), PLACE_SITES("[]") "  - {name: db-01, host: esx-e01, devices: [lun-1]}\n");
	x = placement(&a.dag);
	ck_assert_str_eq(x, "w1 db-01: esx-e01 -> ~\n");
	free(x);
	lowered_free(&a);
}
END_TEST

/* A VM being moved (a storage-migration record): its workgroup holds both devices, so the
 * failovers of both copies come before its register; the DAG carries the record; and the verifier
 * rejects a DAG that lost either. */
START_TEST(test_migration_record)
{
	char dir[64];
	snprintf(dir, sizeof dir, "/tmp/drplan-lower-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	struct lowered l;
	lower_files(&l, dir,
	            RUNTIME_WORLD "plan dr {\n  from east to west\n  mode disaster\n  protect p\n"
	                          "  step failover storage\n  step migrate live\n  step register vms\n"
	                          "  step power-on vms\n}\n",
	            RUNTIME_INVENTORY "storage_migrations:\n"
	                              "  - {vm: app-01, from: lun-3, to: lun-1, state: in-progress, "
	                              "time: \"2024-05-14T22:41:07Z\"}\n");
	char *text = dump(&l.dag);
	ck_assert_str_eq(text, "w1 p1 storage [lun-1 lun-2]: db-01 db-02\n"
	                       "w2 p2 storage [lun-1 lun-3]: app-01\n"
	                       "w3 p2 live [metro-1]: web-01\n"
	                       "s1.failover.cg-a\n"
	                       "s1.failover.lun-3\n"
	                       "s2.prefer.metro-1\n"
	                       "s3.migrate.w3 <- s2.prefer.metro-1 (prefer)\n"
	                       "s4.register.w1 <- s1.failover.cg-a (storage)\n"
	                       "s4.register.w2 <- s1.failover.cg-a (storage), s1.failover.lun-3 (storage)\n"
	                       "s5.power-on.w1 <- s4.register.w1 (step)\n"
	                       "s5.power-on.w2 <- s4.register.w2 (step)\n");
	free(text);
	struct dag *d = &l.dag;
	ck_assert_uint_eq(d->n_migrations, 1);
	const struct dag_migration *mg = &d->migrations[0];
	ck_assert_str_eq(d->vms[mg->vm].name, "app-01");
	ck_assert_ptr_eq(dag_vm_migration(d, mg->vm), mg);
	ck_assert_ptr_null(dag_vm_migration(d, 0));
	ck_assert_str_eq(d->devices[mg->from].name, "lun-3");
	ck_assert_str_eq(d->devices[mg->to].name, "lun-1");
	ck_assert_uint_eq(mg->state, DAG_MIGRATION_IN_PROGRESS);

	uint32_t plan = 0;
	struct diag_list diags;
	diag_list_init(&diags);
	ck_assert(verify_dag(d, l.model, plan, &diags));
	/* Without the destination's device, the workgroup no longer waits for that copy. */
	struct dag_workgroup *wg = &d->workgroups[d->vms[mg->vm].workgroup];
	const uint32_t *devices = wg->devices;
	uint32_t lone = mg->from;
	wg->devices = &lone;
	wg->n_devices = 1;
	ck_assert(!verify_dag(d, l.model, plan, &diags));
	ck_assert_ptr_nonnull(strstr(diags.items[diags.len - 1]->message, "not one of workgroup w2's"));
	wg->devices = devices;
	wg->n_devices = 2;
	/* Without the record, the run would register the source copy whatever the devices say. */
	d->n_migrations = 0;
	ck_assert(!verify_dag(d, l.model, plan, &diags));
	ck_assert_ptr_nonnull(strstr(diags.items[diags.len - 1]->message, "carries 0 storage-migration records"));
	d->n_migrations = 1;
	diag_list_free(&diags);
	lowered_free(&l);
	remove_plan_dir(dir);
}
END_TEST

Suite *lower_suite(void)
{
	Suite *s = suite_create("lower");
	TCase *tc = tcase_create("lower");
	tcase_add_test(tc, test_planned);
	tcase_add_test(tc, test_reordered_declarations);
	tcase_add_test(tc, test_after_within_priority);
	tcase_add_test(tc, test_modes);
	tcase_add_test(tc, test_cleanup);
	tcase_add_test(tc, test_workgroup_size_and_gates);
	tcase_add_test(tc, test_migration_record);
	tcase_add_test(tc, test_placement);
	suite_add_tcase(s, tc);
	return s;
}
