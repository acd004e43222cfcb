/* parse-bench.c: parser throughput. Reads one plan file once, then parses it RUNS times in process
 * (parse_file into a fresh arena each time; includes are not followed) and prints each run's
 * seconds, the median, and MB/s (10^6 bytes per second) from the median. Exits 1, with the
 * diagnostics, if a parse reports an error: a benchmark of the error path is not a benchmark.
 * Each run is timed with CLOCK_MONOTONIC (wall) and CLOCK_PROCESS_CPUTIME_ID (CPU); MB/s is from
 * the wall-clock median, the CPU figures are for comparing builds on a busy machine.
 *
 *   build/bench/parse-bench [-n RUNS] FILE      (RUNS: default 5)
 *
 * Output is one "key: value" per line, for scripts (bench/run-parse.sh reads it). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../compiler/diag.h"
#include "../compiler/parse.h"
#include "../compiler/source.h"
#include "../lib/arena.h"
#include "../lib/buf.h"

#define MAX_RUNS 1000

static double now(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median_of(double *v, long n)
{
	qsort(v, (size_t)n, sizeof v[0], cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void usage(FILE *f)
{
	fputs("usage: parse-bench [-n RUNS] FILE\n"
	      "Parses FILE RUNS times (default 5, at most 1000) and prints seconds per run, the median\n"
	      "and MB/s (10^6 bytes/s) from the median. Exit 1 if the file has syntax errors.\n",
	      f);
}

int main(int argc, char **argv)
{
	long runs = 5;
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
			char *end;
			errno = 0;
			runs = strtol(argv[++i], &end, 10);
			if (errno || *end || runs < 1 || runs > MAX_RUNS) {
				fprintf(stderr, "parse-bench: -n wants a number from 1 to %d\n", MAX_RUNS);
				return 2;
			}
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-' || path) {
			usage(stderr);
			return 2;
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		usage(stderr);
		return 2;
	}

	struct src_set sources;
	src_set_init(&sources);
	char err[256];
	struct src_file *src = src_load(&sources, path, err, sizeof err);
	if (!src) {
		fprintf(stderr, "parse-bench: cannot read '%s': %s\n", path, err);
		return 2;
	}
	size_t lines = 0;
	for (const char *p = src->text, *end = src->text + src->len; (p = memchr(p, '\n', (size_t)(end - p)));
	     p++)
		lines++;
	if (src->len && src->text[src->len - 1] != '\n')
		lines++;

	static double secs[MAX_RUNS], cpu[MAX_RUNS];
	size_t items = 0, arena_bytes = 0;
	printf("file: %s\nbytes: %zu\nlines: %zu\nruns: %ld\n", path, src->len, lines, runs);
	fflush(stdout);
	for (long r = 0; r < runs; r++) {
		struct arena arena;
		struct diag_list diags;
		arena_init(&arena);
		diag_list_init(&diags);
		double c0 = now(CLOCK_PROCESS_CPUTIME_ID), t0 = now(CLOCK_MONOTONIC);
		struct ast_file *file = parse_file(&arena, src, &diags);
		double t1 = now(CLOCK_MONOTONIC), c1 = now(CLOCK_PROCESS_CPUTIME_ID);
		secs[r] = t1 - t0;
		cpu[r] = c1 - c0;
		if (diags.errors || file->has_errors) {
			struct buf out = BUF_INIT;
			diag_sort(&diags);
			diag_render(&out, &diags, &sources, DIAG_FORMAT_TEXT, false);
			fwrite(out.data ? out.data : "", 1, out.len, stderr);
			fprintf(stderr, "parse-bench: FAILED: '%s' has %zu error(s); nothing was measured\n", path,
			        diags.errors);
			return 1;
		}
		items = 0;
		for (const struct ast_item *it = file->items; it; it = it->next)
			items++;
		arena_bytes = arena.total;
		printf("run %ld: %.6f s (cpu %.6f s)\n", r + 1, secs[r], cpu[r]);
		fflush(stdout);
		diag_list_free(&diags);
		arena_free(&arena);
	}
	double median = median_of(secs, runs), median_cpu = median_of(cpu, runs);
	printf("items: %zu\narena_bytes: %zu\n", items, arena_bytes);
	printf("min_s: %.6f\nmedian_s: %.6f\nmax_s: %.6f\n", secs[0], median, secs[runs - 1]);
	printf("median_mb_per_s: %.1f\n", (double)src->len / 1e6 / median);
	printf("median_lines_per_s: %.0f\n", (double)lines / median);
	/* CPU time (user + system, this process) does not count time spent waiting for a core, so it
	 * varies less than wall time on a busy machine. */
	printf("median_cpu_s: %.6f\nmedian_cpu_mb_per_s: %.1f\n", median_cpu, (double)src->len / 1e6 / median_cpu);
	src_set_free(&sources);
	return 0;
}
