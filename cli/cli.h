/* cli.h: what the commands of the drplan executable share: exit codes, the commands' entry points,
 * and printing diagnostics where each format belongs. */
#ifndef DRP_CLI_H
#define DRP_CLI_H

#include <stdbool.h>

#include "../compiler/dag.h"
#include "../compiler/diag.h"
#include "../compiler/load.h"
#include "../compiler/model.h"
#include "../compiler/source.h"
#include "../runtime/adapters/exec.h"

/* Exit codes (docs/commands.md). */
enum {
	EXIT_OK = 0,         /* success */
	EXIT_INVALID = 1,    /* invalid plan, failed run, or unformatted files under fmt --check */
	EXIT_USAGE = 2,      /* usage error or unreadable input */
	EXIT_UNFINISHED = 3, /* run interrupted or lock held: resumable */
};

int cmd_check(int argc, char **argv);
int cmd_fmt(int argc, char **argv);
int cmd_compile(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_graph(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_discover(int argc, char **argv);

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

/* A DAG to show or run, with everything it was made from. cli_plan_load fills it from either a
 * plan file (compiling it: load, validate, lower, verify) or a compiled plan (reading it back). */
struct cli_plan {
	struct src_set sources;
	struct diag_list diags;
	struct program program;
	struct model *model;           /* NULL when read from a compiled plan */
	struct dag dag;
	bool compiled;                 /* read from a compiled plan */
};

struct cli_plan_options {
	const char *root;              /* --root, or NULL */
	const char *plan;              /* --plan NAME: which plan of the file, or NULL for its only one */
	const char *latency;           /* --latency FILE: a latency profile, or NULL */
	bool sites_only;               /* a file that declares no plan loads as its sites alone (discover) */
};

/* Loads PATH into p (compiled plans are recognised by their first line) and applies --latency.
 * Diagnostics (notes and warnings too) are collected in p->diags: the caller adds its own and prints
 * them all with cli_print_diags. Returns EXIT_OK, EXIT_INVALID (the plan or the compiled plan is
 * wrong) or EXIT_USAGE (unreadable, or no such plan). Call cli_plan_free in every case. */
int cli_plan_load(struct cli_plan *p, const char *path, const struct cli_plan_options *options);
void cli_plan_free(struct cli_plan *p);

/* The options of every command that loads a plan (--plan, --root, --latency, --format, --color),
 * for its getopt_long table, and their handling: cli_plan_option returns 1 if opt was one of them
 * (and its value is good), 0 if it is not one of them, -1 after printing a usage error. */
#define CLI_PLAN_OPTIONS                                                                            \
	{"plan", required_argument, NULL, 'p'}, {"root", required_argument, NULL, 'r'},                 \
	{"latency", required_argument, NULL, 'l'}, {"format", required_argument, NULL, 'f'},            \
	{"color", required_argument, NULL, 'c'}
int cli_plan_option(const char *command, int opt, const char *arg, struct cli_report *report,
                    struct cli_plan_options *plan);

/* The directory of the file at path ("." if none): what a plan's scripts and adapter programs
 * are relative to. Free it. */
char *cli_dir_of(const char *path);

/* The options of a site's `adapter exec { program timeout secrets env }` (docs/adapters.md), paths
 * relative to dir, the program's stderr to log: for drplan run and drplan discover. */
struct cli_exec {
	struct exec_options options;
	char *program, *secrets, *names;
	const char *pass[32];
};
bool cli_exec_options(const struct dag_site *site, const char *dir, const char *log, struct cli_exec *x, char *err,
                      size_t errlen);
void cli_exec_free(struct cli_exec *x);

/* drplan run's check before its first operation (cli/discover.c, docs/commands.md): asks every site
 * whose adapter discovers (exec, unless `discover no`) for its inventory and compares it with the
 * plan's world (compiler/stale.h). Prints what differs and returns EXIT_OK (up to date, or nothing
 * to compare), EXIT_INVALID (stale: DRP060) or EXIT_USAGE (a site that must answer did not). Adds
 * the discovered inventories to p->sources. */
int cli_discovery_check(struct cli_plan *p, const char *path, const char *dir, const char *log,
                        const struct cli_report *report);

#endif
