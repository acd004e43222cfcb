/* parse.h: turning one source file into a syntax tree. parse_file never fails: every problem becomes
 * a diagnostic and the tree holds whatever parsed, so one run reports every mistake in a file.
 * struct parse_state is shared by the scanner (grammar/lexer.l), the grammar (grammar/parser.y) and the
 * token helpers (token.c); nothing else should need it. */
#ifndef DRP_PARSE_H
#define DRP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/arena.h"
#include "../lib/buf.h"
#include "ast.h"
#include "diag.h"
#include "source.h"

/* After this many errors in one file the parse stops (with a DRP013 note), so that a binary file
 * or a 10 MB line of garbage yields a screenful, not a million lines. */
#define PARSE_MAX_ERRORS 50

struct parse_state {
	struct src_file *src;
	struct arena *arena;
	struct diag_list *diags;
	struct ast_file *file;
	void *scanner;             /* the flex scanner (yyscan_t) */
	uint32_t offset;           /* the scanner's position: byte offset of the next token */
	struct ast_item *items_tail;
	struct ast_comment *comments_tail;
	uint32_t *open_braces;     /* offsets of the '{' not yet closed, innermost last */
	size_t n_open_braces, cap_open_braces;
	uint32_t last_token_end;     /* end of the token most recently scanned (the lookahead) */
	uint32_t previous_token_end; /* end of the token before it */
	struct src_range lex_error;  /* the last range the scanner reported a problem in */
	size_t errors;             /* errors reported in this file */
	bool stopped;              /* PARSE_MAX_ERRORS reached */
};

struct ast_file *parse_file(struct arena *arena, struct src_file *src, struct diag_list *diags);

/* Reports an error in the file being parsed, counting it against PARSE_MAX_ERRORS; returns NULL
 * (and reports nothing) once the limit is reached. */
struct diag *parse_error(struct parse_state *ps, enum diag_rule rule, uint32_t start, uint32_t end,
                         const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Token helpers for the scanner. Each decodes the lexeme at ps->src->text[start..end) and reports
 * its own problems with exact locations. */
struct ast_name token_name(struct parse_state *ps, uint32_t start, uint32_t end);
struct ast_string token_string(struct parse_state *ps, uint32_t start, uint32_t end, bool terminated);
struct ast_number token_number(struct parse_state *ps, uint32_t start, uint32_t end);
struct ast_duration token_duration(struct parse_state *ps, uint32_t start, uint32_t end);
/* Appends 'text' quoted for a message: at most 40 bytes, "..." when cut, control bytes as '?'. */
void token_quote(struct buf *out, const char *text, size_t len);
/* A run of characters that cannot start a token. */
void token_invalid(struct parse_state *ps, uint32_t start, uint32_t end);
void token_comment(struct parse_state *ps, uint32_t start, uint32_t end);
void token_open_brace(struct parse_state *ps, uint32_t offset);
void token_close_brace(struct parse_state *ps);

/* Parses a duration like "1h30m" into milliseconds; false (and *why set) if malformed or too long.
 * Exposed for tests and for the inventory reader. */
bool duration_parse(const char *text, size_t len, int64_t *ms, const char **why);

/* The largest duration the language accepts: 365 days. */
#define DURATION_MAX_MS ((int64_t)365 * 24 * 3600 * 1000)
/* The largest integer the language accepts. */
#define NUMBER_MAX INT32_MAX

#endif
