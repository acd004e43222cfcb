/* test_inventory.c: the inventory reader (compiler/inventory.c). The example inventories load with
 * no diagnostic and the right records; every rule DRP020-DRP028 fires with its exact message at its
 * exact bytes (multi-byte UTF-8, a BOM and CRLF included); hostile input (billion laughs, deep
 * nesting, a 5 MB scalar, invalid UTF-8) is refused quickly and in little memory; one mistake is
 * one diagnostic; and 100,000 VMs load. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>

#include "../../compiler/inventory.h"
#include "../../compiler/yamlread.h"
#include "../../lib/alloc.h"
#include "../../lib/buf.h"
#include "suites.h"

struct loaded {
	struct src_set set;
	struct diag_list diags;
	struct arena arena;
	struct inventory inv;
	struct src_file *src;
	bool ok;
};

static struct loaded *load_n(const char *text, size_t len)
{
	struct loaded *l = xcalloc(1, sizeof *l);
	src_set_init(&l->set);
	diag_list_init(&l->diags);
	arena_init(&l->arena);
	l->src = src_add(&l->set, "inv.yaml", text, len);
	l->ok = inventory_parse(&l->inv, &l->arena, l->src, &l->diags);
	return l;
}

static struct loaded *load(const char *text)
{
	return load_n(text, strlen(text));
}

static void loaded_free(struct loaded *l)
{
	diag_list_free(&l->diags);
	arena_free(&l->arena);
	src_set_free(&l->set);
	free(l);
}

/* The text a range covers must be exactly `expect`. */
static void assert_range(const struct loaded *l, struct src_range r, const char *expect)
{
	ck_assert_uint_eq(r.file, l->src->id);
	ck_assert_uint_le(r.start, r.end);
	ck_assert_uint_le(r.end, l->src->len);
	ck_assert_uint_eq(r.end - r.start, strlen(expect));
	ck_assert_mem_eq(l->src->text + r.start, expect, strlen(expect));
}

static void assert_str(const struct loaded *l, const struct inv_str *s, const char *value, const char *written)
{
	ck_assert_ptr_nonnull(s->text);
	ck_assert_str_eq(s->text, value);
	ck_assert_uint_eq(s->len, strlen(value));
	assert_range(l, s->at, written);
}

/* The one diagnostic there must be. */
static struct diag *only(const struct loaded *l, enum diag_rule rule, const char *message)
{
	if (l->diags.len != 1) {
		for (size_t i = 0; i < l->diags.len; i++)
			fprintf(stderr, "  diagnostic %zu: [%s] %s\n", i, diag_rule_info(l->diags.items[i]->rule)->id,
			        l->diags.items[i]->message);
	}
	ck_assert_uint_eq(l->diags.len, 1);
	struct diag *d = l->diags.items[0];
	ck_assert_str_eq(diag_rule_info(d->rule)->id, diag_rule_info(rule)->id);
	ck_assert_int_eq(d->severity, DIAG_ERROR);
	ck_assert_str_eq(d->message, message);
	return d;
}

static size_t count_rule(const struct loaded *l, enum diag_rule rule)
{
	size_t n = 0;
	for (size_t i = 0; i < l->diags.len; i++)
		n += l->diags.items[i]->rule == rule;
	return n;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- The examples */

static struct loaded *load_file(const char *path)
{
	struct loaded *l = xcalloc(1, sizeof *l);
	src_set_init(&l->set);
	diag_list_init(&l->diags);
	arena_init(&l->arena);
	l->ok = inventory_load(&l->inv, &l->arena, &l->set, &l->diags, path, src_range_make(SRC_NONE, 0, 0));
	l->src = l->inv.src;
	return l;
}

START_TEST(test_examples_counts)
{
	static const struct {
		const char *path;
		uint32_t sites, devices, vms, migrations;
	} examples[] = {
		{"plans/inventory/dr-test.yaml", 2, 4, 13, 1},
		{"plans/inventory/erp.yaml", 2, 6, 14, 1},
		{"plans/inventory/metro.yaml", 2, 6, 16, 0},
		{"plans/inventory/payments.yaml", 2, 6, 18, 0},
	};
	for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++) {
		struct loaded *l = load_file(examples[i].path);
		ck_assert_msg(l->ok, "%s did not load", examples[i].path);
		ck_assert_msg(l->diags.len == 0, "%s: %s", examples[i].path,
		              l->diags.len ? l->diags.items[0]->message : "");
		ck_assert_uint_eq(l->inv.version, 1);
		ck_assert_uint_eq(l->inv.n_sites, examples[i].sites);
		ck_assert_uint_eq(l->inv.n_devices, examples[i].devices);
		ck_assert_uint_eq(l->inv.n_vms, examples[i].vms);
		ck_assert_uint_eq(l->inv.n_migrations, examples[i].migrations);
		loaded_free(l);
	}
}
END_TEST

/* Whatever example is added to plans/inventory/ later must load cleanly too. */
START_TEST(test_examples_all_clean)
{
	DIR *dir = opendir("plans/inventory");
	ck_assert_ptr_nonnull(dir);
	size_t seen = 0;
	struct dirent *e;
	while ((e = readdir(dir))) {
		size_t n = strlen(e->d_name);
		if (n < 6 || strcmp(e->d_name + n - 5, ".yaml") != 0)
			continue;
		char path[512];
		snprintf(path, sizeof path, "plans/inventory/%s", e->d_name);
		struct loaded *l = load_file(path);
		ck_assert_msg(l->ok && l->diags.len == 0, "%s: %s", path, l->diags.len ? l->diags.items[0]->message : "");
		ck_assert_uint_gt(l->inv.n_vms, 0);
		loaded_free(l);
		seen++;
	}
	closedir(dir);
	ck_assert_uint_ge(seen, 4);
}
END_TEST

START_TEST(test_example_records)
{
	struct loaded *l = load_file("plans/inventory/payments.yaml");
	ck_assert(l->ok);
	const struct inventory *inv = &l->inv;
	assert_str(l, &inv->sites[0].name, "east", "east");
	ck_assert_uint_eq(inv->sites[0].n_hosts, 4);
	assert_str(l, &inv->sites[0].hosts[3], "esx-e04", "esx-e04");
	const struct inv_device *d = &inv->devices[0];
	assert_str(l, &d->id, "lun-101", "lun-101");
	assert_str(l, &d->site, "east", "east");
	ck_assert_int_eq(d->kind, INV_REPLICATED);
	assert_range(l, d->kind_at, "replicated");
	assert_str(l, &d->peer_id, "lun-201", "lun-201");
	assert_str(l, &d->peer_site, "west", "west");
	assert_str(l, &d->consistency_group, "cg-pay-db", "cg-pay-db");
	ck_assert_ptr_null(d->preference.text);
	ck_assert_ptr_null(inv->devices[5].consistency_group.text);
	ck_assert_uint_eq(inv->devices[5].consistency_group.at.file, SRC_NONE);
	/* A device entry runs from its first key to the end of its last value, not into comments. */
	assert_range(l, d->at, "id: lun-101                 # PostgreSQL data\n    site: east\n"
	                       "    kind: replicated            # replicated | stretched\n"
	                       "    peer: {id: lun-201, site: west}\n    consistency_group: cg-pay-db");
	const struct inv_vm *vm = &inv->vms[0];
	assert_str(l, &vm->name, "db-01", "db-01");
	assert_str(l, &vm->host, "esx-e01", "esx-e01");
	ck_assert_int_eq(vm->power, INV_POWER_ON); /* `power: on` is the word on, not YAML 1.1's true */
	ck_assert_uint_eq(vm->n_devices, 2);
	assert_str(l, &vm->devices[1], "lun-102", "lun-102");
	ck_assert_uint_eq(vm->n_tags, 1);
	assert_str(l, &vm->tags[0], "tier-1", "tier-1");
	ck_assert_uint_eq(inv->vms[12].n_tags, 2);
	assert_str(l, &inv->vms[12].tags[1], "dmz", "dmz");
	loaded_free(l);

	l = load_file("plans/inventory/metro.yaml");
	ck_assert(l->ok);
	ck_assert_int_eq(l->inv.devices[0].kind, INV_STRETCHED);
	assert_str(l, &l->inv.devices[0].preference, "fra1", "fra1");
	assert_str(l, &l->inv.devices[0].peer_id, "metro-01", "metro-01");
	ck_assert_int_eq(l->inv.devices[4].kind, INV_REPLICATED);
	loaded_free(l);

	l = load_file("plans/inventory/erp.yaml");
	ck_assert(l->ok);
	const struct inv_migration *m = &l->inv.migrations[0];
	assert_str(l, &m->vm, "erp-db-02", "erp-db-02");
	assert_str(l, &m->from, "lun-151", "lun-151");
	assert_str(l, &m->to, "lun-153", "lun-153");
	ck_assert_int_eq(m->state, INV_MIGRATION_IN_PROGRESS);
	/* A quoted scalar's range includes its quotes. */
	assert_str(l, &m->time, "2024-06-03T02:17:45Z", "\"2024-06-03T02:17:45Z\"");
	assert_str(l, &l->inv.vms[13].name, "Finance Reports (legacy)", "\"Finance Reports (legacy)\"");
	loaded_free(l);
}
END_TEST

/* ---- Offsets */

/* libyaml 0.2.5 counts mark.index in characters, not bytes: inventory.c converts. If a libyaml
 * update changes that, this test says so before any range goes wrong. */
START_TEST(test_libyaml_marks_count_characters)
{
	const char *text = "\"\xc3\xa9\xe6\x9d\xb1\": x\n"; /* "é東": x */
	yaml_parser_t parser;
	ck_assert(yaml_parser_initialize(&parser));
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
	yaml_event_t ev;
	size_t end_index = 0;
	for (int i = 0; i < 8; i++) {
		ck_assert(yaml_parser_parse(&parser, &ev));
		bool scalar = ev.type == YAML_SCALAR_EVENT;
		if (scalar)
			end_index = ev.end_mark.index;
		yaml_event_delete(&ev);
		if (scalar)
			break;
	}
	yaml_parser_delete(&parser);
	ck_assert_uint_eq(end_index, 4); /* 4 characters; the bytes would be 7 */
}
END_TEST

START_TEST(test_ranges_multibyte)
{
	const char *text = "version: 1\n"
	                   "sites:\n"
	                   "  - name: \"\xc3\xa9\xe6\x9d\xb1\"   # é東\n"
	                   "    hosts: [h\xe2\x82\xac, 'x y', \xf0\x9f\x98\x80]\n"
	                   "  - name: west\n"
	                   "    bad\xc3\xa9: 1\n";
	struct loaded *l = load(text);
	ck_assert(l->ok);
	struct diag *d = only(l, DRP021, "unknown key 'bad\xc3\xa9' in a site");
	assert_range(l, d->at, "bad\xc3\xa9");
	assert_str(l, &l->inv.sites[0].name, "\xc3\xa9\xe6\x9d\xb1", "\"\xc3\xa9\xe6\x9d\xb1\"");
	assert_str(l, &l->inv.sites[0].hosts[0], "h\xe2\x82\xac", "h\xe2\x82\xac");
	assert_str(l, &l->inv.sites[0].hosts[1], "x y", "'x y'");
	assert_str(l, &l->inv.sites[0].hosts[2], "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80");
	assert_str(l, &l->inv.sites[1].name, "west", "west");
	loaded_free(l);
}
END_TEST

START_TEST(test_ranges_bom_and_crlf)
{
	const char *text = "\xef\xbb\xbfversion: 1\r\nsites:\r\n  - name: \xc3\xa9\r\n    nam: x\r\n";
	struct loaded *l = load(text);
	ck_assert(l->ok);
	struct diag *d = only(l, DRP021, "unknown key 'nam' in a site");
	assert_range(l, d->at, "nam");
	ck_assert_str_eq(d->fixit, "name");
	assert_str(l, &l->inv.sites[0].name, "\xc3\xa9", "\xc3\xa9");
	loaded_free(l);

	/* Pure ASCII after the BOM takes the fast path; the offsets still count the BOM. */
	l = load("\xef\xbb\xbfversion: 1\nsites:\n  - name: east\n");
	ck_assert(l->ok && l->diags.len == 0);
	assert_str(l, &l->inv.sites[0].name, "east", "east");
	loaded_free(l);
}
END_TEST

START_TEST(test_flow_style)
{
	const char *text = "{version: 1, sites: [{name: a, hosts: [h1]}], devices: [{id: d1, site: a, kind: stretched, "
	                   "peer: {id: d1, site: b}, preference: a}], vms: [{name: v, devices: [d1]}]}";
	struct loaded *l = load(text);
	ck_assert(l->ok);
	ck_assert_uint_eq(l->diags.len, 0);
	ck_assert_uint_eq(l->inv.n_vms, 1);
	assert_range(l, l->inv.vms[0].at, "{name: v, devices: [d1]}");
	assert_range(l, l->inv.sites[0].at, "{name: a, hosts: [h1]}");
	ck_assert_int_eq(l->inv.vms[0].power, INV_POWER_UNKNOWN);
	loaded_free(l);
}
END_TEST

/* ---- DRP020 */

START_TEST(test_syntax_error)
{
	const char *text = "version: 1\nsites:\n  - name: a\n    hosts: [a, b\n";
	struct loaded *l = load(text);
	ck_assert(!l->ok);
	struct diag *d = only(l, DRP020, "invalid YAML: did not find expected ',' or ']'");
	ck_assert_uint_eq(d->at.start, strlen(text)); /* at the end of the file */
	ck_assert_uint_eq(d->at.end, strlen(text));
	ck_assert_uint_eq(d->n_notes, 1);
	ck_assert_str_eq(d->notes[0].message, "while parsing a flow sequence");
	assert_range(l, d->notes[0].at, "[");
	loaded_free(l);

	l = load("version: 1\nvms:\n  - name: a\n\tdevices: [x]\n");
	ck_assert(!l->ok);
	d = only(l, DRP020, "invalid YAML: found a tab character that violates indentation");
	assert_range(l, d->at, "\t");
	ck_assert_str_eq(d->hint, "YAML does not allow tabs for indentation; use spaces");
	loaded_free(l);

	/* Reading stops at a syntax error: nothing after it is reported. */
	l = load("version: 1\nbogus: 1\nsites: [\n");
	ck_assert(!l->ok);
	ck_assert_uint_eq(l->diags.len, 2);
	ck_assert_int_eq(l->diags.items[0]->rule, DRP021);
	ck_assert_int_eq(l->diags.items[1]->rule, DRP020);
	loaded_free(l);
}
END_TEST

START_TEST(test_invalid_utf8)
{
	struct loaded *l = load("version: 1\nsites: [\xff]\n");
	ck_assert(!l->ok);
	struct diag *d = only(l, DRP020, "invalid YAML: invalid leading UTF-8 octet 0xFF");
	ck_assert_uint_eq(d->at.start, 19);
	ck_assert_uint_eq(d->at.end, 20);
	loaded_free(l);

	/* After multi-byte text: the reader's offset is in bytes. */
	l = load("version: 1\nsites: [\xc3\xa9\xc3\xa9, \xe2\x82]\n");
	ck_assert(!l->ok);
	d = only(l, DRP020, "invalid YAML: invalid trailing UTF-8 octet 0x5D");
	ck_assert_uint_eq(d->at.start, 27);
	loaded_free(l);

	/* Truncated at the end of the file, overlong, a surrogate, a NUL. */
	static const char *const bad[] = {
		"version: 1\nx: \xc3", "version: 1\nx: \xc0\xaf\n", "version: 1\nx: \xed\xa0\x80\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		l = load(bad[i]);
		ck_assert(!l->ok);
		ck_assert_uint_eq(count_rule(l, DRP020), 1);
		ck_assert_uint_le(l->diags.items[l->diags.len - 1]->at.end, l->src->len);
		loaded_free(l);
	}
	l = load_n("version: 1\nx: a\0b\n", 18);
	ck_assert(!l->ok);
	d = only(l, DRP020, "invalid YAML: control characters are not allowed (U+0000)");
	ck_assert_uint_eq(d->at.start, 15);
	ck_assert_uint_eq(d->at.end, 16);
	loaded_free(l);

	l = load("\xff\xfev\0e\0r\0");
	ck_assert(!l->ok);
	d = only(l, DRP020, "invalid YAML: invalid leading UTF-8 octet 0xFF");
	ck_assert_str_eq(d->hint, "this looks like UTF-16; an inventory is UTF-8");
	loaded_free(l);
}
END_TEST

/* ---- DRP021 */

START_TEST(test_unknown_keys)
{
	struct loaded *l = load("version: 1\nvms:\n  - nmae: db-01\n    devices: [d]\n    colour: red\n");
	ck_assert(l->ok); /* readable, with errors */
	ck_assert_uint_eq(l->diags.len, 2); /* no "missing 'name'" after "did you mean 'name'?" */
	struct diag *d = l->diags.items[0];
	ck_assert_int_eq(d->rule, DRP021);
	ck_assert_str_eq(d->message, "unknown key 'nmae' in a VM");
	ck_assert_str_eq(d->hint, "did you mean 'name'?");
	ck_assert_str_eq(d->fixit, "name");
	assert_range(l, d->at, "nmae");
	d = l->diags.items[1];
	ck_assert_str_eq(d->message, "unknown key 'colour' in a VM");
	ck_assert_str_eq(d->hint, "the keys in a VM are name, host, power, devices and tags");
	ck_assert_ptr_null(d->fixit);
	ck_assert_uint_eq(l->inv.n_vms, 1);
	loaded_free(l);

	/* Suggestions come from the keys valid at that place only. */
	l = load("version: 1\nsite: []\ndevices:\n  - id: d\n    site: a\n    kind: stretched\n"
	         "    peer: {id: d, sit: b}\n    prefrence: a\n");
	ck_assert_uint_eq(l->diags.len, 3);
	ck_assert_str_eq(l->diags.items[0]->message, "unknown key 'site' at the top level");
	ck_assert_str_eq(l->diags.items[0]->fixit, "sites");
	ck_assert_str_eq(l->diags.items[1]->message, "unknown key 'sit' in a device's peer");
	ck_assert_str_eq(l->diags.items[1]->fixit, "site");
	ck_assert_str_eq(l->diags.items[2]->message, "unknown key 'prefrence' in a device");
	ck_assert_str_eq(l->diags.items[2]->fixit, "preference");
	loaded_free(l);

	/* The value of an unknown key is skipped whole, anchors excepted. */
	l = load("version: 1\nextra: {nmae: [1, {x: y}], vms: 3}\n");
	ck_assert(l->ok);
	only(l, DRP021, "unknown key 'extra' at the top level");
	loaded_free(l);

	/* preference belongs to stretched devices. */
	l = load("version: 1\ndevices:\n  - id: d\n    preference: a\n    site: a\n    kind: replicated\n"
	         "    peer: {id: e, site: b}\n");
	struct diag *p = only(l, DRP021, "'preference' applies only to stretched devices, and device 'd' is replicated");
	assert_range(l, p->at, "preference");
	loaded_free(l);
}
END_TEST

/* ---- DRP022 */

/* Every YAML reader quotes a wrong value the same way (compiler/yamlread.c): at most 40 bytes, cut
 * on a character boundary, control characters escaped. */
START_TEST(test_quoting)
{
	struct buf b = BUF_INIT;
	yaml_quote(&b, "a\x1b[31mb\x7f", 8);
	ck_assert_str_eq(b.data, "'a\\x1B[31mb\\x7F'");
	buf_clear(&b);
	/* 39 ASCII bytes, then a two-byte character across the 40-byte cut: it is left out whole. */
	char text[64];
	memset(text, 'x', 39);
	memcpy(text + 39, "\xc3\xa9tail", 6);
	yaml_quote(&b, text, 45);
	ck_assert_uint_eq(b.len, 1 + 39 + 4);
	ck_assert_str_eq(b.data + 40, "...'");
	buf_free(&b);

	/* In an inventory: a wrong value with an escape sequence is quoted harmlessly. */
	struct loaded *l = load("version: 1\nsites:\n  - name: a\n    hosts: \"\\e[2J\"\n");
	only(l, DRP022, "'hosts' must be a list, found text '\\x1B[2J'");
	loaded_free(l);
}
END_TEST

START_TEST(test_wrong_types)
{
	/* A wrong-typed value is one diagnostic over the whole value, and its contents are skipped. */
	struct loaded *l = load("version: 1\nvms: {nmae: x, foo: [1, 2], power: maybe}\n");
	ck_assert(l->ok);
	struct diag *d = only(l, DRP022, "'vms' must be a list, found a mapping");
	assert_range(l, d->at, "{nmae: x, foo: [1, 2], power: maybe}");
	loaded_free(l);

	l = load("version: 1\nsites:\n  - name: a\n    hosts:\n      x: 1\n      y: [2]\n  - name: b\n");
	d = only(l, DRP022, "'hosts' must be a list, found a mapping");
	assert_range(l, d->at, "x: 1\n      y: [2]");
	ck_assert_uint_eq(l->inv.n_sites, 2);
	loaded_free(l);

	l = load("version: 1\nsites:\n  - name: a\n    hosts: esx-1\n");
	d = only(l, DRP022, "'hosts' must be a list, found text 'esx-1'");
	ck_assert_str_eq(d->fixit, "[esx-1]");
	ck_assert_str_eq(d->hint, "write a list, even of one host name: [esx-1]");
	loaded_free(l);

	l = load("version: 1\nsites:\n  - name: [a, b]\n");
	d = only(l, DRP022, "'name' must be text, found a list");
	assert_range(l, d->at, "[a, b]");
	loaded_free(l);

	l = load("version: 1\nvms:\n  - web-01\n  - [x]\n");
	ck_assert_uint_eq(l->diags.len, 2);
	ck_assert_str_eq(l->diags.items[0]->message, "a VM must be a mapping, found text 'web-01'");
	ck_assert_str_eq(l->diags.items[1]->message, "a VM must be a mapping, found a list");
	ck_assert_uint_eq(l->inv.n_vms, 0);
	loaded_free(l);

	l = load("version: 1\nvms:\n  - name: a\n    devices: [d, [e], {f: g}, ~]\n");
	ck_assert_uint_eq(l->diags.len, 3);
	ck_assert_str_eq(l->diags.items[0]->message, "each item of 'devices' must be a device id, found a list");
	ck_assert_str_eq(l->diags.items[1]->message, "each item of 'devices' must be a device id, found a mapping");
	ck_assert_str_eq(l->diags.items[2]->message, "each item of 'devices' must be a device id, found an empty value");
	ck_assert_uint_eq(l->inv.vms[0].n_devices, 1);
	loaded_free(l);

	l = load("version: 1\n? [a]\n: b\n");
	d = only(l, DRP022, "a key must be text, found a list");
	assert_range(l, d->at, "[a]");
	loaded_free(l);

	l = load("- version: 1\n");
	ck_assert(!l->ok);
	only(l, DRP022, "an inventory must be a mapping, found a list");
	loaded_free(l);
	l = load("just text\n");
	ck_assert(!l->ok);
	only(l, DRP022, "an inventory must be a mapping, found text 'just text'");
	loaded_free(l);

	l = load("version: \"1\"\n");
	ck_assert(!l->ok);
	d = only(l, DRP022, "'version' must be an integer, found text '1'");
	ck_assert_str_eq(d->fixit, "1");
	loaded_free(l);
	l = load("version: one\nsites: 3\n");
	ck_assert(!l->ok);
	ck_assert_uint_eq(l->diags.len, 2); /* a mistyped version: reading goes on */
	ck_assert_str_eq(l->diags.items[0]->message, "'version' must be an integer, found text 'one'");
	ck_assert_str_eq(l->diags.items[1]->message, "'sites' must be a list, found text '3'");
	loaded_free(l);
}
END_TEST

/* ---- DRP023 */

START_TEST(test_missing_fields)
{
	struct loaded *l = load("version: 1\ndevices:\n  - id: lun-1\n    site: east\n    peer: {id: lun-2}\n");
	ck_assert_uint_eq(l->diags.len, 2);
	struct diag *d = l->diags.items[0];
	ck_assert_int_eq(d->rule, DRP023);
	ck_assert_str_eq(d->message, "missing required field 'site' in 'peer'");
	assert_range(l, d->at, "{id: lun-2}");
	d = l->diags.items[1];
	ck_assert_str_eq(d->message, "missing required field 'kind' in device 'lun-1'");
	ck_assert_str_eq(d->hint, "add 'kind: replicated'");
	assert_range(l, d->at, "id: lun-1\n    site: east\n    peer: {id: lun-2}");
	ck_assert_uint_eq(l->inv.n_devices, 1); /* kept, with the field absent */
	ck_assert_uint_eq(l->inv.devices[0].kind_at.file, SRC_NONE);
	loaded_free(l);

	l = load("version: 1\nvms:\n  - host: h\n    devices: [d]\n");
	d = only(l, DRP023, "missing required field 'name' in a VM");
	assert_range(l, d->at, "host: h\n    devices: [d]");
	loaded_free(l);

	l = load("version: 1\nvms:\n  - name: a\n    devices: []\n  - name: b\n    devices:\n  - name: c\n");
	ck_assert_uint_eq(l->diags.len, 3);
	ck_assert_str_eq(l->diags.items[0]->message, "'devices' is empty: at least one device id is required");
	assert_range(l, l->diags.items[0]->at, "[]");
	ck_assert_str_eq(l->diags.items[1]->message, "'devices' has no value: at least one device id is required");
	assert_range(l, l->diags.items[1]->at, "devices");
	ck_assert_str_eq(l->diags.items[2]->message, "missing required field 'devices' in VM 'c'");
	loaded_free(l);

	l = load("version: 1\nstorage_migrations:\n  - vm: a\n    from: x\n    to: y\n    state: completed\n");
	only(l, DRP023, "missing required field 'time' in storage migration 'a'");
	loaded_free(l);

	/* Empty optional values are absent, not errors. */
	l = load("version: 1\nsites:\n  - name: a\n    hosts:\nvms:\n  - name: v\n    host: ~\n    power:\n"
	         "    devices: [d]\n    tags: null\nstorage_migrations:\n");
	ck_assert(l->ok);
	ck_assert_uint_eq(l->diags.len, 0);
	ck_assert_uint_eq(l->inv.sites[0].n_hosts, 0);
	ck_assert_ptr_null(l->inv.vms[0].host.text);
	ck_assert_int_eq(l->inv.vms[0].power, INV_POWER_UNKNOWN);
	loaded_free(l);

	l = load("version: 1\nsites:\n  - name:\n");
	only(l, DRP023, "'name' has no value");
	loaded_free(l);
}
END_TEST

/* ---- DRP024 */

START_TEST(test_duplicate_keys)
{
	struct loaded *l = load("version: 1\nvms:\n  - name: a\n    devices: [d]\n    name: b\n");
	struct diag *d = only(l, DRP024, "duplicate key 'name' in a VM");
	assert_range(l, d->at, "name");
	ck_assert_uint_eq(d->at.start, 49);
	ck_assert_uint_eq(d->n_notes, 1);
	ck_assert_str_eq(d->notes[0].message, "'name' was first given here");
	ck_assert_uint_eq(d->notes[0].at.start, 20);
	assert_str(l, &l->inv.vms[0].name, "a", "a"); /* the first one counts */
	loaded_free(l);

	/* A duplicated list: its second value is skipped whole, without more diagnostics. */
	l = load("version: 1\nvms: []\nvms:\n  - nmae: x\n");
	only(l, DRP024, "duplicate key 'vms' at the top level");
	ck_assert_uint_eq(l->inv.n_vms, 0);
	loaded_free(l);
	l = load("version: 1\nversion: 1\n");
	only(l, DRP024, "duplicate key 'version' at the top level");
	loaded_free(l);
}
END_TEST

/* ---- DRP025 */

START_TEST(test_billion_laughs)
{
	const char *text = "version: 1\n"
	                   "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	                   "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	                   "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
	                   "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
	                   "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
	                   "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
	                   "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
	                   "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
	                   "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
	                   "vms: *i\n";
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct loaded *l = load(text);
	double elapsed = seconds_since(&t0);
	ck_assert_msg(elapsed < 2.0, "took %.3f s", elapsed);
	ck_assert(!l->ok);
	ck_assert_uint_lt(l->arena.total, 4u << 20);
	ck_assert_uint_eq(l->diags.len, 2);
	ck_assert_int_eq(l->diags.items[0]->rule, DRP021); /* 'a' */
	struct diag *d = l->diags.items[1];
	ck_assert_int_eq(d->rule, DRP025);
	ck_assert_str_eq(d->message, "YAML anchors are not allowed in an inventory (found '&a')");
	assert_range(l, d->at, "&a");
	loaded_free(l);

	/* The same bomb under keys the format knows. */
	struct buf b = BUF_INIT;
	buf_puts(&b, "version: 1\nvms:\n  - name: &l0 lol\n");
	for (int i = 1; i < 30; i++) {
		buf_printf(&b, "  - name: &l%d [", i);
		for (int k = 0; k < 10; k++)
			buf_printf(&b, "%s*l%d", k ? "," : "", i - 1);
		buf_puts(&b, "]\n");
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	l = load(b.data);
	elapsed = seconds_since(&t0);
	ck_assert_msg(elapsed < 2.0, "took %.3f s", elapsed);
	ck_assert_uint_lt(l->arena.total, 4u << 20);
	d = only(l, DRP025, "YAML anchors are not allowed in an inventory (found '&l0')");
	assert_range(l, d->at, "&l0");
	loaded_free(l);
	buf_free(&b);

	l = load("version: 1\nvms: *x\n");
	ck_assert(!l->ok);
	d = only(l, DRP025, "YAML aliases are not allowed in an inventory (found '*x')");
	assert_range(l, d->at, "*x");
	loaded_free(l);
}
END_TEST

START_TEST(test_deep_nesting)
{
	/* 16 levels: the root mapping and 15 lists. Accepted (only the unknown key is reported). */
	struct buf b = BUF_INIT;
	buf_puts(&b, "version: 1\nx: ");
	buf_repeat(&b, '[', INVENTORY_MAX_DEPTH - 1);
	buf_repeat(&b, ']', INVENTORY_MAX_DEPTH - 1);
	buf_putc(&b, '\n');
	struct loaded *l = load(b.data);
	ck_assert(l->ok);
	only(l, DRP021, "unknown key 'x' at the top level");
	loaded_free(l);

	/* 17 levels: refused at the 17th opening bracket, and reading stops. */
	buf_clear(&b);
	buf_puts(&b, "version: 1\nx: ");
	buf_repeat(&b, '[', INVENTORY_MAX_DEPTH);
	buf_repeat(&b, ']', INVENTORY_MAX_DEPTH);
	buf_puts(&b, "\nbogus: 1\n");
	l = load(b.data);
	ck_assert(!l->ok);
	ck_assert_uint_eq(l->diags.len, 2);
	struct diag *d = l->diags.items[1];
	ck_assert_int_eq(d->rule, DRP025);
	ck_assert_str_eq(d->message, "nesting deeper than 16 levels");
	ck_assert_uint_eq(d->at.start, 14 + INVENTORY_MAX_DEPTH - 1);
	ck_assert_uint_eq(d->at.end, 14 + INVENTORY_MAX_DEPTH);
	loaded_free(l);

	/* A million brackets, and block nesting: refused quickly. */
	buf_clear(&b);
	buf_puts(&b, "version: 1\nvms: ");
	buf_repeat(&b, '[', 1000000);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	l = load(b.data);
	ck_assert_msg(seconds_since(&t0) < 2.0, "took %.3f s", seconds_since(&t0));
	ck_assert(!l->ok);
	ck_assert_uint_eq(count_rule(l, DRP025), 1);
	loaded_free(l);

	buf_clear(&b);
	buf_puts(&b, "version: 1\n");
	for (int i = 0; i < 40; i++) {
		buf_repeat(&b, ' ', (size_t)i * 2);
		buf_printf(&b, "k%d:\n", i);
	}
	l = load(b.data);
	ck_assert(!l->ok);
	ck_assert_uint_eq(count_rule(l, DRP025), 1);
	loaded_free(l);
	buf_free(&b);
}
END_TEST

START_TEST(test_huge_scalar)
{
	size_t n = 5u << 20;
	struct buf b = BUF_INIT;
	buf_puts(&b, "version: 1\nvms:\n  - name: ");
	size_t start = b.len;
	buf_repeat(&b, 'x', n);
	buf_puts(&b, "\n    devices: [d]\n");
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct loaded *l = load(b.data);
	ck_assert_msg(seconds_since(&t0) < 2.0, "took %.3f s", seconds_since(&t0));
	/* One diagnostic: no "missing name" after it. */
	struct diag *d = only(l, DRP025, "a value of 5242880 bytes; the limit is 4096 bytes");
	ck_assert_uint_eq(d->at.start, start);
	ck_assert_uint_eq(d->at.end, start + n);
	ck_assert_uint_lt(l->arena.total, 1u << 20); /* the value was not kept */
	ck_assert_ptr_null(l->inv.vms[0].name.text);
	loaded_free(l);
	buf_free(&b);

	/* At the limit exactly: accepted. */
	b = (struct buf)BUF_INIT;
	buf_puts(&b, "version: 1\nsites:\n  - name: ");
	buf_repeat(&b, 'y', INVENTORY_MAX_SCALAR);
	buf_putc(&b, '\n');
	l = load(b.data);
	ck_assert(l->ok && l->diags.len == 0);
	ck_assert_uint_eq(l->inv.sites[0].name.len, INVENTORY_MAX_SCALAR);
	loaded_free(l);
	buf_free(&b);
}
END_TEST

START_TEST(test_documents_and_tags)
{
	struct loaded *l = load("version: 1\n---\nversion: 1\n");
	ck_assert(!l->ok);
	struct diag *d = only(l, DRP025, "a second YAML document; an inventory is one document");
	assert_range(l, d->at, "---");
	loaded_free(l);

	l = load("---\nversion: 1\n...\n");
	ck_assert(l->ok && l->diags.len == 0); /* one explicit document is fine */
	loaded_free(l);

	l = load("version: 1\nsites: !!seq []\n");
	d = only(l, DRP025, "YAML tags are not allowed in an inventory");
	assert_range(l, d->at, "!!seq");
	loaded_free(l);
}
END_TEST

/* ---- DRP026 */

START_TEST(test_version)
{
	struct loaded *l = load("");
	ck_assert(!l->ok);
	struct diag *d = only(l, DRP026, "the inventory is empty: it has no 'version'");
	ck_assert_str_eq(d->fixit, "version: 1\n");
	ck_assert_uint_eq(d->at.start, 0);
	ck_assert_uint_eq(d->at.end, 0);
	loaded_free(l);

	l = load("# nothing but a comment\n\n");
	ck_assert(!l->ok);
	only(l, DRP026, "the inventory is empty: it has no 'version'");
	loaded_free(l);

	l = load("# header\nsites: []\nvms: []\n");
	ck_assert(!l->ok);
	d = only(l, DRP026, "the inventory has no 'version'");
	ck_assert_uint_eq(d->at.start, 9); /* where the fix-it inserts it */
	ck_assert_str_eq(d->fixit, "version: 1\n");
	loaded_free(l);

	/* An unsupported version stops the reading: the rest may be another format. */
	l = load("version: 2\nmachines: []\n");
	ck_assert(!l->ok);
	d = only(l, DRP026, "unsupported inventory version 2");
	assert_range(l, d->at, "2");
	ck_assert_str_eq(d->hint, "this drplan reads inventory format version 1");
	loaded_free(l);

	l = load("version: 99999999999999999999999\n");
	ck_assert(!l->ok);
	only(l, DRP025, "version 99999999999999999999999 is out of range");
	loaded_free(l);

	l = load("version: 001\n");
	ck_assert(l->ok && l->diags.len == 0);
	ck_assert_uint_eq(l->inv.version, 1);
	loaded_free(l);

	l = load("version:\n");
	ck_assert(!l->ok);
	only(l, DRP026, "'version' has no value");
	loaded_free(l);
}
END_TEST

/* ---- DRP027 and DRP014 */

START_TEST(test_vocabularies)
{
	struct loaded *l = load("version: 1\ndevices:\n  - id: d\n    site: a\n    kind: Replicated\n"
	                        "    peer: {id: e, site: b}\n");
	struct diag *d = only(l, DRP027, "unknown device kind 'Replicated'; expected replicated or stretched");
	ck_assert_str_eq(d->fixit, "replicated");
	assert_range(l, d->at, "Replicated");
	loaded_free(l);

	l = load("version: 1\nvms:\n  - name: a\n    devices: [d]\n    power: true\n"
	         "  - name: b\n    devices: [d]\n    power: 'off'\n  - name: c\n    devices: [d]\n    power: offf\n");
	ck_assert_uint_eq(l->diags.len, 2);
	ck_assert_str_eq(l->diags.items[0]->message, "unknown power state 'true'; expected on or off");
	ck_assert_str_eq(l->diags.items[0]->fixit, "on");
	ck_assert_str_eq(l->diags.items[1]->message, "unknown power state 'offf'; expected on or off");
	ck_assert_str_eq(l->diags.items[1]->fixit, "off");
	ck_assert_int_eq(l->inv.vms[1].power, INV_POWER_OFF);
	loaded_free(l);

	l = load("version: 1\nstorage_migrations:\n  - {vm: a, from: x, to: y, state: in_progress, "
	         "time: \"2024-05-14T22:41:07Z\"}\n");
	d = only(l, DRP027, "unknown migration state 'in_progress'; expected completed or in-progress");
	ck_assert_str_eq(d->fixit, "in-progress");
	loaded_free(l);

	static const char *const good_times[] = {
		"2024-05-14T22:41:07Z", "2024-05-14t22:41:07z", "2024-05-14 22:41:07+02:00",
		"2024-02-29T00:00:00.123456-11:30", "2016-12-31T23:59:60Z",
	};
	static const char *const bad_times[] = {
		"2024-05-14", "2024-05-14T22:41:07", "2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z",
		"2024-05-14T24:00:00Z", "2024-05-14T22:41:07+0200", "2024-05-14T22:41:07.Z", "yesterday",
	};
	for (size_t i = 0; i < sizeof good_times / sizeof good_times[0]; i++) {
		char text[256];
		snprintf(text, sizeof text,
		         "version: 1\nstorage_migrations:\n  - {vm: a, from: x, to: y, state: completed, time: %s}\n",
		         good_times[i]);
		l = load(text);
		ck_assert_msg(l->diags.len == 0, "%s: %s", good_times[i], l->diags.len ? l->diags.items[0]->message : "");
		loaded_free(l);
	}
	for (size_t i = 0; i < sizeof bad_times / sizeof bad_times[0]; i++) {
		char text[256], message[128];
		snprintf(text, sizeof text,
		         "version: 1\nstorage_migrations:\n  - {vm: a, from: x, to: y, state: completed, time: '%s'}\n",
		         bad_times[i]);
		snprintf(message, sizeof message, "'%s' is not an RFC 3339 time", bad_times[i]);
		l = load(text);
		only(l, DRP027, message);
		loaded_free(l);
	}

	l = load("version: 1\nsites:\n  - name: \"a\\tb\"\n  - name: ''\n");
	ck_assert_uint_eq(l->diags.len, 2);
	ck_assert_int_eq(l->diags.items[0]->rule, DRP014);
	ck_assert_str_eq(l->diags.items[0]->message, "the site name contains a control character (U+0009)");
	assert_range(l, l->diags.items[0]->at, "\"a\\tb\"");
	ck_assert_str_eq(l->diags.items[1]->message, "empty site name");
	loaded_free(l);
}
END_TEST

/* ---- DRP013, DRP028 */

START_TEST(test_error_limit)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "version: 1\n");
	for (int i = 0; i < 200; i++)
		buf_printf(&b, "bogus%d: 1\n", i);
	struct loaded *l = load(b.data);
	ck_assert(!l->ok);
	ck_assert_uint_eq(l->diags.len, 51);
	ck_assert_uint_eq(count_rule(l, DRP021), 50);
	ck_assert_str_eq(l->diags.items[50]->message, "too many errors in this inventory (50); stopping here");
	loaded_free(l);
	buf_free(&b);
}
END_TEST

START_TEST(test_unreadable)
{
	struct src_set set;
	struct diag_list diags;
	struct arena arena;
	struct inventory inv;
	src_set_init(&set);
	diag_list_init(&diags);
	arena_init(&arena);
	struct src_range at = src_range_make(0, 10, 30);
	ck_assert(!inventory_load(&inv, &arena, &set, &diags, "/nonexistent/inventory.yaml", at));
	ck_assert_uint_eq(diags.len, 1);
	ck_assert_int_eq(diags.items[0]->rule, DRP028);
	ck_assert_str_eq(diags.items[0]->message,
	                 "cannot read inventory '/nonexistent/inventory.yaml': No such file or directory");
	ck_assert_uint_eq(diags.items[0]->at.start, 10);
	ck_assert_uint_eq(diags.items[0]->at.end, 30);
	ck_assert(!inventory_load(&inv, &arena, &set, &diags, "plans/inventory", at));
	ck_assert_str_eq(diags.items[1]->message, "cannot read inventory 'plans/inventory': is a directory");
	ck_assert_uint_eq(inv.n_vms, 0);
	ck_assert_uint_eq(set.len, 0);
	diag_list_free(&diags);
	arena_free(&arena);
	src_set_free(&set);
}
END_TEST

/* ---- Scale */

START_TEST(test_100k_vms)
{
	enum { N = 100000 };
	struct buf b = BUF_INIT;
	buf_puts(&b, "version: 1\nsites:\n  - name: east\n    hosts: [esx-1, esx-2]\n  - name: west\n"
	             "devices:\n");
	for (int i = 0; i < N / 20; i++)
		buf_printf(&b, "  - id: lun-%d\n    site: east\n    kind: replicated\n    peer: {id: lun-p%d, site: west}\n",
		           i, i);
	buf_puts(&b, "vms:\n");
	for (int i = 0; i < N; i++)
		buf_printf(&b, "  - name: vm-%06d\n    host: esx-%d\n    power: %s\n    devices: [lun-%d]\n    tags: [t%d]\n",
		           i, i % 2 + 1, i % 7 ? "on" : "off", i % (N / 20), i % 3);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct loaded *l = load_n(b.data, b.len);
	double elapsed = seconds_since(&t0);
	ck_assert(l->ok);
	ck_assert_uint_eq(l->diags.len, 0);
	ck_assert_uint_eq(l->inv.n_vms, N);
	ck_assert_uint_eq(l->inv.n_devices, N / 20);
	assert_str(l, &l->inv.vms[N - 1].name, "vm-099999", "vm-099999");
	assert_str(l, &l->inv.vms[N - 1].devices[0], "lun-4999", "lun-4999");
	ck_assert_int_eq(l->inv.vms[7].power, INV_POWER_OFF);
	/* Memory near the records': well under 300 bytes a VM, for ~110 bytes of YAML a VM. */
	ck_assert_uint_lt(l->arena.total, (size_t)N * 300);
	fprintf(stderr, "inventory: 100k VMs (%.1f MB of YAML) in %.3f s, %.1f MB in the arena\n", b.len / 1e6,
	        elapsed, l->arena.total / 1e6);
	loaded_free(l);
	buf_free(&b);
}
END_TEST

Suite *inventory_suite(void)
{
	Suite *s = suite_create("inventory");
	TCase *tc = tcase_create("inventory");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_examples_counts);
	tcase_add_test(tc, test_examples_all_clean);
	tcase_add_test(tc, test_example_records);
	tcase_add_test(tc, test_libyaml_marks_count_characters);
	tcase_add_test(tc, test_ranges_multibyte);
	tcase_add_test(tc, test_ranges_bom_and_crlf);
	tcase_add_test(tc, test_flow_style);
	tcase_add_test(tc, test_syntax_error);
	tcase_add_test(tc, test_invalid_utf8);
	tcase_add_test(tc, test_unknown_keys);
	tcase_add_test(tc, test_quoting);
	tcase_add_test(tc, test_wrong_types);
	tcase_add_test(tc, test_missing_fields);
	tcase_add_test(tc, test_duplicate_keys);
	tcase_add_test(tc, test_billion_laughs);
	tcase_add_test(tc, test_deep_nesting);
	tcase_add_test(tc, test_huge_scalar);
	tcase_add_test(tc, test_documents_and_tags);
	tcase_add_test(tc, test_version);
	tcase_add_test(tc, test_vocabularies);
	tcase_add_test(tc, test_error_limit);
	tcase_add_test(tc, test_unreadable);
	tcase_add_test(tc, test_100k_vms);
	suite_add_tcase(s, tc);
	return s;
}
