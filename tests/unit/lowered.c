/* lowered.c: the unit tests' plans from text (lowered.h). */
#include "lowered.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../compiler/lower.h"

/* Loads PATH, builds the model and lowers its only plan, with the checks of lowered.h. */
static void lower_path(struct lowered *l, const char *path, const char *root)
{
	src_set_init(&l->sources);
	diag_list_init(&l->diags);
	program_init(&l->program);
	dag_init(&l->dag);
	struct load_options options = {root};
	ck_assert(program_load(&l->program, &l->sources, &l->diags, path, &options));
	l->model = model_build(&l->program, &l->diags);
	if (l->diags.errors) {
		struct buf out = BUF_INIT;
		diag_render(&out, &l->diags, &l->sources, DIAG_FORMAT_TEXT, false);
		ck_abort_msg("the test plan is invalid:\n%s", out.data);
	}
	ck_assert_uint_eq(l->model->n_plans, 1);
	lower_plan(l->model, 0, &l->sources, &l->dag, &l->diags);
	ck_assert_uint_eq(l->diags.errors, 0);
	/* The compiled plan leaves out what dag_derive restores: lowering must agree with it. */
	const struct dag *d = &l->dag;
	for (uint32_t i = 0; i < d->n_ops; i++) {
		ck_assert_uint_eq(d->ops[i].site, dag_op_default_site(d, &d->ops[i]));
		ck_assert_uint_eq(d->ops[i].flags, dag_op_default_flags(d, &d->ops[i]));
	}
	for (uint32_t i = 0; i < d->n_edges; i++)
		ck_assert_uint_eq(d->edges[i].kind, dag_edge_kind_of(d, d->edges[i].from, d->edges[i].to));
}

void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

void lower_text(struct lowered *l, const char *text)
{
	char path[] = "/tmp/drplan-lower-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	write_text(path, text);
	lower_path(l, path, "/tmp");
	unlink(path);
}

void lower_files(struct lowered *l, const char *dir, const char *plan, const char *inventory)
{
	char path[512];
	if (inventory) {
		snprintf(path, sizeof path, "%s/inv.yaml", dir);
		write_text(path, inventory);
	}
	snprintf(path, sizeof path, "%s/plan.drp", dir);
	write_text(path, plan);
	lower_path(l, path, dir);
}

void lowered_free(struct lowered *l)
{
	dag_free(&l->dag);
	model_free(l->model);
	program_free(&l->program);
	diag_list_free(&l->diags);
	src_set_free(&l->sources);
}

