/* test_source.c: loading files and mapping byte offsets to lines and code-point columns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../compiler/source.h"
#include "suites.h"

START_TEST(test_positions)
{
	struct src_set set;
	src_set_init(&set);
	const char text[] = "ab\n\tc\xc3\xa9" "d\r\n\nlast";
	struct src_file *f = src_add(&set, "x.drp", text, sizeof text - 1);
	struct src_pos p = src_position(f, 0);
	ck_assert_uint_eq(p.line, 1);
	ck_assert_uint_eq(p.col, 1);
	p = src_position(f, 2); /* the newline itself belongs to line 1 */
	ck_assert_uint_eq(p.line, 1);
	ck_assert_uint_eq(p.col, 3);
	p = src_position(f, 3); /* the tab */
	ck_assert_uint_eq(p.line, 2);
	ck_assert_uint_eq(p.col, 1);
	p = src_position(f, 7); /* 'd' after a two-byte é: column counts code points */
	ck_assert_uint_eq(p.line, 2);
	ck_assert_uint_eq(p.col, 4);
	p = src_position(f, 11);
	ck_assert_uint_eq(p.line, 4);
	ck_assert_uint_eq(p.col, 1);
	p = src_position(f, 1000); /* past the end: clamped */
	ck_assert_uint_eq(p.line, 4);
	ck_assert_uint_eq(p.col, 5);
	size_t len;
	const char *line = src_line(f, 2, &len);
	ck_assert_uint_eq(len, 5); /* without "\r\n" */
	ck_assert_mem_eq(line, "\tc\xc3\xa9" "d", 5);
	line = src_line(f, 3, &len);
	ck_assert_uint_eq(len, 0);
	line = src_line(f, 4, &len);
	ck_assert_mem_eq(line, "last", 4);
	src_line(f, 5, &len);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(f->text[f->len], '\0');
	ck_assert_int_eq(f->text[f->len + 1], '\0');
	src_set_free(&set);
}
END_TEST

START_TEST(test_empty_file)
{
	struct src_set set;
	src_set_init(&set);
	struct src_file *f = src_add(&set, "empty.drp", "", 0);
	struct src_pos p = src_position(f, 0);
	ck_assert_uint_eq(p.line, 1);
	ck_assert_uint_eq(p.col, 1);
	src_set_free(&set);
}
END_TEST

START_TEST(test_load)
{
	struct src_set set;
	src_set_init(&set);
	char err[256];
	char path[] = "/tmp/drplan-src-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "plan p {}\n", 10), 10);
	close(fd);
	struct src_file *f = src_load(&set, path, err, sizeof err);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->len, 10);
	ck_assert_str_eq(f->path, path);
	ck_assert_uint_eq(f->id, 0);
	ck_assert_ptr_eq(src_get(&set, 0), f);
	ck_assert_ptr_null(src_get(&set, 1));
	unlink(path);
	ck_assert_ptr_null(src_load(&set, path, err, sizeof err));
	ck_assert_str_eq(err, "No such file or directory");
	ck_assert_ptr_null(src_load(&set, "/tmp", err, sizeof err));
	ck_assert_str_eq(err, "is a directory");
	/* A pipe-like file that reports size 0 is still read whole. */
	f = src_load(&set, "/proc/self/status", err, sizeof err);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_gt(f->len, 0);
	ck_assert_uint_eq(set.len, 2);
	src_set_free(&set);
}
END_TEST

Suite *source_suite(void)
{
	Suite *s = suite_create("source");
	TCase *tc = tcase_create("source");
	tcase_add_test(tc, test_positions);
	tcase_add_test(tc, test_empty_file);
	tcase_add_test(tc, test_load);
	suite_add_tcase(s, tc);
	return s;
}
