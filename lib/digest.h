/* digest.h: SHA-256 (through nettle) as lowercase hex, the one digest drplan writes: the plan's and
 * the inventory's digests and the compiled plan's seal over its own bytes. */
#ifndef DRP_DIGEST_H
#define DRP_DIGEST_H

#include <stddef.h>

#include <nettle/sha2.h>

/* A digest being computed: digest_init, any number of digest_update, then digest_hex once. */
struct digest {
	struct sha256_ctx ctx;
};

void digest_init(struct digest *g);
void digest_update(struct digest *g, const void *data, size_t len);
/* The SHA-256 of everything given so far, as 64 lowercase hex digits and a NUL. The digest is done:
 * call digest_init before using it again. */
void digest_hex(struct digest *g, char out[65]);
/* The SHA-256 of data[0..len) in one call. */
void digest_hex_of(const void *data, size_t len, char out[65]);

#endif
