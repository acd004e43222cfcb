/* yamlwrite.h: a YAML writer for drplan's large files (the compiled plan): block and flow
 * collections and scalars, written byte for byte as libyaml's emitter writes them (UTF-8,
 * indentation 2, unlimited width, unicode unescaped, "\n" breaks, one implicit document), at a
 * fraction of its cost: no event objects, no copies, no allocation per scalar. tests/unit/
 * test_yamlwrite.c holds it to libyaml's output. */
#ifndef DRP_YAMLWRITE_H
#define DRP_YAMLWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Receives the output, in pieces. */
typedef void (*yw_sink)(void *ctx, const void *data, size_t size);

/* How a scalar asks to be written; as libyaml, the writer falls back from plain to single-quoted
 * to double-quoted when the text cannot be written so (YW_ANY: the plainest that can). */
enum yw_style { YW_ANY, YW_PLAIN, YW_SINGLE, YW_DOUBLE };

#define YW_DEPTH 16
#define YW_BUFFER 65536

struct yw {
	yw_sink sink;
	void *ctx;
	size_t column;
	int indent, flow_level, depth;
	bool whitespace, indention;
	/* A block collection just opened: written once the next event shows whether it is empty
	 * (libyaml writes an empty one in flow style, [] or {}). */
	bool pending;
	struct yw_level {
		uint8_t kind;  /* enum yw_kind (yamlwrite.c) */
		bool first;    /* no item or key written yet */
		bool at_value; /* a mapping: the next node is a value */
		bool simple;   /* a flow mapping: the current key was simple (no '?') */
		int indent;    /* the indentation to restore at its end */
	} stack[YW_DEPTH];
	size_t len;
	char buf[YW_BUFFER];
};

void yw_init(struct yw *w, yw_sink sink, void *ctx);
/* Collections: nested at most YW_DEPTH deep; every yw_map or yw_seq ends with a yw_end. Keys and
 * values of a mapping alternate. Keys are scalars. */
void yw_map(struct yw *w, bool flow);
void yw_seq(struct yw *w, bool flow);
void yw_end(struct yw *w);
/* s[0..n) must be valid UTF-8. */
void yw_scalar(struct yw *w, const char *s, size_t n, enum yw_style style);
/* The end of the document: the last line break, and what is buffered goes to the sink. */
void yw_finish(struct yw *w);

#endif
