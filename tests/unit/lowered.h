/* lowered.h: for unit tests: a plan given as text, compiled to its DAG (parse, validate, lower), as
 * `drplan compile` does it but without the verifier, so tests can also break what it would catch. */
#ifndef DRP_TEST_LOWERED_H
#define DRP_TEST_LOWERED_H

#include "../../compiler/dag.h"
#include "../../compiler/load.h"
#include "../../compiler/model.h"
#include "../../compiler/source.h"

struct lowered {
	struct src_set sources;
	struct diag_list diags;
	struct program program;
	struct model *model;
	struct dag dag;
};

/* Writes `text` to a temporary file and compiles its only plan; a test fails if the plan is
 * invalid, or if lowering disagrees with what the compiled plan leaves out (dag_derive). */
void lower_text(struct lowered *l, const char *text);
void lowered_free(struct lowered *l);

#endif
