/* test_exec.c: the exec adapter against tests/adapters/fake-array.sh: every operation end to end,
 * reconciliation queries, the secrets file, every kind of hostile reply, timeouts that leave no
 * process behind, stderr to the log, and concurrent calls. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../compiler/dag.h"
#include "../../compiler/inventory.h"
#include "../../compiler/load.h"
#include "../../compiler/lower.h"
#include "../../compiler/model.h"
#include "../../runtime/adapter.h"
#include "../../runtime/adapters/exec.h"
#include "lowered.h"
#include "suites.h"

#define SCRIPT "tests/adapters/fake-array.sh"

static const char planned[] = RUNTIME_WORLD "plan move {\n  from east to west\n  mode planned\n  protect p\n  workgroup 2\n"
                              "  step sync storage\n  step shutdown vms at east\n  step failover storage\n"
                              "  step prefer west\n  step migrate live\n  step register vms\n"
                              "  step power-on vms by priority\n}\n";
static const char test_plan[] = RUNTIME_WORLD "plan rehearse {\n  from east to west\n  mode test\n  protect p\n  workgroup 2\n"
                                "  step failover storage\n  step register vms\n  step power-on vms\n}\n";
static const char cleanup_plan[] = RUNTIME_WORLD "plan tidy {\n  from east to west\n  mode cleanup\n  protect p\n"
                                   "  step shutdown vms\n  step unregister vms\n  step discard snapshots\n}\n";
static const char reprotect[] = RUNTIME_WORLD "plan back {\n  from west to east\n  mode reprotect\n  protect p\n"
                                "  step reverse storage\n  step sync storage\n}\n";

/* A compiled plan and a fake array's directory. */
struct fixture {
	char dir[64];
	struct lowered l;
	char path[256];
};

/* The whole of a file, or "" if it does not exist. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	struct buf b = BUF_INIT;
	buf_puts(&b, "");
	if (!f)
		return buf_detach(&b);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	return buf_detach(&b);
}

static const char *in_dir(struct fixture *fx, const char *name)
{
	snprintf(fx->path, sizeof fx->path, "%s/%s", fx->dir, name);
	return fx->path;
}

static void setup(struct fixture *fx, const char *plan)
{
	snprintf(fx->dir, sizeof fx->dir, "/tmp/drplan-exec-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fx->dir));
	lower_files(&fx->l, fx->dir, plan, RUNTIME_INVENTORY);
	/* The script sees only what is passed: these, and the mode the test sets. */
	ck_assert_int_eq(setenv("FAKE_ARRAY_DIR", fx->dir, 1), 0);
	unsetenv("FAKE_ARRAY_MODE");
	unsetenv("FAKE_ARRAY_MODE_OP");
}

static void teardown(struct fixture *fx)
{
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
	ck_assert_int_eq(system(cmd), 0);
	lowered_free(&fx->l);
}

static const char *const pass[] = {"PATH", "FAKE_ARRAY_DIR", "FAKE_ARRAY_MODE", "FAKE_ARRAY_MODE_OP"};

static struct adapter *open_fake(struct fixture *fx, int64_t timeout_ms, const char *secrets)
{
	struct exec_options o = {
		.program = SCRIPT,
		.timeout_ms = timeout_ms,
		.secrets_file = secrets,
		.pass_env = pass,
		.n_pass_env = 4,
		.log_path = in_dir(fx, "adapter.log"),
		.name = "exec:fake",
		.poll_ms = 20, /* a sync in progress is asked about again this soon */
	};
	char err[256] = "";
	struct adapter *a = exec_open(&fx->l.dag, &o, err, sizeof err);
	ck_assert_msg(a != NULL, "exec_open: %s", err);
	return a;
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
	return 0;
}

static void perform(struct adapter *a, const struct dag *d, const char *id, struct adapter_reply *r)
{
	struct adapter_request req = {.dag = d, .op = find_op(d, id), .attempt = 1, .run = 1};
	adapter_perform(a, &req, r);
}

static bool is_adapter_kind(uint8_t kind)
{
	return (kind <= DAG_REVERSE && kind != DAG_RUN) || kind == DAG_UNREGISTER || kind == DAG_DISCARD;
}

static const char *word(uint8_t kind)
{
	return kind == DAG_PREFER ? "set-preference" : kind == DAG_DISCARD ? "discard-snapshot" : dag_op_kind_names[kind];
}

/* Performs every adapter operation of the plan and checks that each left its effects. */
static void perform_all(const char *plan)
{
	struct fixture fx;
	setup(&fx, plan);
	struct adapter *a = open_fake(&fx, 0, NULL);
	uint32_t performed = 0;
	struct buf id = BUF_INIT, want = BUF_INIT;
	for (uint32_t i = 0; i < fx.l.dag.n_ops; i++) {
		if (!is_adapter_kind(fx.l.dag.ops[i].kind))
			continue;
		struct adapter_request req = {.dag = &fx.l.dag, .op = i, .attempt = 1, .run = 1};
		struct adapter_reply r;
		adapter_perform(a, &req, &r);
		buf_clear(&id);
		dag_op_id(&fx.l.dag, i, &id);
		ck_assert_msg(r.status == ADAPTER_DONE, "%s: %s", id.data, r.message);
		ck_assert_str_eq(r.message, "");
		char *log = slurp(in_dir(&fx, "effects.log"));
		buf_clear(&want);
		buf_printf(&want, "%s %s ", id.data, word(fx.l.dag.ops[i].kind));
		ck_assert_msg(strstr(log, want.data) != NULL, "no effect of %s in:\n%s", id.data, log);
		free(log);
		performed++;
	}
	ck_assert_uint_gt(performed, 0);
	buf_free(&id);
	buf_free(&want);
	a->vt->close(a);
	teardown(&fx);
}

START_TEST(test_every_operation)
{
	perform_all(planned);
	perform_all(test_plan);
	perform_all(reprotect);
	perform_all(cleanup_plan);
}
END_TEST

START_TEST(test_effect_lines)
{
	struct fixture fx;
	setup(&fx, planned);
	struct adapter *a = open_fake(&fx, 0, NULL);
	struct adapter_reply r;
	perform(a, &fx.l.dag, "s3.failover.cg-a", &r);
	ck_assert_msg(r.status == ADAPTER_DONE, "%s", r.message);
	char *log = slurp(in_dir(&fx, "effects.log"));
	/* The protected half acts at the source site, the promotion at the recovery site. */
	ck_assert_str_eq(log, "s3.failover.cg-a prepare-failover dev.lun-1 east\n"
	                      "s3.failover.cg-a prepare-failover dev.lun-2 east\n"
	                      "s3.failover.cg-a failover dev.lun-1 west\n"
	                      "s3.failover.cg-a failover dev.lun-2 west\n");
	free(log);
	char *state = slurp(in_dir(&fx, "dev.lun-2"));
	ck_assert_str_eq(state, "failover@west\n");
	free(state);
	/* The request reached the program as documented: argv is the operation only. */
	char *argv = slurp(in_dir(&fx, "argv.log"));
	ck_assert_str_eq(argv, "prepare-failover\nfailover\n");
	free(argv);
	/* stderr went to the log, line by line, named. */
	char *alog = slurp(in_dir(&fx, "adapter.log"));
	ck_assert_ptr_nonnull(strstr(alog, "exec:fake s3.failover.cg-a: fake-array: failover s3.failover.cg-a done\n"));
	free(alog);
	a->vt->close(a);
	teardown(&fx);
}
END_TEST

static enum adapter_outcome query(struct adapter *a, const struct dag *d, const char *id)
{
	struct adapter_request req = {.dag = d, .op = find_op(d, id), .attempt = 2, .run = 2};
	return adapter_query_op(a, &req);
}

/* Asks about every VM of a workgroup op (two VMs) and returns the answer's message. */
static const char *query_vms(struct adapter *a, const struct adapter_request *req, struct adapter_vm_answer vms[2])
{
	static struct adapter_answer ans;
	ans = (struct adapter_answer){.vms = vms, .n_vms = 2};
	adapter_query(a, req, &ans);
	return ans.message;
}

/* A workgroup operation: its request names the subset to act on, and query answers per VM, with
 * where the VM is; a hostile per-VM reply is unknown, naming the adapter and the fault. */
START_TEST(test_query_vms)
{
	struct fixture fx;
	setup(&fx, planned);
	const struct dag *d = &fx.l.dag;
	struct adapter *a = open_fake(&fx, 0, NULL);
	uint32_t op = find_op(d, "s2.shutdown.w1");
	ck_assert_uint_eq(d->workgroups[d->ops[op].target].n_vms, 2);
	struct adapter_vm_answer vms[2];
	struct adapter_request req = {.dag = d, .op = op, .attempt = 1, .run = 1};
	ck_assert_str_eq(query_vms(a, &req, vms), "");
	ck_assert_int_eq(vms[0].outcome, ADAPTER_NOT_HAPPENED);
	ck_assert_int_eq(vms[1].outcome, ADAPTER_NOT_HAPPENED);
	/* Act on db-02 alone: the request lists it alone. */
	const uint8_t second[2] = {0, 1};
	req.vms = second;
	struct adapter_reply r;
	adapter_perform(a, &req, &r);
	ck_assert_msg(r.status == ADAPTER_DONE, "%s", r.message);
	char *effects = slurp(in_dir(&fx, "effects.log"));
	ck_assert_str_eq(effects, "s2.shutdown.w1 shutdown vm.db-02 east\n");
	free(effects);
	req.vms = NULL;
	ck_assert_str_eq(query_vms(a, &req, vms), "");
	ck_assert_int_eq(vms[0].outcome, ADAPTER_NOT_HAPPENED);
	ck_assert_int_eq(vms[1].outcome, ADAPTER_HAPPENED);
	ck_assert_str_eq(vms[1].where, "east");
	/* Asked about db-01 alone, it answers for db-01 alone. */
	const uint8_t first[2] = {1, 0};
	req.vms = first;
	ck_assert_str_eq(query_vms(a, &req, vms), "");
	ck_assert_int_eq(vms[0].outcome, ADAPTER_NOT_HAPPENED);
	ck_assert_int_eq(vms[1].outcome, ADAPTER_UNKNOWN);
	req.vms = NULL;
	static const struct {
		const char *mode, *message;
		enum adapter_outcome first;
	} hostile[] = {
		{"query-extra-vm", "exec:fake query s2.shutdown.w1: line 6: the reply answers for VM \"nobody-asked\", which "
		                   "was not asked about", ADAPTER_UNKNOWN},
		{"query-bad-word", "exec:fake query s2.shutdown.w1: line 4: unknown outcome \"maybe\" for VM db-01",
		 ADAPTER_UNKNOWN},
		{"query-missing-vm", "exec:fake query s2.shutdown.w1: the reply says nothing of db-02", ADAPTER_NOT_HAPPENED},
		{"garbage", "exec:fake query s2.shutdown.w1: the reply is not YAML", ADAPTER_UNKNOWN},
	};
	for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
		setenv("FAKE_ARRAY_MODE", hostile[i].mode, 1);
		a->vt->close(a);
		a = open_fake(&fx, 0, NULL);
		const char *msg = query_vms(a, &req, vms);
		ck_assert_msg(strncmp(msg, hostile[i].message, strlen(hostile[i].message)) == 0, "%s: %s", hostile[i].mode,
		              msg);
		ck_assert_int_eq(vms[0].outcome, hostile[i].first);
		ck_assert_int_eq(vms[1].outcome, ADAPTER_UNKNOWN);
	}
	unsetenv("FAKE_ARRAY_MODE");
	a->vt->close(a);
	teardown(&fx);
}
END_TEST

START_TEST(test_query)
{
	struct fixture fx;
	setup(&fx, planned);
	struct adapter *a = open_fake(&fx, 0, NULL);
	ck_assert_int_eq(query(a, &fx.l.dag, "s1.sync.lun-3"), ADAPTER_NOT_HAPPENED);
	struct adapter_reply r;
	perform(a, &fx.l.dag, "s1.sync.lun-3", &r);
	ck_assert_int_eq(r.status, ADAPTER_DONE);
	ck_assert_int_eq(query(a, &fx.l.dag, "s1.sync.lun-3"), ADAPTER_HAPPENED);
	ck_assert_int_eq(query(a, &fx.l.dag, "s1.sync.lun-1"), ADAPTER_NOT_HAPPENED);
	/* A crash after the effect: the call fails, and the query finds the effect. */
	setenv("FAKE_ARRAY_MODE", "crash-after-effect", 1);
	a->vt->close(a);
	a = open_fake(&fx, 0, NULL);
	perform(a, &fx.l.dag, "s1.sync.lun-1", &r);
	ck_assert_int_eq(r.status, ADAPTER_FAILED);
	ck_assert_ptr_nonnull(strstr(r.message, "killed by signal 9"));
	ck_assert_int_eq(query(a, &fx.l.dag, "s1.sync.lun-1"), ADAPTER_HAPPENED);
	/* A query whose reply is bad answers unknown. */
	setenv("FAKE_ARRAY_MODE", "garbage", 1);
	a->vt->close(a);
	a = open_fake(&fx, 0, NULL);
	ck_assert_int_eq(query(a, &fx.l.dag, "s1.sync.lun-1"), ADAPTER_UNKNOWN);
	a->vt->close(a);
	char *log = slurp(in_dir(&fx, "adapter.log"));
	ck_assert_msg(strstr(log, "exec:fake query s1.sync.lun-1: the reply is not YAML (line 2, column 1: ") != NULL,
	              "%s", log);
	free(log);
	teardown(&fx);
}
END_TEST

START_TEST(test_secrets)
{
	struct fixture fx;
	setup(&fx, planned);
	const char *secrets = in_dir(&fx, "secrets");
	char spath[256];
	snprintf(spath, sizeof spath, "%s", secrets);
	write_text(spath, "# the array\nDRP_TOKEN=s3cret-value\n\nDRP_USER=admin\n");
	ck_assert_int_eq(chmod(spath, 0644), 0);
	struct exec_options o = {.program = SCRIPT, .secrets_file = spath, .pass_env = pass, .n_pass_env = 4};
	char err[256] = "";
	ck_assert_ptr_null(exec_open(&fx.l.dag, &o, err, sizeof err));
	ck_assert_msg(strstr(err, "0600") != NULL, "%s", err);
	ck_assert_ptr_null(strstr(err, "s3cret"));
	ck_assert_int_eq(chmod(spath, 0600), 0);
	struct adapter *a = open_fake(&fx, 0, spath);
	struct adapter_reply r;
	perform(a, &fx.l.dag, "s1.sync.lun-3", &r);
	ck_assert_msg(r.status == ADAPTER_DONE, "%s", r.message);
	char *env = slurp(in_dir(&fx, "env.s1.sync.lun-3.log"));
	ck_assert_ptr_nonnull(strstr(env, "DRP_TOKEN=s3cret-value\n"));
	ck_assert_ptr_nonnull(strstr(env, "DRP_USER=admin\n"));
	/* Only what is passed on purpose: not HOME, say. */
	ck_assert_ptr_null(strstr(env, "\nHOME="));
	free(env);
	char *argv = slurp(in_dir(&fx, "argv.log"));
	ck_assert_ptr_null(strstr(argv, "s3cret"));
	free(argv);
	char *log = slurp(in_dir(&fx, "adapter.log"));
	ck_assert_ptr_null(strstr(log, "s3cret"));
	free(log);
	a->vt->close(a);
	/* A malformed line is refused without quoting it. */
	write_text(spath, "DRP_TOKEN s3cret-value\n");
	ck_assert_ptr_null(exec_open(&fx.l.dag, &o, err, sizeof err));
	ck_assert_msg(strstr(err, "line 1") != NULL, "%s", err);
	ck_assert_ptr_null(strstr(err, "s3cret"));
	teardown(&fx);
}
END_TEST

START_TEST(test_open_refuses)
{
	struct fixture fx;
	setup(&fx, planned);
	struct exec_options o = {.program = "tests/adapters/no-such-adapter"};
	char err[256] = "";
	ck_assert_ptr_null(exec_open(&fx.l.dag, &o, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "no-such-adapter"));
	o.program = "tests/adapters";
	ck_assert_ptr_null(exec_open(&fx.l.dag, &o, err, sizeof err));
	teardown(&fx);
}
END_TEST

/* One misbehaviour of the script, and what the adapter must make of it. */
static const struct hostile {
	const char *mode;
	enum adapter_status status;
	const char *message;
} hostile[] = {
	{"garbage", ADAPTER_FAILED, "exec:fake sync s1.sync.lun-3: the reply is not YAML (line "},
	{"missing-status", ADAPTER_FAILED, "exec:fake sync s1.sync.lun-3: the reply has no status field"},
	{"unknown-field", ADAPTER_FAILED, "unknown field \"colour\""},
	{"copies-elsewhere", ADAPTER_FAILED, "unknown field \"copies\": only a register reply has it"},
	{"huge", ADAPTER_FAILED, "the reply is larger than 1048576 bytes"},
	{"wrong-op", ADAPTER_FAILED, "the reply is for another operation (\"s99.sync.other\")"},
	{"silent", ADAPTER_TRANSIENT, "exec:fake sync s1.sync.lun-3: exited without a reply"},
	{"no-read", ADAPTER_TRANSIENT, "exited without a reply"},
	{"exit3", ADAPTER_FAILED, "exec:fake sync s1.sync.lun-3: exit status 3"},
	{"crash-after-effect", ADAPTER_FAILED, "killed by signal 9"},
	{"failed", ADAPTER_FAILED, "exec:fake sync s1.sync.lun-3: the array said no"},
	{"transient", ADAPTER_TRANSIENT, "exec:fake sync s1.sync.lun-3: the array is busy"},
	{"slow-sync-bad:1", ADAPTER_FAILED, "exec:fake sync-status s1.sync.lun-3: unknown status \"finished\""},
	{"slow-sync-bad:3", ADAPTER_FAILED, "exec:fake sync-status s1.sync.lun-3: unknown status \"finished\""},
};

START_TEST(test_hostile)
{
	const struct hostile *h = &hostile[_i];
	struct fixture fx;
	setup(&fx, planned);
	setenv("FAKE_ARRAY_MODE", h->mode, 1);
	struct adapter *a = open_fake(&fx, 10000, NULL);
	struct adapter_reply r;
	perform(a, &fx.l.dag, "s1.sync.lun-3", &r);
	ck_assert_msg(r.status == h->status, "%s: status %d: %s", h->mode, r.status, r.message);
	ck_assert_msg(strstr(r.message, h->message) != NULL, "%s: %s", h->mode, r.message);
	a->vt->close(a);
	teardown(&fx);
}
END_TEST

/* A register reply's `copies`: VM name -> {copy, why}, scalars, each VM once; anything else is
 * refused with a reason (what the register then does with it: tests/e2e/migration.sh). */
START_TEST(test_reply_copies)
{
	static const char head[] = "drplan-adapter-reply: 1\nop: s2.register.w2\nstatus: done\n";
	static const struct {
		const char *copies, *why; /* why: NULL if the reply parses */
	} cases[] = {
		{"copies:\n  app-01: {copy: destination, why: \"both completed\"}\n  app-02: {copy: source, why: x}\n", NULL},
		{"copies: {}\n", NULL},
		{"copies: [app-01]\n", "field copies is not a scalar"},
		{"copies:\n  app-01: destination\n", "line 5: copies must map each VM's name to {copy, why}, scalars"},
		{"copies:\n  app-01: {copy: source, colour: blue}\n", "unknown field \"colour\" for VM app-01"},
		{"copies:\n  app-01: {copy: source, copy: destination}\n", "field copy given twice for VM app-01"},
		{"copies:\n  app-01: {copy: [source]}\n", "copies must map each VM's name to {copy, why}, scalars"},
		{"copies:\n  app-01: {copy: source}\n  app-01: {copy: source}\n", "copies names VM app-01 twice"},
		{"copies:\n  \"app\\0\": {copy: source}\n", "copies holds a NUL byte"},
		{"copies: {}\ncopies: {}\n", "field copies given twice"},
		{"copies:\n  {a: b}: {copy: source}\n", "copies must map each VM's name to {copy, why}, scalars"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf text = BUF_INIT;
		buf_printf(&text, "%s%s", head, cases[i].copies);
		char why[200] = "";
		bool ok = exec_reply_check(text.data, text.len, false, NULL, why, sizeof why);
		if (!cases[i].why)
			ck_assert_msg(ok, "case %zu refused: %s", i, why);
		else
			ck_assert_msg(!ok && strstr(why, cases[i].why), "case %zu: '%s', expected '%s'", i, why, cases[i].why);
		buf_free(&text);
	}
}
END_TEST

/* An asynchronous sync: in-progress (the sync's reply), in-progress (the first sync-status's), then
 * done; the progress went to the log, and only the sync operation did anything. */
START_TEST(test_sync_in_progress)
{
	struct fixture fx;
	setup(&fx, planned);
	setenv("FAKE_ARRAY_MODE", "slow-sync:2", 1);
	struct adapter *a = open_fake(&fx, 10000, NULL);
	struct adapter_reply r;
	perform(a, &fx.l.dag, "s1.sync.lun-3", &r);
	ck_assert_msg(r.status == ADAPTER_DONE, "%s", r.message);
	ck_assert_str_eq(r.message, "");
	char *argv = slurp(in_dir(&fx, "argv.log"));
	ck_assert_str_eq(argv, "sync\nsync-status\nsync-status\n");
	free(argv);
	char *log = slurp(in_dir(&fx, "effects.log"));
	ck_assert_str_eq(log, "s1.sync.lun-3 sync dev.lun-3 east\n");
	free(log);
	char *alog = slurp(in_dir(&fx, "adapter.log"));
	ck_assert_ptr_nonnull(strstr(alog, "exec:fake s1.sync.lun-3: sync in progress, 0% (poll 1)\n"));
	ck_assert_ptr_nonnull(strstr(alog, "exec:fake s1.sync.lun-3: sync in progress, 50% (poll 2)\n"));
	ck_assert_ptr_null(strstr(alog, "(poll 3)"));
	free(alog);
	/* Only a sync may be in progress: anything else answering so is a broken reply. */
	a->vt->close(a);
	setenv("FAKE_ARRAY_MODE", "in-progress", 1);
	a = open_fake(&fx, 10000, NULL); /* the environment is read when the adapter opens */
	perform(a, &fx.l.dag, "s2.shutdown.w1", &r);
	ck_assert_msg(r.status == ADAPTER_FAILED, "%s", r.message);
	ck_assert_msg(strstr(r.message, "exec:fake shutdown s2.shutdown.w1: status in-progress is only for sync"), "%s",
	              r.message);
	a->vt->close(a);
	teardown(&fx);
}
END_TEST

/* A sync that stays in progress times out at the step's timeout, like any call that runs too long:
 * transient (it may complete yet: query decides), after a few polls, and no later than asked. */
START_TEST(test_sync_in_progress_times_out)
{
	struct fixture fx;
	setup(&fx, planned);
	setenv("FAKE_ARRAY_MODE", "slow-sync:100000", 1);
	struct adapter *a = open_fake(&fx, 10000, NULL);
	struct adapter_request req = {.dag = &fx.l.dag, .op = find_op(&fx.l.dag, "s1.sync.lun-3"), .attempt = 1, .run = 1,
	                              .timeout_ms = 400};
	struct adapter_reply r;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	adapter_perform(a, &req, &r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(r.status == ADAPTER_TRANSIENT, "%s", r.message);
	ck_assert_msg(strstr(r.message, "exec:fake sync s1.sync.lun-3: timed out after 400ms while the sync was in "
	                                "progress at 0%") != NULL,
	              "%s", r.message);
	ck_assert_msg(took >= 0.39 && took < 3.0, "took %.2f s", took);
	char *argv = slurp(in_dir(&fx, "argv.log"));
	ck_assert_msg(strncmp(argv, "sync\nsync-status\n", 17) == 0, "%s", argv);
	free(argv);
	char *log = slurp(in_dir(&fx, "effects.log"));
	ck_assert_str_eq(log, ""); /* never done */
	free(log);
	a->vt->close(a);
	teardown(&fx);
}
END_TEST

static pid_t read_pid(struct fixture *fx, const char *name)
{
	char *s = slurp(in_dir(fx, name));
	pid_t pid = (pid_t)atoi(s);
	free(s);
	ck_assert_int_gt(pid, 1);
	return pid;
}

/* Whether a process of the group is alive. kill(-pgid, 0) fails with ESRCH once every member is
 * gone; a member the adapter killed may still be a zombie until init reaps it (this machine's init
 * may be slow to, or never do it), so Linux's /proc is asked about the survivors' states. */
static bool group_alive(pid_t pgid)
{
	if (kill(-pgid, 0) == -1 && errno == ESRCH)
		return false;
	DIR *dir = opendir("/proc");
	if (!dir)
		return true;
	bool alive = false;
	struct dirent *e;
	while (!alive && (e = readdir(dir)) != NULL) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		char path[300];
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		char *stat = slurp(path);
		/* "pid (comm) state ppid pgrp ...": comm may hold anything, so parse after the last ')'. */
		const char *p = strrchr(stat, ')');
		char state = 0;
		int ppid = 0, pgrp = 0;
		if (p && sscanf(p + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 && pgrp == (int)pgid && state != 'Z')
			alive = true;
		free(stat);
	}
	closedir(dir);
	return alive;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(test_timeout_kills_group)
{
	struct fixture fx;
	setup(&fx, planned);
	setenv("FAKE_ARRAY_MODE", "sleep", 1);
	struct adapter *a = open_fake(&fx, 5000, NULL);
	/* The request's own timeout is smaller: it wins. */
	struct adapter_request req = {.dag = &fx.l.dag, .op = find_op(&fx.l.dag, "s1.sync.lun-3"), .attempt = 1, .run = 1,
	                              .timeout_ms = 300};
	struct adapter_reply r;
	double t0 = now_s();
	adapter_perform(a, &req, &r);
	double took = now_s() - t0;
	ck_assert_msg(r.status == ADAPTER_TRANSIENT, "%s", r.message);
	ck_assert_msg(strstr(r.message, "exec:fake sync s1.sync.lun-3: timed out after") != NULL, "%s", r.message);
	ck_assert_msg(took < 4.5, "took %.1f s", took);
	pid_t pgid = read_pid(&fx, "pgid");
	ck_assert_msg(!group_alive(pgid), "a process of group %d is alive", (int)pgid);
	a->vt->close(a);
	teardown(&fx);
}
END_TEST

START_TEST(test_background_child_killed)
{
	struct fixture fx;
	setup(&fx, planned);
	setenv("FAKE_ARRAY_MODE", "background", 1);
	struct adapter *a = open_fake(&fx, 20000, NULL);
	struct adapter_reply r;
	double t0 = now_s();
	perform(a, &fx.l.dag, "s1.sync.lun-3", &r);
	ck_assert_msg(r.status == ADAPTER_DONE, "%s", r.message);
	ck_assert_msg(now_s() - t0 < 3.0, "waited for the child that holds the pipes");
	pid_t pgid = read_pid(&fx, "pgid");
	ck_assert_msg(!group_alive(pgid), "a process of group %d is alive", (int)pgid);
	a->vt->close(a);
	teardown(&fx);
}
END_TEST

/* Concurrent calls: every device and workgroup operation of the plan at once. */
struct worker {
	struct adapter *a;
	const struct dag *d;
	uint32_t op;
	struct adapter_reply r;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct adapter_request req = {.dag = w->d, .op = w->op, .attempt = 1, .run = 1};
	adapter_perform(w->a, &req, &w->r);
	return NULL;
}

START_TEST(test_concurrent)
{
	struct fixture fx;
	setup(&fx, planned);
	struct adapter *a = open_fake(&fx, 0, NULL);
	struct worker w[64];
	pthread_t t[64];
	uint32_t n = 0, effects = 0;
	for (uint32_t i = 0; i < fx.l.dag.n_ops && n < 64; i++) {
		const struct dag_op *op = &fx.l.dag.ops[i];
		if (op->kind == DAG_SYNC || op->kind == DAG_SHUTDOWN || op->kind == DAG_REGISTER || op->kind == DAG_POWER_ON) {
			w[n] = (struct worker){a, &fx.l.dag, i, {ADAPTER_FAILED, "", 0, BUF_INIT}};
			n++;
			effects += op->kind == DAG_SYNC ? 1 : fx.l.dag.workgroups[op->target].n_vms;
		}
	}
	ck_assert_uint_ge(n, 8);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_msg(w[i].r.status == ADAPTER_DONE, "%s", w[i].r.message);
	/* Every effect is there once: one line per device synced, per VM of the workgroup ops. */
	char *log = slurp(in_dir(&fx, "effects.log"));
	uint32_t lines = 0;
	for (const char *p = log; *p; p++)
		lines += *p == '\n';
	ck_assert_uint_eq(lines, effects);
	ck_assert_uint_ge(effects, 10);
	free(log);
	a->vt->close(a);
	teardown(&fx);
}
END_TEST

/* A request larger than a pipe holds (a workgroup of 2,000 VMs, about 100 KiB) reaches the program
 * whole, and a program that exits without reading it is a transient failure. Smaller requests are
 * written whole before the program starts; this one is finished while it runs. */
START_TEST(test_big_request)
{
	enum { N = 2000 };
	struct buf inv = BUF_INIT, plan = BUF_INIT;
	buf_puts(&inv, "version: 1\nsites:\n  - {name: east, hosts: [esx-e01]}\n  - {name: west, hosts: [esx-w01]}\n"
	               "devices:\n  - {id: lun-1, site: east, kind: replicated, peer: {id: lun-1p, site: west}}\nvms:\n");
	for (int i = 0; i < N; i++)
		buf_printf(&inv, "  - {name: vm-with-a-long-enough-name-%04d, host: esx-e01, devices: [lun-1]}\n", i);
	buf_printf(&plan, "site east { adapter sim }\nsite west { adapter sim }\ninventory \"inv.yaml\"\n"
	                  "protection p { devices lun-1 }\nplan t {\n  from east to west\n  mode test\n  protect p\n"
	                  "  workgroup %d\n  step failover storage\n  step register vms\n  step power-on vms\n}\n", N);
	struct fixture fx;
	snprintf(fx.dir, sizeof fx.dir, "/tmp/drplan-exec-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fx.dir));
	lower_files(&fx.l, fx.dir, plan.data, inv.data);
	ck_assert_int_eq(setenv("FAKE_ARRAY_DIR", fx.dir, 1), 0);
	uint32_t op = DAG_NONE;
	for (uint32_t i = 0; i < fx.l.dag.n_ops; i++)
		if (fx.l.dag.ops[i].kind == DAG_REGISTER)
			op = i;
	ck_assert_uint_ne(op, DAG_NONE);
	ck_assert_uint_eq(fx.l.dag.workgroups[fx.l.dag.ops[op].target].n_vms, N);
	struct adapter_request req = {.dag = &fx.l.dag, .op = op, .attempt = 1, .run = 1};
	struct adapter_reply r;

	setenv("FAKE_ARRAY_MODE", "no-read", 1);
	struct adapter *a = open_fake(&fx, 10000, NULL);
	adapter_perform(a, &req, &r);
	ck_assert_msg(r.status == ADAPTER_TRANSIENT, "%d: %s", r.status, r.message);
	ck_assert_ptr_nonnull(strstr(r.message, "exited without a reply"));
	a->vt->close(a);

	/* "silent" keeps the request it read, and exits without a reply. */
	setenv("FAKE_ARRAY_MODE", "silent", 1);
	a = open_fake(&fx, 10000, NULL);
	adapter_perform(a, &req, &r);
	ck_assert_msg(r.status == ADAPTER_TRANSIENT, "%d: %s", r.status, r.message);
	struct buf name = BUF_INIT; /* the fake array keeps each request as request.OP.log */
	buf_puts(&name, "request.");
	dag_op_id(&fx.l.dag, op, &name);
	buf_puts(&name, ".log");
	char *request = slurp(in_dir(&fx, name.data));
	ck_assert_uint_gt(strlen(request), 65536);
	ck_assert_ptr_nonnull(strstr(request, "  - {name: vm-with-a-long-enough-name-0000, host: esx-e01, to-host: esx-w01}\n"));
	ck_assert_ptr_nonnull(strstr(request, "  - {name: vm-with-a-long-enough-name-1999, host: esx-e01, to-host: esx-w01}\n"));
	free(request);
	buf_free(&name);
	a->vt->close(a);
	buf_free(&inv);
	buf_free(&plan);
	teardown(&fx);
}
END_TEST

START_TEST(test_discover)
{
	struct fixture fx;
	setup(&fx, planned);
	const char *sites[] = {"east", "west"};
	struct exec_options o = {.program = SCRIPT, .pass_env = pass, .n_pass_env = 4, .name = "exec:fake"};
	char err[256] = "";
	struct buf inv_text = BUF_INIT;
	ck_assert_msg(exec_discover(&o, sites, 2, &inv_text, err, sizeof err), "%s", err);
	/* What comes back is an inventory drplan reads. */
	struct src_set set;
	src_set_init(&set);
	struct diag_list diags;
	diag_list_init(&diags);
	struct arena arena;
	arena_init(&arena);
	struct inventory inv;
	memset(&inv, 0, sizeof inv);
	struct src_file *src = src_add(&set, "discovered.yaml", inv_text.data, inv_text.len);
	ck_assert_msg(inventory_parse(&inv, &arena, src, &diags), "%s", inv_text.data);
	ck_assert_uint_eq(diags.errors, 0);
	ck_assert_uint_eq(inv.n_sites, 2);
	ck_assert_uint_eq(inv.n_devices, 1);
	ck_assert_uint_eq(inv.n_vms, 1);
	buf_free(&inv_text);
	/* A site far larger than an operation's reply may be: 20,000 VMs, some 1.4 MB. */
	setenv("FAKE_ARRAY_MODE", "big-discover", 1);
	ck_assert_msg(exec_discover(&o, sites, 2, &inv_text, err, sizeof err), "%s", err);
	ck_assert_uint_gt(inv_text.len, EXEC_REPLY_MAX);
	src = src_add(&set, "big.yaml", inv_text.data, inv_text.len);
	memset(&inv, 0, sizeof inv);
	ck_assert(inventory_parse(&inv, &arena, src, &diags));
	ck_assert_uint_eq(inv.n_vms, 20000);
	arena_free(&arena);
	diag_list_free(&diags);
	src_set_free(&set);
	buf_free(&inv_text);
	/* A program that answers nothing. */
	setenv("FAKE_ARRAY_MODE", "no-read", 1);
	ck_assert(!exec_discover(&o, sites, 2, &inv_text, err, sizeof err));
	ck_assert_str_eq(err, "exec:fake discover: exited without a reply");
	ck_assert_uint_eq(inv_text.len, 0);
	teardown(&fx);
}
END_TEST

Suite *exec_suite(void)
{
	Suite *s = suite_create("exec");
	TCase *tc = tcase_create("exec");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_every_operation);
	tcase_add_test(tc, test_effect_lines);
	tcase_add_test(tc, test_query);
	tcase_add_test(tc, test_query_vms);
	tcase_add_test(tc, test_secrets);
	tcase_add_test(tc, test_open_refuses);
	tcase_add_loop_test(tc, test_hostile, 0, (int)(sizeof hostile / sizeof hostile[0]));
	tcase_add_test(tc, test_reply_copies);
	tcase_add_test(tc, test_sync_in_progress);
	tcase_add_test(tc, test_sync_in_progress_times_out);
	tcase_add_test(tc, test_timeout_kills_group);
	tcase_add_test(tc, test_background_child_killed);
	tcase_add_test(tc, test_concurrent);
	tcase_add_test(tc, test_big_request);
	tcase_add_test(tc, test_discover);
	suite_add_tcase(s, tc);
	return s;
}
