/* digest.c: SHA-256 as lowercase hex over nettle's implementation. */
#include "digest.h"

#include <stdint.h>

void digest_init(struct digest *g)
{
	sha256_init(&g->ctx);
}

void digest_update(struct digest *g, const void *data, size_t len)
{
	sha256_update(&g->ctx, len, (const uint8_t *)data);
}

void digest_hex(struct digest *g, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t raw[SHA256_DIGEST_SIZE];
	sha256_digest(&g->ctx, sizeof raw, raw);
	for (size_t i = 0; i < sizeof raw; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 0xF];
	}
	out[2 * SHA256_DIGEST_SIZE] = '\0';
}

void digest_hex_of(const void *data, size_t len, char out[65])
{
	struct digest g;
	digest_init(&g);
	digest_update(&g, data, len);
	digest_hex(&g, out);
}
