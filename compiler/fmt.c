/* fmt.c: the canonical formatter. It walks the tree, producing one line per statement with its
 * comments interleaved by source position, then renders the lines, aligning trailing comments. */
#include "fmt.h"

#include <stdlib.h>
#include <string.h>

#include "../lib/alloc.h"
#include "../lib/utf8.h"

#define FMT_INDENT 2

struct fmt_line {
	int depth;
	char *code;        /* the statement, or NULL for a comment-only line */
	char *comment;     /* a comment, own-line or trailing; NULL if none */
	bool blank_before; /* a blank line precedes this one */
};

struct fmt {
	const struct ast_file *file;
	const char *text;
	const struct ast_comment *comment; /* the next comment not yet emitted */
	uint32_t last_end;                 /* where the last emitted thing ended in the source */
	bool no_blank;                     /* no blank line before the next line: after '{', before '}' */
	uint32_t trailing_before;          /* a trailing comment must start before this (a block's body) */
	struct fmt_line *lines;
	size_t n_lines, cap_lines;
	struct buf code;                   /* the line being built */
};

/* True if the source between a and b holds a blank line (two or more line breaks). */
static bool blank_between(const struct fmt *f, uint32_t a, uint32_t b)
{
	int newlines = 0;
	for (uint32_t i = a; i < b; i++)
		if (f->text[i] == '\n' && ++newlines >= 2)
			return true;
	return false;
}

static bool newline_between(const struct fmt *f, uint32_t a, uint32_t b)
{
	return memchr(f->text + a, '\n', b - a) != NULL;
}

static struct fmt_line *add_line(struct fmt *f, int depth, uint32_t start)
{
	if (f->n_lines == f->cap_lines) {
		f->cap_lines = f->cap_lines ? f->cap_lines * 2 : 64;
		f->lines = xrealloc(f->lines, f->cap_lines * sizeof *f->lines);
	}
	struct fmt_line *line = &f->lines[f->n_lines++];
	memset(line, 0, sizeof *line);
	line->depth = depth;
	line->blank_before = !f->no_blank && f->n_lines > 1 && blank_between(f, f->last_end, start);
	f->no_blank = false;
	return line;
}

static char *comment_text(const struct fmt *f, const struct ast_comment *c)
{
	uint32_t end = c->at.end;
	while (end > c->at.start && (f->text[end - 1] == ' ' || f->text[end - 1] == '\t' ||
	                             f->text[end - 1] == '\r'))
		end--;
	return xstrndup(f->text + c->at.start, end - c->at.start);
}

/* Emits, each on its own line, the comments that start before `offset`. */
static void flush_comments(struct fmt *f, uint32_t offset, int depth)
{
	while (f->comment && f->comment->at.start < offset) {
		struct fmt_line *line = add_line(f, depth, f->comment->at.start);
		line->comment = comment_text(f, f->comment);
		f->last_end = f->comment->at.end;
		f->comment = f->comment->next;
	}
}

/* Emits the code built in f->code as a line for the source range [start, end), with the comments
 * before it and a trailing comment on the same source line after it. */
static void emit(struct fmt *f, int depth, uint32_t start, uint32_t end)
{
	flush_comments(f, end, depth);
	struct fmt_line *line = add_line(f, depth, start);
	line->code = buf_detach(&f->code);
	f->last_end = end;
	uint32_t limit = f->trailing_before;
	f->trailing_before = UINT32_MAX;
	if (f->comment && f->comment->at.start < limit && !newline_between(f, end, f->comment->at.start)) {
		line->comment = comment_text(f, f->comment);
		f->last_end = f->comment->at.end;
		f->comment = f->comment->next;
	}
}

/* Pieces of a line. */

/* Characters that change how text displays without being seen (C1 controls, bidirectional
 * overrides and isolates): fmt writes them as escapes, so a reviewer sees them. */
static bool is_invisible(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
	       cp == 0x200E || cp == 0x200F || cp == 0x061C || cp == 0xFEFF;
}

static void put_string(struct buf *b, const char *s, size_t len)
{
	buf_putc(b, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': buf_puts(b, "\\\""); break;
		case '\\': buf_puts(b, "\\\\"); break;
		case '\n': buf_puts(b, "\\n"); break;
		case '\t': buf_puts(b, "\\t"); break;
		case '\r': buf_puts(b, "\\r"); break;
		default:
			if (c < 0x20 || c == 0x7f) {
				buf_printf(b, "\\u{%X}", c);
			} else if (c >= 0x80) {
				uint32_t cp = 0;
				size_t n = utf8_decode(s + i, len - i, &cp);
				if (n == 0)
					n = 1; /* cannot happen: the parser refused invalid UTF-8 */
				if (is_invisible(cp))
					buf_printf(b, "\\u{%X}", cp);
				else
					buf_append(b, s + i, n);
				i += n - 1;
			} else {
				buf_putc(b, (char)c);
			}
		}
	}
	buf_putc(b, '"');
}

static void put_name(struct fmt *f, struct ast_name name)
{
	buf_putc(&f->code, ' ');
	if (ast_name_is_bare(name.text, name.len))
		buf_append(&f->code, name.text, name.len);
	else
		put_string(&f->code, name.text, name.len);
}

static void put_names(struct fmt *f, struct ast_names names)
{
	for (const struct ast_name_node *n = names.head; n; n = n->next)
		put_name(f, n->name);
}

static void put_word(struct fmt *f, const char *word)
{
	if (f->code.len)
		buf_putc(&f->code, ' ');
	buf_puts(&f->code, word);
}

static void put_source(struct fmt *f, struct src_range r)
{
	buf_putc(&f->code, ' ');
	buf_append(&f->code, f->text + r.start, r.end - r.start);
}

static void put_number(struct fmt *f, struct ast_number n)
{
	buf_printf(&f->code, " %lld", (long long)n.value);
}

/* Statements. */

static void fmt_adapter(struct fmt *f, const struct ast_adapter *a, int depth, uint32_t start)
{
	put_word(f, "adapter");
	put_name(f, a->kind);
	if (!a->has_block) {
		emit(f, depth, start, a->at.end);
		return;
	}
	buf_puts(&f->code, " {");
	f->trailing_before = a->settings ? a->settings->at.start : a->at.end - 1;
	emit(f, depth, start, a->open_brace.end);
	f->no_blank = true;
	for (const struct ast_setting *s = a->settings; s; s = s->next) {
		put_word(f, s->key.text);
		switch (s->value.kind) {
		case AST_VALUE_STRING:
			buf_putc(&f->code, ' ');
			put_string(&f->code, s->value.string.text, s->value.string.len);
			break;
		case AST_VALUE_NAME: put_name(f, s->value.name); break;
		case AST_VALUE_NUMBER: put_number(f, s->value.number); break;
		case AST_VALUE_DURATION: put_source(f, s->value.duration.at); break;
		}
		emit(f, depth + 1, s->at.start, s->at.end);
	}
	uint32_t close = a->at.end - 1;
	flush_comments(f, close, depth + 1);
	f->no_blank = true;
	put_word(f, "}");
	emit(f, depth, close, a->at.end);
}

static void fmt_step(struct fmt *f, const struct ast_step *s)
{
	put_word(f, "step");
	put_word(f, ast_step_names[s->kind]);
	switch (s->kind) {
	case AST_STEP_SYNC:
	case AST_STEP_FAILOVER:
	case AST_STEP_REVERSE:
		put_word(f, "storage");
		break;
	case AST_STEP_SHUTDOWN:
	case AST_STEP_REGISTER:
	case AST_STEP_UNREGISTER:
		put_word(f, "vms");
		if (s->site.text) {
			put_word(f, "at");
			put_name(f, s->site);
		}
		break;
	case AST_STEP_PREFER:
		put_name(f, s->site);
		break;
	case AST_STEP_MIGRATE:
		put_word(f, "live");
		break;
	case AST_STEP_POWER_ON:
		put_word(f, "vms");
		if (s->by_priority)
			put_word(f, "by priority");
		break;
	case AST_STEP_RUN:
	case AST_STEP_PROMPT:
		buf_putc(&f->code, ' ');
		put_string(&f->code, s->text.text, s->text.len);
		if (s->per_workgroup)
			put_word(f, "per workgroup");
		break;
	case AST_STEP_WAIT:
		put_source(f, s->wait.at);
		break;
	case AST_STEP_DISCARD:
		put_word(f, "snapshots");
		break;
	}
	if (s->timeout.present) {
		put_word(f, "timeout");
		put_source(f, s->timeout.at);
	}
	if (s->retries.present) {
		put_word(f, "retry");
		put_number(f, s->retries);
	}
	if (s->backoff.present) {
		put_word(f, "backoff");
		put_source(f, s->backoff.at);
	}
}

static void fmt_stmt(struct fmt *f, const struct ast_stmt *s)
{
	switch (s->kind) {
	case AST_STMT_ROUTE:
		put_word(f, "from");
		put_name(f, s->u.route.from);
		put_word(f, "to");
		put_name(f, s->u.route.to);
		break;
	case AST_STMT_MODE:
		put_word(f, "mode");
		put_word(f, ast_mode_names[s->u.mode.mode]);
		break;
	case AST_STMT_PROTECT:
		put_word(f, "protect");
		put_names(f, s->u.protect);
		break;
	case AST_STMT_WORKGROUP:
		put_word(f, "workgroup");
		put_number(f, s->u.workgroup);
		break;
	case AST_STMT_LIMIT:
		put_word(f, "limit");
		put_word(f, s->u.limit.operation.text);
		put_number(f, s->u.limit.count);
		if (s->u.limit.scope.text) {
			put_word(f, "per");
			put_word(f, s->u.limit.scope.text);
		}
		break;
	case AST_STMT_RTO:
		put_word(f, "rto");
		put_source(f, s->u.rto.at);
		break;
	case AST_STMT_STEP:
		fmt_step(f, &s->u.step);
		break;
	}
	emit(f, 1, s->at.start, s->at.end);
}

/* Ends the header line of a block `{ ... }`, whose words are already in f->code. */
static void open_block(struct fmt *f, const struct ast_item *item, uint32_t body_start)
{
	/* A comment after a statement written on the '{' line belongs to that statement. */
	f->trailing_before = body_start;
	buf_puts(&f->code, " {");
	emit(f, 0, item->at.start, item->open_brace.end);
	f->no_blank = true;
}

static void close_block(struct fmt *f, const struct ast_item *item)
{
	flush_comments(f, item->close_brace.start, 1);
	f->no_blank = true;
	put_word(f, "}");
	emit(f, 0, item->close_brace.start, item->close_brace.end);
}

static bool has_comment_within(const struct fmt *f, struct src_range r)
{
	for (const struct ast_comment *c = f->comment; c && c->at.start < r.end; c = c->next)
		if (c->at.start >= r.start)
			return true;
	return false;
}

/* A site with a single `adapter KIND` and no comments inside fits on one line, as does a protection
 * group with a single `devices` line: `site east { adapter sim }`. */
static bool fits_one_line(const struct fmt *f, const struct ast_item *item)
{
	struct src_range inside = src_range_make(item->at.file, item->open_brace.start, item->close_brace.end);
	if (has_comment_within(f, inside))
		return false;
	if (item->kind == AST_SITE)
		return item->u.site_adapters && !item->u.site_adapters->next && !item->u.site_adapters->has_block;
	return item->u.protection && !item->u.protection->next;
}

static void fmt_device(struct fmt *f, const struct ast_item *item)
{
	const struct ast_device *d = &item->u.device;
	put_word(f, "device");
	put_name(f, item->name);
	if (d->kind == AST_DEVICE_REPLICATED) {
		put_word(f, "at");
		put_name(f, d->site);
		put_word(f, "replicated to");
		put_name(f, d->peer);
		put_word(f, "at");
		put_name(f, d->peer_site);
		if (d->consistency.text) {
			put_word(f, "consistency");
			put_name(f, d->consistency);
		}
	} else {
		put_word(f, "stretched between");
		put_name(f, d->site);
		put_word(f, "and");
		put_name(f, d->peer_site);
		put_word(f, "prefer");
		put_name(f, d->prefer);
	}
	if (d->adapter)
		fmt_adapter(f, d->adapter, 0, item->at.start);
	else
		emit(f, 0, item->at.start, item->at.end);
}

static void fmt_vm(struct fmt *f, const struct ast_item *item)
{
	put_word(f, "vm");
	put_name(f, item->name);
	for (const struct ast_vm_clause *c = item->u.vm; c; c = c->next) {
		switch (c->kind) {
		case AST_VM_PRIORITY:
			put_word(f, "priority");
			put_number(f, c->priority);
			break;
		case AST_VM_AFTER:
			put_word(f, "after");
			put_names(f, c->names);
			break;
		case AST_VM_ON:
			put_word(f, "on");
			put_names(f, c->names);
			break;
		case AST_VM_HOST:
			put_word(f, "host");
			put_name(f, c->host);
			break;
		}
	}
	emit(f, 0, item->at.start, item->at.end);
}

static void fmt_item(struct fmt *f, const struct ast_item *item)
{
	switch (item->kind) {
	case AST_INCLUDE:
	case AST_INVENTORY:
		put_word(f, item->kind == AST_INCLUDE ? "include" : "inventory");
		buf_putc(&f->code, ' ');
		put_string(&f->code, item->u.path.text, item->u.path.len);
		emit(f, 0, item->at.start, item->at.end);
		break;
	case AST_SITE:
	case AST_PROTECTION:
		put_word(f, item->kind == AST_SITE ? "site" : "protection");
		put_name(f, item->name);
		if (fits_one_line(f, item)) {
			if (item->kind == AST_SITE) {
				put_word(f, "{ adapter");
				put_name(f, item->u.site_adapters->kind);
			} else {
				put_word(f, "{ devices");
				put_names(f, item->u.protection->devices);
			}
			put_word(f, "}");
			emit(f, 0, item->at.start, item->at.end);
			break;
		}
		open_block(f, item, item->kind == AST_SITE
		                        ? (item->u.site_adapters ? item->u.site_adapters->at.start : item->close_brace.start)
		                        : (item->u.protection ? item->u.protection->at.start : item->close_brace.start));
		if (item->kind == AST_SITE) {
			for (const struct ast_adapter *a = item->u.site_adapters; a; a = a->next)
				fmt_adapter(f, a, 1, a->at.start);
		} else {
			for (const struct ast_devices_stmt *s = item->u.protection; s; s = s->next) {
				put_word(f, "devices");
				put_names(f, s->devices);
				emit(f, 1, s->at.start, s->at.end);
			}
		}
		close_block(f, item);
		break;
	case AST_DEVICE:
		fmt_device(f, item);
		break;
	case AST_VM:
		fmt_vm(f, item);
		break;
	case AST_PLAN:
		put_word(f, "plan");
		put_name(f, item->name);
		open_block(f, item, item->u.plan ? item->u.plan->at.start : item->close_brace.start);
		for (const struct ast_stmt *s = item->u.plan; s; s = s->next)
			fmt_stmt(f, s);
		close_block(f, item);
		break;
	}
}

static size_t display_width(const char *s)
{
	return utf8_count(s, strlen(s));
}

/* Renders the lines. Trailing comments on consecutive lines are aligned one space after the
 * longest code of the run, as gofmt aligns them. */
static void render(struct buf *out, const struct fmt *f)
{
	size_t i = 0;
	while (i < f->n_lines) {
		size_t run_end = i + 1;
		size_t column = 0;
		const struct fmt_line *line = &f->lines[i];
		if (line->code && line->comment) {
			column = line->depth * FMT_INDENT + display_width(line->code);
			while (run_end < f->n_lines && f->lines[run_end].code && f->lines[run_end].comment &&
			       !f->lines[run_end].blank_before) {
				size_t w = f->lines[run_end].depth * FMT_INDENT + display_width(f->lines[run_end].code);
				if (w > column)
					column = w;
				run_end++;
			}
		}
		for (size_t k = i; k < run_end; k++) {
			line = &f->lines[k];
			if (line->blank_before)
				buf_putc(out, '\n');
			buf_repeat(out, ' ', (size_t)line->depth * FMT_INDENT);
			if (line->code) {
				buf_puts(out, line->code);
				if (line->comment) {
					buf_repeat(out, ' ', column + 1 - line->depth * FMT_INDENT -
					                         display_width(line->code));
					buf_puts(out, line->comment);
				}
			} else {
				buf_puts(out, line->comment);
			}
			buf_putc(out, '\n');
		}
		i = run_end;
	}
}

void fmt_file(struct buf *out, const struct ast_file *file)
{
	struct fmt f;
	memset(&f, 0, sizeof f);
	f.file = file;
	f.text = file->src->text;
	f.comment = file->comments;
	f.no_blank = true;
	f.trailing_before = UINT32_MAX;
	for (const struct ast_item *item = file->items; item; item = item->next)
		fmt_item(&f, item);
	flush_comments(&f, UINT32_MAX, 0);
	render(out, &f);
	for (size_t i = 0; i < f.n_lines; i++) {
		free(f.lines[i].code);
		free(f.lines[i].comment);
	}
	free(f.lines);
	buf_free(&f.code);
}
