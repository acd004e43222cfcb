/* status.c: `drplan status JOURNAL [--json] [--compiled FILE]`: what a run (live or finished) has
 * done so far, from its journal alone: runs, operations by state, failures and, given the compiled
 * plan, every step, workgroup and VM. Reads the journal without locking it or changing it. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/alloc.h"
#include "../runtime/journal.h"
#include "cli.h"

#define STATUS_LIST_MAX 20         /* entries of a text list without --all */
#define STATUS_MESSAGE_MAX 1024    /* bytes of a message kept for the report */

/* What an operation's last record says about it. */
enum status_class {
	STATUS_PENDING,                /* no record: not reached yet */
	STATUS_RUNNING,                /* started, retrying or to be redone: in flight, or interrupted */
	STATUS_DONE,
	STATUS_IGNORED,                /* failed, best-effort: the run went on as if it were done */
	STATUS_SKIPPED,
	STATUS_FAILED,                 /* failed or timed out */
	STATUS_N_CLASSES
};
static const char *const status_class_names[] = {"pending", "running", "done", "ignored", "skipped", "failed"};

static enum status_class status_class_of(enum journal_state s)
{
	switch (s) {
	case JOURNAL_DONE:
	case JOURNAL_RECONCILED_DONE:
	case JOURNAL_PROMPT_CONFIRMED:
	case JOURNAL_VM_DONE: return STATUS_DONE; /* of one VM: never an operation's class */
	case JOURNAL_FAILED:
	case JOURNAL_TIMEOUT: return STATUS_FAILED;
	case JOURNAL_IGNORED: return STATUS_IGNORED;
	case JOURNAL_SKIPPED: return STATUS_SKIPPED;
	case JOURNAL_START:
	case JOURNAL_RETRY:
	case JOURNAL_RECONCILED_NOT_DONE:
	case JOURNAL_RUN_START:
	case JOURNAL_RUN_END:
	case JOURNAL_NOTE:
	case JOURNAL_N_STATES: break;
	}
	return STATUS_RUNNING;
}

/* One record about an operation. */
struct status_event {
	uint32_t op;
	uint32_t order;                /* position in the journal, to keep the last one of each op */
	uint32_t run, attempt;
	int64_t time_ms;
	uint32_t message;              /* offset+1 in status.messages, or 0 for none */
	uint8_t state;                 /* enum journal_state */
};

struct status_run {
	uint32_t run;
	int64_t start_ms, end_ms;
	uint32_t start_message, end_message; /* as status_event.message */
	bool ended;
};

struct status {
	const struct dag *d;           /* with --compiled, else NULL */
	bool all;                      /* --all: lists are not cut */
	struct status_event *events;   /* then, after status_settle, the last event of each op */
	uint32_t n_events, cap_events;
	struct status_run *runs;
	uint32_t n_runs, cap_runs;
	struct buf messages;
	uint64_t n_records;
	uint64_t by_state[JOURNAL_N_STATES];
	bool open_run;                 /* the last run-start has no run-end yet */
	uint32_t bad_ops;              /* records naming an op the compiled plan does not have */
	struct status_event *vm_done;  /* vm-done records: VMs found done after a fault, not redone */
	uint32_t n_vm_done, cap_vm_done;
	/* After status_settle: */
	uint32_t *last;                /* with --compiled: per op, the index in events of its last one, or
	                                  DAG_NONE */
	uint64_t by_class[STATUS_N_CLASSES];
	uint32_t n_failed;
};

static uint32_t status_keep_message(struct status *s, const char *message)
{
	if (!message || !message[0])
		return 0;
	uint32_t at = (uint32_t)s->messages.len + 1;
	buf_append(&s->messages, message, strnlen(message, STATUS_MESSAGE_MAX));
	buf_putc(&s->messages, '\0');
	return at;
}

static const char *status_message(const struct status *s, uint32_t at)
{
	return at ? s->messages.data + at - 1 : "";
}

static void status_each(void *ctx, const struct journal_record *r)
{
	struct status *s = ctx;
	s->n_records++;
	s->by_state[r->state]++;
	if (r->state == JOURNAL_RUN_START || r->state == JOURNAL_RUN_END) {
		struct status_run *run = s->n_runs ? &s->runs[s->n_runs - 1] : NULL;
		if (r->state == JOURNAL_RUN_START || !run || run->run != r->run || run->ended) {
			if (s->n_runs == s->cap_runs) {
				s->cap_runs = s->cap_runs ? 2 * s->cap_runs : 4;
				s->runs = xrealloc(s->runs, s->cap_runs * sizeof *s->runs);
			}
			run = &s->runs[s->n_runs++];
			memset(run, 0, sizeof *run);
			run->run = r->run;
			run->start_ms = r->time_ms;
			if (r->state == JOURNAL_RUN_START)
				run->start_message = status_keep_message(s, r->message);
		}
		if (r->state == JOURNAL_RUN_END) {
			run->ended = true;
			run->end_ms = r->time_ms;
			run->end_message = status_keep_message(s, r->message);
		}
		s->open_run = r->state == JOURNAL_RUN_START;
		return;
	}
	if (r->op == DAG_NONE)
		return;
	if (s->d && r->op >= s->d->n_ops) {
		s->bad_ops++;
		return;
	}
	if (r->state == JOURNAL_VM_DONE) {
		/* Not a state of the operation: one VM of it, listed apart. */
		if (s->n_vm_done == s->cap_vm_done) {
			s->cap_vm_done = s->cap_vm_done ? 2 * s->cap_vm_done : 16;
			s->vm_done = xrealloc(s->vm_done, (size_t)s->cap_vm_done * sizeof *s->vm_done);
		}
		s->vm_done[s->n_vm_done++] = (struct status_event){
			.op = r->op, .order = s->n_vm_done, .run = r->run, .attempt = r->attempt, .time_ms = r->time_ms,
			.message = status_keep_message(s, r->message), .state = (uint8_t)r->state,
		};
		return;
	}
	if (s->n_events == s->cap_events) {
		s->cap_events = s->cap_events ? 2 * s->cap_events : 1024;
		s->events = xrealloc(s->events, (size_t)s->cap_events * sizeof *s->events);
	}
	struct status_event *e = &s->events[s->n_events];
	e->op = r->op;
	e->order = s->n_events++;
	e->run = r->run;
	e->attempt = r->attempt;
	e->time_ms = r->time_ms;
	e->state = (uint8_t)r->state;
	/* Messages say why: of a failure, a retry, a reconciliation. Done records seldom have one. */
	e->message = r->state == JOURNAL_DONE ? 0 : status_keep_message(s, r->message);
}

static int status_event_cmp(const void *a, const void *b)
{
	const struct status_event *x = a, *y = b;
	if (x->op != y->op)
		return x->op < y->op ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Keeps the last event of each operation and counts the operations by class. */
static void status_settle(struct status *s)
{
	if (s->n_events)
		qsort(s->events, s->n_events, sizeof *s->events, status_event_cmp);
	uint32_t n = 0;
	for (uint32_t i = 0; i < s->n_events; i++)
		if (i + 1 == s->n_events || s->events[i + 1].op != s->events[i].op)
			s->events[n++] = s->events[i];
	s->n_events = n;
	if (s->d) {
		s->last = xmalloc(((size_t)s->d->n_ops + 1) * sizeof *s->last);
		for (uint32_t i = 0; i < s->d->n_ops; i++)
			s->last[i] = DAG_NONE;
		for (uint32_t i = 0; i < n; i++)
			s->last[s->events[i].op] = i;
		s->by_class[STATUS_PENDING] = s->d->n_ops - n;
	}
	for (uint32_t i = 0; i < n; i++)
		s->by_class[status_class_of(s->events[i].state)]++;
	s->n_failed = (uint32_t)s->by_class[STATUS_FAILED];
}

/* The last event of op (with --compiled), or NULL if there is none. */
static const struct status_event *status_op_event(const struct status *s, uint32_t op)
{
	return s->last[op] == DAG_NONE ? NULL : &s->events[s->last[op]];
}

static enum status_class status_op_class(const struct status *s, uint32_t op)
{
	const struct status_event *e = status_op_event(s, op);
	return e ? status_class_of(e->state) : STATUS_PENDING;
}

/* A workgroup's outcome, which is its VMs': done when every one of its operations is done (or
 * ignored), otherwise the class of the first one that is not; *op is the operation that decides. */
struct status_groups {
	uint32_t *first;               /* n_workgroups + 1: ops[first[w] .. first[w+1]) are w's, ascending */
	uint32_t *ops;
	uint8_t *outcome;              /* enum status_class per workgroup */
	uint32_t *decider;             /* per workgroup: the deciding op, or DAG_NONE (no operation) */
};

static void status_groups_build(const struct status *s, struct status_groups *g)
{
	const struct dag *d = s->d;
	g->first = xcalloc((size_t)d->n_workgroups + 1, sizeof *g->first);
	for (uint32_t i = 0; i < d->n_ops; i++)
		if (d->ops[i].target_kind == DAG_TARGET_WORKGROUP && d->ops[i].target < d->n_workgroups)
			g->first[d->ops[i].target + 1]++;
	for (uint32_t w = 0; w < d->n_workgroups; w++)
		g->first[w + 1] += g->first[w];
	g->ops = xmalloc(((size_t)g->first[d->n_workgroups] + 1) * sizeof *g->ops);
	uint32_t *fill = xmalloc(((size_t)d->n_workgroups + 1) * sizeof *fill);
	memcpy(fill, g->first, (size_t)d->n_workgroups * sizeof *fill);
	for (uint32_t i = 0; i < d->n_ops; i++)
		if (d->ops[i].target_kind == DAG_TARGET_WORKGROUP && d->ops[i].target < d->n_workgroups)
			g->ops[fill[d->ops[i].target]++] = i;
	free(fill);
	g->outcome = xmalloc((size_t)d->n_workgroups + 1);
	g->decider = xmalloc(((size_t)d->n_workgroups + 1) * sizeof *g->decider);
	for (uint32_t w = 0; w < d->n_workgroups; w++) {
		enum status_class outcome = STATUS_PENDING;
		uint32_t decider = DAG_NONE;
		for (uint32_t k = g->first[w]; k < g->first[w + 1]; k++) {
			decider = g->ops[k];
			outcome = status_op_class(s, decider);
			if (outcome != STATUS_DONE && outcome != STATUS_IGNORED)
				break;
			outcome = STATUS_DONE;
		}
		g->outcome[w] = (uint8_t)outcome;
		g->decider[w] = decider;
	}
}

static void status_groups_free(struct status_groups *g)
{
	free(g->first);
	free(g->ops);
	free(g->outcome);
	free(g->decider);
}

static int status_exit(const struct status *s)
{
	if (s->n_runs == 0 || s->open_run)
		return EXIT_UNFINISHED;
	return s->n_failed ? EXIT_INVALID : EXIT_OK;
}

/* ---- Text */

static void status_put_clock(struct buf *out, int64_t ms)
{
	if (ms < 0) {
		buf_putc(out, '-');
		ms = -ms;
	}
	long long sec = (long long)(ms / 1000);
	if (sec >= 3600)
		buf_printf(out, "%lld:%02lld:%02lld", sec / 3600, sec / 60 % 60, sec % 60);
	else
		buf_printf(out, "%02lld:%02lld", sec / 60, sec % 60);
}

static void status_put_safe(struct buf *out, const char *text)
{
	journal_escape(out, text, strlen(text), false);
}

static void status_put_op(const struct status *s, struct buf *out, uint32_t op)
{
	if (s->d) {
		size_t from = out->len;
		dag_op_id(s->d, op, out);
		/* Names come from the plan: made safe like everything else shown. */
		struct buf id = BUF_INIT;
		buf_append(&id, out->data + from, out->len - from);
		out->len = from;
		status_put_safe(out, id.data);
		buf_free(&id);
	} else
		buf_printf(out, "op %" PRIu32, op);
}

/* "N (a 1, b 2)" over the nonzero counts. */
static void status_put_counts(struct buf *out, const uint64_t *counts, const char *const *names, int n)
{
	uint64_t total = 0;
	for (int i = 0; i < n; i++)
		total += counts[i];
	buf_printf(out, "%" PRIu64, total);
	const char *sep = " (";
	for (int i = 0; i < n; i++)
		if (counts[i]) {
			buf_printf(out, "%s%s %" PRIu64, sep, names[i], counts[i]);
			sep = ", ";
		}
	if (total)
		buf_putc(out, ')');
	buf_putc(out, '\n');
}

static void status_put_event(const struct status *s, struct buf *out, const struct status_event *e)
{
	buf_puts(out, "  ");
	status_put_op(s, out, e->op);
	buf_printf(out, ": %s, attempt %" PRIu32 " of run %" PRIu32 " at ", journal_state_names[e->state], e->attempt,
	           e->run);
	status_put_clock(out, e->time_ms);
	if (e->message) {
		buf_puts(out, ": ");
		status_put_safe(out, status_message(s, e->message));
	}
	buf_putc(out, '\n');
}

static void status_put_more(struct buf *out, uint64_t shown, uint64_t total)
{
	if (total > shown)
		buf_printf(out, "  ... and %" PRIu64 " more (--all lists them)\n", total - shown);
}

static void status_text_ops(const struct status *s, struct buf *out, enum status_class c)
{
	if (!s->by_class[c] || c == STATUS_PENDING || c == STATUS_DONE)
		return;
	buf_printf(out, "%s:\n", status_class_names[c]);
	uint64_t shown = 0;
	for (uint32_t i = 0; i < s->n_events; i++)
		if (status_class_of(s->events[i].state) == c && (s->all || shown < STATUS_LIST_MAX)) {
			status_put_event(s, out, &s->events[i]);
			shown++;
		}
	status_put_more(out, shown, s->by_class[c]);
}

static void status_text_steps(const struct status *s, struct buf *out)
{
	const struct dag *d = s->d;
	uint64_t *counts = xcalloc((size_t)d->n_steps * STATUS_N_CLASSES + 1, sizeof *counts);
	for (uint32_t i = 0; i < d->n_ops; i++)
		if (d->ops[i].step < d->n_steps)
			counts[(size_t)d->ops[i].step * STATUS_N_CLASSES + status_op_class(s, i)]++;
	buf_puts(out, "steps:\n");
	for (uint32_t k = 0; k < d->n_steps; k++) {
		size_t from = out->len;
		buf_printf(out, "  %" PRIu32 " %s", k + 1, ast_step_names[d->steps[k].kind]);
		buf_repeat(out, ' ', out->len - from < 16 ? 16 - (out->len - from) : 1);
		buf_puts(out, "operations ");
		status_put_counts(out, counts + (size_t)k * STATUS_N_CLASSES, status_class_names, STATUS_N_CLASSES);
	}
	free(counts);
}

static void status_text_groups(const struct status *s, const struct status_groups *g, struct buf *out)
{
	const struct dag *d = s->d;
	uint64_t wg[STATUS_N_CLASSES] = {0}, vm[STATUS_N_CLASSES] = {0};
	for (uint32_t w = 0; w < d->n_workgroups; w++) {
		wg[g->outcome[w]]++;
		vm[g->outcome[w]] += d->workgroups[w].n_vms;
	}
	buf_puts(out, "workgroups: ");
	status_put_counts(out, wg, status_class_names, STATUS_N_CLASSES);
	uint64_t shown = 0, listed = 0;
	for (uint32_t w = 0; w < d->n_workgroups; w++) {
		if (g->outcome[w] == STATUS_DONE && !s->all)
			continue;
		listed++;
		if (!s->all && shown >= STATUS_LIST_MAX)
			continue;
		shown++;
		buf_printf(out, "  w%" PRIu32 " (%" PRIu32 " VM%s): %s", w + 1, d->workgroups[w].n_vms,
		           d->workgroups[w].n_vms == 1 ? "" : "s", status_class_names[g->outcome[w]]);
		if (g->decider[w] != DAG_NONE) {
			buf_puts(out, g->outcome[w] == STATUS_DONE ? " after " : " at ");
			status_put_op(s, out, g->decider[w]);
			const struct status_event *e = status_op_event(s, g->decider[w]);
			if (e && e->message && g->outcome[w] != STATUS_DONE) {
				buf_puts(out, ": ");
				status_put_safe(out, status_message(s, e->message));
			}
		}
		buf_putc(out, '\n');
	}
	status_put_more(out, shown, listed);

	buf_puts(out, "VMs: ");
	status_put_counts(out, vm, status_class_names, STATUS_N_CLASSES);
	shown = listed = 0;
	for (uint32_t i = 0; i < d->n_vms; i++) {
		uint32_t w = d->vms[i].workgroup;
		if (w >= d->n_workgroups || (g->outcome[w] == STATUS_DONE && !s->all))
			continue;
		listed++;
		if (!s->all && shown >= STATUS_LIST_MAX)
			continue;
		shown++;
		buf_puts(out, "  ");
		status_put_safe(out, d->vms[i].name);
		buf_printf(out, ": %s (w%" PRIu32 ")\n", status_class_names[g->outcome[w]], w + 1);
	}
	status_put_more(out, shown, listed);
}

static void status_text(const struct status *s, const struct status_groups *g, const char *path,
                        const char *plan_name, const char *digest, struct buf *out)
{
	buf_puts(out, "journal ");
	status_put_safe(out, path);
	buf_puts(out, ": plan ");
	status_put_safe(out, plan_name);
	buf_printf(out, " (compiled plan digest %.12s...)\n", digest);
	if (s->n_runs == 0)
		buf_puts(out, "no run has started yet\n");
	for (uint32_t i = 0; i < s->n_runs; i++) {
		const struct status_run *r = &s->runs[i];
		buf_printf(out, "run %" PRIu32 ":", r->run);
		if (r->start_message) {
			buf_puts(out, " ");
			status_put_safe(out, status_message(s, r->start_message));
		}
		if (r->ended) {
			buf_puts(out, "; ended at ");
			status_put_clock(out, r->end_ms);
			if (r->end_message) {
				buf_puts(out, ": ");
				status_put_safe(out, status_message(s, r->end_message));
			}
		} else
			buf_puts(out, i + 1 == s->n_runs ? "; not finished" : "; interrupted");
		buf_putc(out, '\n');
	}
	buf_puts(out, "records: ");
	status_put_counts(out, s->by_state, journal_state_names, JOURNAL_N_STATES);
	buf_puts(out, s->d ? "operations: " : "operations recorded: ");
	status_put_counts(out, s->by_class, status_class_names, STATUS_N_CLASSES);
	static const enum status_class lists[] = {STATUS_FAILED, STATUS_IGNORED, STATUS_RUNNING, STATUS_SKIPPED};
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
		status_text_ops(s, out, lists[i]);
	if (s->n_vm_done) {
		buf_printf(out, "VMs reconciled after a fault (found done, not redone): %" PRIu32 "\n", s->n_vm_done);
		for (uint32_t i = 0; i < s->n_vm_done && (s->all || i < STATUS_LIST_MAX); i++)
			status_put_event(s, out, &s->vm_done[i]);
		status_put_more(out, s->all || s->n_vm_done < STATUS_LIST_MAX ? s->n_vm_done : STATUS_LIST_MAX, s->n_vm_done);
	}
	if (s->d) {
		status_text_steps(s, out);
		status_text_groups(s, g, out);
	}
	switch (status_exit(s)) {
	case EXIT_OK: buf_puts(out, "status: finished, nothing failed\n"); break;
	case EXIT_INVALID:
		buf_printf(out, "status: finished, %" PRIu32 " operation%s failed\n", s->n_failed,
		           s->n_failed == 1 ? "" : "s");
		break;
	default:
		buf_puts(out, "status: not finished (running, or interrupted: 'drplan run --resume' continues it)\n");
		break;
	}
}

/* ---- JSON */

static void status_json_str(struct buf *out, const char *key, const char *value)
{
	buf_printf(out, "\"%s\":", key);
	buf_json_string(out, value, strlen(value));
}

static void status_json_counts(struct buf *out, const char *key, const uint64_t *counts,
                               const char *const *names, int n)
{
	buf_printf(out, "\"%s\":{", key);
	uint64_t total = 0;
	for (int i = 0; i < n; i++) {
		buf_printf(out, "\"%s\":%" PRIu64 ",", names[i], counts[i]);
		total += counts[i];
	}
	buf_printf(out, "\"total\":%" PRIu64 "}", total);
}

static void status_json_op(const struct status *s, struct buf *out, uint32_t op)
{
	buf_printf(out, "\"op\":%" PRIu32, op);
	if (s->d) {
		struct buf id = BUF_INIT;
		dag_op_id(s->d, op, &id);
		buf_puts(out, ",\"id\":");
		buf_json_string(out, id.data, id.len);
		buf_free(&id);
	}
}

static void status_json_event(const struct status *s, struct buf *out, const struct status_event *e)
{
	buf_putc(out, '{');
	status_json_op(s, out, e->op);
	buf_printf(out, ",\"class\":\"%s\",\"state\":\"%s\",\"attempt\":%" PRIu32 ",\"run\":%" PRIu32
	                ",\"time_ms\":%" PRId64 ",",
	           status_class_names[status_class_of(e->state)], journal_state_names[e->state], e->attempt, e->run,
	           e->time_ms);
	status_json_str(out, "message", status_message(s, e->message));
	buf_putc(out, '}');
}

static void status_json(const struct status *s, const struct status_groups *g, const char *path,
                        const char *plan_name, const char *digest, struct buf *out)
{
	const struct dag *d = s->d;
	buf_putc(out, '{');
	status_json_str(out, "journal", path);
	buf_putc(out, ',');
	status_json_str(out, "plan", plan_name);
	buf_putc(out, ',');
	status_json_str(out, "plan_digest", digest);
	int code = status_exit(s);
	buf_printf(out, ",\"finished\":%s,\"exit\":%d,\"runs\":[", code == EXIT_UNFINISHED ? "false" : "true", code);
	for (uint32_t i = 0; i < s->n_runs; i++) {
		const struct status_run *r = &s->runs[i];
		buf_printf(out, "%s{\"run\":%" PRIu32 ",\"started_ms\":%" PRId64 ",", i ? "," : "", r->run, r->start_ms);
		status_json_str(out, "start", status_message(s, r->start_message));
		buf_printf(out, ",\"ended\":%s", r->ended ? "true" : "false");
		if (r->ended) {
			buf_printf(out, ",\"ended_ms\":%" PRId64 ",", r->end_ms);
			status_json_str(out, "end", status_message(s, r->end_message));
		}
		buf_putc(out, '}');
	}
	buf_puts(out, "],");
	status_json_counts(out, "records", s->by_state, journal_state_names, JOURNAL_N_STATES);
	buf_putc(out, ',');
	status_json_counts(out, "operations", s->by_class, status_class_names, STATUS_N_CLASSES);
	buf_puts(out, ",\"failures\":[");
	bool first = true;
	for (uint32_t i = 0; i < s->n_events; i++)
		if (status_class_of(s->events[i].state) == STATUS_FAILED) {
			if (!first)
				buf_putc(out, ',');
			first = false;
			status_json_event(s, out, &s->events[i]);
		}
	buf_puts(out, "],\"reconciled_vms\":[");
	for (uint32_t i = 0; i < s->n_vm_done; i++) {
		if (i)
			buf_putc(out, ',');
		status_json_event(s, out, &s->vm_done[i]);
	}
	/* Every operation with a record, by index (the others are pending). */
	buf_puts(out, "],\"ops\":[");
	for (uint32_t i = 0; i < s->n_events; i++) {
		if (i)
			buf_putc(out, ',');
		status_json_event(s, out, &s->events[i]);
	}
	buf_putc(out, ']');
	if (d) {
		buf_puts(out, ",\"steps\":[");
		uint64_t *counts = xcalloc((size_t)d->n_steps * STATUS_N_CLASSES + 1, sizeof *counts);
		for (uint32_t i = 0; i < d->n_ops; i++)
			if (d->ops[i].step < d->n_steps)
				counts[(size_t)d->ops[i].step * STATUS_N_CLASSES + status_op_class(s, i)]++;
		for (uint32_t k = 0; k < d->n_steps; k++) {
			buf_printf(out, "%s{\"step\":%" PRIu32 ",\"kind\":\"%s\",", k ? "," : "", k + 1,
			           ast_step_names[d->steps[k].kind]);
			status_json_counts(out, "operations", counts + (size_t)k * STATUS_N_CLASSES, status_class_names,
			                   STATUS_N_CLASSES);
			buf_putc(out, '}');
		}
		free(counts);
		buf_puts(out, "],\"workgroups\":[");
		for (uint32_t w = 0; w < d->n_workgroups; w++) {
			buf_printf(out, "%s{\"workgroup\":\"w%" PRIu32 "\",\"vms\":%" PRIu32 ",\"state\":\"%s\"", w ? "," : "",
			           w + 1, d->workgroups[w].n_vms, status_class_names[g->outcome[w]]);
			if (g->decider[w] != DAG_NONE) {
				buf_putc(out, ',');
				status_json_op(s, out, g->decider[w]);
				const struct status_event *e = status_op_event(s, g->decider[w]);
				buf_putc(out, ',');
				status_json_str(out, "message", e ? status_message(s, e->message) : "");
			}
			buf_putc(out, '}');
		}
		buf_puts(out, "],\"vms\":[");
		for (uint32_t i = 0; i < d->n_vms; i++) {
			uint32_t w = d->vms[i].workgroup;
			buf_puts(out, i ? ",{" : "{");
			status_json_str(out, "name", d->vms[i].name);
			buf_printf(out, ",\"workgroup\":\"w%" PRIu32 "\",\"state\":\"%s\"}", w + 1,
			           w < d->n_workgroups ? status_class_names[g->outcome[w]] : "pending");
		}
		buf_putc(out, ']');
	}
	buf_puts(out, "}\n");
}

/* ---- The command */

static void status_free(struct status *s)
{
	free(s->events);
	free(s->vm_done);
	free(s->runs);
	free(s->last);
	buf_free(&s->messages);
}

static void status_usage(FILE *out)
{
	fprintf(out,
	        "usage: drplan status [OPTIONS] JOURNAL\n"
	        "\n"
	        "Summarises a run from its journal, while it runs or after it ended: its runs (the\n"
	        "first and every --resume), the operations by state, every failure with its reason\n"
	        "and, with the compiled plan, every step, workgroup and VM.\n"
	        "\n"
	        "Options:\n"
	        "  --compiled FILE  the plan that ran (a compiled plan, or a plan file, compiled\n"
	        "                   first): adds steps, workgroups and VMs by name\n"
	        "  --plan NAME      with a plan file that declares several plans: which one\n"
	        "  --root DIR       with a plan file: includes must stay inside DIR\n"
	        "  --json           one JSON object on standard output\n"
	        "  --all            list every operation, workgroup and VM (text lists stop at %d)\n"
	        "  -h, --help       this help\n"
	        "\n"
	        "Exit codes: 0 the run finished and nothing failed, 1 it finished with failures,\n"
	        "2 usage error or unreadable journal, 3 the run has not finished.\n",
	        STATUS_LIST_MAX);
}

static void status_warn(void *ctx, const char *message)
{
	(void)ctx;
	struct buf safe = BUF_INIT;
	status_put_safe(&safe, message);
	fprintf(stderr, "drplan status: warning: %s\n", safe.data);
	buf_free(&safe);
}

/* Reads the journal at path (against plan d, named `compiled`, or NULL) and prints the report. */
static int status_report(const char *path, const struct dag *d, const char *compiled, bool json, bool all)
{
	struct status s;
	memset(&s, 0, sizeof s);
	s.d = d;
	s.all = all;
	char digest[65], plan_name[JOURNAL_MAX_PLAN_NAME + 1], err[512];
	if (!journal_read_ex(path, JOURNAL_READ_LIVE, digest, plan_name, status_each, status_warn, &s, err,
	                     sizeof err)) {
		struct buf safe = BUF_INIT;
		status_put_safe(&safe, err);
		fprintf(stderr, "drplan status: %s\n", safe.data);
		buf_free(&safe);
		status_free(&s);
		return EXIT_USAGE;
	}
	if (d) {
		char want[65];
		journal_plan_digest(d, want);
		if (strcmp(want, digest) != 0) {
			fprintf(stderr, "drplan status: %s is the journal of another plan (digest %.12s...) than %s (digest "
			                "%.12s...)\n", path, digest, compiled, want);
			status_free(&s);
			return EXIT_USAGE;
		}
	}
	if (s.bad_ops)
		fprintf(stderr, "drplan status: warning: %" PRIu32 " record%s name operations that %s does not have\n",
		        s.bad_ops, s.bad_ops == 1 ? "" : "s", compiled);
	status_settle(&s);
	struct status_groups g;
	memset(&g, 0, sizeof g);
	if (d)
		status_groups_build(&s, &g);
	struct buf out = BUF_INIT;
	if (json)
		status_json(&s, &g, path, plan_name, digest, &out);
	else
		status_text(&s, &g, path, plan_name, digest, &out);
	int code = status_exit(&s);
	if (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0) {
		fprintf(stderr, "drplan status: cannot write to standard output\n");
		code = EXIT_USAGE;
	}
	buf_free(&out);
	if (d)
		status_groups_free(&g);
	status_free(&s);
	return code;
}

int cmd_status(int argc, char **argv)
{
	static const struct option options[] = {
		{"compiled", required_argument, NULL, 'C'},
		{"plan", required_argument, NULL, 'p'},
		{"root", required_argument, NULL, 'r'},
		{"json", no_argument, NULL, 'j'},
		{"all", no_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_plan_options load = {0};
	const char *compiled = NULL;
	bool json = false, all = false;
	optind = 1;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'C': compiled = optarg; break;
		case 'p': load.plan = optarg; break;
		case 'r': load.root = optarg; break;
		case 'j': json = true; break;
		case 'a': all = true; break;
		case 'h': status_usage(stdout); return EXIT_OK;
		default:
			if (optopt && strchr("Cpr", optopt))
				return cli_usage_error("status", "option '%s' needs a value", argv[optind - 1]);
			return cli_usage_error("status", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error("status", "no journal given");
	if (optind + 1 < argc)
		return cli_usage_error("status", "one journal at a time (got '%s' and '%s')", argv[optind],
		                       argv[optind + 1]);
	const char *path = argv[optind];
	if (!compiled)
		return status_report(path, NULL, NULL, json, all);
	struct cli_plan p;
	int status = cli_plan_load(&p, compiled, &load);
	struct cli_report report;
	cli_report_init(&report);
	cli_print_diags(&p.diags, &p.sources, &report);
	/* Exit 1 means a failed run here: a plan that does not load is unreadable input. */
	status = status == EXIT_OK ? status_report(path, &p.dag, compiled, json, all) : EXIT_USAGE;
	cli_plan_free(&p);
	return status;
}
