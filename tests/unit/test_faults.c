/* test_faults.c: the fault-injection proxy (runtime/faults.h) in front of a fake adapter: each
 * action, matching, determinism for a seed, crash-after, forwarding, and bad rules files. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../compiler/dag.h"
#include "../../lib/alloc.h"
#include "../../runtime/adapter.h"
#include "../../runtime/faults.h"
#include "lowered.h"
#include "suites.h"

#define PLAN                                                                                    \
	"site east { adapter sim }\n"                                                               \
	"site west { adapter sim }\n"                                                               \
	"device lun-1 at east replicated to lun-1p at west consistency cg-a\n"                      \
	"device lun-2 at east replicated to lun-2p at west consistency cg-a\n"                      \
	"device lun-3 at east replicated to lun-3p at west\n"                                       \
	"protection p { devices lun-1 lun-2 lun-3 }\n"                                              \
	"vm db-01 priority 1 on lun-1 lun-2\n"                                                      \
	"vm db-02 priority 1 on lun-1 lun-2\n"                                                      \
	"vm app-01 priority 1 on lun-3\n"                                                           \
	"plan p {\n  from east to west\n  mode disaster\n  protect p\n  workgroup 2\n"               \
	"  step failover storage\n  step register vms\n  step power-on vms\n}\n"

/* ---- A fake inner adapter: counts calls per op, always succeeds in 5 ms of virtual time. */

struct fake {
	struct adapter base;
	const struct dag *d;
	uint32_t calls[64], prepares[64], queries, flushes;
	uint32_t named[64];            /* per op: the VMs its last call named (every VM: all of them) */
	bool *closed;
};

static void fake_call(struct adapter *a, const struct adapter_request *req, struct adapter_reply *reply)
{
	struct fake *f = (struct fake *)a;
	f->calls[req->op]++;
	const struct dag_op *op = &f->d->ops[req->op];
	f->named[req->op] = 0;
	for (uint32_t k = 0; op->target_kind == DAG_TARGET_WORKGROUP && k < f->d->workgroups[op->target].n_vms; k++)
		f->named[req->op] += adapter_names_vm(req, k);
	reply->status = ADAPTER_DONE;
	reply->message[0] = '\0';
	reply->duration_ms = 5;
}

static void fake_prepare(struct adapter *a, const struct adapter_request *req, struct adapter_reply *reply)
{
	struct fake *f = (struct fake *)a;
	f->prepares[req->op]++;
	reply->status = ADAPTER_DONE;
	reply->duration_ms = 1;
}

static void fake_query(struct adapter *a, const struct adapter_request *req, struct adapter_answer *ans)
{
	struct fake *f = (struct fake *)a;
	f->queries++;
	ans->outcome = f->calls[req->op] ? ADAPTER_HAPPENED : ADAPTER_NOT_HAPPENED;
	for (uint32_t k = 0; ans->vms && k < ans->n_vms; k++)
		if (adapter_names_vm(req, k))
			ans->vms[k].outcome = ans->outcome;
}

static bool fake_flush(struct adapter *a, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	((struct fake *)a)->flushes++;
	return true;
}

static void fake_close(struct adapter *a)
{
	struct fake *f = (struct fake *)a;
	*f->closed = true;
	free(f);
}

static const struct adapter_vtable fake_vt = {
	.name = "fake", .sync = fake_call, .prepare_failover = fake_prepare, .failover = fake_call,
	.set_preference = fake_call, .snapshot = fake_call, .reverse = fake_call, .shutdown = fake_call,
	.migrate = fake_call, .register_vms = fake_call, .power_on = fake_call, .query = fake_query,
	.flush = fake_flush, .close = fake_close,
};

static struct fake *fake_new(const struct dag *d, bool *closed)
{
	struct fake *f = xcalloc(1, sizeof *f);
	f->base.vt = &fake_vt;
	f->d = d;
	f->closed = closed;
	*closed = false;
	return f;
}

/* ---- Helpers */

static uint32_t op_named(const struct dag *d, const char *id)
{
	struct buf b = BUF_INIT;
	for (uint32_t i = 0; i < d->n_ops; i++) {
		buf_clear(&b);
		dag_op_id(d, i, &b);
		if (strcmp(b.data, id) == 0) {
			buf_free(&b);
			return i;
		}
	}
	buf_free(&b);
	ck_abort_msg("no operation %s", id);
	return 0;
}

/* The power-on of the workgroup that holds this VM. */
static uint32_t power_on_of(const struct dag *d, const char *vm)
{
	for (uint32_t i = 0; i < d->n_ops; i++) {
		const struct dag_op *op = &d->ops[i];
		if (op->kind != DAG_POWER_ON || op->target_kind != DAG_TARGET_WORKGROUP)
			continue;
		const struct dag_workgroup *w = &d->workgroups[op->target];
		for (uint32_t k = 0; k < w->n_vms; k++)
			if (strcmp(d->vms[w->first_vm + k].name, vm) == 0)
				return i;
	}
	ck_abort_msg("no power-on of %s", vm);
	return 0;
}

/* Loads rules from text; the test fails if they do not load. */
static void rules_from(struct fault_rules *r, const char *text)
{
	struct src_set set;
	struct diag_list diags;
	src_set_init(&set);
	diag_list_init(&diags);
	struct src_file *f = src_add(&set, "rules.yaml", text, strlen(text));
	bool ok = fault_rules_load(r, f, &diags);
	if (!ok || diags.len)
		ck_abort_msg("rules did not load: %s", diags.len ? diags.items[0]->message : "?");
	diag_list_free(&diags);
	src_set_free(&set);
}

static void call(struct adapter *a, const struct dag *d, uint32_t op, uint32_t attempt, struct adapter_reply *reply)
{
	struct adapter_request req = {.dag = d, .op = op, .attempt = attempt, .run = 1};
	memset(reply, 0, sizeof *reply);
	adapter_perform(a, &req, reply);
}

/* ---- Tests */

START_TEST(test_actions)
{
	struct lowered l;
	lower_text(&l, PLAN);
	const struct dag *d = &l.dag;
	uint32_t db = power_on_of(d, "db-01"), app = power_on_of(d, "app-01");
	uint32_t fo = op_named(d, "s1.failover.cg-a"), fo3 = op_named(d, "s1.failover.lun-3");
	uint32_t reg = op_named(d, "s2.register.w1");
	static const char *const texts[] = {
		"rules:\n  - {match: {vm: db-01, kind: power-on}, action: error}\n",
		"rules:\n  - {match: {vm: db-01, kind: power-on}, action: error, transient: true}\n",
		"rules:\n  - {match: {vm: db-01, kind: power-on}, action: timeout}\n",
		"rules:\n  - {match: {vm: db-01, kind: power-on}, action: delay, delay: 30s}\n",
		"rules:\n  - {match: {vm: db-01, kind: power-on}, action: lost-reply}\n",
	};
	static const struct {
		enum adapter_status status;
		const char *message; /* a prefix */
		uint32_t calls;      /* of the inner adapter */
		int64_t duration;
	} want[] = {
		{ADAPTER_FAILED, "injected fault: rule 1 (line 2)", 0, 0},
		{ADAPTER_TRANSIENT, "injected fault: rule 1 (line 2), transient", 0, 0},
		{ADAPTER_TRANSIENT, "injected timeout", 0, 0},
		{ADAPTER_DONE, "", 1, 30005},
		{ADAPTER_TRANSIENT, "reply lost", 1, 5},
	};
	for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
		struct fault_rules rules;
		rules_from(&rules, texts[t]);
		bool closed;
		struct fake *f = fake_new(d, &closed);
		struct adapter *px = faults_wrap(&f->base, d, &rules, 7);
		fault_rules_free(&rules); /* the proxy keeps a copy */
		struct adapter_reply reply;
		call(px, d, db, 1, &reply);
		ck_assert_int_eq(reply.status, want[t].status);
		ck_assert_msg(strncmp(reply.message, want[t].message, strlen(want[t].message)) == 0, "%zu: '%s'", t,
		              reply.message);
		ck_assert_uint_eq(f->calls[db], want[t].calls);
		ck_assert_int_eq(reply.duration_ms, want[t].duration);
		ck_assert_uint_eq(faults_injected(px), 1);
		/* Another VM's power-on, a failover and a register go through untouched. */
		call(px, d, app, 1, &reply);
		ck_assert_int_eq(reply.status, ADAPTER_DONE);
		ck_assert_int_eq(reply.duration_ms, 5);
		call(px, d, fo, 1, &reply);
		ck_assert_int_eq(reply.status, ADAPTER_DONE);
		ck_assert_uint_eq(f->prepares[fo], 1);
		ck_assert_uint_eq(f->calls[fo], 1);
		call(px, d, fo3, 1, &reply);
		call(px, d, reg, 1, &reply);
		ck_assert_uint_eq(f->calls[reg], 1);
		ck_assert_uint_eq(faults_injected(px), 1);
		/* query and flush forward; close closes the inner adapter. */
		struct adapter_request req = {.dag = d, .op = app, .attempt = 1, .run = 1};
		ck_assert_int_eq(adapter_query_op(px, &req), ADAPTER_HAPPENED);
		ck_assert_uint_eq(f->queries, 1);
		char err[64];
		ck_assert(px->vt->flush(px, err, sizeof err));
		ck_assert_uint_eq(f->flushes, 1);
		px->vt->close(px);
		ck_assert(closed);
	}
	lowered_free(&l);
}
END_TEST

/* Which ops a rule set hits, as a bit mask over ops (attempt 1). */
static uint64_t hits(const struct dag *d, const char *text, uint64_t seed, uint32_t attempt)
{
	struct fault_rules rules;
	rules_from(&rules, text);
	bool closed;
	struct fake *f = fake_new(d, &closed);
	struct adapter *px = faults_wrap(&f->base, d, &rules, seed);
	fault_rules_free(&rules);
	uint64_t mask = 0;
	for (uint32_t i = 0; i < d->n_ops && i < 64; i++) {
		if (d->ops[i].kind >= DAG_PROMPT || d->ops[i].kind == DAG_RUN)
			continue;
		struct adapter_reply reply;
		call(px, d, i, attempt, &reply);
		if (reply.status != ADAPTER_DONE)
			mask |= (uint64_t)1 << i;
	}
	px->vt->close(px);
	return mask;
}

/* partial-timeout forwards a workgroup call for the first half of the VMs it names and replies
 * transient; a call with one VM, or on a device, is not forwarded at all. */
START_TEST(test_partial_timeout)
{
	struct lowered l;
	lower_text(&l, PLAN);
	const struct dag *d = &l.dag;
	uint32_t reg = op_named(d, "s2.register.w1"), app = power_on_of(d, "app-01");
	uint32_t fo = op_named(d, "s1.failover.cg-a");
	ck_assert_uint_eq(d->workgroups[d->ops[reg].target].n_vms, 2);
	struct fault_rules rules;
	rules_from(&rules, "rules:\n  - {action: partial-timeout}\n");
	bool closed;
	struct fake *f = fake_new(d, &closed);
	struct adapter *px = faults_wrap(&f->base, d, &rules, 7);
	fault_rules_free(&rules);
	struct adapter_reply reply;
	call(px, d, reg, 1, &reply);
	ck_assert_int_eq(reply.status, ADAPTER_TRANSIENT);
	ck_assert_str_eq(reply.message, "injected timeout after 1 of 2 VMs: rule 1 (line 2)");
	ck_assert_uint_eq(f->calls[reg], 1);
	ck_assert_uint_eq(f->named[reg], 1);
	call(px, d, app, 1, &reply);
	ck_assert_int_eq(reply.status, ADAPTER_TRANSIENT);
	ck_assert_str_eq(reply.message, "injected timeout after 0 of 1 VMs: rule 1 (line 2)");
	ck_assert_uint_eq(f->calls[app], 0);
	call(px, d, fo, 1, &reply);
	ck_assert_int_eq(reply.status, ADAPTER_TRANSIENT);
	ck_assert_str_eq(reply.message, "injected timeout: rule 1 (line 2)");
	ck_assert_uint_eq(f->calls[fo], 0);
	px->vt->close(px);
	ck_assert(closed);
	lowered_free(&l);
}
END_TEST

START_TEST(test_matching)
{
	struct lowered l;
	lower_text(&l, PLAN);
	const struct dag *d = &l.dag;
	uint64_t fo = (uint64_t)1 << op_named(d, "s1.failover.cg-a"), fo3 = (uint64_t)1 << op_named(d, "s1.failover.lun-3");
	uint64_t db_on = (uint64_t)1 << power_on_of(d, "db-01"), app_on = (uint64_t)1 << power_on_of(d, "app-01");
	uint64_t db_reg = 0, app_reg = 0;
	for (uint32_t i = 0; i < d->n_ops; i++)
		if (d->ops[i].kind == DAG_REGISTER) {
			const struct dag_workgroup *w = &d->workgroups[d->ops[i].target];
			*(strncmp(d->vms[w->first_vm].name, "db-", 3) == 0 ? &db_reg : &app_reg) |= (uint64_t)1 << i;
		}
	ck_assert_uint_eq(hits(d, "rules:\n  - {match: {kind: failover}, action: error}\n", 1, 1), fo | fo3);
	/* A device matches the group that holds it, and the workgroups on it. */
	ck_assert_uint_eq(hits(d, "rules:\n  - {match: {device: lun-2}, action: error}\n", 1, 1), fo | db_on | db_reg);
	ck_assert_uint_eq(hits(d, "rules:\n  - {match: {device: cg-*}, action: error}\n", 1, 1), fo);
	/* Any VM of a workgroup. */
	ck_assert_uint_eq(hits(d, "rules:\n  - {match: {vm: \"db-0[2]\"}, action: error}\n", 1, 1), db_on | db_reg);
	ck_assert_uint_eq(hits(d, "rules:\n  - {match: {op: \"s1.*\"}, action: timeout}\n", 1, 1), fo | fo3);
	ck_assert_uint_eq(hits(d, "rules:\n  - {match: {site: west, kind: power-on}, action: error}\n", 1, 1),
	                  db_on | app_on);
	ck_assert_uint_eq(hits(d, "rules:\n  - {match: {site: east}, action: error}\n", 1, 1), 0);
	/* All fields must match. */
	ck_assert_uint_eq(hits(d, "rules:\n  - {match: {vm: app-01, kind: failover}, action: error}\n", 1, 1), 0);
	/* No rules, or an empty file: nothing. */
	ck_assert_uint_eq(hits(d, "rules: []\n", 1, 1), 0);
	ck_assert_uint_eq(hits(d, "", 1, 1), 0);
	ck_assert_uint_eq(hits(d, "rules:\n  - {action: error, probability: 0}\n", 1, 1), 0);
	lowered_free(&l);
}
END_TEST

START_TEST(test_determinism)
{
	struct lowered l;
	lower_text(&l, PLAN);
	const struct dag *d = &l.dag;
	static const char half[] = "rules:\n  - {action: error, probability: 0.5}\n";
	/* The same seed and attempt: the same faults. Across seeds and attempts: not always. */
	uint32_t fired = 0, total = 0, differ = 0, n_adapter_ops = 0;
	for (uint32_t i = 0; i < d->n_ops; i++)
		n_adapter_ops += d->ops[i].kind < DAG_PROMPT && d->ops[i].kind != DAG_RUN;
	ck_assert_uint_ge(n_adapter_ops, 6);
	for (uint64_t seed = 1; seed <= 40; seed++) {
		uint64_t a = hits(d, half, seed, 1);
		ck_assert_uint_eq(a, hits(d, half, seed, 1));
		differ += a != hits(d, half, seed + 1000, 1);
		differ += a != hits(d, half, seed, 2);
		fired += (uint32_t)__builtin_popcountll(a);
		total += n_adapter_ops;
	}
	ck_assert_uint_gt(differ, 40);
	/* About half: the draw is not stuck at 0 or 1. */
	ck_assert_uint_gt(fired, total / 4);
	ck_assert_uint_lt(fired, total * 3 / 4);
	lowered_free(&l);
}
END_TEST

START_TEST(test_crash_after)
{
	struct lowered l;
	lower_text(&l, PLAN);
	const struct dag *d = &l.dag;
	uint32_t db = power_on_of(d, "db-01"), app = power_on_of(d, "app-01");
	int fds[2];
	ck_assert_int_eq(pipe(fds), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		struct fault_rules rules;
		rules_from(&rules, "rules:\n  - {match: {kind: power-on}, action: crash-after, count: 3}\n");
		bool closed;
		struct fake *f = fake_new(d, &closed);
		struct adapter *px = faults_wrap(&f->base, d, &rules, 1);
		struct adapter_reply reply;
		for (int i = 0; i < 5; i++) {
			call(px, d, i % 2 ? app : db, 1, &reply);
			call(px, d, op_named(d, "s1.failover.lun-3"), 1, &reply); /* not counted */
			char c = reply.status == ADAPTER_DONE ? 'y' : 'n';
			if (write(fds[1], &c, 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	close(fds[1]);
	char got[8] = "";
	size_t have = 0;
	ssize_t n;
	/* Until the child is gone (EOF): its writes may arrive one read at a time. */
	while (have < sizeof got - 1 && (n = read(fds[0], got + have, sizeof got - 1 - have)) > 0)
		have += (size_t)n;
	close(fds[0]);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), FAULTS_CRASH_STATUS);
	ck_assert_str_eq(got, "yyy"); /* three matching calls went through; the fourth crashed */
	lowered_free(&l);
}
END_TEST

/* Bad rules files: each mistake with its place (line:column) and a word of its message. */
START_TEST(test_bad_rules)
{
	static const struct {
		const char *text;
		uint32_t line, col;
		const char *says;
	} cases[] = {
		{"rules: [\n", 2, 1, "invalid YAML"},
		{"- a\n", 1, 1, "a mapping with a 'rules' list"},
		{"rulez: []\n", 1, 1, "unknown key 'rulez'"},
		{"rules: 3\n", 1, 8, "expected a list of rules"},
		{"rules:\n  - 3\n", 2, 5, "expected a mapping"},
		{"rules:\n  - {match: {kind: power_on}, action: error}\n", 2, 20, "'power_on' is not a kind"},
		{"rules:\n  - {match: {kind: wait}, action: error}\n", 2, 20, "'wait' is not a kind"},
		{"rules:\n  - {match: {host: a}, action: error}\n", 2, 14, "unknown field 'host'"},
		{"rules:\n  - {match: {vm: [a]}, action: error}\n", 2, 18, "expected a name or a pattern"},
		{"rules:\n  - {action: explode}\n", 2, 14, "expected an action"},
		{"rules:\n  - {match: {vm: a}}\n", 2, 5, "has no 'action'"},
		{"rules:\n  - {action: error, probability: 1.5}\n", 2, 34, "from 0 to 1"},
		{"rules:\n  - {action: error, probability: half}\n", 2, 34, "from 0 to 1"},
		{"rules:\n  - {action: delay}\n", 2, 6, "needs a 'delay'"},
		{"rules:\n  - {action: delay, delay: 30}\n", 2, 28, "invalid duration"},
		{"rules:\n  - {action: delay, delay: -5s}\n", 2, 28, "invalid duration"},
		{"rules:\n  - {action: crash-after}\n", 2, 6, "needs a 'count'"},
		{"rules:\n  - {action: crash-after, count: 0}\n", 2, 34, "whole number"},
		{"rules:\n  - {action: timeout, transient: true}\n", 2, 23, "'transient' is for the error action"},
		{"rules:\n  - {action: error, delay: 5s}\n", 2, 21, "'delay' is for the delay action"},
		{"rules:\n  - {action: error, action: timeout}\n", 2, 21, "given twice"},
		{"rules:\n  - &a {action: error}\n", 2, 5, "anchors"},
		{"rules:\n  - !x {action: error}\n", 2, 5, "tags"},
		{"rules: []\n---\nrules: []\n", 2, 1, "second YAML document"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct src_set set;
		struct diag_list diags;
		src_set_init(&set);
		diag_list_init(&diags);
		struct src_file *f = src_add(&set, "rules.yaml", cases[i].text, strlen(cases[i].text));
		struct fault_rules r;
		ck_assert_msg(!fault_rules_load(&r, f, &diags), "case %zu loaded", i);
		ck_assert_uint_eq(r.n, 0);
		ck_assert_msg(diags.len >= 1, "case %zu: no diagnostic", i);
		const struct diag *dg = diags.items[0];
		ck_assert_int_eq(dg->rule, DRP056);
		ck_assert_msg(strstr(dg->message, cases[i].says), "case %zu: '%s'", i, dg->message);
		struct src_pos pos = src_position(f, dg->at.start);
		ck_assert_msg(pos.line == cases[i].line && pos.col == cases[i].col, "case %zu: at %u:%u, expected %u:%u", i,
		              pos.line, pos.col, cases[i].line, cases[i].col);
		fault_rules_free(&r);
		diag_list_free(&diags);
		src_set_free(&set);
	}
}
END_TEST

/* The example of docs/faults.md loads, with every field where it belongs. */
START_TEST(test_good_rules)
{
	struct fault_rules r;
	rules_from(&r, "rules:\n"
	               "  - {match: {kind: power-on}, action: error, transient: true, probability: 0.2}\n"
	               "  - {match: {vm: \"db-*\"}, action: lost-reply, probability: 0.1}\n"
	               "  - {match: {kind: failover}, action: delay, delay: 30s}\n"
	               "  - {action: crash-after, count: 40}\n");
	ck_assert_uint_eq(r.n, 4);
	ck_assert_int_eq(r.rules[0].kind, DAG_POWER_ON);
	ck_assert(r.rules[0].transient);
	ck_assert(r.rules[0].probability > 0.19 && r.rules[0].probability < 0.21);
	ck_assert_str_eq(r.rules[1].vm, "db-*");
	ck_assert_int_eq(r.rules[1].kind, -1);
	ck_assert_int_eq(r.rules[1].action, FAULT_LOST_REPLY);
	ck_assert_int_eq(r.rules[2].delay_ms, 30000);
	ck_assert(r.rules[2].probability == 1);
	ck_assert_int_eq(r.rules[3].action, FAULT_CRASH_AFTER);
	ck_assert_uint_eq(r.rules[3].count, 40);
	ck_assert_uint_eq(r.rules[3].line, 5);
	fault_rules_free(&r);
}
END_TEST

Suite *faults_suite(void)
{
	Suite *s = suite_create("faults");
	TCase *tc = tcase_create("faults");
	tcase_add_test(tc, test_actions);
	tcase_add_test(tc, test_partial_timeout);
	tcase_add_test(tc, test_matching);
	tcase_add_test(tc, test_determinism);
	tcase_add_test(tc, test_crash_after);
	tcase_add_test(tc, test_bad_rules);
	tcase_add_test(tc, test_good_rules);
	suite_add_tcase(s, tc);
	return s;
}
