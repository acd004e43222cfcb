/* test_fmt.c: the formatter. Over every plan in plans/ and tests/: fmt is idempotent, keeps the
 * meaning (the tree of fmt(x) dumps the same as the tree of x) and keeps every comment; the example
 * plans are already canonical. Plus exact outputs for the layout rules. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../compiler/fmt.h"
#include "../../compiler/parse.h"
#include "../../lib/alloc.h"
#include "suites.h"

static size_t count_comments(const struct ast_file *f)
{
	size_t n = 0;
	for (const struct ast_comment *c = f->comments; c; c = c->next)
		n++;
	return n;
}

/* Formats text; returns NULL if it does not parse. */
static char *format_text(const char *name, const char *text, size_t len, struct buf *dump, size_t *comments)
{
	struct src_set set;
	struct diag_list diags;
	struct arena arena;
	src_set_init(&set);
	diag_list_init(&diags);
	arena_init(&arena);
	struct ast_file *file = parse_file(&arena, src_add(&set, name, text, len), &diags);
	char *out = NULL;
	if (!file->has_errors) {
		struct buf b = BUF_INIT;
		fmt_file(&b, file);
		out = buf_detach(&b);
		if (dump)
			ast_dump(dump, file);
		if (comments)
			*comments = count_comments(file);
	}
	arena_free(&arena);
	diag_list_free(&diags);
	src_set_free(&set);
	return out;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Checks one file; returns true if it parsed (files with syntax errors, kept by the golden tests,
 * are skipped). */
static bool check_file(const char *path, bool must_be_canonical)
{
	struct src_set set;
	src_set_init(&set);
	char err[256];
	struct src_file *src = src_load(&set, path, err, sizeof err);
	ck_assert_msg(src != NULL, "%s: %s", path, err);
	struct buf dump1 = BUF_INIT, dump2 = BUF_INIT;
	size_t comments1 = 0, comments2 = 0;
	char *once = format_text(path, src->text, src->len, &dump1, &comments1);
	if (!once) {
		buf_free(&dump1);
		src_set_free(&set);
		return false;
	}
	char *twice = format_text(path, once, strlen(once), &dump2, &comments2);
	ck_assert_msg(twice != NULL, "%s: the formatted text does not parse", path);
	ck_assert_msg(strcmp(once, twice) == 0, "%s: fmt is not idempotent", path);
	ck_assert_msg(strcmp(dump1.data ? dump1.data : "", dump2.data ? dump2.data : "") == 0,
	              "%s: fmt changed the meaning", path);
	ck_assert_msg(comments1 == comments2, "%s: fmt lost comments (%zu -> %zu)", path, comments1, comments2);
	if (must_be_canonical)
		ck_assert_msg(strlen(once) == src->len && memcmp(once, src->text, src->len) == 0,
		              "%s is not in canonical form: run drplan fmt -w", path);
	free(once);
	free(twice);
	buf_free(&dump1);
	buf_free(&dump2);
	src_set_free(&set);
	return true;
}

static void walk(const char *dir, bool canonical, size_t *parsed)
{
	DIR *d = opendir(dir);
	ck_assert_msg(d != NULL, "cannot open %s (run from the repository root)", dir);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[1024];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			walk(path, canonical, parsed);
		else if (S_ISREG(st.st_mode) && ends_with(path, ".drp"))
			*parsed += check_file(path, canonical);
	}
	closedir(d);
}

START_TEST(test_every_plan)
{
	size_t examples = 0, tests = 0;
	walk("plans", true, &examples);
	walk("tests", false, &tests);
	ck_assert_uint_ge(examples, 4);
	ck_assert_uint_ge(tests, 1);
}
END_TEST

static void ck_fmt(const char *in, const char *expected)
{
	char *out = format_text("t.drp", in, strlen(in), NULL, NULL);
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(out, expected);
	char *again = format_text("t.drp", out, strlen(out), NULL, NULL);
	ck_assert_str_eq(again, expected);
	free(out);
	free(again);
}

START_TEST(test_layout)
{
	ck_fmt("site   east{adapter sim}\r\n\r\n\r\n\tsite west {\n adapter exec { program \"p\"   timeout 30s }\n}",
	       "site east { adapter sim }\n"
	       "\n"
	       "site west {\n"
	       "  adapter exec {\n"
	       "    program \"p\"\n"
	       "    timeout 30s\n"
	       "  }\n"
	       "}\n");
	ck_fmt("protection pg {\n devices a b\n devices c }\n",
	       "protection pg {\n  devices a b\n  devices c\n}\n");
	ck_fmt("plan p { step power-on vms by priority backoff 5s retry 3 timeout 1m step run \"x\" per workgroup }",
	       "plan p {\n"
	       "  step power-on vms by priority timeout 1m retry 3 backoff 5s\n"
	       "  step run \"x\" per workgroup\n"
	       "}\n");
}
END_TEST

START_TEST(test_names_and_strings)
{
	ck_fmt("vm \"db-01\" after \"step\" \"my vm\" on \"\\u{e9}t\\u{e9}\"\n",
	       "vm db-01 after \"step\" \"my vm\" on \"\xc3\xa9t\xc3\xa9\"\n");
	ck_fmt("plan p { step prompt \"tab\\there \\\"q\\\" \\\\ \\u{1F600} \\u{7}\" }\n",
	       "plan p {\n  step prompt \"tab\\there \\\"q\\\" \\\\ \xf0\x9f\x98\x80 \\u{7}\"\n}\n");
	/* Characters that change how text displays without being seen stay escaped, raw or not. */
	ck_fmt("plan p { step run \"a\xe2\x80\xae" "b\\u{2066}c\xc2\x85" "d\" }\n",
	       "plan p {\n  step run \"a\\u{202E}b\\u{2066}c\\u{85}d\"\n}\n");
}
END_TEST

START_TEST(test_comments)
{
	ck_fmt("# head\n\n\n# second\nsite a { # after brace\n  # inside\n  adapter sim # trailing\n  # before close\n}\n"
	       "vm x # mid-statement\n priority 1\n# at the end",
	       "# head\n"
	       "\n"
	       "# second\n"
	       "site a { # after brace\n"
	       "  # inside\n"
	       "  adapter sim # trailing\n"
	       "  # before close\n"
	       "}\n"
	       "# mid-statement\n"
	       "vm x priority 1\n"
	       "# at the end\n");
	/* Trailing comments of consecutive lines align; a line without one ends the run. */
	ck_fmt("plan p {\n  step sync storage # a\n  step failover storage # b\n  step migrate live\n"
	       "  step wait 1s # c\n}\n",
	       "plan p {\n"
	       "  step sync storage     # a\n"
	       "  step failover storage # b\n"
	       "  step migrate live\n"
	       "  step wait 1s # c\n"
	       "}\n");
	ck_fmt("", "");
	ck_fmt("# only a comment   \r\n", "# only a comment\n");
}
END_TEST

START_TEST(test_refuses_broken_input)
{
	ck_assert_ptr_null(format_text("t.drp", "plan p {", 8, NULL, NULL));
}
END_TEST

Suite *fmt_suite(void)
{
	Suite *s = suite_create("fmt");
	TCase *tc = tcase_create("fmt");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_every_plan);
	tcase_add_test(tc, test_layout);
	tcase_add_test(tc, test_names_and_strings);
	tcase_add_test(tc, test_comments);
	tcase_add_test(tc, test_refuses_broken_input);
	suite_add_tcase(s, tc);
	return s;
}
