/* test_parser.c: the grammar and the include loader: the trees they build (through ast_dump), error
 * recovery (every mistake reported, no hang), and the include rules (relative paths, the root,
 * cycles, files read once). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../compiler/load.h"
#include "../../compiler/parse.h"
#include "../../lib/alloc.h"
#include "suites.h"

struct parsed {
	struct src_set set;
	struct diag_list diags;
	struct arena arena;
	struct ast_file *file;
	struct buf dump;
};

static struct parsed *parse(const char *text)
{
	struct parsed *p = xcalloc(1, sizeof *p);
	src_set_init(&p->set);
	diag_list_init(&p->diags);
	arena_init(&p->arena);
	p->file = parse_file(&p->arena, src_add(&p->set, "t.drp", text, strlen(text)), &p->diags);
	ast_dump(&p->dump, p->file);
	return p;
}

static void parsed_free(struct parsed *p)
{
	buf_free(&p->dump);
	diag_list_free(&p->diags);
	arena_free(&p->arena);
	src_set_free(&p->set);
	free(p);
}

static size_t count_rule(const struct diag_list *diags, enum diag_rule rule)
{
	size_t n = 0;
	for (size_t i = 0; i < diags->len; i++)
		n += diags->items[i]->rule == rule;
	return n;
}

START_TEST(test_whole_language)
{
	struct parsed *p = parse(
		"include \"common.drp\"\n"
		"inventory \"inv.yaml\"\n"
		"site east { adapter exec { program \"bin/sra\" timeout 30s retries 3 region eu } }\n"
		"device lun-1 at east replicated to lun-2 at west consistency cg\n"
		"device m-1 stretched between east and west prefer east adapter sim\n"
		"protection pg { devices lun-1\n devices m-1 }\n"
		"vm db-* priority 1 after \"x y\" z on lun-1 host h1\n"
		"plan p {\n"
		"  from east to west\n  mode disaster\n  protect pg\n  workgroup 8\n"
		"  limit power-on 4 per site\n  limit all 10\n  rto 1h30m\n"
		"  step sync storage\n  step shutdown vms\n  step shutdown vms at east\n"
		"  step failover storage timeout 10m retry 2 backoff 30s\n  step reverse storage\n"
		"  step prefer west\n  step migrate live\n  step register vms at west\n"
		"  step power-on vms by priority\n  step power-on vms\n"
		"  step run \"s.sh\" per workgroup\n  step prompt \"ok?\"\n  step wait 90s\n"
		"}\n");
	ck_assert_uint_eq(p->diags.len, 0);
	ck_assert(!p->file->has_errors);
	ck_assert_str_eq(p->dump.data,
		"include path=\"common.drp\"\n"
		"inventory path=\"inv.yaml\"\n"
		"site name=\"east\"\n"
		"  adapter kind=\"exec\"\n"
		"    setting key=\"program\" string=\"bin/sra\"\n"
		"    setting key=\"timeout\" duration=30000ms\n"
		"    setting key=\"retries\" number=3\n"
		"    setting key=\"region\" name=\"eu\"\n"
		"device replicated name=\"lun-1\" site=\"east\" peer=\"lun-2\" peer-site=\"west\" consistency=\"cg\"\n"
		"device stretched name=\"m-1\" site=\"east\" peer-site=\"west\" prefer=\"east\"\n"
		"  adapter kind=\"sim\"\n"
		"protection name=\"pg\"\n"
		"  devices names=[\"lun-1\"]\n"
		"  devices names=[\"m-1\"]\n"
		"vm pattern=\"db-*\"\n"
		"  priority value=1\n"
		"  after names=[\"x y\",\"z\"]\n"
		"  on names=[\"lun-1\"]\n"
		"  host name=\"h1\"\n"
		"plan name=\"p\"\n"
		"  route from=\"east\" to=\"west\"\n"
		"  mode disaster\n"
		"  protect groups=[\"pg\"]\n"
		"  workgroup size=8\n"
		"  limit operation=\"power-on\" count=4 per=\"site\"\n"
		"  limit operation=\"all\" count=10\n"
		"  rto target=5400000ms\n"
		"  step sync\n"
		"  step shutdown\n"
		"  step shutdown site=\"east\"\n"
		"  step failover timeout=600000ms retry=2 backoff=30000ms\n"
		"  step reverse\n"
		"  step prefer site=\"west\"\n"
		"  step migrate\n"
		"  step register site=\"west\"\n"
		"  step power-on by-priority\n"
		"  step power-on\n"
		"  step run text=\"s.sh\" per-workgroup\n"
		"  step prompt text=\"ok?\"\n"
		"  step wait wait=90000ms\n");
	parsed_free(p);
}
END_TEST

START_TEST(test_ranges)
{
	const char *text = "plan p {\n  step wait 5m timeout 1m\n}\n";
	struct parsed *p = parse(text);
	const struct ast_item *plan = p->file->items;
	ck_assert_uint_eq(plan->at.start, 0);
	ck_assert_uint_eq(plan->at.end, (uint32_t)strlen(text) - 1);
	ck_assert_uint_eq(plan->open_brace.start, 7);
	const struct ast_stmt *step = plan->u.plan;
	ck_assert_uint_eq(step->at.start, 11);
	ck_assert_uint_eq(step->at.end, 34);
	ck_assert_uint_eq(step->u.step.timeout.at.start, 32);
	ck_assert_uint_eq(plan->name.at.start, 5);
	ck_assert_uint_eq(plan->name.at.end, 6);
	parsed_free(p);
}
END_TEST

START_TEST(test_five_mistakes_five_diagnostics)
{
	struct parsed *p = parse(
		"site east { adapter }\n"              /* 1: adapter without a kind */
		"device d at east replicated west\n"   /* 2: 'to' missing */
		"plan p {\n"
		"  mdoe planned\n"                      /* 3: misspelt keyword */
		"  step wait 90\n"                      /* 4: duration without unit */
		"  step shutdwn vms\n"                  /* 5: misspelt step, on the very next line */
		"}\n");
	ck_assert_uint_eq(p->diags.len, 5);
	ck_assert_uint_eq(count_rule(&p->diags, DRP001), 5);
	ck_assert(p->file->has_errors);
	/* The suggestion for the misspelt keyword. */
	ck_assert_str_eq(p->diags.items[2]->hint, "did you mean 'mode'?");
	ck_assert_str_eq(p->diags.items[2]->fixit, "mode");
	ck_assert_str_eq(p->diags.items[4]->fixit, "shutdown");
	/* Recovery keeps what parsed: the plan is there. */
	ck_assert_ptr_nonnull(strstr(p->dump.data, "plan name=\"p\""));
	parsed_free(p);
}
END_TEST

START_TEST(test_keyword_as_name_recovers)
{
	/* This input once looped forever in error recovery. */
	struct parsed *p = parse("vm sync priority 1\nvm \"sync\" priority 2\n");
	ck_assert_uint_eq(p->diags.len, 1);
	ck_assert_str_eq(p->diags.items[0]->message, "expected a name, found 'sync'");
	ck_assert_ptr_nonnull(strstr(p->diags.items[0]->hint, "quotes"));
	ck_assert_ptr_nonnull(strstr(p->dump.data, "vm pattern=\"sync\""));
	parsed_free(p);
}
END_TEST

START_TEST(test_unclosed_block)
{
	struct parsed *p = parse("plan p {\n  step sync storage\n");
	ck_assert_uint_eq(p->diags.len, 1);
	const struct diag *d = p->diags.items[0];
	ck_assert_ptr_nonnull(strstr(d->message, "found the end of the file"));
	ck_assert_uint_eq(d->n_notes, 1);
	ck_assert_uint_eq(d->notes[0].at.start, 7);
	ck_assert_str_eq(d->notes[0].message, "this '{' is never closed");
	parsed_free(p);

	p = parse("plan p {\n  step sync storage\nsite east { adapter sim }\n");
	ck_assert_uint_ge(p->diags.len, 1);
	ck_assert_uint_eq(p->diags.items[0]->n_notes, 1);
	ck_assert_ptr_nonnull(strstr(p->diags.items[0]->notes[0].message, "'}' missing"));
	parsed_free(p);
}
END_TEST

START_TEST(test_error_limit)
{
	struct buf text = BUF_INIT;
	for (int i = 0; i < 200; i++)
		buf_puts(&text, "vm x priority high\n");
	struct parsed *p = parse(text.data);
	ck_assert_uint_eq(count_rule(&p->diags, DRP001), PARSE_MAX_ERRORS);
	ck_assert_uint_eq(count_rule(&p->diags, DRP013), 1);
	ck_assert_uint_eq(p->diags.len, PARSE_MAX_ERRORS + 1);
	parsed_free(p);
	buf_free(&text);
}
END_TEST

START_TEST(test_garbage_terminates)
{
	/* Every byte value, many times over, in one file: diagnostics, no crash, no hang. */
	char *text = xmalloc(256 * 64 + 1);
	for (int i = 0; i < 256 * 64; i++)
		text[i] = (char)((i * 7919) % 255 + 1);
	text[256 * 64] = '\0';
	struct parsed *p = parse(text);
	ck_assert(p->file->has_errors);
	ck_assert_uint_le(p->diags.len, PARSE_MAX_ERRORS + 1);
	parsed_free(p);
	free(text);
}
END_TEST

START_TEST(test_vocabulary_and_duplicates)
{
	struct parsed *p = parse("vm a priority 1 priority 2 host h host g\n"
	                         "plan p { mode tset limit poweron 3 per rack step sync storage retry 1 retry 2 }\n");
	ck_assert_uint_eq(count_rule(&p->diags, DRP015), 3);
	ck_assert_uint_eq(count_rule(&p->diags, DRP009), 3);
	ck_assert_uint_eq(p->diags.len, 6);
	for (size_t i = 0; i < p->diags.len; i++) {
		const struct diag *d = p->diags.items[i];
		if (d->rule == DRP009 && strstr(d->message, "tset"))
			ck_assert_str_eq(d->fixit, "test");
		if (d->rule == DRP009 && strstr(d->message, "poweron"))
			ck_assert_str_eq(d->fixit, "power-on");
		if (d->rule == DRP015)
			ck_assert_uint_eq(d->n_notes, 1);
	}
	parsed_free(p);
}
END_TEST

/* Includes, through program_load, on files in a temporary directory. */

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void setup_tree(void)
{
	strcpy(tmpdir, "/tmp/drplan-inc-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	char sub[128];
	snprintf(sub, sizeof sub, "%s/sub", tmpdir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
}

static void teardown_tree(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

struct loaded {
	struct src_set set;
	struct diag_list diags;
	struct program program;
	bool ok;
};

static void load(struct loaded *l, const char *name, const char *root)
{
	src_set_init(&l->set);
	diag_list_init(&l->diags);
	program_init(&l->program);
	char path[256];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	struct load_options options = {root};
	l->ok = program_load(&l->program, &l->set, &l->diags, path, &options);
}

static void loaded_free(struct loaded *l)
{
	program_free(&l->program);
	diag_list_free(&l->diags);
	src_set_free(&l->set);
}

START_TEST(test_include_relative_and_once)
{
	setup_tree();
	/* main includes sub/a and sub/b; both include sub/common (a diamond): read once. */
	write_file("main.drp", "include \"sub/a.drp\"\ninclude \"sub/b.drp\"\n");
	write_file("sub/a.drp", "include \"common.drp\"\nsite a { adapter sim }\n");
	write_file("sub/b.drp", "include \"./common.drp\"\nsite b { adapter sim }\n");
	write_file("sub/common.drp", "site c { adapter sim }\n");
	struct loaded l;
	load(&l, "main.drp", tmpdir);
	ck_assert(l.ok);
	ck_assert_uint_eq(l.diags.len, 0);
	ck_assert_uint_eq(l.program.n_files, 4);
	ck_assert_ptr_nonnull(strstr(l.program.files[2]->src->path, "sub/common.drp"));
	loaded_free(&l);
	teardown_tree();
}
END_TEST

START_TEST(test_include_cycle)
{
	setup_tree();
	write_file("a.drp", "include \"sub/b.drp\"\n");
	write_file("sub/b.drp", "include \"../a.drp\"\n");
	struct loaded l;
	load(&l, "a.drp", tmpdir);
	ck_assert(l.ok);
	ck_assert_uint_eq(l.diags.len, 1);
	const struct diag *d = l.diags.items[0];
	ck_assert_int_eq(d->rule, DRP012);
	char expected[512];
	snprintf(expected, sizeof expected, "include cycle: %s/a.drp -> %s/sub/b.drp -> %s/a.drp", tmpdir,
	         tmpdir, tmpdir);
	ck_assert_str_eq(d->message, expected);
	loaded_free(&l);

	write_file("self.drp", "include \"self.drp\"\n");
	load(&l, "self.drp", tmpdir);
	ck_assert_uint_eq(count_rule(&l.diags, DRP012), 1);
	loaded_free(&l);
	teardown_tree();
}
END_TEST

START_TEST(test_include_root_and_missing)
{
	setup_tree();
	write_file("sub/main.drp", "include \"../outside.drp\"\ninclude \"missing.drp\"\ninclude \"\"\n");
	write_file("outside.drp", "site x { adapter sim }\n");
	char root[128];
	snprintf(root, sizeof root, "%s/sub", tmpdir);
	struct loaded l;
	load(&l, "sub/main.drp", root);
	ck_assert(l.ok);
	ck_assert_uint_eq(count_rule(&l.diags, DRP011), 1);
	ck_assert_uint_eq(count_rule(&l.diags, DRP010), 1);
	ck_assert_uint_eq(count_rule(&l.diags, DRP014), 1); /* the empty path */
	ck_assert_uint_eq(l.program.n_files, 1);
	loaded_free(&l);

	/* The same include is fine when the root is wider. */
	write_file("sub/main.drp", "include \"../outside.drp\"\n");
	load(&l, "sub/main.drp", tmpdir);
	ck_assert_uint_eq(l.diags.len, 0);
	ck_assert_uint_eq(l.program.n_files, 2);
	loaded_free(&l);

	/* A symbolic link pointing out of the root is refused too. */
	char link_path[256], target[256];
	snprintf(link_path, sizeof link_path, "%s/sub/link.drp", tmpdir);
	snprintf(target, sizeof target, "%s/outside.drp", tmpdir);
	ck_assert_int_eq(symlink(target, link_path), 0);
	write_file("sub/main.drp", "include \"link.drp\"\n");
	load(&l, "sub/main.drp", root);
	ck_assert_uint_eq(count_rule(&l.diags, DRP011), 1);
	loaded_free(&l);

	/* The plan itself unreadable: load fails (exit code 2), with a diagnostic saying why. */
	load(&l, "nope.drp", tmpdir);
	ck_assert(!l.ok);
	ck_assert_uint_eq(l.diags.len, 1);
	ck_assert_uint_eq(l.diags.items[0]->at.file, SRC_NONE);
	loaded_free(&l);
	teardown_tree();
}
END_TEST

Suite *parser_suite(void)
{
	Suite *s = suite_create("parser");
	TCase *tc = tcase_create("parser");
	tcase_add_test(tc, test_whole_language);
	tcase_add_test(tc, test_ranges);
	tcase_add_test(tc, test_five_mistakes_five_diagnostics);
	tcase_add_test(tc, test_keyword_as_name_recovers);
	tcase_add_test(tc, test_unclosed_block);
	tcase_add_test(tc, test_error_limit);
	tcase_add_test(tc, test_garbage_terminates);
	tcase_add_test(tc, test_vocabulary_and_duplicates);
	suite_add_tcase(s, tc);
	TCase *inc = tcase_create("include");
	tcase_add_test(inc, test_include_relative_and_once);
	tcase_add_test(inc, test_include_cycle);
	tcase_add_test(inc, test_include_root_and_missing);
	suite_add_tcase(s, inc);
	return s;
}
