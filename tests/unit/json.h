/* json.h: a strict little JSON (RFC 8259) parser for the tests, enough to prove that machine output
 * parses and to walk it: test_diag.c checks that the renderers write valid JSON, test_sarif.c walks
 * a SARIF document and checks its structure. Strict: no trailing commas, no leading zeros, no
 * control characters or invalid UTF-8 in strings, no lone surrogates, no duplicate keys in an
 * object, nothing after the value but whitespace, at most 64 levels of nesting. */
#ifndef DRP_TEST_JSON_H
#define DRP_TEST_JSON_H

#include <stdbool.h>
#include <stddef.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
	enum json_type type;
	bool boolean;        /* JSON_BOOL */
	double number;       /* JSON_NUMBER */
	bool integer;        /* JSON_NUMBER written without fraction or exponent */
	char *string;        /* JSON_STRING: decoded, UTF-8, NUL-terminated (may hold "\u0000" as a NUL) */
	size_t length;       /* JSON_STRING: bytes in string */
	struct json **items; /* JSON_ARRAY: the elements; JSON_OBJECT: the values */
	char **keys;         /* JSON_OBJECT: the keys, decoded, in the order written */
	size_t n;            /* JSON_ARRAY, JSON_OBJECT: how many */
};

/* Parses text, which must be exactly one JSON value with nothing but whitespace around it. Returns
 * NULL if it is not, with *error (if error is not NULL) pointing at where parsing failed. */
struct json *json_parse(const char *text, const char **error);
void json_free(struct json *value);

/* The member `key` of an object; NULL if value is NULL, not an object, or has no such member. */
const struct json *json_get(const struct json *value, const char *key);
/* Follows a path of keys through nested objects: json_path(doc, "tool", "driver", "name", NULL). */
const struct json *json_path(const struct json *value, ...);
/* The text of a string value, or NULL if value is NULL or not a string. */
const char *json_text(const struct json *value);

/* True if s is exactly one JSON object, with nothing but whitespace around it. */
bool json_is_object(const char *s);
/* True if every line of s is a JSON object and s ends with a newline (JSON Lines); *count receives
 * the number of lines read. */
bool json_lines_valid(const char *s, size_t *count);

#endif
