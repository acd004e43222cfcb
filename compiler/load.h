/* load.h: reading a plan and everything it includes into syntax trees. Includes are resolved
 * relative to the including file, must stay inside the repository root, may not form a cycle, and a
 * file included twice is read once. */
#ifndef DRP_LOAD_H
#define DRP_LOAD_H

#include "../lib/arena.h"
#include "ast.h"
#include "diag.h"
#include "source.h"

/* How deep includes may nest. */
#define LOAD_MAX_INCLUDE_DEPTH 64

struct program {
	struct arena arena;      /* every tree of the program */
	struct ast_file **files; /* files[0] is the plan named on the command line */
	size_t n_files, cap_files;
};

struct load_options {
	const char *root; /* includes must resolve inside this directory; NULL means "." */
};

void program_init(struct program *p);
void program_free(struct program *p);

/* Loads `path` and its includes into p. Returns false if `path` itself cannot be read (a
 * diagnostic without location says why: exit code 2); problems inside files, including unreadable
 * includes, are diagnostics and still return true. */
bool program_load(struct program *p, struct src_set *sources, struct diag_list *diags, const char *path,
                  const struct load_options *options);

#endif
