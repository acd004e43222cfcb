/* main.c: the drplan executable: dispatches to a command. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef DRPLAN_VERSION
#define DRPLAN_VERSION "0.1.0"
#endif

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{"check", cmd_check, "validate plans and report every problem"},
	{"fmt", cmd_fmt, "print, check or rewrite plans in canonical form"},
	{"compile", cmd_compile, "compile a plan into its verified DAG of operations"},
	{"plan", cmd_plan, "show a plan's steps, workgroups, critical path and predicted RTO"},
	{"graph", cmd_graph, "write a plan's DAG as a Graphviz DOT graph"},
	{"diff", cmd_diff, "show what changed between two plans or compiled plans"},
	{"run", cmd_run, "execute a plan on the simulator, journaled and resumable"},
	{"discover", cmd_discover, "ask a site's adapter program for its devices and VMs (inventory YAML)"},
	{"status", cmd_status, "show the progress and outcome of a run from its journal"},
};

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: drplan COMMAND [OPTIONS] [FILE...]\n"
	        "\n"
	        "drplan compiles disaster-recovery plans into a DAG of operations and runs them.\n"
	        "\n"
	        "Commands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
	        "\n"
	        "Run 'drplan COMMAND --help' for a command's options.\n"
	        "Exit codes: 0 success, 1 invalid plan or unformatted files, 2 usage error or\n"
	        "unreadable input, 3 run not finished.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
		if (argc > 2 && strcmp(name, "help") == 0) {
			char help[] = "--help";
			char *args[] = {argv[2], help, NULL};
			for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
				if (strcmp(argv[2], commands[i].name) == 0)
					return commands[i].run(2, args);
			fprintf(stderr, "drplan: unknown command '%s'\n", argv[2]);
			return EXIT_USAGE;
		}
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
		printf("drplan %s\n", DRPLAN_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(name, commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	const char *names[sizeof commands / sizeof commands[0] + 1];
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		names[i] = commands[i].name;
	names[sizeof commands / sizeof commands[0]] = NULL;
	const char *suggestion = diag_suggest(name, strlen(name), names);
	fprintf(stderr, "drplan: unknown command '%s'", name);
	if (suggestion)
		fprintf(stderr, "; did you mean '%s'?", suggestion);
	fprintf(stderr, "\nRun 'drplan --help' for the list of commands.\n");
	return EXIT_USAGE;
}
