/* diag.h: the one diagnostic type. A diagnostic has a severity, a stable rule id (rules.def), a
 * message, a source range, and optionally a hint ("did you mean ..."), a fix-it (text that replaces
 * the range) and notes pointing at related places. Every pass appends to one diag_list; one renderer
 * (diag_render.c) prints them as text, JSON, SARIF or GitHub annotations. */
#ifndef DRP_DIAG_H
#define DRP_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "../lib/buf.h"
#include "source.h"

enum diag_rule {
#define X(id, name, summary) id,
#include "rules.def"
#undef X
	DIAG_RULE_COUNT
};

struct diag_rule_info {
	const char *id;      /* "DRP001" */
	const char *name;    /* "syntax-error" */
	const char *summary; /* one sentence */
};

const struct diag_rule_info *diag_rule_info(enum diag_rule rule);

enum diag_severity { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE };

struct diag_note {
	struct src_range at;
	char *message;
};

struct diag {
	enum diag_severity severity;
	enum diag_rule rule;
	struct src_range at;
	char *message;
	char *hint;   /* NULL, or a sentence shown as "help: ..." */
	char *fixit;  /* NULL, or the text that should replace `at` */
	struct diag_note *notes;
	size_t n_notes;
	size_t seq;   /* insertion order, to keep sorting stable */
};

/* Owns its diagnostics and their strings. */
struct diag_list {
	struct diag **items;
	size_t len, cap;
	size_t errors, warnings;
};

void diag_list_init(struct diag_list *list);
void diag_list_free(struct diag_list *list);

/* Appends a diagnostic; the pointer stays valid until diag_list_free. */
struct diag *diag_add(struct diag_list *list, enum diag_severity severity, enum diag_rule rule,
                      struct src_range at, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* The same with a va_list, for functions that wrap diag_add. */
struct diag *diag_vadd(struct diag_list *list, enum diag_severity severity, enum diag_rule rule,
                       struct src_range at, const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
void diag_hint(struct diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void diag_fixit(struct diag *d, const char *replacement);
void diag_note(struct diag *d, struct src_range at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Sorts by file, then position, then insertion order. */
void diag_sort(struct diag_list *list);

/* The closest of `candidates` (NULL-terminated) to `word` by edit distance, if close enough to be a
 * plausible typo; NULL otherwise. For "did you mean". */
const char *diag_suggest(const char *word, size_t len, const char *const *candidates);

/* Output formats. */
enum diag_format { DIAG_FORMAT_TEXT, DIAG_FORMAT_JSON, DIAG_FORMAT_SARIF, DIAG_FORMAT_GITHUB };

/* Parses "text", "json", "sarif" or "github"; false if unknown. */
bool diag_format_parse(const char *name, enum diag_format *out);
/* Renders the whole list. color applies to text only. SARIF is one complete document (even with no
 * results); JSON is one object per line; text and github end each diagnostic with a newline. */
void diag_render(struct buf *out, const struct diag_list *list, struct src_set *sources,
                 enum diag_format format, bool color);

#endif
