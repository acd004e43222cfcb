/* discover.c: `drplan discover --site S FILE`: asks the external program of a site's `adapter exec`
 * for its devices (identifier, peer, kind, consistency group) and VMs (placement, power,
 * storage-migration records), and prints them as an inventory (docs/inventory.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/alloc.h"
#include "cli.h"

static void discover_usage(FILE *out)
{
	fprintf(out,
	        "usage: drplan discover --site SITE [--site SITE...] [--plan NAME] [--root DIR] FILE\n"
	        "\n"
	        "Asks the adapter program that FILE gives each SITE (`adapter exec { program ... }`,\n"
	        "docs/adapters.md) for the site's devices and VMs, and prints them as inventory YAML\n"
	        "(docs/inventory.md) on standard output: what `inventory \"...\"` in a plan reads.\n"
	        "\n"
	        "Exit codes: 0 printed, 1 invalid plan or the adapter failed, 2 usage error.\n");
}

int cmd_discover(int argc, char **argv)
{
	static const struct option options[] = {
		{"site", required_argument, NULL, 's'},
		CLI_PLAN_OPTIONS,
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_report report;
	cli_report_init(&report);
	struct cli_plan_options plan_options = {NULL};
	const char *sites[16];
	uint32_t n_sites = 0;
	optind = 1;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			if (n_sites == sizeof sites / sizeof sites[0])
				return cli_usage_error("discover", "at most %u sites at a time", n_sites);
			sites[n_sites++] = optarg;
			break;
		case 'h': discover_usage(stdout); return EXIT_OK;
		default:
			switch (cli_plan_option("discover", opt, optarg, &report, &plan_options)) {
			case 1: break;
			case 0: return cli_usage_error("discover", "unknown option '%s'", argv[optind - 1]);
			default: return EXIT_USAGE;
			}
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("discover", "one plan file, which names the sites' adapters");
	if (n_sites == 0)
		return cli_usage_error("discover", "no --site given");
	const char *path = argv[optind];
	struct cli_plan p;
	int status = cli_plan_load(&p, path, &plan_options);
	cli_print_diags(&p.diags, &p.sources, &report);
	char *dir = cli_dir_of(path);
	/* One program may serve several sites: each is asked for its own, and their inventories are
	 * printed one after the other as separate YAML documents. */
	struct buf out = BUF_INIT;
	char err[512];
	for (uint32_t k = 0; k < n_sites && status == EXIT_OK; k++) {
		const struct dag_site *site = NULL;
		for (uint32_t i = 0; i < p.dag.n_sites; i++)
			if (strcmp(p.dag.sites[i].name, sites[k]) == 0)
				site = &p.dag.sites[i];
		if (!site) {
			fprintf(stderr, "drplan discover: the plan has no site '%s'\n", sites[k]);
			status = EXIT_USAGE;
			break;
		}
		struct cli_exec x;
		if (!cli_exec_options(site, dir, NULL, &x, err, sizeof err) ||
		    !exec_discover(&x.options, &sites[k], 1, &out, err, sizeof err)) {
			fprintf(stderr, "drplan discover: %s\n", err);
			status = EXIT_INVALID;
		}
		cli_exec_free(&x);
	}
	if (status == EXIT_OK && (fwrite(out.data ? out.data : "", 1, out.len, stdout) != out.len || fflush(stdout) != 0)) {
		fprintf(stderr, "drplan discover: cannot write to standard output\n");
		status = EXIT_USAGE;
	}
	buf_free(&out);
	free(dir);
	cli_plan_free(&p);
	return status;
}
