/* test_lexer.c: the scanner on its own: which token each lexeme becomes, its exact byte range, the
 * decoded values, and the diagnostics for malformed lexemes. Also checks that the keyword list of
 * compiler/ast.c agrees with grammar/lexer.l. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../compiler/parse.h"
#include "../../lib/alloc.h"
#include "lexer.h"
#include "parser.h"
#include "suites.h"

#define MAX_TOKENS 64

struct lexed {
	struct src_set set;
	struct diag_list diags;
	struct arena arena;
	struct parse_state ps;
	int kinds[MAX_TOKENS];
	YYSTYPE values[MAX_TOKENS];
	YYLTYPE ranges[MAX_TOKENS];
	int n;
};

static struct lexed *lex(const char *text, size_t len)
{
	struct lexed *l = xcalloc(1, sizeof *l);
	src_set_init(&l->set);
	diag_list_init(&l->diags);
	arena_init(&l->arena);
	struct src_file *src = src_add(&l->set, "t.drp", text, len);
	l->ps.src = src;
	l->ps.arena = &l->arena;
	l->ps.diags = &l->diags;
	l->ps.file = ARENA_NEW(&l->arena, struct ast_file);
	yyscan_t scanner;
	ck_assert_int_eq(drp_yylex_init_extra(&l->ps, &scanner), 0);
	drp_yy_scan_bytes(src->text, (int)src->len, scanner);
	int kind;
	while (l->n < MAX_TOKENS && (kind = drp_yylex(&l->values[l->n], &l->ranges[l->n], scanner)) != 0)
		l->kinds[l->n++] = kind;
	drp_yylex_destroy(scanner);
	free(l->ps.open_braces);
	return l;
}

static struct lexed *lex_str(const char *text)
{
	return lex(text, strlen(text));
}

static void lexed_free(struct lexed *l)
{
	diag_list_free(&l->diags);
	src_set_free(&l->set);
	arena_free(&l->arena);
	free(l);
}

static void ck_range(const struct lexed *l, int i, uint32_t start, uint32_t end)
{
	ck_assert_uint_eq(l->ranges[i].start, start);
	ck_assert_uint_eq(l->ranges[i].end, end);
}

START_TEST(test_tokens_and_ranges)
{
	struct lexed *l = lex_str("step power-on vms\n  # note\n\tdb-*  \"x y\" 16 1h30m { }");
	ck_assert_int_eq(l->n, 9);
	ck_assert_int_eq(l->kinds[0], T_STEP);
	ck_range(l, 0, 0, 4);
	ck_assert_int_eq(l->kinds[1], T_POWER_ON);
	ck_range(l, 1, 5, 13);
	ck_assert_int_eq(l->kinds[2], T_VMS);
	ck_assert_int_eq(l->kinds[3], T_NAME);
	ck_assert_str_eq(l->values[3].name.text, "db-*");
	ck_range(l, 3, 28, 32);
	ck_assert_int_eq(l->kinds[4], T_STRING);
	ck_assert_str_eq(l->values[4].string.text, "x y");
	ck_range(l, 4, 34, 39);
	ck_assert_int_eq(l->kinds[5], T_NUMBER);
	ck_assert_int_eq(l->values[5].number.value, 16);
	ck_assert_int_eq(l->kinds[6], T_DURATION);
	ck_assert_int_eq(l->values[6].duration.ms, 5400000);
	ck_assert_int_eq(l->kinds[7], '{');
	ck_assert_int_eq(l->kinds[8], '}');
	/* The comment is recorded, without its newline. */
	ck_assert_ptr_nonnull(l->ps.file->comments);
	ck_assert_uint_eq(l->ps.file->comments->at.start, 20);
	ck_assert_uint_eq(l->ps.file->comments->at.end, 26);
	ck_assert_uint_eq(l->diags.len, 0);
	lexed_free(l);
}
END_TEST

START_TEST(test_names_versus_keywords)
{
	/* A longer word that starts with a keyword is a name; globs and dots are name characters. */
	struct lexed *l = lex_str("sites site vm-01 web-[ab]? cg.pay _x *");
	ck_assert_int_eq(l->n, 7);
	ck_assert_int_eq(l->kinds[0], T_NAME);
	ck_assert_int_eq(l->kinds[1], T_SITE);
	for (int i = 2; i < 7; i++)
		ck_assert_int_eq(l->kinds[i], T_NAME);
	ck_assert_str_eq(l->values[3].name.text, "web-[ab]?");
	lexed_free(l);
}
END_TEST

START_TEST(test_string_escapes)
{
	struct lexed *l = lex_str("\"a\\\"b\\\\c\\n\\t\\r\\u{e9}\\u{1F600}\"");
	ck_assert_int_eq(l->n, 1);
	ck_assert_str_eq(l->values[0].string.text, "a\"b\\c\n\t\r\xc3\xa9\xf0\x9f\x98\x80");
	ck_assert_uint_eq(l->diags.len, 0);
	lexed_free(l);

	l = lex_str("\"bad \\q \\u{D800} \\u{110000} \\u{} ok\"");
	ck_assert_int_eq(l->n, 1);
	ck_assert_uint_eq(l->diags.len, 4);
	for (size_t i = 0; i < 4; i++)
		ck_assert_int_eq(l->diags.items[i]->rule, DRP004);
	ck_assert_uint_eq(l->diags.items[0]->at.start, 5); /* at the backslash of \q */
	ck_assert_uint_eq(l->diags.items[0]->at.end, 7);
	ck_assert_ptr_nonnull(strstr(l->values[0].string.text, " ok"));
	lexed_free(l);
}
END_TEST

START_TEST(test_unterminated_string)
{
	struct lexed *l = lex_str("run \"abc\nstep");
	ck_assert_int_eq(l->n, 3);
	ck_assert_int_eq(l->kinds[1], T_STRING);
	ck_assert_str_eq(l->values[1].string.text, "abc");
	ck_range(l, 1, 4, 8);
	ck_assert_int_eq(l->kinds[2], T_STEP); /* scanning goes on at the next line */
	ck_assert_uint_eq(l->diags.len, 1);
	ck_assert_int_eq(l->diags.items[0]->rule, DRP003);
	lexed_free(l);
}
END_TEST

START_TEST(test_numbers_and_durations)
{
	struct lexed *l = lex_str("0 2147483647 2147483648 250ms 2d 1h1h 30m1h 5x 400d");
	ck_assert_int_eq(l->n, 9);
	ck_assert_int_eq(l->values[0].number.value, 0);
	ck_assert_int_eq(l->values[1].number.value, 2147483647);
	ck_assert_int_eq(l->values[3].duration.ms, 250);
	ck_assert_int_eq(l->values[4].duration.ms, 2 * 86400000LL);
	ck_assert_ptr_null(l->values[4].duration.invalid);
	/* A number too large is the scanner's to report; a malformed duration is only noted, and is
	 * reported where a duration is expected (elsewhere it is a syntax error instead). */
	ck_assert_uint_eq(l->diags.len, 1);
	ck_assert_int_eq(l->diags.items[0]->rule, DRP008); /* 2147483648 */
	for (int i = 5; i < 9; i++) {
		ck_assert_int_eq(l->kinds[i], T_DURATION);
		ck_assert_ptr_nonnull(l->values[i].duration.invalid);
	}
	ck_assert_ptr_nonnull(strstr(l->values[6].duration.invalid, "largest unit"));
	lexed_free(l);
}
END_TEST

START_TEST(test_duration_parse)
{
	int64_t ms = -1;
	const char *why = NULL;
	ck_assert(duration_parse("1d2h3m4s5ms", 11, &ms, &why));
	ck_assert_int_eq(ms, 86400000LL + 2 * 3600000 + 3 * 60000 + 4000 + 5);
	ck_assert(duration_parse("365d", 4, &ms, &why));
	ck_assert(!duration_parse("366d", 4, &ms, &why));
	ck_assert(!duration_parse("99999999999999999999s", 21, &ms, &why));
	ck_assert(!duration_parse("5", 1, &ms, &why));
	ck_assert(!duration_parse("m5", 2, &ms, &why));
	ck_assert(!duration_parse("", 0, &ms, &why));
	ck_assert(!duration_parse("1s1s", 4, &ms, &why));
	ck_assert_ptr_nonnull(strstr(why, "largest unit"));
}
END_TEST

START_TEST(test_hostile_bytes)
{
	/* NUL, invalid UTF-8 and stray punctuation are each one diagnostic per run, and scanning goes
	 * on: the name after them still arrives. */
	const char text[] = "a \0\0 b \xff\xfe c ;; d \xc3\xa9 e";
	struct lexed *l = lex(text, sizeof text - 1);
	ck_assert_int_eq(l->n, 5);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(l->kinds[i], T_NAME);
	ck_assert_uint_eq(l->diags.len, 4);
	ck_assert_int_eq(l->diags.items[0]->rule, DRP006);
	ck_assert_int_eq(l->diags.items[1]->rule, DRP005);
	ck_assert_int_eq(l->diags.items[2]->rule, DRP002);
	ck_assert_int_eq(l->diags.items[3]->rule, DRP002); /* é: valid UTF-8, but not a name */
	ck_assert_uint_eq(l->diags.items[2]->at.start, 12);
	ck_assert_uint_eq(l->diags.items[2]->at.end, 14);
	lexed_free(l);

	const char comment[] = "# caf\xc3\xa9 ok\n# bad \xff\n";
	l = lex(comment, sizeof comment - 1);
	ck_assert_int_eq(l->n, 0);
	ck_assert_uint_eq(l->diags.len, 1);
	ck_assert_int_eq(l->diags.items[0]->rule, DRP005);
	ck_assert_uint_eq(l->diags.items[0]->at.start, 17);
	lexed_free(l);
}
END_TEST

/* Every `"word" { return T_...; }` rule of lexer.l must be a keyword to ast_is_keyword (which fmt
 * uses to decide what to quote), and every keyword must lex as something other than a name. */
START_TEST(test_keywords_agree_with_lexer)
{
	FILE *f = fopen("grammar/lexer.l", "r");
	ck_assert_msg(f != NULL, "run the tests from the repository root");
	char line[512];
	int found = 0;
	while (fgets(line, sizeof line, f)) {
		char word[64];
		if (line[0] != '"' || sscanf(line, "\"%63[^\"]\"", word) != 1 || !strstr(line, "return T_"))
			continue;
		ck_assert_msg(ast_is_keyword(word, strlen(word)), "'%s' is missing from ast.c's keywords", word);
		struct lexed *l = lex_str(word);
		ck_assert_int_eq(l->n, 1);
		ck_assert_int_ne(l->kinds[0], T_NAME);
		lexed_free(l);
		found++;
	}
	fclose(f);
	ck_assert_int_eq(found, 49); /* 46, then unregister, discard and snapshots (cleanup) */
	ck_assert(!ast_is_keyword("sites", 5));
	ck_assert(ast_name_is_bare("db-*", 4));
	ck_assert(!ast_name_is_bare("step", 4));
	ck_assert(!ast_name_is_bare("my vm", 5));
	ck_assert(!ast_name_is_bare("1st", 3));
	ck_assert(!ast_name_is_bare("", 0));
}
END_TEST

Suite *lexer_suite(void)
{
	Suite *s = suite_create("lexer");
	TCase *tc = tcase_create("lexer");
	tcase_add_test(tc, test_tokens_and_ranges);
	tcase_add_test(tc, test_names_versus_keywords);
	tcase_add_test(tc, test_string_escapes);
	tcase_add_test(tc, test_unterminated_string);
	tcase_add_test(tc, test_numbers_and_durations);
	tcase_add_test(tc, test_duration_parse);
	tcase_add_test(tc, test_hostile_bytes);
	tcase_add_test(tc, test_keywords_agree_with_lexer);
	suite_add_tcase(s, tc);
	return s;
}
