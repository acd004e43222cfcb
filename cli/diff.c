/* diff.c: `drplan diff A B`: what changed between two plans (plan files or compiled plans) in terms of
 * operations, ordering, workgroups and VMs, for code review; exits like diff(1). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../compiler/dagdiff.h"
#include "cli.h"

static void diff_usage(FILE *out)
{
	fprintf(out,
	        "usage: drplan diff [OPTIONS] OLD NEW\n"
	        "\n"
	        "Compares two plans, each a plan file (compiled first, as 'drplan compile' does) or a\n"
	        "compiled plan, and lists what changed: plan settings, steps, devices, workgroups,\n"
	        "VMs that moved between workgroups, operations added or removed, and operations whose\n"
	        "predecessors changed. Lines start with '+' (only in NEW), '-' (only in OLD) or '~'\n"
	        "(changed); a last line counts the changes. Nothing is printed when they are the same.\n"
	        "\n"
	        "Options:\n"
	        "  --plan NAME      the plan to compare, when a file declares several (both sides)\n"
	        "  --root DIR       includes must stay inside DIR (default: the current directory)\n"
	        "  --color WHEN     auto (default: when standard output is a terminal), always or never\n"
	        "  -h, --help       this help\n"
	        "\n"
	        "Exit codes: 0 the same, 1 different, 2 usage error, or a side that cannot be read or\n"
	        "compiled (its diagnostics are printed on standard error).\n");
}

/* Colours by the first character of each line: green added, red removed, yellow changed, bold
 * section titles. The text is already free of control characters (dagdiff escapes names). */
static void write_colored(FILE *to, const char *s, size_t len)
{
	const char *end = s + len;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
		const char *t = s;
		while (t < s + n && *t == ' ')
			t++;
		const char *color = NULL;
		if (t + 1 < s + n && t[1] == ' ')
			color = *t == '+' ? "\033[32m" : *t == '-' ? "\033[31m" : *t == '~' ? "\033[33m" : NULL;
		else if (n > 0 && s[n - 1] == ':' && t == s)
			color = "\033[1m";
		if (color)
			fputs(color, to);
		fwrite(s, 1, n, to);
		if (color)
			fputs("\033[0m", to);
		if (nl)
			fputc('\n', to);
		s += n + (nl ? 1 : 0);
	}
}

int cmd_diff(int argc, char **argv)
{
	static const struct option options[] = {
		{"plan", required_argument, NULL, 'p'},
		{"root", required_argument, NULL, 'r'},
		{"color", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_report report;
	cli_report_init(&report);
	struct cli_plan_options load = {0};
	/* The report goes to standard output: colour it when that is a terminal. */
	const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");
	bool color = isatty(STDOUT_FILENO) && !(no_color && *no_color) && !(term && strcmp(term, "dumb") == 0);
	optind = 1;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'p': load.plan = optarg; break;
		case 'r': load.root = optarg; break;
		case 'c':
			if (!cli_parse_color("diff", optarg, &report))
				return EXIT_USAGE;
			if (strcmp(optarg, "auto") != 0)
				color = strcmp(optarg, "always") == 0;
			break;
		case 'h': diff_usage(stdout); return EXIT_OK;
		default:
			if (optopt && strchr("prc", optopt))
				return cli_usage_error("diff", "option '%s' needs a value", argv[optind - 1]);
			return cli_usage_error("diff", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("diff", "give two plans to compare (got %d)", argc - optind);

	struct cli_plan a, b;
	int sa = cli_plan_load(&a, argv[optind], &load);
	int sb = cli_plan_load(&b, argv[optind + 1], &load);
	int status;
	if (sa != EXIT_OK || sb != EXIT_OK) {
		/* Only a side that failed has anything to say: notes about the other would be noise. An
		 * invalid plan is trouble, not a difference: 2, as diff(1) says for trouble. */
		if (sa != EXIT_OK)
			cli_print_diags(&a.diags, &a.sources, &report);
		if (sb != EXIT_OK)
			cli_print_diags(&b.diags, &b.sources, &report);
		fprintf(stderr, "drplan diff: cannot compare: %s %s\n", sa != EXIT_OK ? argv[optind] : argv[optind + 1],
		        (sa != EXIT_OK ? sa : sb) == EXIT_INVALID ? "is not a valid plan" : "cannot be read");
		status = EXIT_USAGE;
	} else {
		struct buf out = BUF_INIT;
		bool differ = dagdiff_write(&out, &a.dag, argv[optind], &b.dag, argv[optind + 1], NULL);
		if (color)
			write_colored(stdout, out.data ? out.data : "", out.len);
		else
			fwrite(out.data ? out.data : "", 1, out.len, stdout);
		status = differ ? EXIT_INVALID : EXIT_OK;
		if (fflush(stdout) != 0) {
			fprintf(stderr, "drplan diff: cannot write to standard output\n");
			status = EXIT_USAGE;
		}
		buf_free(&out);
	}
	cli_plan_free(&a);
	cli_plan_free(&b);
	return status;
}
