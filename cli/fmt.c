/* fmt.c: `drplan fmt`: print, check, diff or rewrite plans in their canonical form. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../compiler/fmt.h"
#include "../compiler/parse.h"
#include "../lib/diff.h"
#include "../lib/fsutil.h"
#include "cli.h"

static void fmt_usage(FILE *out)
{
	fprintf(out,
	        "usage: drplan fmt [OPTIONS] FILE...\n"
	        "\n"
	        "Prints each plan in canonical form on standard output. A file with syntax\n"
	        "errors is reported and left alone. Includes are not followed.\n"
	        "\n"
	        "Options:\n"
	        "  --check          print nothing but the names of files that are not in\n"
	        "                   canonical form; exit 1 if there are any\n"
	        "  --diff           print a unified diff of the changes formatting would make\n"
	        "                   (with --check: the diff instead of the names)\n"
	        "  -w, --write      rewrite files in place (atomically), listing those changed\n"
	        "  --format FORMAT  how to report syntax errors: text, json, sarif or github\n"
	        "  --color WHEN     auto (default), always or never\n"
	        "  -h, --help       this help\n"
	        "\n"
	        "Exit codes: 0 done (or all formatted under --check), 1 unformatted files under\n"
	        "--check or syntax errors, 2 usage error or unreadable file.\n");
}

enum fmt_action { FMT_PRINT, FMT_CHECK, FMT_DIFF, FMT_WRITE };

int cmd_fmt(int argc, char **argv)
{
	static const struct option options[] = {
		{"check", no_argument, NULL, 'k'},
		{"diff", no_argument, NULL, 'd'},
		{"write", no_argument, NULL, 'w'},
		{"format", required_argument, NULL, 'f'},
		{"color", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_report report;
	cli_report_init(&report);
	bool check = false, diff = false, write = false;
	optind = 1;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "hw", options, NULL)) != -1) {
		switch (opt) {
		case 'k': check = true; break;
		case 'd': diff = true; break;
		case 'w': write = true; break;
		case 'f':
			if (!cli_parse_format("fmt", optarg, &report))
				return EXIT_USAGE;
			break;
		case 'c':
			if (!cli_parse_color("fmt", optarg, &report))
				return EXIT_USAGE;
			break;
		case 'h': fmt_usage(stdout); return EXIT_OK;
		default: return cli_usage_error("fmt", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error("fmt", "no plan files given");
	if (write && (check || diff))
		return cli_usage_error("fmt", "--write cannot be combined with --check or --diff");
	enum fmt_action action = diff ? FMT_DIFF : check ? FMT_CHECK : write ? FMT_WRITE : FMT_PRINT;

	struct src_set sources;
	struct diag_list diags;
	src_set_init(&sources);
	diag_list_init(&diags);
	bool unreadable = false, unformatted = false, failed = false;
	for (int i = optind; i < argc; i++) {
		char err[256];
		struct src_file *src = src_load(&sources, argv[i], err, sizeof err);
		if (!src) {
			diag_add(&diags, DIAG_ERROR, DRP010, src_range_make(SRC_NONE, 0, 0), "cannot read '%s': %s",
			         argv[i], err);
			unreadable = true;
			continue;
		}
		struct arena arena;
		arena_init(&arena);
		struct ast_file *file = parse_file(&arena, src, &diags);
		if (file->has_errors) {
			arena_free(&arena);
			continue;
		}
		struct buf out = BUF_INIT;
		fmt_file(&out, file);
		buf_puts(&out, ""); /* an empty file formats to nothing: make out.data valid anyway */
		bool differs = out.len != src->len || memcmp(out.data, src->text, out.len) != 0;
		switch (action) {
		case FMT_PRINT:
			fwrite(out.data, 1, out.len, stdout);
			break;
		case FMT_CHECK:
			if (differs)
				printf("%s\n", src->path);
			break;
		case FMT_DIFF: {
			struct buf patch = BUF_INIT;
			struct buf new_name = BUF_INIT;
			buf_printf(&new_name, "%s (formatted)", src->path);
			diff_unified(&patch, src->path, src->text, src->len, new_name.data, out.data, out.len, 3);
			fwrite(patch.data ? patch.data : "", 1, patch.len, stdout);
			buf_free(&patch);
			buf_free(&new_name);
			break;
		}
		case FMT_WRITE:
			if (differs) {
				if (fs_write_atomic(src->path, out.data, out.len, err, sizeof err)) {
					printf("%s\n", src->path);
				} else {
					fprintf(stderr, "drplan fmt: %s\n", err);
					failed = true;
				}
			}
			break;
		}
		unformatted |= differs;
		buf_free(&out);
		arena_free(&arena);
	}
	fflush(stdout);
	cli_print_diags(&diags, &sources, &report);
	int status = EXIT_OK;
	if (unreadable || failed)
		status = EXIT_USAGE;
	else if (diags.errors || (check && unformatted))
		status = EXIT_INVALID;
	diag_list_free(&diags);
	src_set_free(&sources);
	return status;
}
