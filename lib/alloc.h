/* alloc.h: the one allocator hook. Every heap allocation in drplan goes through these, so that an
 * out-of-memory condition is reported the same way everywhere and tests can count allocations.
 * They never return NULL: on exhaustion they print one line and abort (there is nothing sensible a
 * compiler can do half-way through building a plan without memory). */
#ifndef DRP_ALLOC_H
#define DRP_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrndup(const char *s, size_t len);
char *xstrdup(const char *s);

#endif
