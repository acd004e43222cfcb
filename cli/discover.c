/* discover.c: `drplan discover --site S FILE`: asks the external program of a site's `adapter exec`
 * for its devices (identifier, peer, kind, consistency group) and VMs (placement, power,
 * storage-migration records), and prints them as an inventory (docs/inventory.md); and the check
 * `drplan run` makes with the same discovery before its first operation: is the plan stale? */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../compiler/stale.h"
#include "../lib/alloc.h"
#include "cli.h"

/* Appends the inventory document of one site's adapter program to out. */
static bool discover_site(const struct dag_site *site, const char *dir, const char *log, struct buf *out, char *err,
                          size_t errlen)
{
	struct cli_exec x;
	bool ok = cli_exec_options(site, dir, log, &x, err, errlen) &&
	          exec_discover(&x.options, &site->name, 1, out, err, errlen);
	cli_exec_free(&x);
	return ok;
}

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
	plan_options.sites_only = true; /* the first discovery comes before the first plan */
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
		if (!discover_site(site, dir, NULL, &out, err, sizeof err)) {
			fprintf(stderr, "drplan discover: %s\n", err);
			status = EXIT_INVALID;
		}
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

/* ---- drplan run's check: the plan's world against a fresh discovery of its sites. */

/* Whether a site's adapter is asked: exec, unless its settings say `discover no` (a program that
 * does not implement discovery). 1 yes, 0 no, -1 with err set for another value. */
static int site_discovers(const struct dag_site *site, char *err, size_t errlen)
{
	if (!site->adapter || strcmp(site->adapter, "exec") != 0)
		return 0; /* the simulator's world is made from the plan itself: nothing to compare */
	for (uint32_t i = 0; i < site->n_settings; i++) {
		if (strcmp(site->settings[i].key, "discover") != 0)
			continue;
		if (strcmp(site->settings[i].value, "yes") == 0)
			return 1;
		if (strcmp(site->settings[i].value, "no") == 0)
			return 0;
		snprintf(err, errlen, "site '%s': adapter exec's 'discover' is yes or no, not '%s'", site->name,
		         site->settings[i].value);
		return -1;
	}
	return 1;
}

/* "east", "east and west", "east, west and north". */
static void put_sites(struct buf *b, const struct dag *d, const struct stale_source *src, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++)
		buf_printf(b, "%s%s", k == 0 ? "" : k + 1 == n ? " and " : ", ", d->sites[src[k].site].name);
}

/* Where the refusal points: the plan's declaration, or nowhere for a compiled plan. */
static struct src_range plan_at(const struct cli_plan *p)
{
	for (uint32_t i = 0; p->model && i < p->model->n_plans; i++)
		if (strcmp(p->model->plans[i].name, p->dag.name) == 0)
			return p->model->plans[i].decl->name.at;
	return src_range_make(SRC_NONE, 0, 0);
}

int cli_discovery_check(struct cli_plan *p, const char *path, const char *dir, const char *log,
                        const struct cli_report *report)
{
	const struct dag *d = &p->dag;
	struct inventory *invs = xcalloc((size_t)d->n_sites + 1, sizeof *invs);
	struct stale_source *src = xcalloc((size_t)d->n_sites + 1, sizeof *src);
	struct arena arena;
	arena_init(&arena);
	struct diag_list diags;
	diag_list_init(&diags);
	struct buf text = BUF_INIT, label = BUF_INIT;
	char err[512];
	uint32_t n = 0;
	int status = EXIT_OK;
	for (uint32_t i = 0; i < d->n_sites && status == EXIT_OK; i++) {
		const struct dag_site *site = &d->sites[i];
		int asked = site_discovers(site, err, sizeof err);
		if (asked < 0) {
			fprintf(stderr, "drplan run: %s\n", err);
			status = EXIT_USAGE;
		}
		if (asked <= 0)
			continue;
		buf_clear(&text);
		bool ok = discover_site(site, dir, log, &text, err, sizeof err);
		if (ok) {
			/* The reply is hostile input like any other: it must be a clean inventory. */
			buf_clear(&label);
			buf_printf(&label, "<discovery of %s>", site->name);
			struct src_file *f = src_add(&p->sources, label.data, text.data ? text.data : "", text.len);
			ok = inventory_parse(&invs[n], &arena, f, &diags) && diags.errors == 0;
			if (!ok) {
				cli_print_diags(&diags, &p->sources, report);
				diag_list_free(&diags);
				diag_list_init(&diags);
				snprintf(err, sizeof err, "the inventory it reported is not usable");
			}
		}
		if (ok) {
			src[n].site = i;
			src[n].inv = &invs[n];
			n++;
		} else if (d->mode == AST_MODE_DISASTER && i == d->from) {
			fprintf(stderr,
			        "drplan run: warning: the discovery of the protected site '%s' failed (%s): its devices and VMs "
			        "are not checked; a disaster plan goes on\n",
			        site->name, err);
		} else {
			fprintf(stderr,
			        "drplan run: cannot check the plan against site '%s': its discovery failed: %s\n"
			        "drplan run: nothing was performed; --no-discovery-check runs the plan without the check\n",
			        site->name, err);
			status = EXIT_USAGE;
		}
	}
	if (status == EXIT_OK && n > 0) {
		struct stale_report r;
		stale_compare(d, src, n, &r);
		struct buf sites = BUF_INIT, hint = BUF_INIT;
		put_sites(&sites, d, src, n);
		/* One inventory per site: discover prints one YAML document per --site. */
		buf_printf(&hint, "discover again (drplan discover --site SITE %s, into the plan's inventory for %s), compile "
		                  "again and review what changed; --no-discovery-check runs this plan anyway",
		           p->compiled ? "PLAN.drp" : path, sites.data);
		stale_diagnose(&r, d, sites.data, hint.data, plan_at(p), &diags);
		if (diags.len > 0) /* the stale plan's, and the discovered inventories' warnings */
			cli_print_diags(&diags, &p->sources, report);
		if (r.n_harmful)
			status = EXIT_INVALID;
		else if (r.n_diffs == 0)
			fprintf(stderr, "drplan: the plan matches a fresh discovery of %s\n", sites.data);
		stale_report_free(&r);
		buf_free(&sites);
		buf_free(&hint);
	}
	diag_list_free(&diags);
	buf_free(&text);
	buf_free(&label);
	arena_free(&arena);
	free(invs);
	free(src);
	return status;
}
