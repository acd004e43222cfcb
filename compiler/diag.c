/* diag.c: collecting diagnostics, sorting them, and suggesting corrections. */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/alloc.h"

static const struct diag_rule_info rule_table[DIAG_RULE_COUNT] = {
#define X(id, name, summary) {#id, #name, summary},
#include "rules.def"
#undef X
};

const struct diag_rule_info *diag_rule_info(enum diag_rule rule)
{
	return &rule_table[rule];
}

void diag_list_init(struct diag_list *list)
{
	memset(list, 0, sizeof *list);
}

void diag_list_free(struct diag_list *list)
{
	for (size_t i = 0; i < list->len; i++) {
		struct diag *d = list->items[i];
		free(d->message);
		free(d->hint);
		free(d->fixit);
		for (size_t k = 0; k < d->n_notes; k++)
			free(d->notes[k].message);
		free(d->notes);
		free(d);
	}
	free(list->items);
	diag_list_init(list);
}

__attribute__((format(printf, 1, 0))) static char *vformat(const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT;
	buf_vprintf(&b, fmt, ap);
	return buf_detach(&b);
}

struct diag *diag_vadd(struct diag_list *list, enum diag_severity severity, enum diag_rule rule,
                       struct src_range at, const char *fmt, va_list ap)
{
	if (list->len == list->cap) {
		list->cap = list->cap ? list->cap * 2 : 16;
		list->items = xrealloc(list->items, list->cap * sizeof *list->items);
	}
	struct diag *d = xcalloc(1, sizeof *d);
	d->severity = severity;
	d->rule = rule;
	d->at = at;
	d->seq = list->len;
	d->message = vformat(fmt, ap);
	list->items[list->len++] = d;
	if (severity == DIAG_ERROR)
		list->errors++;
	else if (severity == DIAG_WARNING)
		list->warnings++;
	return d;
}

struct diag *diag_add(struct diag_list *list, enum diag_severity severity, enum diag_rule rule,
                      struct src_range at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct diag *d = diag_vadd(list, severity, rule, at, fmt, ap);
	va_end(ap);
	return d;
}

void diag_hint(struct diag *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	free(d->hint);
	d->hint = vformat(fmt, ap);
	va_end(ap);
}

void diag_fixit(struct diag *d, const char *replacement)
{
	free(d->fixit);
	d->fixit = xstrdup(replacement);
}

void diag_note(struct diag *d, struct src_range at, const char *fmt, ...)
{
	d->notes = xrealloc(d->notes, (d->n_notes + 1) * sizeof *d->notes);
	struct diag_note *n = &d->notes[d->n_notes++];
	n->at = at;
	va_list ap;
	va_start(ap, fmt);
	n->message = vformat(fmt, ap);
	va_end(ap);
}

static int diag_compare(const void *pa, const void *pb)
{
	const struct diag *a = *(const struct diag *const *)pa;
	const struct diag *b = *(const struct diag *const *)pb;
	if (a->at.file != b->at.file)
		return a->at.file < b->at.file ? -1 : 1;
	if (a->at.start != b->at.start)
		return a->at.start < b->at.start ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void diag_sort(struct diag_list *list)
{
	if (list->len > 1)
		qsort(list->items, list->len, sizeof *list->items, diag_compare);
}

/* Optimal string alignment distance (Damerau-Levenshtein with adjacent transpositions), with a
 * cut-off: words longer than 64 bytes are never "close". */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t rows[3][65];
	size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (prev[j - 1] + cost < best)
				best = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
		size_t *t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

const char *diag_suggest(const char *word, size_t len, const char *const *candidates)
{
	if (len == 0 || len > 64)
		return NULL;
	const char *best = NULL;
	size_t best_distance = (size_t)-1;
	for (size_t i = 0; candidates[i]; i++) {
		size_t lc = strlen(candidates[i]);
		if (lc > 64)
			continue;
		size_t d = edit_distance(word, len, candidates[i], lc);
		if (d < best_distance) {
			best_distance = d;
			best = candidates[i];
		}
	}
	/* A third of the word may be wrong, at least one edit and at most three. */
	size_t allowed = len / 3;
	if (allowed < 1)
		allowed = 1;
	if (allowed > 3)
		allowed = 3;
	return best && best_distance <= allowed && best_distance > 0 ? best : NULL;
}
