/* utf8.h: UTF-8 decoding and validation (RFC 3629: no overlongs, no surrogates, nothing past
 * U+10FFFF). Plans and inventories are UTF-8; everything else is reported, never trusted. */
#ifndef DRP_UTF8_H
#define DRP_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length (1-4) of the valid UTF-8 sequence at s[0..len), or 0 if it is invalid or truncated.
 * *cp receives the code point when cp is not NULL. */
size_t utf8_decode(const char *s, size_t len, uint32_t *cp);
/* Encodes cp (must be a Unicode scalar value) into out[4]; returns the length. */
size_t utf8_encode(uint32_t cp, char out[4]);
/* Number of code points in s[0..len), counting each invalid byte as one. */
size_t utf8_count(const char *s, size_t len);

#endif
