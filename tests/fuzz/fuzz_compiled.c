/* fuzz_compiled.c: libFuzzer harness for the compiled-plan reader and writer (compiler/compiled.c)
 * and, through them, libyaml's parser and emitter.
 *
 * A random change to a compiled plan fails its digest, so the harness first reseals the input
 * (compiled_reseal recomputes the digest of a `digest: sha256:<64 hex>` line, if there is one): the
 * fuzzer then reaches the YAML and every check behind it. Then, beyond what the sanitizers and
 * libFuzzer see (crash, leak, hang, undefined behaviour, memory blow-up), a broken promise aborts:
 * - every diagnostic's range (and every note's) lies inside the input, start before end;
 * - the reading succeeds exactly when it reports nothing;
 * - a plan that reads is finished and acyclic, and the round trip is exact: written, it reads back
 *   without a diagnostic, and written again it gives the same bytes.
 * The diagnostics are rendered in all four formats. Build with `make fuzz`; the seed corpus is
 * tests/fuzz/compiled/ and the dictionary tests/fuzz/compiled.dict. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/compiled.h"
#include "compiler/dag.h"
#include "compiler/diag.h"
#include "compiler/source.h"
#include "lib/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum diag_format formats[] = {
	DIAG_FORMAT_TEXT, DIAG_FORMAT_JSON, DIAG_FORMAT_SARIF, DIAG_FORMAT_GITHUB,
};

static void check_range(struct src_range r, const struct src_file *src, const char *what)
{
	if (r.file != src->id || r.start > r.end || r.end > src->len) {
		fprintf(stderr, "fuzz_compiled: %s has range {%u, %u, %u} in a file of %zu bytes\n", what, r.file, r.start,
		        r.end, src->len);
		abort();
	}
}

static void print_diags(const struct diag_list *diags, struct src_set *sources)
{
	struct buf out = BUF_INIT;
	diag_render(&out, diags, sources, DIAG_FORMAT_TEXT, false);
	fprintf(stderr, "%s", out.data ? out.data : "");
	buf_free(&out);
}

/* Reads text as a compiled plan named `name` into d (dag_init'ed). */
static bool read_plan(struct src_set *sources, struct diag_list *diags, struct dag *d, const char *name,
                      const char *text, size_t len, const struct src_file **src_out)
{
	struct src_file *src = src_add(sources, name, text, len);
	size_t before = diags->len;
	bool ok = compiled_read(d, src, diags);
	for (size_t i = before; i < diags->len; i++) {
		check_range(diags->items[i]->at, src, "a diagnostic");
		for (size_t k = 0; k < diags->items[i]->n_notes; k++)
			check_range(diags->items[i]->notes[k].at, src, "a note");
	}
	if (ok != (diags->len == before)) {
		fprintf(stderr, "fuzz_compiled: compiled_read returned %d with %zu diagnostics\n", ok, diags->len - before);
		abort();
	}
	*src_out = src;
	return ok;
}

/* A plan that reads is finished and acyclic. */
static void check_dag(const struct dag *d)
{
	if (!d->finished) {
		fprintf(stderr, "fuzz_compiled: a plan that reads is not finished\n");
		abort();
	}
	uint32_t *order = malloc(((size_t)d->n_ops + 1) * sizeof *order);
	uint32_t n = dag_topo_order(d, order);
	free(order);
	if (n != d->n_ops) {
		fprintf(stderr, "fuzz_compiled: a plan that reads has a cycle (%u of %u ordered)\n", n, d->n_ops);
		abort();
	}
}

static void round_trip(const struct dag *d, struct src_set *sources)
{
	struct buf first = BUF_INIT, second = BUF_INIT;
	compiled_write(d, &first);
	struct diag_list diags;
	diag_list_init(&diags);
	struct dag again;
	dag_init(&again);
	const struct src_file *src;
	if (!read_plan(sources, &diags, &again, "written.yaml", first.data, first.len, &src)) {
		fprintf(stderr, "fuzz_compiled: what compiled_write wrote does not read back:\n%s\n", first.data);
		print_diags(&diags, sources);
		abort();
	}
	compiled_write(&again, &second);
	if (first.len != second.len || memcmp(first.data, second.data, first.len) != 0) {
		fprintf(stderr, "fuzz_compiled: the round trip changed the bytes:\n--- first\n%s\n--- second\n%s\n",
		        first.data, second.data);
		abort();
	}
	dag_free(&again);
	diag_list_free(&diags);
	buf_free(&first);
	buf_free(&second);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > SRC_MAX_BYTES)
		return 0;
	/* Resealed, so that the fuzzer gets past the digest. */
	char *text = malloc(size + 1);
	if (size)
		memcpy(text, data, size);
	text[size] = '\0';
	compiled_reseal(text, size);

	struct src_set sources;
	src_set_init(&sources);
	struct diag_list diags;
	diag_list_init(&diags);
	struct dag d;
	dag_init(&d);
	const struct src_file *src;
	if (read_plan(&sources, &diags, &d, "fuzz.yaml", text, size, &src)) {
		check_dag(&d);
		round_trip(&d, &sources);
	}

	diag_sort(&diags);
	struct buf out = BUF_INIT;
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		buf_clear(&out);
		diag_render(&out, &diags, &sources, formats[i], i == 0);
	}
	buf_free(&out);

	dag_free(&d);
	diag_list_free(&diags);
	src_set_free(&sources);
	free(text);
	return 0;
}
