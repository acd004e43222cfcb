/* strmap.c: open-addressing string map with a wyhash-like hash and a load factor of at most 1/2. */
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

/* 64x64 -> 128-bit multiply, folded: the mixing step of wyhash. */
static uint64_t mix(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static uint64_t load64(const char *s)
{
	uint64_t v;
	memcpy(&v, s, 8);
	return v;
}

/* 8 bytes per step (names are short: one to three steps), then the tail of up to 8 bytes read as
 * two overlapping 4-byte words or single bytes, as wyhash does. Only equality of hashes matters:
 * nothing depends on the order of the slots. */
uint64_t strmap_hash(const char *s, size_t len)
{
	const uint64_t k0 = 0xa0761d6478bd642fULL, k1 = 0xe7037ed1a0b428dbULL;
	uint64_t h = k0 ^ len;
	size_t i = 0;
	for (; i + 8 < len; i += 8)
		h = mix(h ^ load64(s + i), k1);
	size_t rest = len - i; /* 0 to 8 */
	uint64_t a = 0, b = 0;
	if (rest >= 4) {
		uint32_t x, y;
		memcpy(&x, s + i, 4);
		memcpy(&y, s + i + rest - 4, 4);
		a = x;
		b = y;
	} else if (rest > 0) {
		a = (uint64_t)(unsigned char)s[i] << 16 | (uint64_t)(unsigned char)s[i + rest / 2] << 8 |
		    (unsigned char)s[i + rest - 1];
	}
	return mix(h ^ a ^ (b << 32), k1 ^ rest);
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

void strmap_prefetch(const struct strmap *m, uint64_t hash)
{
	if (m->cap)
		__builtin_prefetch(&m->slots[hash & (m->cap - 1)]);
}

uint32_t strmap_get_hashed(const struct strmap *m, const char *key, size_t len, uint64_t h)
{
	if (!m->cap)
		return STRMAP_NONE;
	for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		const struct strmap_slot *s = &m->slots[i];
		if (!s->key)
			return STRMAP_NONE;
		if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0)
			return s->value;
	}
}

uint32_t strmap_get(const struct strmap *m, const char *key, size_t len)
{
	if (!m->cap)
		return STRMAP_NONE;
	return strmap_get_hashed(m, key, len, strmap_hash(key, len));
}

uint32_t strmap_put_hashed(struct strmap *m, const char *key, size_t len, uint64_t h, uint32_t value)
{
	if ((m->count + 1) * 2 > m->cap)
		grow(m, m->cap ? m->cap * 2 : 16);
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

uint32_t strmap_put(struct strmap *m, const char *key, size_t len, uint32_t value)
{
	return strmap_put_hashed(m, key, len, strmap_hash(key, len), value);
}
