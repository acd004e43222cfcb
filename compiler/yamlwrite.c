/* yamlwrite.c: the YAML writer of yamlwrite.h. It keeps the state libyaml's emitter keeps (the
 * column, whether the last thing written was whitespace or indentation, the indentation and the
 * open collections) and takes the same decisions from it, so that a file reads and diffs the same
 * whichever wrote it; the scalar analysis follows the YAML 1.1 rules libyaml applies (which
 * indicators forbid a plain scalar where, which characters need escapes). */
#include "yamlwrite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum yw_kind { YW_BLOCK_MAP, YW_BLOCK_SEQ, YW_FLOW_MAP, YW_FLOW_SEQ };

/* A key longer than this is not simple: libyaml writes it after '?'. */
#define YW_SIMPLE_KEY_MAX 128

void yw_init(struct yw *w, yw_sink sink, void *ctx)
{
	memset(w, 0, sizeof *w);
	w->sink = sink;
	w->ctx = ctx;
	w->indent = -1;
	w->whitespace = true;
	w->indention = true;
}

static void flush(struct yw *w)
{
	if (w->len)
		w->sink(w->ctx, w->buf, w->len);
	w->len = 0;
}

static void put(struct yw *w, const char *s, size_t n)
{
	if (w->len + n > sizeof w->buf) {
		flush(w);
		if (n > sizeof w->buf) {
			w->sink(w->ctx, s, n);
			w->column += n;
			return;
		}
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->column += n;
}

static void put_char(struct yw *w, char c)
{
	if (w->len == sizeof w->buf)
		flush(w);
	w->buf[w->len++] = c;
	w->column++;
}

/* A new line at the current indentation, unless the writer is already there. */
static void write_indent(struct yw *w)
{
	size_t indent = w->indent >= 0 ? (size_t)w->indent : 0;
	if (!w->indention || w->column > indent || (w->column == indent && !w->whitespace)) {
		put_char(w, '\n');
		w->column = 0;
	}
	while (w->column < indent)
		put_char(w, ' ');
	w->whitespace = true;
	w->indention = true;
}

static void write_indicator(struct yw *w, const char *s, bool need_whitespace, bool is_whitespace,
                            bool is_indention)
{
	if (need_whitespace && !w->whitespace)
		put_char(w, ' ');
	put(w, s, strlen(s));
	w->whitespace = is_whitespace;
	w->indention = w->indention && is_indention;
}

static void increase_indent(struct yw *w, bool flow, bool indentless)
{
	if (w->indent < 0)
		w->indent = flow ? 2 : 0;
	else if (!indentless)
		w->indent += 2;
}

/* ---- Scalars */

/* The length of the UTF-8 sequence that starts with byte b. */
static size_t width(unsigned char b)
{
	return (b & 0x80) == 0 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
}

/* The character at u (n bytes left): YAML's printable set as libyaml tests it on the encoding. */
static bool printable(const unsigned char *u, size_t n)
{
	unsigned char b0 = u[0], b1 = n > 1 ? u[1] : 0, b2 = n > 2 ? u[2] : 0;
	return b0 == 0x0A || (b0 >= 0x20 && b0 <= 0x7E) || (b0 == 0xC2 && b1 >= 0xA0) || (b0 > 0xC2 && b0 < 0xED) ||
	       (b0 == 0xED && b1 < 0xA0) || b0 == 0xEE ||
	       (b0 == 0xEF && !(b1 == 0xBB && b2 == 0xBF) && !(b1 == 0xBF && (b2 == 0xBE || b2 == 0xBF)));
}

static bool is_break(const unsigned char *u, size_t n)
{
	return u[0] == '\r' || u[0] == '\n' || (u[0] == 0xC2 && n > 1 && u[1] == 0x85) ||
	       (u[0] == 0xE2 && n > 2 && u[1] == 0x80 && (u[2] == 0xA8 || u[2] == 0xA9));
}

static bool is_bom(const unsigned char *u, size_t n)
{
	return n > 2 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF;
}

/* A blank, a break or the end (n == 0). */
static bool blankz(const unsigned char *u, size_t n)
{
	return n == 0 || u[0] == ' ' || u[0] == '\t' || is_break(u, n);
}

struct analysis {
	bool multiline, flow_plain, block_plain, single_quoted;
};

static bool isalnum_ascii(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Letters, digits, '-', '_', '.', '/': nowhere an indicator. */
static bool quiet(unsigned char c)
{
	return isalnum_ascii(c) || c == '-' || c == '_' || c == '.' || c == '/';
}

static struct analysis analyze(const char *s, size_t n)
{
	struct analysis a = {false, false, true, true};
	if (n == 0)
		return a;
	const unsigned char *u = (const unsigned char *)s;
	/* Nearly every name and id: a letter or digit first (so no "---", "...", "- "), then quiet
	 * characters only. Plain anywhere. */
	size_t q = 0;
	if (isalnum_ascii(u[0]))
		while (q < n && quiet(u[q]))
			q++;
	if (q == n)
		return (struct analysis){false, true, true, true};
	bool block_ind = false, flow_ind = false, breaks = false, special = false;
	bool leading_space = false, leading_break = false, trailing_space = false, trailing_break = false;
	bool break_space = false, space_break = false, previous_space = false, previous_break = false;
	if (n >= 3 && ((u[0] == '-' && u[1] == '-' && u[2] == '-') || (u[0] == '.' && u[1] == '.' && u[2] == '.')))
		block_ind = flow_ind = true;
	bool preceded_by_ws = true;
	size_t w0 = width(u[0]);
	bool followed_by_ws = blankz(u + w0, w0 < n ? n - w0 : 0);
	for (size_t i = 0; i < n;) {
		const unsigned char *c = u + i;
		size_t left = n - i, k = width(*c);
		if (k > left)
			k = left;
		if (i == 0) {
			if (*c && strchr("#,[]{}&*!|>'\"%@`", *c))
				flow_ind = block_ind = true;
			if (*c == '?' || *c == ':') {
				flow_ind = true;
				if (followed_by_ws)
					block_ind = true;
			}
			if (*c == '-' && followed_by_ws)
				flow_ind = block_ind = true;
		} else {
			if (*c && strchr(",?[]{}", *c))
				flow_ind = true;
			if (*c == ':') {
				flow_ind = true;
				if (followed_by_ws)
					block_ind = true;
			}
			if (*c == '#' && preceded_by_ws)
				flow_ind = block_ind = true;
		}
		if (!printable(c, left))
			special = true;
		bool brk = is_break(c, left);
		if (brk)
			breaks = true;
		if (*c == ' ') {
			leading_space |= i == 0;
			trailing_space |= i + k == n;
			break_space |= previous_break;
			previous_space = true;
			previous_break = false;
		} else if (brk) {
			leading_break |= i == 0;
			trailing_break |= i + k == n;
			space_break |= previous_space;
			previous_space = false;
			previous_break = true;
		} else {
			previous_space = previous_break = false;
		}
		preceded_by_ws = blankz(c, left);
		i += k;
		if (i < n) {
			size_t kn = width(u[i]);
			followed_by_ws = blankz(u + i + kn, i + kn < n ? n - i - kn : 0);
		}
	}
	a.multiline = breaks;
	a.flow_plain = a.block_plain = true;
	if (leading_space || leading_break || trailing_space || trailing_break)
		a.flow_plain = a.block_plain = false;
	if (break_space || space_break || special)
		a.flow_plain = a.block_plain = a.single_quoted = false;
	if (breaks)
		a.flow_plain = a.block_plain = false;
	if (flow_ind)
		a.flow_plain = false;
	if (block_ind)
		a.block_plain = false;
	return a;
}

static void write_plain(struct yw *w, const char *s, size_t n)
{
	if (!w->whitespace && (n || w->flow_level))
		put_char(w, ' ');
	put(w, s, n);
	w->whitespace = false;
	w->indention = false;
}

static void write_single_quoted(struct yw *w, const char *s, size_t n)
{
	write_indicator(w, "'", true, false, false);
	size_t from = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\'') {
			put(w, s + from, i + 1 - from); /* the quote, and then its double */
			from = i;
		}
	put(w, s + from, n - from);
	write_indicator(w, "'", false, false, false);
}

static void write_escape(struct yw *w, const unsigned char *c, size_t k)
{
	uint32_t v = k == 1 ? c[0]
	           : k == 2 ? (uint32_t)(c[0] & 0x1F) << 6 | (c[1] & 0x3F)
	           : k == 3 ? (uint32_t)(c[0] & 0x0F) << 12 | (uint32_t)(c[1] & 0x3F) << 6 | (c[2] & 0x3F)
	                    : (uint32_t)(c[0] & 0x07) << 18 | (uint32_t)(c[1] & 0x3F) << 12 |
	                          (uint32_t)(c[2] & 0x3F) << 6 | (c[3] & 0x3F);
	static const struct {
		uint32_t v;
		char e;
	} named[] = {{0x00, '0'}, {0x07, 'a'}, {0x08, 'b'}, {0x09, 't'}, {0x0A, 'n'}, {0x0B, 'v'}, {0x0C, 'f'},
	             {0x0D, 'r'}, {0x1B, 'e'}, {0x22, '"'}, {0x5C, '\\'}, {0x85, 'N'}, {0xA0, '_'}, {0x2028, 'L'},
	             {0x2029, 'P'}};
	put_char(w, '\\');
	for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
		if (named[i].v == v) {
			put_char(w, named[i].e);
			return;
		}
	int digits = v <= 0xFF ? 2 : v <= 0xFFFF ? 4 : 8;
	put_char(w, digits == 2 ? 'x' : digits == 4 ? 'u' : 'U');
	for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4)
		put_char(w, "0123456789ABCDEF"[(v >> shift) & 0x0F]);
}

static void write_double_quoted(struct yw *w, const char *s, size_t n)
{
	write_indicator(w, "\"", true, false, false);
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t left = n - i, k = width(u[i]);
		if (k > left)
			k = left;
		if (!printable(u + i, left) || is_bom(u + i, left) || is_break(u + i, left) || u[i] == '"' || u[i] == '\\')
			write_escape(w, u + i, k);
		else
			put(w, s + i, k);
		i += k;
	}
	write_indicator(w, "\"", false, false, false);
}

/* ---- Structure */

/* Before a node: a pending block collection opens, and the node takes its place in the one it
 * belongs to (a sequence's item, a mapping's key or value). `simple`: the node could be a simple
 * key (a scalar of one line, at most YW_SIMPLE_KEY_MAX bytes). Returns whether it is a mapping's
 * simple key. */
static bool open_pending(struct yw *w);

static bool before_node(struct yw *w, bool simple)
{
	open_pending(w);
	if (w->depth == 0)
		return false;
	struct yw_level *l = &w->stack[w->depth - 1];
	switch ((enum yw_kind)l->kind) {
	case YW_BLOCK_SEQ:
		write_indent(w);
		write_indicator(w, "-", true, false, true);
		l->first = false;
		return false;
	case YW_FLOW_SEQ:
		if (!l->first)
			write_indicator(w, ",", false, false, false);
		l->first = false;
		return false;
	case YW_BLOCK_MAP:
		if (l->at_value) {
			write_indicator(w, ":", false, false, false);
			l->at_value = false;
			return false;
		}
		write_indent(w);
		l->first = false;
		l->at_value = true;
		return true;
	case YW_FLOW_MAP:
		if (l->at_value) {
			write_indicator(w, ":", !l->simple, false, false);
			l->at_value = false;
			return false;
		}
		if (!l->first)
			write_indicator(w, ",", false, false, false);
		l->first = false;
		l->at_value = true;
		l->simple = simple;
		if (!l->simple)
			write_indicator(w, "?", true, false, false);
		return l->simple;
	}
	return false;
}

static void push(struct yw *w, enum yw_kind kind)
{
	if (w->depth == YW_DEPTH) {
		fprintf(stderr, "drplan: internal error: YAML nested deeper than %d\n", YW_DEPTH);
		abort();
	}
	w->stack[w->depth++] = (struct yw_level){(uint8_t)kind, true, false, false, w->indent};
}

static void start_flow(struct yw *w, bool map)
{
	write_indicator(w, map ? "{" : "[", true, true, false);
	push(w, map ? YW_FLOW_MAP : YW_FLOW_SEQ);
	increase_indent(w, true, false);
	w->flow_level++;
}

static bool open_pending(struct yw *w)
{
	if (!w->pending)
		return false;
	w->pending = false;
	struct yw_level *l = &w->stack[w->depth - 1];
	/* A sequence that is a block mapping's value, right after its key, is not indented. */
	const struct yw_level *parent = w->depth >= 2 ? &w->stack[w->depth - 2] : NULL;
	bool indentless = l->kind == YW_BLOCK_SEQ && parent && parent->kind == YW_BLOCK_MAP && !w->indention;
	increase_indent(w, false, indentless);
	return true;
}

static void start(struct yw *w, bool flow, bool map)
{
	before_node(w, false);
	if (flow || w->flow_level) {
		start_flow(w, map);
		return;
	}
	push(w, map ? YW_BLOCK_MAP : YW_BLOCK_SEQ);
	w->pending = true;
}

void yw_map(struct yw *w, bool flow)
{
	start(w, flow, true);
}

void yw_seq(struct yw *w, bool flow)
{
	start(w, flow, false);
}

void yw_end(struct yw *w)
{
	if (w->depth == 0)
		return;
	struct yw_level *l = &w->stack[w->depth - 1];
	if (w->pending) {
		/* Empty: libyaml writes it in flow style. */
		w->pending = false;
		bool map = l->kind == YW_BLOCK_MAP;
		w->depth--;
		write_indicator(w, map ? "{" : "[", true, true, false);
		write_indicator(w, map ? "}" : "]", false, false, false);
		return;
	}
	w->indent = l->indent;
	w->depth--;
	if (l->kind == YW_FLOW_MAP || l->kind == YW_FLOW_SEQ) {
		w->flow_level--;
		write_indicator(w, l->kind == YW_FLOW_MAP ? "}" : "]", false, false, false);
	}
}

void yw_scalar(struct yw *w, const char *s, size_t n, enum yw_style style)
{
	struct analysis a = analyze(s, n);
	bool simple_key = before_node(w, n <= YW_SIMPLE_KEY_MAX && !a.multiline);
	if (style == YW_ANY)
		style = YW_PLAIN;
	if (simple_key && a.multiline)
		style = YW_DOUBLE;
	if (style == YW_PLAIN) {
		if ((w->flow_level && !a.flow_plain) || (!w->flow_level && !a.block_plain))
			style = YW_SINGLE;
		if (n == 0 && (w->flow_level || simple_key))
			style = YW_SINGLE;
	}
	/* libyaml would write a multi-line text single-quoted, folded over lines; escaped it stays on
	 * one (the callers escape line breaks anyway). */
	if (style == YW_SINGLE && (!a.single_quoted || a.multiline))
		style = YW_DOUBLE;
	if (style == YW_PLAIN)
		write_plain(w, s, n);
	else if (style == YW_SINGLE)
		write_single_quoted(w, s, n);
	else
		write_double_quoted(w, s, n);
}

void yw_finish(struct yw *w)
{
	w->indent = -1;
	write_indent(w);
	flush(w);
}
