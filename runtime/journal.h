/* journal.h: the run journal (docs/journal.md): an append-only text file, one checksummed record per
 * state change of an operation, group-committed (many records, one fdatasync), from which `drplan
 * run --resume` rebuilds a run's state and `drplan status` reports on it. The scheduler is its only
 * writer; a journal object is not thread-safe. */
#ifndef DRP_JOURNAL_H
#define DRP_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../compiler/dag.h"
#include "../lib/buf.h"

/* Version 2 added the vm-done and note records; version 1 journals are still read (they cannot hold
 * them). */
#define JOURNAL_FORMAT_VERSION 2
#define JOURNAL_OLDEST_VERSION 1
#define JOURNAL_MAGIC "drplan-journal"
/* A message longer than this is cut when appended (adapter messages are at most 240 bytes). */
#define JOURNAL_MAX_MESSAGE 65536
/* A line longer than this is corrupt (a record with the longest message, escaped, fits). */
#define JOURNAL_MAX_LINE (4 * JOURNAL_MAX_MESSAGE + 256)
#define JOURNAL_MAX_PLAN_NAME 255

/* The state changes of an operation; journal_state_names[] are the words in the file. */
enum journal_state {
	JOURNAL_RUN_START,           /* op DAG_NONE; message: mode and options */
	JOURNAL_START,               /* an attempt began */
	JOURNAL_DONE,
	JOURNAL_FAILED,              /* final */
	JOURNAL_RETRY,               /* failed transiently; another attempt follows */
	JOURNAL_TIMEOUT,
	JOURNAL_IGNORED,             /* a best-effort op failed; the run goes on as if it were done */
	JOURNAL_SKIPPED,             /* not run: a prerequisite failed or the run stopped */
	JOURNAL_RECONCILED_DONE,     /* after a crash, the adapter says the op in flight took effect */
	JOURNAL_RECONCILED_NOT_DONE, /* ... or that it did not */
	JOURNAL_PROMPT_CONFIRMED,
	JOURNAL_RUN_END,             /* op DAG_NONE; message: the summary */
	JOURNAL_VM_DONE,             /* after a fault, the adapter says one VM of a workgroup op took
	                                effect; message: the VM's name, a space, what was found */
	JOURNAL_NOTE,                /* not a state change: what an adapter said about one VM of the
	                                attempt ("VM: text"; register: which copy of a VM being moved
	                                it used, and why), before the attempt's done */
	JOURNAL_N_STATES
};
extern const char *const journal_state_names[]; /* "run-start", "start", "done", ... */

struct journal_record {
	uint64_t seq;                /* assigned by journal_append: 1, 2, 3, ... over the whole file */
	uint32_t run;                /* 1, then 2 after a --resume, ... */
	int64_t time_ms;             /* the run's clock: ms since the run started (virtual or real) */
	uint32_t op;                 /* index in dag.ops, or DAG_NONE (written `-`) */
	uint32_t attempt;            /* 1 for the first try; 0 where it means nothing */
	enum journal_state state;
	const char *message;         /* NUL-terminated, may be ""; any bytes but NUL (escaped in the file) */
};

struct journal; /* opaque: an open journal, the batch not yet committed, the fd */

/* Creates PATH (O_EXCL: refuses an existing file) with its header, fsyncs file and directory.
 * plan_digest: 64 lowercase hex digits (see journal_plan_digest); plan_name: at most 255 bytes. The
 * file is locked (flock) while open, so that two runs never append to one journal. */
struct journal *journal_create(const char *path, const char *plan_digest, const char *plan_name,
                               char *err, size_t errlen);

/* Opens an existing journal for appending after reading it all: every valid record is passed to
 * `each` in order (which may be NULL; the record, message included, is valid during the call only).
 * A torn or corrupt tail (a last line without newline, a bad checksum, a seq gap) is reported
 * through `warn` (one message, with the line number and byte offset) and truncated away (ftruncate
 * + fsync) so that appending continues after the last good record; corruption in the middle (a bad
 * record followed by good ones) is an error: refuse. `plan_digest` must match the header's, or it
 * fails saying which compiled plan the journal belongs to. Returns NULL with err set on failure;
 * `each` may have been called before a failure is found: the caller discards what it got. */
struct journal *journal_open(const char *path, const char *plan_digest,
                             void (*each)(void *ctx, const struct journal_record *r),
                             void (*warn)(void *ctx, const char *message), void *ctx,
                             char *err, size_t errlen);

/* Appends to an in-memory batch (assigns seq; r->seq is ignored). Cheap: no system call. A
 * message longer than JOURNAL_MAX_MESSAGE is cut. */
void journal_append(struct journal *j, const struct journal_record *r);

/* Writes the batch with one write(2) (or a few) and ONE fdatasync: the group commit. Returns false
 * with err set if the disk refused (the run must stop: exit 3); the journal then refuses every later
 * commit too, since what reached the disk is unknown (the next open trims a torn tail). An empty
 * batch commits nothing and succeeds. */
bool journal_commit(struct journal *j, char *err, size_t errlen);

/* Closes the file (and its lock). Commits nothing: call journal_commit first. NULL is fine. */
void journal_close(struct journal *j);

/* The seq the next journal_append will assign, and the records appended but not committed. */
uint64_t journal_next_seq(const struct journal *j);
uint32_t journal_pending(const struct journal *j);

/* Reads a journal without opening it for writing (drplan status, tests): same callbacks; does not
 * truncate. Returns false with err set if the header is bad (or the file unreadable, or corrupt in
 * the middle). plan_digest_out (65 bytes) and plan_name_out (256 bytes) may be NULL. */
bool journal_read(const char *path, char *plan_digest_out, char *plan_name_out,
                  void (*each)(void *ctx, const struct journal_record *r),
                  void (*warn)(void *ctx, const char *message), void *ctx, char *err, size_t errlen);

/* Flags of journal_read_ex and journal_read_mem. */
enum {
	/* The journal may be growing (another process appends to it): a last line without a newline is
	 * a record being written, skipped without a warning. */
	JOURNAL_READ_LIVE = 1 << 0,
};

/* journal_read with flags. */
bool journal_read_ex(const char *path, unsigned flags, char *plan_digest_out, char *plan_name_out,
                     void (*each)(void *ctx, const struct journal_record *r),
                     void (*warn)(void *ctx, const char *message), void *ctx, char *err, size_t errlen);

/* journal_read over data[0..len) (fuzzing, tests); `name` is what messages call it. */
bool journal_read_mem(const char *data, size_t len, const char *name, unsigned flags, char *plan_digest_out,
                      char *plan_name_out, void (*each)(void *ctx, const struct journal_record *r),
                      void (*warn)(void *ctx, const char *message), void *ctx, char *err, size_t errlen);

/* The digest a journal's header holds for plan d: its compiled plan's seal (the SHA-256 of the
 * compiled plan's bytes with the seal's digits as zeros: docs/compiled-plan.md), so the same plan
 * gives the same digest whether it was run from its source or from its compiled file, and any
 * change to what would run gives another. */
void journal_plan_digest(const struct dag *d, char out[65]);

/* The header line and a record line exactly as the journal holds them, newline included (what
 * journal_create and journal_append write; for tests and fuzzers that build journals in memory). */
void journal_format_header(struct buf *out, const char *plan_digest, const char *plan_name);
void journal_format_record(struct buf *out, uint64_t seq, const struct journal_record *r);

/* Appends s[0..len) escaped as in a record's message: `\\`, `\n`, `\t`, and `\xNN` for each byte
 * of other control characters, C1 controls, invisible line and direction changes (U+2028-U+202E,
 * U+2066-U+2069, U+FEFF) and bytes that are not UTF-8; with `space`, spaces too (the plan name in
 * the header). The result is printable UTF-8 with no newline: safe on a terminal. */
void journal_escape(struct buf *out, const char *s, size_t len, bool space);

#endif
