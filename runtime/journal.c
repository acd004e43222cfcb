/* journal.c: the run journal: the writer formats records by hand into a batch that one write(2)
 * and one fdatasync commit; the reader streams the file in 1 MiB pieces and checks each line's
 * checksum and seq, telling a torn tail (trimmed) from damage in the middle (refused). */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../compiler/compiled.h"
#include "../lib/alloc.h"
#include "../lib/fsutil.h"
#include "../lib/crc32c.h"
#include "../lib/digest.h"
#include "../lib/utf8.h"

const char *const journal_state_names[] = {
	"run-start", "start", "done", "failed", "retry", "timeout", "ignored", "skipped", "reconciled-done",
	"reconciled-not-done", "prompt-confirmed", "run-end", "vm-done", "note",
};
_Static_assert(sizeof journal_state_names / sizeof journal_state_names[0] == JOURNAL_N_STATES,
               "one name per journal state");

#define JOURNAL_READ_CHUNK (1u << 20) /* must exceed JOURNAL_MAX_LINE: a partial line always fits */
_Static_assert(JOURNAL_READ_CHUNK > JOURNAL_MAX_LINE, "the read buffer holds the longest line");

struct journal {
	int fd;
	char *path;
	uint64_t next_seq;
	uint32_t pending;
	struct buf batch;              /* records appended, not yet written */
	char *broken;                  /* why an earlier commit failed (then every commit fails), or NULL */
};

static const char journal_hex[] = "0123456789abcdef";

/* ---- Escaping: what a message or plan name becomes in the file. */

static char *journal_put_xbyte(char *q, unsigned char c)
{
	*q++ = '\\';
	*q++ = 'x';
	*q++ = journal_hex[c >> 4];
	*q++ = journal_hex[c & 0xF];
	return q;
}

/* Writes s[0..len) escaped at q, which has room for 4 * len bytes; returns the end. */
static char *journal_escape_into(char *q, const char *s, size_t len, bool space)
{
	size_t i = 0;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		if (c > 0x20 && c < 0x7f && c != '\\') {
			*q++ = (char)c;
			i++;
			continue;
		}
		if (c >= 0x80) {
			uint32_t cp = 0;
			size_t n = utf8_decode(s + i, len - i, &cp);
			if (n == 0) { /* not UTF-8: keep the byte, but as text */
				q = journal_put_xbyte(q, c);
				i++;
			} else if (cp < 0xA0 || (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
			           cp == 0xFEFF) {
				/* C1 controls, which terminals act on, and invisible line and direction changes. */
				for (size_t k = 0; k < n; k++)
					q = journal_put_xbyte(q, (unsigned char)s[i + k]);
				i += n;
			} else {
				memcpy(q, s + i, n);
				q += n;
				i += n;
			}
			continue;
		}
		if (c == ' ' && !space)
			*q++ = ' ';
		else if (c == '\\') {
			*q++ = '\\';
			*q++ = '\\';
		} else if (c == '\n') {
			*q++ = '\\';
			*q++ = 'n';
		} else if (c == '\t') {
			*q++ = '\\';
			*q++ = 't';
		} else
			q = journal_put_xbyte(q, c);
		i++;
	}
	return q;
}

void journal_escape(struct buf *out, const char *s, size_t len, bool space)
{
	buf_reserve(out, 4 * len);
	char *end = journal_escape_into(out->data + out->len, s, len, space);
	out->len = (size_t)(end - out->data);
	out->data[out->len] = '\0';
}

static int journal_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes an escaped field into out. False if escaping could not have produced it: a raw control
 * character, an unknown escape, an escaped NUL. */
static bool journal_unescape(struct buf *out, const char *s, size_t len)
{
	buf_clear(out);
	buf_reserve(out, len);
	char *q = out->data;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return false;
		if (c != '\\') {
			*q++ = (char)c;
			continue;
		}
		if (++i == len)
			return false;
		if (s[i] == '\\')
			*q++ = '\\';
		else if (s[i] == 'n')
			*q++ = '\n';
		else if (s[i] == 't')
			*q++ = '\t';
		else if (s[i] == 'x' && len - i >= 3) {
			int hi = journal_hexval(s[i + 1]), lo = journal_hexval(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi | lo) == 0)
				return false;
			*q++ = (char)(hi << 4 | lo);
			i += 2;
		} else
			return false;
	}
	out->len = (size_t)(q - out->data);
	*q = '\0';
	return true;
}

/* ---- Formatting numbers by hand: printf per field shows up in a profile of 600k records. */

static char *journal_put_u64(char *q, uint64_t v)
{
	char tmp[20];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*q++ = tmp[--n];
	return q;
}

static char *journal_put_i64(char *q, int64_t v)
{
	if (v < 0) {
		*q++ = '-';
		return journal_put_u64(q, 0 - (uint64_t)v);
	}
	return journal_put_u64(q, (uint64_t)v);
}

/* ---- Files. */

static void journal_errno(char *err, size_t errlen, const char *what, const char *path)
{
	snprintf(err, errlen, "cannot %s %s: %s", what, path, strerror(errno));
}

/* Two writers would interleave their records: the second open of a journal is refused. */
static bool journal_lock_fd(int fd, const char *path, char *err, size_t errlen)
{
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK)
			snprintf(err, errlen, "%s is in use by another drplan process (a run is writing it); "
			                      "'drplan status %s' shows its progress", path, path);
		else
			journal_errno(err, errlen, "lock", path);
		return false;
	}
	return true;
}

static bool journal_write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static bool journal_digest_ok(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[64] == '\0';
}

static struct journal *journal_new(int fd, const char *path, uint64_t next_seq)
{
	struct journal *j = xcalloc(1, sizeof *j);
	j->fd = fd;
	j->path = xstrdup(path);
	j->next_seq = next_seq;
	return j;
}

void journal_format_header(struct buf *out, const char *plan_digest, const char *plan_name)
{
	size_t from = out->len;
	buf_printf(out, "%s %d %s ", JOURNAL_MAGIC, JOURNAL_FORMAT_VERSION, plan_digest);
	journal_escape(out, plan_name, strlen(plan_name), true);
	char tail[11] = " 00000000\n";
	crc32c_hex(tail + 1, crc32c(0, out->data + from, out->len - from));
	buf_append(out, tail, 10);
}

struct journal *journal_create(const char *path, const char *plan_digest, const char *plan_name, char *err,
                               size_t errlen)
{
	if (!journal_digest_ok(plan_digest)) {
		snprintf(err, errlen, "cannot create %s: the plan digest is not 64 lowercase hex digits", path);
		return NULL;
	}
	size_t name_len = strlen(plan_name);
	if (name_len == 0 || name_len > JOURNAL_MAX_PLAN_NAME) {
		snprintf(err, errlen, "cannot create %s: a plan name must have 1 to %d bytes", path, JOURNAL_MAX_PLAN_NAME);
		return NULL;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		if (errno == EEXIST)
			snprintf(err, errlen, "%s already exists: resume its run with --resume, or choose another journal",
			         path);
		else
			journal_errno(err, errlen, "create", path);
		return NULL;
	}
	if (!journal_lock_fd(fd, path, err, errlen)) {
		close(fd);
		return NULL;
	}
	struct buf h = BUF_INIT;
	journal_format_header(&h, plan_digest, plan_name);
	bool ok = journal_write_all(fd, h.data, h.len) && fsync(fd) == 0;
	buf_free(&h);
	if (!ok) {
		journal_errno(err, errlen, "write", path);
		close(fd);
		unlink(path);
		return NULL;
	}
	if (!fs_sync_directory_of(path)) {
		journal_errno(err, errlen, "sync the directory of", path);
		close(fd);
		return NULL;
	}
	return journal_new(fd, path, 1);
}

void journal_format_record(struct buf *out, uint64_t seq, const struct journal_record *r)
{
	if ((unsigned)r->state >= JOURNAL_N_STATES) {
		/* A caller's bug, not input: a record nobody could read back must not reach the disk. */
		fprintf(stderr, "drplan: internal error: a journal record with state %d\n", (int)r->state);
		abort();
	}
	const char *msg = r->message ? r->message : "";
	size_t mlen = strnlen(msg, JOURNAL_MAX_MESSAGE);
	buf_reserve(out, 128 + 4 * mlen);
	char *line = out->data + out->len;
	char *q = line + 9; /* after "<crc> " */
	q = journal_put_u64(q, seq);
	*q++ = ' ';
	q = journal_put_u64(q, r->run);
	*q++ = ' ';
	q = journal_put_i64(q, r->time_ms);
	*q++ = ' ';
	if (r->op == DAG_NONE)
		*q++ = '-';
	else
		q = journal_put_u64(q, r->op);
	*q++ = ' ';
	q = journal_put_u64(q, r->attempt);
	*q++ = ' ';
	const char *name = journal_state_names[r->state];
	size_t nlen = strlen(name);
	memcpy(q, name, nlen);
	q += nlen;
	*q++ = ' ';
	q = journal_escape_into(q, msg, mlen, false);
	crc32c_hex(line, crc32c(0, line + 9, (size_t)(q - line - 9)));
	line[8] = ' ';
	*q++ = '\n';
	out->len = (size_t)(q - out->data);
	*q = '\0';
}

void journal_append(struct journal *j, const struct journal_record *r)
{
	journal_format_record(&j->batch, j->next_seq, r);
	j->next_seq++;
	j->pending++;
}

bool journal_commit(struct journal *j, char *err, size_t errlen)
{
	if (j->broken) {
		snprintf(err, errlen, "%s", j->broken);
		return false;
	}
	if (j->batch.len == 0)
		return true;
	const char *what = "write to";
	bool ok = journal_write_all(j->fd, j->batch.data, j->batch.len);
	if (ok) {
		what = "sync";
		ok = fdatasync(j->fd) == 0;
	}
	if (!ok) {
		/* After a failed write or fsync the disk holds an unknown prefix of the batch; Linux may even
		 * have dropped the dirty pages. Nothing later may be trusted to follow it. */
		journal_errno(err, errlen, what, j->path);
		j->broken = xstrdup(err);
		return false;
	}
	buf_clear(&j->batch);
	j->pending = 0;
	return true;
}

void journal_close(struct journal *j)
{
	if (!j)
		return;
	close(j->fd);
	buf_free(&j->batch);
	free(j->broken);
	free(j->path);
	free(j);
}

uint64_t journal_next_seq(const struct journal *j)
{
	return j->next_seq;
}

uint32_t journal_pending(const struct journal *j)
{
	return j->pending;
}

static bool discard(void *ctx, const void *data, size_t len)
{
	(void)ctx, (void)data, (void)len;
	return true;
}

/* The compiled plan's seal: the SHA-256 of its bytes (with the seal's own digits as zeros), which
 * identifies them as well as a hash of the whole file would, streamed: the text of a million-VM
 * plan is never held in memory. */
void journal_plan_digest(const struct dag *d, char out[65])
{
	if (d->seal[0]) { /* read from a compiled plan, which carries it (checked) */
		memcpy(out, d->seal, 65);
		return;
	}
	size_t at;
	compiled_emit(d, discard, NULL, out, &at);
}

/* ---- Reading: one pass, line by line, from memory or from a file in pieces. */

struct journal_parse {
	const char *name;
	unsigned flags;
	bool trimming;                 /* journal_open: the tail will be cut off, not just ignored */
	const char *want_digest;       /* journal_open: the header must hold it */
	void (*each)(void *ctx, const struct journal_record *r);
	void *ctx;
	char *err;
	size_t errlen;
	uint64_t line;                 /* the current line's number (1 is the header) */
	uint64_t offset;               /* the current line's first byte */
	uint64_t next_seq;
	uint64_t good_end;             /* the byte after the last good line: where a torn tail is cut */
	bool have_header;
	bool failed;                   /* err is set; the rest is not read */
	bool bad;                      /* a bad line was seen: from there on, the tail */
	uint64_t bad_line, bad_offset;
	char bad_why[160];
	char digest[65];
	char plan_name[JOURNAL_MAX_PLAN_NAME + 1];
	struct buf scratch;            /* the decoded message */
};

static void journal_fail(struct journal_parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void journal_fail(struct journal_parse *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
	p->failed = true;
}

/* A decimal number of at most `max`: digits only. */
static bool journal_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	if (len == 0 || len > 20)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static bool journal_parse_hex32(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 8; i++) {
		int d = journal_hexval(s[i]);
		if (d < 0)
			return false;
		v = v << 4 | (uint32_t)d;
	}
	*out = v;
	return true;
}

/* The next space-separated field of [*cur, end): its start and length; *cur moves past the space.
 * The last field ends at `end`. */
static const char *journal_field(const char **cur, const char *end, size_t *len)
{
	const char *start = *cur;
	const char *sp = memchr(start, ' ', (size_t)(end - start));
	const char *stop = sp ? sp : end;
	*len = (size_t)(stop - start);
	*cur = sp ? sp + 1 : end;
	return start;
}

/* Parses a record line (without its newline) into r; the message is decoded into p->scratch.
 * False with `why` set if the line is not a whole, intact record. The seq is not checked here. */
static bool journal_parse_record(struct journal_parse *p, const char *s, size_t len, struct journal_record *r,
                                 const char **why)
{
	uint32_t want;
	if (len < 10 || s[8] != ' ' || !journal_parse_hex32(s, &want)) {
		*why = "not a record (no checksum)";
		return false;
	}
	if (crc32c(0, s + 9, len - 9) != want) {
		*why = "bad checksum";
		return false;
	}
	const char *cur = s + 9, *end = s + len;
	size_t n;
	const char *f;
	uint64_t v;
	*why = "the checksum matches but the record is malformed";

	f = journal_field(&cur, end, &n);
	if (!journal_parse_u64(f, n, UINT64_MAX, &r->seq) || cur == end)
		return false;
	f = journal_field(&cur, end, &n);
	if (!journal_parse_u64(f, n, UINT32_MAX, &v) || cur == end)
		return false;
	r->run = (uint32_t)v;
	f = journal_field(&cur, end, &n);
	bool neg = n > 0 && f[0] == '-';
	if (!journal_parse_u64(f + neg, n - neg, neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, &v) ||
	    cur == end)
		return false;
	r->time_ms = neg ? (int64_t)(0 - v) : (int64_t)v;
	f = journal_field(&cur, end, &n);
	if (n == 1 && f[0] == '-')
		r->op = DAG_NONE;
	else if (journal_parse_u64(f, n, UINT32_MAX - 1, &v))
		r->op = (uint32_t)v;
	else
		return false;
	if (cur == end)
		return false;
	f = journal_field(&cur, end, &n);
	if (!journal_parse_u64(f, n, UINT32_MAX, &v))
		return false;
	r->attempt = (uint32_t)v;
	if (cur == end)
		return false;
	/* The state, then the message: the rest of the line, spaces and all (the writer always puts the
	 * space before it; a line that stops after the state has an empty message). */
	bool has_message = memchr(cur, ' ', (size_t)(end - cur)) != NULL;
	f = journal_field(&cur, end, &n);
	int state = -1;
	for (int i = 0; i < JOURNAL_N_STATES; i++)
		if (strlen(journal_state_names[i]) == n && memcmp(journal_state_names[i], f, n) == 0) {
			state = i;
			break;
		}
	if (state < 0) {
		*why = "the checksum matches but the state is unknown";
		return false;
	}
	r->state = (enum journal_state)state;
	if (!journal_unescape(&p->scratch, has_message ? cur : end, (size_t)(end - (has_message ? cur : end)))) {
		*why = "the checksum matches but the message is not escaped";
		return false;
	}
	r->message = p->scratch.data ? p->scratch.data : "";
	return true;
}

static void journal_parse_header(struct journal_parse *p, const char *s, size_t len, bool newline)
{
	if (!newline) {
		if (len == 0)
			journal_fail(p, "%s is empty: it has no header, so no run was ever recorded in it; remove it to "
			                "start over", p->name);
		else
			journal_fail(p, "%s: the header line is incomplete (the journal's creation was interrupted): no run "
			                "was recorded in it; remove it to start over", p->name);
		return;
	}
	size_t magic = strlen(JOURNAL_MAGIC);
	if (len < magic + 1 || memcmp(s, JOURNAL_MAGIC " ", magic + 1) != 0) {
		journal_fail(p, "%s is not a drplan journal (its first line does not start with '%s')", p->name,
		             JOURNAL_MAGIC);
		return;
	}
	const char *cur = s + magic + 1, *end = s + len;
	size_t n;
	const char *f = journal_field(&cur, end, &n);
	uint64_t version;
	if (!journal_parse_u64(f, n, UINT32_MAX, &version)) {
		journal_fail(p, "%s:1: the header's format version is not a number", p->name);
		return;
	}
	if (version < JOURNAL_OLDEST_VERSION || version > JOURNAL_FORMAT_VERSION) {
		journal_fail(p, "%s: journal format version %" PRIu64 ", but this drplan reads versions %d to %d only: "
		                "use the drplan that wrote it", p->name, version, JOURNAL_OLDEST_VERSION,
		             JOURNAL_FORMAT_VERSION);
		return;
	}
	/* "<digest> <name> <crc>", the crc over everything before its space. */
	const char *last = end;
	while (last > cur && last[-1] != ' ')
		last--;
	uint32_t want;
	if (end - last != 8 || last == cur || !journal_parse_hex32(last, &want)) {
		journal_fail(p, "%s:1: malformed header (expected '%s %d <plan digest> <plan name> <checksum>')", p->name,
		             JOURNAL_MAGIC, JOURNAL_FORMAT_VERSION);
		return;
	}
	if (crc32c(0, s, (size_t)(last - 1 - s)) != want) {
		journal_fail(p, "%s:1: the header's checksum does not match: the file is damaged", p->name);
		return;
	}
	f = journal_field(&cur, last - 1, &n);
	char digest[65];
	if (n != 64 || cur >= last - 1) {
		journal_fail(p, "%s:1: malformed header (the plan digest or name is missing)", p->name);
		return;
	}
	memcpy(digest, f, 64);
	digest[64] = '\0';
	if (!journal_digest_ok(digest)) {
		journal_fail(p, "%s:1: malformed header (the plan digest is not 64 lowercase hex digits)", p->name);
		return;
	}
	size_t name_len = (size_t)(last - 1 - cur);
	if (memchr(cur, ' ', name_len) || !journal_unescape(&p->scratch, cur, name_len) || p->scratch.len == 0 ||
	    p->scratch.len > JOURNAL_MAX_PLAN_NAME) {
		journal_fail(p, "%s:1: malformed header (the plan name)", p->name);
		return;
	}
	memcpy(p->digest, digest, 65);
	memcpy(p->plan_name, p->scratch.data, p->scratch.len + 1);
	if (p->want_digest && strcmp(p->want_digest, digest) != 0) {
		struct buf name = BUF_INIT;
		journal_escape(&name, p->plan_name, strlen(p->plan_name), false);
		journal_fail(p, "%s belongs to another compiled plan: '%s' with digest %.12s..., not this one (digest "
		                "%.12s...): resume with the plan it was started with, or start a new journal",
		             p->name, name.data, digest, p->want_digest);
		buf_free(&name);
		return;
	}
	p->have_header = true;
}

/* One line: s[0..len) without its newline; full_len is its real length (larger when a line too long
 * to keep was skipped). */
static void journal_parse_line(struct journal_parse *p, const char *s, size_t len, size_t full_len, bool newline)
{
	p->line++;
	uint64_t offset = p->offset;
	p->offset += full_len + newline;
	if (p->failed)
		return;
	if (!p->have_header) {
		if (full_len > JOURNAL_MAX_LINE)
			journal_fail(p, "%s is not a drplan journal (its first line is %zu bytes long)", p->name, full_len);
		else
			journal_parse_header(p, s, len, newline);
		p->good_end = p->offset;
		return;
	}
	if (!newline && (p->flags & JOURNAL_READ_LIVE) && !p->bad)
		return; /* a record being appended by the run: not there yet */
	struct journal_record r;
	const char *why = NULL;
	bool ok = full_len <= JOURNAL_MAX_LINE && journal_parse_record(p, s, len, &r, &why);
	if (!why)
		why = "the line is too long to be a record";
	if (p->bad) {
		/* An intact record after a bad one: not a torn end but damage in the middle. */
		if (ok && newline)
			journal_fail(p, "%s:%" PRIu64 " (byte %" PRIu64 "): %s, yet line %" PRIu64 " after it is an intact "
			                "record: the journal is damaged in the middle, not torn at its end; refusing to use "
			                "it (see docs/journal.md)", p->name, p->bad_line, p->bad_offset, p->bad_why, p->line);
		return;
	}
	char seqwhy[96];
	if (!newline) {
		ok = false;
		why = "the last line has no newline (a write torn by a crash)";
	} else if (ok && r.seq != p->next_seq) {
		snprintf(seqwhy, sizeof seqwhy, "seq %" PRIu64 " where %" PRIu64 " was expected", r.seq, p->next_seq);
		ok = false;
		why = seqwhy;
	}
	if (!ok) {
		p->bad = true;
		p->bad_line = p->line;
		p->bad_offset = offset;
		snprintf(p->bad_why, sizeof p->bad_why, "%s", why);
		return;
	}
	if (p->each)
		p->each(p->ctx, &r);
	p->next_seq++;
	p->good_end = p->offset;
}

static void journal_parse_init(struct journal_parse *p, const char *name, unsigned flags,
                               void (*each)(void *ctx, const struct journal_record *r), void *ctx, char *err,
                               size_t errlen)
{
	memset(p, 0, sizeof *p);
	p->name = name;
	p->flags = flags;
	p->each = each;
	p->ctx = ctx;
	p->err = err;
	p->errlen = errlen;
	p->next_seq = 1;
}

static void journal_parse_mem(struct journal_parse *p, const char *data, size_t len)
{
	size_t at = 0;
	while (at < len && !p->failed) {
		const char *nl = memchr(data + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - (data + at)) : len - at;
		journal_parse_line(p, data + at, n, n, nl != NULL);
		at += n + (nl != NULL);
	}
}

static void journal_parse_fd(struct journal_parse *p, int fd)
{
	char *buf = xmalloc(JOURNAL_READ_CHUNK);
	size_t start = 0, end = 0;
	size_t skipped = 0; /* bytes of an over-long line passed over so far */
	bool skipping = false, eof = false;
	while (!p->failed) {
		const char *nl = start < end ? memchr(buf + start, '\n', end - start) : NULL;
		if (nl) {
			size_t n = (size_t)(nl - (buf + start));
			if (skipping)
				journal_parse_line(p, buf + start, 0, skipped + n, true);
			else
				journal_parse_line(p, buf + start, n, n, true);
			skipping = false;
			skipped = 0;
			start += n + 1;
			continue;
		}
		if (skipping || end - start > JOURNAL_MAX_LINE) {
			skipping = true;
			skipped += end - start;
			start = end;
		}
		if (eof)
			break;
		memmove(buf, buf + start, end - start);
		end -= start;
		start = 0;
		ssize_t got = read(fd, buf + end, JOURNAL_READ_CHUNK - end);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			journal_fail(p, "cannot read %s: %s", p->name, strerror(errno));
			break;
		}
		if (got == 0)
			eof = true;
		end += (size_t)got;
	}
	if (!p->failed && (skipping || end > start))
		journal_parse_line(p, buf + start, skipping ? 0 : end - start, skipping ? skipped : end - start, false);
	free(buf);
}

/* After the last line: the header must have been there; a torn tail becomes one warning (in warning,
 * which is left empty if there is none). False if the journal cannot be used. */
static bool journal_parse_finish(struct journal_parse *p, struct buf *warning)
{
	if (!p->failed && !p->have_header)
		journal_parse_header(p, "", 0, false);
	if (p->failed)
		return false;
	if (p->bad) {
		uint64_t lines = p->line - p->bad_line + 1, bytes = p->offset - p->bad_offset;
		buf_printf(warning, "%s:%" PRIu64 " (byte %" PRIu64 "): %s: the journal's torn end (%" PRIu64 " line%s, %" PRIu64
		                    " bytes, after the last intact record, seq %" PRIu64 ") %s",
		           p->name, p->bad_line, p->bad_offset, p->bad_why, lines, lines == 1 ? "" : "s", bytes,
		           p->next_seq - 1, p->trimming ? "was truncated away" : "is ignored");
	}
	return true;
}

static void journal_copy_header(const struct journal_parse *p, char *digest_out, char *name_out)
{
	if (digest_out)
		memcpy(digest_out, p->digest, 65);
	if (name_out)
		memcpy(name_out, p->plan_name, sizeof p->plan_name);
}

bool journal_read_mem(const char *data, size_t len, const char *name, unsigned flags, char *plan_digest_out,
                      char *plan_name_out, void (*each)(void *ctx, const struct journal_record *r),
                      void (*warn)(void *ctx, const char *message), void *ctx, char *err, size_t errlen)
{
	struct journal_parse p;
	journal_parse_init(&p, name, flags, each, ctx, err, errlen);
	journal_parse_mem(&p, data, len);
	struct buf warning = BUF_INIT;
	bool ok = journal_parse_finish(&p, &warning);
	if (ok) {
		journal_copy_header(&p, plan_digest_out, plan_name_out);
		if (warning.len && warn)
			warn(ctx, warning.data);
	}
	buf_free(&warning);
	buf_free(&p.scratch);
	return ok;
}

bool journal_read_ex(const char *path, unsigned flags, char *plan_digest_out, char *plan_name_out,
                     void (*each)(void *ctx, const struct journal_record *r),
                     void (*warn)(void *ctx, const char *message), void *ctx, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		journal_errno(err, errlen, "open", path);
		return false;
	}
	struct journal_parse p;
	journal_parse_init(&p, path, flags, each, ctx, err, errlen);
	journal_parse_fd(&p, fd);
	close(fd);
	struct buf warning = BUF_INIT;
	bool ok = journal_parse_finish(&p, &warning);
	if (ok) {
		journal_copy_header(&p, plan_digest_out, plan_name_out);
		if (warning.len && warn)
			warn(ctx, warning.data);
	}
	buf_free(&warning);
	buf_free(&p.scratch);
	return ok;
}

bool journal_read(const char *path, char *plan_digest_out, char *plan_name_out,
                  void (*each)(void *ctx, const struct journal_record *r),
                  void (*warn)(void *ctx, const char *message), void *ctx, char *err, size_t errlen)
{
	return journal_read_ex(path, 0, plan_digest_out, plan_name_out, each, warn, ctx, err, errlen);
}

struct journal *journal_open(const char *path, const char *plan_digest,
                             void (*each)(void *ctx, const struct journal_record *r),
                             void (*warn)(void *ctx, const char *message), void *ctx, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		journal_errno(err, errlen, "open", path);
		return NULL;
	}
	if (!journal_lock_fd(fd, path, err, errlen)) {
		close(fd);
		return NULL;
	}
	struct journal_parse p;
	journal_parse_init(&p, path, 0, each, ctx, err, errlen);
	p.trimming = true;
	p.want_digest = plan_digest;
	journal_parse_fd(&p, fd);
	struct buf warning = BUF_INIT;
	struct journal *j = NULL;
	if (!journal_parse_finish(&p, &warning))
		goto out;
	if (p.bad) {
		/* Cut the tail off for good before anything is appended after it. */
		if (ftruncate(fd, (off_t)p.good_end) != 0 || fsync(fd) != 0) {
			journal_errno(err, errlen, "truncate the torn end of", path);
			goto out;
		}
		if (warn)
			warn(ctx, warning.data);
	}
	j = journal_new(fd, path, p.next_seq);
out:
	if (!j)
		close(fd);
	buf_free(&warning);
	buf_free(&p.scratch);
	return j;
}
