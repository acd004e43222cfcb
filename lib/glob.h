/* glob.h: shell-style wildcard matching of names, as in `vm db-*` rules: `*` any run of characters,
 * `?` one character, `[abc]`, `[a-z]` and `[!a-z]` (or `[^a-z]`) one character of a set. Bytes are
 * compared as bytes; names are ASCII in practice. */
#ifndef DRP_GLOB_H
#define DRP_GLOB_H

#include <stdbool.h>
#include <stddef.h>

/* True if the pattern contains a wildcard character, so that it may match more than itself. */
bool glob_is_pattern(const char *pattern, size_t len);
/* True if name matches the whole pattern. Linear in practice: one backtrack point per `*`. */
bool glob_match(const char *pattern, size_t plen, const char *name, size_t nlen);

#endif
