/* fuzz_profiles.c: libFuzzer harness for drplan's two small YAML readers, latency profiles
 * (compiler/latency.c) and fault rules (runtime/faults.c), which share the pull reader of
 * compiler/yamlread.c.
 *
 * Every input is read as both. Beyond the sanitizers and libFuzzer's own checks (crash, leak, hang,
 * undefined behaviour, memory blow-up), a broken invariant aborts: every diagnostic's range (and
 * every note's) lies inside the input; a reader that succeeds reports no error and one that fails
 * reports at least one; a profile that reads sets no negative duration, and a failed read leaves
 * the caller's latency model as it was; every rule read has an action in range and a probability
 * in [0, 1]. The diagnostics are rendered in all four formats. Build with `make fuzz`; the seed
 * corpus is tests/fuzz/profiles/. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/diag.h"
#include "compiler/latency.h"
#include "compiler/source.h"
#include "lib/buf.h"
#include "runtime/faults.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum diag_format formats[] = {
	DIAG_FORMAT_TEXT, DIAG_FORMAT_JSON, DIAG_FORMAT_SARIF, DIAG_FORMAT_GITHUB,
};

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_profiles: %s\n", what);
	abort();
}

static void check_range(struct src_range r, const struct src_file *src)
{
	if (r.file == SRC_NONE)
		return;
	if (r.file != src->id || r.start > r.end || r.end > src->len)
		fail("a diagnostic's range is outside the input");
}

/* Checks and renders what one reader said; true if it reported an error. */
static bool check_diags(struct diag_list *diags, struct src_set *sources, const struct src_file *src)
{
	bool errors = false;
	for (size_t i = 0; i < diags->len; i++) {
		check_range(diags->items[i]->at, src);
		for (size_t k = 0; k < diags->items[i]->n_notes; k++)
			check_range(diags->items[i]->notes[k].at, src);
		errors |= diags->items[i]->severity == DIAG_ERROR;
	}
	diag_sort(diags);
	struct buf out = BUF_INIT;
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		buf_clear(&out);
		diag_render(&out, diags, sources, formats[i], i == 0);
	}
	buf_free(&out);
	return errors;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct src_set sources;
	src_set_init(&sources);
	struct src_file *src = src_add(&sources, "fuzz.yaml", (const char *)data, size);

	struct diag_list diags;
	diag_list_init(&diags);
	struct dag_latency lat, before;
	memset(&lat, 0x5a, sizeof lat); /* a model the reader must leave alone if it fails */
	before = lat;
	bool ok = latency_load(&lat, src, &diags);
	if (ok == check_diags(&diags, &sources, src))
		fail("latency_load's result disagrees with its errors");
	if (!ok && memcmp(&lat, &before, sizeof lat) != 0)
		fail("a failed latency_load changed the model");
	for (int k = 0; ok && k < DAG_N_OP_KINDS; k++)
		if (lat.base_ms[k] < 0 || lat.per_vm_ms[k] < 0)
			fail("a profile that read has a negative duration");
	diag_list_free(&diags);

	diag_list_init(&diags);
	struct fault_rules rules;
	ok = fault_rules_load(&rules, src, &diags);
	if (ok == check_diags(&diags, &sources, src))
		fail("fault_rules_load's result disagrees with its errors");
	for (uint32_t i = 0; ok && i < rules.n; i++)
		if ((unsigned)rules.rules[i].action >= FAULT_N_ACTIONS || !(rules.rules[i].probability >= 0.0) ||
		    rules.rules[i].probability > 1.0)
			fail("a rule that read is out of range");
	if (ok)
		fault_rules_free(&rules);
	diag_list_free(&diags);

	src_set_free(&sources);
	return 0;
}
