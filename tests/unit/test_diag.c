/* test_diag.c: the four diagnostic renderers, checked against exact expected output, plus
 * suggestions, sorting and format names. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../compiler/diag.h"
#include "../../lib/buf.h"
#include "json.h"
#include "suites.h"

/* The renderer's default; a build that sets it for the renderer must set it here too. */
#ifndef DRPLAN_INFORMATION_URI
#define DRPLAN_INFORMATION_URI "https://drplan.invalid/docs/diagnostics.md"
#endif

/* ---- helpers ---- */

static char *render(const struct diag_list *list, struct src_set *set, enum diag_format format,
                    bool color)
{
	struct buf out = BUF_INIT;
	diag_render(&out, list, set, format, color);
	return buf_detach(&out);
}

#define ck_render(list, set, format, color, expected)                                              \
	do {                                                                                       \
		char *got_ = render((list), (set), (format), (color));                             \
		ck_assert_str_eq(got_, (expected));                                                \
		free(got_);                                                                        \
	} while (0)

/* Byte offset of the first `needle` in `text`; the tests name ranges by what they cover. */
static uint32_t offset_of(const char *text, const char *needle)
{
	const char *p = strstr(text, needle);
	ck_assert_ptr_nonnull(p);
	return (uint32_t)(p - text);
}

static struct src_range range_of(uint32_t file, const char *text, const char *needle)
{
	uint32_t o = offset_of(text, needle);
	return src_range_make(file, o, o + (uint32_t)strlen(needle));
}

static size_t count_occurrences(const char *haystack, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(haystack, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* ---- format names ---- */

START_TEST(test_format_parse)
{
	enum diag_format f = DIAG_FORMAT_TEXT;
	ck_assert(diag_format_parse("json", &f));
	ck_assert_int_eq(f, DIAG_FORMAT_JSON);
	ck_assert(diag_format_parse("sarif", &f));
	ck_assert_int_eq(f, DIAG_FORMAT_SARIF);
	ck_assert(diag_format_parse("github", &f));
	ck_assert_int_eq(f, DIAG_FORMAT_GITHUB);
	ck_assert(diag_format_parse("text", &f));
	ck_assert_int_eq(f, DIAG_FORMAT_TEXT);
	ck_assert(!diag_format_parse("JSON", &f));
	ck_assert(!diag_format_parse("", &f));
	ck_assert(!diag_format_parse("text ", &f));
	ck_assert(!diag_format_parse("sarif2", &f));
	ck_assert_int_eq(f, DIAG_FORMAT_TEXT);
}
END_TEST

/* ---- one plain error in every format ---- */

START_TEST(test_plain_error)
{
	const char *text = "plan \"x\" {\n  site a\n  rto soon\n}\n";
	struct src_set set;
	struct diag_list list;
	src_set_init(&set);
	diag_list_init(&list);
	src_add(&set, "plans/x.drp", text, strlen(text));
	diag_add(&list, DIAG_ERROR, DRP007, range_of(0, text, "soon"),
	         "expected a duration like 90s or 5m, found 'soon'");

	ck_render(&list, &set, DIAG_FORMAT_TEXT, false,
	          "plans/x.drp:3:7: error: expected a duration like 90s or 5m, found 'soon' [DRP007]\n"
	          "    3 |   rto soon\n"
	          "      |       ^~~~\n");
	ck_render(&list, &set, DIAG_FORMAT_JSON, false,
	          "{\"severity\":\"error\",\"code\":\"DRP007\",\"rule\":\"invalid-duration\","
	          "\"summary\":\"expected a duration like 90s or 5m, found 'soon'\","
	          "\"range\":{\"filename\":\"plans/x.drp\",\"start\":{\"line\":3,\"column\":7,"
	          "\"byte\":26},\"end\":{\"line\":3,\"column\":11,\"byte\":30}},\"notes\":[]}\n");
	ck_render(&list, &set, DIAG_FORMAT_GITHUB, false,
	          "::error file=plans/x.drp,line=3,col=7,endLine=3,endColumn=11,title=DRP007::"
	          "expected a duration like 90s or 5m, found 'soon'\n");

	diag_list_free(&list);
	src_set_free(&set);
}
END_TEST

START_TEST(test_empty_list)
{
	struct src_set set;
	struct diag_list list;
	src_set_init(&set);
	diag_list_init(&list);
	ck_render(&list, &set, DIAG_FORMAT_TEXT, true, "");
	ck_render(&list, &set, DIAG_FORMAT_JSON, false, "");
	ck_render(&list, &set, DIAG_FORMAT_GITHUB, false, "");
	diag_list_free(&list);
	src_set_free(&set);
}
END_TEST

/* ---- text: alignment ---- */

START_TEST(test_text_tabs)
{
	const char *text = "site a {\n\tvm\t\"db\"\tbogus\n}\n";
	struct src_set set;
	struct diag_list list;
	src_set_init(&set);
	diag_list_init(&list);
	src_add(&set, "t.drp", text, strlen(text));
	diag_add(&list, DIAG_ERROR, DRP001, range_of(0, text, "bogus"), "unexpected word 'bogus'");
	/* Tabs before the caret are copied, everything else becomes a space. */
	ck_render(&list, &set, DIAG_FORMAT_TEXT, false,
	          "t.drp:2:10: error: unexpected word 'bogus' [DRP001]\n"
	          "    2 | \tvm\t\"db\"\tbogus\n"
	          "      | \t  \t    \t^~~~~\n");
	diag_list_free(&list);
	src_set_free(&set);
}
END_TEST

START_TEST(test_utf8_columns)
{
	/* "café" and the snowman take 2 and 3 bytes but one column each. */
	const char *text = "name = \"caf\xc3\xa9 \xe2\x98\x83\" oops\n";
	struct src_set set;
	struct diag_list list;
	src_set_init(&set);
	diag_list_init(&list);
	src_add(&set, "u.drp", text, strlen(text));
	diag_add(&list, DIAG_ERROR, DRP001, range_of(0, text, "oops"), "unexpected word 'oops'");

	ck_render(&list, &set, DIAG_FORMAT_TEXT, false,
	          "u.drp:1:17: error: unexpected word 'oops' [DRP001]\n"
	          "    1 | name = \"caf\xc3\xa9 \xe2\x98\x83\" oops\n"
	          "      |                 ^~~~\n");
	ck_render(&list, &set, DIAG_FORMAT_JSON, false,
	          "{\"severity\":\"error\",\"code\":\"DRP001\",\"rule\":\"syntax-error\","
	          "\"summary\":\"unexpected word 'oops'\",\"range\":{\"filename\":\"u.drp\","
	          "\"start\":{\"line\":1,\"column\":17,\"byte\":19},"
	          "\"end\":{\"line\":1,\"column\":21,\"byte\":23}},\"notes\":[]}\n");
	ck_render(&list, &set, DIAG_FORMAT_GITHUB, false,
	          "::error file=u.drp,line=1,col=17,endLine=1,endColumn=21,title=DRP001::"
	          "unexpected word 'oops'\n");
	char *sarif = render(&list, &set, DIAG_FORMAT_SARIF, false);
	ck_assert_ptr_nonnull(strstr(sarif, "\"startLine\": 1,\n"
	                                    "                  \"startColumn\": 17,\n"
	                                    "                  \"endLine\": 1,\n"
	                                    "                  \"endColumn\": 21\n"));
	free(sarif);
	diag_list_free(&list);
	src_set_free(&set);
}
END_TEST

START_TEST(test_eof_without_newline)
{
	const char *text = "plan \"p\" {\n  rto 5m";
	uint32_t len = (uint32_t)strlen(text);
	struct src_set set;
	struct diag_list list;
	src_set_init(&set);
	diag_list_init(&list);
	src_add(&set, "p.drp", text, len);
	struct diag *d = diag_add(&list, DIAG_ERROR, DRP001, src_range_make(0, len, len),
	                          "expected '}' before the end of the file");
	diag_fixit(d, "}");

	ck_render(&list, &set, DIAG_FORMAT_TEXT, false,
	          "p.drp:2:9: error: expected '}' before the end of the file [DRP001]\n"
	          "    2 |   rto 5m\n"
	          "      |         ^\n"
	          "      = fix: insert '}'\n");
	ck_render(&list, &set, DIAG_FORMAT_JSON, false,
	          "{\"severity\":\"error\",\"code\":\"DRP001\",\"rule\":\"syntax-error\","
	          "\"summary\":\"expected '}' before the end of the file\",\"range\":{"
	          "\"filename\":\"p.drp\",\"start\":{\"line\":2,\"column\":9,\"byte\":19},"
	          "\"end\":{\"line\":2,\"column\":9,\"byte\":19}},\"fix\":{\"replacement\":\"}\"},"
	          "\"notes\":[]}\n");
	ck_render(&list, &set, DIAG_FORMAT_GITHUB, false,
	          "::error file=p.drp,line=2,col=9,endLine=2,endColumn=9,title=DRP001::"
	          "expected '}' before the end of the file%0Afix: insert '}'\n");
	diag_list_free(&list);
	src_set_free(&set);
}
END_TEST

START_TEST(test_past_eof_and_empty_file)
{
	const char *text = "abc\n";
	struct src_set set;
	struct diag_list list;
	src_set_init(&set);
	diag_list_init(&list);
	src_add(&set, "a.drp", text, strlen(text));
	src_add(&set, "empty.drp", "", 0);
	/* A range beyond the text is clamped to its end: the empty line after the last newline. */
	diag_add(&list, DIAG_ERROR, DRP001, src_range_make(0, 100, 200), "past the end");
	diag_add(&list, DIAG_WARNING, DRP001, src_range_make(1, 0, 0), "empty plan");
	diag_add(&list, DIAG_ERROR, DRP001, src_range_make(1, 7, 3), "backwards range");

	ck_render(&list, &set, DIAG_FORMAT_TEXT, false,
	          "a.drp:2:1: error: past the end [DRP001]\n"
	          "    2 |\n"
	          "      | ^\n"
	          "empty.drp:1:1: warning: empty plan [DRP001]\n"
	          "    1 |\n"
	          "      | ^\n"
	          "empty.drp:1:1: error: backwards range [DRP001]\n"
	          "    1 |\n"
	          "      | ^\n");
	char *json = render(&list, &set, DIAG_FORMAT_JSON, false);
	ck_assert_ptr_nonnull(strstr(json, "\"start\":{\"line\":2,\"column\":1,\"byte\":4},"
	                                   "\"end\":{\"line\":2,\"column\":1,\"byte\":4}"));
	ck_assert_ptr_nonnull(strstr(json, "\"start\":{\"line\":1,\"column\":1,\"byte\":0},"
	                                   "\"end\":{\"line\":1,\"column\":1,\"byte\":0}"));
	free(json);
	diag_list_free(&list);
	src_set_free(&set);
}
END_TEST

START_TEST(test_multiline_range)
{
	const char *text = "step 1 {\n  x\n}\n";
	struct src_set set;
	struct diag_list list;
	src_set_init(&set);
	diag_list_init(&list);
	src_add(&set, "m.drp", text, strlen(text));
	diag_add(&list, DIAG_ERROR, DRP001, range_of(0, text, "step 1 {\n  x\n}"), "empty step");
	/* The underline stops at the end of the first line; the machine formats keep the real end. */
	ck_render(&list, &set, DIAG_FORMAT_TEXT, false,
	          "m.drp:1:1: error: empty step [DRP001]\n"
	          "    1 | step 1 {\n"
	          "      | ^~~~~~~~\n");
	ck_render(&list, &set, DIAG_FORMAT_GITHUB, false,
	          "::error file=m.drp,line=1,col=1,endLine=3,endColumn=2,title=DRP001::empty step\n");
	diag_list_free(&list);
	src_set_free(&set);
}
END_TEST

START_TEST(test_gutter_width)
{
	const char *text = "l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\nline9\nline10\n";
	struct src_set set;
	struct diag_list list;
	src_set_init(&set);
	diag_list_init(&list);
	src_add(&set, "g.drp", text, strlen(text));
	struct diag *d = diag_add(&list, DIAG_ERROR, DRP001, range_of(0, text, "line9"), "nine");
	diag_note(d, range_of(0, text, "line10"), "ten");
	diag_hint(d, "count again");
	/* The gutter is as wide as the widest line number in the whole diagnostic. */
	ck_render(&list, &set, DIAG_FORMAT_TEXT, false,
	          "g.drp:9:1: error: nine [DRP001]\n"
	          "     9 | line9\n"
	          "       | ^~~~~\n"
	          "       = help: count again\n"
	          "g.drp:10:1: note: ten\n"
	          "    10 | line10\n"
	          "       | ^~~~~~\n");
	diag_list_free(&list);
	src_set_free(&set);
}
END_TEST

START_TEST(test_control_characters)
{
	/* An escape sequence, an invalid byte and a right-to-left override must not reach the
	 * terminal; each still takes one column so the caret stays under "bad". */
	const char *text = "name = \"a\x1b[2Jb\xff"
	                   "c\xe2\x80\xae\" bad\n";
	struct src_set set;
	struct diag_list list;
	src_set_init(&set);
	diag_list_init(&list);
	src_add(&set, "c.drp", text, strlen(text));
	diag_add(&list, DIAG_ERROR, DRP002, range_of(0, text, "bad"), "found \x1b[31m here");
	ck_render(&list, &set, DIAG_FORMAT_TEXT, false,
	          "c.drp:1:20: error: found \xef\xbf\xbd[31m here [DRP002]\n"
	          "    1 | name = \"a\xef\xbf\xbd[2Jb\xef\xbf\xbd"
	          "c\xef\xbf\xbd\" bad\n"
	          "      |                    ^~~\n");
	diag_list_free(&list);
	src_set_free(&set);
}
END_TEST

/* ---- text: long lines ---- */

START_TEST(test_ten_megabyte_line)
{
	const size_t n = (size_t)10 * 1024 * 1024;
	struct buf text = BUF_INIT;
	buf_puts(&text, "x = ");
	buf_repeat(&text, 'a', n);
	buf_puts(&text, " bad\n");
	struct src_set set;
	struct diag_list list;
	src_set_init(&set);
	diag_list_init(&list);
	src_add(&set, "big.drp", text.data, text.len);
	uint32_t start = (uint32_t)(4 + n + 1);
	diag_add(&list, DIAG_ERROR, DRP001, src_range_make(0, start, start + 3), "unexpected 'bad'");

	/* The line has n + 8 columns; the window is its last 160, the caret 157 columns in. */
	struct buf want = BUF_INIT;
	buf_printf(&want, "big.drp:1:%zu: error: unexpected 'bad' [DRP001]\n", n + 6);
	buf_puts(&want, "    1 | ...");
	buf_repeat(&want, 'a', 156);
	buf_puts(&want, " bad\n      | ");
	buf_repeat(&want, ' ', 3 + 157);
	buf_puts(&want, "^~~\n");

	char *got = render(&list, &set, DIAG_FORMAT_TEXT, false);
	ck_assert_uint_lt(strlen(got), 500);
	ck_assert_str_eq(got, want.data);
	free(got);
	buf_free(&want);
	buf_free(&text);
	diag_list_free(&list);
	src_set_free(&set);
}
END_TEST

START_TEST(test_long_line_window)
{
	struct buf text = BUF_INIT;
	buf_repeat(&text, 'a', 500);
	buf_puts(&text, "bad");
	buf_repeat(&text, 'b', 497);
	buf_putc(&text, '\n');
	struct src_set set;
	struct diag_list list;
	src_set_init(&set);
	diag_list_init(&list);
	src_add(&set, "w.drp", text.data, text.len);
	diag_add(&list, DIAG_ERROR, DRP001, src_range_make(0, 500, 503), "mid");
	diag_add(&list, DIAG_ERROR, DRP001, src_range_make(0, 500, 900), "wide");
	diag_add(&list, DIAG_ERROR, DRP001, src_range_make(0, 5, 6), "early");

	struct buf want = BUF_INIT;
	/* Caret in the middle: cut on both sides, 60 columns of context before it. */
	buf_puts(&want, "w.drp:1:501: error: mid [DRP001]\n    1 | ...");
	buf_repeat(&want, 'a', 60);
	buf_puts(&want, "bad");
	buf_repeat(&want, 'b', 97);
	buf_puts(&want, "...\n      | ");
	buf_repeat(&want, ' ', 63);
	buf_puts(&want, "^~~\n");
	/* A range wider than the window is underlined only up to the cut. */
	buf_puts(&want, "w.drp:1:501: error: wide [DRP001]\n    1 | ...");
	buf_repeat(&want, 'a', 60);
	buf_puts(&want, "bad");
	buf_repeat(&want, 'b', 97);
	buf_puts(&want, "...\n      | ");
	buf_repeat(&want, ' ', 63);
	buf_putc(&want, '^');
	buf_repeat(&want, '~', 99);
	buf_putc(&want, '\n');
	/* Caret near the start: nothing cut before it. */
	buf_puts(&want, "w.drp:1:6: error: early [DRP001]\n    1 | ");
	buf_repeat(&want, 'a', 160);
	buf_puts(&want, "...\n      |      ^\n");

	ck_render(&list, &set, DIAG_FORMAT_TEXT, false, want.data);
	buf_free(&want);
	buf_free(&text);
	diag_list_free(&list);
	src_set_free(&set);
}
END_TEST

/* ---- a note, a hint and a fix-it ---- */

/* Two files that include each other, and a misspelt operation with a suggestion. */
static const char cycle_a[] = "include \"b.drp\"\nstep 1 {\n  shutdwn vm \"db\"\n}\n";
static const char cycle_b[] = "include \"a.drp\"\n";

static void cycle_setup(struct src_set *set, struct diag_list *list)
{
	src_set_init(set);
	diag_list_init(list);
	src_add(set, "plans/a.drp", cycle_a, strlen(cycle_a));
	src_add(set, "plans/b.drp", cycle_b, strlen(cycle_b));
	struct diag *d = diag_add(list, DIAG_ERROR, DRP012, range_of(0, cycle_a, "include \"b.drp\""),
	                          "'plans/a.drp' includes itself");
	diag_note(d, range_of(1, cycle_b, "include \"a.drp\""),
	          "'plans/b.drp' includes 'plans/a.drp' here");
	d = diag_add(list, DIAG_WARNING, DRP009, range_of(0, cycle_a, "shutdwn"),
	             "unknown operation 'shutdwn'");
	diag_hint(d, "did you mean 'shutdown'?");
	diag_fixit(d, "shutdown");
}

START_TEST(test_note_hint_fixit_text)
{
	struct src_set set;
	struct diag_list list;
	cycle_setup(&set, &list);
	ck_render(&list, &set, DIAG_FORMAT_TEXT, false,
	          "plans/a.drp:1:1: error: 'plans/a.drp' includes itself [DRP012]\n"
	          "    1 | include \"b.drp\"\n"
	          "      | ^~~~~~~~~~~~~~~\n"
	          "plans/b.drp:1:1: note: 'plans/b.drp' includes 'plans/a.drp' here\n"
	          "    1 | include \"a.drp\"\n"
	          "      | ^~~~~~~~~~~~~~~\n"
	          "plans/a.drp:3:3: warning: unknown operation 'shutdwn' [DRP009]\n"
	          "    3 |   shutdwn vm \"db\"\n"
	          "      |   ^~~~~~~\n"
	          "      = help: did you mean 'shutdown'?\n"
	          "      = fix: replace with 'shutdown'\n");
	diag_list_free(&list);
	src_set_free(&set);
}
END_TEST

START_TEST(test_note_hint_fixit_json)
{
	struct src_set set;
	struct diag_list list;
	cycle_setup(&set, &list);
	ck_render(&list, &set, DIAG_FORMAT_JSON, false,
	          "{\"severity\":\"error\",\"code\":\"DRP012\",\"rule\":\"include-cycle\","
	          "\"summary\":\"'plans/a.drp' includes itself\",\"range\":{\"filename\":\"plans/a.drp\","
	          "\"start\":{\"line\":1,\"column\":1,\"byte\":0},"
	          "\"end\":{\"line\":1,\"column\":16,\"byte\":15}},"
	          "\"notes\":[{\"message\":\"'plans/b.drp' includes 'plans/a.drp' here\","
	          "\"range\":{\"filename\":\"plans/b.drp\",\"start\":{\"line\":1,\"column\":1,\"byte\":0},"
	          "\"end\":{\"line\":1,\"column\":16,\"byte\":15}}}]}\n"
	          "{\"severity\":\"warning\",\"code\":\"DRP009\",\"rule\":\"unknown-word\","
	          "\"summary\":\"unknown operation 'shutdwn'\",\"range\":{\"filename\":\"plans/a.drp\","
	          "\"start\":{\"line\":3,\"column\":3,\"byte\":27},"
	          "\"end\":{\"line\":3,\"column\":10,\"byte\":34}},"
	          "\"hint\":\"did you mean 'shutdown'?\",\"fix\":{\"replacement\":\"shutdown\"},"
	          "\"notes\":[]}\n");
	diag_list_free(&list);
	src_set_free(&set);
}
END_TEST

START_TEST(test_note_hint_fixit_github)
{
	struct src_set set;
	struct diag_list list;
	cycle_setup(&set, &list);
	ck_render(&list, &set, DIAG_FORMAT_GITHUB, false,
	          "::error file=plans/a.drp,line=1,col=1,endLine=1,endColumn=16,title=DRP012::"
	          "'plans/a.drp' includes itself%0Anote: plans/b.drp:1:1: "
	          "'plans/b.drp' includes 'plans/a.drp' here\n"
	          "::warning file=plans/a.drp,line=3,col=3,endLine=3,endColumn=10,title=DRP009::"
	          "unknown operation 'shutdwn'%0Ahelp: did you mean 'shutdown'?"
	          "%0Afix: replace with 'shutdown'\n");
	diag_list_free(&list);
	src_set_free(&set);
}
END_TEST

START_TEST(test_fixit_remove)
{
	const char *text = "rto 5m 5m\n";
	struct src_set set;
	struct diag_list list;
	src_set_init(&set);
	diag_list_init(&list);
	src_add(&set, "r.drp", text, strlen(text));
	struct diag *d = diag_add(&list, DIAG_NOTE, DRP001, src_range_make(0, 6, 9), "extra value");
	diag_fixit(d, "");
	ck_render(&list, &set, DIAG_FORMAT_TEXT, false,
	          "r.drp:1:7: note: extra value [DRP001]\n"
	          "    1 | rto 5m 5m\n"
	          "      |       ^~~\n"
	          "      = fix: remove this\n");
	ck_render(&list, &set, DIAG_FORMAT_GITHUB, false,
	          "::notice file=r.drp,line=1,col=7,endLine=1,endColumn=10,title=DRP001::"
	          "extra value%0Afix: remove this\n");
	/* A fix-it that inserts a line break shows it as \n rather than breaking the layout. */
	d = diag_add(&list, DIAG_ERROR, DRP001, src_range_make(0, 3, 3), "missing break");
	diag_fixit(d, "\n\t");
	ck_render(&list, &set, DIAG_FORMAT_TEXT, false,
	          "r.drp:1:7: note: extra value [DRP001]\n"
	          "    1 | rto 5m 5m\n"
	          "      |       ^~~\n"
	          "      = fix: remove this\n"
	          "r.drp:1:4: error: missing break [DRP001]\n"
	          "    1 | rto 5m 5m\n"
	          "      |    ^\n"
	          "      = fix: insert '\\n\t'\n");
	diag_list_free(&list);
	src_set_free(&set);
}
END_TEST

/* ---- SARIF ---- */

static const char sarif_two[] =
	"{\n"
	"  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n"
	"  \"version\": \"2.1.0\",\n"
	"  \"runs\": [\n"
	"    {\n"
	"      \"tool\": {\n"
	"        \"driver\": {\n"
	"          \"name\": \"drplan\",\n"
	"          \"informationUri\": \"" DRPLAN_INFORMATION_URI "\",\n"
	"          \"rules\": [\n"
	"            {\n"
	"              \"id\": \"DRP012\",\n"
	"              \"name\": \"include-cycle\",\n"
	"              \"shortDescription\": {\n"
	"                \"text\": \"A file that includes itself, directly or through other files.\"\n"
	"              }\n"
	"            },\n"
	"            {\n"
	"              \"id\": \"DRP009\",\n"
	"              \"name\": \"unknown-word\",\n"
	"              \"shortDescription\": {\n"
	"                \"text\": \"A word outside a closed vocabulary: a mode, an operation kind, a "
	"limit scope.\"\n"
	"              }\n"
	"            }\n"
	"          ]\n"
	"        }\n"
	"      },\n"
	"      \"columnKind\": \"unicodeCodePoints\",\n"
	"      \"results\": [\n"
	"        {\n"
	"          \"ruleId\": \"DRP012\",\n"
	"          \"ruleIndex\": 0,\n"
	"          \"level\": \"error\",\n"
	"          \"message\": {\n"
	"            \"text\": \"'plans/a.drp' includes itself\"\n"
	"          },\n"
	"          \"locations\": [\n"
	"            {\n"
	"              \"physicalLocation\": {\n"
	"                \"artifactLocation\": {\n"
	"                  \"uri\": \"plans/a.drp\"\n"
	"                },\n"
	"                \"region\": {\n"
	"                  \"startLine\": 1,\n"
	"                  \"startColumn\": 1,\n"
	"                  \"endLine\": 1,\n"
	"                  \"endColumn\": 16\n"
	"                }\n"
	"              }\n"
	"            }\n"
	"          ],\n"
	"          \"relatedLocations\": [\n"
	"            {\n"
	"              \"id\": 0,\n"
	"              \"physicalLocation\": {\n"
	"                \"artifactLocation\": {\n"
	"                  \"uri\": \"plans/b.drp\"\n"
	"                },\n"
	"                \"region\": {\n"
	"                  \"startLine\": 1,\n"
	"                  \"startColumn\": 1,\n"
	"                  \"endLine\": 1,\n"
	"                  \"endColumn\": 16\n"
	"                }\n"
	"              },\n"
	"              \"message\": {\n"
	"                \"text\": \"'plans/b.drp' includes 'plans/a.drp' here\"\n"
	"              }\n"
	"            }\n"
	"          ]\n"
	"        },\n"
	"        {\n"
	"          \"ruleId\": \"DRP009\",\n"
	"          \"ruleIndex\": 1,\n"
	"          \"level\": \"warning\",\n"
	"          \"message\": {\n"
	"            \"text\": \"unknown operation 'shutdwn'\"\n"
	"          },\n"
	"          \"locations\": [\n"
	"            {\n"
	"              \"physicalLocation\": {\n"
	"                \"artifactLocation\": {\n"
	"                  \"uri\": \"plans/a.drp\"\n"
	"                },\n"
	"                \"region\": {\n"
	"                  \"startLine\": 3,\n"
	"                  \"startColumn\": 3,\n"
	"                  \"endLine\": 3,\n"
	"                  \"endColumn\": 10\n"
	"                }\n"
	"              }\n"
	"            }\n"
	"          ],\n"
	"          \"fixes\": [\n"
	"            {\n"
	"              \"artifactChanges\": [\n"
	"                {\n"
	"                  \"artifactLocation\": {\n"
	"                    \"uri\": \"plans/a.drp\"\n"
	"                  },\n"
	"                  \"replacements\": [\n"
	"                    {\n"
	"                      \"deletedRegion\": {\n"
	"                        \"startLine\": 3,\n"
	"                        \"startColumn\": 3,\n"
	"                        \"endLine\": 3,\n"
	"                        \"endColumn\": 10\n"
	"                      },\n"
	"                      \"insertedContent\": {\n"
	"                        \"text\": \"shutdown\"\n"
	"                      }\n"
	"                    }\n"
	"                  ]\n"
	"                }\n"
	"              ]\n"
	"            }\n"
	"          ],\n"
	"          \"properties\": {\n"
	"            \"hint\": \"did you mean 'shutdown'?\"\n"
	"          }\n"
	"        }\n"
	"      ]\n"
	"    }\n"
	"  ]\n"
	"}\n";

START_TEST(test_sarif_two)
{
	struct src_set set;
	struct diag_list list;
	cycle_setup(&set, &list);
	char *got = render(&list, &set, DIAG_FORMAT_SARIF, false);
	ck_assert_str_eq(got, sarif_two);
	ck_assert(json_is_object(got));
	ck_assert_ptr_nonnull(strstr(got, "\n  \"version\": \"2.1.0\",\n"));
	ck_assert_ptr_nonnull(strstr(got, "\n      \"columnKind\": \"unicodeCodePoints\",\n"));
	ck_assert_uint_eq(count_occurrences(got, "\"ruleId\": "), 2);
	ck_assert_uint_eq(count_occurrences(got, "\"shortDescription\": "), 2);
	free(got);
	diag_list_free(&list);
	src_set_free(&set);
}
END_TEST

START_TEST(test_sarif_rules_deduplicated)
{
	const char *text = "a b c\n";
	struct src_set set;
	struct diag_list list;
	src_set_init(&set);
	diag_list_init(&list);
	src_add(&set, "d.drp", text, strlen(text));
	diag_add(&list, DIAG_ERROR, DRP009, src_range_make(0, 0, 1), "a");
	diag_add(&list, DIAG_ERROR, DRP001, src_range_make(0, 2, 3), "b");
	diag_add(&list, DIAG_ERROR, DRP009, src_range_make(0, 4, 5), "c");
	char *got = render(&list, &set, DIAG_FORMAT_SARIF, false);
	ck_assert(json_is_object(got));
	ck_assert_uint_eq(count_occurrences(got, "\"shortDescription\": "), 2);
	ck_assert_uint_eq(count_occurrences(got, "\"ruleId\": "), 3);
	/* Each result points at its rule's first-use index. */
	const char *r1 = strstr(got, "\"ruleId\": \"DRP009\",\n          \"ruleIndex\": 0,");
	ck_assert_ptr_nonnull(r1);
	const char *r2 = strstr(r1 + 1, "\"ruleId\": \"DRP001\",\n          \"ruleIndex\": 1,");
	ck_assert_ptr_nonnull(r2);
	ck_assert_ptr_nonnull(strstr(r2 + 1, "\"ruleId\": \"DRP009\",\n          \"ruleIndex\": 0,"));
	free(got);
	diag_list_free(&list);
	src_set_free(&set);
}
END_TEST

START_TEST(test_sarif_empty)
{
	struct src_set set;
	struct diag_list list;
	src_set_init(&set);
	diag_list_init(&list);
	char *got = render(&list, &set, DIAG_FORMAT_SARIF, false);
	ck_assert_str_eq(got, "{\n"
	                      "  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n"
	                      "  \"version\": \"2.1.0\",\n"
	                      "  \"runs\": [\n"
	                      "    {\n"
	                      "      \"tool\": {\n"
	                      "        \"driver\": {\n"
	                      "          \"name\": \"drplan\",\n"
	                      "          \"informationUri\": "
	                      "\"" DRPLAN_INFORMATION_URI "\",\n"
	                      "          \"rules\": []\n"
	                      "        }\n"
	                      "      },\n"
	                      "      \"columnKind\": \"unicodeCodePoints\",\n"
	                      "      \"results\": []\n"
	                      "    }\n"
	                      "  ]\n"
	                      "}\n");
	ck_assert(json_is_object(got));
	free(got);
	diag_list_free(&list);
	src_set_free(&set);
}
END_TEST

START_TEST(test_sarif_uri)
{
	const char *text = "x\n";
	struct src_set set;
	struct diag_list list;
	src_set_init(&set);
	diag_list_init(&list);
	src_add(&set, "my plans/a b#1.drp", text, 2);
	src_add(&set, "/srv/dr plans/caf\xc3\xa9:1.drp", text, 2);
	src_add(&set, "./rel/100%.drp", text, 2);
	for (uint32_t f = 0; f < 3; f++)
		diag_add(&list, DIAG_ERROR, DRP001, src_range_make(f, 0, 1), "x");
	char *got = render(&list, &set, DIAG_FORMAT_SARIF, false);
	ck_assert(json_is_object(got));
	ck_assert_ptr_nonnull(strstr(got, "\"uri\": \"my%20plans/a%20b%231.drp\"\n"));
	ck_assert_ptr_nonnull(strstr(got, "\"uri\": \"file:///srv/dr%20plans/caf%C3%A9%3A1.drp\"\n"));
	ck_assert_ptr_nonnull(strstr(got, "\"uri\": \"./rel/100%25.drp\"\n"));
	free(got);
	diag_list_free(&list);
	src_set_free(&set);
}
END_TEST

/* ---- no source ---- */

START_TEST(test_no_source)
{
	struct src_set set;
	struct diag_list list;
	src_set_init(&set);
	diag_list_init(&list);
	struct diag *d = diag_add(&list, DIAG_ERROR, DRP010, src_range_make(SRC_NONE, 0, 0),
	                          "cannot read 'x.drp': No such file or directory");
	diag_hint(d, "check the path");

	ck_render(&list, &set, DIAG_FORMAT_TEXT, false,
	          "drplan: error: cannot read 'x.drp': No such file or directory [DRP010]\n"
	          "     = help: check the path\n");
	ck_render(&list, &set, DIAG_FORMAT_JSON, false,
	          "{\"severity\":\"error\",\"code\":\"DRP010\",\"rule\":\"include-unreadable\","
	          "\"summary\":\"cannot read 'x.drp': No such file or directory\",\"range\":null,"
	          "\"hint\":\"check the path\",\"notes\":[]}\n");
	ck_render(&list, &set, DIAG_FORMAT_GITHUB, false,
	          "::error title=DRP010::cannot read 'x.drp': No such file or directory"
	          "%0Ahelp: check the path\n");
	char *sarif = render(&list, &set, DIAG_FORMAT_SARIF, false);
	ck_assert(json_is_object(sarif));
	ck_assert_ptr_nonnull(strstr(sarif, "\"ruleId\": \"DRP010\""));
	ck_assert_ptr_null(strstr(sarif, "\"locations\""));
	free(sarif);
	diag_list_free(&list);
	src_set_free(&set);
}
END_TEST

/* ---- colour ---- */

START_TEST(test_color)
{
	const char *text = "rto soon\n";
	struct src_set set;
	struct diag_list list;
	src_set_init(&set);
	diag_list_init(&list);
	src_add(&set, "c.drp", text, strlen(text));
	diag_add(&list, DIAG_ERROR, DRP007, range_of(0, text, "soon"), "bad duration");
	struct diag *d = diag_add(&list, DIAG_WARNING, DRP009, range_of(0, text, "rto"), "odd");
	diag_note(d, src_range_make(SRC_NONE, 0, 0), "from the command line");
	ck_render(&list, &set, DIAG_FORMAT_TEXT, true,
	          "\033[1mc.drp:1:5:\033[0m \033[1;31merror:\033[0m bad duration [DRP007]\n"
	          "    1 | rto soon\n"
	          "      |     \033[1;32m^~~~\033[0m\n"
	          "\033[1mc.drp:1:1:\033[0m \033[1;35mwarning:\033[0m odd [DRP009]\n"
	          "    1 | rto soon\n"
	          "      | \033[1;32m^~~\033[0m\n"
	          "\033[1mdrplan:\033[0m \033[1;36mnote:\033[0m from the command line\n");
	/* Colour is for text only. */
	char *json = render(&list, &set, DIAG_FORMAT_JSON, true);
	ck_assert_ptr_null(strchr(json, '\033'));
	free(json);
	diag_list_free(&list);
	src_set_free(&set);
}
END_TEST

/* ---- github escaping ---- */

START_TEST(test_github_escaping)
{
	const char *text = "x\ny\n";
	struct src_set set;
	struct diag_list list;
	src_set_init(&set);
	diag_list_init(&list);
	src_add(&set, "dir,x/a:b 100%.drp", text, strlen(text));
	struct diag *d = diag_add(&list, DIAG_ERROR, DRP001, src_range_make(0, 0, 1),
	                          "100%% sure\nreally, yes: ok\r");
	diag_hint(d, "use 50%%, or: less");
	diag_note(d, src_range_make(0, 2, 3), "see: here,\nthere");
	ck_render(&list, &set, DIAG_FORMAT_GITHUB, false,
	          "::error file=dir%2Cx/a%3Ab 100%25.drp,line=1,col=1,endLine=1,endColumn=2,"
	          "title=DRP001::100%25 sure%0Areally, yes: ok%0D%0Ahelp: use 50%25, or: less"
	          "%0Anote: dir,x/a:b 100%25.drp:2:1: see: here,%0Athere\n");
	diag_list_free(&list);
	src_set_free(&set);
}
END_TEST

/* ---- JSON Lines parse ---- */

START_TEST(test_json_validator_rejects)
{
	/* The recogniser must be able to fail, or the JSON tests prove nothing. */
	ck_assert(json_is_object("{\"a\":[1,-2.5e3,true,null,{\"b\":\"\\u00e9\"}]}"));
	ck_assert(!json_is_object("{\"a\":}"));
	ck_assert(!json_is_object("{\"a\":1,}"));
	ck_assert(!json_is_object("{\"a\":\"x\ty\"}"));
	ck_assert(!json_is_object("{\"a\":\"\\x\"}"));
	ck_assert(!json_is_object("{\"a\":\"\xff\"}"));
	ck_assert(!json_is_object("{\"a\":01}"));
	ck_assert(!json_is_object("{\"a\":1} {}"));
	ck_assert(!json_is_object("[1]"));
	ck_assert(!json_is_object("{\"a\":1"));
}
END_TEST

START_TEST(test_json_lines_parse)
{
	/* Hostile strings everywhere a string goes: quotes, backslashes, controls, invalid UTF-8. */
	const char *text = "a\t\"b\\c\"\n\xff\xfe\n";
	struct src_set set;
	struct diag_list list;
	src_set_init(&set);
	diag_list_init(&list);
	src_add(&set, "q\"uote\\d\x01.drp", text, strlen(text));
	struct diag *d = diag_add(&list, DIAG_ERROR, DRP005, src_range_make(0, 9, 11),
	                          "bytes \xff\xfe are not \"UTF-8\"\\\n\x1f");
	diag_hint(d, "\x7f\tremove them");
	diag_fixit(d, "\"\\");
	diag_note(d, src_range_make(0, 0, 1), "note\r\n");
	diag_note(d, src_range_make(SRC_NONE, 0, 0), "no file");
	diag_add(&list, DIAG_WARNING, DRP014, src_range_make(SRC_NONE, 0, 0), "%s", "");
	diag_add(&list, DIAG_NOTE, DRP001, src_range_make(0, 5000, 6000), "past the end");

	char *json = render(&list, &set, DIAG_FORMAT_JSON, false);
	size_t count = 0;
	ck_assert_msg(json_lines_valid(json, &count), "invalid JSON Lines: %s", json);
	ck_assert_uint_eq(count, 3);
	ck_assert_ptr_nonnull(strstr(json, "\"filename\":\"q\\\"uote\\\\d\\u0001.drp\""));
	ck_assert_ptr_nonnull(strstr(json, "\"summary\":\"bytes \\ufffd\\ufffd are not "
	                                   "\\\"UTF-8\\\"\\\\\\n\\u001f\""));
	ck_assert_ptr_nonnull(strstr(json, "{\"message\":\"no file\",\"range\":null}"));
	free(json);

	char *sarif = render(&list, &set, DIAG_FORMAT_SARIF, false);
	ck_assert_msg(json_is_object(sarif), "invalid SARIF: %s", sarif);
	free(sarif);
	diag_list_free(&list);
	src_set_free(&set);
}
END_TEST

/* ---- render order, sorting, suggestions ---- */

START_TEST(test_sort_and_order)
{
	struct src_set set;
	struct diag_list list;
	src_set_init(&set);
	diag_list_init(&list);
	src_add(&set, "a.drp", "0123456789\n", 11);
	src_add(&set, "b.drp", "0123456789\n", 11);
	diag_add(&list, DIAG_ERROR, DRP001, src_range_make(1, 5, 6), "d");
	diag_add(&list, DIAG_ERROR, DRP001, src_range_make(0, 9, 9), "c");
	diag_add(&list, DIAG_ERROR, DRP001, src_range_make(0, 2, 3), "a");
	diag_add(&list, DIAG_ERROR, DRP001, src_range_make(SRC_NONE, 0, 0), "e");
	diag_add(&list, DIAG_ERROR, DRP001, src_range_make(0, 2, 2), "b");

	/* Rendering keeps the list's current order. */
	ck_render(&list, &set, DIAG_FORMAT_GITHUB, false,
	          "::error file=b.drp,line=1,col=6,endLine=1,endColumn=7,title=DRP001::d\n"
	          "::error file=a.drp,line=1,col=10,endLine=1,endColumn=10,title=DRP001::c\n"
	          "::error file=a.drp,line=1,col=3,endLine=1,endColumn=4,title=DRP001::a\n"
	          "::error title=DRP001::e\n"
	          "::error file=a.drp,line=1,col=3,endLine=1,endColumn=3,title=DRP001::b\n");

	/* File, then offset, then insertion order; no file sorts last. */
	diag_sort(&list);
	const char *want[] = {"a", "b", "c", "d", "e"};
	ck_assert_uint_eq(list.len, 5);
	for (size_t i = 0; i < 5; i++)
		ck_assert_str_eq(list.items[i]->message, want[i]);
	ck_assert_uint_eq(list.errors, 5);
	diag_list_free(&list);
	src_set_free(&set);
}
END_TEST

START_TEST(test_suggest)
{
	const char *const words[] = {"shutdown", "startup", "snapshot", "migrate", NULL};
	ck_assert_str_eq(diag_suggest("shutdwn", 7, words), "shutdown");
	ck_assert_str_eq(diag_suggest("shtudown", 8, words), "shutdown");
	ck_assert_str_eq(diag_suggest("migrat", 6, words), "migrate");
	ck_assert_ptr_null(diag_suggest("xyz", 3, words));
	ck_assert_ptr_null(diag_suggest("", 0, words));
	/* len bounds the word: only "shutdwn" of the longer string is compared. */
	ck_assert_str_eq(diag_suggest("shutdwn and more", 7, words), "shutdown");
}
END_TEST

/* rules.def promises that docs/diagnostics.md documents every rule: a section "### DRPnnn name" each,
 * in order, and no section for a rule that does not exist. */
START_TEST(test_rules_documented)
{
	FILE *f = fopen("docs/diagnostics.md", "r");
	ck_assert_msg(f != NULL, "run the tests from the repository root");
	char line[512];
	int next = 0;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "### DRP", 7) != 0)
			continue;
		ck_assert_msg(next < DIAG_RULE_COUNT, "docs/diagnostics.md documents an unknown rule: %s", line);
		const struct diag_rule_info *info = diag_rule_info((enum diag_rule)next);
		char expected[128];
		snprintf(expected, sizeof expected, "### %s %s\n", info->id, info->name);
		ck_assert_str_eq(line, expected);
		next++;
	}
	fclose(f);
	ck_assert_int_eq(next, DIAG_RULE_COUNT);
}
END_TEST

Suite *diag_suite(void)
{
	Suite *s = suite_create("diag");
	TCase *tc = tcase_create("render");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_format_parse);
	tcase_add_test(tc, test_rules_documented);
	tcase_add_test(tc, test_plain_error);
	tcase_add_test(tc, test_empty_list);
	tcase_add_test(tc, test_text_tabs);
	tcase_add_test(tc, test_utf8_columns);
	tcase_add_test(tc, test_eof_without_newline);
	tcase_add_test(tc, test_past_eof_and_empty_file);
	tcase_add_test(tc, test_multiline_range);
	tcase_add_test(tc, test_gutter_width);
	tcase_add_test(tc, test_control_characters);
	tcase_add_test(tc, test_ten_megabyte_line);
	tcase_add_test(tc, test_long_line_window);
	tcase_add_test(tc, test_note_hint_fixit_text);
	tcase_add_test(tc, test_note_hint_fixit_json);
	tcase_add_test(tc, test_note_hint_fixit_github);
	tcase_add_test(tc, test_fixit_remove);
	tcase_add_test(tc, test_sarif_two);
	tcase_add_test(tc, test_sarif_rules_deduplicated);
	tcase_add_test(tc, test_sarif_empty);
	tcase_add_test(tc, test_sarif_uri);
	tcase_add_test(tc, test_no_source);
	tcase_add_test(tc, test_color);
	tcase_add_test(tc, test_github_escaping);
	tcase_add_test(tc, test_json_validator_rejects);
	tcase_add_test(tc, test_json_lines_parse);
	tcase_add_test(tc, test_sort_and_order);
	tcase_add_test(tc, test_suggest);
	suite_add_tcase(s, tc);
	return s;
}
