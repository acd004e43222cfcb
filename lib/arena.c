/* arena.c: a chunked bump allocator. Large requests get a chunk of their own so that the common
 * small-node case never wastes more than one chunk's tail. */
#include "arena.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

#define ARENA_CHUNK_SIZE (64 * 1024)
#define ARENA_ALIGN 16

struct arena_chunk {
	struct arena_chunk *prev;
	size_t size;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

void arena_init(struct arena *a)
{
	memset(a, 0, sizeof *a);
}

static struct arena_chunk *chunk_new(size_t size, struct arena_chunk *prev)
{
	struct arena_chunk *c = xmalloc(sizeof *c + size);
	c->prev = prev;
	c->size = size;
	return c;
}

void *arena_alloc(struct arena *a, size_t size)
{
	size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (size == 0)
		size = ARENA_ALIGN;
	a->total += size;
	if (size > ARENA_CHUNK_SIZE / 4) {
		/* A big block goes behind the current chunk so the current one keeps filling. calloc
		 * rather than memset: the allocator knows when fresh pages are already zero. */
		struct arena_chunk *big = xcalloc(1, sizeof *big + size);
		big->size = size;
		if (a->chunk) {
			big->prev = a->chunk->prev;
			a->chunk->prev = big;
		} else {
			a->chunk = big;
			a->used = size;
		}
		return big->data;
	}
	if (!a->chunk || a->used + size > a->chunk->size) {
		a->chunk = chunk_new(ARENA_CHUNK_SIZE, a->chunk);
		a->used = 0;
	}
	void *p = a->chunk->data + a->used;
	a->used += size;
	memset(p, 0, size);
	return p;
}

void *arena_resize(struct arena *a, void *block, size_t size)
{
	size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (size == 0)
		size = ARENA_ALIGN;
	struct arena_chunk **link = &a->resizable;
	size_t old = 0;
	if (block) {
		struct arena_chunk *c = (struct arena_chunk *)(void *)((unsigned char *)block - offsetof(struct arena_chunk, data));
		while (*link != c)
			link = &(*link)->prev;
		old = c->size;
	}
	struct arena_chunk *c = xrealloc(block ? *link : NULL, sizeof *c + size);
	if (!block)
		c->prev = a->resizable;
	c->size = size;
	*link = c;
	a->total += size - old;
	return c->data;
}

char *arena_strndup(struct arena *a, const char *s, size_t len)
{
	char *p = arena_alloc(a, len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void arena_free(struct arena *a)
{
	struct arena_chunk *c = a->chunk;
	while (c) {
		struct arena_chunk *prev = c->prev;
		free(c);
		c = prev;
	}
	for (c = a->resizable; c;) {
		struct arena_chunk *prev = c->prev;
		free(c);
		c = prev;
	}
	arena_init(a);
}
