/* cli.h: what the commands of the drplan executable share: exit codes, the commands' entry points,
 * and printing diagnostics where each format belongs. */
#ifndef DRP_CLI_H
#define DRP_CLI_H

#include <stdbool.h>

#include "../compiler/diag.h"
#include "../compiler/source.h"

/* Exit codes (docs/commands.md). */
enum {
	EXIT_OK = 0,         /* success */
	EXIT_INVALID = 1,    /* invalid plan, failed run, or unformatted files under fmt --check */
	EXIT_USAGE = 2,      /* usage error or unreadable input */
	EXIT_UNFINISHED = 3, /* run interrupted or lock held: resumable */
};

int cmd_check(int argc, char **argv);
int cmd_fmt(int argc, char **argv);

/* Options every command that reports diagnostics takes. */
struct cli_report {
	enum diag_format format;
	bool color;
};

/* Parses --format and --color values; prints a usage error and returns false if invalid. */
bool cli_parse_format(const char *command, const char *value, struct cli_report *report);
bool cli_parse_color(const char *command, const char *value, struct cli_report *report);
/* Sets the defaults: text, colour when stderr is a terminal and NO_COLOR is unset. */
void cli_report_init(struct cli_report *report);

/* Sorts and prints diagnostics: text to stderr with a summary line, machine formats to stdout
 * (and nothing else goes to stdout). */
void cli_print_diags(struct diag_list *diags, struct src_set *sources, const struct cli_report *report);

/* "drplan COMMAND: message" and a pointer to --help, on stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
