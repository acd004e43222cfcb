/* test_sarif.c: the SARIF output of the whole front end, checked for structure. A real plan with
 * mistakes in it and in its inventory (tests/golden/semantic/sarif-mixed.drp) goes through the
 * same steps as `drplan check --format sarif`: program_load, model_build, diag_sort, diag_render.
 * The document is parsed with the strict parser of json.h and walked: the SARIF 2.1.0 shape that
 * code-scanning tools read (schema and version, one run, the tool's rules, every result with its
 * rule, level, message, location, related locations for notes and fixes for fix-its), and agreement
 * with the diagnostics it was rendered from. The tests run from the repository root, like every
 * runner of tests/run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../compiler/diag.h"
#include "../../compiler/load.h"
#include "../../compiler/model.h"
#include "../../lib/buf.h"
#include "json.h"
#include "suites.h"

#define MIXED_PLAN "tests/golden/semantic/sarif-mixed.drp"
#define CLEAN_PLAN "tests/golden/semantic/drp034-ok.drp"

/* ---- the pipeline ---- */

struct checked {
	struct src_set sources;
	struct diag_list diags;
	char *output;
};

/* Runs `drplan check --format FORMAT PATH` in-process. */
static struct checked *check_plan(const char *path, enum diag_format format)
{
	struct checked *c = calloc(1, sizeof *c);
	ck_assert_ptr_nonnull(c);
	src_set_init(&c->sources);
	diag_list_init(&c->diags);
	struct program program;
	program_init(&program);
	struct load_options options = {NULL};
	ck_assert_msg(program_load(&program, &c->sources, &c->diags, path, &options),
	              "cannot load %s (the unit tests run from the repository root)", path);
	ck_assert(!program_incomplete(&program));
	model_free(model_build(&program, &c->diags));
	program_free(&program);
	diag_sort(&c->diags);
	struct buf out = BUF_INIT;
	diag_render(&out, &c->diags, &c->sources, format, false);
	c->output = buf_detach(&out);
	return c;
}

static void checked_free(struct checked *c)
{
	free(c->output);
	diag_list_free(&c->diags);
	src_set_free(&c->sources);
	free(c);
}

static struct json *parse_or_fail(const char *text)
{
	const char *error = NULL;
	struct json *doc = json_parse(text, &error);
	ck_assert_msg(doc != NULL, "not valid JSON at byte %ld: %.40s", error ? (long)(error - text) : -1L,
	              error ? error : "");
	return doc;
}

/* ---- structural checks ---- */

static const struct json *member(const struct json *v, const char *key, enum json_type type, const char *where)
{
	const struct json *m = json_get(v, key);
	ck_assert_msg(m != NULL, "%s: no '%s'", where, key);
	ck_assert_msg(m->type == type, "%s: '%s' has the wrong type", where, key);
	return m;
}

static const char *text_member(const struct json *v, const char *key, const char *where)
{
	const struct json *m = member(v, key, JSON_STRING, where);
	ck_assert_msg(m->length > 0, "%s: '%s' is empty", where, key);
	return m->string;
}

static long int_member(const struct json *v, const char *key, const char *where)
{
	const struct json *m = member(v, key, JSON_NUMBER, where);
	ck_assert_msg(m->integer, "%s: '%s' is not an integer", where, key);
	return (long)m->number;
}

struct region {
	long start_line, start_column, end_line, end_column;
};

/* A region (1-based lines and columns, end column exclusive). */
static struct region check_region(const struct json *r, const char *where)
{
	struct region g;
	g.start_line = int_member(r, "startLine", where);
	g.start_column = int_member(r, "startColumn", where);
	g.end_line = int_member(r, "endLine", where);
	g.end_column = int_member(r, "endColumn", where);
	ck_assert_msg(g.start_line >= 1 && g.start_column >= 1, "%s: region starts before 1:1", where);
	ck_assert_msg(g.end_line >= g.start_line, "%s: region ends on a line before its start", where);
	ck_assert_msg(g.end_column >= 1, "%s: endColumn < 1", where);
	if (g.end_line == g.start_line)
		ck_assert_msg(g.end_column >= g.start_column, "%s: region ends before its start", where);
	return g;
}

/* A physicalLocation: an artifact's URI and a region; returns the URI. */
static const char *check_physical(const struct json *loc, struct region *region, const char *where)
{
	const struct json *phys = member(loc, "physicalLocation", JSON_OBJECT, where);
	const struct json *art = member(phys, "artifactLocation", JSON_OBJECT, where);
	const char *uri = text_member(art, "uri", where);
	for (const char *c = uri; *c; c++)
		ck_assert_msg(*c > ' ' && *c < 0x7f && *c != '\\', "%s: uri '%s' is not a URI reference", where, uri);
	*region = check_region(member(phys, "region", JSON_OBJECT, where), where);
	return uri;
}

/* The text a single-line region covers in a file (relative URI of an ASCII file in the tree). */
static char *region_text(const char *uri, struct region g)
{
	ck_assert_int_eq(g.start_line, g.end_line);
	FILE *f = fopen(uri, "r");
	ck_assert_msg(f != NULL, "cannot open %s", uri);
	char line[4096];
	long n = 0;
	char *text = NULL;
	while (fgets(line, sizeof line, f)) {
		if (++n == g.start_line) {
			size_t len = strlen(line);
			ck_assert((size_t)g.end_column - 1 <= len);
			text = strndup(line + g.start_column - 1, (size_t)(g.end_column - g.start_column));
			break;
		}
	}
	fclose(f);
	ck_assert_msg(text != NULL, "%s has no line %ld", uri, g.start_line);
	return text;
}

static bool same_region(struct region a, struct region b)
{
	return a.start_line == b.start_line && a.start_column == b.start_column && a.end_line == b.end_line &&
	       a.end_column == b.end_column;
}

static const char *const levels[] = {[DIAG_ERROR] = "error", [DIAG_WARNING] = "warning", [DIAG_NOTE] = "note"};

/* What the walk found, for the test to check that the plan exercised every part of the format. */
struct seen {
	size_t results, warnings, with_notes, with_fixes, with_hints, in_drp, in_yaml, note_elsewhere;
};

/* Walks a whole SARIF document rendered from `diags` and checks it. */
static struct seen check_sarif(const char *text, const struct diag_list *diags)
{
	struct seen seen = {0};
	struct json *doc = parse_or_fail(text);
	ck_assert_int_eq(doc->type, JSON_OBJECT);
	const char *schema = text_member(doc, "$schema", "document");
	ck_assert_msg(strncmp(schema, "https://", 8) == 0 && strstr(schema, "sarif-2.1.0"), "$schema '%s'", schema);
	ck_assert_str_eq(text_member(doc, "version", "document"), "2.1.0");
	const struct json *runs = member(doc, "runs", JSON_ARRAY, "document");
	ck_assert_uint_eq(runs->n, 1);
	const struct json *run = runs->items[0];
	ck_assert_int_eq(run->type, JSON_OBJECT);
	ck_assert_str_eq(text_member(run, "columnKind", "run"), "unicodeCodePoints");

	/* The tool and its rules. */
	const struct json *driver = json_path(run, "tool", "driver", NULL);
	ck_assert_msg(driver && driver->type == JSON_OBJECT, "no runs[0].tool.driver");
	ck_assert_str_eq(text_member(driver, "name", "driver"), "drplan");
	const struct json *rules = member(driver, "rules", JSON_ARRAY, "driver");
	bool *used = calloc(rules->n + 1, sizeof *used);
	for (size_t i = 0; i < rules->n; i++) {
		const struct json *rule = rules->items[i];
		ck_assert_int_eq(rule->type, JSON_OBJECT);
		const char *id = text_member(rule, "id", "rule");
		for (size_t j = 0; j < i; j++)
			ck_assert_msg(strcmp(id, json_text(json_get(rules->items[j], "id"))) != 0, "rule %s listed twice", id);
		const struct json *sd = member(rule, "shortDescription", JSON_OBJECT, id);
		const char *summary = text_member(sd, "text", id);
		/* The id and its description are the ones of rules.def. */
		bool known = false;
		for (int r = 0; r < DIAG_RULE_COUNT; r++) {
			const struct diag_rule_info *info = diag_rule_info((enum diag_rule)r);
			if (strcmp(info->id, id) == 0) {
				known = true;
				ck_assert_str_eq(summary, info->summary);
				ck_assert_str_eq(text_member(rule, "name", id), info->name);
			}
		}
		ck_assert_msg(known, "rule %s is not in rules.def", id);
	}

	/* The results, one per diagnostic, in the same order. */
	const struct json *results = member(run, "results", JSON_ARRAY, "run");
	ck_assert_uint_eq(results->n, diags->len);
	for (size_t i = 0; i < results->n; i++) {
		const struct diag *d = diags->items[i];
		const struct json *res = results->items[i];
		char where[64];
		snprintf(where, sizeof where, "results[%zu]", i);
		ck_assert_int_eq(res->type, JSON_OBJECT);
		const char *rule_id = text_member(res, "ruleId", where);
		ck_assert_str_eq(rule_id, diag_rule_info(d->rule)->id);
		long index = int_member(res, "ruleIndex", where);
		ck_assert_msg(index >= 0 && (size_t)index < rules->n, "%s: ruleIndex %ld out of range", where, index);
		ck_assert_str_eq(json_text(json_get(rules->items[index], "id")), rule_id);
		used[index] = true;
		const char *level = text_member(res, "level", where);
		ck_assert_msg(strcmp(level, "error") == 0 || strcmp(level, "warning") == 0 || strcmp(level, "note") == 0,
		              "%s: level '%s'", where, level);
		ck_assert_str_eq(level, levels[d->severity]);
		seen.warnings += d->severity == DIAG_WARNING;
		const struct json *message = member(res, "message", JSON_OBJECT, where);
		ck_assert_str_eq(text_member(message, "text", where), d->message);

		const struct json *locations = member(res, "locations", JSON_ARRAY, where);
		ck_assert_uint_ge(locations->n, 1);
		struct region region;
		const char *uri = check_physical(locations->items[0], &region, where);
		size_t len = strlen(uri);
		if (len > 4 && strcmp(uri + len - 4, ".drp") == 0)
			seen.in_drp++;
		if (len > 5 && strcmp(uri + len - 5, ".yaml") == 0)
			seen.in_yaml++;

		/* Notes are related locations, each with its own id and message. */
		const struct json *related = json_get(res, "relatedLocations");
		if (d->n_notes == 0) {
			ck_assert_msg(related == NULL, "%s: relatedLocations without notes", where);
		} else {
			seen.with_notes++;
			ck_assert_msg(related && related->type == JSON_ARRAY, "%s: notes but no relatedLocations", where);
			ck_assert_uint_eq(related->n, d->n_notes);
			for (size_t k = 0; k < related->n; k++) {
				const struct json *rel = related->items[k];
				long id = int_member(rel, "id", where);
				for (size_t j = 0; j < k; j++)
					ck_assert_msg(id != (long)json_get(related->items[j], "id")->number, "%s: related id %ld twice",
					              where, id);
				struct region note_region;
				const char *note_uri = check_physical(rel, &note_region, where);
				if (strcmp(note_uri, uri) != 0)
					seen.note_elsewhere++;
				const struct json *note_message = member(rel, "message", JSON_OBJECT, where);
				ck_assert_str_eq(text_member(note_message, "text", where), d->notes[k].message);
			}
		}

		/* A fix-it replaces the result's own region in its own file. */
		const struct json *fixes = json_get(res, "fixes");
		if (!d->fixit) {
			ck_assert_msg(fixes == NULL, "%s: fixes without a fix-it", where);
		} else {
			seen.with_fixes++;
			ck_assert_msg(fixes && fixes->type == JSON_ARRAY && fixes->n == 1, "%s: a fix-it but no fixes", where);
			const struct json *changes = member(fixes->items[0], "artifactChanges", JSON_ARRAY, where);
			ck_assert_uint_eq(changes->n, 1);
			const struct json *art = member(changes->items[0], "artifactLocation", JSON_OBJECT, where);
			ck_assert_str_eq(text_member(art, "uri", where), uri);
			const struct json *repl = member(changes->items[0], "replacements", JSON_ARRAY, where);
			ck_assert_uint_eq(repl->n, 1);
			struct region deleted = check_region(member(repl->items[0], "deletedRegion", JSON_OBJECT, where), where);
			ck_assert_msg(same_region(deleted, region), "%s: the fix replaces another region", where);
			const struct json *inserted = member(repl->items[0], "insertedContent", JSON_OBJECT, where);
			ck_assert_str_eq(json_text(json_get(inserted, "text")), d->fixit);
			/* The region is where the mistake is: the text the message quotes. */
			char *covered = region_text(uri, region);
			char *quoted = malloc(strlen(covered) + 3);
			sprintf(quoted, "'%s'", covered);
			ck_assert_msg(strstr(d->message, quoted), "%s: the region covers '%s', which '%s' does not quote", where,
			              covered, d->message);
			ck_assert_str_ne(covered, d->fixit);
			free(quoted);
			free(covered);
		}

		const struct json *hint = json_path(res, "properties", "hint", NULL);
		if (d->hint) {
			seen.with_hints++;
			ck_assert_msg(hint && hint->type == JSON_STRING, "%s: hint missing", where);
			ck_assert_str_eq(hint->string, d->hint);
		} else {
			ck_assert_msg(hint == NULL, "%s: a hint that the diagnostic does not have", where);
		}
		seen.results++;
	}
	/* Every rule listed is used by a result. */
	for (size_t i = 0; i < rules->n; i++)
		ck_assert_msg(used[i], "rule %s is listed but no result uses it",
		              json_text(json_get(rules->items[i], "id")));
	free(used);
	json_free(doc);
	return seen;
}

/* ---- tests ---- */

START_TEST(test_sarif_semantic_plan)
{
	struct checked *c = check_plan(MIXED_PLAN, DIAG_FORMAT_SARIF);
	struct seen seen = check_sarif(c->output, &c->diags);
	/* The plan exercises every part of the format: errors and a warning, in the plan and in the
	 * inventory, with notes (one in the other file), fix-its and hints. */
	ck_assert_uint_eq(seen.results, 7);
	ck_assert_uint_ge(seen.warnings, 1);
	ck_assert_uint_lt(seen.warnings, seen.results);
	ck_assert_uint_ge(seen.in_drp, 1);
	ck_assert_uint_ge(seen.in_yaml, 1);
	ck_assert_uint_ge(seen.with_notes, 2);
	ck_assert_uint_ge(seen.note_elsewhere, 1);
	ck_assert_uint_ge(seen.with_fixes, 3);
	ck_assert_uint_ge(seen.with_hints, 3);
	/* Both phases: the inventory reader (DRP021) and the resolver (DRP030 and up). */
	ck_assert_ptr_nonnull(strstr(c->output, "\"ruleId\": \"DRP021\""));
	ck_assert_ptr_nonnull(strstr(c->output, "\"ruleId\": \"DRP038\""));
	checked_free(c);
}
END_TEST

START_TEST(test_sarif_clean_plan)
{
	/* A valid plan: still one complete document, with no rules and no results. */
	struct checked *c = check_plan(CLEAN_PLAN, DIAG_FORMAT_SARIF);
	ck_assert_uint_eq(c->diags.len, 0);
	struct seen seen = check_sarif(c->output, &c->diags);
	ck_assert_uint_eq(seen.results, 0);
	struct json *doc = parse_or_fail(c->output);
	const struct json *runs = json_get(doc, "runs");
	ck_assert_uint_eq(runs->n, 1);
	ck_assert_uint_eq(json_path(runs->items[0], "results", NULL)->n, 0);
	ck_assert_uint_eq(json_path(runs->items[0], "tool", "driver", "rules", NULL)->n, 0);
	json_free(doc);
	checked_free(c);
}
END_TEST

START_TEST(test_json_lines_semantic_plan)
{
	/* The same diagnostics as JSON Lines: one valid object per diagnostic. */
	struct checked *c = check_plan(MIXED_PLAN, DIAG_FORMAT_JSON);
	size_t lines = 0;
	ck_assert(json_lines_valid(c->output, &lines));
	ck_assert_uint_eq(lines, c->diags.len);
	checked_free(c);
}
END_TEST

START_TEST(test_json_parser)
{
	/* The parser the checks stand on must be strict, or they prove nothing. */
	const char *error = NULL;
	struct json *v = json_parse(" {\"a\": [1, -2.5e3, true, null, {\"b\": \"\\u00e9\\ud83d\\ude00\"}], \"c\": 7}\n", &error);
	ck_assert_ptr_nonnull(v);
	ck_assert_ptr_null(error);
	ck_assert_uint_eq(v->n, 2);
	const struct json *a = json_get(v, "a");
	ck_assert_int_eq(a->type, JSON_ARRAY);
	ck_assert_uint_eq(a->n, 5);
	ck_assert(a->items[0]->integer);
	ck_assert(!a->items[1]->integer);
	ck_assert(a->items[1]->number == -2500.0);
	ck_assert_str_eq(json_text(json_get(a->items[4], "b")), "\xc3\xa9\xf0\x9f\x98\x80");
	ck_assert(json_get(v, "c")->number == 7.0);
	ck_assert_ptr_null(json_get(v, "d"));
	ck_assert_ptr_null(json_path(v, "a", "b", NULL));
	json_free(v);

	static const char *const bad[] = {
		"{\"a\":}", "{\"a\":1,}", "[1,]", "{\"a\":\"x\ty\"}", "{\"a\":\"\\x\"}", "{\"a\":\"\xff\"}",
		"{\"a\":01}", "{\"a\":1} {}", "{\"a\":1", "{\"a\":1,\"a\":2}", "\"\\ud800\"", "\"\\udc00x\"",
		"\"\\ud800\\u0041\"", "1.", "-", "tru", "", "{\"a\" 1}", "[1 2]", "\"abc",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		v = json_parse(bad[i], &error);
		ck_assert_msg(v == NULL, "accepted: %s", bad[i]);
		ck_assert_ptr_nonnull(error);
	}
	/* Nesting is bounded: 64 levels parse, 100 do not. */
	char deep[201] = {0};
	memset(deep, '[', 64);
	memset(deep + 64, ']', 64);
	v = json_parse(deep, NULL);
	ck_assert_ptr_nonnull(v);
	json_free(v);
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	ck_assert_ptr_null(json_parse(deep, NULL));
}
END_TEST

Suite *sarif_suite(void)
{
	Suite *s = suite_create("sarif");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_json_parser);
	tcase_add_test(tc, test_sarif_semantic_plan);
	tcase_add_test(tc, test_sarif_clean_plan);
	tcase_add_test(tc, test_json_lines_semantic_plan);
	suite_add_tcase(s, tc);
	return s;
}
