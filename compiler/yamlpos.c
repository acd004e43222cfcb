/* yamlpos.c: byte offsets of libyaml's marks (yamlpos.h). */
#include "yamlpos.h"

#include <string.h>

#include "../lib/utf8.h"

/* True if no byte of s[0..len) has its high bit set, eight bytes at a time. */
static bool all_ascii(const char *s, size_t len)
{
	uint64_t acc = 0;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		acc |= w;
	}
	for (; i < len; i++)
		acc |= (unsigned char)s[i];
	return (acc & 0x8080808080808080ULL) == 0;
}

void yaml_pos_init(struct yaml_pos *p, const struct src_file *src)
{
	memset(p, 0, sizeof *p);
	p->src = src;
	if (src->len >= 3 && memcmp(src->text, "\xEF\xBB\xBF", 3) == 0)
		p->base = 3;
	p->cur_byte = p->base;
	p->ascii = all_ascii(src->text + p->base, src->len - p->base);
}

uint32_t yaml_pos_offset(struct yaml_pos *p, yaml_mark_t mark)
{
	const unsigned char *text = (const unsigned char *)p->src->text;
	size_t len = p->src->len;
	if (p->ascii)
		return (uint32_t)(mark.index < len - p->base ? p->base + mark.index : len);
	while (p->cur_char < mark.index && p->cur_byte < len) {
		unsigned char c = text[p->cur_byte];
		p->cur_byte += c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
		if (p->cur_byte > len)
			p->cur_byte = len;
		p->cur_char++;
	}
	while (p->cur_char > mark.index && p->cur_byte > p->base) {
		do
			p->cur_byte--;
		while (p->cur_byte > p->base && (text[p->cur_byte] & 0xC0) == 0x80);
		p->cur_char--;
	}
	return (uint32_t)p->cur_byte;
}

struct src_range yaml_pos_event(struct yaml_pos *p, const yaml_event_t *ev)
{
	uint32_t start = yaml_pos_offset(p, ev->start_mark);
	uint32_t end = yaml_pos_offset(p, ev->end_mark);
	return src_range_make(p->src->id, start, end < start ? start : end);
}

struct src_range yaml_pos_char(const struct yaml_pos *p, uint32_t offset)
{
	const char *text = p->src->text;
	size_t len = p->src->len;
	if (offset >= len || text[offset] == '\n' || text[offset] == '\r')
		return src_range_make(p->src->id, offset, offset);
	size_t n = utf8_decode(text + offset, len - offset, NULL);
	return src_range_make(p->src->id, offset, offset + (uint32_t)(n ? n : 1));
}
