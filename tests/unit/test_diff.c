/* test_diff.c: diff_unified against GNU diff -u output, and a patch round trip on random texts. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/alloc.h"
#include "../../lib/buf.h"
#include "../../lib/diff.h"
#include "suites.h"

/* Expected outputs are from GNU diffutils 3.8:
 *   diff -U<context> --label a.drp --label 'a.drp (formatted)' OLD NEW
 * (the labels stand in for the file names and leave out the timestamps). */
static const struct gnu_case {
	const char *name;
	int context;
	const char *old, *new, *expected;
} gnu_cases[] = {
	{"one_line_changed", 3,
		"a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n",
		"a\nb\nc\nd\nE\nf\ng\nh\ni\nj\n",
		"--- a.drp\n"
		"+++ a.drp (formatted)\n"
		"@@ -2,7 +2,7 @@\n"
		" b\n"
		" c\n"
		" d\n"
		"-e\n"
		"+E\n"
		" f\n"
		" g\n"
		" h\n"},
	{"single_line_file", 3,
		"x\n",
		"y\n",
		"--- a.drp\n"
		"+++ a.drp (formatted)\n"
		"@@ -1 +1 @@\n"
		"-x\n"
		"+y\n"},
	{"insert_at_start", 3,
		"a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n",
		"new\na\nb\nc\nd\ne\nf\ng\nh\ni\nj\n",
		"--- a.drp\n"
		"+++ a.drp (formatted)\n"
		"@@ -1,3 +1,4 @@\n"
		"+new\n"
		" a\n"
		" b\n"
		" c\n"},
	{"insert_at_end", 3,
		"a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n",
		"a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nnew\n",
		"--- a.drp\n"
		"+++ a.drp (formatted)\n"
		"@@ -8,3 +8,4 @@\n"
		" h\n"
		" i\n"
		" j\n"
		"+new\n"},
	{"delete_everything", 3,
		"a\nb\nc\n",
		"",
		"--- a.drp\n"
		"+++ a.drp (formatted)\n"
		"@@ -1,3 +0,0 @@\n"
		"-a\n"
		"-b\n"
		"-c\n"},
	{"empty_old", 3,
		"",
		"a\nb\nc\n",
		"--- a.drp\n"
		"+++ a.drp (formatted)\n"
		"@@ -0,0 +1,3 @@\n"
		"+a\n"
		"+b\n"
		"+c\n"},
	{"empty_new_no_newline", 3,
		"a\nb",
		"",
		"--- a.drp\n"
		"+++ a.drp (formatted)\n"
		"@@ -1,2 +0,0 @@\n"
		"-a\n"
		"-b\n"
		"\\ No newline at end of file\n"},
	{"empty_old_no_newline", 3,
		"",
		"only",
		"--- a.drp\n"
		"+++ a.drp (formatted)\n"
		"@@ -0,0 +1 @@\n"
		"+only\n"
		"\\ No newline at end of file\n"},
	{"old_missing_newline", 3,
		"a\nb\nc",
		"a\nb\nc\n",
		"--- a.drp\n"
		"+++ a.drp (formatted)\n"
		"@@ -1,3 +1,3 @@\n"
		" a\n"
		" b\n"
		"-c\n"
		"\\ No newline at end of file\n"
		"+c\n"},
	{"new_missing_newline", 3,
		"a\nb\nc\n",
		"a\nb\nc",
		"--- a.drp\n"
		"+++ a.drp (formatted)\n"
		"@@ -1,3 +1,3 @@\n"
		" a\n"
		" b\n"
		"-c\n"
		"+c\n"
		"\\ No newline at end of file\n"},
	{"both_missing_newline_changed", 3,
		"a\nb\nc",
		"a\nb\nC",
		"--- a.drp\n"
		"+++ a.drp (formatted)\n"
		"@@ -1,3 +1,3 @@\n"
		" a\n"
		" b\n"
		"-c\n"
		"\\ No newline at end of file\n"
		"+C\n"
		"\\ No newline at end of file\n"},
	{"missing_newline_in_context", 3,
		"a\nb\nc\nd",
		"a\nB\nc\nd",
		"--- a.drp\n"
		"+++ a.drp (formatted)\n"
		"@@ -1,4 +1,4 @@\n"
		" a\n"
		"-b\n"
		"+B\n"
		" c\n"
		" d\n"
		"\\ No newline at end of file\n"},
	{"two_hunks_far_apart", 3,
		"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n",
		"1\ntwo\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\neighteen\n19\n20\n",
		"--- a.drp\n"
		"+++ a.drp (formatted)\n"
		"@@ -1,5 +1,5 @@\n"
		" 1\n"
		"-2\n"
		"+two\n"
		" 3\n"
		" 4\n"
		" 5\n"
		"@@ -15,6 +15,6 @@\n"
		" 15\n"
		" 16\n"
		" 17\n"
		"-18\n"
		"+eighteen\n"
		" 19\n"
		" 20\n"},
	{"hunks_merge", 3,
		"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n",
		"1\n2\nthree\n4\n5\n6\n7\n8\nnine\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n",
		"--- a.drp\n"
		"+++ a.drp (formatted)\n"
		"@@ -1,12 +1,12 @@\n"
		" 1\n"
		" 2\n"
		"-3\n"
		"+three\n"
		" 4\n"
		" 5\n"
		" 6\n"
		" 7\n"
		" 8\n"
		"-9\n"
		"+nine\n"
		" 10\n"
		" 11\n"
		" 12\n"},
	{"gap_of_six_merges", 3,
		"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n",
		"1\n2\nthree\n4\n5\n6\n7\n8\n9\nten\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n",
		"--- a.drp\n"
		"+++ a.drp (formatted)\n"
		"@@ -1,13 +1,13 @@\n"
		" 1\n"
		" 2\n"
		"-3\n"
		"+three\n"
		" 4\n"
		" 5\n"
		" 6\n"
		" 7\n"
		" 8\n"
		" 9\n"
		"-10\n"
		"+ten\n"
		" 11\n"
		" 12\n"
		" 13\n"},
	{"gap_of_seven_splits", 3,
		"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n",
		"1\n2\nthree\n4\n5\n6\n7\n8\n9\n10\neleven\n12\n13\n14\n15\n16\n17\n18\n19\n20\n",
		"--- a.drp\n"
		"+++ a.drp (formatted)\n"
		"@@ -1,6 +1,6 @@\n"
		" 1\n"
		" 2\n"
		"-3\n"
		"+three\n"
		" 4\n"
		" 5\n"
		" 6\n"
		"@@ -8,7 +8,7 @@\n"
		" 8\n"
		" 9\n"
		" 10\n"
		"-11\n"
		"+eleven\n"
		" 12\n"
		" 13\n"
		" 14\n"},
	{"crlf_line_changed", 3,
		"a\r\nb\r\nc\r\n",
		"a\r\nB\r\nc\r\n",
		"--- a.drp\n"
		"+++ a.drp (formatted)\n"
		"@@ -1,3 +1,3 @@\n"
		" a\r\n"
		"-b\r\n"
		"+B\r\n"
		" c\r\n"},
	{"crlf_vs_lf", 3,
		"a\r\nb\r\nc\r\n",
		"a\r\nb\nc\r\n",
		"--- a.drp\n"
		"+++ a.drp (formatted)\n"
		"@@ -1,3 +1,3 @@\n"
		" a\r\n"
		"-b\r\n"
		"+b\n"
		" c\r\n"},
	{"context_zero_insert", 0,
		"a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n",
		"a\nb\nc\nd\ne\nnew\nf\ng\nh\ni\nj\n",
		"--- a.drp\n"
		"+++ a.drp (formatted)\n"
		"@@ -5,0 +6 @@\n"
		"+new\n"},
	{"context_zero_delete", 0,
		"a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n",
		"a\nb\nc\nd\ne\ng\nh\ni\nj\n",
		"--- a.drp\n"
		"+++ a.drp (formatted)\n"
		"@@ -6 +5,0 @@\n"
		"-f\n"},
	{"context_one_two_hunks", 1,
		"a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n",
		"a\nB\nc\nd\ne\nf\ng\nH\ni\nj\n",
		"--- a.drp\n"
		"+++ a.drp (formatted)\n"
		"@@ -1,3 +1,3 @@\n"
		" a\n"
		"-b\n"
		"+B\n"
		" c\n"
		"@@ -7,3 +7,3 @@\n"
		" g\n"
		"-h\n"
		"+H\n"
		" i\n"},
	{"delete_and_insert_blocks", 3,
		"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n",
		"1\n2\n3\n7\n8\n9\n10\n11\n12\nx\ny\n13\n14\n15\n16\n17\n18\n19\n20\n",
		"--- a.drp\n"
		"+++ a.drp (formatted)\n"
		"@@ -1,15 +1,14 @@\n"
		" 1\n"
		" 2\n"
		" 3\n"
		"-4\n"
		"-5\n"
		"-6\n"
		" 7\n"
		" 8\n"
		" 9\n"
		" 10\n"
		" 11\n"
		" 12\n"
		"+x\n"
		"+y\n"
		" 13\n"
		" 14\n"
		" 15\n"},
	{"ambiguous_insert_slides_down", 3,
		"x\n}\ny\n}\nz\n",
		"x\n}\ny\n}\n\n}\nz\n",
		"--- a.drp\n"
		"+++ a.drp (formatted)\n"
		"@@ -2,4 +2,6 @@\n"
		" }\n"
		" y\n"
		" }\n"
		"+\n"
		"+}\n"
		" z\n"},
};

static char *run_diff(const char *old, size_t oldlen, const char *new, size_t newlen, int context,
                      bool *differ)
{
	struct buf out = BUF_INIT;
	*differ = diff_unified(&out, "a.drp", old, oldlen, "a.drp (formatted)", new, newlen,
	                       context);
	buf_putc(&out, '\0'); /* so that an empty diff still has data to compare */
	return buf_detach(&out);
}

/* ---- a patch applier, to check that hunks say what they claim ---- */

struct text_line {
	const char *s;
	size_t len;
};

static struct text_line *split(const char *text, size_t len, size_t *count)
{
	struct text_line *l = xmalloc(sizeof *l * (len + 1));
	size_t n = 0, start = 0;
	while (start < len) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - text) + 1 : len;
		l[n++] = (struct text_line){text + start, end - start};
		start = end;
	}
	*count = n;
	return l;
}

/* Reads "l" or "l,s" as diff -u writes them: the first line is l-1 (0-based) unless s is 0, in
 * which case l is the line before the (empty) range. */
static bool parse_range(const char **p, size_t *first, size_t *count)
{
	char *end;
	unsigned long l = strtoul(*p, &end, 10), s = 1;
	if (end == *p)
		return false;
	if (*end == ',') {
		const char *q = end + 1;
		s = strtoul(q, &end, 10);
		if (end == q)
			return false;
	}
	*count = s;
	if (s == 0)
		*first = l;
	else if (l == 0)
		return false;
	else
		*first = l - 1;
	*p = end;
	return true;
}

static bool starts_with(const char *s, const char *end, const char *prefix)
{
	size_t n = strlen(prefix);
	return (size_t)(end - s) >= n && memcmp(s, prefix, n) == 0;
}

/* Applies `patch` to old[0..oldlen) into *res. Returns false if the patch is malformed, its
 * header counts are wrong, or its context and removed lines do not match the old text. */
static bool apply_patch(const char *old, size_t oldlen, const char *patch, struct buf *res)
{
	size_t nold, at = 0, emitted = 0;
	struct text_line *ol = split(old, oldlen, &nold);
	const char *p = patch, *end = patch + strlen(patch);
	bool ok = false;
	if (!starts_with(p, end, "--- a.drp\n+++ a.drp (formatted)\n"))
		goto out;
	p += strlen("--- a.drp\n+++ a.drp (formatted)\n");
	if (p == end)
		goto out; /* headers without hunks: never written */
	while (p < end) {
		size_t ofirst, ocount, nfirst, ncount;
		if (!starts_with(p, end, "@@ -"))
			goto out;
		p += 4;
		if (!parse_range(&p, &ofirst, &ocount) || !starts_with(p, end, " +"))
			goto out;
		p += 2;
		if (!parse_range(&p, &nfirst, &ncount) || !starts_with(p, end, " @@\n"))
			goto out;
		p += 4;
		if (ofirst < at || ofirst > nold)
			goto out;
		for (; at < ofirst; at++, emitted++)
			buf_append(res, ol[at].s, ol[at].len);
		if (nfirst != emitted)
			goto out;
		size_t seen_old = 0, seen_new = 0;
		while (p < end && (*p == ' ' || *p == '-' || *p == '+')) {
			char mark = *p++;
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			if (!nl)
				goto out;
			size_t len = (size_t)(nl - p) + 1;
			if (starts_with(nl + 1, end, "\\ No newline at end of file\n")) {
				len--;
				nl += strlen("\\ No newline at end of file\n");
			}
			if (mark != '+') {
				if (at >= nold || ol[at].len != len ||
				    memcmp(ol[at].s, p, len) != 0)
					goto out;
				at++;
				seen_old++;
			}
			if (mark != '-') {
				buf_append(res, p, len);
				emitted++;
				seen_new++;
			}
			p = nl + 1;
		}
		if (seen_old != ocount || seen_new != ncount)
			goto out;
	}
	for (; at < nold; at++)
		buf_append(res, ol[at].s, ol[at].len);
	ok = true;
out:
	free(ol);
	return ok;
}

static void check_round_trip(const char *old, size_t oldlen, const char *new, size_t newlen,
                             int context)
{
	bool differ;
	char *patch = run_diff(old, oldlen, new, newlen, context, &differ);
	bool same = oldlen == newlen && memcmp(old, new, oldlen) == 0;
	ck_assert(differ == !same);
	if (same) {
		ck_assert_str_eq(patch, "");
	} else {
		struct buf res = BUF_INIT;
		ck_assert_msg(apply_patch(old, oldlen, patch, &res), "patch does not apply:\n%s",
		              patch);
		bool same_text = res.len == newlen &&
		                 (newlen == 0 || memcmp(res.data, new, newlen) == 0);
		ck_assert_msg(same_text, "patch gives the wrong text:\n%s", patch);
		buf_free(&res);
	}
	free(patch);
}

/* ---- tests ---- */

START_TEST(test_gnu_case)
{
	const struct gnu_case *c = &gnu_cases[_i];
	bool differ;
	char *got = run_diff(c->old, strlen(c->old), c->new, strlen(c->new), c->context, &differ);
	ck_assert_msg(differ, "%s: texts reported equal", c->name);
	ck_assert_msg(strcmp(got, c->expected) == 0, "%s: got\n%s\nexpected\n%s", c->name, got,
	              c->expected);
	free(got);
	/* The applier must agree with diff(1) too, or the property test proves nothing. */
	struct buf res = BUF_INIT;
	ck_assert_msg(apply_patch(c->old, strlen(c->old), c->expected, &res), "%s", c->name);
	ck_assert_str_eq(res.data ? res.data : "", c->new);
	buf_free(&res);
}
END_TEST

START_TEST(test_equal_texts)
{
	static const char *const texts[] = {"", "a\n", "a\nb", "a\r\nb\r\n", "\n\n\n"};
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		struct buf out = BUF_INIT;
		buf_puts(&out, "kept");
		ck_assert(!diff_unified(&out, "x", texts[i], strlen(texts[i]), "y", texts[i],
		                        strlen(texts[i]), 3));
		ck_assert_str_eq(out.data, "kept");
		buf_free(&out);
	}
	/* Different buffers with the same bytes are equal texts too. */
	char a[] = "same\n", b[] = "same\n";
	struct buf out = BUF_INIT;
	ck_assert(!diff_unified(&out, "x", a, 5, "y", b, 5, 3));
	ck_assert_uint_eq(out.len, 0);
	buf_free(&out);
}
END_TEST

START_TEST(test_appends_to_buffer)
{
	struct buf out = BUF_INIT;
	buf_puts(&out, "before\n");
	ck_assert(diff_unified(&out, "old", "a\n", 2, "new", "b\n", 2, 3));
	ck_assert_str_eq(out.data, "before\n--- old\n+++ new\n@@ -1 +1 @@\n-a\n+b\n");
	buf_free(&out);
}
END_TEST

START_TEST(test_negative_context_is_zero)
{
	const char *a = "1\n2\n3\n4\n5\n", *b = "1\n2\nthree\n4\n5\n";
	bool differ;
	char *zero = run_diff(a, strlen(a), b, strlen(b), 0, &differ);
	char *neg = run_diff(a, strlen(a), b, strlen(b), -5, &differ);
	ck_assert_str_eq(neg, zero);
	ck_assert_str_eq(zero, "--- a.drp\n+++ a.drp (formatted)\n@@ -3 +3 @@\n-3\n+three\n");
	free(zero);
	free(neg);
}
END_TEST

START_TEST(test_huge_context)
{
	/* One hunk covering everything; no overflow in 2*context+1. */
	const char *a = "1\n2\n3\n", *b = "1\nx\n3\n";
	bool differ;
	char *got = run_diff(a, strlen(a), b, strlen(b), INT32_MAX, &differ);
	ck_assert_str_eq(got,
	                 "--- a.drp\n+++ a.drp (formatted)\n@@ -1,3 +1,3 @@\n 1\n-2\n+x\n 3\n");
	free(got);
}
END_TEST

static uint32_t rng_state;

static uint32_t rng(void)
{
	/* xorshift32: reproducible across platforms, unlike rand() */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* Lines from a small pool, so that texts share many lines and the diff has choices to make. */
static void random_text(struct buf *t, size_t max_lines)
{
	static const char *const pool[] = {"a\n", "b\n", "c\n", "}\n", "\n", "a\r\n", "  x = 1\n"};
	size_t n = rng() % (max_lines + 1), kinds = 2 + rng() % 6;
	for (size_t i = 0; i < n; i++)
		buf_puts(t, pool[rng() % kinds]);
	if (t->len && rng() % 5 == 0)
		t->data[--t->len] = '\0'; /* no final newline */
}

/* Small edits of old: mostly-similar pairs are the common case for a formatter. */
static void mutate(struct buf *out, const char *old, size_t oldlen)
{
	size_t nl;
	struct text_line *l = split(old, oldlen, &nl);
	for (size_t i = 0; i <= nl; i++) {
		uint32_t r = rng() % 16;
		if (r == 0)
			buf_puts(out, "inserted\n");
		if (i == nl)
			break;
		if (r == 1)
			continue; /* deleted */
		if (r == 2)
			buf_puts(out, "}\n");
		else
			buf_append(out, l[i].s, l[i].len);
	}
	if (out->len && rng() % 8 == 0) {
		if (out->data[out->len - 1] == '\n')
			out->data[--out->len] = '\0';
		else
			buf_putc(out, '\n');
	}
	free(l);
}

START_TEST(test_random_round_trip)
{
	rng_state = 0x9e3779b9u;
	for (int i = 0; i < 600; i++) {
		struct buf a = BUF_INIT, b = BUF_INIT;
		random_text(&a, 14);
		if (i % 2)
			mutate(&b, a.data ? a.data : "", a.len);
		else
			random_text(&b, 14);
		check_round_trip(a.data ? a.data : "", a.len, b.data ? b.data : "", b.len,
		                 (int)(rng() % 5));
		buf_free(&a);
		buf_free(&b);
	}
}
END_TEST

static void numbered_lines(struct buf *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf_printf(t, i % 7 ? "line %zu {\n" : "}\n", i);
}

START_TEST(test_large_few_changes)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	numbered_lines(&a, 100000);
	size_t pos[] = {10, 33333, 70000, 99999};
	buf_puts(&b, "");
	size_t line = 0, k = 0;
	for (const char *p = a.data; *p; line++) {
		const char *nl = strchr(p, '\n');
		if (k < 4 && line == pos[k]) {
			buf_printf(&b, "changed %zu\n", k++);
		} else {
			buf_append(&b, p, (size_t)(nl - p) + 1);
		}
		p = nl + 1;
	}
	bool differ;
	char *patch = run_diff(a.data, a.len, b.data, b.len, 3, &differ);
	ck_assert(differ);
	size_t hunks = 0;
	for (const char *p = patch; (p = strstr(p, "\n@@ ")) != NULL; p++)
		hunks++;
	ck_assert_uint_eq(hunks, 4);
	ck_assert_uint_lt(strlen(patch), 1000);
	free(patch);
	check_round_trip(a.data, a.len, b.data, b.len, 3);
	buf_free(&a);
	buf_free(&b);
}
END_TEST

START_TEST(test_large_all_changed)
{
	/* Every line reindented: no line matches, nothing for the search to do. */
	struct buf a = BUF_INIT, b = BUF_INIT;
	numbered_lines(&a, 50000);
	for (const char *p = a.data; *p;) {
		const char *nl = strchr(p, '\n');
		buf_puts(&b, "\t");
		buf_append(&b, p, (size_t)(nl - p) + 1);
		p = nl + 1;
	}
	check_round_trip(a.data, a.len, b.data, b.len, 3);
	buf_free(&a);
	buf_free(&b);
}
END_TEST

START_TEST(test_search_budget_fallback)
{
	/* Two unrelated texts over two lines: D is in the tens of thousands, past the search
	 * budget, so the coarse fallback must kick in and still give a correct diff. */
	struct buf a = BUF_INIT, b = BUF_INIT;
	rng_state = 12345;
	for (int i = 0; i < 30000; i++) {
		buf_puts(&a, rng() % 2 ? "a\n" : "b\n");
		buf_puts(&b, rng() % 2 ? "a\n" : "b\n");
	}
	check_round_trip(a.data, a.len, b.data, b.len, 3);
	buf_free(&a);
	buf_free(&b);
}
END_TEST

Suite *diff_suite(void)
{
	Suite *s = suite_create("diff");
	TCase *tc = tcase_create("gnu");
	tcase_add_loop_test(tc, test_gnu_case, 0, (int)(sizeof gnu_cases / sizeof gnu_cases[0]));
	tcase_add_test(tc, test_equal_texts);
	tcase_add_test(tc, test_appends_to_buffer);
	tcase_add_test(tc, test_negative_context_is_zero);
	tcase_add_test(tc, test_huge_context);
	suite_add_tcase(s, tc);

	tc = tcase_create("property");
	tcase_add_test(tc, test_random_round_trip);
	suite_add_tcase(s, tc);

	/* Sanitizer builds are several times slower; the budget test does real work. */
	tc = tcase_create("large");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_large_few_changes);
	tcase_add_test(tc, test_large_all_changed);
	tcase_add_test(tc, test_search_budget_fallback);
	suite_add_tcase(s, tc);
	return s;
}
