/* yamlpos.h: where libyaml's marks are in a source file. libyaml 0.2.5 counts a mark's `index` in
 * characters (a multi-byte sequence counts one, CRLF two) from the start of what it was given,
 * after any byte-order mark, which it never sees; diagnostics need byte offsets. Every YAML reader
 * of drplan (inventory, compiled plan, latency profile, fault rules) keeps one of these. */
#ifndef DRP_YAMLPOS_H
#define DRP_YAMLPOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "source.h"

struct yaml_pos {
	const struct src_file *src;
	bool ascii;                    /* no byte with its high bit set: marks are byte offsets */
	uint32_t base;                 /* 3 after a UTF-8 byte-order mark, else 0 */
	size_t cur_char, cur_byte;     /* the cursor of the last conversion */
};

/* Sets up p for src. Give libyaml src->text + p->base, src->len - p->base. */
void yaml_pos_init(struct yaml_pos *p, const struct src_file *src);
/* The byte offset of a mark. In pure ASCII that is arithmetic; otherwise a cursor walks from the
 * previous mark: marks arrive nearly in order, so the walks add up to about one pass over the file.
 * Marks point only into text libyaml has already validated as UTF-8. */
uint32_t yaml_pos_offset(struct yaml_pos *p, yaml_mark_t mark);
/* The bytes of an event (its start and end marks). */
struct src_range yaml_pos_event(struct yaml_pos *p, const yaml_event_t *ev);
/* The one character at offset, for a caret under it (empty at the end of the file or a line). */
struct src_range yaml_pos_char(const struct yaml_pos *p, uint32_t offset);

#endif
