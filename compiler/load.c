/* load.c: the include graph, walked depth first, and the inventories the files name. */
#include "load.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/alloc.h"
#include "../lib/buf.h"
#include "../lib/digest.h"
#include "parse.h"

struct loader {
	struct program *program;
	struct src_set *sources;
	struct diag_list *diags;
	char *root;           /* resolved root directory */
	char **real_paths;    /* resolved path of each loaded file, parallel to program->files */
	char **inventory_paths; /* resolved path of each inventory, parallel to program->inventories */
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
	free(p->inventories);
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

/* The absolute form of path with "." and ".." removed, without asking the file system, so that a
 * path outside the root is refused before anything reveals whether it exists there. */
static char *lexical_absolute(const char *path)
{
	struct buf b = BUF_INIT;
	if (path[0] != '/') {
		char *cwd = getcwd(NULL, 0);
		buf_puts(&b, cwd ? cwd : "/");
		free(cwd);
	}
	buf_putc(&b, '/');
	buf_puts(&b, path);
	char *in = buf_detach(&b);
	char *out = xmalloc(strlen(in) + 2);
	size_t len = 0;
	for (char *p = in; *p;) {
		while (*p == '/')
			p++;
		char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
		} else {
			out[len++] = '/';
			memcpy(out + len, p, n);
			len += n;
		}
		p += n;
	}
	if (len == 0)
		out[len++] = '/';
	out[len] = '\0';
	free(in);
	return out;
}

static void walk(struct loader *l, size_t index);

/* Resolves the path written at `at` (a string of the file files[from_index]) relative to that file,
 * and checks that it exists and lies inside the root. Returns the path to open (*real gets the
 * resolved one), or NULL after reporting why not, with `unreadable` as the rule. */
static char *resolve_reference(struct loader *l, size_t from_index, const struct ast_string *written,
                               enum diag_rule unreadable, const char *what, char **real)
{
	struct ast_file *from = l->program->files[from_index];
	if (written->len == 0 || memchr(written->text, '\0', written->len))
		return NULL; /* already reported by the parser */
	char *path = join_relative(from->src->path, written->text);
	char *lexical = lexical_absolute(path);
	bool outside = !path_within(lexical, l->root);
	free(lexical);
	*real = outside ? NULL : realpath(path, NULL);
	if (outside || (*real && !path_within(*real, l->root))) {
		struct diag *d = diag_add(l->diags, DIAG_ERROR, DRP011, written->at,
		                          "%s '%s' is outside the root directory '%s'", what, path, l->root);
		diag_hint(d, "plans may only name files inside the repository; give a wider root with --root DIR");
		free(*real);
		*real = NULL;
		free(path);
		return NULL;
	}
	if (!*real) {
		struct diag *d = diag_add(l->diags, DIAG_ERROR, unreadable, written->at,
		                          "cannot read %s '%s': %s", what, path, strerror(errno));
		if (written->text[0] != '/')
			diag_hint(d, "paths are relative to the file that names them");
		free(path);
		return NULL;
	}
	return path;
}

static void follow_include(struct loader *l, size_t from_index, struct ast_item *inc)
{
	struct src_range at = inc->u.path.at;
	char *real;
	char *path = resolve_reference(l, from_index, &inc->u.path, DRP010, "included file", &real);
	if (!path)
		return;
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
	inc->included = file;
	walk(l, add_file(l, file, real));
}

static void load_inventory(struct loader *l, size_t from_index, const struct ast_item *item)
{
	char *real;
	struct program *p = l->program;
	char *path = resolve_reference(l, from_index, &item->u.path, DRP028, "inventory", &real);
	if (!path) {
		p->inventory_incomplete = true; /* reported: its VMs are not "unknown" */
		return;
	}
	for (size_t i = 0; i < p->n_inventories; i++) {
		if (strcmp(l->inventory_paths[i], real) == 0) {
			free(real); /* named twice: read once */
			free(path);
			return;
		}
	}
	if (p->n_inventories == p->cap_inventories) {
		p->cap_inventories = p->cap_inventories ? p->cap_inventories * 2 : 4;
		p->inventories = xrealloc(p->inventories, p->cap_inventories * sizeof *p->inventories);
		l->inventory_paths = xrealloc(l->inventory_paths, p->cap_inventories * sizeof *l->inventory_paths);
	}
	struct inventory *inv = ARENA_NEW(&p->arena, struct inventory);
	if (!inventory_load(inv, &p->arena, l->sources, l->diags, path, item->u.path.at))
		p->inventory_incomplete = true;
	l->inventory_paths[p->n_inventories] = real;
	p->inventories[p->n_inventories++] = inv;
	free(path);
}

static void walk(struct loader *l, size_t index)
{
	l->stack[l->depth++] = index;
	for (struct ast_item *item = l->program->files[index]->items; item; item = item->next)
		if (item->kind == AST_INCLUDE)
			follow_include(l, index, item);
		else if (item->kind == AST_INVENTORY)
			load_inventory(l, index, item);
	l->depth--;
}

bool program_incomplete(const struct program *p)
{
	if (p->inventory_incomplete)
		return true;
	for (size_t i = 0; i < p->n_files; i++)
		if (p->files[i]->has_errors)
			return true;
	return false;
}

bool program_load(struct program *p, struct src_set *sources, struct diag_list *diags, const char *path,
                  const struct load_options *options)
{
	struct loader l = {p, sources, diags, NULL, NULL, NULL, NULL, 0};
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
	for (size_t i = 0; i < p->n_inventories; i++)
		free(l.inventory_paths[i]);
	free(l.inventory_paths);
	free(l.stack);
	free(l.root);
	return ok;
}

/* Each part is framed by its length, so that moving bytes from one file to the next changes the
 * digest. */
static void digest_part(struct digest *g, const void *data, size_t len)
{
	unsigned char n[8]; /* little-endian, so that the digest is the same on every machine */
	for (int k = 0; k < 8; k++)
		n[k] = (unsigned char)((uint64_t)len >> (8 * k));
	digest_update(g, n, sizeof n);
	digest_update(g, data, len);
}

void program_digest(const struct program *p, char plan[65], char inventory[65])
{
	struct digest whole, inventories;
	digest_init(&whole);
	digest_init(&inventories);
	struct buf dump = BUF_INIT;
	for (size_t i = 0; i < p->n_files; i++) {
		buf_clear(&dump);
		ast_dump(&dump, p->files[i]);
		digest_part(&whole, dump.data ? dump.data : "", dump.len);
	}
	buf_free(&dump);
	for (size_t i = 0; i < p->n_inventories; i++) {
		const struct src_file *src = p->inventories[i]->src;
		if (!src)
			continue;
		digest_part(&whole, src->text, src->len);
		digest_part(&inventories, src->text, src->len);
	}
	digest_hex(&whole, plan);
	digest_hex(&inventories, inventory);
}
