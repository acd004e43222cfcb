/* run.c: the scheduler (run.h, docs/runtime.md). One thread owns every piece of run state; in real
 * time a fixed pool of workers only performs adapter calls, scripts and terminal prompts, and hands
 * the results back through a queue; in virtual time there are no threads and the clock jumps from
 * one event to the next. Ready operations go through the dispatcher the estimate uses
 * (compiler/dispatch.h), so a rehearsal and `drplan plan` agree on the schedule. */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../compiler/dispatch.h"
#include "../compiler/dot.h"
#include "../lib/alloc.h"
#include "../lib/buf.h"
#include "../lib/clock.h"
#include "script.h"

const char *const run_op_state_names[] = {"pending", "running", "done", "ignored", "failed", "skipped", NULL};

/* Virtual time: the journal is committed at most this often (wall time), and at the end. */
#define VIRTUAL_COMMIT_MS 20
/* Real time: how often a waiting scheduler looks at the interrupt flag (a signal handler cannot
 * signal a condition variable). */
#define INTERRUPT_POLL_MS 100
#define DEFAULT_WORKERS 16
#define JOB_CHUNK 64

/* What an operation's timer does when it fires. An operation has at most one timer at a time. */
enum { TIMER_NONE, TIMER_COMPLETE, TIMER_RETRY };

/* Why the run stopped starting operations. */
enum stop { STOP_NONE, STOP_PLANNED, STOP_INTERRUPT, STOP_JOURNAL };

/* What a worker does. */
enum job_kind { JOB_ADAPTER, JOB_SCRIPT, JOB_PROMPT };
/* How a terminal prompt ended. */
enum prompt_answer { PROMPT_CONFIRMED, PROMPT_DECLINED, PROMPT_NO_ANSWER };

/* One attempt handed to a worker. Nodes are recycled through a free list, so enqueueing allocates
 * nothing; `next` links them in whichever queue holds them. */
struct job {
	struct job *next;
	uint32_t op, attempt;
	uint8_t kind;                  /* enum job_kind */
	uint8_t answer;                /* JOB_PROMPT: enum prompt_answer */
	struct adapter_reply reply;
};

struct run;

/* The worker pool. Lock order: mu is the only lock. Workers hold it to take a job and to hand one
 * back, never while working; the scheduler holds it to enqueue and to take the finished jobs. */
struct pool {
	pthread_mutex_t mu;
	pthread_cond_t work_cv;        /* work_head became non-empty, or quit */
	pthread_cond_t done_cv;        /* done_head became non-empty (CLOCK_MONOTONIC) */
	struct job *work_head, *work_tail;
	struct job *done_head, *done_tail;
	bool quit;
	pthread_t *threads;
	uint32_t n_threads;
	struct run *run;               /* read-only for the workers: dag, options, log fd */
};

struct run {
	const struct dag *d;
	const struct run_options *o;
	struct run_result *r;
	struct dag_succ succ;
	struct dispatch disp;
	int64_t *dur, *prio, *bottom;
	uint32_t *waiting;             /* per op: predecessors not done or ignored */
	uint8_t *state;                /* r->state */
	uint32_t *attempt;             /* r->attempts */
	uint32_t *stack;               /* scratch: skipping descendants, reconciliation */
	uint32_t *stack2;
	/* Timers, by (at, op): virtual completions, waits, gates, backoffs. */
	int64_t *at;
	uint8_t *timer;
	struct dispatch_heap timers;
	uint32_t n_complete_timers;
	/* Per op: the outcome of an attempt whose completion is a timer (virtual time), message only
	 * when it failed. */
	uint8_t *vstatus;
	char **vmsg;
	/* Per workgroup operation that a fault made us ask about (a retry, or --resume): its VMs'
	 * marks, NULL until then. Set by the scheduler before the attempt is handed over; the worker
	 * of the attempt alone then writes it, and the scheduler reads it again in finish. */
	struct op_vms **vms;
	/* The barrier strategy: ready operations of later steps wait in per-step lists. */
	uint32_t *steps_left;          /* per step: operations not in a final state */
	uint32_t *held_head, *held_next;
	uint32_t cur_step;
	/* Prompts nobody can answer. */
	uint32_t held_prompts, held_prompt_step;
	bool can_ask;                  /* stdin is a terminal */
	/* Real time. */
	struct pool pool;
	bool pool_started;
	struct job *free_jobs;
	struct job **chunks;
	uint32_t n_chunks;
	struct job *batch_head, *batch_tail; /* dispatched, handed to the workers after the commit */
	uint32_t in_flight;
	int64_t t0_ns;
	int log_fd;
	/* Both. */
	int64_t now;
	enum stop stop;
	bool dirty;                    /* records appended or effects made since the last commit */
	bool journal_broken;
	int64_t last_commit_ns;
	struct buf scratch;
};

static int64_t real_now(const struct run *x)
{
	return (clock_mono_ns() - x->t0_ns) / 1000000;
}

static bool is_plan_op(uint8_t kind)
{
	return kind == DAG_PROMPT || kind == DAG_WAIT || kind == DAG_GATE || kind == DAG_RUN;
}

static bool is_final(uint8_t s)
{
	return s >= RUN_DONE && s < RUN_N_STATES;
}

static bool is_done(uint8_t s)
{
	return s == RUN_DONE || s == RUN_IGNORED;
}

static int64_t scaled(const struct run *x, int64_t ms)
{
	if (x->o->virtual_time || x->o->time_scale <= 0)
		return ms;
	return (int64_t)((double)ms * x->o->time_scale);
}

_Static_assert(DAG_N_OP_KINDS <= 16, "run_result.vm_reconciled has one bit per operation kind");

/* A workgroup operation's VMs after a fault: which are known to have taken effect. */
enum vm_mark {
	VM_TODO,                       /* not done, or not known: performed by the next attempt */
	VM_DONE,                       /* done, and journaled (vm-done): never acted on again */
	VM_FOUND,                      /* found done by a query in a worker: to journal in finish */
};
struct op_vms {
	uint32_t n;
	uint8_t *mark;                 /* per VM of the workgroup: enum vm_mark */
	char **where;                  /* VM_FOUND: where the adapter says the VM is, or NULL */
};

/* The workgroup of an adapter operation on VMs, or NULL (devices, plan operations, scripts). */
static const struct dag_workgroup *vm_op_workgroup(const struct dag *d, uint32_t op)
{
	const struct dag_op *o = &d->ops[op];
	bool vm_kind = o->kind == DAG_SHUTDOWN || o->kind == DAG_MIGRATE || o->kind == DAG_REGISTER ||
	               o->kind == DAG_POWER_ON;
	if (!vm_kind || o->target_kind != DAG_TARGET_WORKGROUP || o->target >= d->n_workgroups)
		return NULL;
	const struct dag_workgroup *wg = &d->workgroups[o->target];
	return wg->first_vm <= d->n_vms && wg->n_vms <= d->n_vms - wg->first_vm ? wg : NULL;
}

/* What a VM operation does to a VM, as a past participle for messages. */
static const char *vm_verb(uint8_t kind)
{
	switch (kind) {
	case DAG_SHUTDOWN: return "shut down";
	case DAG_MIGRATE: return "migrated";
	case DAG_REGISTER: return "registered";
	case DAG_POWER_ON: return "powered on";
	default: return "took effect";
	}
}

static struct op_vms *op_vms_get(struct run *x, uint32_t op)
{
	if (!x->vms[op]) {
		const struct dag_workgroup *wg = vm_op_workgroup(x->d, op);
		struct op_vms *v = xcalloc(1, sizeof *v);
		v->n = wg->n_vms;
		v->mark = xcalloc((size_t)v->n + 1, 1);
		v->where = xcalloc((size_t)v->n + 1, sizeof *v->where);
		const uint8_t *journaled = x->o->resume_vms ? x->o->resume_vms[op] : NULL;
		for (uint32_t k = 0; journaled && k < v->n; k++)
			if (journaled[k])
				v->mark[k] = VM_DONE;
		x->vms[op] = v;
	}
	return x->vms[op];
}

static void op_vms_free(struct op_vms *v)
{
	if (!v)
		return;
	for (uint32_t k = 0; k < v->n; k++)
		free(v->where[k]);
	free(v->where);
	free(v->mark);
	free(v);
}

/* ---- Journal and events */

static void record(struct run *x, uint32_t op, uint32_t attempt, enum journal_state st, const char *msg)
{
	x->dirty = true;
	if (!x->o->journal || x->journal_broken)
		return;
	struct journal_record rec = {
		.run = x->o->run ? x->o->run : 1, .time_ms = x->now, .op = op, .attempt = attempt, .state = st,
		.message = msg ? msg : "",
	};
	journal_append(x->o->journal, &rec);
}

/* Journals the VMs of op that a query found done (vm-done, "db-01 migrated; the adapter says: on at
 * west (esx-w01)"), and counts them in the result: from here on they are done for good. */
static void note_found(struct run *x, uint32_t op, uint32_t attempt)
{
	struct op_vms *v = x->vms[op];
	if (!v)
		return;
	const struct dag_workgroup *wg = vm_op_workgroup(x->d, op);
	uint8_t kind = x->d->ops[op].kind;
	for (uint32_t k = 0; k < v->n; k++) {
		if (v->mark[k] != VM_FOUND)
			continue;
		uint32_t vm = wg->first_vm + k;
		buf_clear(&x->scratch);
		buf_printf(&x->scratch, "%s %s", x->d->vms[vm].name, vm_verb(kind));
		if (v->where[k] && v->where[k][0])
			buf_printf(&x->scratch, "; the adapter says: %s", v->where[k]);
		record(x, op, attempt, JOURNAL_VM_DONE, x->scratch.data);
		v->mark[k] = VM_DONE;
		free(v->where[k]);
		v->where[k] = NULL;
		x->r->vm_reconciled[vm] |= (uint16_t)(1u << kind);
		x->r->vms_reconciled++;
	}
}

static void emit(struct run *x, uint32_t op, enum run_op_state st, uint32_t attempt, const char *msg)
{
	if (!x->o->on_event)
		return;
	struct run_event e = {.time_ms = x->now, .op = op, .state = st, .attempt = attempt, .message = msg};
	x->o->on_event(x->o->ctx, &e);
}

/* Takes the notes of an attempt's reply (adapter.h): for an attempt that succeeded, each is
 * journaled, before the attempt's done, and shown; then they are freed. */
static void take_notes(struct run *x, uint32_t op, uint32_t attempt, struct adapter_reply *reply)
{
	for (char *line = reply->notes.data; reply->status == ADAPTER_DONE && line && *line;) {
		char *end = strchr(line, '\n');
		if (end)
			*end = '\0';
		record(x, op, attempt, JOURNAL_NOTE, line);
		if (x->o->on_note)
			x->o->on_note(x->o->ctx, x->now, op, line);
		line = end ? end + 1 : line + strlen(line);
	}
	buf_free(&reply->notes);
}

static void stop_run(struct run *x, enum stop why, const char *message)
{
	if (x->stop == STOP_NONE)
		x->stop = why;
	if (message && why != STOP_PLANNED && !x->r->unfinished) {
		x->r->unfinished = true;
		snprintf(x->r->message, sizeof x->r->message, "%s", message);
	}
}

/* Makes what happened since the last commit durable: the adapter's own records first (the
 * simulator's effects.log), then the journal, one fdatasync for the whole batch. */
static bool commit(struct run *x)
{
	if (!x->dirty || x->journal_broken)
		return !x->journal_broken;
	x->dirty = false;
	x->last_commit_ns = clock_mono_ns();
	char err[200] = "";
	struct adapter *a = x->o->adapter;
	if (a->vt->flush && !a->vt->flush(a, err, sizeof err)) {
		char msg[256];
		snprintf(msg, sizeof msg, "the adapter could not make its effects durable: %s", err);
		x->journal_broken = true;
		stop_run(x, STOP_JOURNAL, msg);
		return false;
	}
	if (x->o->journal && !journal_commit(x->o->journal, err, sizeof err)) {
		char msg[256];
		snprintf(msg, sizeof msg, "the journal could not be written: %s", err);
		x->journal_broken = true;
		stop_run(x, STOP_JOURNAL, msg);
		return false;
	}
	return true;
}

/* ---- State changes */

static void barrier_release(struct run *x, uint32_t step)
{
	for (uint32_t op = x->held_head[step]; op != DAG_NONE; op = x->held_next[op])
		dispatch_ready(&x->disp, op);
	x->held_head[step] = DAG_NONE;
}

/* The barrier moves to the first step with operations left, and lets that step's ready ones go. */
static void barrier_advance(struct run *x)
{
	uint32_t s = x->cur_step;
	while (s < x->d->n_steps && x->steps_left[s] == 0)
		s++;
	if (s == x->cur_step)
		return;
	x->cur_step = s;
	if (s < x->d->n_steps)
		barrier_release(x, s);
}

/* Nothing can move, yet later steps hold ready operations: an edge from a later step to an
 * earlier one would deadlock the barrier. Let the next step with held operations go. */
static bool barrier_force(struct run *x)
{
	for (uint32_t s = x->cur_step + 1; s < x->d->n_steps; s++)
		if (x->held_head[s] != DAG_NONE) {
			x->cur_step = s;
			barrier_release(x, s);
			return true;
		}
	return false;
}

static void set_state(struct run *x, uint32_t op, enum run_op_state st)
{
	bool was_final = is_final(x->state[op]);
	x->state[op] = (uint8_t)st;
	if (!was_final && is_final(st)) {
		uint32_t step = x->d->ops[op].step;
		if (step < x->d->n_steps && --x->steps_left[step] == 0 && x->o->barrier && step == x->cur_step)
			barrier_advance(x);
	}
}

/* All of op's predecessors are done: it may start (at once, or when the barrier reaches its step). */
static void make_ready(struct run *x, uint32_t op)
{
	uint32_t step = x->d->ops[op].step;
	if (x->o->barrier && step > x->cur_step && step < x->d->n_steps) {
		x->held_next[op] = x->held_head[step];
		x->held_head[step] = op;
		return;
	}
	dispatch_ready(&x->disp, op);
}

static void ready_successors(struct run *x, uint32_t op)
{
	for (uint32_t j = x->succ.first[op]; j < x->succ.first[op + 1]; j++) {
		uint32_t s = x->succ.succ[j];
		if (--x->waiting[s] == 0 && x->state[s] == RUN_PENDING)
			make_ready(x, s);
	}
}

/* op failed for good: it fails, and so does everything that depends on it (skipped), nothing else.
 * In planned mode the run stops starting operations. */
static void fail_op(struct run *x, uint32_t op, const char *message)
{
	set_state(x, op, RUN_FAILED);
	x->r->why[op] = arena_strndup(&x->r->arena, message, strlen(message));
	record(x, op, x->attempt[op], JOURNAL_FAILED, message);
	emit(x, op, RUN_FAILED, x->attempt[op], message);
	if (x->d->mode == AST_MODE_PLANNED)
		stop_run(x, STOP_PLANNED, NULL);

	const char *why = NULL;
	uint32_t n = 0;
	x->stack[n++] = op;
	while (n > 0) {
		uint32_t cur = x->stack[--n];
		for (uint32_t j = x->succ.first[cur]; j < x->succ.first[cur + 1]; j++) {
			uint32_t s = x->succ.succ[j];
			if (x->state[s] != RUN_PENDING)
				continue;
			if (!why) {
				/* One string for every descendant: a failure early in a large plan skips many. */
				buf_clear(&x->scratch);
				buf_puts(&x->scratch, "prerequisite ");
				dag_op_id(x->d, op, &x->scratch);
				buf_puts(&x->scratch, " failed");
				why = arena_strndup(&x->r->arena, x->scratch.data, x->scratch.len);
			}
			set_state(x, s, RUN_SKIPPED);
			x->r->why[s] = (char *)why;
			record(x, s, 0, JOURNAL_SKIPPED, why);
			emit(x, s, RUN_SKIPPED, 0, why);
			x->stack[n++] = s;
		}
	}
}

/* An attempt of op ended. Its slots are free; then it is done, retried after the backoff, ignored
 * (best-effort) or failed. */
static void finish(struct run *x, uint32_t op, enum adapter_status status, const char *message)
{
	const struct dag_op *o = &x->d->ops[op];
	const struct dag_step *step = &x->d->steps[o->step];
	uint32_t attempt = x->attempt[op];
	if (!message || !*message)
		message = status == ADAPTER_DONE ? NULL : "failed (no reason given)";
	dispatch_release(&x->disp, op);
	/* What a query after a fault found done is journaled before anything acts on the attempt. */
	note_found(x, op, attempt);
	if (status == ADAPTER_DONE) {
		set_state(x, op, RUN_DONE);
		record(x, op, attempt, JOURNAL_DONE, NULL);
		emit(x, op, RUN_DONE, attempt, NULL);
		ready_successors(x, op);
	} else if (status == ADAPTER_TRANSIENT && attempt <= step->retries) {
		set_state(x, op, RUN_PENDING);
		record(x, op, attempt, JOURNAL_RETRY, message);
		emit(x, op, RUN_PENDING, attempt, message);
		x->at[op] = x->now + scaled(x, step->backoff_ms > 0 ? step->backoff_ms : 0);
		x->timer[op] = TIMER_RETRY;
		dispatch_heap_push(&x->timers, x->at[op], op);
	} else if (o->flags & DAG_BEST_EFFORT) {
		set_state(x, op, RUN_IGNORED);
		x->r->why[op] = arena_strndup(&x->r->arena, message, strlen(message));
		record(x, op, attempt, JOURNAL_IGNORED, message);
		emit(x, op, RUN_IGNORED, attempt, message);
		ready_successors(x, op);
	} else {
		fail_op(x, op, message);
	}
}

/* ---- Performing: shared by the workers (real time) and the scheduler (virtual time) */

/* The environment of a script: which plan, step and operation, and its workgroup's VMs. */
static void run_script(const struct run *x, uint32_t op, uint32_t attempt, struct adapter_reply *reply)
{
	const struct dag *d = x->d;
	const struct dag_op *o = &d->ops[op];
	const struct dag_step *step = &d->steps[o->step];
	struct buf env[7] = {BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT};
	buf_printf(&env[0], "DRPLAN_PLAN=%s", d->name ? d->name : "");
	buf_printf(&env[1], "DRPLAN_STEP=%u", o->step + 1);
	buf_puts(&env[2], "DRPLAN_OP=");
	dag_op_id(d, op, &env[2]);
	buf_printf(&env[3], "DRPLAN_RUN=%u", x->o->run ? x->o->run : 1);
	buf_printf(&env[4], "DRPLAN_ATTEMPT=%u", attempt);
	uint32_t n_env = 5;
	if (o->target_kind == DAG_TARGET_WORKGROUP && o->target < d->n_workgroups) {
		const struct dag_workgroup *w = &d->workgroups[o->target];
		buf_printf(&env[5], "DRPLAN_WORKGROUP=w%u", o->target + 1);
		buf_puts(&env[6], "DRPLAN_VMS=");
		for (uint32_t v = 0; v < w->n_vms; v++) {
			if (v)
				buf_putc(&env[6], ' ');
			buf_puts(&env[6], d->vms[w->first_vm + v].name);
		}
		n_env = 7;
	}
	const char *envp[7];
	for (uint32_t i = 0; i < n_env; i++)
		envp[i] = env[i].data;
	struct script_request req = {
		.path = step->text ? step->text : "", .dir = x->o->script_dir, .env = envp, .n_env = n_env,
		.timeout_ms = step->timeout_ms, .log_fd = x->log_fd,
	};
	struct script_result res;
	script_run(&req, &res);
	adapter_reply_set(reply, res.status == SCRIPT_OK ? ADAPTER_DONE : ADAPTER_FAILED, "%s", res.message);
	reply->duration_ms = res.elapsed_ms;
	for (uint32_t i = 0; i < 7; i++)
		buf_free(&env[i]);
}

/* Asks the adapter about every VM of a workgroup operation that is not known done; marks VM_FOUND
 * those that took effect. False, with a FAILED reply naming it, if the adapter cannot tell about
 * one: an operator must look. Without a query entry nothing is asked (and true). Runs in a worker
 * (real time) or the scheduler (virtual time, --resume). */
static bool ask_vms(const struct run *x, struct adapter *a, const struct adapter_request *req, struct op_vms *v,
                    struct adapter_reply *reply)
{
	if (!a->vt->query)
		return true;
	uint8_t *ask = xcalloc((size_t)v->n + 1, 1);
	uint32_t asked = 0;
	for (uint32_t k = 0; k < v->n; k++)
		asked += ask[k] = v->mark[k] == VM_TODO;
	bool ok = true;
	if (asked > 0) {
		struct adapter_vm_answer *vms = xcalloc((size_t)v->n + 1, sizeof *vms);
		struct adapter_request q = *req;
		q.vms = ask;
		struct adapter_answer ans = {.vms = vms, .n_vms = v->n};
		adapter_query(a, &q, &ans);
		const struct dag_workgroup *wg = vm_op_workgroup(x->d, req->op);
		for (uint32_t k = 0; k < v->n; k++) {
			if (!ask[k])
				continue;
			if (vms[k].outcome == ADAPTER_HAPPENED) {
				v->mark[k] = VM_FOUND;
				free(v->where[k]);
				v->where[k] = vms[k].where[0] ? xstrdup(vms[k].where) : NULL;
			} else if (vms[k].outcome != ADAPTER_NOT_HAPPENED && ok) {
				ok = false;
				adapter_reply_set(reply, ADAPTER_FAILED, "cannot tell whether %s %s: check by hand%s%s%s",
				                  x->d->vms[wg->first_vm + k].name, vm_verb(x->d->ops[req->op].kind),
				                  ans.message[0] ? " (" : "", ans.message, ans.message[0] ? ")" : "");
			}
		}
		free(vms);
	}
	free(ask);
	return ok;
}

static void perform(const struct run *x, uint32_t op, uint32_t attempt, struct adapter_reply *reply)
{
	const struct dag_op *o = &x->d->ops[op];
	struct adapter_request req = {
		.dag = x->d, .op = op, .attempt = attempt, .run = x->o->run ? x->o->run : 1,
		.best_effort = (o->flags & DAG_BEST_EFFORT) != 0, .timeout_ms = x->d->steps[o->step].timeout_ms,
	};
	memset(reply, 0, sizeof *reply);
	struct adapter *a = x->o->adapter;
	struct op_vms *v = x->vms[op];
	if (v) {
		/* A workgroup operation after a fault: only the VMs not known done are asked about (on a
		 * retry) and then acted on. */
		if (attempt > 1 && !ask_vms(x, a, &req, v, reply))
			return;
		uint8_t *todo = xcalloc((size_t)v->n + 1, 1);
		uint32_t n_todo = 0;
		for (uint32_t k = 0; k < v->n; k++)
			n_todo += todo[k] = v->mark[k] == VM_TODO;
		if (n_todo > 0) {
			req.vms = n_todo < v->n ? todo : NULL;
			adapter_perform(a, &req, reply);
		}
		free(todo);
		return;
	}
	/* A retry after a transient failure: the failed attempt may have taken effect after all (its
	 * reply lost, a timeout after the deed). Ask before doing it again, and do not guess: an
	 * operation the adapter cannot tell about is for an operator, as a VM is (ask_vms). */
	if (attempt > 1 && a->vt->query) {
		struct adapter_answer ans = {.outcome = ADAPTER_UNKNOWN, .vms = NULL};
		adapter_query(a, &req, &ans);
		if (ans.outcome == ADAPTER_HAPPENED) {
			reply->status = ADAPTER_DONE;
			return;
		}
		if (ans.outcome != ADAPTER_NOT_HAPPENED) {
			adapter_reply_set(reply, ADAPTER_FAILED,
			                  "cannot tell whether it happened after the last attempt failed: check by hand%s%s%s",
			                  ans.message[0] ? " (" : "", ans.message, ans.message[0] ? ")" : "");
			return;
		}
	}
	adapter_perform(a, &req, reply);
}

/* Asks the operator on the terminal. Polls, so that an interrupt or the pool's end is noticed. */
static enum prompt_answer ask(struct run *x, uint32_t op)
{
	const struct dag_step *step = &x->d->steps[x->d->ops[op].step];
	struct buf q = BUF_INIT;
	buf_puts(&q, "Confirm: ");
	const char *text = step->text ? step->text : "";
	journal_escape(&q, text, strlen(text), false);
	buf_puts(&q, " [y/N] ");
	fputs(q.data, stderr);
	fflush(stderr);
	buf_free(&q);
	char line[64];
	size_t len = 0;
	enum prompt_answer answer = PROMPT_NO_ANSWER;
	for (;;) {
		if (x->o->interrupt && *x->o->interrupt)
			break;
		pthread_mutex_lock(&x->pool.mu);
		bool quit = x->pool.quit;
		pthread_mutex_unlock(&x->pool.mu);
		if (quit)
			break;
		struct pollfd p = {.fd = 0, .events = POLLIN};
		int n = poll(&p, 1, 200);
		if (n <= 0)
			continue;
		char c;
		ssize_t got = read(0, &c, 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		if (c != '\n') {
			if (len + 1 < sizeof line)
				line[len++] = c;
			continue;
		}
		line[len] = '\0';
		char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		size_t l = strlen(s);
		while (l > 0 && (s[l - 1] == ' ' || s[l - 1] == '\t' || s[l - 1] == '\r'))
			s[--l] = '\0';
		answer = strcasecmp(s, "y") == 0 || strcasecmp(s, "yes") == 0 ? PROMPT_CONFIRMED : PROMPT_DECLINED;
		break;
	}
	return answer;
}

/* ---- The worker pool (real time) */

static void *worker_main(void *arg)
{
	struct pool *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->work_head && !p->quit)
			pthread_cond_wait(&p->work_cv, &p->mu);
		if (!p->work_head)
			break;
		struct job *j = p->work_head;
		p->work_head = j->next;
		if (!p->work_head)
			p->work_tail = NULL;
		pthread_mutex_unlock(&p->mu);

		switch ((enum job_kind)j->kind) {
		case JOB_ADAPTER: perform(p->run, j->op, j->attempt, &j->reply); break;
		case JOB_SCRIPT: run_script(p->run, j->op, j->attempt, &j->reply); break;
		case JOB_PROMPT: j->answer = (uint8_t)ask(p->run, j->op); break;
		}

		pthread_mutex_lock(&p->mu);
		j->next = NULL;
		if (p->done_tail)
			p->done_tail->next = j;
		else
			p->done_head = j;
		p->done_tail = j;
		pthread_cond_signal(&p->done_cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static bool pool_start(struct run *x, uint32_t n, char *err, size_t errlen)
{
	struct pool *p = &x->pool;
	p->run = x;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work_cv, NULL);
	pthread_cond_init(&p->done_cv, &ca);
	pthread_condattr_destroy(&ca);
	p->threads = xcalloc(n, sizeof *p->threads);
	/* Workers block the signals the CLI handles, so that they reach the scheduler's thread. */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	int rc = 0;
	for (; p->n_threads < n; p->n_threads++)
		if ((rc = pthread_create(&p->threads[p->n_threads], NULL, worker_main, p)) != 0)
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	x->pool_started = true;
	if (p->n_threads == 0) {
		snprintf(err, errlen, "cannot start a worker thread: %s", strerror(rc));
		return false;
	}
	return true;
}

static void pool_stop(struct run *x)
{
	if (!x->pool_started)
		return;
	struct pool *p = &x->pool;
	pthread_mutex_lock(&p->mu);
	p->quit = true;
	pthread_cond_broadcast(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
	for (uint32_t i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	free(p->threads);
	pthread_cond_destroy(&p->work_cv);
	pthread_cond_destroy(&p->done_cv);
	pthread_mutex_destroy(&p->mu);
}

static struct job *job_get(struct run *x)
{
	if (!x->free_jobs) {
		struct job *c = xcalloc(JOB_CHUNK, sizeof *c);
		x->chunks = xrealloc(x->chunks, (x->n_chunks + 1) * sizeof *x->chunks);
		x->chunks[x->n_chunks++] = c;
		for (uint32_t i = 0; i < JOB_CHUNK; i++) {
			c[i].next = x->free_jobs;
			x->free_jobs = &c[i];
		}
	}
	struct job *j = x->free_jobs;
	x->free_jobs = j->next;
	j->next = NULL;
	return j;
}

static void job_put(struct run *x, struct job *j)
{
	j->next = x->free_jobs;
	x->free_jobs = j;
}

static void batch_add(struct run *x, uint32_t op, enum job_kind kind)
{
	struct job *j = job_get(x);
	j->op = op;
	j->attempt = x->attempt[op];
	j->kind = (uint8_t)kind;
	if (x->batch_tail)
		x->batch_tail->next = j;
	else
		x->batch_head = j;
	x->batch_tail = j;
}

/* The batch's START records are durable: the workers may begin. */
static void batch_hand_over(struct run *x)
{
	if (!x->batch_head)
		return;
	struct pool *p = &x->pool;
	uint32_t n = 0;
	for (struct job *j = x->batch_head; j; j = j->next)
		n++;
	pthread_mutex_lock(&p->mu);
	if (p->work_tail)
		p->work_tail->next = x->batch_head;
	else
		p->work_head = x->batch_head;
	p->work_tail = x->batch_tail;
	/* One wake-up per job: a broadcast would wake every idle worker for one job. */
	if (n >= p->n_threads)
		pthread_cond_broadcast(&p->work_cv);
	else
		for (uint32_t i = 0; i < n; i++)
			pthread_cond_signal(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
	x->in_flight += n;
	x->batch_head = x->batch_tail = NULL;
}

/* The journal refused the batch's START records: its operations never began. */
static void batch_cancel(struct run *x)
{
	while (x->batch_head) {
		struct job *j = x->batch_head;
		x->batch_head = j->next;
		dispatch_release(&x->disp, j->op);
		set_state(x, j->op, RUN_PENDING);
		emit(x, j->op, RUN_PENDING, j->attempt, "not started: the run stopped");
		x->attempt[j->op]--;
		job_put(x, j);
	}
	x->batch_tail = NULL;
}

/* ---- Starting operations */

static void complete_at(struct run *x, uint32_t op, int64_t at, enum adapter_status st, const char *msg)
{
	x->vstatus[op] = (uint8_t)st;
	if (st != ADAPTER_DONE)
		x->vmsg[op] = xstrdup(msg ? msg : "");
	x->at[op] = at;
	x->timer[op] = TIMER_COMPLETE;
	x->n_complete_timers++;
	dispatch_heap_push(&x->timers, x->at[op], op);
}

/* A prompt that nobody can answer now is not started: it stays pending, and the run ends
 * unfinished when nothing else can move. */
static void hold_prompt(struct run *x, uint32_t op)
{
	dispatch_release(&x->disp, op);
	if (x->held_prompts++ == 0)
		x->held_prompt_step = x->d->ops[op].step;
}

static void start(struct run *x, uint32_t op)
{
	const struct run_options *o = x->o;
	uint8_t kind = x->d->ops[op].kind;
	if (kind == DAG_PROMPT && !o->confirm_prompts && !o->virtual_time && !x->can_ask) {
		hold_prompt(x, op);
		return;
	}
	uint32_t attempt = ++x->attempt[op];
	if (attempt > 1 && vm_op_workgroup(x->d, op))
		op_vms_get(x, op); /* a retry asks per VM: the worker fills the marks */
	set_state(x, op, RUN_RUNNING);
	record(x, op, attempt, JOURNAL_START, NULL);
	emit(x, op, RUN_RUNNING, attempt, NULL);
	switch (kind) {
	case DAG_GATE:
		complete_at(x, op, x->now, ADAPTER_DONE, NULL);
		break;
	case DAG_WAIT:
		complete_at(x, op, x->now + scaled(x, x->d->steps[x->d->ops[op].step].wait_ms), ADAPTER_DONE, NULL);
		break;
	case DAG_PROMPT:
		if (o->confirm_prompts) {
			record(x, op, attempt, JOURNAL_PROMPT_CONFIRMED, "--yes");
			complete_at(x, op, x->now, ADAPTER_DONE, NULL);
		} else if (o->virtual_time) {
			complete_at(x, op, x->now, ADAPTER_DONE, NULL); /* a rehearsal has no operator */
		} else {
			batch_add(x, op, JOB_PROMPT);
		}
		break;
	case DAG_RUN:
		if (o->simulate_scripts) {
			complete_at(x, op, x->now + scaled(x, x->dur[op]), ADAPTER_DONE, NULL);
		} else if (o->virtual_time) {
			struct adapter_reply reply;
			run_script(x, op, attempt, &reply);
			complete_at(x, op, x->now + reply.duration_ms, reply.status, reply.message);
		} else {
			batch_add(x, op, JOB_SCRIPT);
		}
		break;
	default:
		if (o->virtual_time) {
			struct adapter_reply reply;
			perform(x, op, attempt, &reply);
			take_notes(x, op, attempt, &reply);
			complete_at(x, op, x->now + (reply.duration_ms > 0 ? reply.duration_ms : 0), reply.status,
			            reply.message);
		} else {
			batch_add(x, op, JOB_ADAPTER);
		}
		break;
	}
}

static void dispatch_round(struct run *x)
{
	uint32_t op, via;
	while ((op = dispatch_next(&x->disp, &via)) != DAG_NONE)
		start(x, op);
}

/* ---- Completions */

static void fire_timer(struct run *x, uint32_t op)
{
	uint8_t kind = x->timer[op];
	x->timer[op] = TIMER_NONE;
	if (kind == TIMER_COMPLETE) {
		x->n_complete_timers--;
		char *msg = x->vmsg[op];
		x->vmsg[op] = NULL;
		finish(x, op, (enum adapter_status)x->vstatus[op], msg);
		free(msg);
	} else if (kind == TIMER_RETRY && x->stop == STOP_NONE) {
		make_ready(x, op);
	}
}

static void finish_job(struct run *x, struct job *j)
{
	x->in_flight--;
	if (j->kind != JOB_PROMPT) {
		if (j->kind == JOB_ADAPTER)
			take_notes(x, j->op, j->attempt, &j->reply);
		finish(x, j->op, j->reply.status, j->reply.message);
	} else if (j->answer == PROMPT_CONFIRMED) {
		record(x, j->op, j->attempt, JOURNAL_PROMPT_CONFIRMED, "operator");
		finish(x, j->op, ADAPTER_DONE, NULL);
	} else if (j->answer == PROMPT_DECLINED) {
		finish(x, j->op, ADAPTER_FAILED, "the operator did not confirm");
	} else {
		/* No answer (interrupted, or end of input): as if never started. */
		set_state(x, j->op, RUN_PENDING);
		emit(x, j->op, RUN_PENDING, j->attempt, "no answer from the operator");
		hold_prompt(x, j->op);
	}
	job_put(x, j);
}

/* Virtual time: the clock jumps to the next timer; everything due then completes together. */
static void next_events_virtual(struct run *x)
{
	if (x->timers.len == 0)
		return;
	x->now = x->timers.v[0].key;
	while (x->timers.len > 0 && x->timers.v[0].key == x->now)
		fire_timer(x, dispatch_heap_pop(&x->timers));
}

/* Real time: sleeps until a worker hands results back or the next timer is due, then takes every
 * result and every due timer. */
static void next_events_real(struct run *x)
{
	struct pool *p = &x->pool;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		if (p->done_head)
			break;
		int64_t now = real_now(x);
		if (x->timers.len > 0 && x->timers.v[0].key <= now)
			break;
		if (x->o->interrupt && *x->o->interrupt && x->stop == STOP_NONE)
			break;
		int64_t until = INT64_MAX;
		if (x->timers.len > 0)
			until = x->timers.v[0].key;
		if (x->o->interrupt && until > now + INTERRUPT_POLL_MS)
			until = now + INTERRUPT_POLL_MS;
		if (until == INT64_MAX) {
			pthread_cond_wait(&p->done_cv, &p->mu);
			continue;
		}
		int64_t abs_ns = x->t0_ns + until * 1000000 + 999999;
		struct timespec ts = {(time_t)(abs_ns / 1000000000), (long)(abs_ns % 1000000000)};
		pthread_cond_timedwait(&p->done_cv, &p->mu, &ts);
	}
	struct job *done = p->done_head;
	p->done_head = p->done_tail = NULL;
	pthread_mutex_unlock(&p->mu);

	x->now = real_now(x);
	while (done) {
		struct job *j = done;
		done = j->next;
		finish_job(x, j);
	}
	while (x->timers.len > 0 && x->timers.v[0].key <= x->now)
		fire_timer(x, dispatch_heap_pop(&x->timers));
}

/* ---- Resume */

/* Before anything runs: the journal's done operations stay done; for every other operation whose
 * prerequisites are done, the adapter says whether it happened after all (its START or DONE may
 * not have reached the disk, or it was in flight). What happened is done, and the question moves on
 * to its successors. Plan operations (gate, wait, prompt, run) are not the adapter's to answer:
 * they are passed tentatively, and count as done only if something after them happened. */
static void reconcile(struct run *x)
{
	const struct dag *d = x->d;
	const uint8_t *resume = x->o->resume;
	uint32_t n = d->n_ops;
	uint8_t *tentative = xcalloc((size_t)n + 1, 1);
	/* Its own worklist: fail_op uses x->stack. Each op enters once, when its last predecessor is
	 * done (or at the start). */
	uint32_t *work = xmalloc(((size_t)n + 1) * sizeof *work);
	uint32_t top = 0;
	for (uint32_t i = 0; i < n; i++)
		if (x->state[i] == RUN_PENDING && x->waiting[i] == 0)
			work[top++] = i;
	struct adapter *a = x->o->adapter;
	while (top > 0) {
		uint32_t i = work[--top];
		if (x->state[i] != RUN_PENDING)
			continue;
		if (is_plan_op(d->ops[i].kind)) {
			tentative[i] = 1;
		} else {
			struct adapter_request req = {
				.dag = d, .op = i, .attempt = 1, .run = x->o->run ? x->o->run : 1,
				.best_effort = (d->ops[i].flags & DAG_BEST_EFFORT) != 0,
				.timeout_ms = d->steps[d->ops[i].step].timeout_ms,
			};
			enum adapter_outcome out;
			const char *why = NULL, *unknown = "cannot tell whether it happened: check by hand";
			struct adapter_reply vm_reply = {ADAPTER_DONE, "", 0, BUF_INIT};
			if (vm_op_workgroup(d, i)) {
				/* Per VM: those the journal records done stay done, the adapter answers for the
				 * others, and what it found done is journaled (vm-done) before anything else.
				 * Only the VMs left are performed when the operation starts. */
				struct op_vms *v = op_vms_get(x, i);
				bool ok = ask_vms(x, a, &req, v, &vm_reply);
				note_found(x, i, 0);
				uint32_t done = 0;
				for (uint32_t k = 0; k < v->n; k++)
					done += v->mark[k] == VM_DONE;
				if (!ok)
					out = ADAPTER_UNKNOWN, unknown = vm_reply.message;
				else if (done == v->n)
					out = ADAPTER_HAPPENED;
				else if (a->vt->query || done > 0)
					out = ADAPTER_NOT_HAPPENED;
				else
					out = resume[i] == RUN_RUNNING ? ADAPTER_UNKNOWN : ADAPTER_NOT_HAPPENED;
				if (out == ADAPTER_NOT_HAPPENED && done > 0) {
					buf_clear(&x->scratch);
					buf_printf(&x->scratch, "%u of %u VMs done: the others are to do", done, v->n);
					why = arena_strndup(&x->r->arena, x->scratch.data, x->scratch.len);
				}
			} else if (a->vt->query) {
				out = adapter_query_op(a, &req);
			} else {
				out = resume[i] == RUN_RUNNING ? ADAPTER_UNKNOWN : ADAPTER_NOT_HAPPENED;
			}
			x->r->reconciled++;
			if (out == ADAPTER_NOT_HAPPENED) {
				record(x, i, 0, JOURNAL_RECONCILED_NOT_DONE, why);
				if (!(d->ops[i].flags & DAG_BEST_EFFORT))
					continue;
				/* A best-effort operation may have failed and been ignored, and what follows it
				 * run: ask on, and count it ignored if something after it happened. */
				tentative[i] = 2;
			}
			if (out != ADAPTER_HAPPENED && out != ADAPTER_NOT_HAPPENED) {
				fail_op(x, i, unknown);
				continue;
			}
		}
		if (!tentative[i]) {
			set_state(x, i, RUN_DONE);
			record(x, i, 0, JOURNAL_RECONCILED_DONE, NULL);
			emit(x, i, RUN_DONE, 0, "it had happened before the run stopped");
			/* Whatever plan operations led here were passed. */
			uint32_t m = 0;
			x->stack2[m++] = i;
			while (m > 0) {
				uint32_t c = x->stack2[--m];
				const struct dag_op *op = &d->ops[c];
				for (uint32_t k = op->first_pred; k < op->first_pred + op->n_preds; k++) {
					uint32_t p = d->edges[k].from;
					if (!tentative[p] || x->state[p] != RUN_PENDING)
						continue;
					if (tentative[p] == 2) { /* best-effort: it failed then, and was ignored */
						set_state(x, p, RUN_IGNORED);
						record(x, p, 0, JOURNAL_IGNORED, "an operation after it had happened");
						emit(x, p, RUN_IGNORED, 0, "an operation after it had happened");
					} else {
						set_state(x, p, RUN_DONE);
						record(x, p, 0, JOURNAL_RECONCILED_DONE, "an operation after it had happened");
						emit(x, p, RUN_DONE, 0, "an operation after it had happened");
					}
					x->stack2[m++] = p;
				}
			}
		}
		for (uint32_t j = x->succ.first[i]; j < x->succ.first[i + 1]; j++) {
			uint32_t s = x->succ.succ[j];
			if (--x->waiting[s] == 0 && x->state[s] == RUN_PENDING)
				work[top++] = s;
		}
	}
	free(work);
	free(tentative);
}

/* ---- The run */

static void count_waiting(struct run *x)
{
	const struct dag *d = x->d;
	for (uint32_t i = 0; i < d->n_ops; i++) {
		uint32_t w = 0;
		const struct dag_op *op = &d->ops[i];
		for (uint32_t k = op->first_pred; k < op->first_pred + op->n_preds; k++)
			w += !is_done(x->state[d->edges[k].from]);
		x->waiting[i] = w;
	}
}

static void run_start_record(struct run *x)
{
	const struct run_options *o = x->o;
	struct buf *b = &x->scratch;
	buf_clear(b);
	buf_printf(b, "mode %s, %s time, %s", ast_mode_names[x->d->mode], o->virtual_time ? "virtual" : "real",
	           o->barrier ? "barrier" : "pipelined");
	if (o->resume)
		buf_puts(b, ", resumed");
	if (o->confirm_prompts)
		buf_puts(b, ", --yes");
	if (o->simulate_scripts)
		buf_puts(b, ", scripts simulated");
	if (!o->virtual_time)
		buf_printf(b, ", %u workers", x->pool.n_threads);
	record(x, DAG_NONE, 0, JOURNAL_RUN_START, b->data);
}

static void run_end(struct run *x)
{
	const struct dag *d = x->d;
	struct run_result *r = x->r;
	if (x->stop == STOP_PLANNED) {
		const char *why = "the run stopped at the first failure (planned mode)";
		for (uint32_t i = 0; i < d->n_ops; i++)
			if (x->state[i] == RUN_PENDING) {
				set_state(x, i, RUN_SKIPPED);
				r->why[i] = (char *)why;
				record(x, i, 0, JOURNAL_SKIPPED, why);
				emit(x, i, RUN_SKIPPED, 0, why);
			}
	}
	memset(r->count, 0, sizeof r->count);
	for (uint32_t i = 0; i < d->n_ops; i++)
		r->count[x->state[i] < RUN_N_STATES ? x->state[i] : RUN_PENDING]++;
	if (r->count[RUN_PENDING] > 0 && !r->unfinished) {
		r->unfinished = true;
		if (x->held_prompts > 0)
			snprintf(r->message, sizeof r->message,
			         "waiting for an operator at step %u: rerun with --resume --yes", x->held_prompt_step + 1);
		else
			snprintf(r->message, sizeof r->message,
			         "%u operations could never start (a limit of 0, or a cycle)", r->count[RUN_PENDING]);
	}
	r->makespan_ms = x->now;
	/* An unfinished run has no run-end record: `drplan status` reports it as resumable. */
	if (!r->unfinished) {
		struct buf *b = &x->scratch;
		buf_clear(b);
		buf_printf(b, "%u done, %u ignored, %u failed, %u skipped in ", r->count[RUN_DONE], r->count[RUN_IGNORED],
		           r->count[RUN_FAILED], r->count[RUN_SKIPPED]);
		dot_duration(b, r->makespan_ms);
		record(x, DAG_NONE, 0, JOURNAL_RUN_END, b->data);
	}
	commit(x);
}

/* Interrupted in real time: a `wait` in progress is not worth waiting for. It has no effect, so it
 * goes back to pending (a resumed run waits again) and the run ends as soon as the adapter calls
 * in flight are back. */
static void drop_waits(struct run *x)
{
	for (uint32_t k = 0; k < x->timers.len; k++) {
		uint32_t op = x->timers.v[k].op;
		if (x->timer[op] != TIMER_COMPLETE || x->d->ops[op].kind != DAG_WAIT)
			continue;
		x->timer[op] = TIMER_NONE; /* the heap entry stays and fires as nothing */
		x->n_complete_timers--;
		dispatch_release(&x->disp, op);
		set_state(x, op, RUN_PENDING);
		emit(x, op, RUN_PENDING, x->attempt[op], "interrupted");
	}
}

static void run_loop(struct run *x)
{
	const struct run_options *o = x->o;
	for (;;) {
		if (!o->virtual_time)
			x->now = real_now(x);
		if (x->stop == STOP_NONE)
			dispatch_round(x);
		if (!o->virtual_time) {
			if (!commit(x))
				batch_cancel(x);
			batch_hand_over(x);
		} else if (x->dirty && clock_mono_ns() - x->last_commit_ns >= (int64_t)VIRTUAL_COMMIT_MS * 1000000) {
			commit(x);
		}
		if (x->in_flight == 0 && x->n_complete_timers == 0 && (x->stop != STOP_NONE || x->timers.len == 0)) {
			if (x->stop == STOP_NONE && o->barrier && barrier_force(x))
				continue;
			break;
		}
		if (o->virtual_time)
			next_events_virtual(x);
		else
			next_events_real(x);
		if (o->interrupt && *o->interrupt && x->stop == STOP_NONE) {
			stop_run(x, STOP_INTERRUPT, "interrupted: rerun with --resume to go on");
			if (!o->virtual_time)
				drop_waits(x);
		}
	}
}

int run_execute(const struct dag *d, const struct run_options *o, struct run_result *r)
{
	memset(r, 0, sizeof *r);
	arena_init(&r->arena);
	uint32_t n = d->n_ops;
	size_t sz = (size_t)n + 1;
	r->state = xcalloc(sz, sizeof *r->state);
	r->why = xcalloc(sz, sizeof *r->why);
	r->attempts = xcalloc(sz, sizeof *r->attempts);
	r->vm_reconciled = xcalloc((size_t)d->n_vms + 1, sizeof *r->vm_reconciled);
	if (!o->adapter || !o->adapter->vt) {
		snprintf(r->message, sizeof r->message, "no adapter to perform the plan's operations");
		return -1;
	}
	if (!d->finished) {
		snprintf(r->message, sizeof r->message, "the plan's graph is not finished (internal error)");
		return -1;
	}

	struct run x = {.d = d, .o = o, .r = r, .state = r->state, .attempt = r->attempts, .log_fd = -1};
	x.t0_ns = x.last_commit_ns = clock_mono_ns();
	if (o->script_log && !o->simulate_scripts) {
		x.log_fd = open(o->script_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (x.log_fd < 0) {
			snprintf(r->message, sizeof r->message, "cannot open the script log %s: %s", o->script_log,
			         strerror(errno));
			return -1;
		}
	}
	dag_succ_build(d, &x.succ);
	x.dur = xcalloc(sz, sizeof *x.dur);
	x.prio = xcalloc(sz, sizeof *x.prio);
	x.bottom = xcalloc(sz, sizeof *x.bottom);
	for (uint32_t i = 0; i < n; i++) {
		int64_t ms = dag_op_duration_ms(d, i);
		x.dur[i] = ms > 0 ? ms : 0;
	}
	dispatch_priorities(d, &x.succ, x.dur, x.bottom, x.prio);
	dispatch_justify(d, &x.succ, x.dur, x.prio);
	dispatch_init(&x.disp, d, x.prio);
	x.waiting = xcalloc(sz, sizeof *x.waiting);
	x.stack = xmalloc(sz * sizeof *x.stack);
	x.stack2 = xmalloc(sz * sizeof *x.stack2);
	x.at = xcalloc(sz, sizeof *x.at);
	x.timer = xcalloc(sz, 1);
	x.vstatus = xcalloc(sz, 1);
	x.vmsg = xcalloc(sz, sizeof *x.vmsg);
	x.vms = xcalloc(sz, sizeof *x.vms);
	x.steps_left = xcalloc((size_t)d->n_steps + 1, sizeof *x.steps_left);
	x.held_head = xmalloc(((size_t)d->n_steps + 1) * sizeof *x.held_head);
	memset(x.held_head, 0xff, ((size_t)d->n_steps + 1) * sizeof *x.held_head);
	x.held_next = xmalloc(sz * sizeof *x.held_next);
	x.can_ask = !o->virtual_time && !o->confirm_prompts && isatty(0);
	for (uint32_t i = 0; i < n; i++)
		if (d->ops[i].step < d->n_steps)
			x.steps_left[d->ops[i].step]++;

	int rc = 0;
	if (!o->virtual_time) {
		char err[200];
		if (!pool_start(&x, o->workers ? o->workers : DEFAULT_WORKERS, err, sizeof err)) {
			snprintf(r->message, sizeof r->message, "%s", err);
			rc = -1;
			goto out;
		}
	}
	run_start_record(&x);

	/* The journal's word first: what was done stays done. */
	if (o->resume)
		for (uint32_t i = 0; i < n; i++)
			if (is_done(o->resume[i]))
				set_state(&x, i, (enum run_op_state)o->resume[i]);
	count_waiting(&x);
	if (o->resume) {
		reconcile(&x);
		count_waiting(&x);
	}
	/* run-start and the reconciliation are durable before anything runs. */
	commit(&x);
	if (o->interrupt && *o->interrupt)
		stop_run(&x, STOP_INTERRUPT, "interrupted: rerun with --resume to go on");

	x.cur_step = 0;
	if (o->barrier)
		while (x.cur_step < d->n_steps && x.steps_left[x.cur_step] == 0)
			x.cur_step++;
	for (uint32_t i = 0; i < n; i++)
		if (x.state[i] == RUN_PENDING && x.waiting[i] == 0)
			make_ready(&x, i);
	x.now = 0;
	run_loop(&x);
	run_end(&x);

out:
	pool_stop(&x);
	for (uint32_t i = 0; i < x.n_chunks; i++)
		free(x.chunks[i]);
	free(x.chunks);
	for (uint32_t i = 0; i < n; i++) {
		free(x.vmsg[i]);
		if (x.vms)
			op_vms_free(x.vms[i]);
	}
	free(x.vms);
	if (x.log_fd >= 0)
		close(x.log_fd);
	dispatch_free(&x.disp);
	dag_succ_free(&x.succ);
	free(x.timers.v);
	free(x.dur);
	free(x.prio);
	free(x.bottom);
	free(x.waiting);
	free(x.stack);
	free(x.stack2);
	free(x.at);
	free(x.timer);
	free(x.vstatus);
	free(x.vmsg);
	free(x.steps_left);
	free(x.held_head);
	free(x.held_next);
	buf_free(&x.scratch);
	return rc;
}

void run_result_free(struct run_result *r)
{
	free(r->state);
	free(r->why);
	free(r->attempts);
	free(r->vm_reconciled);
	arena_free(&r->arena);
	memset(r, 0, sizeof *r);
}

void run_resume_note(uint8_t *resume, uint32_t n_ops, const struct journal_record *rec)
{
	if (rec->op >= n_ops)
		return;
	uint8_t *s = &resume[rec->op];
	switch (rec->state) {
	case JOURNAL_START: *s = RUN_RUNNING; break;
	case JOURNAL_DONE:
	case JOURNAL_RECONCILED_DONE:
	case JOURNAL_PROMPT_CONFIRMED: *s = RUN_DONE; break;
	case JOURNAL_IGNORED: *s = RUN_IGNORED; break;
	case JOURNAL_FAILED:
	case JOURNAL_TIMEOUT: *s = RUN_FAILED; break;
	case JOURNAL_SKIPPED: *s = RUN_SKIPPED; break;
	case JOURNAL_RETRY:
	case JOURNAL_RECONCILED_NOT_DONE: *s = RUN_PENDING; break;
	default: break;
	}
}

void run_resume_note_vm(uint8_t **vms, const struct dag *d, const struct journal_record *rec)
{
	if (rec->state != JOURNAL_VM_DONE || rec->op >= d->n_ops)
		return;
	const struct dag_workgroup *wg = vm_op_workgroup(d, rec->op);
	if (!wg)
		return;
	/* The message starts with the VM's name and a space: the longest name of the workgroup that
	 * fits, so that "db-1" never claims "db-1 0"'s record. */
	const char *m = rec->message ? rec->message : "";
	uint32_t best = DAG_NONE;
	size_t best_len = 0;
	for (uint32_t k = 0; k < wg->n_vms; k++) {
		const char *name = d->vms[wg->first_vm + k].name;
		size_t len = strlen(name);
		if (len > best_len && strncmp(m, name, len) == 0 && (m[len] == ' ' || m[len] == '\0'))
			best = k, best_len = len;
	}
	if (best == DAG_NONE)
		return;
	if (!vms[rec->op])
		vms[rec->op] = xcalloc((size_t)wg->n_vms + 1, 1);
	vms[rec->op][best] = 1;
}

void run_resume_vms_free(uint8_t **vms, uint32_t n_ops)
{
	if (!vms)
		return;
	for (uint32_t i = 0; i < n_ops; i++)
		free(vms[i]);
	free(vms);
}
