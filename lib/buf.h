/* buf.h: a growable byte buffer, the one way drplan builds text (diagnostics, formatted plans,
 * YAML, JSON). The buffer owns its bytes; buf_free releases them; data is always NUL-terminated. */
#ifndef DRP_BUF_H
#define DRP_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT {0, 0, 0}

void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
/* v in decimal, without printf: ids are formatted by the million. */
void buf_put_uint(struct buf *b, uint64_t v);
void buf_repeat(struct buf *b, char c, size_t count);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* JSON string literal (with quotes) of s[0..len); invalid UTF-8 bytes become U+FFFD. */
void buf_json_string(struct buf *b, const char *s, size_t len);
void buf_clear(struct buf *b);
void buf_free(struct buf *b);
/* Hands the bytes to the caller (free with free()); the buffer is left empty. */
char *buf_detach(struct buf *b);

#endif
