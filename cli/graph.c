/* graph.c: `drplan graph FILE|COMPILED`: the plan's DAG as Graphviz DOT, at the step, workgroup or
 * operation level, for `dot -Tsvg` and friends. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../compiler/dot.h"
#include "../lib/fsutil.h"
#include "cli.h"

static void graph_usage(FILE *out)
{
	fprintf(out,
	        "usage: drplan graph [OPTIONS] FILE|COMPILED\n"
	        "\n"
	        "Writes the plan's DAG of operations as a Graphviz DOT graph, from a plan file\n"
	        "(compiled first, as 'drplan compile' does) or a compiled plan. Render it with\n"
	        "  drplan graph plan.drp | dot -Tsvg -o plan.svg\n"
	        "\n"
	        "Options:\n"
	        "  --level LEVEL    step: one node per step, edges counted between steps;\n"
	        "                   workgroup (default): one cluster per step, one node per batch of\n"
	        "                   workgroups that move alike and per storage or plan operation;\n"
	        "                   operation: one node per operation, every edge, by kind\n"
	        "  -o, --output OUT write to OUT (atomically) instead of standard output\n"
	        "  --plan NAME      the plan to draw, when FILE declares several\n"
	        "  --root DIR       includes must stay inside DIR (default: the current directory)\n"
	        "  --format FORMAT  diagnostics as text (default, on stderr), json, sarif or github\n"
	        "                   (on standard output, so these need -o)\n"
	        "  --color WHEN     auto (default), always or never\n"
	        "  -h, --help       this help\n"
	        "\n"
	        "Exit codes: 0 written, 1 invalid plan, 2 usage error or unreadable file.\n");
}

static bool parse_level(const char *value, enum dot_level *level)
{
	for (int i = 0; i < DOT_N_LEVELS; i++)
		if (strcmp(value, dot_level_names[i]) == 0) {
			*level = (enum dot_level)i;
			return true;
		}
	const char *suggestion = diag_suggest(value, strlen(value), dot_level_names);
	if (suggestion)
		cli_usage_error("graph", "unknown level '%s'; did you mean '%s'? (step, workgroup or operation)", value,
		                suggestion);
	else
		cli_usage_error("graph", "unknown level '%s' (step, workgroup or operation)", value);
	return false;
}

int cmd_graph(int argc, char **argv)
{
	static const struct option options[] = {
		{"level", required_argument, NULL, 'L'},
		{"output", required_argument, NULL, 'o'},
		{"plan", required_argument, NULL, 'p'},
		{"root", required_argument, NULL, 'r'},
		{"format", required_argument, NULL, 'f'},
		{"color", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_report report;
	cli_report_init(&report);
	struct cli_plan_options load = {0};
	enum dot_level level = DOT_WORKGROUP;
	const char *output = NULL;
	optind = 1;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "ho:", options, NULL)) != -1) {
		switch (opt) {
		case 'L':
			if (!parse_level(optarg, &level))
				return EXIT_USAGE;
			break;
		case 'o': output = optarg; break;
		case 'p': load.plan = optarg; break;
		case 'r': load.root = optarg; break;
		case 'f':
			if (!cli_parse_format("graph", optarg, &report))
				return EXIT_USAGE;
			break;
		case 'c':
			if (!cli_parse_color("graph", optarg, &report))
				return EXIT_USAGE;
			break;
		case 'h': graph_usage(stdout); return EXIT_OK;
		default:
			if (optopt && strchr("Loprfc", optopt))
				return cli_usage_error("graph", "option '%s' needs a value", argv[optind - 1]);
			return cli_usage_error("graph", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error("graph", "no plan file given");
	if (optind + 1 < argc)
		return cli_usage_error("graph", "one plan at a time (got '%s' and '%s')", argv[optind], argv[optind + 1]);
	/* Machine-readable diagnostics own standard output; the graph must go elsewhere. */
	if (report.format != DIAG_FORMAT_TEXT && !output)
		return cli_usage_error("graph", "with --format json, sarif or github, diagnostics go to standard "
		                                "output: give -o OUT for the graph");

	struct cli_plan p;
	int status = cli_plan_load(&p, argv[optind], &load);
	cli_print_diags(&p.diags, &p.sources, &report);
	if (status == EXIT_OK) {
		struct buf out = BUF_INIT;
		dot_write(&p.dag, level, &out);
		char err[256];
		if (output && !fs_write_atomic(output, out.data, out.len, err, sizeof err)) {
			fprintf(stderr, "drplan graph: cannot write '%s': %s\n", output, err);
			status = EXIT_USAGE;
		} else if (!output && (fwrite(out.data, 1, out.len, stdout) != out.len || fflush(stdout) != 0)) {
			fprintf(stderr, "drplan graph: cannot write to standard output\n");
			status = EXIT_USAGE;
		}
		buf_free(&out);
	}
	cli_plan_free(&p);
	return status;
}
