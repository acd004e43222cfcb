/* json.c: the strict JSON parser of json.h. Recursive descent over a NUL-terminated text; every
 * function returns the position after what it parsed, or NULL (and sets p->error) on failure. */
#include "json.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/alloc.h"
#include "../../lib/buf.h"
#include "../../lib/utf8.h"

#define JSON_MAX_DEPTH 64

struct parser {
	const char *error;
};

static const char *fail(struct parser *p, const char *at)
{
	if (!p->error)
		p->error = at;
	return NULL;
}

static const char *ws(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return s;
}

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Four hex digits at s; -1 if they are not. */
static long hex4(const char *s)
{
	long v = 0;
	for (int i = 0; i < 4; i++) {
		int h = hex(s[i]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/* A string at s (its opening quote), decoded into out. */
static const char *parse_string(struct parser *p, const char *s, struct buf *out)
{
	if (*s != '"')
		return fail(p, s);
	s++;
	while (*s != '"') {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20)
			return fail(p, s); /* a control character, or the end of the text */
		if (c == '\\') {
			const char *esc = s;
			s++;
			switch (*s) {
			case '"': buf_putc(out, '"'); s++; break;
			case '\\': buf_putc(out, '\\'); s++; break;
			case '/': buf_putc(out, '/'); s++; break;
			case 'b': buf_putc(out, '\b'); s++; break;
			case 'f': buf_putc(out, '\f'); s++; break;
			case 'n': buf_putc(out, '\n'); s++; break;
			case 'r': buf_putc(out, '\r'); s++; break;
			case 't': buf_putc(out, '\t'); s++; break;
			case 'u': {
				long cp = hex4(s + 1);
				if (cp < 0)
					return fail(p, esc);
				s += 5;
				if (cp >= 0xDC00 && cp <= 0xDFFF)
					return fail(p, esc); /* a low surrogate alone */
				if (cp >= 0xD800 && cp <= 0xDBFF) {
					long lo = s[0] == '\\' && s[1] == 'u' ? hex4(s + 2) : -1;
					if (lo < 0xDC00 || lo > 0xDFFF)
						return fail(p, esc); /* a high surrogate alone */
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					s += 6;
				}
				char enc[4];
				size_t n = utf8_encode((uint32_t)cp, enc);
				buf_append(out, enc, n);
				break;
			}
			default: return fail(p, esc);
			}
		} else if (c >= 0x80) {
			size_t n = utf8_decode(s, strlen(s), NULL);
			if (n == 0)
				return fail(p, s);
			buf_append(out, s, n);
			s += n;
		} else {
			buf_putc(out, (char)c);
			s++;
		}
	}
	return s + 1;
}

static const char *parse_number(struct parser *p, const char *s, struct json *v)
{
	const char *start = s;
	bool integer = true;
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return fail(p, start);
	if (*s == '.') {
		integer = false;
		s++;
		if (!(*s >= '0' && *s <= '9'))
			return fail(p, s);
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		integer = false;
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return fail(p, s);
		while (*s >= '0' && *s <= '9')
			s++;
	}
	char *copy = strndup(start, (size_t)(s - start));
	v->type = JSON_NUMBER;
	v->number = strtod(copy, NULL);
	v->integer = integer;
	free(copy);
	return s;
}

static const char *parse_value(struct parser *p, const char *s, int depth, struct json **out);

static void push(struct json *v, struct json *item, char *key)
{
	v->items = xrealloc(v->items, (v->n + 1) * sizeof *v->items);
	v->items[v->n] = item;
	if (v->type == JSON_OBJECT) {
		v->keys = xrealloc(v->keys, (v->n + 1) * sizeof *v->keys);
		v->keys[v->n] = key;
	}
	v->n++;
}

/* An array or object at s (its opening bracket). */
static const char *parse_members(struct parser *p, const char *s, int depth, struct json *v)
{
	bool keyed = *s == '{';
	char close = keyed ? '}' : ']';
	v->type = keyed ? JSON_OBJECT : JSON_ARRAY;
	s = ws(s + 1);
	if (*s == close)
		return s + 1;
	for (;;) {
		char *key = NULL;
		if (keyed) {
			struct buf k = BUF_INIT;
			const char *at = s;
			s = parse_string(p, s, &k);
			key = buf_detach(&k);
			if (!s) {
				free(key);
				return NULL;
			}
			for (size_t i = 0; i < v->n; i++) {
				if (strcmp(v->keys[i], key) == 0) {
					free(key);
					return fail(p, at); /* a duplicate key */
				}
			}
			s = ws(s);
			if (*s != ':') {
				free(key);
				return fail(p, s);
			}
			s = ws(s + 1);
		}
		struct json *item = NULL;
		s = parse_value(p, s, depth + 1, &item);
		if (!s) {
			free(key);
			json_free(item);
			return NULL;
		}
		push(v, item, key);
		s = ws(s);
		if (*s == close)
			return s + 1;
		if (*s != ',')
			return fail(p, s);
		s = ws(s + 1);
	}
}

static const char *parse_value(struct parser *p, const char *s, int depth, struct json **out)
{
	struct json *v = xcalloc(1, sizeof *v);
	*out = v;
	if (depth > JSON_MAX_DEPTH)
		return fail(p, s);
	s = ws(s);
	switch (*s) {
	case '{':
	case '[': return parse_members(p, s, depth, v);
	case '"': {
		struct buf b = BUF_INIT;
		v->type = JSON_STRING;
		s = parse_string(p, s, &b);
		v->length = b.len;
		v->string = buf_detach(&b);
		return s;
	}
	case 't':
		v->type = JSON_BOOL;
		v->boolean = true;
		return strncmp(s, "true", 4) == 0 ? s + 4 : fail(p, s);
	case 'f':
		v->type = JSON_BOOL;
		return strncmp(s, "false", 5) == 0 ? s + 5 : fail(p, s);
	case 'n':
		v->type = JSON_NULL;
		return strncmp(s, "null", 4) == 0 ? s + 4 : fail(p, s);
	default: return parse_number(p, s, v);
	}
}

struct json *json_parse(const char *text, const char **error)
{
	struct parser p = {NULL};
	struct json *v = NULL;
	const char *end = parse_value(&p, text, 0, &v);
	if (end) {
		end = ws(end);
		if (*end != '\0')
			end = fail(&p, end);
	}
	if (!end) {
		json_free(v);
		if (error)
			*error = p.error;
		return NULL;
	}
	if (error)
		*error = NULL;
	return v;
}

void json_free(struct json *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		json_free(v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->string);
	free(v);
}

const struct json *json_get(const struct json *v, const char *key)
{
	if (!v || v->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->keys[i], key) == 0)
			return v->items[i];
	return NULL;
}

const struct json *json_path(const struct json *v, ...)
{
	va_list ap;
	va_start(ap, v);
	for (const char *key = va_arg(ap, const char *); key && v; key = va_arg(ap, const char *))
		v = json_get(v, key);
	va_end(ap);
	return v;
}

const char *json_text(const struct json *v)
{
	return v && v->type == JSON_STRING ? v->string : NULL;
}

bool json_is_object(const char *s)
{
	struct json *v = json_parse(s, NULL);
	bool ok = v && v->type == JSON_OBJECT;
	json_free(v);
	return ok;
}

bool json_lines_valid(const char *s, size_t *count)
{
	*count = 0;
	while (*s) {
		const char *nl = strchr(s, '\n');
		if (!nl)
			return false;
		char *line = strndup(s, (size_t)(nl - s));
		bool ok = json_is_object(line);
		free(line);
		if (!ok)
			return false;
		(*count)++;
		s = nl + 1;
	}
	return true;
}
