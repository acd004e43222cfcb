/* strmap.c: open-addressing string map with FNV-1a hashing and a load factor of at most 1/2. */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"

void strmap_init(struct strmap *m)
{
	memset(m, 0, sizeof *m);
}

void strmap_free(struct strmap *m)
{
	free(m->slots);
	strmap_init(m);
}

static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 29);
}

static void insert_slot(struct strmap_slot *slots, size_t cap, const struct strmap_slot *entry)
{
	size_t i = entry->hash & (cap - 1);
	while (slots[i].key)
		i = (i + 1) & (cap - 1);
	slots[i] = *entry;
}

static void grow(struct strmap *m, size_t cap)
{
	struct strmap_slot *slots = xcalloc(cap, sizeof *slots);
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key)
			insert_slot(slots, cap, &m->slots[i]);
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
}

void strmap_reserve(struct strmap *m, size_t count)
{
	size_t cap = m->cap ? m->cap : 16;
	while (cap < count * 2)
		cap *= 2;
	if (cap != m->cap)
		grow(m, cap);
}

uint32_t strmap_get(const struct strmap *m, const char *key, size_t len)
{
	if (!m->cap)
		return STRMAP_NONE;
	uint64_t h = hash_bytes(key, len);
	for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		const struct strmap_slot *s = &m->slots[i];
		if (!s->key)
			return STRMAP_NONE;
		if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0)
			return s->value;
	}
}

uint32_t strmap_put(struct strmap *m, const char *key, size_t len, uint32_t value)
{
	if ((m->count + 1) * 2 > m->cap)
		grow(m, m->cap ? m->cap * 2 : 16);
	uint64_t h = hash_bytes(key, len);
	size_t i = h & (m->cap - 1);
	for (;; i = (i + 1) & (m->cap - 1)) {
		struct strmap_slot *s = &m->slots[i];
		if (!s->key)
			break;
		if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0)
			return s->value;
	}
	m->slots[i].key = key;
	m->slots[i].len = (uint32_t)len;
	m->slots[i].value = value;
	m->slots[i].hash = h;
	m->count++;
	return value;
}
