/* test_sim.c: the simulator adapter on small plans lowered from text: its physics (each rule broken
 * once), idempotence, effects.log lines and their checksums, reopening a state directory (snapshot
 * plus later effects), reconciliation queries, group commit under many threads, deterministic
 * latencies, injected failures, and adapter_perform's mapping of operations to the vtable. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../compiler/dag.h"
#include "../../compiler/load.h"
#include "../../compiler/lower.h"
#include "../../compiler/model.h"
#include "../../lib/crc32c.h"
#include "../../runtime/adapter.h"
#include "../../runtime/adapters/sim.h"
#include "lowered.h"
#include "suites.h"

/* ---- Plans */

#define STEPS_FAILOVER                                                                          \
	"  step sync storage\n"                                                                     \
	"  step shutdown vms at east\n"                                                             \
	"  step failover storage\n"                                                                 \
	"  step prefer west\n"                                                                      \
	"  step migrate live\n"                                                                     \
	"  step register vms\n"                                                                     \
	"  step power-on vms by priority\n"                                                         \
	"  step prompt \"done?\"\n"

static const char planned[] = RUNTIME_WORLD "plan move {\n  from east to west\n  mode planned\n  protect p\n  workgroup 2\n"
                              STEPS_FAILOVER "}\n";
static const char disaster[] = RUNTIME_WORLD "plan dr {\n  from east to west\n  mode disaster\n  protect p\n  workgroup 2\n"
                               STEPS_FAILOVER "}\n";
static const char test_plan[] = RUNTIME_WORLD "plan rehearse {\n  from east to west\n  mode test\n  protect p\n  workgroup 2\n"
                                "  step failover storage\n  step register vms\n  step power-on vms\n}\n";
static const char cleanup_plan[] = RUNTIME_WORLD "plan tidy {\n  from east to west\n  mode cleanup\n  protect p\n"
                                   "  workgroup 2\n  step shutdown vms\n  step unregister vms\n"
                                   "  step discard snapshots\n}\n";
static const char reprotect[] = RUNTIME_WORLD "plan back {\n  from west to east\n  mode reprotect\n  protect p\n"
                                "  step reverse storage\n  step sync storage\n}\n";

struct compiled {
	char dir[64];
	struct lowered l;
};

/* Compiles the only plan of `plan` against `inventory` (written beside it in a temporary
 * directory) into c->l.dag. */
static void compile(struct compiled *c, const char *plan, const char *inventory)
{
	snprintf(c->dir, sizeof c->dir, "/tmp/drplan-sim-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(c->dir));
	lower_files(&c->l, c->dir, plan, inventory);
}

static void remove_dir(const char *dir)
{
	const char *files[] = {"inv.yaml", "plan.drp", "effects.log", "world.yaml"};
	char path[160];
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

static void compiled_free(struct compiled *c)
{
	lowered_free(&c->l);
	remove_dir(c->dir);
}

static uint32_t find_op(const struct dag *d, const char *id)
{
	struct buf b = BUF_INIT;
	for (uint32_t i = 0; i < d->n_ops; i++) {
		buf_clear(&b);
		dag_op_id(d, i, &b);
		if (!strcmp(b.data, id)) {
			buf_free(&b);
			return i;
		}
	}
	buf_free(&b);
	ck_abort_msg("no operation %s", id);
	return DAG_NONE;
}

static bool adapter_op(const struct dag *d, uint32_t i)
{
	enum dag_op_kind k = (enum dag_op_kind)d->ops[i].kind;
	return k <= DAG_REVERSE && k != DAG_RUN;
}

static struct adapter *open_sim(const struct dag *d, const struct sim_options *o)
{
	char err[300] = "";
	struct adapter *a = sim_open(d, o, err, sizeof err);
	ck_assert_msg(a != NULL, "sim_open: %s", err);
	return a;
}

/* Performs operation `id` (attempt 1 of run 1) and returns the reply. */
static struct adapter_reply perform(struct adapter *a, const struct dag *d, const char *id)
{
	struct adapter_request req = {.dag = d, .op = find_op(d, id), .attempt = 1, .run = 1};
	struct adapter_reply r;
	adapter_perform(a, &req, &r);
	return r;
}

#define ck_done(r) ck_assert_msg((r).status == ADAPTER_DONE, "failed: %s", (r).message)

static void ck_failed(struct adapter_reply r, const char *words)
{
	ck_assert_msg(r.status == ADAPTER_FAILED, "expected a failure (%s), got status %d", words, r.status);
	ck_assert_msg(strstr(r.message, words) != NULL, "'%s' does not say '%s'", r.message, words);
}

/* Performs every adapter operation of the plan in topological order; all must succeed. */
static void perform_all(struct adapter *a, const struct dag *d)
{
	uint32_t *order = malloc(((size_t)d->n_ops + 1) * sizeof *order);
	ck_assert_uint_eq(dag_topo_order(d, order), d->n_ops);
	for (uint32_t k = 0; k < d->n_ops; k++) {
		if (!adapter_op(d, order[k]))
			continue;
		struct adapter_request req = {.dag = d, .op = order[k], .attempt = 1, .run = 1};
		struct adapter_reply r;
		adapter_perform(a, &req, &r);
		ck_done(r);
	}
	free(order);
}

static char *describe_vm(struct adapter *a, const char *vm)
{
	struct buf b = BUF_INIT;
	sim_describe_vm(a, vm, &b);
	return buf_detach(&b);
}

static char *describe_device(struct adapter *a, const char *device)
{
	struct buf b = BUF_INIT;
	sim_describe_device(a, device, &b);
	return buf_detach(&b);
}

/* Every VM's and device's description, one per line: "the world" for comparisons. */
static char *describe_world(struct adapter *a, const struct dag *d)
{
	struct buf b = BUF_INIT;
	for (uint32_t v = 0; v < d->n_vms; v++) {
		buf_printf(&b, "%s: ", d->vms[v].name);
		sim_describe_vm(a, d->vms[v].name, &b);
		buf_putc(&b, '\n');
	}
	for (uint32_t i = 0; i < d->n_devices; i++) {
		buf_printf(&b, "%s: ", d->devices[i].name);
		sim_describe_device(a, d->devices[i].name, &b);
		buf_putc(&b, '\n');
	}
	return buf_detach(&b);
}

static void ck_describes(struct adapter *a, const char *vm, const char *want)
{
	char *got = describe_vm(a, vm);
	ck_assert_str_eq(got, want);
	free(got);
}

static void ck_device(struct adapter *a, const char *device, const char *want)
{
	char *got = describe_device(a, device);
	ck_assert_str_eq(got, want);
	free(got);
}

static enum adapter_outcome query(struct adapter *a, const struct dag *d, const char *id)
{
	struct adapter_request req = {.dag = d, .op = find_op(d, id), .attempt = 1, .run = 1};
	return adapter_query_op(a, &req);
}

static char *state_dir(void)
{
	char *dir = strdup("/tmp/drplan-simstate-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	return dir;
}

static char *read_log(const char *dir)
{
	char path[160];
	snprintf(path, sizeof path, "%s/effects.log", dir);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	if (!b.data)
		buf_puts(&b, "");
	return buf_detach(&b);
}

/* The effect lines of a log without their checksum and seq ("<run> <op> <attempt> <effect>
 * <object>"), after checking each checksum and that seqs ascend from 1. */
static char *effects_of(const char *log)
{
	struct buf out = BUF_INIT;
	const char *p = strchr(log, '\n');
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(strncmp(log, "# drplan-sim-effects 1 ", 23), 0);
	unsigned long long want_seq = 1;
	for (p++; *p;) {
		const char *nl = strchr(p, '\n');
		ck_assert_ptr_nonnull(nl);
		unsigned crc;
		unsigned long long seq;
		int used = 0;
		ck_assert_int_eq(sscanf(p, "%8x %llu %n", &crc, &seq, &used), 2);
		ck_assert_uint_eq(crc, crc32c(0, p + 9, (size_t)(nl - p - 9)));
		ck_assert_uint_eq(seq, want_seq++);
		buf_append(&out, p + used, (size_t)(nl + 1 - (p + used)));
		p = nl + 1;
	}
	if (!out.data)
		buf_puts(&out, "");
	return buf_detach(&out);
}

static void free_state(char *dir)
{
	remove_dir(dir);
	free(dir);
}

/* ---- Tests */

START_TEST(test_planned_failover)
{
	struct compiled c;
	compile(&c, planned, RUNTIME_INVENTORY);
	struct sim_options o = {.virtual_time = true, .seed = 1};
	struct adapter *a = open_sim(&c.l.dag, &o);
	ck_describes(a, "db-01", "on at east (esx-e01)");
	ck_device(a, "lun-1", "lun-1 at east: writable; lun-1p at west: passive; replicating east -> west");
	perform_all(a, &c.l.dag);
	char *world = describe_world(a, &c.l.dag);
	/* At west each VM runs on the recovery host the plan placed it on (round-robin by name). */
	ck_assert_str_eq(world, "db-01: on at west (esx-w01); off at east (esx-e01)\n"
	                        "db-02: on at west (esx-w02); off at east (esx-e02)\n"
	                        "app-01: on at west (esx-w01); off at east (esx-e01)\n"
	                        "web-01: on at west (esx-w02)\n"
	                        "lun-1: lun-1 at east: read-only; lun-1p at west: writable; replication split\n"
	                        "lun-2: lun-2 at east: read-only; lun-2p at west: writable; replication split\n"
	                        "lun-3: lun-3 at east: read-only; lun-3p at west: writable; replication split\n"
	                        "metro-1: stretched between east and west, prefers west\n");
	free(world);
	for (uint32_t i = 0; i < c.l.dag.n_ops; i++) {
		if (!adapter_op(&c.l.dag, i))
			continue;
		struct adapter_request req = {.dag = &c.l.dag, .op = i, .attempt = 1, .run = 1};
		ck_assert_int_eq(adapter_query_op(a, &req), ADAPTER_HAPPENED);
	}
	ck_describes(a, "nobody", "no VM named nobody");
	a->vt->close(a);
	compiled_free(&c);
}
END_TEST

/* The simulator registers a VM on the recovery host the DAG gives it, whichever that is: here the
 * placement of a compiled plan changed by hand (esx-w02 dealt first: db-01 and app-01 on esx-w02,
 * db-02 on esx-w01). */
START_TEST(test_recovery_host)
{
	struct compiled c;
	compile(&c, planned, RUNTIME_INVENTORY);
	struct dag *d = &c.l.dag;
	ck_assert_str_eq(d->vms[0].name, "db-01");
	ck_assert_str_eq(d->vms[2].name, "app-01");
	ck_assert_uint_eq(d->n_placement, 2);
	uint32_t w1 = d->placement[0], w2 = d->placement[1];
	ck_assert_str_eq(d->hosts[w1].name, "esx-w01");
	ck_assert_str_eq(d->hosts[w2].name, "esx-w02");
	ck_assert_uint_eq(dag_vm_to_host(d, 2), w1);
	d->placement[0] = w2;
	d->placement[1] = w1;
	struct sim_options o = {.virtual_time = true, .seed = 1};
	struct adapter *a = open_sim(d, &o);
	perform_all(a, d);
	ck_describes(a, "db-01", "on at west (esx-w02); off at east (esx-e01)");
	ck_describes(a, "db-02", "on at west (esx-w01); off at east (esx-e02)");
	ck_describes(a, "app-01", "on at west (esx-w02); off at east (esx-e01)");
	a->vt->close(a);
	compiled_free(&c);
}
END_TEST

/* Each rule of the physics, broken once, names the object it protects. */
START_TEST(test_physics)
{
	struct compiled c;
	compile(&c, planned, RUNTIME_INVENTORY);
	struct sim_options o = {.virtual_time = true};
	struct adapter *a = open_sim(&c.l.dag, &o);
	/* A passive peer cannot be registered from before promotion. */
	ck_failed(perform(a, &c.l.dag, "s6.register.w1"), "lun-1p, the peer of lun-1, is passive at west");
	/* A VM cannot power on where it is not registered. */
	ck_failed(perform(a, &c.l.dag, "s7.power-on.w1"), "cannot power on db-01 at west: it is not registered there");
	/* A live migration needs its stretched devices to prefer the destination. */
	ck_failed(perform(a, &c.l.dag, "s5.migrate.w3"), "cannot live-migrate web-01 to west: stretched device metro-1 prefers east");
	ck_done(perform(a, &c.l.dag, "s4.prefer.metro-1"));
	ck_done(perform(a, &c.l.dag, "s5.migrate.w3"));
	ck_describes(a, "web-01", "on at west (esx-w02)");
	ck_done(perform(a, &c.l.dag, "s5.migrate.w3")); /* already there: idempotent */
	/* Failover, then replication is split: a sync of the promoted pair is refused. */
	ck_done(perform(a, &c.l.dag, "s3.failover.cg-a"));
	ck_failed(perform(a, &c.l.dag, "s1.sync.lun-1"), "cannot sync lun-1: replication is split");
	ck_done(perform(a, &c.l.dag, "s1.sync.lun-3"));
	/* Nothing failed left a trace: the failed operations never happened. */
	ck_assert_int_eq(query(a, &c.l.dag, "s6.register.w1"), ADAPTER_NOT_HAPPENED);
	ck_assert_int_eq(query(a, &c.l.dag, "s1.sync.lun-1"), ADAPTER_NOT_HAPPENED);
	ck_assert_int_eq(query(a, &c.l.dag, "s1.sync.lun-3"), ADAPTER_HAPPENED);
	a->vt->close(a);

	/* prepare-failover needs the protected site; a planned failover fails without it, a
	 * best-effort one goes on and promotes the peer. */
	const char *east[] = {"east"};
	struct sim_options down = {.virtual_time = true, .down_sites = east, .n_down_sites = 1};
	a = open_sim(&c.l.dag, &down);
	struct adapter_request req = {.dag = &c.l.dag, .op = find_op(&c.l.dag, "s3.failover.lun-3"), .attempt = 1, .run = 1};
	struct adapter_reply r;
	a->vt->prepare_failover(a, &req, &r);
	ck_failed(r, "cannot prepare the failover of lun-3: site east is down");
	ck_failed(perform(a, &c.l.dag, "s3.failover.lun-3"), "site east is down");
	ck_assert_int_eq(query(a, &c.l.dag, "s3.failover.lun-3"), ADAPTER_NOT_HAPPENED);
	ck_failed(perform(a, &c.l.dag, "s2.shutdown.w1"), "cannot shut down db-01: site east is down");
	req.best_effort = true;
	adapter_perform(a, &req, &r);
	ck_done(r);
	ck_device(a, "lun-3", "lun-3 at east: writable; lun-3p at west: writable; replication split");
	a->vt->close(a);
	compiled_free(&c);
}
END_TEST

/* A VM registered at a site whose device is passive (a hand-edited snapshot) cannot power on. */
START_TEST(test_power_on_from_passive_device)
{
	struct compiled c;
	compile(&c, planned, RUNTIME_INVENTORY);
	char *dir = state_dir();
	struct sim_options o = {.virtual_time = true, .state_dir = dir};
	struct adapter *a = open_sim(&c.l.dag, &o);
	a->vt->close(a);
	char path[160];
	snprintf(path, sizeof path, "%s/world.yaml", dir);
	char *text = NULL;
	{
		FILE *f = fopen(path, "r");
		ck_assert_ptr_nonnull(f);
		struct buf b = BUF_INIT;
		char chunk[4096];
		size_t n;
		while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
			buf_append(&b, chunk, n);
		fclose(f);
		text = buf_detach(&b);
	}
	const char *from = "db-01: {east: {host: esx-e01, power: on}}";
	char *p = strstr(text, from);
	ck_assert_msg(p != NULL, "world.yaml:\n%s", text);
	struct buf edited = BUF_INIT;
	buf_append(&edited, text, (size_t)(p - text));
	buf_puts(&edited, "db-01: {east: {host: esx-e01, power: off}, west: {power: off}}");
	buf_puts(&edited, p + strlen(from));
	write_text(path, edited.data);
	a = open_sim(&c.l.dag, &o);
	ck_describes(a, "db-01", "off at east (esx-e01); off at west");
	ck_failed(perform(a, &c.l.dag, "s7.power-on.w1"), "cannot power on db-01 at west: lun-1p, the peer of lun-1, is passive");
	ck_done(perform(a, &c.l.dag, "s3.failover.cg-a"));
	ck_done(perform(a, &c.l.dag, "s6.register.w1")); /* db-02; db-01 already is */
	ck_done(perform(a, &c.l.dag, "s7.power-on.w1"));
	ck_describes(a, "db-01", "on at west; off at east (esx-e01)");
	a->vt->close(a);
	buf_free(&edited);
	free(text);
	free_state(dir);
	compiled_free(&c);
}
END_TEST

START_TEST(test_idempotence)
{
	struct compiled c;
	compile(&c, planned, RUNTIME_INVENTORY);
	struct sim_options o = {.virtual_time = true};
	struct adapter *a = open_sim(&c.l.dag, &o);
	ck_done(perform(a, &c.l.dag, "s2.shutdown.w1"));
	ck_done(perform(a, &c.l.dag, "s2.shutdown.w1")); /* already off */
	ck_describes(a, "db-01", "off at east (esx-e01)");
	ck_done(perform(a, &c.l.dag, "s3.failover.cg-a"));
	ck_done(perform(a, &c.l.dag, "s3.failover.cg-a")); /* already promoted */
	ck_done(perform(a, &c.l.dag, "s6.register.w1"));
	ck_done(perform(a, &c.l.dag, "s6.register.w1"));
	ck_done(perform(a, &c.l.dag, "s7.power-on.w1"));
	ck_done(perform(a, &c.l.dag, "s7.power-on.w1")); /* already on */
	ck_describes(a, "db-02", "on at west (esx-w02); off at east (esx-e02)");
	/* Every performance is logged, no-ops included, so a duplicate shows in effects.log; except
	 * a failover's prepare half, logged once per operation (it is redone on a resume). */
	ck_assert_uint_eq(sim_effects(a), 2 * (2 + 4 + 2 + 2) - 2u);
	a->vt->close(a);
	compiled_free(&c);
}
END_TEST

START_TEST(test_effects_log)
{
	struct compiled c;
	compile(&c, planned, RUNTIME_INVENTORY);
	char *dir = state_dir();
	struct sim_options o = {.virtual_time = true, .state_dir = dir};
	struct adapter *a = open_sim(&c.l.dag, &o);
	ck_done(perform(a, &c.l.dag, "s1.sync.lun-1"));
	ck_done(perform(a, &c.l.dag, "s2.shutdown.w1"));
	ck_done(perform(a, &c.l.dag, "s3.failover.cg-a"));
	struct adapter_request req = {.dag = &c.l.dag, .op = find_op(&c.l.dag, "s6.register.w1"), .attempt = 3, .run = 2};
	struct adapter_reply r;
	adapter_perform(a, &req, &r);
	ck_done(r);
	/* The failover resumed after its prepare half: the prepare is not logged again. */
	req = (struct adapter_request){.dag = &c.l.dag, .op = find_op(&c.l.dag, "s3.failover.cg-a"), .attempt = 1, .run = 2};
	a->vt->prepare_failover(a, &req, &r);
	ck_done(r);
	ck_assert_uint_eq(sim_effects(a), 9);
	char *log = read_log(dir);
	char *effects = effects_of(log);
	ck_assert_str_eq(effects, "1 s1.sync.lun-1 1 sync dev:lun-1\n"
	                          "1 s2.shutdown.w1 1 shutdown vm:db-01\n"
	                          "1 s2.shutdown.w1 1 shutdown vm:db-02\n"
	                          "1 s3.failover.cg-a 1 prepare-failover dev:lun-1\n"
	                          "1 s3.failover.cg-a 1 prepare-failover dev:lun-2\n"
	                          "1 s3.failover.cg-a 1 failover dev:lun-1\n"
	                          "1 s3.failover.cg-a 1 failover dev:lun-2\n"
	                          "2 s6.register.w1 3 register vm:db-01\n"
	                          "2 s6.register.w1 3 register vm:db-02\n");
	ck_assert_int_eq(strncmp(log, "# drplan-sim-effects 1 move -\n", 30), 0);
	free(effects);
	free(log);
	a->vt->close(a);
	free_state(dir);
	compiled_free(&c);
}
END_TEST

/* Runs adapter operations `skip` to `skip + n` (in topological order) of the plan on a, with a
 * checkpoint after the `checkpoint_after`th (none if 0). */
static void run_some(struct adapter *a, const struct dag *d, uint32_t skip, uint32_t n, uint32_t checkpoint_after)
{
	uint32_t *order = malloc(((size_t)d->n_ops + 1) * sizeof *order);
	dag_topo_order(d, order);
	uint32_t done = 0, seen = 0;
	for (uint32_t k = 0; k < d->n_ops && done < n; k++) {
		if (!adapter_op(d, order[k]) || seen++ < skip)
			continue;
		struct adapter_request req = {.dag = d, .op = order[k], .attempt = 1, .run = 1};
		struct adapter_reply r;
		adapter_perform(a, &req, &r);
		ck_done(r);
		if (++done == checkpoint_after) {
			char err[200];
			ck_assert_msg(sim_checkpoint(a, err, sizeof err), "%s", err);
		}
	}
	free(order);
}

static ino_t world_inode(const char *dir)
{
	char path[160];
	snprintf(path, sizeof path, "%s/world.yaml", dir);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_ino;
}

/* world.yaml is written (a new file, renamed over the old) only when the world changed since the
 * last checkpoint: the end of a run and closing the simulator both checkpoint, and at 1M VMs a
 * write takes a second. */
START_TEST(test_checkpoint_unchanged)
{
	struct compiled c;
	compile(&c, planned, RUNTIME_INVENTORY);
	char *dir = state_dir();
	struct sim_options o = {.virtual_time = true, .state_dir = dir};
	struct adapter *a = open_sim(&c.l.dag, &o);
	char err[200];
	run_some(a, &c.l.dag, 0, 2, 0);
	ck_assert_msg(sim_checkpoint(a, err, sizeof err), "%s", err);
	ino_t first = world_inode(dir);
	ck_assert_msg(sim_checkpoint(a, err, sizeof err), "%s", err);
	ck_assert_uint_eq(world_inode(dir), first);
	run_some(a, &c.l.dag, 2, 1, 0);
	ck_assert_msg(sim_checkpoint(a, err, sizeof err), "%s", err);
	ino_t second = world_inode(dir);
	ck_assert_uint_ne(second, first);
	a->vt->close(a); /* nothing new: the file stays */
	ck_assert_uint_eq(world_inode(dir), second);
	free_state(dir);
	compiled_free(&c);
}
END_TEST

/* A state directory reopened after a crash is the snapshot plus the effects logged after it. */
START_TEST(test_reopen)
{
	struct compiled c;
	compile(&c, planned, RUNTIME_INVENTORY);
	char *dir = state_dir();
	struct sim_options o = {.virtual_time = true, .state_dir = dir, .seed = 7};
	/* A child performs 8 operations with a checkpoint after 3, and dies without closing. */
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char err[300];
		struct adapter *a = sim_open(&c.l.dag, &o, err, sizeof err);
		if (!a)
			_exit(2);
		run_some(a, &c.l.dag, 0, 8, 3);
		_exit(0);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	struct sim_options mem = {.virtual_time = true};
	struct adapter *want = open_sim(&c.l.dag, &mem);
	run_some(want, &c.l.dag, 0, 8, 0);
	char *want_world = describe_world(want, &c.l.dag);

	struct adapter *a = open_sim(&c.l.dag, &o);
	char *world = describe_world(a, &c.l.dag);
	ck_assert_str_eq(world, want_world);
	ck_assert_uint_eq(sim_effects(a), sim_effects(want));
	/* Reconciliation from the log: the same answers as the world that never crashed. */
	for (uint32_t i = 0; i < c.l.dag.n_ops; i++) {
		if (!adapter_op(&c.l.dag, i))
			continue;
		struct adapter_request req = {.dag = &c.l.dag, .op = i, .attempt = 1, .run = 1};
		ck_assert_int_eq(adapter_query_op(a, &req), adapter_query_op(want, &req));
	}
	/* The rest of the plan runs on the reopened world; a clean close and reopen keeps it. */
	run_some(a, &c.l.dag, 8, UINT32_MAX, 0);
	run_some(want, &c.l.dag, 8, UINT32_MAX, 0);
	free(world);
	world = describe_world(a, &c.l.dag);
	free(want_world);
	want_world = describe_world(want, &c.l.dag);
	ck_assert_str_eq(world, want_world);
	a->vt->close(a);
	a = open_sim(&c.l.dag, &o);
	free(world);
	world = describe_world(a, &c.l.dag);
	ck_assert_str_eq(world, want_world);
	/* Seqs go on from where they were: the log stays one ascending sequence. */
	char *log = read_log(dir);
	free(effects_of(log));
	free(log);
	a->vt->close(a);
	want->vt->close(want);
	free(world);
	free(want_world);
	free_state(dir);
	compiled_free(&c);
}
END_TEST

/* A VM being moved: register reads the records on its two recovered devices, registers the
 * destination copy only when both say completed, and notes which copy and why; the world keeps
 * the copy across a reopen; sim_options.records stands for records that did not replicate. */
static const char moved_plan[] = RUNTIME_WORLD "plan dr {\n  from east to west\n  mode disaster\n  protect p\n"
                                 "  step failover storage\n  step migrate live\n  step register vms\n"
                                 "  step power-on vms\n}\n";
static const char moved_inventory[] = RUNTIME_INVENTORY
	"storage_migrations:\n"
	"  - {vm: app-01, from: lun-3, to: lun-1, state: completed, time: \"2024-05-14T22:41:07Z\"}\n";

static struct adapter_reply register_moved(struct adapter *a, const struct dag *d)
{
	ck_done(perform(a, d, "s1.failover.cg-a"));
	ck_done(perform(a, d, "s1.failover.lun-3"));
	return perform(a, d, "s4.register.w2");
}

START_TEST(test_migration_copies)
{
	struct compiled c;
	compile(&c, moved_plan, moved_inventory);
	const struct dag *d = &c.l.dag;
	ck_assert_uint_eq(d->n_migrations, 1);
	char *dir = state_dir();
	struct sim_options o = {.virtual_time = true, .state_dir = dir};
	struct adapter *a = open_sim(d, &o);
	struct buf b = BUF_INIT;
	sim_describe_vm(a, "app-01", &b);
	ck_assert_str_eq(b.data, "on at east (esx-e01, destination copy on lun-1)");
	struct adapter_reply r = register_moved(a, d);
	ck_done(r);
	ck_assert_str_eq(r.notes.data, "app-01: registered the destination copy (on lun-1): the records on lun-3 and lun-1 "
	                          "both say the move completed\n");
	buf_free(&r.notes);
	/* Registered again (already there): the same note, nothing changes. */
	r = perform(a, d, "s4.register.w2");
	ck_done(r);
	ck_assert_ptr_nonnull(strstr(r.notes.data, "registered the destination copy (on lun-1)"));
	buf_free(&r.notes);
	/* db-01 and db-02 are not being moved: no note. */
	r = perform(a, d, "s4.register.w1");
	ck_done(r);
	ck_assert_ptr_null(r.notes.data);
	buf_clear(&b);
	sim_describe_vm(a, "app-01", &b);
	ck_assert_str_eq(b.data, "on at east (esx-e01, destination copy on lun-1); off at west (esx-w01, destination copy on lun-1)");
	/* A query answers with the same words, whole (ADAPTER_WHERE_MAX once cut them at 63 bytes). */
	struct adapter_request q = {.dag = d, .op = find_op(d, "s4.register.w2"), .attempt = 2, .run = 1};
	struct adapter_vm_answer vms[1];
	struct adapter_answer ans = {.vms = vms, .n_vms = 1};
	ck_assert_uint_eq(d->workgroups[d->ops[q.op].target].n_vms, 1);
	adapter_query(a, &q, &ans);
	ck_assert_int_eq(vms[0].outcome, ADAPTER_HAPPENED);
	ck_assert_str_eq(vms[0].where, b.data);
	a->vt->close(a);
	a = open_sim(d, &o);
	buf_clear(&b);
	sim_describe_vm(a, "app-01", &b);
	ck_assert_str_eq(b.data, "on at east (esx-e01, destination copy on lun-1); off at west (esx-w01, destination copy on lun-1)");
	a->vt->close(a);
	free_state(dir);

	/* The destination's record did not reach the recovery site: the source copy, and why. */
	const char *lost[] = {"lun-1=none"};
	struct sim_options mem = {.virtual_time = true, .records = lost, .n_records = 1};
	a = open_sim(d, &mem);
	r = register_moved(a, d);
	ck_done(r);
	ck_assert_str_eq(r.notes.data, "app-01: registered the source copy (on lun-3): no migration record on lun-1 (lun-3 "
	                          "says completed), so the move cannot be taken as completed\n");
	buf_free(&r.notes);
	buf_clear(&b);
	sim_describe_vm(a, "app-01", &b);
	ck_assert_ptr_nonnull(strstr(b.data, "off at west (esx-w01, source copy on lun-3)"));
	a->vt->close(a);
	const char *stale[] = {"lun-*=in-progress"};
	mem.records = stale;
	a = open_sim(d, &mem);
	r = register_moved(a, d);
	ck_assert_ptr_nonnull(strstr(r.notes.data, "registered the source copy (on lun-3): the records on lun-3 and lun-1 say "
	                                      "the move was in progress"));
	buf_free(&r.notes);
	a->vt->close(a);
	const char *disagree[] = {"lun-3=in-progress"};
	mem.records = disagree;
	a = open_sim(d, &mem);
	r = register_moved(a, d);
	ck_assert_ptr_nonnull(strstr(r.notes.data, "the records disagree (lun-3 says in-progress, lun-1 says completed)"));
	buf_free(&r.notes);
	a->vt->close(a);
	/* Records that name no device of a record, or no state, are refused. */
	char err[300] = "";
	const char *bad[] = {"lun-2=none"};
	mem.records = bad;
	ck_assert_ptr_null(sim_open(d, &mem, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "name 'lun-2', which is no device of a storage-migration record"));
	const char *no_state[] = {"lun-1=gone"};
	mem.records = no_state;
	ck_assert_ptr_null(sim_open(d, &mem, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "'lun-1=gone' is not DEVICE=STATE"));
	buf_free(&b);
	compiled_free(&c);
}
END_TEST

static void truncate_log(const char *dir, size_t drop, const char *append)
{
	char path[160];
	snprintf(path, sizeof path, "%s/effects.log", dir);
	char *log = read_log(dir);
	size_t len = strlen(log);
	ck_assert_uint_ge(len, drop);
	log[len - drop] = '\0';
	struct buf b = BUF_INIT;
	buf_puts(&b, log);
	buf_puts(&b, append);
	write_text(path, b.data);
	buf_free(&b);
	free(log);
}

/* A torn tail is cut off; a partly logged operation is UNKNOWN; corruption is refused. */
START_TEST(test_torn_and_corrupt)
{
	struct compiled c;
	compile(&c, planned, RUNTIME_INVENTORY);
	char *dir = state_dir();
	struct sim_options o = {.virtual_time = true, .state_dir = dir};
	struct adapter *a = open_sim(&c.l.dag, &o);
	ck_done(perform(a, &c.l.dag, "s2.shutdown.w1"));
	ck_done(perform(a, &c.l.dag, "s2.shutdown.w2"));
	a->vt->close(a);
	/* Drop world.yaml, so that the world is the initial one plus the log. */
	char path[160];
	snprintf(path, sizeof path, "%s/world.yaml", dir);
	ck_assert_int_eq(unlink(path), 0);

	/* The last line (app-01's shutdown) torn halfway, then the last whole line dropped too:
	 * w1 logged for db-01 only. */
	char *log = read_log(dir);
	const char *last = strrchr(log, '\n');
	while (last > log && last[-1] != '\n')
		last--;
	size_t last_len = strlen(last);
	const char *second = last - 1;
	while (second > log && second[-1] != '\n')
		second--;
	size_t keep_second = (size_t)(last - second);
	free(log);
	truncate_log(dir, last_len + keep_second, "");
	truncate_log(dir, 0, "0123abcd 3 1 s2.shutdown.w2 1 shut");
	a = open_sim(&c.l.dag, &o);
	ck_assert_int_eq(query(a, &c.l.dag, "s2.shutdown.w1"), ADAPTER_UNKNOWN);
	ck_assert_int_eq(query(a, &c.l.dag, "s2.shutdown.w2"), ADAPTER_NOT_HAPPENED);
	ck_describes(a, "db-01", "off at east (esx-e01)");
	ck_describes(a, "db-02", "on at east (esx-e02)");
	ck_describes(a, "app-01", "on at east (esx-e01)");
	/* The torn bytes are gone: the next effect follows the last whole line. */
	ck_done(perform(a, &c.l.dag, "s2.shutdown.w2"));
	a->vt->close(a);
	log = read_log(dir);
	char *effects = effects_of(log);
	ck_assert_str_eq(effects, "1 s2.shutdown.w1 1 shutdown vm:db-01\n1 s2.shutdown.w2 1 shutdown vm:app-01\n");
	free(effects);

	/* A changed byte in the middle, with valid lines after it, is corruption. */
	char *p = strstr(log, "vm:db-01");
	ck_assert_ptr_nonnull(p);
	p[3] = 'x';
	snprintf(path, sizeof path, "%s/effects.log", dir);
	write_text(path, log);
	free(log);
	snprintf(path, sizeof path, "%s/world.yaml", dir);
	unlink(path);
	char err[300] = "";
	ck_assert_ptr_null(sim_open(&c.l.dag, &o, err, sizeof err));
	ck_assert_msg(strstr(err, "effects.log:2: checksum mismatch") && strstr(err, "corrupt"), "%s", err);
	free_state(dir);
	compiled_free(&c);
}
END_TEST

/* A state directory belongs to one plan, unless it never recorded anything. */
START_TEST(test_other_plan)
{
	struct compiled c;
	compile(&c, planned, RUNTIME_INVENTORY);
	char *dir = state_dir();
	struct sim_options o = {.virtual_time = true, .state_dir = dir};
	snprintf(c.l.dag.plan_digest, sizeof c.l.dag.plan_digest, "%064d", 1);
	struct adapter *a = open_sim(&c.l.dag, &o);
	a->vt->close(a); /* used by nobody yet */
	snprintf(c.l.dag.plan_digest, sizeof c.l.dag.plan_digest, "%064d", 2);
	a = open_sim(&c.l.dag, &o); /* so the other plan may take it */
	ck_done(perform(a, &c.l.dag, "s1.sync.lun-1"));
	a->vt->close(a);
	snprintf(c.l.dag.plan_digest, sizeof c.l.dag.plan_digest, "%064d", 3);
	char err[400] = "";
	ck_assert_ptr_null(sim_open(&c.l.dag, &o, err, sizeof err));
	ck_assert_msg(strstr(err, "holds the simulated world of another plan"), "%s", err);
	/* Nor is it taken when only the log says so (a crash before any snapshot). */
	char path[160];
	snprintf(path, sizeof path, "%s/world.yaml", dir);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_ptr_null(sim_open(&c.l.dag, &o, err, sizeof err));
	ck_assert_msg(strstr(err, "another plan"), "%s", err);
	/* A world.yaml that is not one, or not whole, is refused with where and why. */
	write_text(path, "format: 2\n");
	ck_assert_ptr_null(sim_open(&c.l.dag, &o, err, sizeof err));
	ck_assert_msg(strstr(err, "world.yaml: not a simulator world"), "%s", err);
	write_text(path, "format: 1\nplan: move\nplan-digest: '0000000000000000000000000000000000000000000000000000000000000003'\n"
	                 "seq: 0\ndevices: {}\nvms: {}\n");
	ck_assert_ptr_null(sim_open(&c.l.dag, &o, err, sizeof err));
	ck_assert_msg(strstr(err, "some devices of the plan are missing"), "%s", err);
	write_text(path, "format: 1\nplan: [\n");
	ck_assert_ptr_null(sim_open(&c.l.dag, &o, err, sizeof err));
	ck_assert_msg(strstr(err, "world.yaml:3:"), "%s", err);
	free_state(dir);
	compiled_free(&c);
}
END_TEST

/* ---- Group commit: many threads performing at once */

#define GC_VMS 48

struct gc_shared {
	struct adapter *a;
	const struct dag *d;
	uint32_t *ops;
	uint32_t n_ops;
	uint32_t next;
	pthread_mutex_t mu;
	int failures;
};

static void *gc_worker(void *arg)
{
	struct gc_shared *g = arg;
	for (;;) {
		pthread_mutex_lock(&g->mu);
		uint32_t k = g->next++;
		pthread_mutex_unlock(&g->mu);
		if (k >= g->n_ops)
			return NULL;
		struct adapter_request req = {.dag = g->d, .op = g->ops[k], .attempt = 1, .run = 1};
		struct adapter_reply r;
		adapter_perform(g->a, &req, &r);
		if (r.status != ADAPTER_DONE) {
			pthread_mutex_lock(&g->mu);
			g->failures++;
			pthread_mutex_unlock(&g->mu);
		}
	}
}

START_TEST(test_group_commit)
{
	struct buf inv = BUF_INIT;
	buf_puts(&inv, "version: 1\nsites:\n  - {name: east, hosts: [e1]}\n  - {name: west, hosts: [w1]}\ndevices:\n"
	               "  - {id: lun-1, site: east, kind: replicated, peer: {id: lun-1p, site: west}}\nvms:\n");
	for (int v = 0; v < GC_VMS; v++)
		buf_printf(&inv, "  - {name: vm-%02d, host: e1, devices: [lun-1]}\n", v);
	struct compiled c;
	compile(&c, "site east { adapter sim }\nsite west { adapter sim }\ninventory \"inv.yaml\"\n"
	            "protection p { devices lun-1 }\n"
	            "plan many {\n  from east to west\n  mode planned\n  protect p\n  workgroup 1\n"
	            "  step sync storage\n  step shutdown vms at east\n  step failover storage\n"
	            "  step register vms\n  step power-on vms\n}\n", inv.data);
	buf_free(&inv);
	char *dir = state_dir();
	struct sim_options o = {.virtual_time = true, .state_dir = dir};
	struct gc_shared g = {.a = open_sim(&c.l.dag, &o), .d = &c.l.dag};
	pthread_mutex_init(&g.mu, NULL);
	g.ops = malloc(((size_t)c.l.dag.n_ops + 1) * sizeof *g.ops);
	for (uint32_t i = 0; i < c.l.dag.n_ops; i++)
		if (c.l.dag.ops[i].kind == DAG_SHUTDOWN)
			g.ops[g.n_ops++] = i;
	ck_assert_uint_eq(g.n_ops, GC_VMS);
	pthread_t threads[16];
	for (int t = 0; t < 16; t++)
		ck_assert_int_eq(pthread_create(&threads[t], NULL, gc_worker, &g), 0);
	for (int t = 0; t < 16; t++)
		pthread_join(threads[t], NULL);
	ck_assert_int_eq(g.failures, 0);
	/* Before close: every acknowledged effect is already in the file. */
	char *log = read_log(dir);
	char *effects = effects_of(log); /* checksums, seqs 1..48 in file order */
	int seen[GC_VMS] = {0};
	int lines = 0;
	for (const char *p = effects; *p; p = strchr(p, '\n') + 1) {
		int w, v;
		ck_assert_int_eq(sscanf(p, "1 s2.shutdown.w%d 1 shutdown vm:vm-%d", &w, &v), 2);
		ck_assert_int_lt(v, GC_VMS);
		ck_assert_int_eq(w, v + 1);
		seen[v]++;
		lines++;
	}
	ck_assert_int_eq(lines, GC_VMS);
	for (int v = 0; v < GC_VMS; v++)
		ck_assert_int_eq(seen[v], 1);
	free(effects);
	free(log);
	g.a->vt->close(g.a);
	pthread_mutex_destroy(&g.mu);
	free(g.ops);
	free_state(dir);

	/* Deferred sync: an effect is written when acknowledged, and made durable by flush. */
	dir = state_dir();
	struct sim_options deferred = {.virtual_time = true, .state_dir = dir, .defer_sync = true};
	struct adapter *a = open_sim(&c.l.dag, &deferred);
	ck_done(perform(a, &c.l.dag, "s2.shutdown.w3"));
	log = read_log(dir);
	effects = effects_of(log);
	ck_assert_str_eq(effects, "1 s2.shutdown.w3 1 shutdown vm:vm-02\n");
	char err[200];
	ck_assert_msg(a->vt->flush(a, err, sizeof err), "%s", err);
	free(effects);
	free(log);
	a->vt->close(a);
	free_state(dir);
	compiled_free(&c);
}
END_TEST

START_TEST(test_latency)
{
	struct compiled c;
	compile(&c, planned, RUNTIME_INVENTORY);
	struct sim_options o = {.virtual_time = true, .seed = 42};
	struct adapter *a = open_sim(&c.l.dag, &o), *b = open_sim(&c.l.dag, &o);
	o.seed = 43;
	struct adapter *other = open_sim(&c.l.dag, &o);
	int differ = 0;
	for (uint32_t i = 0; i < c.l.dag.n_ops; i++) {
		if (!adapter_op(&c.l.dag, i))
			continue;
		for (uint32_t attempt = 1; attempt <= 3; attempt++) {
			/* Shutdown twice is fine: it is idempotent, and latency does not depend on the world. */
			struct adapter_request req = {.dag = &c.l.dag, .op = i, .attempt = attempt, .run = 1};
			struct adapter_reply r1, r2, r3;
			adapter_perform(a, &req, &r1);
			adapter_perform(b, &req, &r2);
			adapter_perform(other, &req, &r3);
			ck_assert_int_eq(r1.duration_ms, r2.duration_ms);
			int64_t model = dag_op_duration_ms(&c.l.dag, i);
			ck_assert_int_ge(r1.duration_ms, model / 2);
			ck_assert_int_le(r1.duration_ms, model * 2);
			differ += r1.duration_ms != r3.duration_ms;
		}
	}
	ck_assert_int_gt(differ, 0);
	a->vt->close(a);
	b->vt->close(b);
	other->vt->close(other);

	/* Real time: the call sleeps (scaled) and reports no virtual duration. */
	struct sim_options real = {.time_scale = 0.00001};
	a = open_sim(&c.l.dag, &real);
	struct adapter_reply r = perform(a, &c.l.dag, "s1.sync.lun-1");
	ck_done(r);
	ck_assert_int_eq(r.duration_ms, 0);
	a->vt->close(a);
	compiled_free(&c);
}
END_TEST

START_TEST(test_injected_failures)
{
	struct compiled c;
	compile(&c, planned, RUNTIME_INVENTORY);
	const char *fail[] = {"db-02", "s1.sync.lun-*"};
	const char *transient[] = {"s3.failover.lun-3"};
	struct sim_options o = {.virtual_time = true, .fail = fail, .n_fail = 2, .transient = transient,
	                        .n_transient = 1, .transient_failures = 2};
	struct adapter *a = open_sim(&c.l.dag, &o);
	ck_failed(perform(a, &c.l.dag, "s2.shutdown.w1"), "injected failure (db-02 is in the simulator's fail list)");
	ck_failed(perform(a, &c.l.dag, "s1.sync.lun-2"), "injected failure");
	ck_done(perform(a, &c.l.dag, "s2.shutdown.w2"));
	struct adapter_request req = {.dag = &c.l.dag, .op = find_op(&c.l.dag, "s3.failover.lun-3"), .run = 1};
	struct adapter_reply r;
	for (req.attempt = 1; req.attempt <= 2; req.attempt++) {
		adapter_perform(a, &req, &r);
		ck_assert_int_eq(r.status, ADAPTER_TRANSIENT);
		ck_assert_int_eq(adapter_query_op(a, &req), ADAPTER_NOT_HAPPENED);
	}
	adapter_perform(a, &req, &r);
	ck_done(r);
	ck_assert_int_eq(adapter_query_op(a, &req), ADAPTER_HAPPENED);
	/* A timeout shorter than the drawn latency fails a device operation's attempt transiently,
	 * without effect. */
	req = (struct adapter_request){.dag = &c.l.dag, .op = find_op(&c.l.dag, "s3.failover.cg-a"), .attempt = 1, .run = 1,
	                               .timeout_ms = 1000};
	adapter_perform(a, &req, &r);
	ck_assert_int_eq(r.status, ADAPTER_TRANSIENT);
	ck_assert_msg(strstr(r.message, "timed out after 1.0s (the simulated call takes "), "%s", r.message);
	ck_assert_int_eq(r.duration_ms, 1000);
	ck_assert_int_eq(adapter_query_op(a, &req), ADAPTER_NOT_HAPPENED);
	ck_device(a, "lun-1", "lun-1 at east: writable; lun-1p at west: passive; replicating east -> west");
	a->vt->close(a);

	/* Names that select nothing are refused, patterns are not. */
	char err[300] = "";
	const char *typo[] = {"db-03"};
	struct sim_options bad = {.fail = typo, .n_fail = 1};
	ck_assert_ptr_null(sim_open(&c.l.dag, &bad, err, sizeof err));
	ck_assert_msg(strstr(err, "'db-03', which is no operation, VM, device"), "%s", err);
	const char *nowhere[] = {"north"};
	struct sim_options bad_site = {.down_sites = nowhere, .n_down_sites = 1};
	ck_assert_ptr_null(sim_open(&c.l.dag, &bad_site, err, sizeof err));
	ck_assert_msg(strstr(err, "no site 'north' in plan move (its sites: east, west)"), "%s", err);
	compiled_free(&c);
}
END_TEST

/* A workgroup call that times out acts VM by VM: the first VMs are done (logged, one line each),
 * the others not; sim_query answers per VM, and a retry for the others alone completes it. */
START_TEST(test_partial_timeout)
{
	struct compiled c;
	compile(&c, planned, RUNTIME_INVENTORY);
	const struct dag *d = &c.l.dag;
	uint32_t op = find_op(d, "s2.shutdown.w1");
	ck_assert_uint_eq(d->workgroups[d->ops[op].target].n_vms, 2);
	/* The drawn latency of attempt 1, from a world that is thrown away. */
	struct sim_options o = {.virtual_time = true};
	struct adapter *a = open_sim(d, &o);
	struct adapter_reply r;
	struct adapter_request req = {.dag = d, .op = op, .attempt = 1, .run = 1};
	adapter_perform(a, &req, &r);
	ck_done(r);
	int64_t total = r.duration_ms;
	ck_assert_int_gt(total, 4);
	a->vt->close(a);

	char *dir = state_dir();
	o.state_dir = dir;
	a = open_sim(d, &o);
	req.timeout_ms = total * 3 / 4;
	adapter_perform(a, &req, &r);
	ck_assert_int_eq(r.status, ADAPTER_TRANSIENT);
	ck_assert_msg(strstr(r.message, "s2.shutdown.w1: timed out after ") && strstr(r.message, "with 1 of 2 VMs done"),
	              "%s", r.message);
	ck_assert_int_eq(r.duration_ms, req.timeout_ms);
	ck_describes(a, "db-01", "off at east (esx-e01)");
	ck_describes(a, "db-02", "on at east (esx-e02)");
	struct adapter_vm_answer vms[2];
	struct adapter_answer ans = {.vms = vms, .n_vms = 2};
	adapter_query(a, &req, &ans);
	ck_assert_int_eq(ans.outcome, ADAPTER_UNKNOWN); /* some, not all */
	ck_assert_int_eq(vms[0].outcome, ADAPTER_HAPPENED);
	ck_assert_str_eq(vms[0].where, "off at east (esx-e01)");
	ck_assert_int_eq(vms[1].outcome, ADAPTER_NOT_HAPPENED);
	/* A query about db-02 alone leaves db-01 unanswered. */
	const uint8_t second[2] = {0, 1};
	req.vms = second;
	adapter_query(a, &req, &ans);
	ck_assert_int_eq(ans.outcome, ADAPTER_NOT_HAPPENED);
	ck_assert_int_eq(vms[0].outcome, ADAPTER_UNKNOWN);
	/* The retry acts on db-02 only. */
	req.attempt = 2;
	req.timeout_ms = 0;
	adapter_perform(a, &req, &r);
	ck_done(r);
	ck_assert_int_eq(adapter_query_op(a, &(struct adapter_request){.dag = d, .op = op, .attempt = 1, .run = 1}),
	                 ADAPTER_HAPPENED);
	char *log = read_log(dir);
	char *effects = effects_of(log);
	ck_assert_str_eq(effects, "1 s2.shutdown.w1 1 shutdown vm:db-01\n"
	                          "1 s2.shutdown.w1 2 shutdown vm:db-02\n");
	free(effects);
	free(log);
	a->vt->close(a);
	free_state(dir);
	compiled_free(&c);
}
END_TEST

START_TEST(test_modes)
{
	/* Disaster: east is down; best-effort steps fail, the recovery site goes on. */
	struct compiled c;
	compile(&c, disaster, RUNTIME_INVENTORY);
	const char *east[] = {"east"};
	struct sim_options o = {.virtual_time = true, .down_sites = east, .n_down_sites = 1};
	struct adapter *a = open_sim(&c.l.dag, &o);
	ck_failed(perform(a, &c.l.dag, "s1.sync.lun-1"), "site east is down");
	ck_failed(perform(a, &c.l.dag, "s2.shutdown.w1"), "site east is down");
	ck_done(perform(a, &c.l.dag, "s3.failover.cg-a")); /* the prepare half is best-effort */
	ck_done(perform(a, &c.l.dag, "s6.register.w1"));
	ck_done(perform(a, &c.l.dag, "s7.power-on.w1"));
	ck_describes(a, "db-01", "on at east (esx-e01); on at west (esx-w01)");
	ck_done(perform(a, &c.l.dag, "s4.prefer.metro-1"));
	ck_failed(perform(a, &c.l.dag, "s5.migrate.w3"), "cannot live-migrate web-01 from east: site east is down");
	a->vt->close(a);
	compiled_free(&c);

	/* Test: snapshots at west, test copies there, east untouched. */
	compile(&c, test_plan, RUNTIME_INVENTORY);
	struct sim_options t = {.virtual_time = true};
	a = open_sim(&c.l.dag, &t);
	ck_failed(perform(a, &c.l.dag, "s2.register.w1"), "passive");
	perform_all(a, &c.l.dag);
	ck_describes(a, "db-01", "on at east (esx-e01); on at west (esx-w01, test copy)");
	ck_device(a, "lun-1", "lun-1 at east: writable; lun-1p at west: passive, test snapshot; replicating east -> west");
	a->vt->close(a);
	compiled_free(&c);

	/* Reprotect: starts failed over; reverse swaps the direction, and then sync works. */
	compile(&c, reprotect, RUNTIME_INVENTORY);
	a = open_sim(&c.l.dag, &t);
	ck_device(a, "lun-3", "lun-3 at east: read-only; lun-3p at west: writable; replication split");
	ck_failed(perform(a, &c.l.dag, "s2.sync.lun-3"), "replication is split");
	ck_done(perform(a, &c.l.dag, "s1.reverse.lun-3"));
	ck_done(perform(a, &c.l.dag, "s1.reverse.lun-3")); /* already reversed */
	ck_device(a, "lun-3", "lun-3 at east: passive; lun-3p at west: writable; replicating west -> east");
	ck_done(perform(a, &c.l.dag, "s2.sync.lun-3"));
	ck_describes(a, "app-01", "on at west");
	a->vt->close(a);
	compiled_free(&c);
}
END_TEST

/* Cleanup (test-failover stop): a fresh cleanup world is a finished test's; the physics refuse to
 * unregister a running test VM and to discard a snapshot under a registered one; the effects are
 * logged and answer queries. */
START_TEST(test_cleanup)
{
	struct compiled c;
	compile(&c, cleanup_plan, RUNTIME_INVENTORY);
	char *dir = state_dir();
	struct sim_options o = {.virtual_time = true, .state_dir = dir};
	struct adapter *a = open_sim(&c.l.dag, &o);
	const struct dag *d = &c.l.dag;
	ck_describes(a, "app-01", "on at east (esx-e01); on at west (esx-w01, test copy)");
	ck_failed(perform(a, d, "s3.discard.lun-3"),
	          "cannot discard the snapshot of lun-3p at west: test VM app-01 is still registered on it (unregister it "
	          "first)");
	ck_failed(perform(a, d, "s2.unregister.w2"), "cannot unregister app-01 at west: it is powered on (shut it down first)");
	ck_assert_int_eq(query(a, d, "s2.unregister.w2"), ADAPTER_NOT_HAPPENED);
	ck_done(perform(a, d, "s1.shutdown.w2"));
	ck_done(perform(a, d, "s2.unregister.w2"));
	ck_done(perform(a, d, "s2.unregister.w2")); /* gone already */
	ck_done(perform(a, d, "s3.discard.lun-3"));
	ck_describes(a, "app-01", "on at east (esx-e01)");
	ck_device(a, "lun-3", "lun-3 at east: writable; lun-3p at west: passive; replicating east -> west");
	/* A cleanup never touches what is not a test copy: web-01 migrates live and was never copied. */
	ck_describes(a, "web-01", "on at east (esx-e02)");
	/* The consistency group's snapshot still holds db-01 and db-02. */
	ck_failed(perform(a, d, "s3.discard.cg-a"), "test VM db-01 is still registered on it");
	ck_assert_int_eq(query(a, d, "s2.unregister.w2"), ADAPTER_HAPPENED);
	ck_assert_int_eq(query(a, d, "s3.discard.lun-3"), ADAPTER_HAPPENED);
	ck_assert_int_eq(query(a, d, "s3.discard.cg-a"), ADAPTER_NOT_HAPPENED);
	a->vt->close(a);
	char *log = read_log(dir), *effects = effects_of(log);
	/* Every performance is logged, the no-op included (test_idempotence). */
	ck_assert_str_eq(effects, "1 s1.shutdown.w2 1 shutdown vm:app-01\n"
	                          "1 s2.unregister.w2 1 unregister vm:app-01\n"
	                          "1 s2.unregister.w2 1 unregister vm:app-01\n"
	                          "1 s3.discard.lun-3 1 discard-snapshot dev:lun-3\n");
	free(log);
	free(effects);
	/* Reopened, the world is the same: the effects replay. */
	a = open_sim(d, &o);
	ck_describes(a, "app-01", "on at east (esx-e01)");
	ck_describes(a, "db-01", "on at east (esx-e01); on at west (esx-w01, test copy)");
	a->vt->close(a);
	free_state(dir);
	compiled_free(&c);
}
END_TEST

/* A cleanup takes over the state directory of the test it undoes, once the test's world.yaml
 * holds every effect of its log; the test's log is kept as effects.log.1. */
START_TEST(test_cleanup_adopts_test_world)
{
	struct compiled t, c;
	compile(&t, test_plan, RUNTIME_INVENTORY);
	compile(&c, cleanup_plan, RUNTIME_INVENTORY);
	char *dir = state_dir();
	struct sim_options o = {.virtual_time = true, .state_dir = dir};
	struct adapter *a = open_sim(&t.l.dag, &o);
	ck_done(perform(a, &t.l.dag, "s1.snapshot.lun-3"));
	a->vt->close(a);
	char path[200], stale[200];
	snprintf(path, sizeof path, "%s/world.yaml", dir);
	snprintf(stale, sizeof stale, "%s/world.old", dir);
	FILE *in = fopen(path, "r"), *out = fopen(stale, "w");
	ck_assert(in && out);
	for (int ch; (ch = fgetc(in)) != EOF;)
		fputc(ch, out);
	fclose(in);
	fclose(out);
	a = open_sim(&t.l.dag, &o);
	ck_done(perform(a, &t.l.dag, "s2.register.w2"));
	ck_done(perform(a, &t.l.dag, "s3.power-on.w2"));
	a->vt->close(a);
	/* A crash before the test's last checkpoint: its world.yaml lags its log. */
	ck_assert_int_eq(rename(stale, path), 0);
	char err[400] = "";
	ck_assert_ptr_null(sim_open(&c.l.dag, &o, err, sizeof err));
	ck_assert_msg(strstr(err, "finish that run first"), "%s", err);
	a = open_sim(&t.l.dag, &o); /* the test's reopen replays its log and checkpoints */
	a->vt->close(a);
	a = open_sim(&c.l.dag, &o);
	ck_describes(a, "app-01", "on at east (esx-e01); on at west (esx-w01, test copy)");
	ck_device(a, "lun-3", "lun-3 at east: writable; lun-3p at west: passive, test snapshot; replicating east -> west");
	ck_describes(a, "db-01", "on at east (esx-e01)"); /* the test never brought it up */
	ck_done(perform(a, &c.l.dag, "s1.shutdown.w2"));
	ck_done(perform(a, &c.l.dag, "s2.unregister.w2"));
	ck_done(perform(a, &c.l.dag, "s3.discard.lun-3"));
	ck_done(perform(a, &c.l.dag, "s3.discard.cg-a")); /* no test VM on it */
	a->vt->close(a);
	/* Reopened: our world now, the cleanup's effects replayed on the adopted one. */
	a = open_sim(&c.l.dag, &o);
	ck_describes(a, "app-01", "on at east (esx-e01)");
	ck_device(a, "lun-3", "lun-3 at east: writable; lun-3p at west: passive; replicating east -> west");
	a->vt->close(a);
	char kept[200];
	snprintf(kept, sizeof kept, "%s/effects.log.1", dir);
	ck_assert_int_eq(access(kept, F_OK), 0);
	ck_assert_int_eq(unlink(kept), 0);
	/* The test plan may not take the cleanup's world back. */
	ck_assert_ptr_null(sim_open(&t.l.dag, &o, err, sizeof err));
	ck_assert_msg(strstr(err, "another plan"), "%s", err);
	free_state(dir);
	compiled_free(&t);
	compiled_free(&c);
}
END_TEST

/* A cleanup run by mistake after a real failover (it takes over that world too) stops at the first
 * VM: production at the recovery site is not a test copy, and is neither shut down nor removed. */
START_TEST(test_cleanup_after_failover)
{
	struct compiled f, c;
	compile(&f, planned, RUNTIME_INVENTORY);
	compile(&c, cleanup_plan, RUNTIME_INVENTORY);
	char *dir = state_dir();
	struct sim_options o = {.virtual_time = true, .state_dir = dir};
	struct adapter *a = open_sim(&f.l.dag, &o);
	perform_all(a, &f.l.dag);
	a->vt->close(a);
	a = open_sim(&c.l.dag, &o);
	ck_describes(a, "app-01", "on at west (esx-w01); off at east (esx-e01)");
	ck_failed(perform(a, &c.l.dag, "s1.shutdown.w2"),
	          "cannot shut down app-01 at west in a cleanup: it runs from recovered storage, not a test snapshot");
	ck_describes(a, "app-01", "on at west (esx-w01); off at east (esx-e01)");
	a->vt->close(a);
	char kept[200];
	snprintf(kept, sizeof kept, "%s/effects.log.1", dir);
	ck_assert_int_eq(unlink(kept), 0);
	free_state(dir);
	compiled_free(&f);
	compiled_free(&c);
}
END_TEST

START_TEST(test_perform_refuses_plan_operations)
{
	struct compiled c;
	compile(&c, planned, RUNTIME_INVENTORY);
	struct sim_options o = {.virtual_time = true};
	struct adapter *a = open_sim(&c.l.dag, &o);
	ck_failed(perform(a, &c.l.dag, "s8.prompt"), "s8.prompt: a prompt operation is not an adapter's to perform");
	ck_failed(perform(a, &c.l.dag, "s7.gate.p2"), "not an adapter's");
	struct adapter_request req = {.dag = &c.l.dag, .op = c.l.dag.n_ops, .attempt = 1, .run = 1};
	struct adapter_reply r;
	adapter_perform(a, &req, &r);
	ck_failed(r, "no operation");
	/* An entry called for an operation of another kind refuses it. */
	req.op = find_op(&c.l.dag, "s1.sync.lun-1");
	a->vt->power_on(a, &req, &r);
	ck_failed(r, "cannot power-on operation");
	ck_assert_uint_eq(sim_effects(a), 0);
	a->vt->close(a);

	struct adapter_reply long_reply;
	char big[600];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memcpy(big + ADAPTER_MESSAGE_MAX - 2, "\xc3\xa9", 2); /* a two-byte character across the cut */
	adapter_reply_set(&long_reply, ADAPTER_TRANSIENT, "%s", big);
	ck_assert_int_eq(long_reply.status, ADAPTER_TRANSIENT);
	ck_assert_uint_eq(strlen(long_reply.message), ADAPTER_MESSAGE_MAX - 2);
	memcpy(big + ADAPTER_MESSAGE_MAX - 3, "\xc3\xa9", 2); /* one that fits whole */
	adapter_reply_set(&long_reply, ADAPTER_FAILED, "%s", big);
	ck_assert_uint_eq(strlen(long_reply.message), ADAPTER_MESSAGE_MAX - 1);
	compiled_free(&c);
}
END_TEST

Suite *sim_suite(void)
{
	Suite *s = suite_create("sim");
	TCase *tc = tcase_create("sim");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_planned_failover);
	tcase_add_test(tc, test_recovery_host);
	tcase_add_test(tc, test_physics);
	tcase_add_test(tc, test_power_on_from_passive_device);
	tcase_add_test(tc, test_idempotence);
	tcase_add_test(tc, test_effects_log);
	tcase_add_test(tc, test_checkpoint_unchanged);
	tcase_add_test(tc, test_reopen);
	tcase_add_test(tc, test_migration_copies);
	tcase_add_test(tc, test_torn_and_corrupt);
	tcase_add_test(tc, test_other_plan);
	tcase_add_test(tc, test_group_commit);
	tcase_add_test(tc, test_latency);
	tcase_add_test(tc, test_injected_failures);
	tcase_add_test(tc, test_partial_timeout);
	tcase_add_test(tc, test_modes);
	tcase_add_test(tc, test_cleanup);
	tcase_add_test(tc, test_cleanup_adopts_test_world);
	tcase_add_test(tc, test_cleanup_after_failover);
	tcase_add_test(tc, test_perform_refuses_plan_operations);
	suite_add_tcase(s, tc);
	return s;
}
