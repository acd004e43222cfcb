/* yamlread.h: what drplan's YAML readers share. The small files (latency profiles, fault rules) are
 * read by recursive descent over libyaml's events through one pull reader: the current event, its
 * position in bytes, anchors, aliases and tags refused, libyaml's own errors as diagnostics, and a
 * cap on errors. The large ones (inventories, compiled plans) have state machines of their own but
 * describe what they found in the same words. */
#ifndef DRP_YAMLREAD_H
#define DRP_YAMLREAD_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "../lib/buf.h"
#include "diag.h"
#include "source.h"
#include "yamlpos.h"

/* How much of a value a message quotes, in bytes (cut on a character boundary). */
#define YAML_QUOTE_MAX 40

/* Appends 'text' to b, cut after YAML_QUOTE_MAX bytes ("..."), control characters as \xNN (a message
 * reaches a terminal). */
void yaml_quote(struct buf *b, const char *text, size_t len);
/* A plain scalar that YAML reads as null: empty, ~, null, Null, NULL. */
bool yaml_is_null(const yaml_event_t *ev);
/* "a, b and c" (last: " and ", " or "). */
void yaml_word_list(struct buf *b, const char *const *words, const char *last);

/* Every YAML reader's errors count against a cap: the error past `max` is reported instead as
 * DRP013 "too many errors in THIS_FILE (MAX); stopping here" and sets *stop. Adds the diagnostic
 * (severity, rule, at, fmt) and returns it, or NULL once stopped; warnings and notes do not count. */
struct diag *yaml_vdiag_capped(struct diag_list *diags, unsigned *errors, bool *stop, unsigned max,
                               const char *this_file, enum diag_severity severity, enum diag_rule rule,
                               struct src_range at, const char *fmt, va_list ap)
	__attribute__((format(printf, 9, 0)));

/* The event loop of the state-machine readers (inventories, compiled plans): every event of the
 * stream goes to handle(ctx, event), but only once the next one has been read, so that a syntax
 * error that ends the entry before it (a line indented one space too few closes the mapping above
 * it) is known before that entry is judged incomplete. On a syntax error, syntax_error(ctx) reports
 * it and the loop ends; it also ends as soon as *stop is set. static inline, with the callbacks
 * known at each call site, so that handle is inlined into the loop over millions of events. */
static inline void yaml_event_loop(yaml_parser_t *y, void *ctx, void (*handle)(void *ctx, const yaml_event_t *ev),
                                   void (*syntax_error)(void *ctx), const bool *stop)
{
	yaml_event_t events[2]; /* the event being held and the next one, swapped rather than copied */
	yaml_event_t *ev = &events[0], *next = &events[1];
	bool have = false;
	for (;;) {
		bool end = have && ev->type == YAML_STREAM_END_EVENT;
		bool ok = end || yaml_parser_parse(y, next);
		if (have) {
			if (ok)
				handle(ctx, ev);
			yaml_event_delete(ev);
		}
		if (end)
			break;
		if (!ok) {
			syntax_error(ctx);
			break;
		}
		if (*stop) {
			yaml_event_delete(next);
			break;
		}
		yaml_event_t *held = next;
		next = ev;
		ev = held;
		have = true;
	}
}

/* What a file is, in the reader's messages. */
struct yaml_reader_names {
	enum diag_rule rule;           /* every error's code (the cap's is DRP013) */
	const char *file;              /* "a latency profile": "... is one document" */
	const char *in_file;           /* "in a latency profile": "YAML aliases are not allowed ..." */
	const char *this_file;         /* "this latency profile": "too many errors in ..." */
	unsigned max_errors;
};

struct yaml_reader {
	const struct src_file *src;
	struct diag_list *diags;
	const struct yaml_reader_names *names;
	yaml_parser_t yaml;
	yaml_event_t ev;               /* the current event */
	bool have;                     /* ev holds an event to delete */
	bool stop;                     /* read no further */
	bool open;                     /* yaml is initialised */
	unsigned errors;
	struct yaml_pos pos;           /* libyaml's marks count characters: byte offsets */
};

/* Starts reading src; false (reported) if libyaml cannot start. Close it in any case. */
bool yaml_reader_open(struct yaml_reader *r, const struct src_file *src, struct diag_list *diags,
                      const struct yaml_reader_names *names);
void yaml_reader_close(struct yaml_reader *r);

/* A diagnostic with the reader's rule; NULL once the reader has stopped, or when it is the error
 * past the cap (reported as DRP013 "too many errors", and the reading stops). */
struct diag *yaml_reader_diag(struct yaml_reader *r, enum diag_severity severity, struct src_range at,
                              const char *fmt, ...) __attribute__((format(printf, 4, 5)));
#define yaml_reader_error(r, at, ...) yaml_reader_diag((r), DIAG_ERROR, (at), __VA_ARGS__)

/* Reads the next event into r->ev; false (reported) on a syntax error or once stopped. */
bool yaml_reader_next(struct yaml_reader *r);
/* Anchors and aliases stop the reading (a small file must not expand into a big one); a tag is
 * refused but its value can still be read. True if the current node may be read. */
bool yaml_reader_plain(struct yaml_reader *r);
/* Skips the node whose first event is current, nested collections included; its last event
 * becomes current. */
void yaml_reader_skip(struct yaml_reader *r);
/* The current node: a scalar's (or alias's) whole range, a collection's first character (its end
 * is not known before it is read). */
struct src_range yaml_reader_at(struct yaml_reader *r);
/* What the current node is, for "found ..." in messages: "a list", "a mapping", "an empty value",
 * or the quoted scalar. */
void yaml_reader_describe(struct yaml_reader *r, struct buf *b);
/* The current node is a non-empty scalar. */
bool yaml_reader_scalar(const struct yaml_reader *r);
/* Reports "expected WHAT for 'FIELD', found ..." (with hint if not NULL) and skips the node. */
void yaml_reader_expected(struct yaml_reader *r, const char *what, const char *field, const char *hint);

/* The whole stream: nothing (an empty file), or one document whose root is a mapping, read by
 * read_root with its start event current. Any other root is "FILE is ROOT, found ..." with hint;
 * a second document is an error. */
void yaml_reader_document(struct yaml_reader *r, void (*read_root)(void *ctx), void *ctx, const char *root,
                          const char *hint);

#endif
