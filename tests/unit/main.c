/* main.c: runs every unit-test suite and ends with the line `unit: N passed, N failed`, which
 * tests/run adds to the totals. CK_FORK is left to Check's default, so a crash fails one test. */
#include <stdio.h>
#include <stdlib.h>

#include "suites.h"

int main(void)
{
	Suite *(*const suites[])(void) = {
		lib_suite, source_suite, diag_suite, diff_suite, lexer_suite, parser_suite, fmt_suite, inventory_suite,
		sarif_suite, lower_suite, estimate_suite, views_suite, verify_suite, compiled_suite, journal_suite,
		run_suite, sim_suite, faults_suite, exec_suite, router_suite, stale_suite, yamlwrite_suite,
	};
	SRunner *runner = srunner_create(NULL);
	for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
		srunner_add_suite(runner, suites[i]());
	srunner_run_all(runner, CK_NORMAL);
	int run = srunner_ntests_run(runner);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	printf("unit: %d passed, %d failed\n", run - failed, failed);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
