/* compile.c: `drplan compile FILE [-o OUT]`, and cli_plan_load, which every command that shows or
 * runs a DAG uses to get one from a plan file (compiling it) or from a compiled plan (reading it). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../compiler/compiled.h"
#include "../compiler/latency.h"
#include "../compiler/lower.h"
#include "../compiler/verify.h"
#include "../lib/fsutil.h"
#include "cli.h"

/* DRPLAN_TIMING=1 prints how long each phase took, on standard error (for bench/). */
static void phase(const char *name)
{
	static int enabled = -1;
	static struct timespec last;
	if (enabled < 0) {
		const char *v = getenv("DRPLAN_TIMING");
		enabled = v && *v && strcmp(v, "0") != 0;
		clock_gettime(CLOCK_MONOTONIC, &last);
	}
	if (!enabled || !name)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* With the peak resident size so far (VmHWM), to see which phase sets the peak. */
	long peak_kb = -1;
	FILE *status = fopen("/proc/self/status", "r");
	char line[128];
	while (status && fgets(line, sizeof line, status))
		if (strncmp(line, "VmHWM:", 6) == 0)
			peak_kb = strtol(line + 6, NULL, 10);
	if (status)
		fclose(status);
	fprintf(stderr, "drplan: timing: %-8s %8.3f s, peak RSS %ld KB\n", name,
	        (double)(now.tv_sec - last.tv_sec) + (double)(now.tv_nsec - last.tv_nsec) / 1e9, peak_kb);
	last = now;
}

/* Compiled plans are recognised by their first bytes, so no command needs a flag to say which. */
static bool looks_compiled(const char *path)
{
	char head[256];
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	size_t n = fread(head, 1, sizeof head, f);
	fclose(f);
	return compiled_sniff(head, n);
}

static int read_compiled(struct cli_plan *p, const char *path)
{
	char err[256];
	struct src_file *src = src_load(&p->sources, path, err, sizeof err);
	if (!src) {
		diag_add(&p->diags, DIAG_ERROR, DRP051, src_range_make(SRC_NONE, 0, 0), "cannot read '%s': %s", path, err);
		return EXIT_USAGE;
	}
	p->compiled = true;
	return compiled_read(&p->dag, src, &p->diags) ? EXIT_OK : EXIT_INVALID;
}

/* The plan of the file to lower: the one named by --plan, or the file's only plan. */
static uint32_t choose_plan(struct cli_plan *p, const char *path, const char *name)
{
	const struct model *m = p->model;
	for (uint32_t i = 0; name && i < m->n_plans; i++)
		if (strcmp(m->plans[i].name, name) == 0)
			return i;
	if (!name && m->n_plans == 1)
		return 0;
	struct buf names = BUF_INIT;
	for (uint32_t i = 0; i < m->n_plans; i++)
		buf_printf(&names, "%s'%s'", i ? ", " : "", m->plans[i].name);
	if (name)
		fprintf(stderr, "drplan: %s has no plan '%s'%s%s\n", path, name, m->n_plans ? "; its plans: " : "",
		        names.len ? names.data : "");
	else if (m->n_plans == 0)
		fprintf(stderr, "drplan: %s declares no plan (only what plans use: sites, devices, VMs)\n", path);
	else
		fprintf(stderr, "drplan: %s declares %u plans (%s): choose one with --plan NAME\n", path, m->n_plans,
		        names.data);
	buf_free(&names);
	return DAG_NONE;
}

static int compile_source(struct cli_plan *p, const char *path, const struct cli_plan_options *options)
{
	struct load_options load = {options->root};
	phase(NULL);
	if (!program_load(&p->program, &p->sources, &p->diags, path, &load))
		return EXIT_USAGE;
	phase("load");
	if (program_incomplete(&p->program) || p->diags.errors)
		return EXIT_INVALID;
	p->model = model_build(&p->program, &p->diags);
	phase("validate");
	if (p->diags.errors)
		return EXIT_INVALID;
	if (options->sites_only && p->model->n_plans == 0 && !options->plan) {
		lower_sites(p->model, &p->dag);
		return EXIT_OK;
	}
	uint32_t plan = choose_plan(p, path, options->plan);
	if (plan == DAG_NONE)
		return EXIT_USAGE;
	lower_plan(p->model, plan, &p->sources, &p->dag, &p->diags);
	phase("lower");
	program_digest(&p->program, p->dag.plan_digest, p->dag.inventory_digest);
	phase("digest");
	bool verified = verify_dag(&p->dag, p->model, plan, &p->diags);
	phase("verify");
	return verified ? EXIT_OK : EXIT_INVALID;
}

int cli_plan_load(struct cli_plan *p, const char *path, const struct cli_plan_options *options)
{
	memset(p, 0, sizeof *p);
	src_set_init(&p->sources);
	diag_list_init(&p->diags);
	program_init(&p->program);
	dag_init(&p->dag);
	int status = looks_compiled(path) ? read_compiled(p, path) : compile_source(p, path, options);
	if (status != EXIT_OK || !options->latency)
		return status;
	char err[256];
	struct src_file *profile = src_load(&p->sources, options->latency, err, sizeof err);
	if (!profile) {
		fprintf(stderr, "drplan: cannot read latency profile '%s': %s\n", options->latency, err);
		return EXIT_USAGE;
	}
	return latency_load(&p->dag.latency, profile, &p->diags) ? EXIT_OK : EXIT_INVALID;
}

void cli_plan_free(struct cli_plan *p)
{
	dag_free(&p->dag);
	if (p->model)
		model_free(p->model);
	program_free(&p->program);
	diag_list_free(&p->diags);
	src_set_free(&p->sources);
}

/* The output file, written through a buffer straight into the temporary file that replaces OUT:
 * a million-VM plan is never held in memory as text. */
struct file_sink {
	struct fs_atomic file;
	struct buf pending;
	char err[256];
};

static bool file_flush(struct file_sink *f)
{
	bool ok = fs_atomic_write(&f->file, f->pending.data, f->pending.len, f->err, sizeof f->err);
	buf_clear(&f->pending);
	return ok;
}

static bool file_put(void *ctx, const void *data, size_t len)
{
	struct file_sink *f = ctx;
	buf_append(&f->pending, data, len);
	return f->pending.len < ((size_t)1 << 20) || file_flush(f);
}

static int write_file(const struct dag *d, const char *output)
{
	struct file_sink f = {.pending = BUF_INIT};
	if (!fs_atomic_open(&f.file, output, f.err, sizeof f.err)) {
		fprintf(stderr, "drplan compile: cannot write '%s': %s\n", output, f.err);
		return EXIT_USAGE;
	}
	char seal[65];
	size_t at;
	bool ok = compiled_emit(d, file_put, &f, seal, &at) && file_flush(&f);
	phase("emit");
	if (ok && pwrite(f.file.fd, seal, 64, (off_t)at) != 64) {
		snprintf(f.err, sizeof f.err, "cannot write %s: %s", f.file.tmp, strerror(errno));
		ok = false;
	}
	ok = ok && fs_atomic_commit(&f.file, f.err, sizeof f.err);
	buf_free(&f.pending);
	if (ok)
		return EXIT_OK;
	fs_atomic_abort(&f.file);
	fprintf(stderr, "drplan compile: cannot write '%s': %s\n", output, f.err);
	return EXIT_USAGE;
}

static int write_stdout(const struct dag *d)
{
	struct buf out = BUF_INIT;
	compiled_write(d, &out);
	phase("emit");
	bool ok = fwrite(out.data, 1, out.len, stdout) == out.len && fflush(stdout) == 0;
	buf_free(&out);
	if (ok)
		return EXIT_OK;
	fprintf(stderr, "drplan compile: cannot write to standard output\n");
	return EXIT_USAGE;
}

static void compile_usage(FILE *out)
{
	fprintf(out,
	        "usage: drplan compile [OPTIONS] FILE\n"
	        "\n"
	        "Compiles a plan into its DAG of operations: validates it (as 'drplan check' does),\n"
	        "lowers it, verifies every ordering guarantee of the result, and writes the compiled\n"
	        "plan (docs/compiled-plan.md). Nothing is contacted and nothing runs.\n"
	        "\n"
	        "Options:\n"
	        "  -o, --output OUT  write to OUT (atomically) instead of standard output\n"
	        "  --plan NAME       the plan to compile, when FILE declares several\n"
	        "  --latency FILE    a latency profile to record instead of the built-in model\n"
	        "  --root DIR        includes must stay inside DIR (default: the current directory)\n"
	        "  --format FORMAT   diagnostics as text (default), json, sarif or github\n"
	        "  --color WHEN      auto (default), always or never\n"
	        "  -h, --help        this help\n"
	        "\n"
	        "Exit codes: 0 compiled, 1 invalid plan, 2 usage error or unreadable file.\n");
}

int cmd_compile(int argc, char **argv)
{
	static const struct option options[] = {
		{"output", required_argument, NULL, 'o'},
		CLI_PLAN_OPTIONS,
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cli_report report;
	cli_report_init(&report);
	struct cli_plan_options plan_options = {NULL};
	const char *output = NULL;
	optind = 1;
	opterr = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "ho:", options, NULL)) != -1) {
		switch (opt) {
		case 'o': output = optarg; break;
		case 'h': compile_usage(stdout); return EXIT_OK;
		default:
			switch (cli_plan_option("compile", opt, optarg, &report, &plan_options)) {
			case 1: break;
			case 0: return cli_usage_error("compile", "unknown option '%s'", argv[optind - 1]);
			default: return EXIT_USAGE;
			}
		}
	}
	if (optind >= argc)
		return cli_usage_error("compile", "no plan file given");
	if (optind + 1 < argc)
		return cli_usage_error("compile", "one plan file at a time (got %d)", argc - optind);

	struct cli_plan p;
	int status = cli_plan_load(&p, argv[optind], &plan_options);
	cli_print_diags(&p.diags, &p.sources, &report);
	if (status == EXIT_OK)
		status = output ? write_file(&p.dag, output) : write_stdout(&p.dag);
	phase("write");
	cli_plan_free(&p);
	phase("free");
	return status;
}
