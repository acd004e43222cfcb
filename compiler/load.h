/* load.h: reading a plan, everything it includes and the inventories it names. Paths are resolved
 * relative to the file that names them and must stay inside the repository root; includes may not
 * form a cycle; a file named twice is read once. */
#ifndef DRP_LOAD_H
#define DRP_LOAD_H

#include "../lib/arena.h"
#include "ast.h"
#include "diag.h"
#include "inventory.h"
#include "source.h"

/* How deep includes may nest. */
#define LOAD_MAX_INCLUDE_DEPTH 64

struct program {
	struct arena arena;      /* every tree of the program */
	struct ast_file **files; /* files[0] is the plan named on the command line */
	size_t n_files, cap_files;
	struct inventory **inventories; /* in the order they are named */
	size_t n_inventories, cap_inventories;
	bool inventory_incomplete;      /* an inventory stopped early (syntax error, limit) */
};

struct load_options {
	const char *root; /* includes must resolve inside this directory; NULL means "." */
};

void program_init(struct program *p);
void program_free(struct program *p);

/* Loads `path`, its includes and its inventories into p. Returns false if `path` itself cannot be read (a
 * diagnostic without location says why: exit code 2); problems inside files, including unreadable
 * includes, are diagnostics and still return true. */
bool program_load(struct program *p, struct src_set *sources, struct diag_list *diags, const char *path,
                  const struct load_options *options);

/* True if a plan file did not parse cleanly or an inventory could not be read to its end. What was
 * read is incomplete, so the semantic rules would report what is missing from it: callers stop
 * before them, to avoid that cascade. */
bool program_incomplete(const struct program *p);

/* The program's digests, as 64 hex digits: `plan` is the SHA-256 of every plan file's canonical
 * form (ast_dump: comments and layout do not count; files in load order) and of every inventory's
 * bytes; `inventory` of the inventories' bytes alone. */
void program_digest(const struct program *p, char plan[65], char inventory[65]);

#endif
