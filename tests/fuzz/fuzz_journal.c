/* fuzz_journal.c: libFuzzer harness for the run journal's reader (runtime/journal.c): the header,
 * record parsing, unescaping, and telling a torn tail from damage in the middle.
 *
 * A random change to a record breaks its checksum and stops the reader at that line, so for inputs
 * of even length the harness first reseals every line whose checksum field is 8 hex digits (the
 * header's too): the fuzzer then reaches the fields, the escapes and the seq checks behind it.
 * Inputs of odd length are read as they are, for the checksum paths.
 *
 * Every input is read twice with journal_read_mem, as a finished journal and as a live one. Beyond
 * what the sanitizers and libFuzzer see, a broken promise aborts:
 * - both readings succeed or fail together, pass the same records, and warn at most once (the live
 *   one never more than the other); a failure always says why;
 * - records come with seq 1, 2, 3, ..., known states, and messages that are C strings;
 * - the round trip is exact: the header and records written again by journal_format_header and
 *   journal_format_record read back as the same records, with no warning. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/crc32c.h"
#include "runtime/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_got {
	struct buf records;            /* every record, formatted again (seq included) */
	uint64_t n;
	int warnings;
};

static void fuzz_each(void *ctx, const struct journal_record *r)
{
	struct fuzz_got *g = ctx;
	if (r->seq != g->n + 1 || (unsigned)r->state >= JOURNAL_N_STATES || !r->message) {
		fprintf(stderr, "fuzz_journal: record %llu has seq %llu, state %d\n", (unsigned long long)g->n + 1,
		        (unsigned long long)r->seq, (int)r->state);
		abort();
	}
	(void)strlen(r->message); /* must be a C string: ASan checks the read */
	journal_format_record(&g->records, r->seq, r);
	g->n++;
}

static void fuzz_warn(void *ctx, const char *message)
{
	struct fuzz_got *g = ctx;
	if (!message[0]) {
		fprintf(stderr, "fuzz_journal: an empty warning\n");
		abort();
	}
	g->warnings++;
}

static bool fuzz_same(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static bool fuzz_read(const char *text, size_t len, unsigned flags, struct fuzz_got *g, char *digest, char *name)
{
	char err[512] = "";
	bool ok = journal_read_mem(text, len, "fuzz", flags, digest, name, fuzz_each, fuzz_warn, g, err, sizeof err);
	if (!ok && !err[0]) {
		fprintf(stderr, "fuzz_journal: a failure without a reason\n");
		abort();
	}
	if (g->warnings > 1 || (!ok && g->warnings)) {
		fprintf(stderr, "fuzz_journal: %d warnings (ok %d)\n", g->warnings, ok);
		abort();
	}
	return ok;
}

static bool fuzz_hex8(const char *s)
{
	for (int i = 0; i < 8; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

static void fuzz_put_crc(char *at, uint32_t crc)
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 7; i >= 0; i--, crc >>= 4)
		at[i] = hex[crc & 0xF];
}

/* Rewrites the checksum of every line that has a place for one: the header's last field, a record's
 * first. */
static void fuzz_reseal(char *text, size_t len)
{
	size_t at = 0;
	for (bool header = true; at < len; header = false) {
		char *nl = memchr(text + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
		char *line = text + at;
		if (header && n > 9 && line[n - 9] == ' ' && fuzz_hex8(line + n - 8))
			fuzz_put_crc(line + n - 8, crc32c(0, line, n - 9));
		else if (!header && n >= 9 && line[8] == ' ' && fuzz_hex8(line))
			fuzz_put_crc(line, crc32c(0, line + 9, n - 9));
		at += n + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (size)
		memcpy(text, data, size);
	if (size % 2 == 0)
		fuzz_reseal(text, size);
	struct fuzz_got done = {BUF_INIT, 0, 0}, live = {BUF_INIT, 0, 0};
	char digest[65], name[JOURNAL_MAX_PLAN_NAME + 1];
	bool ok = fuzz_read(text, size, 0, &done, digest, name);
	bool ok_live = fuzz_read(text, size, JOURNAL_READ_LIVE, &live, digest, name);
	if (ok != ok_live || (ok && (done.n != live.n || !fuzz_same(&done.records, &live.records) ||
	                             live.warnings > done.warnings))) {
		fprintf(stderr, "fuzz_journal: finished and live readings differ (%d/%d, %llu/%llu records)\n", ok,
		        ok_live, (unsigned long long)done.n, (unsigned long long)live.n);
		abort();
	}
	if (ok) {
		struct buf again = BUF_INIT;
		journal_format_header(&again, digest, name);
		if (done.records.len)
			buf_append(&again, done.records.data, done.records.len);
		struct fuzz_got back = {BUF_INIT, 0, 0};
		char digest2[65], name2[JOURNAL_MAX_PLAN_NAME + 1];
		if (!fuzz_read(again.data, again.len, 0, &back, digest2, name2) || back.warnings || back.n != done.n ||
		    strcmp(digest, digest2) != 0 || strcmp(name, name2) != 0 || !fuzz_same(&back.records, &done.records)) {
			fprintf(stderr, "fuzz_journal: the round trip changed something:\n%s\n", again.data);
			abort();
		}
		buf_free(&back.records);
		buf_free(&again);
	}
	buf_free(&done.records);
	buf_free(&live.records);
	free(text);
	return 0;
}
