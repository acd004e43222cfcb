/* plan.c: `drplan plan FILE|COMPILED`: what a plan will do, as a reviewer reads it: its steps and
 * their operations, the workgroups, the critical path and the predicted RTO under the plan's limits,
 * checked against its `rto` (DRP049). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../compiler/estimate.h"
#include "../compiler/limits.h"
#include "../lib/alloc.h"
#include "../lib/buf.h"
#include "../lib/utf8.h"
#include "cli.h"

/* Beyond these, a section is summarised unless --all is given. */
#define PLAN_MAX_WORKGROUPS 50
#define PLAN_MAX_PATH 40
#define PLAN_MAX_NAMES 8  /* targets named per step */
#define PLAN_MAX_VM_NAMES 3
#define PLAN_MAX_TEXT 60  /* bytes of a prompt or script shown */

#define ANSI_BOLD "\033[1m"
#define ANSI_RESET "\033[0m"
#define ANSI_GREEN "\033[32m"
#define ANSI_YELLOW "\033[33m"

struct view {
	const struct dag *d;
	struct estimate *e;
	struct buf *out;
	bool all;
	bool color;
	bool long_clock;           /* times as h:mm:ss (the run takes an hour or more), else mm:ss */
};

static void plan_usage(FILE *out)
{
	fprintf(out,
	        "usage: drplan plan [OPTIONS] FILE|COMPILED\n"
	        "\n"
	        "Shows what a plan will do: its steps and their operations, the workgroups, the\n"
	        "critical path and the predicted RTO under the plan's limits, checked against its\n"
	        "'rto' (a warning, DRP049, when the prediction exceeds it). FILE is a plan, compiled\n"
	        "on the fly, or a compiled plan written by 'drplan compile'.\n"
	        "\n"
	        "Options:\n"
	        "  --latency FILE   a latency profile (YAML) instead of the built-in model\n"
	        "  --plan NAME      the plan to show, when FILE declares several\n"
	        "  --all            list every workgroup and every operation of the critical path\n"
	        "  --root DIR       includes must stay inside DIR (default: the current directory)\n"
	        "  --format FORMAT  diagnostics as text (default), json, sarif or github; with a\n"
	        "                   machine format the summary goes to standard error\n"
	        "  --color WHEN     auto (default), always or never; the summary is coloured only\n"
	        "                   with always\n"
	        "  -h, --help       this help\n"
	        "\n"
	        "Exit codes: 0 shown (even over the RTO), 1 invalid plan, 2 usage error or\n"
	        "unreadable file.\n");
}

/* ---- Text helpers */

/* s as a terminal may show it: control characters, invalid UTF-8, C1 controls and bidirectional
 * overrides become '?', so nothing from a plan reaches the terminal raw; cut at max bytes. */
static void put_safe(struct buf *out, const char *s, size_t max)
{
	size_t len = strlen(s), i = 0;
	while (i < len) {
		if (i >= max) {
			buf_puts(out, "...");
			return;
		}
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80) {
			buf_putc(out, c < 0x20 || c == 0x7f ? '?' : (char)c);
			i++;
			continue;
		}
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);
		bool hidden = n == 0 || (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x2028 && cp <= 0x202e) ||
		              (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
		if (hidden)
			buf_putc(out, '?');
		else
			buf_append(out, s + i, n);
		i += n ? n : 1;
	}
}

/* A duration as the plan language writes it: 1h30m, 45s, 250ms, 0s. */
static void put_duration(struct buf *out, int64_t ms)
{
	static const struct { const char *unit; int64_t ms; } units[] = {
		{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1},
	};
	if (ms <= 0) {
		buf_puts(out, "0s");
		return;
	}
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (ms >= units[i].ms) {
			buf_printf(out, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
			ms %= units[i].ms;
		}
}

/* A time since the start of the run: mm:ss, or h:mm:ss for runs of an hour or more. */
static void put_clock(const struct view *v, int64_t ms)
{
	long long s = (long long)(ms / 1000);
	if (v->long_clock)
		buf_printf(v->out, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
	else
		buf_printf(v->out, "%02lld:%02lld", s / 60, s % 60);
}

static void put_color(const struct view *v, const char *code)
{
	if (v->color)
		buf_puts(v->out, code);
}

static void heading(const struct view *v, const char *title)
{
	buf_putc(v->out, '\n');
	put_color(v, ANSI_BOLD);
	buf_puts(v->out, title);
	put_color(v, ANSI_RESET);
	buf_putc(v->out, '\n');
}

/* Pads the line being written (from byte `from`) to `width` display columns. */
static void pad_to(struct buf *out, size_t from, size_t width)
{
	size_t cols = utf8_count(out->data + from, out->len - from);
	buf_repeat(out, ' ', cols + 2 <= width ? width - cols : 2);
}

static const char *site_name(const struct dag *d, uint32_t site)
{
	return site < d->n_sites ? d->sites[site].name : "?";
}

static const char *priority_text(int32_t priority, char *tmp, size_t size)
{
	if (priority == DAG_NO_PRIORITY)
		return "-";
	snprintf(tmp, size, "%d", (int)priority);
	return tmp;
}

/* ---- Header */

static void show_header(const struct view *v)
{
	const struct dag *d = v->d;
	struct buf *out = v->out;
	put_color(v, ANSI_BOLD);
	buf_puts(out, "plan ");
	put_safe(out, d->name ? d->name : "?", 200);
	put_color(v, ANSI_RESET);
	buf_printf(out, ": %s, ", ast_mode_names[d->mode]);
	put_safe(out, site_name(d, d->from), 100);
	buf_puts(out, " -> ");
	put_safe(out, site_name(d, d->to), 100);
	buf_putc(out, '\n');
	buf_printf(out, "  %u VM%s in %u workgroup%s", d->n_vms, d->n_vms == 1 ? "" : "s", d->n_workgroups,
	           d->n_workgroups == 1 ? "" : "s");
	if (d->workgroup_size)
		buf_printf(out, " (at most %u VMs each)", d->workgroup_size);
	buf_printf(out, ", %u operation%s, %u edge%s\n", d->n_ops, d->n_ops == 1 ? "" : "s", d->n_edges,
	           d->n_edges == 1 ? "" : "s");
	buf_puts(out, "  limits: ");
	if (d->n_limits == 0)
		buf_puts(out, "none");
	for (uint32_t i = 0; i < d->n_limits; i++) {
		const struct dag_limit *l = &d->limits[i];
		buf_printf(out, "%s%s %u", i ? ", " : "", l->kind == DAG_LIMIT_ALL ? "all" : dag_op_kind_names[l->kind],
		           l->count);
		if (l->scope != DAG_SCOPE_PLAN)
			buf_printf(out, " per %s", dag_scope_names[l->scope]);
	}
	buf_puts(out, "\n  rto: ");
	if (d->rto_ms > 0)
		put_duration(out, d->rto_ms);
	else
		buf_puts(out, "none");
	buf_putc(out, '\n');
}

/* ---- Steps */

/* The step as the plan writes it: `shutdown vms at east`, `run "x.sh" per workgroup`. */
static void put_step(const struct dag *d, const struct dag_step *s, struct buf *out)
{
	switch (s->kind) {
	case AST_STEP_SYNC: buf_puts(out, "sync storage"); break;
	case AST_STEP_FAILOVER: buf_puts(out, "failover storage"); break;
	case AST_STEP_REVERSE: buf_puts(out, "reverse storage"); break;
	case AST_STEP_MIGRATE: buf_puts(out, "migrate live"); break;
	case AST_STEP_SHUTDOWN:
	case AST_STEP_REGISTER:
	case AST_STEP_UNREGISTER:
		buf_printf(out, "%s vms", ast_step_names[s->kind]);
		if (s->site != DAG_NONE) {
			buf_puts(out, " at ");
			put_safe(out, site_name(d, s->site), 100);
		}
		break;
	case AST_STEP_PREFER:
		buf_puts(out, "prefer ");
		put_safe(out, site_name(d, s->site), 100);
		break;
	case AST_STEP_POWER_ON: buf_puts(out, s->by_priority ? "power-on vms by priority" : "power-on vms"); break;
	case AST_STEP_RUN:
	case AST_STEP_PROMPT:
		buf_printf(out, "%s \"", ast_step_names[s->kind]);
		put_safe(out, s->text ? s->text : "", PLAN_MAX_TEXT);
		buf_putc(out, '"');
		if (s->kind == AST_STEP_RUN && s->per_workgroup)
			buf_puts(out, " per workgroup");
		break;
	case AST_STEP_WAIT:
		buf_puts(out, "wait ");
		put_duration(out, s->wait_ms);
		break;
	case AST_STEP_DISCARD: buf_puts(out, "discard snapshots"); break;
	}
}

static void put_step_options(const struct dag_step *s, struct buf *out)
{
	const char *sep = "";
	if (s->timeout_ms > 0) {
		buf_puts(out, "timeout ");
		put_duration(out, s->timeout_ms);
		sep = ", ";
	}
	if (s->retries > 0) {
		buf_printf(out, "%sretry %u", sep, s->retries);
		sep = ", ";
		if (s->backoff_ms > 0) {
			buf_printf(out, "%sbackoff ", sep);
			put_duration(out, s->backoff_ms);
		}
	}
}

/* Workgroups as ranges: "w1-w6 w9", at most `max` ranges, then "...". ws ascending. */
static void put_workgroup_ranges(struct buf *out, const uint32_t *ws, uint32_t n, uint32_t max)
{
	uint32_t shown = 0;
	for (uint32_t i = 0; i < n;) {
		uint32_t j = i;
		while (j + 1 < n && ws[j + 1] == ws[j] + 1)
			j++;
		if (shown++ == max) {
			buf_puts(out, " ...");
			return;
		}
		buf_printf(out, "%sw%u", i ? " " : "", ws[i] + 1);
		if (j == i + 1)
			buf_printf(out, " w%u", ws[j] + 1);
		else if (j > i)
			buf_printf(out, "-w%u", ws[j] + 1);
		i = j + 1;
	}
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static void show_steps(const struct view *v)
{
	const struct dag *d = v->d;
	struct buf *out = v->out;
	heading(v, "steps");
	/* The operations of each step, by step: a counting sort. */
	uint32_t *first = xcalloc((size_t)d->n_steps + 2, sizeof *first);
	for (uint32_t i = 0; i < d->n_ops; i++)
		if (d->ops[i].step < d->n_steps)
			first[d->ops[i].step + 2]++;
	for (uint32_t s = 0; s < d->n_steps; s++)
		first[s + 2] += first[s + 1];
	uint32_t *ops = xmalloc(((size_t)d->n_ops + 1) * sizeof *ops);
	for (uint32_t i = 0; i < d->n_ops; i++)
		if (d->ops[i].step < d->n_steps)
			ops[first[d->ops[i].step + 1]++] = i;
	uint32_t *ws = xmalloc(((size_t)d->n_ops + 1) * sizeof *ws);
	/* The line column is as wide as the largest line number. */
	uint32_t max_line = 0;
	for (uint32_t s = 0; s < d->n_steps; s++)
		max_line = d->steps[s].line > max_line ? d->steps[s].line : max_line;
	char tmp[32];
	size_t line_width = (size_t)snprintf(tmp, sizeof tmp, "line %u", max_line);
	/* Options line up after the longest step text, within reason. */
	size_t text_width = 0;
	struct buf text = BUF_INIT;
	for (uint32_t s = 0; s < d->n_steps; s++) {
		buf_clear(&text);
		put_step(d, &d->steps[s], &text);
		size_t cols = utf8_count(text.data, text.len);
		text_width = cols > text_width && cols <= 40 ? cols : text_width;
	}
	buf_free(&text);
	for (uint32_t s = 0; s < d->n_steps; s++) {
		const struct dag_step *st = &d->steps[s];
		size_t line = out->len;
		buf_printf(out, "  %2u  ", s + 1);
		if (st->line)
			buf_printf(out, "line %u", st->line);
		else
			buf_puts(out, "-");
		pad_to(out, line, 6 + line_width + 2);
		put_step(d, st, out);
		if (st->timeout_ms > 0 || st->retries > 0) {
			pad_to(out, line, 6 + line_width + 2 + text_width + 2);
			put_step_options(st, out);
		}
		if (st->inserted) {
			pad_to(out, line, 6 + line_width + 2 + text_width + 2);
			buf_puts(out, "(inserted by the compiler)");
		}
		buf_putc(out, '\n');

		/* Operations by kind, then what they act on. */
		uint32_t count[DAG_N_OP_KINDS] = {0}, n_ws = 0;
		for (uint32_t k = first[s]; k < first[s + 1]; k++) {
			const struct dag_op *op = &d->ops[ops[k]];
			if (op->kind < DAG_N_OP_KINDS)
				count[op->kind]++;
			if (op->target_kind == DAG_TARGET_WORKGROUP)
				ws[n_ws++] = op->target;
		}
		buf_repeat(out, ' ', 6 + line_width + 2 + 2);
		const char *sep = "";
		for (unsigned k = 0; k < DAG_N_OP_KINDS; k++)
			if (count[k]) {
				buf_printf(out, "%s%u %s", sep, count[k], dag_op_kind_names[k]);
				sep = ", ";
			}
		if (first[s] == first[s + 1])
			buf_puts(out, "no operations: nothing in the plan to apply it to");
		if (n_ws > 0) {
			qsort(ws, n_ws, sizeof *ws, u32_cmp);
			uint32_t n = 0;
			for (uint32_t i = 0; i < n_ws; i++)
				if (n == 0 || ws[n - 1] != ws[i])
					ws[n++] = ws[i];
			buf_printf(out, "  on %u workgroup%s: ", n, n == 1 ? "" : "s");
			put_workgroup_ranges(out, ws, n, 6);
		}
		uint32_t named = 0;
		for (uint32_t k = first[s]; k < first[s + 1]; k++) {
			const struct dag_op *op = &d->ops[ops[k]];
			const char *name = op->target_kind == DAG_TARGET_DEVICE && op->target < d->n_devices
			                       ? d->devices[op->target].name
			                   : op->target_kind == DAG_TARGET_GROUP && op->target < d->n_groups
			                       ? d->groups[op->target].name
			                       : NULL;
			if (!name)
				continue;
			if (named < PLAN_MAX_NAMES) {
				buf_puts(out, named ? " " : "  on ");
				put_safe(out, name, 100);
			} else if (named == PLAN_MAX_NAMES) {
				buf_puts(out, " ...");
			}
			named++;
		}
		if (named > PLAN_MAX_NAMES)
			buf_printf(out, " (%u in all)", named);
		buf_putc(out, '\n');
	}
	free(ws);
	free(ops);
	free(first);
}

/* ---- Workgroups */

/* "placed on esx-w01 esx-w02": the distinct recovery hosts of a workgroup's VMs, in the VMs' order (at
 * most PLAN_MAX_VM_NAMES), indented to `column`; nothing when the plan placed none of them. */
static void show_recovery_hosts(const struct view *v, const struct dag_workgroup *wg, size_t column)
{
	const struct dag *d = v->d;
	struct buf *out = v->out;
	uint32_t shown[PLAN_MAX_VM_NAMES], n_shown = 0;
	bool more = false;
	for (uint32_t i = 0; i < wg->n_vms && wg->first_vm + i < d->n_vms; i++) {
		uint32_t h = dag_vm_to_host(d, wg->first_vm + i);
		if (h >= d->n_hosts)
			continue;
		bool seen = false;
		for (uint32_t k = 0; k < n_shown && !seen; k++)
			seen = shown[k] == h;
		if (seen)
			continue;
		if (n_shown == PLAN_MAX_VM_NAMES) {
			more = true;
			break;
		}
		shown[n_shown++] = h;
	}
	if (n_shown == 0)
		return;
	size_t line = out->len;
	pad_to(out, line, column);
	buf_puts(out, "placed on");
	for (uint32_t k = 0; k < n_shown; k++) {
		buf_putc(out, ' ');
		put_safe(out, d->hosts[shown[k]].name, 60);
	}
	buf_puts(out, more ? " ...\n" : "\n");
}

static void show_workgroups(const struct view *v)
{
	const struct dag *d = v->d;
	struct buf *out = v->out;
	char title[64];
	snprintf(title, sizeof title, "workgroups (%u)", d->n_workgroups);
	heading(v, title);
	if (d->n_workgroups == 0) {
		buf_puts(out, "  none\n");
		return;
	}
	uint32_t n = d->n_workgroups;
	if (!v->all && n > PLAN_MAX_WORKGROUPS)
		n = PLAN_MAX_WORKGROUPS;
	/* The devices column is as wide as its widest entry, up to a point. */
	size_t dev_width = strlen("devices");
	struct buf cell = BUF_INIT;
	for (uint32_t w = 0; w < n; w++) {
		buf_clear(&cell);
		const struct dag_workgroup *wg = &d->workgroups[w];
		for (uint32_t i = 0; i < wg->n_devices && i < 3; i++) {
			buf_puts(&cell, i ? " " : "");
			put_safe(&cell, wg->devices[i] < d->n_devices ? d->devices[wg->devices[i]].name : "?", 40);
		}
		size_t cols = cell.len ? utf8_count(cell.data, cell.len) : 0;
		if (wg->n_devices > 3)
			cols += 8;
		dev_width = cols > dev_width ? cols : dev_width;
	}
	buf_printf(out, "  %-7s %-8s %-8s %5s  ", "id", "priority", "moves", "VMs");
	size_t line = out->len;
	buf_puts(out, "devices");
	pad_to(out, line, dev_width + 2);
	buf_puts(out, "names\n");
	for (uint32_t w = 0; w < n; w++) {
		const struct dag_workgroup *wg = &d->workgroups[w];
		char id[16], prio[16];
		snprintf(id, sizeof id, "w%u", w + 1);
		buf_printf(out, "  %-7s %-8s %-8s %5u  ", id, priority_text(wg->priority, prio, sizeof prio),
		           wg->live ? "live" : "failover", wg->n_vms);
		line = out->len;
		for (uint32_t i = 0; i < wg->n_devices && i < 3; i++) {
			buf_puts(out, i ? " " : "");
			put_safe(out, wg->devices[i] < d->n_devices ? d->devices[wg->devices[i]].name : "?", 40);
		}
		if (wg->n_devices > 3)
			buf_printf(out, " +%u more", wg->n_devices - 3);
		if (wg->n_devices == 0)
			buf_puts(out, "-");
		pad_to(out, line, dev_width + 2);
		for (uint32_t i = 0; i < wg->n_vms && i < PLAN_MAX_VM_NAMES; i++) {
			uint32_t vm = wg->first_vm + i;
			buf_puts(out, i ? " " : "");
			put_safe(out, vm < d->n_vms ? d->vms[vm].name : "?", 60);
		}
		if (wg->n_vms > PLAN_MAX_VM_NAMES)
			buf_puts(out, " ...");
		buf_putc(out, '\n');
		/* Under the names: the recovery hosts the plan placed them on. */
		show_recovery_hosts(v, wg, strlen("  id      priority moves      VMs  ") + dev_width + 2);
	}
	if (n < d->n_workgroups)
		buf_printf(out, "  ... and %u more workgroups (--all lists them)\n", d->n_workgroups - n);
	buf_free(&cell);
}

/* ---- Critical path and estimate */

/* Columns of the critical path: start, finish, operation. */
static size_t clock_width(const struct view *v)
{
	return v->long_clock ? 11 : 8;
}

static void show_hop(const struct view *v, const struct estimate_hop *hop)
{
	const struct estimate *e = v->e;
	struct buf *out = v->out;
	size_t line = out->len, w = clock_width(v);
	buf_puts(out, "  ");
	put_clock(v, e->start_ms[hop->op]);
	pad_to(out, line, 2 + w);
	put_clock(v, e->finish_ms[hop->op]);
	pad_to(out, line, 2 + 2 * w);
	struct buf id = BUF_INIT;
	dag_op_id(v->d, hop->op, &id);
	put_safe(out, id.data, 200);
	buf_free(&id);
	uint32_t vms = dag_op_vms(v->d, hop->op);
	if (vms)
		buf_printf(out, " (%u VM%s)", vms, vms == 1 ? "" : "s");
	if (v->d->ops[hop->op].kind == DAG_PROMPT)
		buf_puts(out, ": operator time not included");
	if (hop->waited != LIMITS_NONE) {
		buf_puts(out, ", after waiting ");
		put_duration(out, (e->start_ms[hop->op] - e->ready_ms[hop->op]) / 1000 * 1000);
		buf_puts(out, " for 'limit ");
		struct buf lim = BUF_INIT;
		limits_describe(v->d, e->limits, hop->waited, &lim);
		put_safe(out, lim.data, 200);
		buf_free(&lim);
		buf_putc(out, '\'');
	}
	buf_putc(out, '\n');
}

static void show_path(const struct view *v)
{
	const struct estimate *e = v->e;
	struct buf *out = v->out;
	char title[64];
	snprintf(title, sizeof title, "critical path (%u operation%s)", e->n_path, e->n_path == 1 ? "" : "s");
	heading(v, title);
	if (e->n_path == 0) {
		buf_puts(out, "  none: the plan has no operations\n");
		return;
	}
	size_t line = out->len, w = clock_width(v);
	buf_puts(out, "  start");
	pad_to(out, line, 2 + w);
	buf_puts(out, "finish");
	pad_to(out, line, 2 + 2 * w);
	buf_puts(out, "operation\n");
	uint32_t head = e->n_path, tail = 0;
	if (!v->all && e->n_path > PLAN_MAX_PATH) {
		head = PLAN_MAX_PATH / 2;
		tail = PLAN_MAX_PATH / 2;
	}
	for (uint32_t i = 0; i < head && i < e->n_path; i++)
		show_hop(v, &e->path[i]);
	if (tail) {
		buf_printf(out, "  ... %u more operations (--all lists them)\n", e->n_path - head - tail);
		for (uint32_t i = e->n_path - tail; i < e->n_path; i++)
			show_hop(v, &e->path[i]);
	}
}

/* The limit that holds back the most of the critical path: the one whose queued operations (those
 * on the path that waited for it) take the most of its time. Their waits overlap (they queue side
 * by side), so their durations, not their waits, say how much of the RTO the limit costs.
 * LIMITS_NONE if the path never waits. */
static uint32_t longest_wait(const struct estimate *e, int64_t *total, uint32_t *n_queued)
{
	uint32_t n = limits_n_counters(e->limits), best = LIMITS_NONE;
	int64_t *held = xcalloc((size_t)n + 1, sizeof *held);
	uint32_t *count = xcalloc((size_t)n + 1, sizeof *count);
	*total = 0;
	*n_queued = 0;
	for (uint32_t i = 0; i < e->n_path; i++) {
		const struct estimate_hop *h = &e->path[i];
		if (h->waited == LIMITS_NONE)
			continue;
		held[h->waited] += e->finish_ms[h->op] - e->start_ms[h->op];
		count[h->waited]++;
		if (best == LIMITS_NONE || held[h->waited] > held[best])
			best = h->waited;
	}
	if (best != LIMITS_NONE) {
		*total = held[best];
		*n_queued = count[best];
	}
	free(held);
	free(count);
	return best;
}

/* Where DRP049 points: the plan's `rto` statement, or the start of the compiled plan. */
static struct src_range rto_range(const struct cli_plan *p, const char *path)
{
	if (p->model) {
		for (uint32_t i = 0; i < p->model->n_plans; i++) {
			const struct model_plan *mp = &p->model->plans[i];
			if (!mp->decl || !mp->name || !p->dag.name || strcmp(mp->name, p->dag.name) != 0)
				continue;
			for (const struct ast_stmt *s = mp->decl->u.plan; s; s = s->next)
				if (s->kind == AST_STMT_RTO)
					return s->at;
			return mp->decl->name.at;
		}
	}
	for (uint32_t i = 0; i < p->sources.len; i++)
		if (strcmp(p->sources.files[i]->path, path) == 0)
			return src_range_make(p->sources.files[i]->id, 0, 0);
	return src_range_make(p->sources.len ? p->sources.files[0]->id : SRC_NONE, 0, 0);
}

/* The critical path in a line: its first operations, "...", its last. */
static void path_summary(const struct view *v, struct buf *out)
{
	const struct estimate *e = v->e;
	for (uint32_t i = 0; i < e->n_path; i++) {
		if (e->n_path > 6 && i == 3) {
			buf_printf(out, " -> ... (%u more)", e->n_path - 6);
			i = e->n_path - 3;
		}
		buf_puts(out, i ? " -> " : "");
		struct buf id = BUF_INIT;
		dag_op_id(v->d, e->path[i].op, &id);
		put_safe(out, id.data, 200);
		buf_free(&id);
	}
}

static void show_estimate(const struct view *v, struct cli_plan *p, const char *path)
{
	const struct dag *d = v->d;
	const struct estimate *e = v->e;
	struct buf *out = v->out;
	heading(v, "estimate");
	buf_puts(out, "  predicted RTO  ");
	put_clock(v, e->makespan_ms);
	buf_puts(out, "\n  lower bound    ");
	put_clock(v, e->lower_bound_ms);
	if (e->bound_counter == LIMITS_NONE) {
		buf_puts(out, "  (the longest path)\n");
	} else {
		buf_puts(out, "  (the load on 'limit ");
		struct buf lim = BUF_INIT;
		limits_describe(d, e->limits, e->bound_counter, &lim);
		put_safe(out, lim.data, 200);
		buf_free(&lim);
		buf_puts(out, "')\n");
	}
	if (e->n_prompts)
		buf_printf(out, "  operator time is not included: %u prompt%s counted as taking no time\n", e->n_prompts,
		           e->n_prompts == 1 ? "" : "s");
	if (d->rto_ms <= 0) {
		buf_puts(out, "  no rto in the plan to check against\n");
		return;
	}
	if (e->makespan_ms <= d->rto_ms) {
		put_color(v, ANSI_GREEN);
		buf_puts(out, "  within the RTO of ");
		put_duration(out, d->rto_ms);
		buf_puts(out, " (");
		put_duration(out, (d->rto_ms - e->makespan_ms) / 1000 * 1000);
		buf_puts(out, " spare)");
		put_color(v, ANSI_RESET);
		buf_putc(out, '\n');
		return;
	}
	int64_t over = (e->makespan_ms - d->rto_ms + 999) / 1000 * 1000;
	put_color(v, ANSI_YELLOW);
	buf_puts(out, "  exceeds the RTO of ");
	put_duration(out, d->rto_ms);
	buf_puts(out, " by ");
	put_duration(out, over);
	buf_puts(out, " (DRP049)");
	put_color(v, ANSI_RESET);
	buf_putc(out, '\n');

	struct buf msg = BUF_INIT, rto = BUF_INIT, note = BUF_INIT;
	put_duration(&msg, (e->makespan_ms + 999) / 1000 * 1000);
	put_duration(&rto, d->rto_ms);
	struct diag *g = diag_add(&p->diags, DIAG_WARNING, DRP049, rto_range(p, path),
	                          "the predicted RTO of %s exceeds the plan's rto of %s", msg.data, rto.data);
	buf_clear(&msg);
	put_duration(&msg, over);
	path_summary(v, &note);
	diag_note(g, src_range_make(SRC_NONE, 0, 0), "the critical path (%u operation%s, %s over): %s", e->n_path,
	          e->n_path == 1 ? "" : "s", msg.data, note.data);
	int64_t held;
	uint32_t n_queued;
	uint32_t limit = longest_wait(e, &held, &n_queued);
	if (limit != LIMITS_NONE) {
		buf_clear(&note);
		limits_describe(d, e->limits, limit, &note);
		buf_clear(&msg);
		put_duration(&msg, held / 1000 * 1000);
		diag_hint(g, "%u operation%s of the critical path (%s of it) queued for 'limit %s': raise that limit, or "
		             "agree a longer RTO", n_queued, n_queued == 1 ? "" : "s", msg.data, note.data);
	} else {
		diag_hint(g, "the critical path waits for no limit: shorten the steps on it (smaller workgroups "
		             "run more in parallel), or agree a longer RTO");
	}
	buf_free(&msg);
	buf_free(&rto);
	buf_free(&note);
}

int cmd_plan(int argc, char **argv)
{
	static const struct option options[] = {
		{"latency", required_argument, NULL, 'l'},
		{"plan", required_argument, NULL, 'p'},
		{"root", required_argument, NULL, 'r'},
		{"format", required_argument, NULL, 'f'},
		{"color", required_argument, NULL, 'c'},
		{"all", no_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_report report;
	cli_report_init(&report);
	struct cli_plan_options load = {0};
	bool all = false, color = false;
	optind = 1;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'l': load.latency = optarg; break;
		case 'p': load.plan = optarg; break;
		case 'r': load.root = optarg; break;
		case 'a': all = true; break;
		case 'f':
			if (!cli_parse_format("plan", optarg, &report))
				return EXIT_USAGE;
			break;
		case 'c':
			if (!cli_parse_color("plan", optarg, &report))
				return EXIT_USAGE;
			color = strcmp(optarg, "always") == 0;
			break;
		case 'h': plan_usage(stdout); return EXIT_OK;
		default:
			if (optopt && strchr("lprfc", optopt))
				return cli_usage_error("plan", "option '%s' needs a value", argv[optind - 1]);
			return cli_usage_error("plan", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error("plan", "no plan file given");
	if (optind + 1 < argc)
		return cli_usage_error("plan", "one plan at a time (got '%s' and '%s')", argv[optind], argv[optind + 1]);
	const char *path = argv[optind];

	struct cli_plan p;
	int status = cli_plan_load(&p, path, &load);
	if (status == EXIT_OK) {
		struct estimate e;
		bool complete = estimate_run(&p.dag, &e);
		struct buf out = BUF_INIT;
		struct view v = {&p.dag, &e, &out, all, color, e.makespan_ms >= 3600000};
		show_header(&v);
		show_steps(&v);
		show_workgroups(&v);
		if (complete) {
			show_path(&v);
			show_estimate(&v, &p, path);
		} else {
			/* The verifier and the compiled-plan reader refuse cycles and limits of 0, so this
			 * would be a bug; say so rather than show a wrong estimate. */
			diag_add(&p.diags, DIAG_ERROR, DRP050, rto_range(&p, path),
			         "internal error: some operations can never start (a cycle, or a limit of 0); "
			         "no estimate");
			status = EXIT_INVALID;
		}
		FILE *to = report.format == DIAG_FORMAT_TEXT ? stdout : stderr;
		fwrite(out.data ? out.data : "", 1, out.len, to);
		fflush(to);
		buf_free(&out);
		estimate_free(&e);
	}
	cli_print_diags(&p.diags, &p.sources, &report);
	cli_plan_free(&p);
	return status;
}
