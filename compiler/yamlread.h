/* yamlread.h: what drplan's YAML readers share. The small files (latency profiles, fault rules) are
 * read by recursive descent over libyaml's events through one pull reader: the current event, its
 * position in bytes, anchors, aliases and tags refused, libyaml's own errors as diagnostics, and a
 * cap on errors. The large ones (inventories, compiled plans) have state machines of their own but
 * describe what they found in the same words. */
#ifndef DRP_YAMLREAD_H
#define DRP_YAMLREAD_H

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
