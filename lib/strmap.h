/* strmap.h: a hash map from strings to 32-bit values (indices into a table), open addressing with
 * linear probing. Keys are not copied: they must outlive the map (they normally live in the
 * compilation's arena). Used for every name lookup, so it is built for millions of entries. */
#ifndef DRP_STRMAP_H
#define DRP_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STRMAP_NONE UINT32_MAX

struct strmap_slot {
	const char *key; /* NULL: empty */
	uint32_t len;
	uint32_t value;
	uint64_t hash;
};

struct strmap {
	struct strmap_slot *slots;
	size_t cap;   /* a power of two, or 0 */
	size_t count;
};

void strmap_init(struct strmap *m);
void strmap_free(struct strmap *m);
/* Sizes the table for `count` entries so that inserting them never rehashes. */
void strmap_reserve(struct strmap *m, size_t count);
/* The value stored for key, or STRMAP_NONE. */
uint32_t strmap_get(const struct strmap *m, const char *key, size_t len);
/* Stores value under key unless the key is present; returns the value that is now stored (the old
 * one if the key was present, so callers detect duplicates by comparing). */
uint32_t strmap_put(struct strmap *m, const char *key, size_t len, uint32_t value);

#endif
