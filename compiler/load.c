/* load.c: the include graph, walked depth first. */
#include "load.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/alloc.h"
#include "../lib/buf.h"
#include "parse.h"

struct loader {
	struct program *program;
	struct src_set *sources;
	struct diag_list *diags;
	char *root;           /* resolved root directory */
	char **real_paths;    /* resolved path of each loaded file, parallel to program->files */
	size_t *stack;        /* indices of the files being walked, outermost first */
	size_t depth;
};

void program_init(struct program *p)
{
	memset(p, 0, sizeof *p);
	arena_init(&p->arena);
}

void program_free(struct program *p)
{
	arena_free(&p->arena);
	free(p->files);
	memset(p, 0, sizeof *p);
}

static size_t add_file(struct loader *l, struct ast_file *file, char *real_path)
{
	struct program *p = l->program;
	if (p->n_files == p->cap_files) {
		p->cap_files = p->cap_files ? p->cap_files * 2 : 8;
		p->files = xrealloc(p->files, p->cap_files * sizeof *p->files);
		l->real_paths = xrealloc(l->real_paths, p->cap_files * sizeof *l->real_paths);
	}
	p->files[p->n_files] = file;
	l->real_paths[p->n_files] = real_path;
	return p->n_files++;
}

/* Is path inside (or equal to) dir? Both are resolved. */
static bool path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	if (strcmp(dir, "/") == 0)
		return true;
	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* The path of `target` written relative to the directory of `from`, for display and for opening. */
static char *join_relative(const char *from, const char *target)
{
	if (target[0] == '/')
		return xstrdup(target);
	const char *slash = strrchr(from, '/');
	if (!slash)
		return xstrdup(target);
	struct buf b = BUF_INIT;
	buf_append(&b, from, (size_t)(slash - from) + 1);
	buf_puts(&b, target);
	return buf_detach(&b);
}

static void walk(struct loader *l, size_t index);

static void follow_include(struct loader *l, size_t from_index, const struct ast_item *inc)
{
	struct ast_file *from = l->program->files[from_index];
	struct src_range at = inc->u.path.at;
	if (inc->u.path.len == 0 || memchr(inc->u.path.text, '\0', inc->u.path.len))
		return; /* already reported by the parser */
	char *path = join_relative(from->src->path, inc->u.path.text);
	char *real = realpath(path, NULL);
	if (!real) {
		struct diag *d = diag_add(l->diags, DIAG_ERROR, DRP010, at, "cannot read included file '%s': %s",
		                          path, strerror(errno));
		if (inc->u.path.text[0] != '/')
			diag_hint(d, "include paths are relative to the file that includes them");
		free(path);
		return;
	}
	if (!path_within(real, l->root)) {
		struct diag *d = diag_add(l->diags, DIAG_ERROR, DRP011, at,
		                          "included file '%s' is outside the root directory '%s'", path, l->root);
		diag_hint(d, "includes must stay inside the repository; give a wider root with --root DIR");
		free(real);
		free(path);
		return;
	}
	for (size_t i = 0; i < l->depth; i++) {
		if (strcmp(l->real_paths[l->stack[i]], real) != 0)
			continue;
		struct buf cycle = BUF_INIT;
		for (size_t k = i; k < l->depth; k++)
			buf_printf(&cycle, "%s -> ", l->program->files[l->stack[k]]->src->path);
		buf_puts(&cycle, l->program->files[l->stack[i]]->src->path);
		diag_add(l->diags, DIAG_ERROR, DRP012, at, "include cycle: %s", cycle.data);
		buf_free(&cycle);
		free(real);
		free(path);
		return;
	}
	for (size_t i = 0; i < l->program->n_files; i++) {
		if (strcmp(l->real_paths[i], real) == 0) {
			free(real); /* included before, through another path: read once */
			free(path);
			return;
		}
	}
	if (l->depth >= LOAD_MAX_INCLUDE_DEPTH) {
		diag_add(l->diags, DIAG_ERROR, DRP010, at, "includes are nested more than %d deep",
		         LOAD_MAX_INCLUDE_DEPTH);
		free(real);
		free(path);
		return;
	}
	char err[256];
	struct src_file *src = src_load(l->sources, path, err, sizeof err);
	if (!src) {
		diag_add(l->diags, DIAG_ERROR, DRP010, at, "cannot read included file '%s': %s", path, err);
		free(real);
		free(path);
		return;
	}
	free(path);
	struct ast_file *file = parse_file(&l->program->arena, src, l->diags);
	walk(l, add_file(l, file, real));
}

static void walk(struct loader *l, size_t index)
{
	l->stack[l->depth++] = index;
	for (const struct ast_item *item = l->program->files[index]->items; item; item = item->next)
		if (item->kind == AST_INCLUDE)
			follow_include(l, index, item);
	l->depth--;
}

bool program_load(struct program *p, struct src_set *sources, struct diag_list *diags, const char *path,
                  const struct load_options *options)
{
	struct loader l = {p, sources, diags, NULL, NULL, NULL, 0};
	const char *root = options && options->root ? options->root : ".";
	bool ok = false;
	char err[256];
	l.root = realpath(root, NULL);
	if (!l.root) {
		diag_add(diags, DIAG_ERROR, DRP010, src_range_make(SRC_NONE, 0, 0),
		         "cannot use '%s' as the root directory: %s", root, strerror(errno));
		return false;
	}
	struct src_file *src = src_load(sources, path, err, sizeof err);
	if (!src) {
		diag_add(diags, DIAG_ERROR, DRP010, src_range_make(SRC_NONE, 0, 0), "cannot read '%s': %s", path,
		         err);
		goto out;
	}
	char *real = realpath(path, NULL);
	l.stack = xmalloc((LOAD_MAX_INCLUDE_DEPTH + 1) * sizeof *l.stack);
	struct ast_file *file = parse_file(&p->arena, src, diags);
	walk(&l, add_file(&l, file, real ? real : xstrdup(path)));
	ok = true;
out:
	for (size_t i = 0; i < p->n_files; i++)
		free(l.real_paths[i]);
	free(l.real_paths);
	free(l.stack);
	free(l.root);
	return ok;
}
