/* compiled.h: the compiled plan's file format (docs/compiled-plan.md): a DAG written as one YAML
 * document by libyaml's emitter, sealed with the SHA-256 of its own bytes, and read back by a
 * hostile-input-proof event reader that checks every reference, so that `drplan run` executes
 * exactly what `drplan compile` wrote and a reviewer read. */
#ifndef DRP_COMPILED_H
#define DRP_COMPILED_H

#include <stdbool.h>
#include <stddef.h>

#include "../lib/buf.h"
#include "dag.h"
#include "diag.h"
#include "source.h"

/* The first line of every compiled plan, written raw before the YAML (libyaml emits no comments). */
#define COMPILED_HEADER \
	"# drplan compiled plan: written by `drplan compile`; do not edit (the digest would not match).\n"

/* Limits of the reader, documented in docs/compiled-plan.md. */
#define COMPILED_MAX_DEPTH 8             /* nesting of mappings and sequences (the format needs 4) */
#define COMPILED_MAX_SCALAR 65536        /* bytes in one scalar */
#define COMPILED_MAX_ERRORS 50           /* then DRP013 and the reading stops */
#define COMPILED_MAX_MS (365LL * 24 * 3600 * 1000) /* the longest duration: 365 days, as in a plan */

/* Appends the compiled plan of d (dag_finish'ed) to out. Identical DAGs give identical bytes. */
void compiled_write(const struct dag *d, struct buf *out);

/* The same, streamed through sink (for plans too large to hold twice in memory), except that the
 * seal's 64 digits are written as zeros: the caller writes `seal` over the 64 bytes at offset
 * *seal_at of the output once it is complete (pwrite). False if the sink failed once (the rest is
 * not passed on). */
typedef bool (*compiled_sink)(void *ctx, const void *data, size_t len);
bool compiled_emit(const struct dag *d, compiled_sink sink, void *ctx, char seal[65], size_t *seal_at);

/* True if text starts with the header line's fixed part ("# drplan compiled plan:"): the file is
 * meant to be a compiled plan (whether it reads is compiled_read's business). */
bool compiled_sniff(const char *text, size_t len);

/* Reads a compiled plan into d, which the caller has dag_init'ed and will dag_free in every case.
 * Strings are copied into d->arena. On success d is dag_finish'ed and acyclic and nothing is added
 * to diags; on failure every problem found is a diagnostic with a range in src (DRP051-DRP054,
 * DRP013) and the function returns false, leaving d half-filled. */
bool compiled_read(struct dag *d, const struct src_file *src, struct diag_list *diags);

/* Recomputes the digest of text[0..len) and writes it over the 64 hex digits of its `digest:`
 * line, as compiled_write does. False (and text unchanged) if there is no such line. For tests and
 * fuzzers that edit a compiled plan on purpose: the reader would otherwise refuse it at once. */
bool compiled_reseal(char *text, size_t len);

#endif
