/* yamlread.c: the pull reader of drplan's small YAML files and the words all its YAML readers
 * share (yamlread.h). */
#include "yamlread.h"

#include <stdarg.h>
#include <string.h>

void yaml_quote(struct buf *b, const char *text, size_t len)
{
	bool cut = len > YAML_QUOTE_MAX;
	if (cut) {
		len = YAML_QUOTE_MAX;
		while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
			len--; /* not in the middle of a character */
	}
	buf_putc(b, '\'');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c < 0x20 || c == 0x7F)
			buf_printf(b, "\\x%02X", c);
		else
			buf_putc(b, (char)c);
	}
	buf_puts(b, cut ? "...'" : "'");
}

bool yaml_is_null(const yaml_event_t *ev)
{
	if (ev->type != YAML_SCALAR_EVENT)
		return false;
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	return n == 0 || (n == 1 && v[0] == '~') ||
	       (n == 4 && (!memcmp(v, "null", 4) || !memcmp(v, "Null", 4) || !memcmp(v, "NULL", 4)));
}

void yaml_word_list(struct buf *b, const char *const *words, const char *last)
{
	for (size_t i = 0; words[i]; i++)
		buf_printf(b, "%s%s", i ? (words[i + 1] ? ", " : last) : "", words[i]);
}

/* ---- The pull reader */

bool yaml_reader_open(struct yaml_reader *r, const struct src_file *src, struct diag_list *diags,
                      const struct yaml_reader_names *names)
{
	memset(r, 0, sizeof *r);
	r->src = src;
	r->diags = diags;
	r->names = names;
	yaml_pos_init(&r->pos, src);
	if (!yaml_parser_initialize(&r->yaml)) {
		diag_add(diags, DIAG_ERROR, names->rule, src_range_make(src->id, 0, 0),
		         "cannot start the YAML reader: out of memory");
		r->errors++;
		r->stop = true;
		return false;
	}
	r->open = true;
	yaml_parser_set_input_string(&r->yaml, (const unsigned char *)src->text + r->pos.base, src->len - r->pos.base);
	yaml_parser_set_encoding(&r->yaml, YAML_UTF8_ENCODING);
	return true;
}

void yaml_reader_close(struct yaml_reader *r)
{
	if (r->have)
		yaml_event_delete(&r->ev);
	r->have = false;
	if (r->open)
		yaml_parser_delete(&r->yaml);
	r->open = false;
}

struct diag *yaml_vdiag_capped(struct diag_list *diags, unsigned *errors, bool *stop, unsigned max,
                               const char *this_file, enum diag_severity severity, enum diag_rule rule,
                               struct src_range at, const char *fmt, va_list ap)
{
	if (*stop)
		return NULL;
	if (severity == DIAG_ERROR && (*errors)++ == max) {
		diag_add(diags, DIAG_ERROR, DRP013, at, "too many errors in %s (%u); stopping here", this_file, max);
		*stop = true;
		return NULL;
	}
	return diag_vadd(diags, severity, rule, at, fmt, ap);
}

struct diag *yaml_reader_diag(struct yaml_reader *r, enum diag_severity severity, struct src_range at,
                              const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct diag *d = yaml_vdiag_capped(r->diags, &r->errors, &r->stop, r->names->max_errors, r->names->this_file,
	                                   severity, r->names->rule, at, fmt, ap);
	va_end(ap);
	return d;
}

static struct src_range char_at(struct yaml_reader *r, yaml_mark_t mark)
{
	return yaml_pos_char(&r->pos, yaml_pos_offset(&r->pos, mark));
}

/* libyaml's error, at its position. */
static void syntax_error(struct yaml_reader *r)
{
	yaml_parser_t *y = &r->yaml;
	struct src_range at;
	if (y->error == YAML_READER_ERROR) {
		size_t raw = r->pos.base + y->problem_offset;
		at = yaml_pos_char(&r->pos, (uint32_t)(raw < r->src->len ? raw : r->src->len));
	} else {
		at = char_at(r, y->problem_mark);
	}
	struct diag *d = yaml_reader_error(r, at, "invalid YAML: %s", y->problem ? y->problem : "out of memory");
	if (d && y->context && y->error != YAML_READER_ERROR)
		diag_note(d, char_at(r, y->context_mark), "%s", y->context);
	r->stop = true;
}

bool yaml_reader_next(struct yaml_reader *r)
{
	if (r->have)
		yaml_event_delete(&r->ev);
	r->have = false;
	if (r->stop)
		return false;
	if (!yaml_parser_parse(&r->yaml, &r->ev)) {
		syntax_error(r);
		return false;
	}
	r->have = true;
	return true;
}

bool yaml_reader_plain(struct yaml_reader *r)
{
	const yaml_event_t *ev = &r->ev;
	const yaml_char_t *anchor = NULL, *tag = NULL;
	bool implicit = false;
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		yaml_reader_error(r, yaml_reader_at(r), "YAML aliases are not allowed %s", r->names->in_file);
		r->stop = true;
		return false;
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		implicit = ev->data.scalar.plain_implicit; /* a plain scalar's implicit tag is not written */
		break;
	case YAML_MAPPING_START_EVENT: anchor = ev->data.mapping_start.anchor; tag = ev->data.mapping_start.tag; break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		break;
	default: return true;
	}
	if (anchor) {
		yaml_reader_error(r, char_at(r, ev->start_mark), "YAML anchors are not allowed %s", r->names->in_file);
		r->stop = true;
		return false;
	}
	if (tag && !implicit)
		yaml_reader_error(r, char_at(r, ev->start_mark), "YAML tags are not allowed %s", r->names->in_file);
	return true;
}

void yaml_reader_skip(struct yaml_reader *r)
{
	if (r->ev.type != YAML_MAPPING_START_EVENT && r->ev.type != YAML_SEQUENCE_START_EVENT)
		return;
	for (size_t depth = 1; depth > 0;) {
		if (!yaml_reader_next(r))
			return;
		if (r->ev.type == YAML_MAPPING_START_EVENT || r->ev.type == YAML_SEQUENCE_START_EVENT)
			depth++;
		else if (r->ev.type == YAML_MAPPING_END_EVENT || r->ev.type == YAML_SEQUENCE_END_EVENT)
			depth--;
	}
}

struct src_range yaml_reader_at(struct yaml_reader *r)
{
	uint32_t start = yaml_pos_offset(&r->pos, r->ev.start_mark);
	if (r->ev.type != YAML_SCALAR_EVENT && r->ev.type != YAML_ALIAS_EVENT)
		return yaml_pos_char(&r->pos, start);
	uint32_t end = yaml_pos_offset(&r->pos, r->ev.end_mark);
	return src_range_make(r->src->id, start, end < start ? start : end);
}

void yaml_reader_describe(struct yaml_reader *r, struct buf *b)
{
	if (r->ev.type == YAML_SEQUENCE_START_EVENT)
		buf_puts(b, "a list");
	else if (r->ev.type == YAML_MAPPING_START_EVENT)
		buf_puts(b, "a mapping");
	else if (!yaml_reader_scalar(r))
		buf_puts(b, "an empty value");
	else
		yaml_quote(b, (const char *)r->ev.data.scalar.value, r->ev.data.scalar.length);
}

bool yaml_reader_scalar(const struct yaml_reader *r)
{
	return r->ev.type == YAML_SCALAR_EVENT && r->ev.data.scalar.length > 0;
}

void yaml_reader_expected(struct yaml_reader *r, const char *what, const char *field, const char *hint)
{
	struct buf b = BUF_INIT;
	yaml_reader_describe(r, &b);
	struct diag *d = yaml_reader_error(r, yaml_reader_at(r), "expected %s for '%s', found %s", what, field, b.data);
	if (d && hint)
		diag_hint(d, "%s", hint);
	buf_free(&b);
	yaml_reader_skip(r);
}

void yaml_reader_document(struct yaml_reader *r, void (*read_root)(void *ctx), void *ctx, const char *root,
                          const char *hint)
{
	if (!yaml_reader_next(r) || r->ev.type != YAML_STREAM_START_EVENT)
		return;
	if (!yaml_reader_next(r) || r->ev.type == YAML_STREAM_END_EVENT)
		return; /* an empty file */
	/* DOCUMENT_START; then the root node. */
	if (!yaml_reader_next(r) || !yaml_reader_plain(r))
		return;
	if (r->ev.type == YAML_MAPPING_START_EVENT) {
		read_root(ctx);
	} else if (!(r->ev.type == YAML_SCALAR_EVENT && r->ev.data.scalar.length == 0)) {
		struct buf b = BUF_INIT;
		yaml_reader_describe(r, &b);
		struct diag *d = yaml_reader_error(r, yaml_reader_at(r), "%s is %s, found %s", r->names->file, root, b.data);
		if (d)
			diag_hint(d, "%s", hint);
		buf_free(&b);
		yaml_reader_skip(r);
	}
	if (!yaml_reader_next(r)) /* DOCUMENT_END */
		return;
	if (yaml_reader_next(r) && r->ev.type == YAML_DOCUMENT_START_EVENT) {
		uint32_t start = yaml_pos_offset(&r->pos, r->ev.start_mark), end = yaml_pos_offset(&r->pos, r->ev.end_mark);
		struct diag *d = yaml_reader_error(r, src_range_make(r->src->id, start, end < start ? start : end),
		                                   "a second YAML document; %s is one document", r->names->file);
		if (d)
			diag_hint(d, "remove the '---' and everything after it");
	}
}
