/* suites.h: every Check suite of the unit-test runner. Each test_*.c file defines one. */
#ifndef DRP_TEST_SUITES_H
#define DRP_TEST_SUITES_H

#include <check.h>

Suite *lib_suite(void);      /* test_lib.c: arena, buf, utf8 */
Suite *source_suite(void);   /* test_source.c: offsets to lines and columns */
Suite *diag_suite(void);     /* test_diag.c: the four renderers, suggestions */
Suite *diff_suite(void);     /* test_diff.c: unified diff */
Suite *lexer_suite(void);    /* test_lexer.c: tokens and their ranges */
Suite *parser_suite(void);   /* test_parser.c: trees, recovery, includes */
Suite *fmt_suite(void);      /* test_fmt.c: idempotence and tree equality over every plan */
Suite *inventory_suite(void); /* test_inventory.c: the inventory YAML reader */
Suite *sarif_suite(void);     /* test_sarif.c: SARIF of a real plan, walked with json.h */
Suite *lower_suite(void);     /* test_lower.c: plans lowered to DAGs, edge by edge */
Suite *estimate_suite(void);  /* test_estimate.c: limits, the RTO estimate, latency profiles */
Suite *views_suite(void);     /* test_views.c: DOT graphs and plan diffs of hand-built DAGs */
Suite *verify_suite(void);    /* test_verify.c: the DAG verifier, on hand-built DAGs good and broken */
Suite *compiled_suite(void);  /* test_compiled.c: SHA-256, the compiled plan's writer and reader */
Suite *journal_suite(void);   /* test_journal.c: CRC-32C, the run journal, protection-group locks */
Suite *run_suite(void);       /* test_run.c: the scheduler and the script runner, through a fake adapter */
Suite *sim_suite(void);       /* test_sim.c: the simulator adapter: physics, effects.log, reopening */
Suite *faults_suite(void);    /* test_faults.c: the fault-injection proxy and its rules files */
Suite *router_suite(void);    /* test_router.c: per-site routing of adapter calls */
Suite *exec_suite(void);      /* test_exec.c: the exec adapter against tests/adapters/fake-array.sh */
Suite *stale_suite(void);     /* test_stale.c: a compiled plan's world against fresh discoveries */
Suite *yamlwrite_suite(void); /* test_yamlwrite.c: the YAML writer against libyaml's emitter */

#endif
