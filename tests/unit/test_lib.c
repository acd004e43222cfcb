/* test_lib.c: the small utilities everything stands on: arena, buffer, UTF-8, atomic writes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../lib/arena.h"
#include "../../lib/buf.h"
#include "../../lib/fsutil.h"
#include "../../lib/glob.h"
#include "../../lib/strmap.h"
#include "../../lib/utf8.h"
#include "suites.h"

START_TEST(test_arena_alignment_and_zeroing)
{
	struct arena a;
	arena_init(&a);
	for (size_t size = 1; size < 3000; size += 37) {
		unsigned char *p = arena_alloc(&a, size);
		ck_assert_uint_eq((uintptr_t)p % 16, 0);
		for (size_t i = 0; i < size; i++)
			ck_assert_uint_eq(p[i], 0);
		memset(p, 0xAB, size);
	}
	/* A block larger than a chunk, then small ones: all usable and distinct. */
	char *big = arena_alloc(&a, 1 << 20);
	memset(big, 1, 1 << 20);
	char *small = arena_alloc(&a, 8);
	ck_assert_ptr_ne(big, small);
	ck_assert_str_eq(arena_strndup(&a, "hello world", 5), "hello");
	ck_assert_uint_ge(a.total, (size_t)(1 << 20));
	arena_free(&a);
	ck_assert_ptr_null(a.chunk);
}
END_TEST

START_TEST(test_arena_big_first)
{
	struct arena a;
	arena_init(&a);
	char *big = arena_alloc(&a, 100000);
	big[99999] = 'x';
	char *s = arena_strndup(&a, "abc", 3);
	ck_assert_str_eq(s, "abc");
	arena_free(&a);
}
END_TEST

START_TEST(test_buf_basics)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "a");
	buf_putc(&b, 'b');
	buf_printf(&b, "%d-%s", 42, "x");
	buf_repeat(&b, '.', 3);
	buf_append(&b, "\0z", 2);
	ck_assert_uint_eq(b.len, 11);
	ck_assert_mem_eq(b.data, "ab42-x...\0z", 11);
	ck_assert_int_eq(b.data[b.len], '\0');
	buf_clear(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(b.data, "");
	for (int i = 0; i < 10000; i++)
		buf_printf(&b, "%04d", i % 10000);
	ck_assert_uint_eq(b.len, 40000);
	ck_assert_mem_eq(b.data + 39996, "9999", 4);
	char *owned = buf_detach(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_ptr_null(b.data);
	free(owned);
	char *empty = buf_detach(&b);
	ck_assert_str_eq(empty, "");
	free(empty);
	buf_put_uint(&b, 0);
	buf_putc(&b, ' ');
	buf_put_uint(&b, 7);
	buf_putc(&b, ' ');
	buf_put_uint(&b, 4294967296u);
	buf_putc(&b, ' ');
	buf_put_uint(&b, UINT64_MAX);
	ck_assert_str_eq(b.data, "0 7 4294967296 18446744073709551615");
	buf_free(&b);
}
END_TEST

START_TEST(test_buf_json_string)
{
	struct buf b = BUF_INIT;
	const char in[] = "q\"b\\n\n\t\x01\x7f\xc3\xa9\xff";
	buf_json_string(&b, in, sizeof in - 1);
	ck_assert_str_eq(b.data, "\"q\\\"b\\\\n\\n\\t\\u0001\\u007f\xc3\xa9\\ufffd\"");
	buf_free(&b);
}
END_TEST

START_TEST(test_utf8_decode)
{
	uint32_t cp = 0;
	ck_assert_uint_eq(utf8_decode("A", 1, &cp), 1);
	ck_assert_uint_eq(cp, 'A');
	ck_assert_uint_eq(utf8_decode("\xc3\xa9", 2, &cp), 2);
	ck_assert_uint_eq(cp, 0xE9);
	ck_assert_uint_eq(utf8_decode("\xe2\x82\xac", 3, &cp), 3);
	ck_assert_uint_eq(cp, 0x20AC);
	ck_assert_uint_eq(utf8_decode("\xf0\x9f\x98\x80", 4, &cp), 4);
	ck_assert_uint_eq(cp, 0x1F600);
	/* Truncated, overlong, surrogate, beyond U+10FFFF, lone continuation, invalid lead. */
	ck_assert_uint_eq(utf8_decode("\xe2\x82", 2, NULL), 0);
	ck_assert_uint_eq(utf8_decode("\xc0\xaf", 2, NULL), 0);
	ck_assert_uint_eq(utf8_decode("\xe0\x80\xaf", 3, NULL), 0);
	ck_assert_uint_eq(utf8_decode("\xed\xa0\x80", 3, NULL), 0);
	ck_assert_uint_eq(utf8_decode("\xf4\x90\x80\x80", 4, NULL), 0);
	ck_assert_uint_eq(utf8_decode("\x80", 1, NULL), 0);
	ck_assert_uint_eq(utf8_decode("\xff", 1, NULL), 0);
	ck_assert_uint_eq(utf8_decode("", 0, NULL), 0);
}
END_TEST

START_TEST(test_utf8_roundtrip)
{
	static const uint32_t samples[] = {1, 0x7F, 0x80, 0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF};
	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
		char out[4];
		uint32_t back = 0;
		size_t n = utf8_encode(samples[i], out);
		ck_assert_uint_eq(utf8_decode(out, n, &back), n);
		ck_assert_uint_eq(back, samples[i]);
	}
	ck_assert_uint_eq(utf8_count("a\xc3\xa9\xe2\x82\xac\xff", 7), 4);
}
END_TEST

START_TEST(test_write_atomic)
{
	char dir[] = "/tmp/drplan-test-XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof path, "%s/plan.drp", dir);
	char err[256];
	ck_assert(fs_write_atomic(path, "one\n", 4, err, sizeof err));
	ck_assert(chmod(path, 0600) == 0);
	ck_assert(fs_write_atomic(path, "two\n", 4, err, sizeof err));
	FILE *f = fopen(path, "r");
	char text[16] = {0};
	ck_assert_uint_eq(fread(text, 1, sizeof text - 1, f), 4);
	fclose(f);
	ck_assert_str_eq(text, "two\n");
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600); /* permissions kept */
	/* A failed write leaves nothing behind and says why. */
	char missing[160];
	snprintf(missing, sizeof missing, "%s/no-such-dir/plan.drp", dir);
	ck_assert(!fs_write_atomic(missing, "x", 1, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0); /* empty: no temporary file left */
}
END_TEST


static bool match(const char *pattern, const char *name)
{
	return glob_match(pattern, strlen(pattern), name, strlen(name));
}

START_TEST(test_glob)
{
	ck_assert(match("db-*", "db-01"));
	ck_assert(match("db-*", "db-"));
	ck_assert(!match("db-*", "app-db-01"));
	ck_assert(match("*-01", "app-db-01"));
	ck_assert(match("app-0?", "app-07"));
	ck_assert(!match("app-0?", "app-0"));
	ck_assert(!match("app-0?", "app-071"));
	ck_assert(match("web-[ab]*", "web-b2"));
	ck_assert(!match("web-[ab]*", "web-c2"));
	ck_assert(match("n[0-9][0-9]", "n42"));
	ck_assert(!match("n[!0-9]", "n4"));
	ck_assert(match("n[^0-9]", "nx"));
	ck_assert(match("a[", "a["));      /* an unclosed set is literal */
	ck_assert(match("[]x]", "]"));      /* ']' first in a set is a member */
	ck_assert(match("*", ""));
	ck_assert(match("**a**", "xxa"));
	ck_assert(!match("", "a"));
	ck_assert(glob_is_pattern("db-*", 4));
	ck_assert(!glob_is_pattern("db-01", 5));
	/* The single-backtrack algorithm stays linear on a pathological pattern. */
	char name[4001];
	memset(name, 'a', 4000);
	name[4000] = '\0';
	ck_assert(!match("*a*a*a*a*a*a*a*a*b", name));
}
END_TEST

START_TEST(test_strmap)
{
	struct strmap m;
	strmap_init(&m);
	ck_assert_uint_eq(strmap_get(&m, "x", 1), STRMAP_NONE);
	enum { N = 100000 };
	char (*keys)[16] = malloc(N * sizeof *keys);
	for (uint32_t i = 0; i < N; i++) {
		snprintf(keys[i], sizeof keys[i], "vm-%06u", i);
		ck_assert_uint_eq(strmap_put(&m, keys[i], strlen(keys[i]), i), i);
	}
	ck_assert_uint_eq(m.count, N);
	for (uint32_t i = 0; i < N; i += 997)
		ck_assert_uint_eq(strmap_get(&m, keys[i], strlen(keys[i])), i);
	/* A second put keeps the first value and says so. */
	ck_assert_uint_eq(strmap_put(&m, keys[5], strlen(keys[5]), 99), 5);
	ck_assert_uint_eq(strmap_get(&m, "vm-00000", 8), STRMAP_NONE); /* a prefix is another key */
	strmap_free(&m);
	strmap_init(&m);
	strmap_reserve(&m, 1000);
	size_t cap = m.cap;
	for (uint32_t i = 0; i < 1000; i++)
		strmap_put(&m, keys[i], strlen(keys[i]), i);
	ck_assert_uint_eq(m.cap, cap); /* reserved: no rehash */
	strmap_free(&m);
	free(keys);
}
END_TEST

Suite *lib_suite(void)
{
	Suite *s = suite_create("lib");
	TCase *tc = tcase_create("lib");
	tcase_add_test(tc, test_arena_alignment_and_zeroing);
	tcase_add_test(tc, test_arena_big_first);
	tcase_add_test(tc, test_buf_basics);
	tcase_add_test(tc, test_buf_json_string);
	tcase_add_test(tc, test_utf8_decode);
	tcase_add_test(tc, test_utf8_roundtrip);
	tcase_add_test(tc, test_write_atomic);
	tcase_add_test(tc, test_glob);
	tcase_add_test(tc, test_strmap);
	suite_add_tcase(s, tc);
	return s;
}
