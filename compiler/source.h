/* source.h: source files held in memory and the mapping from byte offsets to lines and columns.
 * Every location in drplan is a byte range in one file of a source set; lines and columns are
 * computed only when a diagnostic is rendered (as jq's locfile does), so the scanner pays nothing. */
#ifndef DRP_SOURCE_H
#define DRP_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest file drplan reads as a plan; offsets are 32-bit. */
#define SRC_MAX_BYTES ((size_t)512 * 1024 * 1024)
/* The file id of a range that points at no file (a diagnostic about the command line, say). */
#define SRC_NONE UINT32_MAX

struct src_range {
	uint32_t file;  /* index in the source set, or SRC_NONE */
	uint32_t start; /* byte offset of the first byte */
	uint32_t end;   /* byte offset one past the last byte; end == start for a point */
};

struct src_pos {
	uint32_t line; /* 1-based */
	uint32_t col;  /* 1-based, in code points (tabs count as one) */
};

struct src_file {
	uint32_t id;
	char *path;          /* as the user named it, or relative to the including file's directory */
	char *text;          /* the bytes, followed by two NULs (flex scans the buffer in place) */
	size_t len;
	uint32_t *line_starts; /* computed on first use */
	uint32_t n_lines;
};

/* All the files of one command: plans, includes, inventories. Owns them. */
struct src_set {
	struct src_file **files;
	uint32_t len, cap;
};

void src_set_init(struct src_set *set);
void src_set_free(struct src_set *set);

/* Reads path into the set. On failure returns NULL and writes a message (strerror, or "too large")
 * into err[errlen]; nothing is added. */
struct src_file *src_load(struct src_set *set, const char *path, char *err, size_t errlen);
/* Adds in-memory text under a display name (tests, fuzzers, standard input). Copies text. */
struct src_file *src_add(struct src_set *set, const char *path, const char *text, size_t len);
struct src_file *src_get(const struct src_set *set, uint32_t id);

struct src_pos src_position(struct src_file *f, uint32_t offset);
/* The text of 1-based line `line` without its line terminator. */
const char *src_line(struct src_file *f, uint32_t line, size_t *len);
static inline struct src_range src_range_make(uint32_t file, uint32_t start, uint32_t end)
{
	struct src_range r = {file, start, end};
	return r;
}

#endif
