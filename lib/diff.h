/* diff.h: line-based unified diff (as `diff -u` prints it), used by `drplan fmt --diff` to show how
 * a plan would change when formatted.
 *
 * Contract: texts are split into lines on '\n' only (a "\r" stays part of its line, and a last line
 * without '\n' differs from the same text with one). The edit script is a minimal one (Myers'
 * O(ND) algorithm, linear space) except on very large, very different inputs, where the work is
 * capped and some regions are shown as wholly replaced instead: still a correct diff, just coarser.
 * Output is GNU diff -u's byte for byte (the same choice among equally short scripts, the same
 * hunks and headers) whenever GNU finds a minimal script, which its heuristics occasionally miss;
 * the "---"/"+++" lines carry the given names and no timestamps. Nothing here fails: memory comes
 * from xmalloc. */
#ifndef DRP_DIFF_H
#define DRP_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Appends to out a unified diff of a[0..alen) -> b[0..blen) with `context` lines of context, headers
 * "--- OLD_NAME" / "+++ NEW_NAME" and "@@ -l,s +l,s @@" hunks. Appends nothing when the texts are equal.
 * A last line without a newline gets "\ No newline at end of file" as diff(1) does. Returns true if
 * the texts differ. A negative context counts as 0. */
bool diff_unified(struct buf *out, const char *old_name, const char *a, size_t alen,
                  const char *new_name, const char *b, size_t blen, int context);

#endif
