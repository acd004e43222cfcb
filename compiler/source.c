/* source.c: loading files whole and mapping offsets to positions. */
#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/alloc.h"
#include "../lib/utf8.h"

void src_set_init(struct src_set *set)
{
	memset(set, 0, sizeof *set);
}

void src_set_free(struct src_set *set)
{
	for (uint32_t i = 0; i < set->len; i++) {
		free(set->files[i]->path);
		free(set->files[i]->text);
		free(set->files[i]->line_starts);
		free(set->files[i]);
	}
	free(set->files);
	src_set_init(set);
}

static struct src_file *src_adopt(struct src_set *set, const char *path, char *text, size_t len)
{
	if (set->len == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 8;
		set->files = xrealloc(set->files, set->cap * sizeof *set->files);
	}
	struct src_file *f = xcalloc(1, sizeof *f);
	f->id = set->len;
	f->path = xstrdup(path);
	f->text = text;
	f->len = len;
	set->files[set->len++] = f;
	return f;
}

struct src_file *src_add(struct src_set *set, const char *path, const char *text, size_t len)
{
	if (len > SRC_MAX_BYTES)
		len = SRC_MAX_BYTES;
	char *copy = xmalloc(len + 2);
	memcpy(copy, text, len);
	copy[len] = copy[len + 1] = '\0';
	return src_adopt(set, path, copy, len);
}

struct src_file *src_load(struct src_set *set, const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		close(fd);
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "is a directory");
		close(fd);
		return NULL;
	}
	/* Read in a loop rather than trusting st_size: pipes and /proc files report 0. */
	size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 2 : 65536;
	if (cap > SRC_MAX_BYTES + 2)
		cap = SRC_MAX_BYTES + 2;
	char *text = xmalloc(cap);
	size_t len = 0;
	for (;;) {
		if (len + 2 >= cap) {
			if (cap >= SRC_MAX_BYTES + 2) {
				snprintf(err, errlen, "file is larger than the limit of %zu MiB",
				         SRC_MAX_BYTES >> 20);
				free(text);
				close(fd);
				return NULL;
			}
			cap = cap * 2 > SRC_MAX_BYTES + 2 ? SRC_MAX_BYTES + 2 : cap * 2;
			text = xrealloc(text, cap);
		}
		ssize_t n = read(fd, text + len, cap - 2 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s", strerror(errno));
			free(text);
			close(fd);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	text[len] = text[len + 1] = '\0';
	return src_adopt(set, path, text, len);
}

struct src_file *src_get(const struct src_set *set, uint32_t id)
{
	return id < set->len ? set->files[id] : NULL;
}

static void src_index_lines(struct src_file *f)
{
	if (f->line_starts)
		return;
	uint32_t n = 1;
	for (size_t i = 0; i < f->len; i++)
		n += f->text[i] == '\n';
	f->line_starts = xmalloc((size_t)n * sizeof *f->line_starts);
	f->line_starts[0] = 0;
	uint32_t k = 1;
	for (size_t i = 0; i < f->len; i++)
		if (f->text[i] == '\n')
			f->line_starts[k++] = (uint32_t)i + 1;
	f->n_lines = n;
}

struct src_pos src_position(struct src_file *f, uint32_t offset)
{
	src_index_lines(f);
	if (offset > f->len)
		offset = (uint32_t)f->len;
	uint32_t lo = 0, hi = f->n_lines;
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (f->line_starts[mid] <= offset)
			lo = mid;
		else
			hi = mid;
	}
	struct src_pos pos;
	pos.line = lo + 1;
	pos.col = (uint32_t)utf8_count(f->text + f->line_starts[lo], offset - f->line_starts[lo]) + 1;
	return pos;
}

const char *src_line(struct src_file *f, uint32_t line, size_t *len)
{
	src_index_lines(f);
	if (line == 0 || line > f->n_lines) {
		*len = 0;
		return "";
	}
	uint32_t start = f->line_starts[line - 1];
	uint32_t end = line < f->n_lines ? f->line_starts[line] - 1 : (uint32_t)f->len;
	if (end > start && f->text[end - 1] == '\r')
		end--;
	*len = end - start;
	return f->text + start;
}
