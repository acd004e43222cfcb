/* check.c: `drplan check FILE...`: parse each plan and its includes and report every problem. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../compiler/load.h"
#include "../compiler/model.h"
#include "cli.h"

static void check_usage(FILE *out)
{
	fprintf(out,
	        "usage: drplan check [OPTIONS] FILE...\n"
	        "\n"
	        "Validates plans, everything they include and their inventories: syntax, names,\n"
	        "and every rule of docs/diagnostics.md, reporting every problem found.\n"
	        "Nothing is changed and no adapter is contacted.\n"
	        "\n"
	        "Options:\n"
	        "  --format FORMAT  text (default, on stderr), json (one object per line),\n"
	        "                   sarif (SARIF 2.1.0) or github (workflow annotations)\n"
	        "  --root DIR       includes must stay inside DIR (default: the current directory)\n"
	        "  --color WHEN     auto (default), always or never\n"
	        "  -h, --help       this help\n"
	        "\n"
	        "Exit codes: 0 valid, 1 problems found, 2 usage error or unreadable file.\n");
}

int cmd_check(int argc, char **argv)
{
	static const struct option options[] = {
		{"format", required_argument, NULL, 'f'},
		{"root", required_argument, NULL, 'r'},
		{"color", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_report report;
	cli_report_init(&report);
	struct load_options load = {NULL};
	optind = 1;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'f':
			if (!cli_parse_format("check", optarg, &report))
				return EXIT_USAGE;
			break;
		case 'r': load.root = optarg; break;
		case 'c':
			if (!cli_parse_color("check", optarg, &report))
				return EXIT_USAGE;
			break;
		case 'h': check_usage(stdout); return EXIT_OK;
		default: return cli_usage_error("check", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error("check", "no plan files given");

	struct src_set sources;
	struct diag_list diags;
	src_set_init(&sources);
	diag_list_init(&diags);
	bool unreadable = false;
	for (int i = optind; i < argc; i++) {
		struct program program;
		program_init(&program);
		if (!program_load(&program, &sources, &diags, argv[i], &load))
			unreadable = true;
		else if (!program_incomplete(&program))
			model_free(model_build(&program, &diags));
		program_free(&program);
	}
	cli_print_diags(&diags, &sources, &report);
	int status = unreadable ? EXIT_USAGE : diags.errors ? EXIT_INVALID : EXIT_OK;
	diag_list_free(&diags);
	src_set_free(&sources);
	return status;
}
