/* yaml-baseline.c: what reading an inventory costs against libyaml's own floor.
 *
 *   build/bench/yaml-baseline [--events-only] [--runs N] FILE
 *
 * The floor is libyaml's event parser alone: pull every event of FILE (held in memory, read as
 * UTF-8, as inventory_parse reads it) and free it, nothing else. Then inventory_parse reads the same
 * bytes into records, with a fresh arena each run. The two alternate, N times each (default 5), so
 * that a busy machine slows both alike; the medians of wall-clock and of process CPU time, and
 * their ratios, are printed (on a shared machine the CPU-time ratio is the one to trust). The
 * inventory's diagnostics are counted, so a benchmark of a broken file shows as such. With
 * --events-only only the floor is measured. Reading the file from disk is outside both timings.  */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yaml.h>

#include "../compiler/inventory.h"

#define MAX_RUNS 101

static double clock_seconds(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wall-clock and CPU time of one run. */
struct timing {
	double wall, cpu;
};

static struct timing timing_start(void)
{
	struct timing t = {clock_seconds(CLOCK_MONOTONIC), clock_seconds(CLOCK_PROCESS_CPUTIME_ID)};
	return t;
}

static void timing_stop(const struct timing *start, double *wall, double *cpu)
{
	*wall = clock_seconds(CLOCK_MONOTONIC) - start->wall;
	*cpu = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - start->cpu;
}

static int compare_double(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;
	return a < b ? -1 : a > b;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, compare_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Pulls every event; returns how many, or -1 on a YAML error (printed). */
static long pull_events(const char *text, size_t len)
{
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser))
		return -1;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
	long events = 0;
	for (;;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev)) {
			fprintf(stderr, "yaml-baseline: YAML error: %s at line %zu\n",
			        parser.problem ? parser.problem : "?", parser.problem_mark.line + 1);
			events = -1;
			break;
		}
		events++;
		bool end = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
		if (end)
			break;
	}
	yaml_parser_delete(&parser);
	return events;
}

static void usage(void)
{
	fprintf(stderr, "usage: yaml-baseline [--events-only] [--runs N] FILE\n");
}

int main(int argc, char **argv)
{
	bool events_only = false;
	int runs = 5;
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--events-only") == 0) {
			events_only = true;
		} else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			runs = atoi(argv[++i]);
			if (runs < 1 || runs > MAX_RUNS) {
				fprintf(stderr, "yaml-baseline: --runs must be between 1 and %d\n", MAX_RUNS);
				return 2;
			}
		} else if (argv[i][0] == '-' || path) {
			usage();
			return 2;
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		usage();
		return 2;
	}

	struct src_set sources;
	src_set_init(&sources);
	char err[256];
	struct src_file *src = src_load(&sources, path, err, sizeof err);
	if (!src) {
		fprintf(stderr, "yaml-baseline: cannot read '%s': %s\n", path, err);
		return 2;
	}
	/* libyaml never sees a UTF-8 BOM when inventory_parse feeds it; neither here. */
	size_t skip = src->len >= 3 && memcmp(src->text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;

	double ev_wall[MAX_RUNS], ev_cpu[MAX_RUNS], inv_wall[MAX_RUNS], inv_cpu[MAX_RUNS];
	long events = 0;
	struct inventory inv;
	memset(&inv, 0, sizeof inv);
	size_t n_diags = 0, arena_bytes = 0;
	for (int r = 0; r < runs; r++) {
		struct timing t = timing_start();
		events = pull_events(src->text + skip, src->len - skip);
		timing_stop(&t, &ev_wall[r], &ev_cpu[r]);
		if (events < 0)
			return 1;
		if (events_only)
			continue;
		struct arena arena;
		arena_init(&arena);
		struct diag_list diags;
		diag_list_init(&diags);
		t = timing_start();
		inventory_parse(&inv, &arena, src, &diags);
		timing_stop(&t, &inv_wall[r], &inv_cpu[r]);
		n_diags = diags.len;
		arena_bytes = arena.total;
		diag_list_free(&diags);
		arena_free(&arena);
	}
	double ew = median(ev_wall, runs), ec = median(ev_cpu, runs);
	printf("file        %s (%zu bytes)\n", path, src->len);
	printf("libyaml     %ld events; median of %d runs: %.3f s wall, %.3f s CPU (%.1f MB/s)\n", events, runs, ew,
	       ec, (double)src->len / ec / 1e6);
	if (!events_only) {
		double iw = median(inv_wall, runs), ic = median(inv_cpu, runs);
		printf("inventory   %u sites, %u devices, %u VMs, %u migrations, %zu diagnostics, %.1f MB in the arena\n",
		       inv.n_sites, inv.n_devices, inv.n_vms, inv.n_migrations, n_diags, (double)arena_bytes / 1e6);
		printf("inventory   median of %d runs: %.3f s wall, %.3f s CPU\n", runs, iw, ic);
		printf("ratio       %.2f CPU, %.2f wall (inventory_parse / libyaml events)\n", ic / ec, iw / ew);
	}
	src_set_free(&sources);
	return 0;
}
