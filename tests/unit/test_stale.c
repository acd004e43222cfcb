/* test_stale.c: the stale-plan check (compiler/stale.[ch]): a plan compiled against the runtime
 * tests' world, compared with edited copies of its inventory as if freshly discovered: each kind of
 * difference and whether it is harmful, the sites whose discovery answered deciding what is judged,
 * the order of the lines, nothing for an identical world, and the bound on the diagnostic. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../compiler/stale.h"
#include "../../lib/alloc.h"
#include "lowered.h"
#include "suites.h"

#define STEPS                                                                                           \
	"  step sync storage\n  step shutdown vms at east\n  step failover storage\n"                   \
	"  step prefer west\n  step migrate live\n  step register vms\n  step power-on vms\n}\n"
static const char planned[] = RUNTIME_WORLD "plan move {\n  from east to west\n  mode planned\n  protect p\n" STEPS;
static const char per_host[] = RUNTIME_WORLD "plan move {\n  from east to west\n  mode planned\n  protect p\n"
                                             "  limit power-on 2 per host\n" STEPS;

struct fx {
	char dir[64];
	struct lowered l;
	struct arena arena;
	struct inventory inv[4];
	uint32_t n_inv;
	struct stale_report r;
	bool compared;
	struct buf lines;
	char *edited[8];               /* what edit returned, freed by teardown */
	uint32_t n_edited;
};

static void setup(struct fx *f, const char *plan)
{
	memset(f, 0, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/drplan-stale-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	lower_files(&f->l, f->dir, plan, RUNTIME_INVENTORY);
	arena_init(&f->arena);
}

static void teardown(struct fx *f)
{
	char path[128];
	snprintf(path, sizeof path, "%s/plan.drp", f->dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/inv.yaml", f->dir);
	unlink(path);
	rmdir(f->dir);
	if (f->compared)
		stale_report_free(&f->r);
	buf_free(&f->lines);
	for (uint32_t i = 0; i < f->n_edited; i++)
		free(f->edited[i]);
	arena_free(&f->arena);
	lowered_free(&f->l);
}

/* text with `old` (which must occur) replaced by `new`; teardown frees it. */
static const char *edit(struct fx *f, const char *text, const char *old, const char *new)
{
	const char *at = strstr(text, old);
	ck_assert_msg(at != NULL, "'%s' is not in the inventory", old);
	struct buf b = BUF_INIT;
	buf_append(&b, text, (size_t)(at - text));
	buf_puts(&b, new);
	buf_puts(&b, at + strlen(old));
	ck_assert_uint_lt(f->n_edited, sizeof f->edited / sizeof f->edited[0]);
	return f->edited[f->n_edited++] = buf_detach(&b);
}

static uint32_t site(const struct dag *d, const char *name)
{
	for (uint32_t i = 0; i < d->n_sites; i++)
		if (strcmp(d->sites[i].name, name) == 0)
			return i;
	ck_abort_msg("no site %s", name);
	return DAG_NONE;
}

/* text read as an inventory, which must be clean. */
static const struct inventory *parse(struct fx *f, const char *text)
{
	ck_assert_uint_lt(f->n_inv, sizeof f->inv / sizeof f->inv[0]);
	struct inventory *inv = &f->inv[f->n_inv++];
	struct src_file *src = src_add(&f->l.sources, "discovered.yaml", text, strlen(text));
	struct diag_list diags;
	diag_list_init(&diags);
	memset(inv, 0, sizeof *inv);
	ck_assert(inventory_parse(inv, &f->arena, src, &diags));
	ck_assert_uint_eq(diags.errors, 0);
	diag_list_free(&diags);
	return inv;
}

/* Compares the plan with the sources, and returns the differences one per line, harmless ones
 * marked "(harmless) ". */
static const char *compare_sources(struct fx *f, const struct stale_source *s, uint32_t n)
{
	if (f->compared)
		stale_report_free(&f->r);
	stale_compare(&f->l.dag, s, n, &f->r);
	f->compared = true;
	buf_clear(&f->lines);
	uint32_t harmful = 0;
	for (uint32_t i = 0; i < f->r.n_diffs; i++) {
		buf_printf(&f->lines, "%s%s\n", f->r.diffs[i].harmless ? "(harmless) " : "", f->r.diffs[i].text);
		harmful += !f->r.diffs[i].harmless;
	}
	ck_assert_uint_eq(f->r.n_harmful, harmful);
	return f->lines.data ? f->lines.data : "";
}

/* The same with `text` as discovered by each of the sites named in `sites` ("east west"). */
static const char *compare(struct fx *f, const char *text, const char *sites)
{
	const struct inventory *inv = parse(f, text);
	struct stale_source s[4];
	uint32_t n = 0;
	char *names = xstrdup(sites);
	for (char *w = strtok(names, " "); w && n < 4; w = strtok(NULL, " "))
		s[n++] = (struct stale_source){site(&f->l.dag, w), inv};
	free(names);
	return compare_sources(f, s, n);
}

START_TEST(test_identical)
{
	struct fx f;
	setup(&f, planned);
	ck_assert_str_eq(compare(&f, RUNTIME_INVENTORY, "east west"), "");
	ck_assert_uint_eq(f.r.n_harmful, 0);
	/* Nothing to say: no diagnostic at all. */
	struct diag_list diags;
	diag_list_init(&diags);
	ck_assert_ptr_null(stale_diagnose(&f.r, &f.l.dag, "east and west", "hint", src_range_make(SRC_NONE, 0, 0), &diags));
	ck_assert_uint_eq(diags.len, 0);
	diag_list_free(&diags);
	/* VMs the plan does not protect, and devices outside its groups, are none of its business. */
	const char *more = edit(&f, RUNTIME_INVENTORY, "vms:\n",
	                        "  - {id: lun-9, site: east, kind: replicated, peer: {id: lun-9p, site: west}}\nvms:\n"
	                        "  - {name: other-01, host: esx-e01, devices: [lun-9]}\n");
	ck_assert_str_eq(compare(&f, more, "east west"), "");
	teardown(&f);
}
END_TEST

START_TEST(test_devices)
{
	struct fx f;
	setup(&f, planned);
	const char *a = edit(&f, RUNTIME_INVENTORY, "{id: lun-1p, site: west}, consistency_group: cg-a}",
	                     "{id: lun-1q, site: west}, consistency_group: cg-a}");
	const char *b = edit(&f, a, "{id: lun-2p, site: west}, consistency_group: cg-a}", "{id: lun-2p, site: west}}");
	const char *c = edit(&f, b, "{id: lun-3, site: east, kind: replicated", "{id: lun-3, site: west, kind: stretched");
	const char *d = edit(&f, c, "  - {id: metro-1",
	                     "  - {id: lun-4, site: east, kind: replicated, peer: {id: lun-4p, site: west}, "
	                     "consistency_group: cg-a}\n  - {id: metro-9");
	ck_assert_str_eq(compare(&f, d, "east west"),
	                 "changed: device lun-1: peer lun-1p -> lun-1q\n"
	                 "changed: device lun-2: consistency group cg-a -> none\n"
	                 "changed: device lun-3: kind replicated -> stretched\n"
	                 "changed: device lun-3: site east -> west\n"
	                 "appeared: device lun-4 in consistency group cg-a, which the plan fails over without knowing "
	                 "the device or its VMs\n"
	                 "vanished: device metro-1\n");
	ck_assert_uint_eq(f.r.n_harmful, 6);
	teardown(&f);
}
END_TEST

START_TEST(test_vms)
{
	struct fx f;
	setup(&f, planned);
	const char *a = edit(&f, RUNTIME_INVENTORY, "{name: db-01, host: esx-e01, devices: [lun-1, lun-2]}",
	                     "{name: db-01, host: esx-w01, devices: [lun-1, lun-2]}");
	const char *b = edit(&f, a, "{name: db-02, host: esx-e02, devices: [lun-1, lun-2]}",
	                     "{name: db-02, host: esx-e01, devices: [lun-1, lun-2, lun-9]}");
	const char *c = edit(&f, b, "  - {name: app-01, host: esx-e01, devices: [lun-3]}\n", "");
	const char *d = edit(&f, c, "{name: web-01, host: esx-e02, devices: [metro-1]}",
	                     "{name: web-01, host: esx-x99, devices: [metro-1, lun-3]}\n"
	                     "  - {name: web-02, host: esx-e01, devices: [lun-3]}\n"
	                     "  - {name: aaa-01, host: esx-e01, devices: [lun-8]}");
	ck_assert_str_eq(compare(&f, d, "east west"),
	                 "vanished: vm app-01\n"
	                 "moved: vm db-01: host esx-e01 -> esx-w01 (at west, not east)\n"
	                 "moved: vm db-02: devices lun-1, lun-2 -> lun-1, lun-2, lun-9 (not protected by the plan: lun-9)\n"
	                 "(harmless) moved: vm db-02: host esx-e02 -> esx-e01 (same site: harmless)\n"
	                 "moved: vm web-01: devices metro-1 -> lun-3, metro-1 (the plan does not wait for lun-3 to fail "
	                 "over before registering it)\n"
	                 "moved: vm web-01: host esx-e02 -> esx-x99 (a host at no site the discovery lists)\n"
	                 "appeared: vm web-02 on lun-3, which the plan protects: the plan would leave the VM behind\n");
	/* Leaving one of its devices is harmless: the plan waits for that device anyway. */
	const char *e = edit(&f, RUNTIME_INVENTORY, "{name: db-01, host: esx-e01, devices: [lun-1, lun-2]}",
	                     "{name: db-01, host: esx-e01, devices: [lun-2, lun-2]}");
	ck_assert_str_eq(compare(&f, e, "east"),
	                 "(harmless) moved: vm db-01: devices lun-1, lun-2 -> lun-2 (it left a device the plan waits for "
	                 "anyway: harmless)\n");
	ck_assert_uint_eq(f.r.n_harmful, 0);
	teardown(&f);
}
END_TEST

/* A plan that limits operations per host depends on where VMs run, even within a site. */
START_TEST(test_per_host_limit)
{
	struct fx f;
	setup(&f, per_host);
	const char *a = edit(&f, RUNTIME_INVENTORY, "{name: db-02, host: esx-e02,", "{name: db-02, host: esx-e01,");
	ck_assert_str_eq(compare(&f, a, "east west"),
	                 "moved: vm db-02: host esx-e02 -> esx-e01 (same site, but the plan limits operations per host)\n");
	ck_assert_uint_eq(f.r.n_harmful, 1);
	teardown(&f);
}
END_TEST

/* Only what the answering sites can see is judged. */
START_TEST(test_scope)
{
	struct fx f;
	setup(&f, planned);
	/* West's array reports its own side of the pairs (lun-1 and lun-3 as their peers) and no VM at
	 * east: nothing vanished but lun-2, whose peer it does not report. */
	static const char west[] =
		"version: 1\n"
		"sites:\n  - {name: west, hosts: [esx-w01]}\n"
		"devices:\n"
		"  - {id: lun-1p, site: west, kind: replicated, peer: {id: lun-1, site: east}, consistency_group: cg-w}\n"
		"  - {id: lun-3p, site: west, kind: replicated, peer: {id: lun-3, site: east}}\n"
		"  - {id: metro-1, site: east, kind: stretched, peer: {id: metro-1, site: west}}\n";
	ck_assert_str_eq(compare(&f, west, "west"), "vanished: device lun-2\n");
	/* The same report as east's: east's VMs are judged too, and are gone. */
	ck_assert_str_eq(compare(&f, west, "east"), "vanished: vm app-01\nvanished: vm db-01\nvanished: vm db-02\n"
	                                            "vanished: device lun-2\nvanished: vm web-01\n");
	/* The peer's view with its sites swapped is a device that moved. */
	const char *moved = edit(&f, west, "{id: lun-3p, site: west, kind: replicated, peer: {id: lun-3, site: east}}",
	                         "{id: lun-3p, site: north, kind: replicated, peer: {id: lun-3, site: east}}");
	ck_assert_str_eq(compare(&f, moved, "west"),
	                 "vanished: device lun-2\nchanged: device lun-3: peer site west -> north\n");
	teardown(&f);
}
END_TEST

/* After a test failover the recovery site reports copies of the plan's VMs under their names: the
 * protected site's report is the one that counts, whichever answered first. */
START_TEST(test_protected_site_first)
{
	struct fx f;
	setup(&f, planned);
	const char *copies = edit(&f, RUNTIME_INVENTORY, "{name: db-01, host: esx-e01, devices: [lun-1, lun-2]}",
	                          "{name: db-01, host: esx-w01, devices: [lun-1p-snap]}");
	struct stale_source s[2] = {{site(&f.l.dag, "west"), parse(&f, copies)},
	                            {site(&f.l.dag, "east"), parse(&f, RUNTIME_INVENTORY)}};
	ck_assert_str_eq(compare_sources(&f, s, 2), "");
	/* West alone cannot speak for VMs at east. */
	ck_assert_str_eq(compare_sources(&f, s, 1), "");
	teardown(&f);
}
END_TEST

/* Sorted by name, a device before a VM of the same name, then by text; the order of the inventory
 * does not matter. */
START_TEST(test_order)
{
	struct fx f;
	setup(&f, planned);
	const char *a = edit(&f, RUNTIME_INVENTORY, "vms:\n",
	                     "vms:\n  - {name: zz-01, devices: [lun-1]}\n  - {name: lun-3, devices: [lun-3]}\n"
	                     "  - {name: aa-01, devices: [lun-3]}\n");
	const char *b = edit(&f, a, "kind: replicated, peer: {id: lun-3p, site: west}}",
	                     "kind: stretched, peer: {id: lun-3q, site: north}}");
	ck_assert_str_eq(compare(&f, b, "east west"),
	                 "appeared: vm aa-01 on lun-3, which the plan protects: the plan would leave the VM behind\n"
	                 "changed: device lun-3: kind replicated -> stretched\n"
	                 "changed: device lun-3: peer lun-3p -> lun-3q\n"
	                 "changed: device lun-3: peer site west -> north\n"
	                 "appeared: vm lun-3 on lun-3, which the plan protects: the plan would leave the VM behind\n"
	                 "appeared: vm zz-01 on lun-1, which the plan protects: the plan would leave the VM behind\n");
	teardown(&f);
}
END_TEST

/* The diagnostic: an error with every harmful line up to the bound, then "... and N more", then
 * the harmless ones; a note when all are harmless. */
START_TEST(test_diagnose)
{
	struct fx f;
	setup(&f, planned);
	struct buf vms = BUF_INIT;
	buf_puts(&vms, "vms:\n");
	for (int i = 0; i < STALE_MAX_LINES + 15; i++)
		buf_printf(&vms, "  - {name: new-%03d, devices: [lun-1]}\n", i);
	const char *a = edit(&f, RUNTIME_INVENTORY, "vms:\n", vms.data);
	const char *b = edit(&f, a, "{name: db-02, host: esx-e02,", "{name: db-02, host: esx-e01,");
	compare(&f, b, "east west");
	ck_assert_uint_eq(f.r.n_diffs, STALE_MAX_LINES + 16);
	ck_assert_uint_eq(f.r.n_harmful, STALE_MAX_LINES + 15);
	struct diag_list diags;
	diag_list_init(&diags);
	struct src_range none = src_range_make(SRC_NONE, 0, 0);
	struct diag *dg = stale_diagnose(&f.r, &f.l.dag, "east and west", "discover again", none, &diags);
	ck_assert_ptr_nonnull(dg);
	ck_assert_int_eq(dg->severity, DIAG_ERROR);
	ck_assert_int_eq(dg->rule, DRP060);
	ck_assert_str_eq(dg->message, "the plan 'move' is stale: 35 differences between the world it was compiled "
	                              "against and a fresh discovery of east and west");
	ck_assert_str_eq(dg->hint, "discover again");
	ck_assert_uint_eq(dg->n_notes, STALE_MAX_LINES + 2);
	ck_assert_str_eq(dg->notes[0].message,
	                 "appeared: vm new-000 on lun-1, which the plan protects: the plan would leave the VM behind");
	ck_assert_str_eq(dg->notes[STALE_MAX_LINES - 1].message,
	                 "appeared: vm new-019 on lun-1, which the plan protects: the plan would leave the VM behind");
	ck_assert_str_eq(dg->notes[STALE_MAX_LINES].message, "... and 15 more");
	ck_assert_str_eq(dg->notes[STALE_MAX_LINES + 1].message,
	                 "moved: vm db-02: host esx-e02 -> esx-e01 (same site: harmless)");
	diag_list_free(&diags);
	/* Only harmless differences: a note, not an error. */
	const char *c = edit(&f, RUNTIME_INVENTORY, "{name: db-02, host: esx-e02,", "{name: db-02, host: esx-e01,");
	compare(&f, c, "east west");
	diag_list_init(&diags);
	dg = stale_diagnose(&f.r, &f.l.dag, "east", NULL, none, &diags);
	ck_assert_ptr_nonnull(dg);
	ck_assert_int_eq(dg->severity, DIAG_NOTE);
	ck_assert_uint_eq(diags.errors, 0);
	ck_assert_str_eq(dg->message, "the world changed since the plan 'move' was compiled, harmlessly for it: 1 "
	                              "difference with a fresh discovery of east");
	ck_assert_uint_eq(dg->n_notes, 1);
	diag_list_free(&diags);
	buf_free(&vms);
	teardown(&f);
}
END_TEST

Suite *stale_suite(void)
{
	Suite *s = suite_create("stale");
	TCase *tc = tcase_create("compare");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_identical);
	tcase_add_test(tc, test_devices);
	tcase_add_test(tc, test_vms);
	tcase_add_test(tc, test_per_host_limit);
	tcase_add_test(tc, test_scope);
	tcase_add_test(tc, test_protected_site_first);
	tcase_add_test(tc, test_order);
	tcase_add_test(tc, test_diagnose);
	suite_add_tcase(s, tc);
	return s;
}
