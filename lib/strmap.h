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

/* For loops over many keys, where nearly every probe is a cache miss: hash a key some iterations
 * ahead, prefetch its slot, and use the _hashed forms when its turn comes. `hash` must be
 * strmap_hash(key, len). The prefetch is only a hint: it is harmless if the map grows meanwhile. */
uint64_t strmap_hash(const char *key, size_t len);
void strmap_prefetch(const struct strmap *m, uint64_t hash);
uint32_t strmap_get_hashed(const struct strmap *m, const char *key, size_t len, uint64_t hash);
uint32_t strmap_put_hashed(struct strmap *m, const char *key, size_t len, uint64_t hash, uint32_t value);

#endif
