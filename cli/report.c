/* report.c: the diagnostic options and output shared by the commands. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/buf.h"
#include "cli.h"

void cli_report_init(struct cli_report *report)
{
	const char *term = getenv("TERM");
	report->format = DIAG_FORMAT_TEXT;
	report->color = isatty(STDERR_FILENO) && !getenv("NO_COLOR") && !(term && strcmp(term, "dumb") == 0);
}

bool cli_parse_format(const char *command, const char *value, struct cli_report *report)
{
	if (diag_format_parse(value, &report->format))
		return true;
	cli_usage_error(command, "unknown format '%s' (text, json, sarif or github)", value);
	return false;
}

bool cli_parse_color(const char *command, const char *value, struct cli_report *report)
{
	if (strcmp(value, "always") == 0)
		report->color = true;
	else if (strcmp(value, "never") == 0)
		report->color = false;
	else if (strcmp(value, "auto") != 0) {
		cli_usage_error(command, "unknown colour mode '%s' (auto, always or never)", value);
		return false;
	}
	return true;
}

void cli_print_diags(struct diag_list *diags, struct src_set *sources, const struct cli_report *report)
{
	diag_sort(diags);
	struct buf out = BUF_INIT;
	diag_render(&out, diags, sources, report->format, report->color);
	if (report->format == DIAG_FORMAT_TEXT) {
		if (diags->errors || diags->warnings)
			buf_printf(&out, "drplan: %zu error%s, %zu warning%s\n", diags->errors,
			           diags->errors == 1 ? "" : "s", diags->warnings, diags->warnings == 1 ? "" : "s");
		fwrite(out.data ? out.data : "", 1, out.len, stderr);
	} else {
		fwrite(out.data ? out.data : "", 1, out.len, stdout);
		fflush(stdout);
	}
	buf_free(&out);
}

int cli_plan_option(const char *command, int opt, const char *arg, struct cli_report *report,
                    struct cli_plan_options *plan)
{
	switch (opt) {
	case 'p': plan->plan = arg; return 1;
	case 'r': plan->root = arg; return 1;
	case 'l': plan->latency = arg; return 1;
	case 'f': return cli_parse_format(command, arg, report) ? 1 : -1;
	case 'c': return cli_parse_color(command, arg, report) ? 1 : -1;
	default: return 0;
	}
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "drplan %s: ", command);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nRun 'drplan %s --help' for usage.\n", command);
	va_end(ap);
	return EXIT_USAGE;
}
