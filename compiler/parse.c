/* parse.c: runs the scanner and the grammar over one file. */
#include "parse.h"

#include <stdlib.h>
#include <string.h>

#include "lexer.h"
#include "parser.h"

struct ast_file *parse_file(struct arena *arena, struct src_file *src, struct diag_list *diags)
{
	struct ast_file *file = ARENA_NEW(arena, struct ast_file);
	file->src = src;

	struct parse_state ps;
	memset(&ps, 0, sizeof ps);
	ps.src = src;
	ps.arena = arena;
	ps.diags = diags;
	ps.file = file;

	yyscan_t scanner;
	if (drp_yylex_init_extra(&ps, &scanner) != 0)
		abort(); /* only fails when out of memory, which xmalloc already handles */
	ps.scanner = scanner;
	/* Scan a copy: flex writes NULs into the buffer while it scans, and the source text must stay
	 * intact for diagnostics and fmt. */
	drp_yy_scan_bytes(src->text, (int)src->len, scanner);
	yyparse(&ps);
	drp_yylex_destroy(scanner);
	free(ps.open_braces);
	return file;
}
