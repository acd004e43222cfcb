/* test_router.c: per-site routing of adapter calls: each operation reaches the adapter of the site
 * where it acts, the protected half of a failover its source site's, and flush and close reach
 * each adapter once. */
#include <check.h>
#include <string.h>

#include "../../runtime/router.h"
#include "lowered.h"
#include "suites.h"

struct recorder {
	struct adapter base;
	char calls[512];
	int flushes, closes;
};

static void note(struct adapter *a, const char *what)
{
	struct recorder *r = (struct recorder *)a;
	strncat(r->calls, what, sizeof r->calls - strlen(r->calls) - 1);
	strncat(r->calls, " ", sizeof r->calls - strlen(r->calls) - 1);
}

#define RECORD(entry)                                                                               \
	static void rec_##entry(struct adapter *a, const struct adapter_request *q, struct adapter_reply *r) \
	{                                                                                               \
		(void)q;                                                                                    \
		note(a, #entry);                                                                            \
		r->status = ADAPTER_DONE;                                                                   \
	}
RECORD(sync)
RECORD(prepare_failover)
RECORD(failover)
RECORD(shutdown)
RECORD(register_vms)
RECORD(power_on)
#undef RECORD

static bool rec_flush(struct adapter *a, char *err, size_t errlen)
{
	(void)err, (void)errlen;
	((struct recorder *)a)->flushes++;
	return true;
}

static void rec_close(struct adapter *a)
{
	((struct recorder *)a)->closes++;
}

static const struct adapter_vtable rec_vt = {
	.name = "recorder", .sync = rec_sync, .prepare_failover = rec_prepare_failover, .failover = rec_failover,
	.shutdown = rec_shutdown, .register_vms = rec_register_vms, .power_on = rec_power_on,
	.flush = rec_flush, .close = rec_close,
};

START_TEST(test_routes_by_site)
{
	struct lowered l;
	lower_text(&l, "site east { adapter exec { program \"bin/array\" } }\n"
	               "site west { adapter sim }\n"
	               "device lun-1 at east replicated to lun-2 at west\n"
	               "protection p { devices lun-1 }\n"
	               "vm db-01 priority 1 on lun-1\n"
	               "plan x {\n  from east to west\n  mode planned\n  protect p\n"
	               "  step sync storage\n  step shutdown vms\n  step failover storage\n"
	               "  step register vms\n  step power-on vms\n}\n");
	const struct dag *d = &l.dag;
	ck_assert_str_eq(d->sites[0].name, "east");
	struct recorder east = {.base.vt = &rec_vt}, west = {.base.vt = &rec_vt};
	struct adapter *by_site[2] = {&east.base, NULL}; /* west falls back */
	struct adapter *r = router_new(d, by_site, &west.base);
	for (uint32_t i = 0; i < d->n_ops; i++) {
		struct adapter_request q = {.dag = d, .op = i, .attempt = 1, .run = 1};
		struct adapter_reply reply;
		adapter_perform(r, &q, &reply);
		ck_assert_int_eq(reply.status, ADAPTER_DONE);
	}
	/* The source site does the sync, the shutdown and the protected half of the failover; the
	 * recovery site promotes, registers and powers on. */
	ck_assert_str_eq(east.calls, "sync shutdown prepare_failover ");
	ck_assert_str_eq(west.calls, "failover register_vms power_on ");
	char err[64];
	ck_assert(r->vt->flush(r, err, sizeof err));
	ck_assert_int_eq(east.flushes, 1);
	ck_assert_int_eq(west.flushes, 1);
	r->vt->close(r);
	ck_assert_int_eq(east.closes, 1);
	ck_assert_int_eq(west.closes, 1);
	lowered_free(&l);
}
END_TEST

/* An entry the site's adapter lacks is a clear failure, not a crash. */
START_TEST(test_missing_entry)
{
	struct lowered l;
	lower_text(&l, "site east { adapter sim }\nsite west { adapter sim }\n"
	               "device m-1 stretched between east and west prefer east\n"
	               "protection p { devices m-1 }\nvm web-01 priority 1 on m-1\n"
	               "plan x {\n  from east to west\n  mode planned\n  protect p\n"
	               "  step prefer west\n  step migrate live\n}\n");
	struct recorder only = {.base.vt = &rec_vt};
	struct adapter *r = router_new(&l.dag, NULL, &only.base);
	struct adapter_request q = {.dag = &l.dag, .op = 0, .attempt = 1, .run = 1};
	struct adapter_reply reply;
	adapter_perform(r, &q, &reply);
	ck_assert_int_eq(reply.status, ADAPTER_FAILED);
	ck_assert_ptr_nonnull(strstr(reply.message, "cannot"));
	r->vt->close(r);
	ck_assert_int_eq(only.closes, 1);
	lowered_free(&l);
}
END_TEST

Suite *router_suite(void)
{
	Suite *s = suite_create("router");
	TCase *tc = tcase_create("router");
	tcase_add_test(tc, test_routes_by_site);
	tcase_add_test(tc, test_missing_entry);
	suite_add_tcase(s, tc);
	return s;
}
