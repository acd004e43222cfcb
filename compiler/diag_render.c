/* diag_render.c: the one renderer of diagnostics, as caret-underlined text for people, JSON Lines
 * and SARIF 2.1.0 for tools, and workflow commands for GitHub Actions annotations. */
#include "diag.h"

#include <stdint.h>
#include <string.h>

#include "../lib/utf8.h"

/* Where a finished SARIF log says the tool is documented; the build may point it elsewhere. */
#ifndef DRPLAN_INFORMATION_URI
#define DRPLAN_INFORMATION_URI "https://drplan.invalid/docs/diagnostics.md"
#endif

/* Source lines wider than this many code points are shown as a window around the caret. */
#define WINDOW_COLS 160
/* How much of the window goes before the caret: enough context to read, the rest for the range. */
#define WINDOW_BEFORE 60

#define ANSI_RESET "\033[0m"
#define ANSI_BOLD "\033[1m"
#define ANSI_RED "\033[1;31m"
#define ANSI_GREEN "\033[1;32m"
#define ANSI_MAGENTA "\033[1;35m"
#define ANSI_CYAN "\033[1;36m"

bool diag_format_parse(const char *name, enum diag_format *out)
{
	static const struct {
		const char *name;
		enum diag_format format;
	} formats[] = {
		{"text", DIAG_FORMAT_TEXT},
		{"json", DIAG_FORMAT_JSON},
		{"sarif", DIAG_FORMAT_SARIF},
		{"github", DIAG_FORMAT_GITHUB},
	};
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		if (strcmp(name, formats[i].name) == 0) {
			*out = formats[i].format;
			return true;
		}
	}
	return false;
}

/* A range resolved against its file: offsets clamped to the text (a range past the end, or one
 * whose end precedes its start, still renders), and both ends as lines and columns. */
struct loc {
	struct src_file *file; /* NULL when the range points at no file */
	uint32_t start, end;
	struct src_pos spos, epos;
};

static struct loc loc_resolve(struct src_set *sources, struct src_range r)
{
	struct loc l;
	memset(&l, 0, sizeof l);
	l.file = r.file == SRC_NONE ? NULL : src_get(sources, r.file);
	if (!l.file)
		return l;
	uint32_t len = (uint32_t)l.file->len;
	l.start = r.start < len ? r.start : len;
	l.end = r.end < l.start ? l.start : r.end < len ? r.end : len;
	l.spos = src_position(l.file, l.start);
	l.epos = src_position(l.file, l.end);
	return l;
}

static const char *severity_word(enum diag_severity s)
{
	switch (s) {
	case DIAG_ERROR: return "error";
	case DIAG_WARNING: return "warning";
	case DIAG_NOTE: return "note";
	}
	return "error";
}

/* How a fix-it reads to a person: text at a point is inserted, empty text deletes the range. */
enum fix_kind { FIX_INSERT, FIX_REMOVE, FIX_REPLACE };

static const char *const fix_words[] = {
	[FIX_INSERT] = "insert '", [FIX_REMOVE] = "remove this", [FIX_REPLACE] = "replace with '"};

static enum fix_kind fix_kind(const struct loc *l, const char *fixit)
{
	if (l->file && l->start == l->end)
		return FIX_INSERT;
	return fixit[0] == '\0' ? FIX_REMOVE : FIX_REPLACE;
}

/* ---- shared helpers for text ---- */

/* Bytes of one display cell at s: a valid UTF-8 sequence, or a single invalid byte. This is how
 * utf8_count and so src_position count columns, which keeps carets under their columns. */
static size_t cell_len(const char *s, size_t len)
{
	size_t n = utf8_decode(s, len, NULL);
	return n ? n : 1;
}

/* Code points that would let a plan rewrite the terminal or reorder what the reader sees: C1
 * controls, bidirectional overrides and isolates (Trojan Source), line and paragraph separators. */
static bool hidden_code_point(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

static const char replacement_char[] = "\xef\xbf\xbd"; /* U+FFFD */

/* Writes one cell for a terminal: printable text as is, anything else as U+FFFD, so no byte from a
 * plan reaches the terminal raw. Tabs are kept: the caret line copies them to stay aligned. */
static void put_cell(struct buf *out, const char *s, size_t n)
{
	unsigned char c = (unsigned char)s[0];
	if (n == 1 && (c == '\t' || (c >= 0x20 && c < 0x7f))) {
		buf_putc(out, (char)c);
		return;
	}
	uint32_t cp;
	if (n > 1 && utf8_decode(s, n, &cp) == n && !hidden_code_point(cp))
		buf_append(out, s, n);
	else
		buf_puts(out, replacement_char);
}

/* Message-like text for a terminal, cleaned cell by cell. show_newlines writes a newline as the
 * two characters \n, for a fix-it that inserts a line break. */
static void put_clean(struct buf *out, const char *s, size_t len, bool show_newlines)
{
	for (size_t i = 0; i < len;) {
		size_t n = cell_len(s + i, len - i);
		if (show_newlines && s[i] == '\n')
			buf_puts(out, "\\n");
		else
			put_cell(out, s + i, n);
		i += n;
	}
}

static void put_color(struct buf *out, bool color, const char *code)
{
	if (color)
		buf_puts(out, code);
}

static unsigned digits(uint32_t n)
{
	unsigned d = 1;
	while (n >= 10) {
		n /= 10;
		d++;
	}
	return d;
}

/* ---- text ---- */

/* "PATH:LINE:COL: error: MESSAGE", or "drplan: error: MESSAGE" for a range in no file. */
static void text_header(struct buf *out, const struct loc *l, enum diag_severity sev,
                        const char *message, bool color)
{
	put_color(out, color, ANSI_BOLD);
	if (l->file) {
		put_clean(out, l->file->path, strlen(l->file->path), false);
		buf_printf(out, ":%u:%u:", (unsigned)l->spos.line, (unsigned)l->spos.col);
	} else {
		buf_puts(out, "drplan:");
	}
	put_color(out, color, ANSI_RESET);
	buf_putc(out, ' ');
	put_color(out, color, sev == DIAG_ERROR ? ANSI_RED : sev == DIAG_WARNING ? ANSI_MAGENTA : ANSI_CYAN);
	buf_puts(out, severity_word(sev));
	buf_putc(out, ':');
	put_color(out, color, ANSI_RESET);
	buf_putc(out, ' ');
	put_clean(out, message, strlen(message), false);
}

/* The source line of l with a gutter `width` digits wide, and the caret line under it. */
static void text_snippet(struct buf *out, const struct loc *l, unsigned width, bool color)
{
	size_t len;
	const char *text = src_line(l->file, l->spos.line, &len);
	size_t line_off = (size_t)(text - l->file->text);
	/* The caret sits at the range start; the underline runs to the range end or the line end,
	 * whichever is first. Both can lie past a stripped "\r" or at the "\n": clamp to the line. */
	size_t cb = l->start - line_off, eb = l->end - line_off;
	if (cb > len)
		cb = len;
	if (eb > len)
		eb = len;

	/* Columns (cells) of the caret, the range end, and the whole line. */
	size_t ccol = 0, ecol = 0, total = 0;
	for (size_t b = 0; b < len; b += cell_len(text + b, len - b)) {
		ccol += b < cb;
		ecol += b < eb;
		total++;
	}

	/* A long line shows only WINDOW_COLS cells, so one 10 MB line cannot flood the terminal. */
	size_t ws = 0, we = total;
	if (total > WINDOW_COLS) {
		ws = ccol > WINDOW_BEFORE ? ccol - WINDOW_BEFORE : 0;
		we = ws + WINDOW_COLS;
		if (we > total) {
			we = total;
			ws = total - WINDOW_COLS;
		}
	}

	struct buf pad = BUF_INIT; /* what goes under the window up to the caret */
	buf_printf(out, "    %*u |", (int)width, (unsigned)l->spos.line);
	if (total > 0)
		buf_putc(out, ' ');
	if (ws > 0) {
		buf_puts(out, "...");
		buf_puts(&pad, "   ");
	}
	size_t k = 0;
	for (size_t b = 0; b < len && k < we; k++) {
		size_t n = cell_len(text + b, len - b);
		if (k >= ws) {
			put_cell(out, text + b, n);
			if (k < ccol)
				buf_putc(&pad, text[b] == '\t' ? '\t' : ' ');
		}
		b += n;
	}
	if (we < total)
		buf_puts(out, "...");
	buf_putc(out, '\n');

	size_t marks = ecol > ccol ? ecol - ccol : 1;
	if (ccol < we && marks > we - ccol)
		marks = we - ccol;
	buf_printf(out, "    %*s | ", (int)width, "");
	buf_append(out, pad.data, pad.len);
	put_color(out, color, ANSI_GREEN);
	buf_putc(out, '^');
	buf_repeat(out, '~', marks - 1);
	put_color(out, color, ANSI_RESET);
	buf_putc(out, '\n');
	buf_free(&pad);
}

static void text_one(struct buf *out, const struct diag *d, struct src_set *sources, bool color)
{
	struct loc l = loc_resolve(sources, d->at);
	/* One gutter width for the diagnostic and its notes, so their bars line up. */
	uint32_t max_line = l.file ? l.spos.line : 0;
	for (size_t i = 0; i < d->n_notes; i++) {
		struct loc nl = loc_resolve(sources, d->notes[i].at);
		if (nl.file && nl.spos.line > max_line)
			max_line = nl.spos.line;
	}
	unsigned width = max_line ? digits(max_line) : 0;

	text_header(out, &l, d->severity, d->message, color);
	buf_printf(out, " [%s]\n", diag_rule_info(d->rule)->id);
	if (l.file)
		text_snippet(out, &l, width, color);
	if (d->hint) {
		buf_printf(out, "    %*s = help: ", (int)width, "");
		put_clean(out, d->hint, strlen(d->hint), false);
		buf_putc(out, '\n');
	}
	if (d->fixit) {
		buf_printf(out, "    %*s = fix: ", (int)width, "");
		enum fix_kind kind = fix_kind(&l, d->fixit);
		buf_puts(out, fix_words[kind]);
		if (kind != FIX_REMOVE) {
			put_clean(out, d->fixit, strlen(d->fixit), true);
			buf_putc(out, '\'');
		}
		buf_putc(out, '\n');
	}
	for (size_t i = 0; i < d->n_notes; i++) {
		struct loc nl = loc_resolve(sources, d->notes[i].at);
		text_header(out, &nl, DIAG_NOTE, d->notes[i].message, color);
		buf_putc(out, '\n');
		if (nl.file)
			text_snippet(out, &nl, width, color);
	}
}

/* ---- a small JSON writer, compact for JSON Lines and indented for SARIF ---- */

#define JW_MAX_DEPTH 32

struct jw {
	struct buf *out;
	bool pretty;
	bool after_key;             /* the next value completes a "key": pair */
	int depth;
	bool used[JW_MAX_DEPTH + 1]; /* whether the container at each depth has a member yet */
};

static void jw_newline(struct jw *w)
{
	buf_putc(w->out, '\n');
	buf_repeat(w->out, ' ', (size_t)w->depth * 2);
}

/* Separates a member (or array element) from the previous one. */
static void jw_sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth == 0)
		return;
	if (w->used[w->depth])
		buf_putc(w->out, ',');
	w->used[w->depth] = true;
	if (w->pretty)
		jw_newline(w);
}

static void jw_open(struct jw *w, char c)
{
	jw_sep(w);
	buf_putc(w->out, c);
	/* The nesting here is fixed by this file; the bound only guards a future edit. */
	if (w->depth < JW_MAX_DEPTH)
		w->depth++;
	w->used[w->depth] = false;
}

static void jw_close(struct jw *w, char c)
{
	bool had_members = w->used[w->depth];
	w->depth--;
	if (w->pretty && had_members)
		jw_newline(w);
	buf_putc(w->out, c);
}

static void jw_key(struct jw *w, const char *key)
{
	jw_sep(w);
	buf_json_string(w->out, key, strlen(key));
	buf_puts(w->out, w->pretty ? ": " : ":");
	w->after_key = true;
}

static void jw_str(struct jw *w, const char *s)
{
	jw_sep(w);
	buf_json_string(w->out, s, strlen(s));
}

static void jw_uint(struct jw *w, uint64_t n)
{
	jw_sep(w);
	buf_printf(w->out, "%llu", (unsigned long long)n);
}

static void jw_null(struct jw *w)
{
	jw_sep(w);
	buf_puts(w->out, "null");
}

/* "key": "value" */
static void jw_kstr(struct jw *w, const char *key, const char *value)
{
	jw_key(w, key);
	jw_str(w, value);
}

static void jw_kuint(struct jw *w, const char *key, uint64_t value)
{
	jw_key(w, key);
	jw_uint(w, value);
}

/* ---- json ---- */

static void json_pos(struct jw *w, const char *key, struct src_pos pos, uint32_t byte)
{
	jw_key(w, key);
	jw_open(w, '{');
	jw_kuint(w, "line", pos.line);
	jw_kuint(w, "column", pos.col);
	jw_kuint(w, "byte", byte);
	jw_close(w, '}');
}

static void json_range(struct jw *w, struct src_set *sources, struct src_range r)
{
	struct loc l = loc_resolve(sources, r);
	jw_key(w, "range");
	if (!l.file) {
		jw_null(w);
		return;
	}
	jw_open(w, '{');
	jw_kstr(w, "filename", l.file->path);
	json_pos(w, "start", l.spos, l.start);
	json_pos(w, "end", l.epos, l.end);
	jw_close(w, '}');
}

static void json_one(struct buf *out, const struct diag *d, struct src_set *sources)
{
	const struct diag_rule_info *rule = diag_rule_info(d->rule);
	struct jw w = {.out = out};
	jw_open(&w, '{');
	jw_kstr(&w, "severity", severity_word(d->severity));
	jw_kstr(&w, "code", rule->id);
	jw_kstr(&w, "rule", rule->name);
	jw_kstr(&w, "summary", d->message);
	json_range(&w, sources, d->at);
	if (d->hint)
		jw_kstr(&w, "hint", d->hint);
	if (d->fixit) {
		jw_key(&w, "fix");
		jw_open(&w, '{');
		jw_kstr(&w, "replacement", d->fixit);
		jw_close(&w, '}');
	}
	jw_key(&w, "notes");
	jw_open(&w, '[');
	for (size_t i = 0; i < d->n_notes; i++) {
		jw_open(&w, '{');
		jw_kstr(&w, "message", d->notes[i].message);
		json_range(&w, sources, d->notes[i].at);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_close(&w, '}');
	buf_putc(out, '\n');
}

/* ---- sarif ---- */

/* A path as a URI reference (RFC 3986): unreserved characters, "/" and the sub-delimiters stay,
 * everything else is percent-encoded byte by byte, ":" included so that "c:x" is not read as a
 * scheme. A relative path stays a relative reference; an absolute one becomes a file: URI. */
static void sarif_uri(struct buf *out, const char *path)
{
	static const char safe[] = "-._~/!$&'()*+,;=@";
	buf_reserve(out, strlen(path) + 8);
	if (path[0] == '/')
		buf_puts(out, "file://");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    strchr(safe, *p))
			buf_putc(out, (char)*p);
		else
			buf_printf(out, "%%%02X", *p);
	}
}

static void sarif_artifact(struct jw *w, const struct loc *l)
{
	struct buf uri = BUF_INIT;
	sarif_uri(&uri, l->file->path);
	jw_key(w, "artifactLocation");
	jw_open(w, '{');
	jw_kstr(w, "uri", uri.data);
	jw_close(w, '}');
	buf_free(&uri);
}

/* endColumn is exclusive in SARIF, which is exactly the column of our exclusive end offset. */
static void sarif_region(struct jw *w, const char *key, const struct loc *l)
{
	jw_key(w, key);
	jw_open(w, '{');
	jw_kuint(w, "startLine", l->spos.line);
	jw_kuint(w, "startColumn", l->spos.col);
	jw_kuint(w, "endLine", l->epos.line);
	jw_kuint(w, "endColumn", l->epos.col);
	jw_close(w, '}');
}

static void sarif_physical(struct jw *w, const struct loc *l)
{
	jw_key(w, "physicalLocation");
	jw_open(w, '{');
	sarif_artifact(w, l);
	sarif_region(w, "region", l);
	jw_close(w, '}');
}

static void sarif_message(struct jw *w, const char *text)
{
	jw_key(w, "message");
	jw_open(w, '{');
	jw_kstr(w, "text", text);
	jw_close(w, '}');
}

static void sarif_result(struct jw *w, const struct diag *d, size_t rule_index,
                         struct src_set *sources)
{
	static const char *const levels[] = {[DIAG_ERROR] = "error", [DIAG_WARNING] = "warning",
	                                     [DIAG_NOTE] = "note"};
	struct loc l = loc_resolve(sources, d->at);
	jw_open(w, '{');
	jw_kstr(w, "ruleId", diag_rule_info(d->rule)->id);
	jw_kuint(w, "ruleIndex", rule_index);
	jw_kstr(w, "level", levels[d->severity]);
	sarif_message(w, d->message);
	/* A result about no file (the command line, say) has no location rather than a made-up one. */
	if (l.file) {
		jw_key(w, "locations");
		jw_open(w, '[');
		jw_open(w, '{');
		sarif_physical(w, &l);
		jw_close(w, '}');
		jw_close(w, ']');
	}
	if (d->n_notes > 0) {
		jw_key(w, "relatedLocations");
		jw_open(w, '[');
		for (size_t i = 0; i < d->n_notes; i++) {
			struct loc nl = loc_resolve(sources, d->notes[i].at);
			jw_open(w, '{');
			jw_kuint(w, "id", i);
			if (nl.file)
				sarif_physical(w, &nl);
			sarif_message(w, d->notes[i].message);
			jw_close(w, '}');
		}
		jw_close(w, ']');
	}
	if (d->fixit && l.file) {
		jw_key(w, "fixes");
		jw_open(w, '[');
		jw_open(w, '{');
		jw_key(w, "artifactChanges");
		jw_open(w, '[');
		jw_open(w, '{');
		sarif_artifact(w, &l);
		jw_key(w, "replacements");
		jw_open(w, '[');
		jw_open(w, '{');
		sarif_region(w, "deletedRegion", &l);
		jw_key(w, "insertedContent");
		jw_open(w, '{');
		jw_kstr(w, "text", d->fixit);
		jw_close(w, '}');
		jw_close(w, '}');
		jw_close(w, ']');
		jw_close(w, '}');
		jw_close(w, ']');
		jw_close(w, '}');
		jw_close(w, ']');
	}
	/* SARIF has no field for a suggestion that is not a fix; a property bag keeps it. */
	if (d->hint) {
		jw_key(w, "properties");
		jw_open(w, '{');
		jw_kstr(w, "hint", d->hint);
		jw_close(w, '}');
	}
	jw_close(w, '}');
}

static void sarif_render(struct buf *out, const struct diag_list *list, struct src_set *sources)
{
	/* The driver lists each rule used once, in order of first use; results point at it by index. */
	size_t rule_index[DIAG_RULE_COUNT];
	enum diag_rule used[DIAG_RULE_COUNT];
	size_t n_used = 0;
	for (size_t r = 0; r < DIAG_RULE_COUNT; r++)
		rule_index[r] = SIZE_MAX;
	for (size_t i = 0; i < list->len; i++) {
		enum diag_rule r = list->items[i]->rule;
		if (rule_index[r] == SIZE_MAX) {
			rule_index[r] = n_used;
			used[n_used++] = r;
		}
	}

	struct jw w = {.out = out, .pretty = true};
	jw_open(&w, '{');
	jw_kstr(&w, "$schema", "https://json.schemastore.org/sarif-2.1.0.json");
	jw_kstr(&w, "version", "2.1.0");
	jw_key(&w, "runs");
	jw_open(&w, '[');
	jw_open(&w, '{');
	jw_key(&w, "tool");
	jw_open(&w, '{');
	jw_key(&w, "driver");
	jw_open(&w, '{');
	jw_kstr(&w, "name", "drplan");
	jw_kstr(&w, "informationUri", DRPLAN_INFORMATION_URI);
	jw_key(&w, "rules");
	jw_open(&w, '[');
	for (size_t i = 0; i < n_used; i++) {
		const struct diag_rule_info *info = diag_rule_info(used[i]);
		jw_open(&w, '{');
		jw_kstr(&w, "id", info->id);
		jw_kstr(&w, "name", info->name);
		jw_key(&w, "shortDescription");
		jw_open(&w, '{');
		jw_kstr(&w, "text", info->summary);
		jw_close(&w, '}');
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_close(&w, '}');
	jw_close(&w, '}');
	jw_kstr(&w, "columnKind", "unicodeCodePoints");
	jw_key(&w, "results");
	jw_open(&w, '[');
	for (size_t i = 0; i < list->len; i++)
		sarif_result(&w, list->items[i], rule_index[list->items[i]->rule], sources);
	jw_close(&w, ']');
	jw_close(&w, '}');
	jw_close(&w, ']');
	jw_close(&w, '}');
	buf_putc(out, '\n');
}

/* ---- github ---- */

/* Escapes per the workflow-command rules: "%", CR and LF always; ":" and "," in property values,
 * where they would end the value. Other controls and invalid UTF-8 become U+FFFD. */
static void gh_escape(struct buf *out, const char *s, size_t len, bool property)
{
	for (size_t i = 0; i < len;) {
		size_t n = cell_len(s + i, len - i);
		char c = s[i];
		if (c == '%')
			buf_puts(out, "%25");
		else if (c == '\r')
			buf_puts(out, "%0D");
		else if (c == '\n')
			buf_puts(out, "%0A");
		else if (property && c == ':')
			buf_puts(out, "%3A");
		else if (property && c == ',')
			buf_puts(out, "%2C");
		else
			put_cell(out, s + i, n);
		i += n;
	}
}

static void gh_escape_str(struct buf *out, const char *s, bool property)
{
	gh_escape(out, s, strlen(s), property);
}

static void github_one(struct buf *out, const struct diag *d, struct src_set *sources)
{
	static const char *const commands[] = {[DIAG_ERROR] = "error", [DIAG_WARNING] = "warning",
	                                       [DIAG_NOTE] = "notice"};
	struct loc l = loc_resolve(sources, d->at);
	buf_printf(out, "::%s ", commands[d->severity]);
	if (l.file) {
		buf_puts(out, "file=");
		gh_escape_str(out, l.file->path, true);
		buf_printf(out, ",line=%u,col=%u,endLine=%u,endColumn=%u,", (unsigned)l.spos.line,
		           (unsigned)l.spos.col, (unsigned)l.epos.line, (unsigned)l.epos.col);
	}
	buf_printf(out, "title=%s::", diag_rule_info(d->rule)->id);
	gh_escape_str(out, d->message, false);
	/* An annotation is one message: the hint, fix-it and notes travel inside it as extra lines. */
	if (d->hint) {
		buf_puts(out, "%0Ahelp: ");
		gh_escape_str(out, d->hint, false);
	}
	if (d->fixit) {
		enum fix_kind kind = fix_kind(&l, d->fixit);
		buf_puts(out, "%0Afix: ");
		buf_puts(out, fix_words[kind]);
		if (kind != FIX_REMOVE) {
			gh_escape_str(out, d->fixit, false);
			buf_putc(out, '\'');
		}
	}
	for (size_t i = 0; i < d->n_notes; i++) {
		struct loc nl = loc_resolve(sources, d->notes[i].at);
		buf_puts(out, "%0Anote: ");
		if (nl.file) {
			gh_escape_str(out, nl.file->path, false);
			buf_printf(out, ":%u:%u: ", (unsigned)nl.spos.line, (unsigned)nl.spos.col);
		}
		gh_escape_str(out, d->notes[i].message, false);
	}
	buf_putc(out, '\n');
}

void diag_render(struct buf *out, const struct diag_list *list, struct src_set *sources,
                 enum diag_format format, bool color)
{
	switch (format) {
	case DIAG_FORMAT_TEXT:
		for (size_t i = 0; i < list->len; i++)
			text_one(out, list->items[i], sources, color);
		break;
	case DIAG_FORMAT_JSON:
		for (size_t i = 0; i < list->len; i++)
			json_one(out, list->items[i], sources);
		break;
	case DIAG_FORMAT_SARIF:
		sarif_render(out, list, sources);
		break;
	case DIAG_FORMAT_GITHUB:
		for (size_t i = 0; i < list->len; i++)
			github_one(out, list->items[i], sources);
		break;
	}
}
