/* test_views.c: the views of a compiled plan on hand-built DAGs: the DOT graph at each level (exact
 * output, hostile names) and the diff of two plans (nothing, added, removed, reordered, moved). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../compiler/dag.h"
#include "../../compiler/dagdiff.h"
#include "../../compiler/dot.h"
#include "../../lib/buf.h"
#include "suites.h"

/* ---- A tiny plan, built by hand:
 *   sites east, west; device lun-1 (east, replicated to lun-2 at west);
 *   w1 = {a, b} priority 1, w2 = {c} priority 2, both on lun-1;
 *   step 1 failover storage, step 2 register vms at west, step 3 prompt "go";
 *   failover(lun-1) -> register(w1), register(w2) -> prompt. */

#define ARENA_ARRAY(d, type, n) ((type *)arena_alloc(&(d)->arena, (size_t)(n) * sizeof(type)))

struct tiny_spec {
	uint32_t n_vms;          /* a, b, c, then d, e, ... */
	const uint32_t *vm_wg;   /* workgroup of each VM */
	uint32_t n_workgroups;
	const int32_t *priority; /* per workgroup */
};

static const uint32_t tiny_vm_wg[] = {0, 0, 1};
static const int32_t tiny_priority[] = {1, 2};
static const struct tiny_spec tiny_default = {3, tiny_vm_wg, 2, tiny_priority};

/* Builds the tables of the tiny plan (not its operations). */
static void tiny_tables(struct dag *d, const struct tiny_spec *spec)
{
	dag_init(d);
	d->name = "tiny";
	d->mode = AST_MODE_PLANNED;
	d->workgroup_size = 2;
	d->rto_ms = 30 * 60000;
	d->n_sites = 2;
	d->sites = ARENA_ARRAY(d, struct dag_site, 2);
	d->sites[0].name = "east";
	d->sites[1].name = "west";
	d->from = 0;
	d->to = 1;
	d->n_hosts = 1;
	d->hosts = ARENA_ARRAY(d, struct dag_host, 1);
	d->hosts[0] = (struct dag_host){"esx-1", 0};
	d->n_devices = 1;
	d->devices = ARENA_ARRAY(d, struct dag_device, 1);
	d->devices[0] = (struct dag_device){"lun-1", "lun-2", DAG_REPLICATED, 0, 1, DAG_NONE, DAG_NONE};
	uint32_t *devs = ARENA_ARRAY(d, uint32_t, 1);
	d->n_workgroups = spec->n_workgroups;
	d->workgroups = ARENA_ARRAY(d, struct dag_workgroup, spec->n_workgroups);
	for (uint32_t w = 0; w < spec->n_workgroups; w++)
		d->workgroups[w] = (struct dag_workgroup){spec->priority[w], false, 0, 0, devs, 1};
	d->n_vms = spec->n_vms;
	d->vms = ARENA_ARRAY(d, struct dag_vm, spec->n_vms);
	for (uint32_t v = 0; v < spec->n_vms; v++) {
		char name[2] = {(char)('a' + v), 0};
		d->vms[v] = (struct dag_vm){arena_strndup(&d->arena, name, 1), 0, spec->vm_wg[v]};
		struct dag_workgroup *w = &d->workgroups[spec->vm_wg[v]];
		if (w->n_vms++ == 0)
			w->first_vm = v;
	}
	d->n_steps = 3;
	d->steps = ARENA_ARRAY(d, struct dag_step, 3);
	d->steps[0] = (struct dag_step){.kind = AST_STEP_FAILOVER, .site = DAG_NONE, .retries = 2, .backoff_ms = 60000};
	d->steps[1] = (struct dag_step){.kind = AST_STEP_REGISTER, .site = 1};
	d->steps[2] = (struct dag_step){.kind = AST_STEP_PROMPT, .site = DAG_NONE, .text = "go"};
	d->n_limits = 1;
	d->limits = ARENA_ARRAY(d, struct dag_limit, 1);
	d->limits[0] = (struct dag_limit){DAG_FAILOVER, DAG_SCOPE_PLAN, 2};
}

/* The operations: failover, one register per workgroup, the prompt; edges as above. */
static void tiny_ops(struct dag *d)
{
	uint32_t f = dag_add_op(d, DAG_FAILOVER, DAG_TARGET_DEVICE, 0, 0, 1, 0);
	uint32_t p = DAG_NONE;
	uint32_t *reg = calloc(d->n_workgroups + 1, sizeof *reg);
	for (uint32_t w = 0; w < d->n_workgroups; w++)
		reg[w] = dag_add_op(d, DAG_REGISTER, DAG_TARGET_WORKGROUP, w, 1, 1, 0);
	p = dag_add_op(d, DAG_PROMPT, DAG_TARGET_PLAN, 0, 2, DAG_NONE, 0);
	for (uint32_t w = 0; w < d->n_workgroups; w++) {
		dag_add_edge(d, f, reg[w], DAG_EDGE_STORAGE);
		dag_add_edge(d, reg[w], p, DAG_EDGE_BARRIER);
	}
	free(reg);
}

static void tiny(struct dag *d)
{
	tiny_tables(d, &tiny_default);
	tiny_ops(d);
	dag_finish(d);
}

static char *dot_of(const struct dag *d, enum dot_level level)
{
	struct buf b = BUF_INIT;
	dot_write(d, level, &b);
	return buf_detach(&b);
}

/* ---- DOT */

START_TEST(test_dot_step)
{
	struct dag d;
	tiny(&d);
	char *s = dot_of(&d, DOT_STEP);
	ck_assert_str_eq(s,
		"digraph \"tiny\" {\n"
		"  graph [label=\"plan tiny: planned, east to west\\n4 operations, 4 edges, 2 workgroups, 3 VMs\", "
		"labelloc=\"t\", rankdir=\"LR\", fontname=\"Helvetica\", fontsize=12, "
		"comment=\"drplan graph --level step\"];\n"
		"  node [fontname=\"Helvetica\", fontsize=10];\n"
		"  edge [fontname=\"Helvetica\", fontsize=9];\n"
		"  s1 [shape=\"box\", style=\"rounded\", label=\"1. failover storage\\n1 operation\"];\n"
		"  s2 [shape=\"box\", style=\"rounded\", label=\"2. register vms at west\\n2 operations, 3 VMs\"];\n"
		"  s3 [shape=\"box\", style=\"rounded\", label=\"3. prompt \\\"go\\\"\\n1 operation\"];\n"
		"  s1 -> s2 [label=\"2\"];\n"
		"  s2 -> s3 [label=\"2\"];\n"
		"}\n");
	free(s);
	dag_free(&d);
}
END_TEST

START_TEST(test_dot_workgroup)
{
	struct dag d;
	tiny(&d);
	char *s = dot_of(&d, DOT_WORKGROUP);
	const char *expected =
		"digraph \"tiny\" {\n"
		"  graph [label=\"plan tiny: planned, east to west\\n4 operations, 4 edges, 2 workgroups, 3 VMs\", "
		"labelloc=\"t\", rankdir=\"LR\", fontname=\"Helvetica\", fontsize=12, "
		"comment=\"drplan graph --level workgroup\"];\n"
		"  node [fontname=\"Helvetica\", fontsize=10];\n"
		"  edge [fontname=\"Helvetica\", fontsize=9];\n"
		"  subgraph \"cluster_s1\" {\n"
		"    graph [label=\"1. failover storage\\nretry 2 backoff 1m\", style=\"rounded\", color=\"gray60\"];\n"
		"    n1 [shape=\"cylinder\", label=\"failover lun-1\"];\n"
		"  }\n"
		"  subgraph \"cluster_s2\" {\n"
		"    graph [label=\"2. register vms at west\", style=\"rounded\", color=\"gray60\"];\n"
		"    n2 [shape=\"box\", style=\"rounded\", label=\"register w1\\n2 VMs, priority 1\\nlun-1\"];\n"
		"    n3 [shape=\"box\", style=\"rounded\", label=\"register w2\\n1 VM, priority 2\\nlun-1\"];\n"
		"  }\n"
		"  subgraph \"cluster_s3\" {\n"
		"    graph [label=\"3. prompt \\\"go\\\"\", style=\"rounded\", color=\"gray60\"];\n"
		"    n4 [shape=\"hexagon\", label=\"prompt\"];\n"
		"  }\n"
		"  n1 -> n2 [color=\"darkgreen\"];\n"
		"  n1 -> n3 [color=\"darkgreen\"];\n"
		"  n2 -> n4 [color=\"gray50\", style=\"dotted\"];\n"
		"  n3 -> n4 [color=\"gray50\", style=\"dotted\"];\n"
		"  subgraph \"cluster_legend\" {\n"
		"    graph [label=\"edges\", style=\"rounded\", color=\"gray80\"];\n"
		"    node [shape=\"point\", width=0.05];\n"
		"    legend2a -> legend2b [label=\"storage\", color=\"darkgreen\"];\n"
		"    legend7a -> legend7b [label=\"barrier\", color=\"gray50\", style=\"dotted\"];\n"
		"  }\n"
		"}\n";
	ck_assert_str_eq(s, expected);
	free(s);
	dag_free(&d);
}
END_TEST

START_TEST(test_dot_operation)
{
	struct dag d;
	tiny(&d);
	d.ops[1].flags |= DAG_BEST_EFFORT;
	char *s = dot_of(&d, DOT_OPERATION);
	/* The step clusters and edges as at the workgroup level; nodes named by operation id. */
	ck_assert_ptr_nonnull(strstr(s, "    n1 [shape=\"cylinder\", label=\"s1.failover.lun-1\"];\n"));
	ck_assert_ptr_nonnull(strstr(s, "    n2 [shape=\"box\", style=\"rounded,dashed\", "
	                                "label=\"s2.register.w1\\n2 VMs, priority 1\\nlun-1\\nbest-effort\"];\n"));
	ck_assert_ptr_nonnull(strstr(s, "    n4 [shape=\"hexagon\", label=\"s3.prompt\"];\n"));
	ck_assert_ptr_nonnull(strstr(s, "  n2 -> n4 [color=\"gray50\", style=\"dotted\"];\n"));
	ck_assert_ptr_nonnull(strstr(s, "legend7a -> legend7b [label=\"barrier\""));
	ck_assert_ptr_null(strstr(s, "legend0a")); /* no step edges here: not in the legend */
	free(s);
	dag_free(&d);
}
END_TEST

/* Workgroups alike (same priority, way of moving, devices) are one node per step at the
 * workgroup level, and the edges between them are collapsed and counted. */
START_TEST(test_dot_workgroup_batches)
{
	static const uint32_t vm_wg[] = {0, 0, 1, 1, 2};
	static const int32_t priority[] = {1, 1, 1};
	const struct tiny_spec spec = {5, vm_wg, 3, priority};
	struct dag d;
	tiny_tables(&d, &spec);
	tiny_ops(&d);
	dag_finish(&d);
	char *s = dot_of(&d, DOT_WORKGROUP);
	ck_assert_ptr_nonnull(strstr(s, "    n2 [shape=\"box\", style=\"rounded\", label=\"register w1-w3\\n5 VMs, "
	                                "priority 1\\nlun-1\"];\n"));
	ck_assert_ptr_nonnull(strstr(s, "    n3 [shape=\"hexagon\", label=\"prompt\"];\n"));
	ck_assert_ptr_null(strstr(s, "    n4 ["));
	ck_assert_ptr_nonnull(strstr(s, "  n1 -> n2 [color=\"darkgreen\", label=\"3\"];\n"));
	ck_assert_ptr_nonnull(strstr(s, "  n2 -> n3 [color=\"gray50\", style=\"dotted\", label=\"3\"];\n"));
	free(s);
	dag_free(&d);
}
END_TEST

/* True if every DOT string in s is closed on its line, holds no control character, and the
 * braces balance outside strings: what a hostile name could break. */
static bool dot_well_formed(const char *s)
{
	bool in_string = false;
	int depth = 0;
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (in_string) {
			if (c < 0x20 || c == 0x7f)
				return false;
			if (c == '\\' && p[1])
				p++;
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == '{') {
			depth++;
		} else if (c == '}') {
			if (--depth < 0)
				return false;
		}
	}
	return !in_string && depth == 0;
}

START_TEST(test_dot_hostile_names)
{
	struct dag d;
	tiny(&d);
	d.name = "evil\" } digraph x { \"";
	d.sites[1].name = "we\\st\n\x01";
	d.devices[0].name = "lun \"1\" &lt; \xff\xfe \xe2\x80\xae" "dr \\";
	d.steps[2].text = "line1\nline2 \"quoted\" \\ end\\";
	for (int level = 0; level < DOT_N_LEVELS; level++) {
		char *s = dot_of(&d, (enum dot_level)level);
		ck_assert_msg(dot_well_formed(s), "level %d:\n%s", level, s);
		ck_assert_ptr_nonnull(strstr(s, "digraph \"evil\\\" } digraph x { \\\"\" {"));
		if (level != DOT_STEP) {
			/* Quotes and backslashes escaped, & as an entity, invalid UTF-8 as U+FFFD, the
			 * right-to-left override as a visible escape. */
			ck_assert_ptr_nonnull(strstr(s, "lun \\\"1\\\" &amp;lt; \xef\xbf\xbd\xef\xbf\xbd \\\\u{202E}dr \\\\"));
			ck_assert_ptr_null(strstr(s, "\xe2\x80\xae"));
		}
		/* The site in `register vms at ...`: the language's quoting, then DOT's. */
		ck_assert_ptr_nonnull(strstr(s, "register vms at \\\"we\\\\\\\\st\\\\n\\\\u{1}\\\""));
		ck_assert_ptr_nonnull(strstr(s, "prompt \\\"line1\\\\nline2 \\\\\\\"quoted\\\\\\\" \\\\\\\\ end\\\\\\\\\\\""));
		free(s);
	}
	dag_free(&d);
}
END_TEST

START_TEST(test_dot_long_prompt_is_cut)
{
	struct dag d;
	tiny(&d);
	char text[300];
	memset(text, 'x', sizeof text - 1);
	text[sizeof text - 1] = 0;
	d.steps[2].text = text;
	char *s = dot_of(&d, DOT_STEP);
	ck_assert_ptr_nonnull(strstr(s, "xxx\xe2\x80\xa6\\n1 operation"));
	ck_assert_ptr_null(strstr(s, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"));
	free(s);
	dag_free(&d);
}
END_TEST

START_TEST(test_spellings)
{
	struct buf b = BUF_INIT;
	const struct {
		int64_t ms;
		const char *text;
	} durations[] = {{0, "0s"}, {250, "250ms"}, {90000, "1m30s"}, {5400000, "1h30m"}, {86400000 + 1000, "1d1s"}};
	for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
		buf_clear(&b);
		dot_duration(&b, durations[i].ms);
		ck_assert_str_eq(b.data, durations[i].text);
	}
	buf_clear(&b);
	dot_name(&b, "lun-101");
	buf_putc(&b, ' ');
	dot_name(&b, "step"); /* a keyword must be quoted */
	buf_putc(&b, ' ');
	dot_name(&b, "a b\t\"c\"");
	ck_assert_str_eq(b.data, "lun-101 \"step\" \"a b\\t\\\"c\\\"\"");
	struct dag d;
	tiny(&d);
	d.steps[1].timeout_ms = 300000;
	buf_clear(&b);
	dot_step_text(&b, &d, 1, true);
	ck_assert_str_eq(b.data, "register vms at west timeout 5m");
	buf_clear(&b);
	dot_step_text(&b, &d, 0, true);
	ck_assert_str_eq(b.data, "failover storage retry 2 backoff 1m");
	dag_free(&d);
	buf_free(&b);
}
END_TEST

/* ---- Diff */

static char *diff_of(const struct dag *a, const struct dag *b, struct dagdiff_stats *st, bool *differ)
{
	struct buf out = BUF_INIT;
	*differ = dagdiff_write(&out, a, "old.drp", b, "new.drp", st);
	return out.data ? buf_detach(&out) : calloc(1, 1);
}

START_TEST(test_diff_identical)
{
	struct dag a, b;
	tiny(&a);
	tiny(&b);
	struct dagdiff_stats st;
	bool differ;
	char *s = diff_of(&a, &b, &st, &differ);
	ck_assert(!differ);
	ck_assert_str_eq(s, "");
	ck_assert_uint_eq(st.ops_added + st.ops_removed + st.ops_reordered + st.vms_moved + st.other, 0);
	free(s);
	dag_free(&a);
	dag_free(&b);
}
END_TEST

START_TEST(test_diff_op_added_and_removed)
{
	static const uint32_t vm_wg[] = {0, 0, 1, 2};
	static const int32_t priority[] = {1, 2, 3};
	const struct tiny_spec spec = {4, vm_wg, 3, priority};
	struct dag a, b;
	tiny(&a);
	tiny_tables(&b, &spec);
	tiny_ops(&b);
	dag_finish(&b);
	struct dagdiff_stats st;
	bool differ;
	char *s = diff_of(&a, &b, &st, &differ);
	ck_assert(differ);
	ck_assert_str_eq(s,
		"--- old.drp\n"
		"+++ new.drp\n"
		"workgroups:\n"
		"+ w3: 1 VM, priority 3, devices lun-1\n"
		"VMs:\n"
		"+ vm d: w3\n"
		"operations:\n"
		"+ s2.register.w3\n"
		"~ s3.prompt\n"
		"    + waits for s2.register.w3 [barrier]\n"
		"1 operation added, 0 removed, 1 reordered, 0 VMs moved, 1 VM added, 1 other change\n");
	ck_assert_uint_eq(st.ops_added, 1);
	free(s);
	/* The other way round: removed. */
	s = diff_of(&b, &a, &st, &differ);
	ck_assert(differ);
	ck_assert_uint_eq(st.ops_removed, 1);
	ck_assert_uint_eq(st.ops_added, 0);
	ck_assert_uint_eq(st.vms_removed, 1);
	ck_assert_ptr_nonnull(strstr(s, "\n- s2.register.w3\n"));
	ck_assert_ptr_nonnull(strstr(s, "\n    - waits for s2.register.w3 [barrier]\n"));
	ck_assert_ptr_nonnull(strstr(s, "\n- vm d: w3\n"));
	free(s);
	dag_free(&a);
	dag_free(&b);
}
END_TEST

START_TEST(test_diff_edge_changed)
{
	struct dag a, b;
	tiny(&a);
	tiny_tables(&b, &tiny_default);
	tiny_ops(&b);
	/* w2 now registers after w1 (an edge added), and waits for its step too (kind changes). */
	dag_add_edge(&b, 1, 2, DAG_EDGE_AFTER);
	b.edges[0].kind = DAG_EDGE_STEP; /* failover -> register w1: storage -> step */
	dag_finish(&b);
	struct dagdiff_stats st;
	bool differ;
	char *s = diff_of(&a, &b, &st, &differ);
	ck_assert(differ);
	ck_assert_str_eq(s,
		"--- old.drp\n"
		"+++ new.drp\n"
		"operations:\n"
		"~ s2.register.w1\n"
		"    ~ waits for s1.failover.lun-1 [storage -> step]\n"
		"~ s2.register.w2\n"
		"    + waits for s2.register.w1 [after]\n"
		"0 operations added, 0 removed, 2 reordered, 0 VMs moved\n");
	ck_assert_uint_eq(st.ops_reordered, 2);
	free(s);
	dag_free(&a);
	dag_free(&b);
}
END_TEST

START_TEST(test_diff_vm_moved)
{
	static const uint32_t vm_wg[] = {0, 1, 1};
	const struct tiny_spec spec = {3, vm_wg, 2, tiny_priority};
	struct dag a, b;
	tiny(&a);
	tiny_tables(&b, &spec);
	tiny_ops(&b);
	dag_finish(&b);
	struct dagdiff_stats st;
	bool differ;
	char *s = diff_of(&a, &b, &st, &differ);
	ck_assert(differ);
	ck_assert_str_eq(s,
		"--- old.drp\n"
		"+++ new.drp\n"
		"VMs:\n"
		"~ vm b: w1 -> w2\n"
		"0 operations added, 0 removed, 0 reordered, 1 VM moved\n");
	ck_assert_uint_eq(st.vms_moved, 1);
	free(s);
	dag_free(&a);
	dag_free(&b);
}
END_TEST

/* A workgroup inserted before the others renumbers them: not a move, and their operations match
 * under the new numbers. */
START_TEST(test_diff_renumbered_is_not_moved)
{
	static const uint32_t vm_wg[] = {1, 1, 2, 0};
	static const int32_t priority[] = {0, 1, 2};
	const struct tiny_spec spec = {4, vm_wg, 3, priority};
	struct dag a, b;
	tiny(&a);
	tiny_tables(&b, &spec);
	tiny_ops(&b);
	dag_finish(&b);
	struct dagdiff_stats st;
	bool differ;
	char *s = diff_of(&a, &b, &st, &differ);
	ck_assert(differ);
	ck_assert_uint_eq(st.vms_moved, 0);
	ck_assert_uint_eq(st.vms_added, 1);
	ck_assert_uint_eq(st.ops_added, 1);
	ck_assert_uint_eq(st.ops_removed, 0);
	ck_assert_ptr_nonnull(strstr(s, "\n+ w1: 1 VM, priority 0, devices lun-1\n"));
	ck_assert_ptr_nonnull(strstr(s, "\n~ 2 workgroups renumbered (shown by their new numbers)\n"));
	ck_assert_ptr_nonnull(strstr(s, "\n+ s2.register.w1\n"));
	ck_assert_ptr_null(strstr(s, "register.w2\n"));
	free(s);
	dag_free(&a);
	dag_free(&b);
}
END_TEST

/* A step inserted in front: the other steps and their operations still match. */
START_TEST(test_diff_step_inserted)
{
	struct dag a, b;
	tiny(&a);
	tiny_tables(&b, &tiny_default);
	struct dag_step *steps = ARENA_ARRAY(&b, struct dag_step, 4);
	steps[0] = (struct dag_step){.kind = AST_STEP_WAIT, .site = DAG_NONE, .wait_ms = 120000};
	memcpy(steps + 1, b.steps, 3 * sizeof *steps);
	steps[2].timeout_ms = 600000;
	b.steps = steps;
	b.n_steps = 4;
	uint32_t w = dag_add_op(&b, DAG_WAIT, DAG_TARGET_PLAN, 0, 0, DAG_NONE, 0);
	uint32_t f = dag_add_op(&b, DAG_FAILOVER, DAG_TARGET_DEVICE, 0, 1, 1, 0);
	uint32_t r1 = dag_add_op(&b, DAG_REGISTER, DAG_TARGET_WORKGROUP, 0, 2, 1, 0);
	uint32_t r2 = dag_add_op(&b, DAG_REGISTER, DAG_TARGET_WORKGROUP, 1, 2, 1, 0);
	uint32_t p = dag_add_op(&b, DAG_PROMPT, DAG_TARGET_PLAN, 0, 3, DAG_NONE, 0);
	dag_add_edge(&b, w, f, DAG_EDGE_BARRIER);
	dag_add_edge(&b, f, r1, DAG_EDGE_STORAGE);
	dag_add_edge(&b, f, r2, DAG_EDGE_STORAGE);
	dag_add_edge(&b, r1, p, DAG_EDGE_BARRIER);
	dag_add_edge(&b, r2, p, DAG_EDGE_BARRIER);
	dag_finish(&b);
	b.mode = AST_MODE_DISASTER;
	b.rto_ms = 0;
	b.limits[0].count = 3;
	struct dagdiff_stats st;
	bool differ;
	char *s = diff_of(&a, &b, &st, &differ);
	ck_assert(differ);
	ck_assert_str_eq(s,
		"--- old.drp\n"
		"+++ new.drp\n"
		"plan:\n"
		"~ mode planned -> disaster\n"
		"~ rto 30m -> none\n"
		"~ limit failover 2 -> 3\n"
		"steps:\n"
		"+ step 1: wait 2m\n"
		"~ step 3: register vms at west (was step 2): no options -> timeout 10m\n"
		"operations:\n"
		"+ s1.wait\n"
		"~ s2.failover.lun-1 (was s1.failover.lun-1)\n"
		"    + waits for s1.wait [barrier]\n"
		"1 operation added, 0 removed, 1 reordered, 0 VMs moved, 5 other changes\n");
	free(s);
	dag_free(&a);
	dag_free(&b);
}
END_TEST

/* Hostile names come out quoted and escaped, as the plan language would write them. */
START_TEST(test_diff_hostile_names)
{
	struct dag a, b;
	tiny(&a);
	tiny(&b);
	b.vms[2].name = "c\n\x1b[31mred";
	struct dagdiff_stats st;
	bool differ;
	char *s = diff_of(&a, &b, &st, &differ);
	ck_assert(differ);
	ck_assert_ptr_null(strchr(s, '\x1b'));
	ck_assert_ptr_nonnull(strstr(s, "\n+ vm \"c\\n\\u{1B}[31mred\": w2\n"));
	ck_assert_ptr_nonnull(strstr(s, "\n- vm c: w2\n"));
	ck_assert_uint_eq(st.vms_added, 1);
	ck_assert_uint_eq(st.vms_removed, 1);
	ck_assert_uint_eq(st.ops_added + st.ops_removed, 0); /* w2 still matches, by kind */
	free(s);
	dag_free(&a);
	dag_free(&b);
}
END_TEST

/* Many VMs: every fourth one moves to the next workgroup, and the counts say so. */
START_TEST(test_diff_many_vms)
{
	enum { N = 40000, W = N / 4 };
	uint32_t *wa = malloc(N * sizeof *wa), *wb = malloc(N * sizeof *wb);
	int32_t *prio = malloc(W * sizeof *prio);
	for (uint32_t v = 0; v < N; v++) {
		wa[v] = v / 4;
		wb[v] = v % 4 == 0 ? (v / 4 + 1) % W : v / 4;
	}
	for (uint32_t w = 0; w < W; w++)
		prio[w] = 1;
	const struct tiny_spec sa = {N, wa, W, prio}, sb = {N, wb, W, prio};
	struct dag a, b;
	tiny_tables(&a, &sa);
	tiny_tables(&b, &sb);
	/* Unique names: the single letters of the tiny plan would repeat. */
	for (uint32_t v = 0; v < N; v++) {
		char name[16];
		int len = snprintf(name, sizeof name, "vm-%u", v);
		a.vms[v].name = arena_strndup(&a.arena, name, (size_t)len);
		b.vms[v].name = arena_strndup(&b.arena, name, (size_t)len);
	}
	tiny_ops(&a);
	tiny_ops(&b);
	dag_finish(&a);
	dag_finish(&b);
	struct dagdiff_stats st;
	bool differ;
	char *s = diff_of(&a, &b, &st, &differ);
	ck_assert(differ);
	ck_assert_uint_eq(st.vms_moved, W);
	ck_assert_uint_eq(st.ops_added + st.ops_removed + st.ops_reordered, 0);
	ck_assert_ptr_nonnull(strstr(s, "\n~ vm vm-4: w2 -> w3\n"));
	ck_assert_ptr_nonnull(strstr(s, "\n~ vm vm-0: w1 -> w2\n"));
	free(s);
	free(wa);
	free(wb);
	free(prio);
	dag_free(&a);
	dag_free(&b);
}
END_TEST

Suite *views_suite(void)
{
	Suite *s = suite_create("views");
	TCase *tc = tcase_create("dot");
	tcase_add_test(tc, test_dot_step);
	tcase_add_test(tc, test_dot_workgroup);
	tcase_add_test(tc, test_dot_operation);
	tcase_add_test(tc, test_dot_workgroup_batches);
	tcase_add_test(tc, test_dot_hostile_names);
	tcase_add_test(tc, test_dot_long_prompt_is_cut);
	tcase_add_test(tc, test_spellings);
	suite_add_tcase(s, tc);
	tc = tcase_create("diff");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_diff_identical);
	tcase_add_test(tc, test_diff_op_added_and_removed);
	tcase_add_test(tc, test_diff_edge_changed);
	tcase_add_test(tc, test_diff_vm_moved);
	tcase_add_test(tc, test_diff_renumbered_is_not_moved);
	tcase_add_test(tc, test_diff_step_inserted);
	tcase_add_test(tc, test_diff_hostile_names);
	tcase_add_test(tc, test_diff_many_vms);
	suite_add_tcase(s, tc);
	return s;
}
