/* arena.h: allocation by lifetime. Everything one compilation allocates (AST nodes, strings, tables)
 * comes from one arena and is freed by one arena_free, so no error path can leak and no node needs a
 * destructor. Allocations are 16-byte aligned and never move. */
#ifndef DRP_ARENA_H
#define DRP_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *chunk; /* the chunk being filled; older ones chained behind it */
	size_t used;               /* bytes used in the current chunk */
	size_t total;              /* bytes handed out, for statistics */
	struct arena_chunk *resizable; /* the blocks of arena_resize, chained */
};

void arena_init(struct arena *a);
/* Zero-filled memory that lives until arena_free. */
void *arena_alloc(struct arena *a, size_t size);
/* A block that can still change size, for an array whose final length is not known until it is
 * filled: arena_resize(a, NULL, size) makes one, arena_resize(a, block, size) resizes it, possibly
 * moving it (the contents are kept up to the smaller size). Unlike arena_alloc, the memory is not
 * zero-filled. Few such blocks are expected per arena: a resize looks its block up in a list. */
void *arena_resize(struct arena *a, void *block, size_t size);
/* A NUL-terminated copy of s[0..len) in the arena. */
char *arena_strndup(struct arena *a, const char *s, size_t len);
void arena_free(struct arena *a);

#define ARENA_NEW(a, type) ((type *)arena_alloc((a), sizeof(type)))

#endif
