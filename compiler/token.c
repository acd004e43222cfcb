/* token.c: decoding lexemes (names, strings, numbers, durations) and reporting what is wrong with
 * them at the exact byte. The scanner (grammar/lexer.l) only matches patterns and calls these. */
#include "parse.h"

#include <stdarg.h>
#include <string.h>

#include "../lib/alloc.h"
#include "../lib/buf.h"
#include "../lib/utf8.h"

static struct diag *parse_verror(struct parse_state *ps, enum diag_rule rule, uint32_t start, uint32_t end,
                                 const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static struct diag *parse_verror(struct parse_state *ps, enum diag_rule rule, uint32_t start, uint32_t end,
                                 const char *fmt, va_list ap)
{
	ps->file->has_errors = true;
	if (ps->stopped)
		return NULL;
	if (ps->errors == PARSE_MAX_ERRORS) {
		diag_add(ps->diags, DIAG_ERROR, DRP013, src_range_make(ps->src->id, start, end),
		         "too many errors in this file (%d); stopping here", PARSE_MAX_ERRORS);
		ps->stopped = true;
		return NULL;
	}
	ps->errors++;
	return diag_vadd(ps->diags, DIAG_ERROR, rule, src_range_make(ps->src->id, start, end), fmt, ap);
}

struct diag *parse_error(struct parse_state *ps, enum diag_rule rule, uint32_t start, uint32_t end,
                         const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct diag *d = parse_verror(ps, rule, start, end, fmt, ap);
	va_end(ap);
	return d;
}

/* A problem the scanner found: remembered so that the parser does not report the same place again
 * as a syntax error (see syntax_error_report). */
static struct diag *lex_error(struct parse_state *ps, enum diag_rule rule, uint32_t start, uint32_t end,
                              const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static struct diag *lex_error(struct parse_state *ps, enum diag_rule rule, uint32_t start, uint32_t end,
                              const char *fmt, ...)
{
	ps->lex_error = src_range_make(ps->src->id, start, end);
	va_list ap;
	va_start(ap, fmt);
	struct diag *d = parse_verror(ps, rule, start, end, fmt, ap);
	va_end(ap);
	return d;
}

void token_quote(struct buf *out, const char *text, size_t len)
{
	bool cut = len > 40;
	if (cut)
		len = 40;
	buf_putc(out, '\'');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		buf_putc(out, c < 0x20 || c == 0x7f ? '?' : (char)c);
	}
	buf_puts(out, cut ? "...'" : "'");
}

struct ast_name token_name(struct parse_state *ps, uint32_t start, uint32_t end)
{
	struct ast_name name;
	name.len = end - start;
	name.text = arena_strndup(ps->arena, ps->src->text + start, name.len);
	name.quoted = false;
	name.at = src_range_make(ps->src->id, start, end);
	return name;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes \u{HEX} at text[i] (pointing at 'u'); returns the bytes consumed after the backslash, or 0
 * if malformed. */
static size_t decode_unicode_escape(const char *text, size_t len, size_t i, uint32_t *cp)
{
	if (i + 1 >= len || text[i + 1] != '{')
		return 0;
	uint32_t value = 0;
	size_t k = i + 2, digits = 0;
	while (k < len && hex_value(text[k]) >= 0 && digits < 7) {
		value = value * 16 + (uint32_t)hex_value(text[k]);
		k++;
		digits++;
	}
	if (k >= len || text[k] != '}' || digits == 0 || digits > 6)
		return 0;
	*cp = value;
	return k + 1 - i;
}

struct ast_string token_string(struct parse_state *ps, uint32_t start, uint32_t end, bool terminated)
{
	const char *text = ps->src->text;
	struct ast_string s;
	s.at = src_range_make(ps->src->id, start, end);
	if (!terminated) {
		struct diag *d = lex_error(ps, DRP003, start, end, "this string has no closing quote");
		if (d)
			diag_hint(d, "a string ends on the line it starts on; write \\n for a line break");
	}
	bool bad_utf8 = false; /* reported once per string */
	/* The decoded text is never longer than the lexeme. */
	char *out = arena_alloc(ps->arena, end - start + 1);
	size_t n = 0;
	uint32_t i = start + 1;
	uint32_t stop = terminated ? end - 1 : end;
	while (i < stop) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\\') {
			if (i + 1 >= stop) {
				i++;
				break;
			}
			char e = text[i + 1];
			const char *simple = strchr("\\\"ntr", e);
			if (e != '\0' && simple) {
				static const char decoded[] = "\\\"\n\t\r";
				out[n++] = decoded[simple - "\\\"ntr"];
				i += 2;
				continue;
			}
			uint32_t cp = 0;
			size_t used = e == 'u' ? decode_unicode_escape(text, stop, i + 1, &cp) : 0;
			if (used && cp != 0 && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF)) {
				char enc[4];
				size_t k = utf8_encode(cp, enc);
				memcpy(out + n, enc, k);
				n += k;
				i += 1 + (uint32_t)used;
				continue;
			}
			if (used) {
				struct diag *d = lex_error(ps, DRP004, i, i + 1 + (uint32_t)used,
				                             "\\u{%X} is not a Unicode character that a string may hold",
				                             cp);
				if (d)
					diag_hint(d, "the value must be between 1 and 10FFFF, and not a surrogate");
				i += 1 + (uint32_t)used;
				continue;
			}
			size_t elen = utf8_decode(text + i + 1, stop - i - 1, NULL);
			if (elen == 0)
				elen = 1;
			struct diag *d = lex_error(ps, DRP004, i, i + 1 + (uint32_t)elen,
			                             e == 'u' ? "malformed \\u escape"
			                                      : "unknown escape sequence '\\%.*s'",
			                             (int)elen, text + i + 1);
			if (d)
				diag_hint(d, "the escapes are \\\\ \\\" \\n \\t \\r and \\u{HEX}; write \\\\ for a "
				             "backslash");
			i += 1 + (uint32_t)elen;
			continue;
		}
		if (c == '\0') {
			lex_error(ps, DRP006, i, i + 1, "NUL byte in a string");
			i++;
			continue;
		}
		if (c >= 0x80) {
			size_t k = utf8_decode(text + i, stop - i, NULL);
			if (k == 0) {
				if (!bad_utf8)
					lex_error(ps, DRP005, i, i + 1, "invalid UTF-8 byte 0x%02X in a string", c);
				bad_utf8 = true;
				i++;
				continue;
			}
			memcpy(out + n, text + i, k);
			n += k;
			i += (uint32_t)k;
			continue;
		}
		out[n++] = (char)c;
		i++;
	}
	out[n] = '\0';
	s.text = out;
	s.len = (uint32_t)n;
	return s;
}

struct ast_number token_number(struct parse_state *ps, uint32_t start, uint32_t end)
{
	struct ast_number num = {0, true, src_range_make(ps->src->id, start, end)};
	int64_t value = 0;
	for (uint32_t i = start; i < end; i++) {
		value = value * 10 + (ps->src->text[i] - '0');
		if (value > NUMBER_MAX) {
			uint32_t len = end - start;
			lex_error(ps, DRP008, start, end, "the number %.*s%s is too large (the largest is %d)",
			          (int)(len > 30 ? 30 : len), ps->src->text + start, len > 30 ? "..." : "", NUMBER_MAX);
			value = NUMBER_MAX;
			break;
		}
	}
	num.value = value;
	return num;
}

bool duration_parse(const char *text, size_t len, int64_t *ms, const char **why)
{
	static const struct { const char *unit; int64_t ms; } units[] = {
		{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1},
	};
	int64_t total = 0;
	int last_unit = -1;
	size_t i = 0;
	if (len == 0) {
		*why = "a duration is a number followed by a unit";
		return false;
	}
	while (i < len) {
		if (text[i] < '0' || text[i] > '9') {
			*why = "a duration is a number followed by a unit (ms, s, m, h or d)";
			return false;
		}
		int64_t value = 0;
		while (i < len && text[i] >= '0' && text[i] <= '9') {
			value = value * 10 + (text[i] - '0');
			if (value > DURATION_MAX_MS) {
				*why = "the duration is longer than the limit of 365 days";
				return false;
			}
			i++;
		}
		size_t ustart = i;
		while (i < len && ((text[i] >= 'a' && text[i] <= 'z') || (text[i] >= 'A' && text[i] <= 'Z')))
			i++;
		int unit = -1;
		for (int u = 0; u < 5; u++)
			if (strlen(units[u].unit) == i - ustart && memcmp(units[u].unit, text + ustart, i - ustart) == 0)
				unit = u;
		if (unit < 0) {
			*why = i == ustart ? "a duration needs a unit after each number (ms, s, m, h or d)"
			                   : "unknown unit (the units are ms, s, m, h and d)";
			return false;
		}
		if (unit <= last_unit) {
			*why = "the parts of a duration go from the largest unit to the smallest, each once";
			return false;
		}
		last_unit = unit;
		total += value * units[unit].ms;
		if (total > DURATION_MAX_MS) {
			*why = "the duration is longer than the limit of 365 days";
			return false;
		}
	}
	*ms = total;
	return true;
}

struct ast_duration token_duration(struct parse_state *ps, uint32_t start, uint32_t end)
{
	struct ast_duration d = {0, true, src_range_make(ps->src->id, start, end), NULL};
	const char *why = NULL;
	if (!duration_parse(ps->src->text + start, end - start, &d.ms, &why))
		d.invalid = why;
	return d;
}

void token_invalid(struct parse_state *ps, uint32_t start, uint32_t end)
{
	const char *text = ps->src->text;
	/* Report the first problem of the run with its precise kind; the rest of the run is covered by
	 * the range. */
	for (uint32_t i = start; i < end;) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\0') {
			lex_error(ps, DRP006, start, end, "NUL byte in the plan text");
			return;
		}
		size_t k = c < 0x80 ? 1 : utf8_decode(text + i, end - i, NULL);
		if (k == 0) {
			lex_error(ps, DRP005, start, end, "invalid UTF-8 byte 0x%02X", c);
			return;
		}
		i += (uint32_t)k;
	}
	uint32_t len = end - start;
	struct buf q = BUF_INIT;
	token_quote(&q, text + start, len);
	struct diag *d = lex_error(ps, DRP002, start, end, "unexpected character%s %s",
	                           utf8_count(text + start, len) > 1 ? "s" : "", q.data);
	buf_free(&q);
	if (!d)
		return;
	if (text[start] == ';')
		diag_hint(d, "statements need no ';': one statement per line");
	else if (text[start] == '=' || text[start] == ':')
		diag_hint(d, "settings are written KEY VALUE, with no '%c'", text[start]);
	else if (text[start] == '\'')
		diag_hint(d, "strings and quoted names use double quotes");
	else if ((unsigned char)text[start] >= 0x80)
		diag_hint(d, "names are ASCII; write other characters inside a quoted name");
	else if (text[start] == '/' && len > 1 && text[start + 1] == '/')
		diag_hint(d, "comments start with '#'");
}

void token_comment(struct parse_state *ps, uint32_t start, uint32_t end)
{
	const char *text = ps->src->text;
	for (uint32_t i = start; i < end;) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\0') {
			lex_error(ps, DRP006, i, i + 1, "NUL byte in a comment");
			break;
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t k = utf8_decode(text + i, end - i, NULL);
		if (k == 0) {
			lex_error(ps, DRP005, i, i + 1, "invalid UTF-8 byte 0x%02X in a comment", c);
			break;
		}
		i += (uint32_t)k;
	}
	struct ast_comment *comment = ARENA_NEW(ps->arena, struct ast_comment);
	comment->at = src_range_make(ps->src->id, start, end);
	if (ps->comments_tail)
		ps->comments_tail->next = comment;
	else
		ps->file->comments = comment;
	ps->comments_tail = comment;
}

void token_open_brace(struct parse_state *ps, uint32_t offset)
{
	if (ps->n_open_braces == ps->cap_open_braces) {
		ps->cap_open_braces = ps->cap_open_braces ? ps->cap_open_braces * 2 : 8;
		ps->open_braces = xrealloc(ps->open_braces, ps->cap_open_braces * sizeof *ps->open_braces);
	}
	ps->open_braces[ps->n_open_braces++] = offset;
}

void token_close_brace(struct parse_state *ps)
{
	if (ps->n_open_braces > 0)
		ps->n_open_braces--;
}
