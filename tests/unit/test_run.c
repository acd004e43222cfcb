/* test_run.c: the scheduler (runtime/run.c) and the script runner (runtime/script.c), on small plans
 * lowered from text and run through a fake adapter that answers from a table and records every
 * call: edges and limits respected, failure isolation, planned stops, best-effort, retries at exact
 * virtual instants, the barrier strategy, resume after a crash at every journal record, prompts,
 * agreement with the estimate, scripts, and the speed of a 100,000-workgroup rehearsal. */
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../compiler/dag.h"
#include "../../compiler/estimate.h"
#include "../../compiler/load.h"
#include "../../compiler/lower.h"
#include "../../compiler/model.h"
#include "../../lib/alloc.h"
#include "../../runtime/journal.h"
#include "../../runtime/run.h"
#include "../../runtime/script.h"
#include "lowered.h"
#include "suites.h"

/* ---- Plans */


/* The operation with this id; fails the test if there is none. */
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
	return DAG_NONE;
}

static bool is_adapter_op(const struct dag *d, uint32_t i)
{
	uint8_t k = d->ops[i].kind;
	return k != DAG_RUN && k != DAG_PROMPT && k != DAG_WAIT && k != DAG_GATE;
}

/* Two workgroups on separate devices: w1 (db-01, db-02 on cg-a), w2 (app-01 on lun-3). */
#define TWO_GROUPS                                                                              \
	"vm db-01 priority 1 on lun-1 lun-2\n"                                                      \
	"vm db-02 priority 1 on lun-1 lun-2\n"                                                      \
	"vm app-01 priority 1 on lun-3\n"

/* ---- The fake adapter */

#define MAX_RULES 8

struct rule {
	const char *id;                /* an operation id */
	enum adapter_status status;
	uint32_t transient;            /* the first this many attempts fail transiently */
	int64_t duration_ms;           /* -1: the default */
	uint32_t half;                 /* workgroups: the first this many attempts act on the first half
	                                  of the VMs they name, then time out (transiently) */
};

/* The most VMs per workgroup the fake keeps track of. */
#define FAKE_WG_MAX 16

struct fake {
	struct adapter base;           /* first: the scheduler sees a struct adapter */
	const struct dag *d;
	pthread_mutex_t mu;
	struct rule rules[MAX_RULES];
	uint32_t n_rules;
	bool model_durations;          /* default duration: the latency model's, else 0 */
	uint32_t sleep_ms;             /* real time: each call takes this long */
	uint32_t *calls, *queries;     /* per op */
	uint8_t *done;                 /* per op: a call took effect (answered DONE) */
	uint8_t *answer;               /* per op: 0 = HAPPENED if called, else 1 + enum adapter_outcome */
	uint32_t *acts;                /* per op and VM of its workgroup (op * FAKE_WG_MAX + k): times
	                                  the VM was acted on */
	uint8_t *vm_answer;            /* likewise: 0 = HAPPENED if acted on, else 1 + enum adapter_outcome */
	uint32_t *begin_seq, *end_seq; /* per op: its last call's place in the sequence of call events */
	uint32_t seq;
	uint32_t in_flight, max_in_flight;
	uint32_t kind_in_flight[DAG_N_OP_KINDS], kind_max[DAG_N_OP_KINDS];
	uint32_t flushes;
};

static const struct rule *find_rule(struct fake *f, uint32_t op)
{
	if (f->n_rules == 0)
		return NULL;
	struct buf b = BUF_INIT;
	dag_op_id(f->d, op, &b);
	const struct rule *found = NULL;
	for (uint32_t i = 0; i < f->n_rules && !found; i++)
		if (strcmp(f->rules[i].id, b.data) == 0)
			found = &f->rules[i];
	buf_free(&b);
	return found;
}

static void fake_call(struct adapter *a, const struct adapter_request *req, struct adapter_reply *reply)
{
	struct fake *f = (struct fake *)a;
	uint8_t kind = f->d->ops[req->op].kind;
	pthread_mutex_lock(&f->mu);
	uint32_t n = ++f->calls[req->op];
	f->begin_seq[req->op] = ++f->seq;
	if (++f->in_flight > f->max_in_flight)
		f->max_in_flight = f->in_flight;
	if (++f->kind_in_flight[kind] > f->kind_max[kind])
		f->kind_max[kind] = f->kind_in_flight[kind];
	const struct rule *r = find_rule(f, req->op);
	pthread_mutex_unlock(&f->mu);
	ck_assert_uint_ge(req->attempt, 1); /* attempts count from 1 */
	(void)n;

	if (f->sleep_ms) {
		struct timespec ts = {0, (long)f->sleep_ms * 1000000};
		nanosleep(&ts, NULL);
	}
	reply->status = ADAPTER_DONE;
	reply->duration_ms = f->model_durations ? dag_op_duration_ms(f->d, req->op) : 0;
	const struct dag_op *op = &f->d->ops[req->op];
	uint32_t n_vms = op->target_kind == DAG_TARGET_WORKGROUP ? f->d->workgroups[op->target].n_vms : 0;
	uint32_t named = 0, acting = n_vms;
	for (uint32_t k = 0; k < n_vms; k++)
		named += adapter_names_vm(req, k);
	/* Not ck_assert: each one writes to Check's pipe, which would dominate test_speed. */
	if (n_vms > FAKE_WG_MAX)
		ck_abort_msg("the fake keeps track of %u VMs per workgroup, not %u", FAKE_WG_MAX, n_vms);
	if (req->vms && (named == 0 || named == n_vms))
		ck_abort_msg("a subset of %u VMs names %u", n_vms, named); /* a subset is a proper one */
	bool half = r && req->attempt <= r->half && n_vms > 0;
	if (half)
		acting = named / 2;
	if (!r || req->attempt > r->transient) {
		pthread_mutex_lock(&f->mu);
		for (uint32_t k = 0, i = 0; k < n_vms && i < acting; k++)
			if (adapter_names_vm(req, k)) {
				f->acts[req->op * FAKE_WG_MAX + k]++;
				i++;
			}
		pthread_mutex_unlock(&f->mu);
	}
	if (half) {
		adapter_reply_set(reply, ADAPTER_TRANSIENT, "timed out after %u of %u VMs", acting, named);
	} else if (r) {
		if (r->duration_ms >= 0)
			reply->duration_ms = r->duration_ms;
		if (req->attempt <= r->transient)
			adapter_reply_set(reply, ADAPTER_TRANSIENT, "busy (attempt %u)", req->attempt);
		else if (r->status != ADAPTER_DONE)
			adapter_reply_set(reply, r->status, "broken");
	}
	pthread_mutex_lock(&f->mu);
	if (reply->status == ADAPTER_DONE)
		f->done[req->op] = 1;
	f->in_flight--;
	f->kind_in_flight[kind]--;
	f->end_seq[req->op] = ++f->seq;
	pthread_mutex_unlock(&f->mu);
}

static void fake_query(struct adapter *a, const struct adapter_request *req, struct adapter_answer *ans)
{
	struct fake *f = (struct fake *)a;
	pthread_mutex_lock(&f->mu);
	f->queries[req->op]++;
	if (f->answer[req->op])
		ans->outcome = (enum adapter_outcome)(f->answer[req->op] - 1);
	else
		ans->outcome = f->done[req->op] ? ADAPTER_HAPPENED : ADAPTER_NOT_HAPPENED;
	for (uint32_t k = 0; ans->vms && k < ans->n_vms; k++) {
		if (!adapter_names_vm(req, k))
			continue;
		uint32_t at = req->op * FAKE_WG_MAX + k;
		if (f->vm_answer[at])
			ans->vms[k].outcome = (enum adapter_outcome)(f->vm_answer[at] - 1);
		else if (f->answer[req->op])
			ans->vms[k].outcome = ans->outcome;
		else
			ans->vms[k].outcome = f->acts[at] ? ADAPTER_HAPPENED : ADAPTER_NOT_HAPPENED;
		snprintf(ans->vms[k].where, sizeof ans->vms[k].where, "%s", f->acts[at] ? "west (esx-w01)" : "");
	}
	pthread_mutex_unlock(&f->mu);
}

static bool fake_flush(struct adapter *a, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	((struct fake *)a)->flushes++;
	return true;
}

static const struct adapter_vtable fake_vt = {
	.name = "fake",
	.sync = fake_call,
	.failover = fake_call,
	.set_preference = fake_call,
	.snapshot = fake_call,
	.reverse = fake_call,
	.shutdown = fake_call,
	.migrate = fake_call,
	.register_vms = fake_call,
	.power_on = fake_call,
	.query = fake_query,
	.flush = fake_flush,
};

static void fake_init(struct fake *f, const struct dag *d)
{
	memset(f, 0, sizeof *f);
	f->base.vt = &fake_vt;
	f->d = d;
	pthread_mutex_init(&f->mu, NULL);
	size_t n = (size_t)d->n_ops + 1;
	f->calls = xcalloc(n, sizeof *f->calls);
	f->done = xcalloc(n, sizeof *f->done);
	f->queries = xcalloc(n, sizeof *f->queries);
	f->answer = xcalloc(n, 1);
	f->acts = xcalloc(n * FAKE_WG_MAX, sizeof *f->acts);
	f->vm_answer = xcalloc(n * FAKE_WG_MAX, 1);
	f->begin_seq = xcalloc(n, sizeof *f->begin_seq);
	f->end_seq = xcalloc(n, sizeof *f->end_seq);
}

static void fake_rule(struct fake *f, const char *id, enum adapter_status status, uint32_t transient, int64_t duration_ms)
{
	ck_assert_uint_lt(f->n_rules, MAX_RULES);
	f->rules[f->n_rules++] = (struct rule){id, status, transient, duration_ms, 0};
}

static void fake_free(struct fake *f)
{
	free(f->calls);
	free(f->done);
	free(f->queries);
	free(f->answer);
	free(f->acts);
	free(f->vm_answer);
	free(f->begin_seq);
	free(f->end_seq);
	pthread_mutex_destroy(&f->mu);
}

/* ---- Events */

struct ev {
	int64_t t;
	uint32_t op, attempt;
	uint8_t state;
	char message[96];
};

struct events {
	const struct dag *d;
	struct ev *v;
	uint32_t n, cap;
	int64_t *start, *finish;       /* per op: its last RUNNING event, its final event; -1 */
	uint32_t running, max_running;
};

static void events_init(struct events *e, const struct dag *d)
{
	memset(e, 0, sizeof *e);
	e->d = d;
	e->start = xmalloc(((size_t)d->n_ops + 1) * sizeof *e->start);
	e->finish = xmalloc(((size_t)d->n_ops + 1) * sizeof *e->finish);
	for (uint32_t i = 0; i <= d->n_ops; i++)
		e->start[i] = e->finish[i] = -1;
}

static void events_free(struct events *e)
{
	free(e->v);
	free(e->start);
	free(e->finish);
}

static void on_event(void *ctx, const struct run_event *re)
{
	struct events *e = ctx;
	if (e->n == e->cap) {
		e->cap = e->cap ? 2 * e->cap : 256;
		e->v = xrealloc(e->v, e->cap * sizeof *e->v);
	}
	struct ev *v = &e->v[e->n++];
	*v = (struct ev){.t = re->time_ms, .op = re->op, .attempt = re->attempt, .state = (uint8_t)re->state};
	snprintf(v->message, sizeof v->message, "%s", re->message ? re->message : "");
	ck_assert_uint_lt(re->op, e->d->n_ops);
	if (re->state == RUN_RUNNING) {
		e->start[re->op] = re->time_ms;
		if (++e->running > e->max_running)
			e->max_running = e->running;
	} else if (re->state != RUN_PENDING) {
		e->finish[re->op] = re->time_ms;
	}
	if (re->state != RUN_RUNNING && e->start[re->op] >= 0 && e->running > 0 && re->state != RUN_SKIPPED)
		e->running--;
}

/* Every edge: the operation after started no earlier than the one before finished. */
static void check_edges(const struct dag *d, const struct events *e)
{
	for (uint32_t k = 0; k < d->n_edges; k++) {
		uint32_t from = d->edges[k].from, to = d->edges[k].to;
		if (e->start[to] < 0)
			continue;
		ck_assert_msg(e->finish[from] >= 0 && e->start[to] >= e->finish[from],
		              "edge %u -> %u: started at %lld, before %lld", from, to, (long long)e->start[to],
		              (long long)e->finish[from]);
	}
}

/* A run in virtual time through f, events into e. */
static int run_virtual(const struct dag *d, struct fake *f, struct events *e, struct run_result *r)
{
	struct run_options o = {
		.adapter = &f->base, .run = 1, .virtual_time = true, .simulate_scripts = true, .on_event = on_event,
		.ctx = e,
	};
	return run_execute(d, &o, r);
}

/* ---- Journals */

struct jrec {
	uint32_t op, attempt, run;
	int64_t t;
	enum journal_state state;
	char message[96];
};

struct jlog {
	struct jrec *v;
	uint32_t n, cap;
};

static void jlog_each(void *ctx, const struct journal_record *r)
{
	struct jlog *l = ctx;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	struct jrec *j = &l->v[l->n++];
	*j = (struct jrec){.op = r->op, .attempt = r->attempt, .run = r->run, .t = r->time_ms, .state = r->state};
	snprintf(j->message, sizeof j->message, "%s", r->message);
}

static void jlog_warn(void *ctx, const char *message)
{
	(void)ctx;
	ck_abort_msg("journal warning: %s", message);
}

static const char zero_digest[] = "0000000000000000000000000000000000000000000000000000000000000000";

static struct journal *journal_temp(char *path, size_t len)
{
	snprintf(path, len, "/tmp/drplan-run-journal-%ld-%d", (long)getpid(), rand());
	unlink(path);
	char err[256];
	struct journal *j = journal_create(path, zero_digest, "test", err, sizeof err);
	ck_assert_msg(j != NULL, "%s", err);
	return j;
}

static void jlog_read(const char *path, struct jlog *l)
{
	memset(l, 0, sizeof *l);
	char err[256];
	ck_assert_msg(journal_read(path, NULL, NULL, jlog_each, jlog_warn, l, err, sizeof err), "%s", err);
}

static uint32_t jlog_count(const struct jlog *l, enum journal_state st)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < l->n; i++)
		n += l->v[i].state == st;
	return n;
}

/* ---- Tests */

/* Every operation runs once, after its predecessors; plan operations never reach the adapter; the
 * journal has a START and a DONE for each, between run-start and run-end. */
START_TEST(test_order)
{
	struct lowered l;
	lower_text(&l, WORLD VMS PLANNED);
	const struct dag *d = &l.dag;
	struct fake f;
	fake_init(&f, d);
	f.model_durations = true;
	struct events e;
	events_init(&e, d);
	char path[128];
	struct journal *j = journal_temp(path, sizeof path);
	struct run_options o = {
		.adapter = &f.base, .journal = j, .run = 1, .virtual_time = true, .simulate_scripts = true,
		.on_event = on_event, .ctx = &e,
	};
	struct run_result r;
	ck_assert_int_eq(run_execute(d, &o, &r), 0);
	journal_close(j);
	ck_assert(!r.unfinished);
	ck_assert_uint_eq(r.count[RUN_DONE], d->n_ops);
	check_edges(d, &e);
	for (uint32_t i = 0; i < d->n_ops; i++) {
		ck_assert_uint_eq(r.state[i], RUN_DONE);
		ck_assert_uint_eq(f.calls[i], is_adapter_op(d, i) ? 1 : 0);
		ck_assert_uint_eq(r.attempts[i], 1);
	}
	ck_assert_uint_gt(f.flushes, 0);
	ck_assert_int_gt(r.makespan_ms, 0);

	struct jlog jl;
	jlog_read(path, &jl);
	ck_assert_uint_eq(jl.n, 2 * d->n_ops + 2);
	ck_assert_uint_eq(jl.v[0].state, JOURNAL_RUN_START);
	ck_assert_ptr_nonnull(strstr(jl.v[0].message, "mode planned, virtual time, pipelined"));
	ck_assert_uint_eq(jl.v[jl.n - 1].state, JOURNAL_RUN_END);
	ck_assert_ptr_nonnull(strstr(jl.v[jl.n - 1].message, "done, 0 ignored, 0 failed, 0 skipped"));
	ck_assert_uint_eq(jlog_count(&jl, JOURNAL_START), d->n_ops);
	ck_assert_uint_eq(jlog_count(&jl, JOURNAL_DONE), d->n_ops);
	ck_assert_int_eq(jl.v[jl.n - 1].t, r.makespan_ms);
	free(jl.v);
	unlink(path);
	run_result_free(&r);
	events_free(&e);
	fake_free(&f);
	lowered_free(&l);
}
END_TEST

/* Real time with a few workers: limits hold at every instant, edges hold, every op once. */
START_TEST(test_limits_real_time)
{
	struct lowered l;
	lower_text(&l, WORLD
	           "vm a-01 priority 1 on lun-3\nvm a-02 priority 1 on lun-3\nvm a-03 priority 1 on lun-3\n"
	           "vm a-04 priority 1 on lun-3\nvm a-05 priority 1 on lun-3\nvm a-06 priority 1 on lun-3\n"
	           "vm a-07 priority 1 on lun-3\nvm a-08 priority 1 on lun-3\n"
	           "plan p {\n  from east to west\n  mode disaster\n  protect p\n  workgroup 1\n"
	           "  limit register 3\n  limit power-on 2\n"
	           "  step failover storage\n  step register vms\n  step power-on vms\n}\n");
	const struct dag *d = &l.dag;
	ck_assert_uint_eq(d->n_workgroups, 8);
	struct fake f;
	fake_init(&f, d);
	f.sleep_ms = 5;
	struct run_options o = {.adapter = &f.base, .run = 1, .workers = 4};
	struct run_result r;
	ck_assert_int_eq(run_execute(d, &o, &r), 0);
	ck_assert(!r.unfinished);
	ck_assert_uint_eq(r.count[RUN_DONE], d->n_ops);
	ck_assert_uint_le(f.kind_max[DAG_REGISTER], 3);
	ck_assert_uint_le(f.kind_max[DAG_POWER_ON], 2);
	ck_assert_uint_le(f.max_in_flight, 4);
	ck_assert_uint_gt(f.max_in_flight, 1); /* the workers do work in parallel */
	for (uint32_t k = 0; k < d->n_edges; k++)
		ck_assert_uint_gt(f.begin_seq[d->edges[k].to], f.end_seq[d->edges[k].from]);
	for (uint32_t i = 0; i < d->n_ops; i++)
		ck_assert_uint_eq(f.calls[i], 1);
	ck_assert_int_ge(r.makespan_ms, 5 * 4); /* 8 power-ons, 2 at a time, 5 ms each */
	run_result_free(&r);
	fake_free(&f);
	lowered_free(&l);
}
END_TEST

#define THREE_STEPS(mode)                                                                       \
	"plan p {\n  from east to west\n  mode " mode "\n  protect p\n  workgroup 2\n"              \
	"  step failover storage\n  step register vms\n  step power-on vms\n}\n"

/* A failed workgroup fails only itself and what depends on it; the journal says why. */
START_TEST(test_failure_isolation)
{
	struct lowered l;
	lower_text(&l, WORLD TWO_GROUPS THREE_STEPS("disaster"));
	const struct dag *d = &l.dag;
	struct fake f;
	fake_init(&f, d);
	fake_rule(&f, "s2.register.w1", ADAPTER_FAILED, 0, -1);
	char path[128];
	struct journal *j = journal_temp(path, sizeof path);
	struct run_options o = {.adapter = &f.base, .journal = j, .run = 1, .virtual_time = true};
	struct run_result r;
	ck_assert_int_eq(run_execute(d, &o, &r), 0);
	journal_close(j);
	uint32_t reg1 = op_named(d, "s2.register.w1"), on1 = op_named(d, "s3.power-on.w1");
	ck_assert_uint_eq(r.state[reg1], RUN_FAILED);
	ck_assert_str_eq(r.why[reg1], "broken");
	ck_assert_uint_eq(r.state[on1], RUN_SKIPPED);
	ck_assert_str_eq(r.why[on1], "prerequisite s2.register.w1 failed");
	ck_assert_uint_eq(f.calls[on1], 0);
	ck_assert_uint_eq(r.state[op_named(d, "s2.register.w2")], RUN_DONE);
	ck_assert_uint_eq(r.state[op_named(d, "s3.power-on.w2")], RUN_DONE);
	ck_assert_uint_eq(r.count[RUN_FAILED], 1);
	ck_assert_uint_eq(r.count[RUN_SKIPPED], 1);
	ck_assert_uint_eq(r.count[RUN_DONE], d->n_ops - 2);
	ck_assert(!r.unfinished);

	struct jlog jl;
	jlog_read(path, &jl);
	ck_assert_uint_eq(jlog_count(&jl, JOURNAL_FAILED), 1);
	ck_assert_uint_eq(jlog_count(&jl, JOURNAL_SKIPPED), 1);
	ck_assert_uint_eq(jlog_count(&jl, JOURNAL_START), d->n_ops - 1);
	for (uint32_t i = 0; i < jl.n; i++)
		if (jl.v[i].state == JOURNAL_FAILED) {
			ck_assert_uint_eq(jl.v[i].op, reg1);
			ck_assert_str_eq(jl.v[i].message, "broken");
		}
	ck_assert_ptr_nonnull(strstr(jl.v[jl.n - 1].message, "1 failed, 1 skipped"));
	free(jl.v);
	unlink(path);
	run_result_free(&r);
	fake_free(&f);
	lowered_free(&l);
}
END_TEST

/* Planned mode: the first failure stops new starts; what runs completes; the rest is skipped. */
START_TEST(test_planned_stops)
{
	struct lowered l;
	lower_text(&l, WORLD TWO_GROUPS
	           "plan p {\n  from east to west\n  mode planned\n  protect p\n  workgroup 2\n"
	           "  step sync storage\n  step shutdown vms\n  step failover storage\n  step register vms\n"
	           "  step power-on vms\n}\n");
	const struct dag *d = &l.dag;
	struct fake f;
	fake_init(&f, d);
	f.model_durations = true;
	fake_rule(&f, "s1.sync.lun-1", ADAPTER_FAILED, 0, 1000);
	struct events e;
	events_init(&e, d);
	struct run_result r;
	ck_assert_int_eq(run_virtual(d, &f, &e, &r), 0);
	ck_assert_uint_eq(r.state[op_named(d, "s1.sync.lun-1")], RUN_FAILED);
	/* Running when lun-1's sync failed at 1 s: they complete. */
	ck_assert_uint_eq(r.state[op_named(d, "s1.sync.lun-2")], RUN_DONE);
	ck_assert_uint_eq(r.state[op_named(d, "s1.sync.lun-3")], RUN_DONE);
	ck_assert_uint_eq(r.state[op_named(d, "s2.shutdown.w1")], RUN_DONE);
	ck_assert_uint_eq(r.state[op_named(d, "s2.shutdown.w2")], RUN_DONE);
	uint32_t cg = op_named(d, "s3.failover.cg-a"), l3 = op_named(d, "s3.failover.lun-3");
	ck_assert_uint_eq(r.state[cg], RUN_SKIPPED);
	ck_assert_str_eq(r.why[cg], "prerequisite s1.sync.lun-1 failed");
	ck_assert_uint_eq(r.state[l3], RUN_SKIPPED);
	ck_assert_str_eq(r.why[l3], "the run stopped at the first failure (planned mode)");
	ck_assert_uint_eq(f.calls[l3], 0);
	ck_assert_uint_eq(r.count[RUN_FAILED], 1);
	ck_assert_uint_eq(r.count[RUN_DONE], 4);
	ck_assert_uint_eq(r.count[RUN_SKIPPED], d->n_ops - 5);
	ck_assert(!r.unfinished);
	run_result_free(&r);

	/* Disaster mode goes on: everything not behind the failure is done. */
	events_free(&e);
	fake_free(&f);
	lowered_free(&l);
	lower_text(&l, WORLD TWO_GROUPS
	           "plan p {\n  from east to west\n  mode disaster\n  protect p\n  workgroup 2\n"
	           "  step failover storage\n  step register vms\n  step power-on vms\n}\n");
	d = &l.dag;
	fake_init(&f, d);
	fake_rule(&f, "s1.failover.cg-a", ADAPTER_FAILED, 0, 1000);
	events_init(&e, d);
	ck_assert_int_eq(run_virtual(d, &f, &e, &r), 0);
	ck_assert_uint_eq(r.count[RUN_FAILED], 1);
	ck_assert_uint_eq(r.count[RUN_SKIPPED], 2);
	ck_assert_uint_eq(r.state[op_named(d, "s3.power-on.w2")], RUN_DONE);
	run_result_free(&r);
	events_free(&e);
	fake_free(&f);
	lowered_free(&l);
}
END_TEST

/* Disaster mode: a protected-site operation that fails is ignored, and its successors go on. */
START_TEST(test_best_effort)
{
	struct lowered l;
	lower_text(&l, WORLD TWO_GROUPS
	           "plan p {\n  from east to west\n  mode disaster\n  protect p\n  workgroup 2\n"
	           "  step shutdown vms at east\n  step failover storage\n  step register vms\n"
	           "  step power-on vms\n}\n");
	const struct dag *d = &l.dag;
	uint32_t sd = op_named(d, "s1.shutdown.w1");
	ck_assert(d->ops[sd].flags & DAG_BEST_EFFORT);
	struct fake f;
	fake_init(&f, d);
	fake_rule(&f, "s1.shutdown.w1", ADAPTER_FAILED, 0, -1);
	char path[128];
	struct journal *j = journal_temp(path, sizeof path);
	struct run_options o = {.adapter = &f.base, .journal = j, .run = 1, .virtual_time = true};
	struct run_result r;
	ck_assert_int_eq(run_execute(d, &o, &r), 0);
	journal_close(j);
	ck_assert_uint_eq(r.state[sd], RUN_IGNORED);
	ck_assert_str_eq(r.why[sd], "broken");
	ck_assert_uint_eq(r.state[op_named(d, "s3.register.w1")], RUN_DONE);
	ck_assert_uint_eq(r.state[op_named(d, "s4.power-on.w1")], RUN_DONE);
	ck_assert_uint_eq(r.count[RUN_IGNORED], 1);
	ck_assert_uint_eq(r.count[RUN_DONE], d->n_ops - 1);
	struct jlog jl;
	jlog_read(path, &jl);
	ck_assert_uint_eq(jlog_count(&jl, JOURNAL_IGNORED), 1);
	ck_assert_uint_eq(jlog_count(&jl, JOURNAL_FAILED), 0);
	free(jl.v);
	unlink(path);
	run_result_free(&r);
	fake_free(&f);
	lowered_free(&l);
}
END_TEST

/* Transient failures are retried after the backoff, at exact virtual instants; past the step's
 * retries the operation fails. */
START_TEST(test_retries)
{
	static const char plan[] = WORLD TWO_GROUPS
		"plan p {\n  from east to west\n  mode disaster\n  protect p\n  workgroup 2\n"
		"  step failover storage\n  step register vms\n  step power-on vms retry 2 backoff 10s\n}\n";
	for (uint32_t transient = 2; transient <= 3; transient++) {
		struct lowered l;
		lower_text(&l, plan);
		const struct dag *d = &l.dag;
		struct fake f;
		fake_init(&f, d);
		fake_rule(&f, "s3.power-on.w1", ADAPTER_DONE, transient, 1000);
		struct events e;
		events_init(&e, d);
		char path[128];
		struct journal *j = journal_temp(path, sizeof path);
		struct run_options o = {
			.adapter = &f.base, .journal = j, .run = 1, .virtual_time = true, .on_event = on_event, .ctx = &e,
		};
		struct run_result r;
		ck_assert_int_eq(run_execute(d, &o, &r), 0);
		journal_close(j);
		uint32_t op = op_named(d, "s3.power-on.w1");
		/* Everything else takes no time: the op starts at 0. */
		static const struct {
			int64_t t;
			uint8_t state;
			uint32_t attempt;
		} want[] = {
			{0, RUN_RUNNING, 1},     {1000, RUN_PENDING, 1},  {11000, RUN_RUNNING, 2},
			{12000, RUN_PENDING, 2}, {22000, RUN_RUNNING, 3}, {23000, RUN_DONE, 3},
		};
		uint32_t k = 0;
		for (uint32_t i = 0; i < e.n; i++) {
			if (e.v[i].op != op)
				continue;
			ck_assert_uint_lt(k, 6);
			ck_assert_int_eq(e.v[i].t, want[k].t);
			ck_assert_uint_eq(e.v[i].attempt, want[k].attempt);
			uint8_t st = k == 5 && transient == 3 ? RUN_FAILED : want[k].state;
			ck_assert_uint_eq(e.v[i].state, st);
			if (st == RUN_PENDING)
				ck_assert_str_eq(e.v[i].message, want[k].attempt == 1 ? "busy (attempt 1)" : "busy (attempt 2)");
			k++;
		}
		ck_assert_uint_eq(k, 6);
		ck_assert_uint_eq(f.calls[op], 3);
		ck_assert_uint_eq(r.attempts[op], 3);
		ck_assert_uint_eq(r.state[op], transient == 2 ? RUN_DONE : RUN_FAILED);
		if (transient == 3)
			ck_assert_str_eq(r.why[op], "busy (attempt 3)");
		ck_assert_int_eq(r.makespan_ms, 23000);
		struct jlog jl;
		jlog_read(path, &jl);
		ck_assert_uint_eq(jlog_count(&jl, JOURNAL_RETRY), 2);
		for (uint32_t i = 0; i < jl.n; i++)
			if (jl.v[i].state == JOURNAL_RETRY)
				ck_assert_int_eq(jl.v[i].t, jl.v[i].attempt == 1 ? 1000 : 12000);
		free(jl.v);
		unlink(path);
		run_result_free(&r);
		events_free(&e);
		fake_free(&f);
		lowered_free(&l);
	}
}
END_TEST

/* A device operation whose attempt failed transiently is asked about before the retry: done if it
 * happened after all (no second call), failed if the adapter cannot tell (no guess), retried if
 * it did not happen. */
START_TEST(test_device_retry_asks)
{
	static const char plan[] = WORLD TWO_GROUPS
		"plan p {\n  from east to west\n  mode disaster\n  protect p\n  workgroup 2\n"
		"  step failover storage retry 1 backoff 10s\n  step register vms\n  step power-on vms\n}\n";
	static const struct {
		enum adapter_outcome answer;
		uint32_t calls;
		uint8_t state;
		const char *why;
	} cases[] = {
		{ADAPTER_HAPPENED, 1, RUN_DONE, NULL},
		{ADAPTER_UNKNOWN, 1, RUN_FAILED, "cannot tell whether it happened after the last attempt failed: check by hand"},
		{ADAPTER_NOT_HAPPENED, 2, RUN_DONE, NULL},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		struct lowered l;
		lower_text(&l, plan);
		const struct dag *d = &l.dag;
		struct fake f;
		fake_init(&f, d);
		uint32_t op = 0;
		while (op < d->n_ops && d->ops[op].kind != DAG_FAILOVER)
			op++;
		ck_assert_uint_lt(op, d->n_ops);
		struct buf id = BUF_INIT;
		dag_op_id(d, op, &id);
		fake_rule(&f, id.data, ADAPTER_DONE, 1, 1000); /* the rule keeps id.data */
		f.answer[op] = (uint8_t)(1 + cases[c].answer);
		struct run_options o = {.adapter = &f.base, .run = 1, .virtual_time = true};
		struct run_result r;
		run_execute(d, &o, &r);
		ck_assert_msg(f.queries[op] == 1, "case %zu: %u queries, %u calls, state %u: %s", c, f.queries[op], f.calls[op], r.state[op], r.why[op] ? r.why[op] : "");
		ck_assert_uint_eq(f.calls[op], cases[c].calls);
		ck_assert_uint_eq(r.state[op], cases[c].state);
		if (cases[c].why)
			ck_assert_str_eq(r.why[op], cases[c].why);
		buf_free(&id);
		run_result_free(&r);
		fake_free(&f);
		lowered_free(&l);
	}
}
END_TEST

/* Four VMs in one workgroup, and a register step that may be retried. */
#define FOUR_VMS                                                                                \
	"vm db-01 priority 1 on lun-1 lun-2\n"                                                      \
	"vm db-02 priority 1 on lun-1 lun-2\n"                                                      \
	"vm db-03 priority 1 on lun-1 lun-2\n"                                                      \
	"vm db-04 priority 1 on lun-1 lun-2\n"                                                      \
	"plan p {\n  from east to west\n  mode disaster\n  protect p\n  workgroup 4\n"                \
	"  step failover storage\n  step register vms retry 2 backoff 10s\n  step power-on vms\n}\n"

/* The journal's vm-done records of op, as "message|message|...". */
static void vm_done_records(const struct jlog *jl, uint32_t op, char *out, size_t len)
{
	out[0] = '\0';
	for (uint32_t i = 0; i < jl->n; i++)
		if (jl->v[i].state == JOURNAL_VM_DONE && jl->v[i].op == op)
			snprintf(out + strlen(out), len - strlen(out), "%s%s", out[0] ? "|" : "", jl->v[i].message);
}

/* A workgroup call that did half its VMs and timed out: the retry asks per VM, journals the VMs
 * found done, and acts on the others only; every VM is acted on exactly once. */
START_TEST(test_partial_retry)
{
	struct lowered l;
	lower_text(&l, WORLD FOUR_VMS);
	const struct dag *d = &l.dag;
	uint32_t reg = op_named(d, "s2.register.w1");
	ck_assert_uint_eq(d->workgroups[d->ops[reg].target].n_vms, 4);
	struct fake f;
	fake_init(&f, d);
	fake_rule(&f, "s2.register.w1", ADAPTER_DONE, 0, -1);
	f.rules[0].half = 1;
	char path[128];
	struct run_options o = {
		.adapter = &f.base, .journal = journal_temp(path, sizeof path), .run = 1, .virtual_time = true,
	};
	struct run_result r;
	int rc = run_execute(d, &o, &r);
	journal_close(o.journal);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(r.count[RUN_DONE], d->n_ops);
	ck_assert_uint_eq(f.calls[reg], 2);
	ck_assert_uint_eq(f.queries[reg], 1);
	for (uint32_t k = 0; k < 4; k++)
		ck_assert_msg(f.acts[reg * FAKE_WG_MAX + k] == 1, "VM %u acted on %u times", k,
		              f.acts[reg * FAKE_WG_MAX + k]);
	ck_assert_uint_eq(r.vms_reconciled, 2);
	uint32_t first = d->workgroups[d->ops[reg].target].first_vm;
	ck_assert_uint_eq(r.vm_reconciled[first], 1u << DAG_REGISTER);
	ck_assert_uint_eq(r.vm_reconciled[first + 1], 1u << DAG_REGISTER);
	ck_assert_uint_eq(r.vm_reconciled[first + 2], 0);
	struct jlog jl;
	jlog_read(path, &jl);
	char got[512];
	vm_done_records(&jl, reg, got, sizeof got);
	ck_assert_str_eq(got, "db-01 registered; the adapter says: west (esx-w01)|"
	                      "db-02 registered; the adapter says: west (esx-w01)");
	/* They are journaled with the attempt that found them, before its outcome. */
	uint32_t vm_done_at = 0, done_at = 0;
	for (uint32_t i = 0; i < jl.n; i++) {
		if (jl.v[i].op != reg)
			continue;
		if (jl.v[i].state == JOURNAL_VM_DONE) {
			ck_assert_uint_eq(jl.v[i].attempt, 2);
			vm_done_at = i;
		}
		if (jl.v[i].state == JOURNAL_DONE)
			done_at = i;
	}
	ck_assert_uint_lt(vm_done_at, done_at);
	free(jl.v);
	unlink(path);
	run_result_free(&r);

	/* The same again with db-03 unknown to the adapter: the operation fails, naming it, and only
	 * the VMs the first attempt did are acted on. */
	fake_free(&f);
	fake_init(&f, d);
	fake_rule(&f, "s2.register.w1", ADAPTER_DONE, 0, -1);
	f.rules[0].half = 1;
	f.vm_answer[reg * FAKE_WG_MAX + 2] = 1 + ADAPTER_UNKNOWN;
	o.journal = NULL;
	ck_assert_int_eq(run_execute(d, &o, &r), 0);
	ck_assert_uint_eq(r.state[reg], RUN_FAILED);
	ck_assert_str_eq(r.why[reg], "cannot tell whether db-03 registered: check by hand");
	ck_assert_uint_eq(f.calls[reg], 1);
	ck_assert_uint_eq(f.acts[reg * FAKE_WG_MAX + 2] + f.acts[reg * FAKE_WG_MAX + 3], 0);
	run_result_free(&r);
	fake_free(&f);
	lowered_free(&l);
}
END_TEST

/* --resume of a workgroup operation that was in flight: the VMs the journal records done are not
 * asked about nor acted on; of the others, those the adapter finds done are journaled, and the
 * rest alone are performed. */
START_TEST(test_resume_partial)
{
	struct lowered l;
	lower_text(&l, WORLD FOUR_VMS);
	const struct dag *d = &l.dag;
	uint32_t reg = op_named(d, "s2.register.w1"), on = op_named(d, "s3.power-on.w1");
	uint32_t first = d->workgroups[d->ops[reg].target].first_vm;
	uint8_t *resume = xcalloc(d->n_ops, 1);
	uint8_t **resume_vms = xcalloc(d->n_ops, sizeof *resume_vms);
	for (uint32_t i = 0; i < d->n_ops; i++)
		if (d->ops[i].kind == DAG_FAILOVER)
			resume[i] = RUN_DONE;
	resume[reg] = RUN_RUNNING;
	/* The journal of run 1: db-01 found registered; then the run died. */
	struct journal_record rec = {.run = 1, .op = reg, .attempt = 2, .state = JOURNAL_VM_DONE,
	                             .message = "db-01 registered; the adapter says: west (esx-w01)"};
	run_resume_note_vm(resume_vms, d, &rec);
	rec.message = "db-0 registered"; /* no such VM: ignored */
	run_resume_note_vm(resume_vms, d, &rec);
	rec.state = JOURNAL_DONE; /* not a vm-done record: ignored */
	rec.message = "db-04 registered";
	run_resume_note_vm(resume_vms, d, &rec);
	ck_assert_ptr_nonnull(resume_vms[reg]);
	ck_assert_mem_eq(resume_vms[reg], "\1\0\0\0", 4);

	struct fake f;
	fake_init(&f, d);
	f.acts[reg * FAKE_WG_MAX + 1] = 1; /* db-02 was registered too, but the journal did not say */
	char path[128];
	struct journal *j = journal_temp(path, sizeof path);
	struct run_options o = {
		.adapter = &f.base, .journal = j, .run = 2, .virtual_time = true, .resume = resume, .resume_vms = resume_vms,
	};
	struct run_result r;
	ck_assert_int_eq(run_execute(d, &o, &r), 0);
	journal_close(j);
	ck_assert_uint_eq(r.count[RUN_DONE], d->n_ops);
	ck_assert_uint_eq(f.acts[reg * FAKE_WG_MAX + 0], 0); /* journaled done: never again */
	ck_assert_uint_eq(f.acts[reg * FAKE_WG_MAX + 1], 1);
	ck_assert_uint_eq(f.acts[reg * FAKE_WG_MAX + 2], 1);
	ck_assert_uint_eq(f.acts[reg * FAKE_WG_MAX + 3], 1);
	ck_assert_uint_eq(f.calls[reg], 1);
	ck_assert_uint_eq(f.calls[on], 1);
	ck_assert_uint_eq(r.vm_reconciled[first + 1], 1u << DAG_REGISTER);
	ck_assert_uint_eq(r.vm_reconciled[first], 0);
	struct jlog jl;
	jlog_read(path, &jl);
	char got[512];
	vm_done_records(&jl, reg, got, sizeof got);
	ck_assert_str_eq(got, "db-02 registered; the adapter says: west (esx-w01)");
	bool said = false;
	for (uint32_t i = 0; i < jl.n; i++)
		if (jl.v[i].op == reg && jl.v[i].state == JOURNAL_RECONCILED_NOT_DONE)
			said = strcmp(jl.v[i].message, "2 of 4 VMs done: the others are to do") == 0;
	ck_assert(said);
	free(jl.v);
	unlink(path);
	run_result_free(&r);
	fake_free(&f);
	free(resume);
	run_resume_vms_free(resume_vms, d->n_ops);
	lowered_free(&l);
}
END_TEST

/* The barrier strategy: no operation of a step starts before every operation of the steps before
 * it has finished; with uneven workgroups it takes longer than the pipelined run. */
START_TEST(test_barrier)
{
	struct lowered l;
	lower_text(&l, WORLD
	           "vm a-01 priority 1 on lun-1\nvm a-02 priority 1 on lun-1\nvm a-03 priority 1 on lun-1\n"
	           "vm a-04 priority 1 on lun-1\nvm b-01 priority 1 on lun-3\n"
	           "plan p {\n  from east to west\n  mode planned\n  protect p\n  workgroup 4\n"
	           "  step sync storage\n  step shutdown vms\n  step failover storage\n  step register vms\n"
	           "  step power-on vms\n}\n");
	const struct dag *d = &l.dag;
	int64_t makespan[2];
	for (int barrier = 0; barrier <= 1; barrier++) {
		struct fake f;
		fake_init(&f, d);
		f.model_durations = true;
		struct events e;
		events_init(&e, d);
		struct run_options o = {
			.adapter = &f.base, .run = 1, .virtual_time = true, .barrier = barrier, .on_event = on_event, .ctx = &e,
		};
		struct run_result r;
		ck_assert_int_eq(run_execute(d, &o, &r), 0);
		ck_assert_uint_eq(r.count[RUN_DONE], d->n_ops);
		check_edges(d, &e);
		if (barrier)
			for (uint32_t a = 0; a < d->n_ops; a++)
				for (uint32_t b = 0; b < d->n_ops; b++)
					if (d->ops[b].step > d->ops[a].step)
						ck_assert_int_ge(e.start[b], e.finish[a]);
		makespan[barrier] = r.makespan_ms;
		run_result_free(&r);
		events_free(&e);
		fake_free(&f);
	}
	ck_assert_int_gt(makespan[1], makespan[0]);
	lowered_free(&l);
}
END_TEST

/* Resume: what the journal says is done is never performed again; operations that were in flight,
 * and every other operation whose prerequisites are done, are asked about first. */
START_TEST(test_resume_reconciles)
{
	struct lowered l;
	lower_text(&l, WORLD TWO_GROUPS THREE_STEPS("disaster"));
	const struct dag *d = &l.dag;
	uint32_t fo1 = op_named(d, "s1.failover.cg-a"), fo3 = op_named(d, "s1.failover.lun-3");
	uint32_t reg1 = op_named(d, "s2.register.w1"), reg2 = op_named(d, "s2.register.w2");
	uint32_t on1 = op_named(d, "s3.power-on.w1"), on2 = op_named(d, "s3.power-on.w2");
	uint8_t *resume = xcalloc(d->n_ops, 1);
	resume[fo1] = RUN_DONE;
	resume[fo3] = RUN_DONE;
	resume[reg1] = RUN_RUNNING; /* in flight when the run died, and it had happened */
	resume[reg2] = RUN_RUNNING; /* in flight, and it had not */

	struct fake f;
	fake_init(&f, d);
	f.answer[reg1] = 1 + ADAPTER_HAPPENED;
	char path[128];
	struct journal *j = journal_temp(path, sizeof path);
	struct events e;
	events_init(&e, d);
	struct run_options o = {
		.adapter = &f.base, .journal = j, .run = 2, .virtual_time = true, .resume = resume,
		.on_event = on_event, .ctx = &e,
	};
	struct run_result r;
	ck_assert_int_eq(run_execute(d, &o, &r), 0);
	journal_close(j);
	ck_assert_uint_eq(f.calls[fo1] + f.calls[fo3] + f.queries[fo1] + f.queries[fo3], 0);
	ck_assert_uint_eq(f.queries[reg1], 1);
	ck_assert_uint_eq(f.calls[reg1], 0);
	ck_assert_uint_eq(f.queries[reg2], 1);
	ck_assert_uint_eq(f.calls[reg2], 1);
	/* reg1 happened, so on1 was asked too (it had not happened) before anything ran. */
	ck_assert_uint_eq(f.queries[on1], 1);
	ck_assert_uint_eq(f.calls[on1], 1);
	ck_assert_uint_eq(f.queries[on2], 0);
	ck_assert_uint_eq(f.calls[on2], 1);
	ck_assert_uint_eq(r.reconciled, 3);
	ck_assert_uint_eq(r.count[RUN_DONE], d->n_ops);
	ck_assert_uint_eq(r.attempts[reg1], 0);

	struct jlog jl;
	jlog_read(path, &jl);
	ck_assert_uint_eq(jlog_count(&jl, JOURNAL_RECONCILED_DONE), 1);
	ck_assert_uint_eq(jlog_count(&jl, JOURNAL_RECONCILED_NOT_DONE), 2);
	ck_assert_uint_eq(jlog_count(&jl, JOURNAL_START), 3);
	/* The reconciliation comes before the first START. */
	uint32_t first_start = jl.n, last_reconciled = 0;
	for (uint32_t i = 0; i < jl.n; i++) {
		ck_assert_uint_eq(jl.v[i].run, 2);
		if (jl.v[i].state == JOURNAL_START && first_start == jl.n)
			first_start = i;
		if (jl.v[i].state == JOURNAL_RECONCILED_DONE || jl.v[i].state == JOURNAL_RECONCILED_NOT_DONE)
			last_reconciled = i;
	}
	ck_assert_uint_lt(last_reconciled, first_start);
	free(jl.v);
	unlink(path);
	run_result_free(&r);
	events_free(&e);

	/* An adapter that cannot tell: the operation fails with a message, its successors are skipped. */
	memset(f.calls, 0, d->n_ops * sizeof *f.calls);
	memset(f.queries, 0, d->n_ops * sizeof *f.queries);
	f.answer[reg1] = 1 + ADAPTER_UNKNOWN;
	o.journal = NULL;
	o.on_event = NULL;
	ck_assert_int_eq(run_execute(d, &o, &r), 0);
	ck_assert_uint_eq(r.state[reg1], RUN_FAILED);
	ck_assert_str_eq(r.why[reg1], "cannot tell whether db-01 registered: check by hand");
	ck_assert_uint_eq(r.state[on1], RUN_SKIPPED);
	ck_assert_uint_eq(f.calls[reg1] + f.calls[on1], 0);
	ck_assert_uint_eq(r.state[on2], RUN_DONE);
	run_result_free(&r);
	free(resume);
	fake_free(&f);
	lowered_free(&l);
}
END_TEST

/* run_resume_note: the last word on an operation wins. */
START_TEST(test_resume_note)
{
	uint8_t s[4] = {0};
	struct journal_record rec = {.op = 1, .state = JOURNAL_START};
	run_resume_note(s, 4, &rec);
	ck_assert_uint_eq(s[1], RUN_RUNNING);
	rec.state = JOURNAL_RETRY;
	run_resume_note(s, 4, &rec);
	ck_assert_uint_eq(s[1], RUN_PENDING);
	rec.state = JOURNAL_DONE;
	run_resume_note(s, 4, &rec);
	ck_assert_uint_eq(s[1], RUN_DONE);
	rec.op = 2;
	rec.state = JOURNAL_FAILED;
	run_resume_note(s, 4, &rec);
	ck_assert_uint_eq(s[2], RUN_FAILED);
	rec.state = JOURNAL_PROMPT_CONFIRMED;
	run_resume_note(s, 4, &rec);
	ck_assert_uint_eq(s[2], RUN_DONE);
	rec.op = 3;
	rec.state = JOURNAL_IGNORED;
	run_resume_note(s, 4, &rec);
	ck_assert_uint_eq(s[3], RUN_IGNORED);
	rec.op = DAG_NONE;
	rec.state = JOURNAL_RUN_END;
	run_resume_note(s, 4, &rec); /* ignored: no op */
	ck_assert_uint_eq(s[0], RUN_PENDING);
}
END_TEST

/* A crash at any instant, then --resume: in virtual time a START reaches the journal lazily, so at
 * a crash the journal holds its first K records and the adapter's effects (durable in their own
 * log, in call order) those of every operation started up to some record E >= K. Whatever K and
 * E, the resumed run performs every operation exactly once over both runs, and finishes. */
START_TEST(test_resume_after_crash)
{
	struct lowered l;
	lower_text(&l, WORLD VMS PLANNED);
	const struct dag *d = &l.dag;
	uint32_t n = d->n_ops;

	/* The run that will "crash": complete, with its journal, and the seq of each op's START. */
	struct fake f;
	fake_init(&f, d);
	f.model_durations = true;
	char path[128];
	struct journal *j = journal_temp(path, sizeof path);
	struct run_options o = {
		.adapter = &f.base, .journal = j, .run = 1, .virtual_time = true, .simulate_scripts = true,
	};
	struct run_result r;
	ck_assert_int_eq(run_execute(d, &o, &r), 0);
	journal_close(j);
	run_result_free(&r);
	struct jlog jl;
	jlog_read(path, &jl);
	unlink(path);
	fake_free(&f);
	uint32_t *start_rec = xcalloc(n, sizeof *start_rec); /* 1 + index of the START record */
	for (uint32_t i = 0; i < jl.n; i++)
		if (jl.v[i].state == JOURNAL_START)
			start_rec[jl.v[i].op] = i + 1;

	uint8_t *resume = xmalloc(n);
	uint32_t runs = 0;
	for (uint32_t k = 1; k <= jl.n; k++) {
		static const uint32_t extra[] = {0, 1, 3, 7, 1000000};
		for (uint32_t x = 0; x < sizeof extra / sizeof extra[0]; x++) {
			uint32_t eff = k + extra[x] < jl.n ? k + extra[x] : jl.n;
			memset(resume, RUN_PENDING, n);
			for (uint32_t i = 0; i < k; i++) {
				struct journal_record rec = {.op = jl.v[i].op, .state = jl.v[i].state};
				run_resume_note(resume, n, &rec);
			}
			struct fake g;
			fake_init(&g, d);
			for (uint32_t i = 0; i < n; i++)
				if (start_rec[i] && start_rec[i] <= eff && is_adapter_op(d, i))
					g.answer[i] = 1 + ADAPTER_HAPPENED;
			struct run_options o2 = {
				.adapter = &g.base, .run = 2, .virtual_time = true, .simulate_scripts = true, .resume = resume,
			};
			ck_assert_int_eq(run_execute(d, &o2, &r), 0);
			for (uint32_t i = 0; i < n; i++) {
				ck_assert_msg(r.state[i] == RUN_DONE, "k=%u e=%u: op %u is %s", k, eff, i,
				              run_op_state_names[r.state[i]]);
				if (!is_adapter_op(d, i))
					continue;
				bool before = start_rec[i] && start_rec[i] <= eff;
				ck_assert_msg((before ? 1u : 0u) + g.calls[i] == 1, "k=%u e=%u: op %u performed %u + %u times", k,
				              eff, i, before ? 1u : 0u, g.calls[i]);
			}
			run_result_free(&r);
			fake_free(&g);
			runs++;
		}
	}
	ck_assert_uint_ge(runs, 2 * n);
	free(resume);
	free(start_rec);
	free(jl.v);
	lowered_free(&l);
}
END_TEST

/* An interrupt stops new starts and leaves the run resumable: no run-end record; the resumed run
 * does the rest, each operation once. */
static volatile int interrupt_flag;
static uint32_t interrupt_after;
static uint32_t interrupt_seen;

static void interrupt_on_event(void *ctx, const struct run_event *e)
{
	(void)ctx;
	if (e->state == RUN_DONE && ++interrupt_seen == interrupt_after)
		interrupt_flag = 1;
}

START_TEST(test_interrupt_resume)
{
	struct lowered l;
	lower_text(&l, WORLD TWO_GROUPS THREE_STEPS("disaster"));
	const struct dag *d = &l.dag;
	struct fake f;
	fake_init(&f, d);
	f.model_durations = true;
	char path[128];
	struct journal *j = journal_temp(path, sizeof path);
	interrupt_flag = 0;
	interrupt_seen = 0;
	interrupt_after = 2;
	struct run_options o = {
		.adapter = &f.base, .journal = j, .run = 1, .virtual_time = true, .on_event = interrupt_on_event,
		.interrupt = &interrupt_flag,
	};
	struct run_result r;
	ck_assert_int_eq(run_execute(d, &o, &r), 0);
	journal_close(j);
	ck_assert(r.unfinished);
	ck_assert_str_eq(r.message, "interrupted: rerun with --resume to go on");
	ck_assert_uint_gt(r.count[RUN_PENDING], 0);
	ck_assert_uint_eq(r.count[RUN_SKIPPED] + r.count[RUN_FAILED], 0);
	run_result_free(&r);

	uint8_t *resume = xcalloc(d->n_ops, 1);
	struct jlog jl;
	jlog_read(path, &jl);
	ck_assert_uint_eq(jlog_count(&jl, JOURNAL_RUN_END), 0);
	for (uint32_t i = 0; i < jl.n; i++) {
		struct journal_record rec = {.op = jl.v[i].op, .state = jl.v[i].state};
		run_resume_note(resume, d->n_ops, &rec);
	}
	free(jl.v);
	interrupt_flag = 0;
	char err[256];
	j = journal_open(path, zero_digest, NULL, jlog_warn, NULL, err, sizeof err);
	ck_assert_msg(j != NULL, "%s", err);
	o.journal = j;
	o.run = 2;
	o.resume = resume;
	o.on_event = NULL;
	ck_assert_int_eq(run_execute(d, &o, &r), 0);
	journal_close(j);
	ck_assert(!r.unfinished);
	ck_assert_uint_eq(r.count[RUN_DONE], d->n_ops);
	for (uint32_t i = 0; i < d->n_ops; i++)
		ck_assert_uint_eq(f.calls[i], 1);
	jlog_read(path, &jl);
	ck_assert_uint_eq(jlog_count(&jl, JOURNAL_RUN_START), 2);
	ck_assert_uint_eq(jlog_count(&jl, JOURNAL_RUN_END), 1);
	free(jl.v);
	unlink(path);
	run_result_free(&r);
	free(resume);
	fake_free(&f);
	lowered_free(&l);
}
END_TEST

/* Interrupted in real time during a long `wait`: the run does not sit out the wait; the wait goes
 * back to pending for the resumed run. */
static void interrupt_on_wait(void *ctx, const struct run_event *e)
{
	const struct dag *d = ctx;
	if (e->state == RUN_RUNNING && d->ops[e->op].kind == DAG_WAIT)
		interrupt_flag = 1;
}

START_TEST(test_interrupt_wait)
{
	struct lowered l;
	lower_text(&l, WORLD TWO_GROUPS
	           "plan p {\n  from east to west\n  mode disaster\n  protect p\n  workgroup 2\n"
	           "  step failover storage\n  step register vms\n  step wait 10m\n  step power-on vms\n}\n");
	const struct dag *d = &l.dag;
	struct fake f;
	fake_init(&f, d);
	interrupt_flag = 0;
	struct run_options o = {
		.adapter = &f.base, .run = 1, .workers = 2, .on_event = interrupt_on_wait, .ctx = (void *)d,
		.interrupt = &interrupt_flag,
	};
	struct run_result r;
	ck_assert_int_eq(run_execute(d, &o, &r), 0);
	ck_assert(r.unfinished);
	ck_assert_str_eq(r.message, "interrupted: rerun with --resume to go on");
	ck_assert_int_lt(r.makespan_ms, 5000);
	ck_assert_uint_eq(r.state[op_named(d, "s3.wait")], RUN_PENDING);
	ck_assert_uint_eq(r.state[op_named(d, "s4.power-on.w1")], RUN_PENDING);
	ck_assert_uint_eq(r.count[RUN_DONE], 4);
	run_result_free(&r);
	interrupt_flag = 0;
	fake_free(&f);
	lowered_free(&l);
}
END_TEST

/* A prompt, real time, no terminal, no --yes: it is not started, what does not depend on it goes
 * on, and the run ends unfinished; with --yes the journal records the confirmation. */
START_TEST(test_prompt_unfinished)
{
	struct lowered l;
	lower_text(&l, WORLD TWO_GROUPS
	           "plan p {\n  from east to west\n  mode disaster\n  protect p\n  workgroup 2\n"
	           "  step failover storage\n  step register vms\n  step prompt \"Is DNS ready?\"\n"
	           "  step power-on vms\n}\n");
	const struct dag *d = &l.dag;
	int saved = dup(0);
	int devnull = open("/dev/null", O_RDONLY);
	ck_assert_int_ge(devnull, 0);
	dup2(devnull, 0);
	close(devnull);

	struct fake f;
	fake_init(&f, d);
	struct run_options o = {.adapter = &f.base, .run = 1, .workers = 2};
	struct run_result r;
	ck_assert_int_eq(run_execute(d, &o, &r), 0);
	uint32_t prompt = op_named(d, "s3.prompt");
	ck_assert(r.unfinished);
	ck_assert_str_eq(r.message, "waiting for an operator at step 3: rerun with --resume --yes");
	ck_assert_uint_eq(r.state[prompt], RUN_PENDING);
	ck_assert_uint_eq(r.state[op_named(d, "s2.register.w2")], RUN_DONE);
	ck_assert_uint_eq(r.state[op_named(d, "s4.power-on.w1")], RUN_PENDING);
	ck_assert_uint_eq(r.count[RUN_PENDING], 3);
	run_result_free(&r);

	char path[128];
	struct journal *j = journal_temp(path, sizeof path);
	o.journal = j;
	o.confirm_prompts = true;
	ck_assert_int_eq(run_execute(d, &o, &r), 0);
	journal_close(j);
	ck_assert(!r.unfinished);
	ck_assert_uint_eq(r.count[RUN_DONE], d->n_ops);
	struct jlog jl;
	jlog_read(path, &jl);
	ck_assert_uint_eq(jlog_count(&jl, JOURNAL_PROMPT_CONFIRMED), 1);
	free(jl.v);
	unlink(path);
	run_result_free(&r);

	/* In virtual time a rehearsal has no operator: the prompt passes. */
	o.journal = NULL;
	o.confirm_prompts = false;
	o.virtual_time = true;
	ck_assert_int_eq(run_execute(d, &o, &r), 0);
	ck_assert(!r.unfinished);
	ck_assert_uint_eq(r.count[RUN_DONE], d->n_ops);
	run_result_free(&r);

	dup2(saved, 0);
	close(saved);
	fake_free(&f);
	lowered_free(&l);
}
END_TEST

/* Virtual time with the model's durations is the estimate, instant for instant: the same
 * dispatcher, the same priorities, the same order of completions. */
START_TEST(test_matches_estimate)
{
	struct lowered l;
	lower_text(&l, WORLD
	           "vm db-01 priority 1 on lun-1\nvm db-02 priority 1 on lun-2\nvm db-03 priority 1 on lun-1 lun-2\n"
	           "vm app-01 priority 2 after db-01 on lun-3\nvm app-02 priority 2 on lun-3\n"
	           "vm app-03 priority 2 on lun-3\nvm app-04 priority 3 on lun-3\nvm web-01 priority 2 on metro-1\n"
	           "vm web-02 priority 3 on metro-1\nvm web-03 priority 3 on metro-1\n"
	           "plan p {\n  from east to west\n  mode planned\n  protect p\n  workgroup 2\n"
	           "  limit power-on 1\n  limit shutdown 1 per site\n  limit migrate 1\n"
	           "  step sync storage\n  step shutdown vms\n  step failover storage\n  step migrate live\n"
	           "  step register vms\n  step power-on vms by priority\n  step wait 30s\n"
	           "  step run \"smoke.sh\" per workgroup\n  step prompt \"done?\"\n}\n");
	const struct dag *d = &l.dag;
	struct estimate est;
	ck_assert(estimate_run(d, &est));
	struct fake f;
	fake_init(&f, d);
	f.model_durations = true;
	struct events e;
	events_init(&e, d);
	struct run_result r;
	ck_assert_int_eq(run_virtual(d, &f, &e, &r), 0);
	ck_assert_uint_eq(r.count[RUN_DONE], d->n_ops);
	ck_assert_int_eq(r.makespan_ms, est.makespan_ms);
	for (uint32_t i = 0; i < d->n_ops; i++) {
		ck_assert_int_eq(e.start[i], est.start_ms[i]);
		ck_assert_int_eq(e.finish[i], est.finish_ms[i]);
	}
	ck_assert_int_gt(est.makespan_ms, est.longest_path_ms); /* the limits did hold it back */
	run_result_free(&r);
	events_free(&e);
	fake_free(&f);
	estimate_free(&est);
	lowered_free(&l);
}
END_TEST

/* ---- Scripts */

/* Writes an executable shell script into dir/name. */
static void write_script(const char *dir, const char *name, const char *body)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fprintf(fp, "#!/bin/sh\n%s", body);
	fclose(fp);
	ck_assert_int_eq(chmod(path, 0755), 0);
}

static char *read_file(const char *path)
{
	FILE *fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	struct buf b = BUF_INIT;
	char chunk[512];
	size_t got;
	while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_append(&b, chunk, got);
	fclose(fp);
	buf_putc(&b, '\0');
	return buf_detach(&b);
}

START_TEST(test_script_runner)
{
	char dir[] = "/tmp/drplan-run-scripts-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	write_script(dir, "ok.sh", "test \"$DRPLAN_X\" = 1 && test \"$(pwd)\" = \"$EXPECT_DIR\"\n");
	write_script(dir, "three.sh", "exit 3\n");
	write_script(dir, "slow.sh", "sleep 5\n");
	write_script(dir, "killed.sh", "kill -9 $$\n");
	char expect[600];
	snprintf(expect, sizeof expect, "EXPECT_DIR=%s", dir);
	const char *env[] = {"DRPLAN_X=1", expect};
	struct script_request req = {.path = "ok.sh", .dir = dir, .env = env, .n_env = 2, .log_fd = -1};
	struct script_result res;
	script_run(&req, &res);
	ck_assert_msg(res.status == SCRIPT_OK, "%s", res.message);
	ck_assert_int_eq(res.exit_status, 0);
	ck_assert_str_eq(res.message, "");

	req.path = "three.sh";
	script_run(&req, &res);
	ck_assert_int_eq(res.status, SCRIPT_FAILED);
	ck_assert_str_eq(res.message, "exit status 3");

	req.path = "killed.sh";
	script_run(&req, &res);
	ck_assert_int_eq(res.status, SCRIPT_FAILED);
	ck_assert_int_eq(res.signal, 9);
	ck_assert_ptr_nonnull(strstr(res.message, "killed by signal 9"));

	req.path = "slow.sh";
	req.timeout_ms = 200;
	script_run(&req, &res);
	ck_assert_int_eq(res.status, SCRIPT_FAILED);
	ck_assert(res.timed_out);
	ck_assert_str_eq(res.message, "timed out after 200ms");
	ck_assert_int_lt(res.elapsed_ms, 3000);

	req.path = "missing.sh";
	req.timeout_ms = 0;
	script_run(&req, &res);
	ck_assert_int_eq(res.status, SCRIPT_FAILED);
	ck_assert_ptr_nonnull(strstr(res.message, "cannot run /tmp/drplan-run-scripts-"));
	ck_assert_ptr_nonnull(strstr(res.message, "/missing.sh: No such file or directory"));
	char notexec[600];
	snprintf(notexec, sizeof notexec, "%s/plain.sh", dir);
	FILE *fp = fopen(notexec, "w");
	ck_assert_ptr_nonnull(fp);
	fclose(fp);
	req.path = "plain.sh";
	script_run(&req, &res);
	ck_assert_int_eq(res.status, SCRIPT_FAILED);
	ck_assert_ptr_nonnull(strstr(res.message, "/plain.sh: Permission denied"));

	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* A `run` step per workgroup through the scheduler, in real time: the script sees its operation in
 * its environment; one that fails fails its operation with its exit status. */
START_TEST(test_run_scripts)
{
	char dir[] = "/tmp/drplan-run-step-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	write_script(dir, "smoke.sh",
	             "echo \"$DRPLAN_PLAN $DRPLAN_STEP $DRPLAN_OP $DRPLAN_WORKGROUP [$DRPLAN_VMS]\"\n"
	             "test \"$DRPLAN_WORKGROUP\" != w2\n");
	struct lowered l;
	lower_text(&l, WORLD TWO_GROUPS
	           "plan p {\n  from east to west\n  mode disaster\n  protect p\n  workgroup 2\n"
	           "  step failover storage\n  step register vms\n  step run \"smoke.sh\" per workgroup\n"
	           "  step power-on vms\n}\n");
	const struct dag *d = &l.dag;
	char log[600];
	snprintf(log, sizeof log, "%s/scripts.log", dir);
	struct fake f;
	fake_init(&f, d);
	struct run_options o = {.adapter = &f.base, .run = 1, .workers = 2, .script_dir = dir, .script_log = log};
	struct run_result r;
	ck_assert_int_eq(run_execute(d, &o, &r), 0);
	uint32_t s1 = op_named(d, "s3.run.w1"), s2 = op_named(d, "s3.run.w2");
	ck_assert_uint_eq(r.state[s1], RUN_DONE);
	ck_assert_uint_eq(r.state[s2], RUN_FAILED);
	ck_assert_str_eq(r.why[s2], "exit status 1");
	ck_assert_uint_eq(r.state[op_named(d, "s4.power-on.w2")], RUN_SKIPPED);
	ck_assert_uint_eq(r.state[op_named(d, "s4.power-on.w1")], RUN_DONE);
	char *text = read_file(log);
	ck_assert_ptr_nonnull(strstr(text, "p 3 s3.run.w1 w1 [db-01 db-02]\n"));
	ck_assert_ptr_nonnull(strstr(text, "p 3 s3.run.w2 w2 [app-01]\n"));
	free(text);
	run_result_free(&r);

	/* Simulated scripts are never executed: they take their modelled time (30 s), scaled. */
	unlink(log);
	o.simulate_scripts = true;
	o.time_scale = 0.001;
	ck_assert_int_eq(run_execute(d, &o, &r), 0);
	ck_assert_uint_eq(r.count[RUN_DONE], d->n_ops);
	ck_assert_int_ne(access(log, F_OK), 0);
	ck_assert_int_ge(r.makespan_ms, 30);
	ck_assert_int_lt(r.makespan_ms, 20000);
	run_result_free(&r);

	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	fake_free(&f);
	lowered_free(&l);
}
END_TEST

/* Setup errors are reported, not crashed on. */
START_TEST(test_setup_errors)
{
	struct lowered l;
	lower_text(&l, WORLD TWO_GROUPS THREE_STEPS("disaster"));
	struct run_options o = {.run = 1, .virtual_time = true};
	struct run_result r;
	ck_assert_int_eq(run_execute(&l.dag, &o, &r), -1);
	ck_assert_str_eq(r.message, "no adapter to perform the plan's operations");
	run_result_free(&r);
	struct fake f;
	fake_init(&f, &l.dag);
	o.adapter = &f.base;
	o.script_log = "/nonexistent-dir/x.log";
	ck_assert_int_eq(run_execute(&l.dag, &o, &r), -1);
	ck_assert_ptr_nonnull(strstr(r.message, "cannot open the script log /nonexistent-dir/x.log"));
	run_result_free(&r);
	fake_free(&f);
	lowered_free(&l);
}
END_TEST

/* ---- Speed: a 100,000-VM rehearsal, one VM per workgroup: 200,000 operations, journal included. */

START_TEST(test_speed)
{
	struct dag d;
	dag_init(&d);
	uint32_t n_wg = 100000;
	d.name = "big";
	d.n_sites = 2;
	d.sites = arena_alloc(&d.arena, 2 * sizeof *d.sites);
	d.sites[0].name = "east";
	d.sites[1].name = "west";
	d.from = 0;
	d.to = 1;
	d.vms = xmalloc(n_wg * sizeof *d.vms);
	d.workgroups = xmalloc(n_wg * sizeof *d.workgroups);
	for (uint32_t w = 0; w < n_wg; w++) {
		d.workgroups[w] = (struct dag_workgroup){.priority = 1, .first_vm = w, .n_vms = 1};
		d.vms[w] = (struct dag_vm){"vm", DAG_NONE, w};
	}
	d.n_vms = d.n_workgroups = n_wg;
	d.steps = arena_alloc(&d.arena, 2 * sizeof *d.steps);
	d.steps[0] = (struct dag_step){.kind = AST_STEP_REGISTER, .site = 1};
	d.steps[1] = (struct dag_step){.kind = AST_STEP_POWER_ON, .site = DAG_NONE};
	d.n_steps = 2;
	for (uint32_t w = 0; w < n_wg; w++) {
		uint32_t r = dag_add_op(&d, DAG_REGISTER, DAG_TARGET_WORKGROUP, w, 0, 1, 0);
		uint32_t p = dag_add_op(&d, DAG_POWER_ON, DAG_TARGET_WORKGROUP, w, 1, 1, 0);
		dag_add_edge(&d, r, p, DAG_EDGE_STEP);
	}
	dag_finish(&d);

	struct fake f;
	fake_init(&f, &d);
	char path[128];
	struct journal *j = journal_temp(path, sizeof path);
	struct run_options o = {.adapter = &f.base, .journal = j, .run = 1, .virtual_time = true};
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct run_result r;
	ck_assert_int_eq(run_execute(&d, &o, &r), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	journal_close(j);
	double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	fprintf(stderr, "run: %u operations in virtual time with a journal (%lld bytes) in %.3f s: %.0f ops/s\n",
	        d.n_ops, (long long)st.st_size, took, d.n_ops / took);
	ck_assert_uint_eq(r.count[RUN_DONE], d.n_ops);
	/* Well under a second on a quiet machine; the bound leaves room for a busy or sanitized one. */
	ck_assert_msg(took < 3.0, "took %.3f s", took);
	unlink(path);
	run_result_free(&r);
	fake_free(&f);
	free(d.vms);
	free(d.workgroups);
	dag_free(&d);
}
END_TEST

Suite *run_suite(void)
{
	Suite *s = suite_create("run");
	TCase *tc = tcase_create("run");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_order);
	tcase_add_test(tc, test_limits_real_time);
	tcase_add_test(tc, test_failure_isolation);
	tcase_add_test(tc, test_planned_stops);
	tcase_add_test(tc, test_best_effort);
	tcase_add_test(tc, test_retries);
	tcase_add_test(tc, test_device_retry_asks);
	tcase_add_test(tc, test_partial_retry);
	tcase_add_test(tc, test_resume_partial);
	tcase_add_test(tc, test_barrier);
	tcase_add_test(tc, test_resume_reconciles);
	tcase_add_test(tc, test_resume_note);
	tcase_add_test(tc, test_resume_after_crash);
	tcase_add_test(tc, test_interrupt_resume);
	tcase_add_test(tc, test_interrupt_wait);
	tcase_add_test(tc, test_prompt_unfinished);
	tcase_add_test(tc, test_matches_estimate);
	tcase_add_test(tc, test_script_runner);
	tcase_add_test(tc, test_run_scripts);
	tcase_add_test(tc, test_setup_errors);
	tcase_add_test(tc, test_speed);
	suite_add_tcase(s, tc);
	return s;
}
