/* diff.c: a line diff by Myers' O(ND) algorithm (linear space), printed as diff -u prints it. */
#include "diff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

/* Upper bound on the steps (diagonals visited plus snake moves) spent searching for a minimal
 * script. Small plans never come near it; two large, mostly different files would otherwise take
 * O(N*D) time. Past it the regions still open are reported as wholly replaced. */
#define SEARCH_BUDGET ((long long)1 << 26)

struct line {
	const char *s;
	size_t len; /* including the '\n', so "x" at EOF and "x\n" are different lines */
};

struct side {
	struct line *line;
	ptrdiff_t n;
	ptrdiff_t *id;  /* equal lines, equal ids: comparisons are integer compares */
	char *changed;  /* [-1..n]: the two ends are always 0, sentinels for the loops below */
	ptrdiff_t *seq; /* ids of the lines that occur in the other file: what Myers sees */
	ptrdiff_t *real; /* seq index -> line index */
	ptrdiff_t nseq;
};

struct search {
	const ptrdiff_t *xv, *yv;
	struct side *a, *b;
	ptrdiff_t *fd, *bd; /* furthest x on each diagonal x-y, forward and backward */
	long long budget;
};

struct change {
	ptrdiff_t line0, deleted, line1, inserted;
};

static void split_lines(struct side *sd, const char *text, size_t len)
{
	ptrdiff_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += text[i] == '\n';
	if (len && text[len - 1] != '\n')
		n++;
	sd->line = xmalloc(sizeof *sd->line * (size_t)(n ? n : 1));
	sd->n = 0;
	size_t start = 0;
	while (start < len) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - text) + 1 : len;
		sd->line[sd->n].s = text + start;
		sd->line[sd->n].len = end - start;
		sd->n++;
		start = end;
	}
	sd->id = xmalloc(sizeof *sd->id * (size_t)(n ? n : 1));
	sd->changed = xcalloc((size_t)n + 2, 1);
	sd->changed++;
}

static uint64_t hash_line(const struct line *l)
{
	uint64_t h = 1469598103934665603u; /* FNV-1a */
	for (size_t i = 0; i < l->len; i++)
		h = (h ^ (unsigned char)l->s[i]) * 1099511628211u;
	return h;
}

/* Numbers the distinct lines of both sides (open addressing on a table at most half full). */
static ptrdiff_t assign_ids(struct side *a, struct side *b)
{
	size_t cap = 16;
	while (cap < 2 * (size_t)(a->n + b->n))
		cap *= 2;
	struct slot {
		uint64_t hash;
		const struct line *line;
		ptrdiff_t id;
	} *slot = xcalloc(cap, sizeof *slot);
	ptrdiff_t next = 0;
	struct side *sides[2] = {a, b};
	for (int f = 0; f < 2; f++) {
		for (ptrdiff_t i = 0; i < sides[f]->n; i++) {
			const struct line *l = &sides[f]->line[i];
			uint64_t h = hash_line(l);
			size_t k = (size_t)h & (cap - 1);
			while (slot[k].line && !(slot[k].hash == h && slot[k].line->len == l->len &&
			                         memcmp(slot[k].line->s, l->s, l->len) == 0))
				k = (k + 1) & (cap - 1);
			if (!slot[k].line) {
				slot[k].hash = h;
				slot[k].line = l;
				slot[k].id = next++;
			}
			sides[f]->id[i] = slot[k].id;
		}
	}
	free(slot);
	return next;
}

/* Lines with no equal in the other file are changed in every script; marking them now and
 * leaving them out of the search keeps it fast when a formatter rewrote most lines. */
static void discard_unmatched(struct side *sd, ptrdiff_t lo, ptrdiff_t hi, const char *in_other)
{
	sd->seq = xmalloc(sizeof *sd->seq * (size_t)(hi > lo ? hi - lo : 1));
	sd->real = xmalloc(sizeof *sd->real * (size_t)(hi > lo ? hi - lo : 1));
	sd->nseq = 0;
	for (ptrdiff_t i = lo; i < hi; i++) {
		if (in_other[sd->id[i]]) {
			sd->seq[sd->nseq] = sd->id[i];
			sd->real[sd->nseq++] = i;
		} else {
			sd->changed[i] = 1;
		}
	}
}

/* Finds a point (*xmid, *ymid) on a minimal path through xv[xoff..xlim) x yv[yoff..ylim) by
 * running the forward and backward searches until they overlap (Myers 1986, section 4.2).
 * Both ranges are non-empty and their first and last elements differ, so D >= 2 and the point
 * splits the problem into two strictly smaller ones. Returns false when the budget runs out. */
static bool middle_snake(struct search *s, ptrdiff_t xoff, ptrdiff_t xlim, ptrdiff_t yoff,
                         ptrdiff_t ylim, ptrdiff_t *xmid, ptrdiff_t *ymid)
{
	const ptrdiff_t *xv = s->xv, *yv = s->yv;
	ptrdiff_t *fd = s->fd, *bd = s->bd;
	const ptrdiff_t dmin = xoff - ylim, dmax = xlim - yoff;
	const ptrdiff_t fmid = xoff - yoff, bmid = xlim - ylim;
	/* With an odd delta the paths can first meet during a forward step, else a backward one. */
	const bool odd = (fmid - bmid) & 1;
	ptrdiff_t fmin = fmid, fmax = fmid, bmin = bmid, bmax = bmid;
	fd[fmid] = xoff;
	bd[bmid] = xlim;
	for (;;) {
		/* Widen the forward range by one diagonal each way, within the box; -1 marks a
		 * diagonal not reached yet. */
		if (fmin > dmin)
			fd[--fmin - 1] = -1;
		else
			fmin++;
		if (fmax < dmax)
			fd[++fmax + 1] = -1;
		else
			fmax--;
		for (ptrdiff_t d = fmax; d >= fmin; d -= 2) {
			ptrdiff_t lo = fd[d - 1], hi = fd[d + 1];
			ptrdiff_t x0 = lo < hi ? hi : lo + 1;
			ptrdiff_t x = x0, y = x0 - d;
			while (x < xlim && y < ylim && xv[x] == yv[y])
				x++, y++;
			s->budget -= 1 + (x - x0);
			fd[d] = x;
			if (odd && bmin <= d && d <= bmax && bd[d] <= x) {
				*xmid = x;
				*ymid = y;
				return true;
			}
		}
		/* The same backwards from the end; PTRDIFF_MAX marks a diagonal not reached yet. */
		if (bmin > dmin)
			bd[--bmin - 1] = PTRDIFF_MAX;
		else
			bmin++;
		if (bmax < dmax)
			bd[++bmax + 1] = PTRDIFF_MAX;
		else
			bmax--;
		for (ptrdiff_t d = bmax; d >= bmin; d -= 2) {
			ptrdiff_t lo = bd[d - 1], hi = bd[d + 1];
			ptrdiff_t x0 = lo < hi ? lo : hi - 1;
			ptrdiff_t x = x0, y = x0 - d;
			while (x > xoff && y > yoff && xv[x - 1] == yv[y - 1])
				x--, y--;
			s->budget -= 1 + (x0 - x);
			bd[d] = x;
			if (!odd && fmin <= d && d <= fmax && x <= fd[d]) {
				*xmid = x;
				*ymid = y;
				return true;
			}
		}
		if (s->budget < 0)
			return false;
	}
}

static void mark_deleted(struct search *s, ptrdiff_t from, ptrdiff_t to)
{
	for (ptrdiff_t i = from; i < to; i++)
		s->a->changed[s->a->real[i]] = 1;
}

static void mark_inserted(struct search *s, ptrdiff_t from, ptrdiff_t to)
{
	for (ptrdiff_t i = from; i < to; i++)
		s->b->changed[s->b->real[i]] = 1;
}

/* Marks the changed elements of xv[xoff..xlim) and yv[yoff..ylim). The recursion halves D at each
 * level, so its depth is about log2(D). */
static void compare(struct search *s, ptrdiff_t xoff, ptrdiff_t xlim, ptrdiff_t yoff,
                    ptrdiff_t ylim)
{
	while (xoff < xlim && yoff < ylim && s->xv[xoff] == s->yv[yoff])
		xoff++, yoff++;
	while (xoff < xlim && yoff < ylim && s->xv[xlim - 1] == s->yv[ylim - 1])
		xlim--, ylim--;
	s->budget -= (xlim - xoff) + (ylim - yoff);
	ptrdiff_t xmid, ymid;
	if (xoff == xlim) {
		mark_inserted(s, yoff, ylim);
	} else if (yoff == ylim) {
		mark_deleted(s, xoff, xlim);
	} else if (s->budget < 0 || !middle_snake(s, xoff, xlim, yoff, ylim, &xmid, &ymid)) {
		/* Out of budget: replacing the whole region is a correct, if coarse, script. */
		mark_deleted(s, xoff, xlim);
		mark_inserted(s, yoff, ylim);
	} else {
		compare(s, xoff, xmid, yoff, ymid);
		compare(s, xmid, xlim, ymid, ylim);
	}
}

/* Among equally short scripts, picks the one diff(1) shows: each run of changed lines of one side
 * slides down past lines equal to its own first line (joining the runs it meets), then back up to
 * the lowest place where it sat against a change of the other side, so that a change reads as one
 * hunk rather than a deletion here and an insertion there. j follows i in the other side: the
 * unchanged lines of the two sides pair up in order. */
static void slide_runs(struct side *sd, const struct side *other, ptrdiff_t lo, ptrdiff_t n)
{
	/* Indices below are relative to the window; the lines either side of it are unchanged and
	 * serve as the sentinels. */
	char *chg = sd->changed + lo;
	const char *ochg = other->changed + lo;
	const ptrdiff_t *id = sd->id + lo;
	ptrdiff_t i = 0, j = 0;
	for (;;) {
		while (i < n && !chg[i]) {
			while (ochg[j])
				j++;
			j++;
			i++;
		}
		if (i == n)
			return;
		ptrdiff_t start = i;
		while (chg[i])
			i++;
		while (ochg[j])
			j++;
		ptrdiff_t len, against;
		do {
			len = i - start;
			while (start > 0 && id[start - 1] == id[i - 1]) {
				chg[--start] = 1;
				chg[--i] = 0;
				while (chg[start - 1])
					start--;
				do
					j--;
				while (ochg[j]);
			}
			against = ochg[j - 1] ? i : n;
			while (i < n && id[start] == id[i]) {
				chg[start++] = 0;
				chg[i++] = 1;
				while (chg[i])
					i++;
				while (ochg[++j])
					against = i;
			}
		} while (len != i - start);
		while (against < i) {
			chg[--start] = 1;
			chg[--i] = 0;
			do
				j--;
			while (ochg[j]);
		}
	}
}

/* Pairs up the changed runs of both sides into changes, in order. */
static struct change *collect_changes(const struct side *a, const struct side *b, size_t *count)
{
	size_t cap = 16, n = 0;
	struct change *ch = xmalloc(sizeof *ch * cap);
	ptrdiff_t i = 0, j = 0;
	while (i < a->n || j < b->n) {
		if (i < a->n && j < b->n && !a->changed[i] && !b->changed[j]) {
			i++, j++;
			continue;
		}
		ptrdiff_t i0 = i, j0 = j;
		while (i < a->n && a->changed[i])
			i++;
		while (j < b->n && b->changed[j])
			j++;
		if (i == i0 && j == j0) {
			/* Only one side has unmarked lines left: impossible with consistent marks,
			 * but replacing the rest would still be a correct diff. */
			i = a->n;
			j = b->n;
		}
		if (n == cap) {
			cap *= 2;
			ch = xrealloc(ch, sizeof *ch * cap);
		}
		ch[n++] = (struct change){i0, i - i0, j0, j - j0};
	}
	*count = n;
	return ch;
}

/* GNU's range form: "l" for one line, "l,s" otherwise, and for no lines the line before them. */
static void put_range(struct buf *out, ptrdiff_t first, ptrdiff_t end)
{
	if (end == first)
		buf_printf(out, "%td,0", first);
	else if (end - first == 1)
		buf_printf(out, "%td", first + 1);
	else
		buf_printf(out, "%td,%td", first + 1, end - first);
}

static void put_line(struct buf *out, char mark, const struct line *l)
{
	buf_putc(out, mark);
	buf_append(out, l->s, l->len);
	if (l->s[l->len - 1] != '\n')
		buf_puts(out, "\n\\ No newline at end of file\n");
}

static void put_hunks(struct buf *out, const struct side *a, const struct side *b,
                      const struct change *ch, size_t count, ptrdiff_t context)
{
	/* Changes at most 2*context unchanged lines apart share a hunk, as in diff(1). */
	const ptrdiff_t joins = 2 * context + 1;
	for (size_t k = 0; k < count;) {
		size_t last = k;
		ptrdiff_t top0 = ch[k].line0 + ch[k].deleted;
		while (last + 1 < count && ch[last + 1].line0 - top0 < joins) {
			last++;
			top0 = ch[last].line0 + ch[last].deleted;
		}
		ptrdiff_t top1 = ch[last].line1 + ch[last].inserted;
		/* Outside the changes the lines pair up one to one, so both sides get the same
		 * amount of context; only the file's start or end cuts it short. */
		ptrdiff_t first0 = ch[k].line0 > context ? ch[k].line0 - context : 0;
		ptrdiff_t first1 = ch[k].line1 - (ch[k].line0 - first0);
		ptrdiff_t end0 = a->n - top0 > context ? top0 + context : a->n;
		ptrdiff_t end1 = top1 + (end0 - top0);
		buf_puts(out, "@@ -");
		put_range(out, first0, end0);
		buf_puts(out, " +");
		put_range(out, first1, end1);
		buf_puts(out, " @@\n");
		ptrdiff_t i = first0;
		for (size_t c = k; c <= last; c++) {
			for (; i < ch[c].line0; i++)
				put_line(out, ' ', &a->line[i]);
			for (ptrdiff_t d = 0; d < ch[c].deleted; d++)
				put_line(out, '-', &a->line[i++]);
			for (ptrdiff_t d = 0; d < ch[c].inserted; d++)
				put_line(out, '+', &b->line[ch[c].line1 + d]);
		}
		for (; i < end0; i++)
			put_line(out, ' ', &a->line[i]);
		k = last + 1;
	}
}

static void free_side(struct side *sd)
{
	free(sd->line);
	free(sd->id);
	free(sd->changed - 1);
	free(sd->seq);
	free(sd->real);
}

bool diff_unified(struct buf *out, const char *old_name, const char *a, size_t alen,
                  const char *new_name, const char *b, size_t blen, int context)
{
	if (alen == blen && (alen == 0 || memcmp(a, b, alen) == 0))
		return false;
	struct side sa, sb;
	split_lines(&sa, a, alen);
	split_lines(&sb, b, blen);

	ptrdiff_t ids = assign_ids(&sa, &sb);
	if (context < 0)
		context = 0;
	/* More context than lines changes nothing, and the clamp keeps 2*context+1 in range. */
	ptrdiff_t ctx = context;
	if (ctx > sa.n + sb.n)
		ctx = sa.n + sb.n;

	/* Like diff(1), leave out the common head and tail but for `ctx` lines each, within which
	 * changes may still slide: this decides where an ambiguous change is shown, and keeps a
	 * small edit to a large file cheap. */
	ptrdiff_t head = 0, tail = 0;
	while (head < sa.n && head < sb.n && sa.id[head] == sb.id[head])
		head++;
	while (tail < sa.n - head && tail < sb.n - head &&
	       sa.id[sa.n - 1 - tail] == sb.id[sb.n - 1 - tail])
		tail++;
	ptrdiff_t lo = head > ctx ? head - ctx : 0;
	ptrdiff_t skip = tail > ctx ? tail - ctx : 0;
	ptrdiff_t ahi = sa.n - skip, bhi = sb.n - skip;

	char *in_a = xcalloc((size_t)ids + 1, 1), *in_b = xcalloc((size_t)ids + 1, 1);
	for (ptrdiff_t i = lo; i < ahi; i++)
		in_a[sa.id[i]] = 1;
	for (ptrdiff_t i = lo; i < bhi; i++)
		in_b[sb.id[i]] = 1;
	discard_unmatched(&sa, lo, ahi, in_b);
	discard_unmatched(&sb, lo, bhi, in_a);
	free(in_a);
	free(in_b);

	/* Diagonals run from -nseq(b) to nseq(a), plus one sentinel at each end. */
	size_t diags = (size_t)(sa.nseq + sb.nseq) + 3;
	ptrdiff_t *fd = xmalloc(sizeof *fd * diags), *bd = xmalloc(sizeof *bd * diags);
	struct search s = {
		.xv = sa.seq, .yv = sb.seq, .a = &sa, .b = &sb,
		.fd = fd + sb.nseq + 1, .bd = bd + sb.nseq + 1, .budget = SEARCH_BUDGET,
	};
	compare(&s, 0, sa.nseq, 0, sb.nseq);
	free(fd);
	free(bd);

	slide_runs(&sa, &sb, lo, ahi - lo);
	slide_runs(&sb, &sa, lo, bhi - lo);

	size_t count;
	struct change *ch = collect_changes(&sa, &sb, &count);
	buf_printf(out, "--- %s\n+++ %s\n", old_name, new_name);
	put_hunks(out, &sa, &sb, ch, count, ctx);

	free(ch);
	free_side(&sa);
	free_side(&sb);
	return true;
}
