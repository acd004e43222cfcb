/* fuzz_parser.c: libFuzzer harness for the scanner, the grammar, the diagnostic renderer and fmt.
 *
 * Every input is parsed as a plan file. Whatever the parse reports is rendered in all four output
 * formats, with and without colour, which exercises the renderer on arbitrary ranges (an error at
 * the end of the file, in the middle of a UTF-8 sequence, on a line with CRLF...). When the input
 * parses without errors, fmt's promises are checked, and any broken promise aborts:
 *
 *   (a) the formatted text parses without errors;
 *   (b) it means the same thing: ast_dump(original) == ast_dump(parse(fmt(original)));
 *   (c) fmt is idempotent: fmt(fmt(x)) == fmt(x);
 *   (d) no comment is lost: both trees hold the same number of '#' comments, with the same text
 *       (fmt strips trailing blanks from a comment, so the texts are compared without them).
 *
 * Everything is freed on every run, so LeakSanitizer checks the parser's error paths too. Build
 * with `make fuzz`; see tests/fuzz/README.md for how to run it. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/ast.h"
#include "compiler/diag.h"
#include "compiler/fmt.h"
#include "compiler/parse.h"
#include "compiler/source.h"
#include "lib/arena.h"
#include "lib/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum diag_format formats[] = {
	DIAG_FORMAT_TEXT, DIAG_FORMAT_JSON, DIAG_FORMAT_SARIF, DIAG_FORMAT_GITHUB,
};

/* Prints what went wrong, with the texts involved, then aborts so that libFuzzer saves the input. */
static void fail(const char *what, const char *a_label, const struct buf *a, const char *b_label,
                 const struct buf *b)
{
	fprintf(stderr, "fuzz_parser: oracle violated: %s\n", what);
	if (a)
		fprintf(stderr, "---- %s (%zu bytes)\n%.*s\n", a_label, a->len, (int)a->len,
		        a->data ? a->data : "");
	if (b)
		fprintf(stderr, "---- %s (%zu bytes)\n%.*s\n", b_label, b->len, (int)b->len,
		        b->data ? b->data : "");
	fprintf(stderr, "----\n");
	abort();
}

static bool buf_equal(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static void render_all(const struct diag_list *diags, struct src_set *sources)
{
	struct buf out = BUF_INIT;
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		for (int color = 0; color < 2; color++) {
			buf_clear(&out);
			diag_render(&out, diags, sources, formats[i], color != 0);
			/* SARIF is one complete document even when there is nothing to report. */
			if (formats[i] == DIAG_FORMAT_SARIF && out.len == 0)
				fail("diag_render(SARIF) wrote nothing", NULL, NULL, NULL, NULL);
		}
	}
	buf_free(&out);
}

/* Appends the comments of a tree, one per line, without their trailing blanks (as fmt keeps them),
 * and returns how many there are. Each must start with '#'. */
static size_t list_comments(struct buf *out, const struct ast_file *file)
{
	size_t n = 0;
	const char *text = file->src->text;
	for (const struct ast_comment *c = file->comments; c; c = c->next) {
		uint32_t end = c->at.end;
		if (c->at.start >= end || text[c->at.start] != '#')
			fail("a comment does not start with '#'", NULL, NULL, NULL, NULL);
		while (end > c->at.start &&
		       (text[end - 1] == ' ' || text[end - 1] == '\t' || text[end - 1] == '\r'))
			end--;
		buf_append(out, text + c->at.start, end - c->at.start);
		buf_putc(out, '\n');
		n++;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct src_set sources;
	src_set_init(&sources);
	struct diag_list diags;
	diag_list_init(&diags);
	struct arena arena;
	arena_init(&arena);

	struct src_file *src = src_add(&sources, "fuzz.drp", (const char *)data, size);
	struct ast_file *file = parse_file(&arena, src, &diags);

	/* The parse reports an error exactly when the tree says it had one. */
	if (file->has_errors != (diags.errors > 0)) {
		fprintf(stderr, "fuzz_parser: has_errors=%d but %zu errors reported\n", file->has_errors,
		        diags.errors);
		abort();
	}

	diag_sort(&diags);
	render_all(&diags, &sources);

	if (!file->has_errors) {
		struct buf formatted = BUF_INIT, again = BUF_INIT;
		struct buf dump1 = BUF_INIT, dump2 = BUF_INIT;
		struct buf comments1 = BUF_INIT, comments2 = BUF_INIT;

		fmt_file(&formatted, file);

		struct diag_list diags2;
		diag_list_init(&diags2);
		struct src_file *src2 = src_add(&sources, "fuzz.fmt.drp", formatted.data ? formatted.data : "",
		                                formatted.len);
		struct ast_file *file2 = parse_file(&arena, src2, &diags2);

		/* (a) */
		if (file2->has_errors) {
			struct buf msgs = BUF_INIT;
			diag_sort(&diags2);
			diag_render(&msgs, &diags2, &sources, DIAG_FORMAT_TEXT, false);
			fprintf(stderr, "---- input (%zu bytes)\n%.*s\n", size, (int)size, (const char *)data);
			fail("the formatted text does not parse", "formatted", &formatted, "diagnostics", &msgs);
		}

		/* (b) */
		ast_dump(&dump1, file);
		ast_dump(&dump2, file2);
		if (!buf_equal(&dump1, &dump2))
			fail("fmt changed the meaning (ast_dump differs)", "dump of the input", &dump1,
			     "dump of the formatted text", &dump2);

		/* (c) */
		fmt_file(&again, file2);
		if (!buf_equal(&formatted, &again))
			fail("fmt is not idempotent", "fmt(x)", &formatted, "fmt(fmt(x))", &again);

		/* (d) */
		size_t n1 = list_comments(&comments1, file);
		size_t n2 = list_comments(&comments2, file2);
		if (n1 != n2)
			fail("fmt lost or added comments", "comments of the input", &comments1,
			     "comments of the formatted text", &comments2);
		if (!buf_equal(&comments1, &comments2))
			fail("fmt changed a comment's text", "comments of the input", &comments1,
			     "comments of the formatted text", &comments2);

		diag_list_free(&diags2);
		buf_free(&formatted);
		buf_free(&again);
		buf_free(&dump1);
		buf_free(&dump2);
		buf_free(&comments1);
		buf_free(&comments2);
	}

	arena_free(&arena);
	diag_list_free(&diags);
	src_set_free(&sources);
	return 0;
}
