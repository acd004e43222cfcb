/* test_journal.c: CRC-32C, the run journal (round trips, torn tails cut at every byte, damage in
 * the middle refused, wrong plans and versions refused, escaping, group commit failures) and the
 * protection-group locks (held against this process and others, freed when the holder dies). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../lib/buf.h"
#include "../../lib/crc32c.h"
#include "../../runtime/journal.h"
#include "../../runtime/lock.h"
#include "suites.h"

#define DIGEST_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DIGEST_B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

/* ---- Helpers */

struct got {
	struct journal_record *records; /* messages copied */
	size_t n, cap;
	int warnings;
	char warning[1024];
};

static void got_each(void *ctx, const struct journal_record *r)
{
	struct got *g = ctx;
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 16;
		g->records = realloc(g->records, g->cap * sizeof *g->records);
	}
	g->records[g->n] = *r;
	g->records[g->n].message = strdup(r->message);
	g->n++;
}

static void got_warn(void *ctx, const char *message)
{
	struct got *g = ctx;
	g->warnings++;
	snprintf(g->warning, sizeof g->warning, "%s", message);
}

static void got_free(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		free((char *)g->records[i].message);
	free(g->records);
	memset(g, 0, sizeof *g);
}

static char tmpdir[64];

static void tmp_setup(void)
{
	strcpy(tmpdir, "/tmp/drplan-journal-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void tmp_teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

static void tmp_path(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", tmpdir, name);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *data = malloc((size_t)n + 1);
	ck_assert_uint_eq(fread(data, 1, (size_t)n, f), (size_t)n);
	data[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return data;
}

static void spit(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static struct journal_record rec(uint32_t run, int64_t time_ms, uint32_t op, uint32_t attempt,
                                 enum journal_state state, const char *message)
{
	return (struct journal_record){0, run, time_ms, op, attempt, state, message};
}

/* A journal with n records (a run-start, then start/done pairs), committed in batches of 3. */
static void make_journal(const char *path, uint32_t n)
{
	char err[256];
	struct journal *j = journal_create(path, DIGEST_A, "payments failover", err, sizeof err);
	ck_assert_msg(j != NULL, "%s", err);
	for (uint32_t i = 0; i < n; i++) {
		struct journal_record r = i == 0 ? rec(1, 0, DAG_NONE, 0, JOURNAL_RUN_START, "planned --seed 7")
		                                 : rec(1, 10 * i, i / 2, 1, i % 2 ? JOURNAL_START : JOURNAL_DONE, "");
		journal_append(j, &r);
		if (i % 3 == 2)
			ck_assert_msg(journal_commit(j, err, sizeof err), "%s", err);
	}
	ck_assert_msg(journal_commit(j, err, sizeof err), "%s", err);
	ck_assert_uint_eq(journal_pending(j), 0);
	journal_close(j);
}

/* The offset of the start of the last line of data[0..len) (which ends with a newline). */
static size_t last_line_start(const char *data, size_t len)
{
	size_t i = len - 1;
	while (i > 0 && data[i - 1] != '\n')
		i--;
	return i;
}

/* A record line with a correct checksum over `body` ("<seq> <run> ... <state> <message>"). */
static void record_line(struct buf *out, const char *body)
{
	buf_printf(out, "%08x %s\n", crc32c(0, body, strlen(body)), body);
}

/* ---- CRC-32C */

START_TEST(test_crc32c)
{
	ck_assert_uint_eq(crc32c(0, "123456789", 9), 0xE3069283u);
	ck_assert_uint_eq(crc32c(0, "", 0), 0);
	/* RFC 3720 B.4: 32 bytes of zeros, of 0xFF. */
	unsigned char z[32] = {0}, ff[32];
	memset(ff, 0xFF, sizeof ff);
	ck_assert_uint_eq(crc32c(0, z, 32), 0x8A9136AAu);
	ck_assert_uint_eq(crc32c(0, ff, 32), 0x62A8AB43u);
	char hex[9] = "";
	crc32c_hex(hex, 0xE3069283u);
	ck_assert_str_eq(hex, "e3069283");
	crc32c_hex(hex, 0x0000000Fu);
	ck_assert_str_eq(hex, "0000000f");
	/* In pieces of every size, from every alignment: the same as at once. */
	char data[301];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (char)(i * 31 + 7);
	uint32_t whole = crc32c(0, data, sizeof data);
	for (size_t cut = 0; cut <= sizeof data; cut++)
		ck_assert_uint_eq(crc32c(crc32c(0, data, cut), data + cut, sizeof data - cut), whole);
}
END_TEST

/* ---- Journal */

START_TEST(test_round_trip)
{
	char path[128], err[256];
	tmp_path(path, sizeof path, "j.log");
	struct journal *j = journal_create(path, DIGEST_A, "pay", err, sizeof err);
	ck_assert_msg(j != NULL, "%s", err);
	ck_assert_uint_eq(journal_next_seq(j), 1);
	const struct journal_record in[] = {
		rec(1, 0, DAG_NONE, 0, JOURNAL_RUN_START, "mode planned, strategy pipelined"),
		rec(1, 5, 0, 1, JOURNAL_START, ""),
		rec(1, 1500, 0, 1, JOURNAL_RETRY, "array busy"),
		rec(1, 3000, 0, 2, JOURNAL_TIMEOUT, "no reply in 30s"),
		rec(1, 3001, 0, 3, JOURNAL_FAILED, "gave up"),
		rec(1, 3002, 7, 1, JOURNAL_IGNORED, "protected site unreachable"),
		rec(1, 3003, 8, 0, JOURNAL_SKIPPED, "prerequisite s3.failover.d1 failed"),
		rec(1, 3004, DAG_NONE, 0, JOURNAL_RUN_END, "1 failed, 1 ignored"),
		rec(2, 0, DAG_NONE, 0, JOURNAL_RUN_START, "resume"),
		rec(2, 1, 9, 1, JOURNAL_RECONCILED_DONE, ""),
		rec(2, 2, 10, 1, JOURNAL_RECONCILED_NOT_DONE, ""),
		rec(2, 3, 11, 1, JOURNAL_PROMPT_CONFIRMED, "operator alice"),
		rec(2, 9223372036854775807LL, 4294967294u, 4294967295u, JOURNAL_DONE, ""),
		rec(4294967295u, -12, 3, 1, JOURNAL_START, ""),
	};
	size_t n = sizeof in / sizeof in[0];
	for (size_t i = 0; i < n; i++)
		journal_append(j, &in[i]);
	ck_assert_uint_eq(journal_pending(j), n);
	ck_assert_uint_eq(journal_next_seq(j), n + 1);
	ck_assert_msg(journal_commit(j, err, sizeof err), "%s", err);
	ck_assert_uint_eq(journal_pending(j), 0);
	ck_assert(journal_commit(j, err, sizeof err)); /* nothing to do */
	journal_close(j);

	/* Read back, then reopened: the same records, seq 1..n. */
	for (int pass = 0; pass < 2; pass++) {
		struct got g = {0};
		char digest[65], name[256];
		if (pass == 0) {
			ck_assert_msg(journal_read(path, digest, name, got_each, got_warn, &g, err, sizeof err), "%s", err);
			ck_assert_str_eq(digest, DIGEST_A);
			ck_assert_str_eq(name, "pay");
		} else {
			j = journal_open(path, DIGEST_A, got_each, got_warn, &g, err, sizeof err);
			ck_assert_msg(j != NULL, "%s", err);
			ck_assert_uint_eq(journal_next_seq(j), n + 1);
			journal_close(j);
		}
		ck_assert_int_eq(g.warnings, 0);
		ck_assert_uint_eq(g.n, n);
		for (size_t i = 0; i < n; i++) {
			ck_assert_uint_eq(g.records[i].seq, i + 1);
			ck_assert_uint_eq(g.records[i].run, in[i].run);
			ck_assert_int_eq(g.records[i].time_ms, in[i].time_ms);
			ck_assert_uint_eq(g.records[i].op, in[i].op);
			ck_assert_uint_eq(g.records[i].attempt, in[i].attempt);
			ck_assert_int_eq(g.records[i].state, in[i].state);
			ck_assert_str_eq(g.records[i].message, in[i].message);
		}
		got_free(&g);
	}

	/* The text an operator reads: the header, then "<crc> <seq> <run> <time> <op> <attempt> <state> <msg>". */
	size_t len;
	char *text = slurp(path, &len);
	ck_assert_msg(strncmp(text, "drplan-journal 2 " DIGEST_A " pay ", 17 + 64 + 5) == 0, "%s", text);
	ck_assert_ptr_nonnull(strstr(text, " 1 1 0 - 0 run-start mode planned, strategy pipelined\n"));
	ck_assert_ptr_nonnull(strstr(text, " 2 1 5 0 1 start \n"));
	ck_assert_ptr_nonnull(strstr(text, " 14 4294967295 -12 3 1 start \n"));
	free(text);

	/* An existing journal is never overwritten. */
	ck_assert_ptr_null(journal_create(path, DIGEST_A, "pay", err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "already exists"));
}
END_TEST

START_TEST(test_append_after_reopen)
{
	char path[128], err[256];
	tmp_path(path, sizeof path, "j.log");
	make_journal(path, 7);
	struct got g = {0};
	struct journal *j = journal_open(path, DIGEST_A, got_each, got_warn, &g, err, sizeof err);
	ck_assert_msg(j != NULL, "%s", err);
	ck_assert_uint_eq(g.n, 7);
	/* A second writer is refused while the first has it open. */
	ck_assert_ptr_null(journal_open(path, DIGEST_A, NULL, NULL, NULL, err, sizeof err));
	ck_assert_msg(strstr(err, "in use by another") != NULL, "%s", err);
	struct journal_record r = rec(2, 0, DAG_NONE, 0, JOURNAL_RUN_START, "resume");
	journal_append(j, &r);
	ck_assert(journal_commit(j, err, sizeof err));
	journal_close(j);
	got_free(&g);
	ck_assert(journal_read(path, NULL, NULL, got_each, got_warn, &g, err, sizeof err));
	ck_assert_uint_eq(g.n, 8);
	ck_assert_uint_eq(g.records[7].seq, 8);
	ck_assert_str_eq(g.records[7].message, "resume");
	got_free(&g);
}
END_TEST

/* Cut at every byte of the last record: the reopen warns once (unless the cut removed the whole
 * record, which is a clean end), keeps the others, and what is appended next reads back. */
START_TEST(test_torn_tail_every_offset)
{
	char path[128], err[256];
	tmp_path(path, sizeof path, "orig.log");
	make_journal(path, 6);
	size_t len;
	char *orig = slurp(path, &len);
	size_t start = last_line_start(orig, len);
	ck_assert_uint_gt(len - start, 20);
	tmp_path(path, sizeof path, "cut.log");
	for (size_t cut = start; cut < len; cut++) {
		unlink(path);
		spit(path, orig, cut);
		struct got g = {0};
		/* journal_read reports the same thing and changes nothing. */
		ck_assert_msg(journal_read(path, NULL, NULL, got_each, got_warn, &g, err, sizeof err), "%s", err);
		ck_assert_int_eq(g.warnings, cut > start);
		ck_assert_uint_eq(g.n, 5);
		got_free(&g);
		struct stat st;
		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert_uint_eq((size_t)st.st_size, cut);

		struct journal *j = journal_open(path, DIGEST_A, got_each, got_warn, &g, err, sizeof err);
		ck_assert_msg(j != NULL, "cut at %zu: %s", cut, err);
		ck_assert_int_eq(g.warnings, cut > start);
		if (cut > start) {
			char want[64];
			snprintf(want, sizeof want, "cut.log:7 (byte %zu): ", start);
			ck_assert_msg(strstr(g.warning, want) != NULL, "%s", g.warning);
			ck_assert_msg(strstr(g.warning, "truncated") != NULL, "%s", g.warning);
		}
		ck_assert_uint_eq(g.n, 5);
		ck_assert_uint_eq(journal_next_seq(j), 6);
		got_free(&g);
		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert_uint_eq((size_t)st.st_size, start);
		struct journal_record a = rec(2, 0, DAG_NONE, 0, JOURNAL_RUN_START, "resume"),
		                      b = rec(2, 4, 2, 1, JOURNAL_START, "again");
		journal_append(j, &a);
		journal_append(j, &b);
		ck_assert(journal_commit(j, err, sizeof err));
		journal_close(j);
		ck_assert_msg(journal_read(path, NULL, NULL, got_each, got_warn, &g, err, sizeof err), "%s", err);
		ck_assert_int_eq(g.warnings, 0);
		ck_assert_uint_eq(g.n, 7);
		ck_assert_uint_eq(g.records[5].seq, 6);
		ck_assert_str_eq(g.records[5].message, "resume");
		ck_assert_uint_eq(g.records[6].seq, 7);
		ck_assert_str_eq(g.records[6].message, "again");
		got_free(&g);
	}
	free(orig);
}
END_TEST

START_TEST(test_live_read)
{
	char path[128], err[256];
	tmp_path(path, sizeof path, "j.log");
	make_journal(path, 4);
	size_t len;
	char *text = slurp(path, &len);
	/* A record being appended by a running run: no newline yet. Not a warning for a live reader. */
	struct got g = {0};
	ck_assert(journal_read_mem(text, len - 3, "live", JOURNAL_READ_LIVE, NULL, NULL, got_each, got_warn, &g, err,
	                           sizeof err));
	ck_assert_int_eq(g.warnings, 0);
	ck_assert_uint_eq(g.n, 3);
	got_free(&g);
	/* But a complete line with a bad checksum is. */
	text[len - 2] ^= 1;
	ck_assert(journal_read_mem(text, len, "live", JOURNAL_READ_LIVE, NULL, NULL, got_each, got_warn, &g, err,
	                           sizeof err));
	ck_assert_int_eq(g.warnings, 1);
	ck_assert_msg(strstr(g.warning, "bad checksum") != NULL, "%s", g.warning);
	ck_assert_msg(strstr(g.warning, "is ignored") != NULL, "%s", g.warning);
	ck_assert_uint_eq(g.n, 3);
	got_free(&g);
	free(text);
}
END_TEST

START_TEST(test_corrupt_middle_refused)
{
	char path[128], err[512];
	tmp_path(path, sizeof path, "j.log");
	make_journal(path, 6);
	size_t len;
	char *text = slurp(path, &len);
	/* Line 3 (the second record): one bit flipped in its message-less state word. */
	char *line = text;
	for (int i = 0; i < 2; i++)
		line = strchr(line, '\n') + 1;
	char *state = strstr(line, "start");
	ck_assert_ptr_nonnull(state);
	state[0] = 'S';
	spit(path, text, len);
	struct got g = {0};
	ck_assert(!journal_read(path, NULL, NULL, got_each, got_warn, &g, err, sizeof err));
	ck_assert_msg(strstr(err, "j.log:3 (byte") && strstr(err, "bad checksum") && strstr(err, "line 4") &&
	                  strstr(err, "damaged in the middle"),
	              "%s", err);
	got_free(&g);
	ck_assert_ptr_null(journal_open(path, DIGEST_A, got_each, got_warn, &g, err, sizeof err));
	ck_assert_msg(strstr(err, "damaged in the middle") != NULL, "%s", err);
	ck_assert_int_eq(g.warnings, 0);
	got_free(&g);
	/* Refused means untouched. */
	size_t len2;
	char *after = slurp(path, &len2);
	ck_assert_uint_eq(len2, len);
	free(after);

	/* Only the last record bad (newline intact): a damaged tail, cut. */
	state[0] = 's';
	text[len - 3] ^= 0x20;
	unlink(path);
	spit(path, text, len);
	struct journal *j = journal_open(path, DIGEST_A, got_each, got_warn, &g, err, sizeof err);
	ck_assert_msg(j != NULL, "%s", err);
	ck_assert_int_eq(g.warnings, 1);
	ck_assert_uint_eq(g.n, 5);
	journal_close(j);
	got_free(&g);
	free(text);
}
END_TEST

START_TEST(test_seq_gap)
{
	char path[128], err[512];
	tmp_path(path, sizeof path, "j.log");
	make_journal(path, 3);
	size_t len;
	char *text = slurp(path, &len);
	/* A last record whose seq skips one: a tail that cannot be trusted. */
	struct buf b = BUF_INIT;
	buf_append(&b, text, len);
	record_line(&b, "5 1 40 2 1 done ");
	unlink(path);
	spit(path, b.data, b.len);
	struct got g = {0};
	struct journal *j = journal_open(path, DIGEST_A, got_each, got_warn, &g, err, sizeof err);
	ck_assert_msg(j != NULL, "%s", err);
	ck_assert_int_eq(g.warnings, 1);
	ck_assert_msg(strstr(g.warning, "seq 5 where 4 was expected") != NULL, "%s", g.warning);
	ck_assert_uint_eq(g.n, 3);
	ck_assert_uint_eq(journal_next_seq(j), 4);
	journal_close(j);
	got_free(&g);

	/* A gap followed by intact records: records went missing in the middle. */
	buf_clear(&b);
	buf_append(&b, text, len);
	record_line(&b, "5 1 40 2 1 done ");
	record_line(&b, "6 1 41 3 1 start ");
	unlink(path);
	spit(path, b.data, b.len);
	ck_assert_ptr_null(journal_open(path, DIGEST_A, got_each, got_warn, &g, err, sizeof err));
	ck_assert_msg(strstr(err, "seq 5 where 4 was expected") && strstr(err, "damaged in the middle"), "%s", err);
	got_free(&g);

	/* A hand-made record that is intact and in sequence is accepted, message spaces and all. */
	buf_clear(&b);
	buf_append(&b, text, len);
	record_line(&b, "4 1 40 2 1 failed  two  spaces ");
	record_line(&b, "5 1 41 3 1 done");
	ck_assert(journal_read_mem(b.data, b.len, "m", 0, NULL, NULL, got_each, got_warn, &g, err, sizeof err));
	ck_assert_int_eq(g.warnings, 0);
	ck_assert_uint_eq(g.n, 5);
	ck_assert_str_eq(g.records[3].message, " two  spaces ");
	ck_assert_int_eq(g.records[3].state, JOURNAL_FAILED);
	ck_assert_str_eq(g.records[4].message, "");
	got_free(&g);

	/* Intact checksums over malformed records: an unknown state, a bad escape, a raw tab. */
	static const char *const malformed[] = {
		"4 1 40 2 1 finished ", "4 1 40 2 1 done \\q", "4 1 40 2 1 done a\tb", "4 1 40 2 1 done \\x00",
		"4 1 x 2 1 done ", "4 1 40 -1 1 done ", "4 1 40 4294967295 1 done ", "4  1 40 2 1 done ",
		"4 1 40 2", "18446744073709551616 1 40 2 1 done ",
	};
	for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
		buf_clear(&b);
		buf_append(&b, text, len);
		record_line(&b, malformed[i]);
		ck_assert(journal_read_mem(b.data, b.len, "m", 0, NULL, NULL, got_each, got_warn, &g, err, sizeof err));
		ck_assert_msg(g.warnings == 1 && g.n == 3, "%s: %d warnings, %zu records", malformed[i], g.warnings, g.n);
		got_free(&g);
	}
	buf_free(&b);
	free(text);
}
END_TEST

START_TEST(test_wrong_digest_and_headers)
{
	char path[128], err[512];
	tmp_path(path, sizeof path, "j.log");
	make_journal(path, 2);
	struct got g = {0};
	ck_assert_ptr_null(journal_open(path, DIGEST_B, got_each, got_warn, &g, err, sizeof err));
	ck_assert_msg(strstr(err, "another compiled plan") && strstr(err, "'payments failover'") &&
	                  strstr(err, "0123456789ab") && strstr(err, "fedcba987654"),
	              "%s", err);
	ck_assert_uint_eq(g.n, 0);

	size_t len;
	char *text = slurp(path, &len);
	const char *after_header = strchr(text, '\n') + 1;
	static const struct {
		const char *header, *error;
	} cases[] = {
		{"drplan-journal 3 " DIGEST_A " pay 00000000\n", "format version 3"},
		{"drplan-journal 10 anything\n", "format version 10"},
		{"drplan-journal 0 anything\n", "reads versions 1 to 2 only"},
		{"drplan-journal x\n", "not a number"},
		{"drplan-log 1 " DIGEST_A " pay 00000000\n", "not a drplan journal"},
		{"drplan-journal 1 " DIGEST_A " pay 00000000\n", "checksum does not match"},
		{"drplan-journal 1 " DIGEST_A "\n", "malformed header"},
		{"drplan-journal 1 " DIGEST_A " pay", "incomplete"},
		{"", "is empty"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf b = BUF_INIT;
		buf_puts(&b, cases[i].header);
		if (strchr(cases[i].header, '\n'))
			buf_puts(&b, after_header);
		ck_assert(!journal_read_mem(b.data, b.len, "h", 0, NULL, NULL, got_each, got_warn, &g, err, sizeof err));
		ck_assert_msg(strstr(err, cases[i].error) != NULL, "case %zu: %s", i, err);
		ck_assert_uint_eq(g.n, 0);
		buf_free(&b);
	}
	/* A version 1 journal (from before vm-done records) is still read. */
	struct buf v1 = BUF_INIT;
	buf_puts(&v1, "drplan-journal 1 " DIGEST_A " pay");
	buf_printf(&v1, " %08x\n", crc32c(0, v1.data, v1.len));
	buf_puts(&v1, after_header);
	ck_assert_msg(journal_read_mem(v1.data, v1.len, "h", 0, NULL, NULL, got_each, got_warn, &g, err, sizeof err), "%s",
	              err);
	ck_assert_uint_gt(g.n, 0);
	got_free(&g);
	buf_free(&v1);
	/* A plan name with spaces and a newline survives the header. */
	tmp_path(path, sizeof path, "name.log");
	struct journal *j = journal_create(path, DIGEST_B, "east to west\n\\ 2", err, sizeof err);
	ck_assert_msg(j != NULL, "%s", err);
	journal_close(j);
	char name[256], digest[65];
	ck_assert(journal_read(path, digest, name, NULL, NULL, NULL, err, sizeof err));
	ck_assert_str_eq(name, "east to west\n\\ 2");
	ck_assert_str_eq(digest, DIGEST_B);
	ck_assert_ptr_null(journal_create("/nonexistent-dir/j.log", DIGEST_A, "p", err, sizeof err));
	ck_assert_ptr_null(journal_create(path, "not-a-digest", "p", err, sizeof err));
	free(text);
}
END_TEST

START_TEST(test_message_escaping)
{
	char path[128], err[256];
	tmp_path(path, sizeof path, "j.log");
	char every[256];
	for (int i = 1; i < 256; i++)
		every[i - 1] = (char)i;
	every[255] = '\0';
	const char *messages[] = {
		"line one\nline two\r\n\ttabbed",
		"back\\slash \\n not a newline \\x41",
		"UTF-8: \xC3\xA9t\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x98\x80",
		"C1 \xC2\x85 and bidi \xE2\x80\xAE and BOM \xEF\xBB\xBF",
		"invalid \xFF\xFE \xC3 \xED\xA0\x80 end",
		"  leading and trailing spaces  ",
		"\x1b[31mred\x1b[0m\x7f",
		every,
		"",
	};
	size_t n = sizeof messages / sizeof messages[0];
	struct journal *j = journal_create(path, DIGEST_A, "p", err, sizeof err);
	ck_assert_msg(j != NULL, "%s", err);
	for (size_t i = 0; i < n; i++) {
		struct journal_record r = rec(1, (int64_t)i, (uint32_t)i, 1, JOURNAL_FAILED, messages[i]);
		journal_append(j, &r);
	}
	ck_assert(journal_commit(j, err, sizeof err));
	journal_close(j);
	struct got g = {0};
	ck_assert(journal_read(path, NULL, NULL, got_each, got_warn, &g, err, sizeof err));
	ck_assert_int_eq(g.warnings, 0);
	ck_assert_uint_eq(g.n, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(g.records[i].message, messages[i]);
	got_free(&g);

	/* The file is one line per record, with no control character but the newlines, and valid UTF-8
	 * with no C1 control or direction override left raw. */
	size_t len;
	char *text = slurp(path, &len);
	size_t lines = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		lines += c == '\n';
		ck_assert_msg(c == '\n' || (c >= 0x20 && c != 0x7f), "byte %zu is 0x%02x", i, c);
	}
	ck_assert_uint_eq(lines, n + 1);
	ck_assert_ptr_null(strstr(text, "\xC2\x85"));
	ck_assert_ptr_null(strstr(text, "\xE2\x80\xAE"));
	ck_assert_ptr_nonnull(strstr(text, "\xE2\x9C\x93"));
	ck_assert_ptr_nonnull(strstr(text, "line one\\nline two\\x0d\\n\\ttabbed"));
	free(text);

	struct buf b = BUF_INIT;
	journal_escape(&b, "a b\\", 4, true);
	ck_assert_str_eq(b.data, "a\\x20b\\\\");
	buf_free(&b);
}
END_TEST

/* A message longer than the limit is cut, and the line still reads. */
START_TEST(test_long_message)
{
	char path[128], err[256];
	tmp_path(path, sizeof path, "j.log");
	size_t big = JOURNAL_MAX_MESSAGE + 1000;
	char *msg = malloc(big + 1);
	memset(msg, '\n', big); /* the worst case for escaping: every byte doubles */
	msg[big] = '\0';
	struct journal *j = journal_create(path, DIGEST_A, "p", err, sizeof err);
	struct journal_record r = rec(1, 0, 0, 1, JOURNAL_FAILED, msg);
	journal_append(j, &r);
	r.message = "after";
	journal_append(j, &r);
	ck_assert(journal_commit(j, err, sizeof err));
	journal_close(j);
	struct got g = {0};
	ck_assert(journal_read(path, NULL, NULL, got_each, got_warn, &g, err, sizeof err));
	ck_assert_int_eq(g.warnings, 0);
	ck_assert_uint_eq(g.n, 2);
	ck_assert_uint_eq(strlen(g.records[0].message), JOURNAL_MAX_MESSAGE);
	ck_assert_str_eq(g.records[1].message, "after");
	got_free(&g);
	free(msg);

	/* A line longer than any record, in the middle of a file read in pieces: damage. */
	size_t len;
	char *text = slurp(path, &len);
	struct buf b = BUF_INIT;
	const char *second = strchr(text, '\n') + 1;
	buf_append(&b, text, (size_t)(second - text));
	buf_repeat(&b, 'x', 3 * JOURNAL_MAX_LINE);
	buf_putc(&b, '\n');
	buf_puts(&b, second);
	unlink(path);
	spit(path, b.data, b.len);
	ck_assert(!journal_read(path, NULL, NULL, got_each, got_warn, &g, err, sizeof err));
	ck_assert_msg(strstr(err, "too long") && strstr(err, "damaged in the middle"), "%s", err);
	got_free(&g);
	/* At the end, a torn tail. */
	b.len = (size_t)(second - text) + 3 * JOURNAL_MAX_LINE;
	unlink(path);
	spit(path, b.data, b.len);
	ck_assert(journal_read(path, NULL, NULL, got_each, got_warn, &g, err, sizeof err));
	ck_assert_int_eq(g.warnings, 1);
	ck_assert_uint_eq(g.n, 0);
	got_free(&g);
	buf_free(&b);
	free(text);
}
END_TEST

/* Many records across the reader's 1 MiB pieces, and across many commits. */
START_TEST(test_many_records)
{
	char path[128], err[256];
	tmp_path(path, sizeof path, "j.log");
	struct journal *j = journal_create(path, DIGEST_A, "big", err, sizeof err);
	const uint32_t n = 50000;
	for (uint32_t i = 0; i < n; i++) {
		struct journal_record r = rec(1, i, i, 1, JOURNAL_DONE, i % 7 ? "" : "a message of some length, say");
		journal_append(j, &r);
		if (i % 10000 == 9999)
			ck_assert(journal_commit(j, err, sizeof err));
	}
	ck_assert(journal_commit(j, err, sizeof err));
	journal_close(j);
	struct got g = {0};
	ck_assert(journal_read(path, NULL, NULL, got_each, got_warn, &g, err, sizeof err));
	ck_assert_int_eq(g.warnings, 0);
	ck_assert_uint_eq(g.n, n);
	for (uint32_t i = 0; i < n; i++)
		ck_assert(g.records[i].seq == i + 1 && g.records[i].op == i);
	got_free(&g);
}
END_TEST

/* A disk that refuses (here: a file size limit) fails the commit, and every commit after it; the
 * partial batch on disk is a torn tail for the next open. */
START_TEST(test_commit_failure)
{
	char path[128], err[256];
	tmp_path(path, sizeof path, "j.log");
	make_journal(path, 3);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		signal(SIGXFSZ, SIG_IGN);
		struct journal *j = journal_open(path, DIGEST_A, NULL, NULL, NULL, err, sizeof err);
		struct stat st;
		if (!j || stat(path, &st) != 0)
			_exit(10);
		struct rlimit rl = {(rlim_t)st.st_size + 100, (rlim_t)st.st_size + 100};
		if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
			_exit(11);
		for (int i = 0; i < 20; i++) {
			struct journal_record r = rec(2, i, (uint32_t)i, 1, JOURNAL_DONE, "filling the disk");
			journal_append(j, &r);
		}
		if (journal_commit(j, err, sizeof err))
			_exit(12);
		if (!strstr(err, "cannot write"))
			_exit(13);
		struct journal_record r = rec(2, 0, 0, 1, JOURNAL_DONE, "");
		journal_append(j, &r);
		if (journal_commit(j, err, sizeof err) || !strstr(err, "cannot write"))
			_exit(14);
		journal_close(j);
		_exit(0);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	struct got g = {0};
	struct journal *j = journal_open(path, DIGEST_A, got_each, got_warn, &g, err, sizeof err);
	ck_assert_msg(j != NULL, "%s", err);
	ck_assert_int_eq(g.warnings, 1); /* the torn partial record */
	ck_assert_uint_ge(g.n, 4);       /* the 3, and whatever whole records fit in 100 bytes */
	ck_assert_uint_eq(journal_next_seq(j), g.n + 1);
	journal_close(j);
	got_free(&g);
}
END_TEST

/* ---- Locks */

START_TEST(test_lock_names)
{
	struct buf b = BUF_INIT;
	lock_file_name(&b, "pg-payments_1.db");
	ck_assert_str_eq(b.data, "pg-payments_1.db.lock");
	buf_clear(&b);
	lock_file_name(&b, "../etc/passwd");
	ck_assert_msg(strncmp(b.data, ".._etc_passwd-", 14) == 0 && !strchr(b.data, '/'), "%s", b.data);
	struct buf c = BUF_INIT;
	lock_file_name(&c, "..\\etc\\passwd");
	ck_assert_str_ne(b.data, c.data); /* same characters once made safe, still distinct files */
	buf_free(&b);
	buf_free(&c);
}
END_TEST

START_TEST(test_lock_conflict_same_process)
{
	char dir[128], err[512];
	tmp_path(dir, sizeof dir, "locks/nested");
	const char *first[] = {"pg-b", "pg-a", "pg-a"};
	struct run_lock *l = lock_acquire(dir, first, 3, "pid 1 on host h (plan p, journal j, since then)", err,
	                                  sizeof err);
	ck_assert_msg(l != NULL, "%s", err);
	const char *second[] = {"pg-0", "pg-b"};
	ck_assert_ptr_null(lock_acquire(dir, second, 2, "the second", err, sizeof err));
	ck_assert_str_eq(err, "protection group 'pg-b' is locked by pid 1 on host h (plan p, journal j, since then)");
	/* What the failed attempt took (pg-0, first in order) it gave back. */
	const char *third[] = {"pg-0"};
	struct run_lock *l3 = lock_acquire(dir, third, 1, "third", err, sizeof err);
	ck_assert_msg(l3 != NULL, "%s", err);
	lock_release(l3);
	lock_release(l);
	struct run_lock *l2 = lock_acquire(dir, second, 2, "the second", err, sizeof err);
	ck_assert_msg(l2 != NULL, "%s", err);
	lock_release(l2);
	struct run_lock *none = lock_acquire(dir, NULL, 0, "nobody", err, sizeof err);
	ck_assert_ptr_nonnull(none);
	lock_release(none);
	ck_assert_ptr_null(lock_acquire("", first, 1, "x", err, sizeof err));
}
END_TEST

/* Another process holds the lock: refused with its description; once it exits, or is killed with
 * SIGKILL, the lock is free. */
static void lock_child_case(bool kill_it)
{
	char dir[128], err[512];
	tmp_path(dir, sizeof dir, "locks");
	int ready[2], go[2];
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(go), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	const char *names[] = {"pg-shared", "pg-child"};
	if (pid == 0) {
		struct buf who = BUF_INIT;
		lock_describe(&who, "payments", "/var/lib/drplan/pay.journal");
		struct run_lock *l = lock_acquire(dir, names, 2, who.data, err, sizeof err);
		char c = l ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1)
			_exit(2);
		if (read(go[0], &c, 1) != 1) /* wait: the parent says when (or kills us) */
			_exit(3);
		_exit(0); /* without lock_release: the kernel must drop the lock */
	}
	char c = 0;
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	ck_assert_int_eq(c, 'y');
	const char *mine[] = {"pg-mine", "pg-shared"};
	ck_assert_ptr_null(lock_acquire(dir, mine, 2, "parent", err, sizeof err));
	char want[128];
	snprintf(want, sizeof want, "protection group 'pg-shared' is locked by pid %ld on host ", (long)pid);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
	ck_assert_msg(strstr(err, "(plan payments, journal /var/lib/drplan/pay.journal, since ") != NULL, "%s", err);
	if (kill_it)
		ck_assert_int_eq(kill(pid, SIGKILL), 0);
	else
		ck_assert_int_eq(write(go[1], "x", 1), 1);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(kill_it ? WIFSIGNALED(status) : WIFEXITED(status) && WEXITSTATUS(status) == 0);
	struct run_lock *l = lock_acquire(dir, mine, 2, "parent", err, sizeof err);
	ck_assert_msg(l != NULL, "%s", err);
	lock_release(l);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}

START_TEST(test_lock_freed_on_exit)
{
	lock_child_case(false);
}
END_TEST

START_TEST(test_lock_freed_on_sigkill)
{
	lock_child_case(true);
}
END_TEST

Suite *journal_suite(void)
{
	Suite *s = suite_create("journal");
	TCase *tc = tcase_create("journal");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_crc32c);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_append_after_reopen);
	tcase_add_test(tc, test_torn_tail_every_offset);
	tcase_add_test(tc, test_live_read);
	tcase_add_test(tc, test_corrupt_middle_refused);
	tcase_add_test(tc, test_seq_gap);
	tcase_add_test(tc, test_wrong_digest_and_headers);
	tcase_add_test(tc, test_message_escaping);
	tcase_add_test(tc, test_long_message);
	tcase_add_test(tc, test_many_records);
	tcase_add_test(tc, test_commit_failure);
	tcase_add_test(tc, test_lock_names);
	tcase_add_test(tc, test_lock_conflict_same_process);
	tcase_add_test(tc, test_lock_freed_on_exit);
	tcase_add_test(tc, test_lock_freed_on_sigkill);
	suite_add_tcase(s, tc);
	return s;
}
