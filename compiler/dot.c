/* dot.c: `drplan graph`: the compiled plan as Graphviz DOT at the step, workgroup or operation level,
 * and the plan-language spellings (names, steps, durations) that the views share. */
#include "dot.h"

#include <stdlib.h>
#include <string.h>

#include "../lib/alloc.h"
#include "../lib/strmap.h"
#include "../lib/utf8.h"

const char *const dot_level_names[] = {"step", "workgroup", "operation", NULL};

/* ---- Spellings shared by the views */

/* Characters that change how text displays without being seen (C1 controls, bidirectional
 * overrides and isolates, marks, BOM): shown as escapes so that a reader sees them. The same set
 * as fmt's, so a name reads the same in `fmt`, `graph` and `diff`. */
static bool is_invisible(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
	       cp == 0x200E || cp == 0x200F || cp == 0x061C || cp == 0xFEFF;
}

/* Appends s[0..len) with control and invisible characters as \u{X} and invalid UTF-8 bytes as
 * U+FFFD; `quote` also escapes '"' and '\\' as a string literal's body needs. */
static void put_clean(struct buf *out, const char *s, size_t len, bool quote)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (quote && (c == '"' || c == '\\')) {
			buf_putc(out, '\\');
			buf_putc(out, (char)c);
		} else if (quote && (c == '\n' || c == '\t' || c == '\r')) {
			buf_puts(out, c == '\n' ? "\\n" : c == '\t' ? "\\t" : "\\r");
		} else if (c < 0x20 || c == 0x7f) {
			buf_printf(out, "\\u{%X}", c);
		} else if (c < 0x80) {
			buf_putc(out, (char)c);
		} else {
			uint32_t cp = 0;
			size_t n = utf8_decode(s + i, len - i, &cp);
			if (n == 0)
				buf_puts(out, "\xEF\xBF\xBD");
			else if (is_invisible(cp))
				buf_printf(out, "\\u{%X}", cp);
			else
				buf_append(out, s + i, n);
			if (n > 1)
				i += n - 1;
		}
	}
}

void dot_string(struct buf *out, const char *s, size_t len)
{
	buf_putc(out, '"');
	put_clean(out, s, len, true);
	buf_putc(out, '"');
}

void dot_name(struct buf *out, const char *name)
{
	if (!name) {
		buf_puts(out, "?");
		return;
	}
	size_t len = strlen(name);
	if (ast_name_is_bare(name, len))
		buf_append(out, name, len);
	else
		dot_string(out, name, len);
}

void dot_duration(struct buf *out, int64_t ms)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}};
	if (ms <= 0) {
		buf_puts(out, ms == 0 ? "0s" : "-");
		if (ms == 0)
			return;
		ms = ms == INT64_MIN ? INT64_MAX : -ms;
	}
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (ms >= units[i].ms) {
			buf_printf(out, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
			ms %= units[i].ms;
		}
}

static void put_site(struct buf *out, const struct dag *d, uint32_t site)
{
	dot_name(out, site < d->n_sites ? d->sites[site].name : NULL);
}

void dot_step_text(struct buf *out, const struct dag *d, uint32_t i, bool options)
{
	const struct dag_step *s = &d->steps[i];
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
			put_site(out, d, s->site);
		}
		break;
	case AST_STEP_PREFER:
		buf_puts(out, "prefer ");
		put_site(out, d, s->site);
		break;
	case AST_STEP_POWER_ON: buf_puts(out, s->by_priority ? "power-on vms by priority" : "power-on vms"); break;
	case AST_STEP_RUN:
	case AST_STEP_PROMPT:
		buf_puts(out, s->kind == AST_STEP_RUN ? "run " : "prompt ");
		dot_string(out, s->text ? s->text : "", s->text ? strlen(s->text) : 0);
		if (s->kind == AST_STEP_RUN && s->per_workgroup)
			buf_puts(out, " per workgroup");
		break;
	case AST_STEP_WAIT:
		buf_puts(out, "wait ");
		dot_duration(out, s->wait_ms);
		break;
	case AST_STEP_DISCARD: buf_puts(out, "discard snapshots"); break;
	default: buf_printf(out, "step kind %d", (int)s->kind); break;
	}
	if (!options)
		return;
	if (s->timeout_ms > 0) {
		buf_puts(out, " timeout ");
		dot_duration(out, s->timeout_ms);
	}
	if (s->retries > 0)
		buf_printf(out, " retry %u", s->retries);
	if (s->retries > 0 && s->backoff_ms > 0) {
		buf_puts(out, " backoff ");
		dot_duration(out, s->backoff_ms);
	}
}

/* ---- DOT syntax */

/* A DOT string: '"' and '\\' escaped, a newline of the label text becomes the centred line break
 * `\n`, and '&' becomes `&amp;` because Graphviz decodes HTML entities in ordinary labels (a name
 * spelled `&lt;` would otherwise show as `<`). The text has been cleaned by put_label. */
static void dot_quote(struct buf *out, const char *s, size_t len)
{
	buf_putc(out, '"');
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '"' || c == '\\') {
			buf_putc(out, '\\');
			buf_putc(out, c);
		} else if (c == '\n') {
			buf_puts(out, "\\n");
		} else if (c == '&') {
			buf_puts(out, "&amp;");
		} else {
			buf_putc(out, c);
		}
	}
	buf_putc(out, '"');
}

/* Label text from plan data, cleaned and cut to at most max code points (0: no limit), with an
 * ellipsis when cut: a prompt's text can be a paragraph. */
static void put_label(struct buf *label, const char *s, size_t max)
{
	struct buf clean = BUF_INIT;
	put_clean(&clean, s ? s : "", s ? strlen(s) : 0, false);
	size_t end = clean.len, count = 0;
	if (max > 0)
		for (size_t i = 0; i < clean.len; count++) {
			if (count == max) {
				end = i;
				break;
			}
			size_t n = utf8_decode(clean.data + i, clean.len - i, NULL);
			i += n ? n : 1;
		}
	buf_append(label, clean.data, end);
	if (end < clean.len)
		buf_puts(label, "\xE2\x80\xA6");
	buf_free(&clean);
}

enum { LABEL_MAX = 60 }; /* code points of plan text in one line of a label */

/* How each kind of edge is drawn; the legend shows the kinds that occur. */
static const char *const edge_styles[DAG_N_EDGE_KINDS] = {
	[DAG_EDGE_STEP] = "color=\"black\"",
	[DAG_EDGE_PREFER] = "color=\"blue\", penwidth=2",
	[DAG_EDGE_STORAGE] = "color=\"darkgreen\"",
	[DAG_EDGE_SYNC] = "color=\"darkorange\"",
	[DAG_EDGE_SHUTDOWN] = "color=\"red\"",
	[DAG_EDGE_PRIORITY] = "color=\"purple\", style=\"dashed\"",
	[DAG_EDGE_AFTER] = "color=\"purple\", penwidth=2",
	[DAG_EDGE_BARRIER] = "color=\"gray50\", style=\"dotted\"",
	[DAG_EDGE_UNREGISTER] = "color=\"brown\"",
};

static const char *edge_style(uint32_t kind)
{
	return kind < DAG_N_EDGE_KINDS ? edge_styles[kind] : "color=\"black\"";
}

static void graph_open(struct buf *out, const struct dag *d, enum dot_level level)
{
	struct buf label = BUF_INIT;
	buf_puts(&label, "plan ");
	put_label(&label, d->name ? d->name : "", LABEL_MAX);
	buf_printf(&label, ": %s", (unsigned)d->mode <= AST_MODE_REPROTECT ? ast_mode_names[d->mode] : "?");
	if (d->from < d->n_sites && d->to < d->n_sites) {
		buf_puts(&label, ", ");
		put_label(&label, d->sites[d->from].name, LABEL_MAX);
		buf_puts(&label, " to ");
		put_label(&label, d->sites[d->to].name, LABEL_MAX);
	}
	buf_printf(&label, "\n%u operations, %u edges, %u workgroups, %u VMs", d->n_ops, d->n_edges,
	           d->n_workgroups, d->n_vms);
	buf_puts(out, "digraph ");
	dot_quote(out, d->name ? d->name : "plan", d->name ? strlen(d->name) : 4);
	buf_printf(out, " {\n  graph [label=");
	dot_quote(out, label.data, label.len);
	buf_printf(out, ", labelloc=\"t\", rankdir=\"LR\", fontname=\"Helvetica\", "
	                "fontsize=12, comment=\"drplan graph --level %s\"];\n",
	           dot_level_names[level]);
	buf_puts(out, "  node [fontname=\"Helvetica\", fontsize=10];\n"
	              "  edge [fontname=\"Helvetica\", fontsize=9];\n");
	buf_free(&label);
}

static void cluster_open(struct buf *out, const struct dag *d, uint32_t step)
{
	struct buf label = BUF_INIT, text = BUF_INIT;
	dot_step_text(&text, d, step, false);
	size_t bare = text.len;
	buf_printf(&label, "%u. ", step + 1);
	put_label(&label, text.data, LABEL_MAX);
	if (d->steps[step].inserted)
		buf_puts(&label, "\n(inserted by drplan)");
	/* The options on a line of their own: the text with options, less the text without. */
	buf_clear(&text);
	dot_step_text(&text, d, step, true);
	if (text.len > bare + 1) {
		buf_putc(&label, '\n');
		put_label(&label, text.data + bare + 1, LABEL_MAX);
	}
	buf_printf(out, "  subgraph \"cluster_s%u\" {\n    graph [label=", step + 1);
	dot_quote(out, label.data, label.len);
	buf_puts(out, ", style=\"rounded\", color=\"gray60\"];\n");
	buf_free(&label);
	buf_free(&text);
}

/* An operation edge between two nodes; write_collapsed_edges merges those of a pair. */
struct node_edge {
	uint32_t from, to, kind;
};

static int node_edge_cmp(const void *a, const void *b)
{
	const struct node_edge *x = a, *y = b;
	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	if (x->to != y->to)
		return x->to < y->to ? -1 : 1;
	return (x->kind > y->kind) - (x->kind < y->kind);
}

/* Writes the edges of d between the nodes node_of[] assigns, collapsed, skipping those inside a
 * node. Styled by kind when all the edges of a pair have the same kind (`styled`), labelled with
 * their number when there is more than one (or always, `always_count`). Returns a bit set of the
 * kinds drawn. */
static unsigned write_collapsed_edges(struct buf *out, const struct dag *d, const uint32_t *node_of,
                                      const char *prefix, bool styled, bool always_count)
{
	struct node_edge *e = xmalloc(((size_t)d->n_edges + 1) * sizeof *e);
	size_t n = 0;
	for (uint32_t i = 0; i < d->n_edges; i++) {
		uint32_t a = node_of[d->edges[i].from], b = node_of[d->edges[i].to];
		if (a != b)
			e[n++] = (struct node_edge){a, b, d->edges[i].kind};
	}
	qsort(e, n, sizeof *e, node_edge_cmp);
	unsigned kinds = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && e[j].from == e[i].from && e[j].to == e[i].to)
			j++;
		bool uniform = e[i].kind == e[j - 1].kind;
		buf_printf(out, "  %s%u -> %s%u", prefix, e[i].from + 1, prefix, e[i].to + 1);
		const char *sep = " [";
		if (styled && uniform) {
			buf_printf(out, "%s%s", sep, edge_style(e[i].kind));
			sep = ", ";
			if (e[i].kind < DAG_N_EDGE_KINDS)
				kinds |= 1u << e[i].kind;
		}
		if (always_count || j - i > 1) {
			buf_printf(out, "%slabel=\"%zu\"", sep, j - i);
			sep = ", ";
		}
		buf_puts(out, *sep == ',' ? "];\n" : ";\n");
		i = j;
	}
	free(e);
	return kinds;
}

static void write_legend(struct buf *out, unsigned kinds)
{
	if (!kinds)
		return;
	buf_puts(out, "  subgraph \"cluster_legend\" {\n"
	              "    graph [label=\"edges\", style=\"rounded\", color=\"gray80\"];\n"
	              "    node [shape=\"point\", width=0.05];\n");
	for (unsigned k = 0; k < DAG_N_EDGE_KINDS; k++)
		if (kinds & (1u << k))
			buf_printf(out, "    legend%ua -> legend%ub [label=\"%s\", %s];\n", k, k,
			           dag_edge_kind_names[k], edge_style(k));
	buf_puts(out, "  }\n");
}

/* ---- Step level */

static void write_steps(struct buf *out, const struct dag *d)
{
	uint32_t *ops = xcalloc((size_t)d->n_steps + 1, sizeof *ops);
	uint64_t *vms = xcalloc((size_t)d->n_steps + 1, sizeof *vms);
	uint32_t *node_of = xmalloc(((size_t)d->n_ops + 1) * sizeof *node_of);
	for (uint32_t i = 0; i < d->n_ops; i++) {
		uint32_t s = d->ops[i].step < d->n_steps ? d->ops[i].step : d->n_steps;
		node_of[i] = s;
		ops[s]++;
		vms[s] += dag_op_vms(d, i);
	}
	struct buf label = BUF_INIT, text = BUF_INIT;
	for (uint32_t s = 0; s < d->n_steps; s++) {
		buf_clear(&label);
		buf_clear(&text);
		dot_step_text(&text, d, s, false);
		buf_printf(&label, "%u. ", s + 1);
		put_label(&label, text.data, LABEL_MAX);
		buf_printf(&label, "\n%u operation%s", ops[s], ops[s] == 1 ? "" : "s");
		if (vms[s])
			buf_printf(&label, ", %llu VM%s", (unsigned long long)vms[s], vms[s] == 1 ? "" : "s");
		if (d->steps[s].inserted)
			buf_puts(&label, "\n(inserted by drplan)");
		buf_printf(out, "  s%u [shape=\"box\", style=\"rounded%s\", label=", s + 1,
		           ops[s] ? "" : ",dashed");
		dot_quote(out, label.data, label.len);
		buf_puts(out, "];\n");
	}
	write_collapsed_edges(out, d, node_of, "s", false, true);
	buf_free(&label);
	buf_free(&text);
	free(node_of);
	free(vms);
	free(ops);
}

/* ---- Workgroup and operation levels */

/* Lists workgroup indices (sorted) as ranges, "w1-w4, w7", at most a few ranges. */
static void put_workgroup_ranges(struct buf *label, const uint32_t *wg, uint32_t n)
{
	enum { MAX_RANGES = 4 };
	uint32_t ranges = 0, shown = 0;
	for (uint32_t i = 0; i < n;) {
		uint32_t j = i + 1;
		while (j < n && wg[j] == wg[j - 1] + 1)
			j++;
		if (ranges++ < MAX_RANGES) {
			buf_printf(label, "%sw%u", ranges > 1 ? ", " : "", wg[i] + 1);
			if (j - i > 1)
				buf_printf(label, "-w%u", wg[j - 1] + 1);
			shown = j;
		}
		i = j;
	}
	if (shown < n)
		buf_printf(label, " and %u more", n - shown);
}

static void put_devices(struct buf *label, const struct dag *d, const uint32_t *devices, uint32_t n)
{
	enum { MAX_DEVICES = 3 };
	for (uint32_t i = 0; i < n && i < MAX_DEVICES; i++) {
		if (i)
			buf_putc(label, ' ');
		put_label(label, devices[i] < d->n_devices ? d->devices[devices[i]].name : "?", LABEL_MAX);
	}
	if (n > MAX_DEVICES)
		buf_printf(label, " and %u more", n - MAX_DEVICES);
}

static void put_priority(struct buf *label, int32_t priority)
{
	if (priority == DAG_NO_PRIORITY)
		buf_puts(label, "no priority");
	else
		buf_printf(label, "priority %d", priority);
}

/* The shape of an operation's node: storage as cylinders, workgroups as rounded boxes, operator
 * actions as hexagons, gates as small diamonds. */
static const char *op_shape(const struct dag_op *op)
{
	switch ((enum dag_target)op->target_kind) {
	case DAG_TARGET_DEVICE:
	case DAG_TARGET_GROUP: return "shape=\"cylinder\"";
	case DAG_TARGET_WORKGROUP: return "shape=\"box\", style=\"rounded\"";
	case DAG_TARGET_PLAN: break;
	}
	return op->kind == DAG_GATE ? "shape=\"diamond\"" : "shape=\"hexagon\"";
}

/* The lines of an operation's label after its first: what it acts on. */
static void put_op_details(struct buf *label, const struct dag *d, uint32_t i)
{
	const struct dag_op *op = &d->ops[i];
	if (op->target_kind == DAG_TARGET_WORKGROUP && op->target < d->n_workgroups) {
		const struct dag_workgroup *w = &d->workgroups[op->target];
		buf_printf(label, "\n%u VM%s, ", w->n_vms, w->n_vms == 1 ? "" : "s");
		put_priority(label, w->priority);
		if (w->n_devices) {
			buf_putc(label, '\n');
			put_devices(label, d, w->devices, w->n_devices);
		}
	} else if (op->target_kind == DAG_TARGET_GROUP && op->target < d->n_groups) {
		buf_putc(label, '\n');
		put_devices(label, d, d->groups[op->target].devices, d->groups[op->target].n_devices);
	}
	if (op->kind == DAG_PREFER && op->site < d->n_sites) {
		buf_puts(label, "\nto ");
		put_label(label, d->sites[op->site].name, LABEL_MAX);
	}
	if (op->flags & DAG_BEST_EFFORT)
		buf_puts(label, "\nbest-effort");
}

/* The first line of an operation's label at the workgroup level, where the cluster names the step:
 * the kind and its target. */
static void put_op_title(struct buf *label, const struct dag *d, uint32_t i)
{
	const struct dag_op *op = &d->ops[i];
	const char *kind = op->kind < DAG_N_OP_KINDS ? dag_op_kind_names[op->kind] : "?";
	switch ((enum dag_target)op->target_kind) {
	case DAG_TARGET_DEVICE:
		buf_printf(label, "%s ", kind);
		put_label(label, op->target < d->n_devices ? d->devices[op->target].name : "?", LABEL_MAX);
		break;
	case DAG_TARGET_GROUP:
		buf_printf(label, "%s ", kind);
		put_label(label, op->target < d->n_groups ? d->groups[op->target].name : "?", LABEL_MAX);
		break;
	case DAG_TARGET_WORKGROUP: buf_printf(label, "%s w%u", kind, op->target + 1); break;
	case DAG_TARGET_PLAN:
		if (op->kind == DAG_GATE && (int32_t)op->target == DAG_NO_PRIORITY)
			buf_puts(label, "gate: no priority");
		else if (op->kind == DAG_GATE)
			buf_printf(label, "gate p%d", (int32_t)op->target);
		else
			buf_puts(label, kind);
		break;
	}
}

/* Operations grouped into nodes, in each step's cluster; node k's operations (or workgroups) are
 * members[first[k] .. first[k + 1]). */
struct dot_nodes {
	uint32_t n;
	uint32_t *node_of;    /* per operation */
	uint32_t *rep;        /* per node: its first operation */
	uint32_t *first;      /* n + 1 */
	uint32_t *members;    /* operations, by node then index */
};

static void nodes_index(struct dot_nodes *g, const struct dag *d)
{
	g->rep = xmalloc(((size_t)g->n + 1) * sizeof *g->rep);
	g->first = xcalloc((size_t)g->n + 2, sizeof *g->first);
	g->members = xmalloc(((size_t)d->n_ops + 1) * sizeof *g->members);
	for (uint32_t i = d->n_ops; i-- > 0;) {
		g->rep[g->node_of[i]] = i;
		g->first[g->node_of[i] + 1]++;
	}
	for (uint32_t k = 0; k < g->n; k++)
		g->first[k + 1] += g->first[k];
	uint32_t *fill = xmalloc(((size_t)g->n + 1) * sizeof *fill);
	memcpy(fill, g->first, ((size_t)g->n + 1) * sizeof *fill);
	for (uint32_t i = 0; i < d->n_ops; i++)
		g->members[fill[g->node_of[i]]++] = i;
	free(fill);
}

static void nodes_free(struct dot_nodes *g)
{
	free(g->node_of);
	free(g->rep);
	free(g->first);
	free(g->members);
}

/* Workgroup classes: workgroups alike in priority, way of moving and devices (the groups lowering
 * cut into chunks of the workgroup size). Device sets are compared by content, once per distinct
 * array (workgroups with the same devices normally share one). Returns class[] per workgroup. */
static uint32_t *workgroup_classes(const struct dag *d)
{
	uint32_t *class = xmalloc(((size_t)d->n_workgroups + 1) * sizeof *class);
	struct strmap by_array, by_set, by_class;
	strmap_init(&by_array);
	strmap_init(&by_set);
	strmap_init(&by_class);
	/* Keys must outlive the maps: the array pointers and class triples live in these arrays. */
	const uint32_t **arrays = xmalloc(((size_t)d->n_workgroups + 1) * sizeof *arrays);
	uint32_t(*keys)[3] = xmalloc(((size_t)d->n_workgroups + 1) * sizeof *keys);
	uint32_t n_sets = 0, n_classes = 0;
	for (uint32_t w = 0; w < d->n_workgroups; w++) {
		const struct dag_workgroup *wg = &d->workgroups[w];
		arrays[w] = wg->devices;
		uint32_t first = strmap_put(&by_array, (const char *)&arrays[w], sizeof arrays[w], w);
		if (first != w) {
			class[w] = class[first];
			continue;
		}
		/* A new array: an equal set by content, keyed by the array itself (a strmap key may not
		 * be NULL, hence the stand-in for an empty set). */
		static const uint32_t none[1] = {0};
		const char *key = wg->n_devices ? (const char *)wg->devices : (const char *)none;
		uint32_t set = strmap_put(&by_set, key, (size_t)wg->n_devices * sizeof *wg->devices, n_sets);
		if (set == n_sets)
			n_sets++;
		class[w] = set;
	}
	/* class[] holds device-set ids; turn (priority, live, set) into class ids. */
	for (uint32_t w = 0; w < d->n_workgroups; w++) {
		keys[w][0] = (uint32_t)d->workgroups[w].priority;
		keys[w][1] = d->workgroups[w].live;
		keys[w][2] = class[w];
		uint32_t c = strmap_put(&by_class, (const char *)keys[w], sizeof keys[w], n_classes);
		if (c == n_classes)
			n_classes++;
		class[w] = c;
	}
	strmap_free(&by_array);
	strmap_free(&by_set);
	strmap_free(&by_class);
	free(arrays);
	free(keys);
	return class;
}

/* One node per (step, workgroup class) for workgroup operations, one per other operation. */
static void nodes_by_workgroup(struct dot_nodes *g, const struct dag *d)
{
	uint32_t *class = workgroup_classes(d);
	struct strmap map;
	strmap_init(&map);
	uint32_t(*keys)[2] = xmalloc(((size_t)d->n_ops + 1) * sizeof *keys);
	g->node_of = xmalloc(((size_t)d->n_ops + 1) * sizeof *g->node_of);
	g->n = 0;
	for (uint32_t i = 0; i < d->n_ops; i++) {
		const struct dag_op *op = &d->ops[i];
		if (op->target_kind == DAG_TARGET_WORKGROUP && op->target < d->n_workgroups) {
			keys[i][0] = op->step;
			keys[i][1] = class[op->target];
			uint32_t k = strmap_put(&map, (const char *)keys[i], sizeof keys[i], g->n);
			if (k == g->n)
				g->n++;
			g->node_of[i] = k;
		} else {
			g->node_of[i] = g->n++;
		}
	}
	strmap_free(&map);
	free(keys);
	free(class);
	nodes_index(g, d);
}

static void nodes_by_operation(struct dot_nodes *g, const struct dag *d)
{
	g->n = d->n_ops;
	g->node_of = xmalloc(((size_t)d->n_ops + 1) * sizeof *g->node_of);
	for (uint32_t i = 0; i < d->n_ops; i++)
		g->node_of[i] = i;
	nodes_index(g, d);
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* The label of a node of several workgroup operations of one step. */
static void put_batch_label(struct buf *label, const struct dag *d, const struct dot_nodes *g, uint32_t k,
                            uint32_t *scratch)
{
	uint32_t n = g->first[k + 1] - g->first[k];
	uint64_t vms = 0;
	unsigned best_effort = 0;
	for (uint32_t j = 0; j < n; j++) {
		uint32_t op = g->members[g->first[k] + j];
		scratch[j] = d->ops[op].target;
		vms += dag_op_vms(d, op);
		best_effort |= d->ops[op].flags & DAG_BEST_EFFORT;
	}
	qsort(scratch, n, sizeof *scratch, u32_cmp);
	const struct dag_op *op = &d->ops[g->rep[k]];
	const struct dag_workgroup *w = &d->workgroups[op->target];
	buf_printf(label, "%s ", dag_op_kind_names[op->kind]);
	put_workgroup_ranges(label, scratch, n);
	buf_printf(label, "\n%llu VM%s, ", (unsigned long long)vms, vms == 1 ? "" : "s");
	put_priority(label, w->priority);
	if (w->live)
		buf_puts(label, ", live");
	if (w->n_devices) {
		buf_putc(label, '\n');
		put_devices(label, d, w->devices, w->n_devices);
	}
	if (best_effort)
		buf_puts(label, "\nbest-effort");
}

static void write_nodes(struct buf *out, const struct dag *d, enum dot_level level)
{
	struct dot_nodes g;
	if (level == DOT_WORKGROUP)
		nodes_by_workgroup(&g, d);
	else
		nodes_by_operation(&g, d);
	/* Nodes by step, in node order (a step's operations are not necessarily contiguous). */
	uint32_t *by_step = xmalloc(((size_t)g.n + 1) * sizeof *by_step);
	uint32_t *step_first = xcalloc((size_t)d->n_steps + 2, sizeof *step_first);
	for (uint32_t k = 0; k < g.n; k++) {
		uint32_t s = d->ops[g.rep[k]].step;
		step_first[(s < d->n_steps ? s : d->n_steps) + 1]++;
	}
	for (uint32_t s = 0; s <= d->n_steps; s++)
		step_first[s + 1] += step_first[s];
	uint32_t *fill = xmalloc(((size_t)d->n_steps + 1) * sizeof *fill);
	memcpy(fill, step_first, ((size_t)d->n_steps + 1) * sizeof *fill);
	for (uint32_t k = 0; k < g.n; k++) {
		uint32_t s = d->ops[g.rep[k]].step;
		by_step[fill[s < d->n_steps ? s : d->n_steps]++] = k;
	}
	free(fill);

	uint32_t *scratch = xmalloc(((size_t)d->n_ops + 1) * sizeof *scratch);
	struct buf label = BUF_INIT;
	for (uint32_t s = 0; s <= d->n_steps; s++) {
		if (s == d->n_steps && step_first[s] == step_first[s + 1])
			break;
		if (s < d->n_steps)
			cluster_open(out, d, s);
		else
			buf_puts(out, "  subgraph \"cluster_unknown\" {\n    graph [label=\"no step\"];\n");
		if (step_first[s] == step_first[s + 1])
			buf_printf(out, "    e%u [shape=\"plaintext\", label=\"no operations\"];\n", s + 1);
		for (uint32_t j = step_first[s]; j < step_first[s + 1]; j++) {
			uint32_t k = by_step[j], op = g.rep[k];
			buf_clear(&label);
			bool batch = d->ops[op].target_kind == DAG_TARGET_WORKGROUP && d->ops[op].target < d->n_workgroups &&
			             level == DOT_WORKGROUP;
			if (batch) {
				put_batch_label(&label, d, &g, k, scratch);
			} else if (level == DOT_WORKGROUP) {
				put_op_title(&label, d, op);
				put_op_details(&label, d, op);
			} else {
				struct buf id = BUF_INIT;
				dag_op_id(d, op, &id);
				put_label(&label, id.data, 0);
				buf_free(&id);
				put_op_details(&label, d, op);
			}
			const char *shape = op_shape(&d->ops[op]);
			bool dashed = d->ops[op].flags & DAG_BEST_EFFORT;
			if (dashed && d->ops[op].target_kind == DAG_TARGET_WORKGROUP)
				shape = "shape=\"box\", style=\"rounded,dashed\"";
			buf_printf(out, "    n%u [%s%s, label=", k + 1, shape,
			           dashed && d->ops[op].target_kind != DAG_TARGET_WORKGROUP ? ", style=\"dashed\"" : "");
			dot_quote(out, label.data, label.len);
			buf_puts(out, "];\n");
		}
		buf_puts(out, "  }\n");
	}
	unsigned kinds = write_collapsed_edges(out, d, g.node_of, "n", true, false);
	write_legend(out, kinds);
	buf_free(&label);
	free(scratch);
	free(by_step);
	free(step_first);
	nodes_free(&g);
}

void dot_write(const struct dag *d, enum dot_level level, struct buf *out)
{
	graph_open(out, d, level);
	if (level == DOT_STEP)
		write_steps(out, d);
	else
		write_nodes(out, d, level);
	buf_puts(out, "}\n");
}
