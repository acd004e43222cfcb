/* fmt.h: the canonical layout of a plan file, as `drplan fmt` prints it. */
#ifndef DRP_FMT_H
#define DRP_FMT_H

#include "../lib/buf.h"
#include "ast.h"

/* Appends the canonical form of `file` to out. The file must have parsed without errors (a partial
 * tree would lose text). Every comment is kept: own-line comments stay before the statement they
 * preceded, trailing comments stay on their statement's line (aligned across a run of lines), and
 * comments written inside a statement move to the line before it. At most one blank line separates
 * statements, where the source had one or more. fmt is idempotent: fmt(fmt(x)) == fmt(x). */
void fmt_file(struct buf *out, const struct ast_file *file);

#endif
