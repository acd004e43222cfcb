/* run.c: `drplan run FILE|COMPILED`: compiles the plan (or reads it), takes the locks of its
 * protection groups, opens its journal (new, or --resume), runs the scheduler on the simulator with
 * a live progress line, and ends with every VM's outcome and each failure's reason. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../lib/alloc.h"
#include "../runtime/adapters/exec.h"
#include "../runtime/adapters/sim.h"
#include "../runtime/faults.h"
#include "../runtime/journal.h"
#include "../runtime/lock.h"
#include "../runtime/router.h"
#include "../runtime/run.h"
#include "cli.h"

/* Repeated options (--down, --fail, --transient), collected for sim_options. */
#define MAX_LISTED 64
struct listed {
	const char *v[MAX_LISTED];
	uint32_t n;
};

struct run_cli {
	struct cli_report report;
	struct cli_plan_options plan;
	const char *journal, *sim_state, *lock_dir, *scripts, *faults;
	bool resume, simulate, barrier, yes, json, all, no_discovery_check;
	uint64_t seed;
	uint32_t workers;
	double time_scale;
	struct listed down, fail, transient, records;
};

/* ---- Progress: one line that rewrites itself on a terminal, plain lines otherwise, or JSON. */

struct progress {
	const struct dag *d;
	const struct run_cli *o;
	bool tty;
	uint8_t *state;                /* per op: the last state seen */
	uint32_t total, finished, running, failed, skipped;
	uint32_t last_step;
	struct timespec start, last_print;
	uint32_t last_decile;
	uint32_t printed;              /* `finished` when the last line was printed, +1 (0: none yet) */
	bool line_open;                /* a progress line without its newline is on the terminal */
	struct buf text;
};

static double since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static void put_clock(struct buf *b, double seconds)
{
	long s = seconds < 0 ? 0 : (long)(seconds + 0.5);
	if (s >= 3600)
		buf_printf(b, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
	else
		buf_printf(b, "%ld:%02ld", s / 60, s % 60);
}

static void progress_line(struct progress *p, bool final)
{
	if (final && !p->tty && p->printed == p->finished + 1)
		return; /* plain lines: the last one said it already */
	p->printed = p->finished + 1;
	struct buf *b = &p->text;
	buf_clear(b);
	const struct dag_step *st = &p->d->steps[p->last_step];
	buf_printf(b, "[%u/%u] step %u %s, running %u, failed %u", p->finished, p->total, p->last_step + 1,
	           ast_step_names[st->kind], p->running, p->failed);
	double elapsed = since(&p->start);
	if (!final && p->finished > 0 && p->finished < p->total) {
		buf_puts(b, ", ETA ");
		put_clock(b, elapsed / p->finished * (p->total - p->finished));
	} else {
		buf_puts(b, ", ");
		put_clock(b, elapsed);
	}
	if (p->tty) {
		fprintf(stderr, "\r\033[K%s", b->data);
		p->line_open = !final;
		if (final)
			fputc('\n', stderr);
	} else {
		fprintf(stderr, "%s\n", b->data);
	}
	fflush(stderr);
	clock_gettime(CLOCK_MONOTONIC, &p->last_print);
}

/* Clears the live line before a message of its own line. */
static void progress_break(struct progress *p)
{
	if (p->line_open) {
		fputs("\r\033[K", stderr);
		p->line_open = false;
	}
}

static void progress_json(struct progress *p, const struct run_event *e)
{
	struct buf *b = &p->text;
	buf_clear(b);
	buf_printf(b, "{\"event\":\"operation\",\"time_ms\":%lld,\"op\":", (long long)e->time_ms);
	struct buf id = BUF_INIT;
	dag_op_id(p->d, e->op, &id);
	buf_json_string(b, id.data, id.len);
	buf_free(&id);
	buf_printf(b, ",\"state\":\"%s\",\"attempt\":%u", run_op_state_names[e->state], e->attempt);
	if (e->message) {
		buf_puts(b, ",\"message\":");
		buf_json_string(b, e->message, strlen(e->message));
	}
	buf_printf(b, ",\"finished\":%u,\"total\":%u}\n", p->finished, p->total);
	fwrite(b->data, 1, b->len, stdout);
}

static void on_event(void *ctx, const struct run_event *e)
{
	struct progress *p = ctx;
	uint8_t was = p->state[e->op];
	p->state[e->op] = (uint8_t)e->state;
	if (was == RUN_RUNNING)
		p->running--;
	bool finished_before = was == RUN_DONE || was == RUN_IGNORED || was == RUN_FAILED || was == RUN_SKIPPED;
	switch (e->state) {
	case RUN_RUNNING:
		p->running++;
		p->last_step = p->d->ops[e->op].step;
		break;
	case RUN_FAILED: p->failed++; break;
	case RUN_SKIPPED: p->skipped++; break;
	default: break;
	}
	bool finished_now = e->state == RUN_DONE || e->state == RUN_IGNORED || e->state == RUN_FAILED ||
	                    e->state == RUN_SKIPPED;
	if (finished_now && !finished_before)
		p->finished++;
	if (p->o->json) {
		progress_json(p, e);
		return;
	}
	if (e->state == RUN_FAILED || e->state == RUN_IGNORED) {
		struct buf id = BUF_INIT;
		dag_op_id(p->d, e->op, &id);
		progress_break(p);
		fprintf(stderr, "drplan: %s %s: %s\n", id.data, e->state == RUN_FAILED ? "failed" : "failed (best-effort, ignored)",
		        e->message ? e->message : "no reason given");
		buf_free(&id);
	}
	if (p->tty) {
		if (since(&p->last_print) >= 0.1)
			progress_line(p, false);
	} else {
		uint32_t decile = p->total ? p->finished * 10 / p->total : 10;
		if (decile > p->last_decile) {
			p->last_decile = decile;
			progress_line(p, false);
		}
	}
}

/* An adapter's note about one VM (register: which copy of a VM being moved it used, and why): a
 * line of its own, as failures are, or a JSON event. */
static void on_note(void *ctx, int64_t time_ms, uint32_t op, const char *note)
{
	struct progress *p = ctx;
	struct buf id = BUF_INIT;
	dag_op_id(p->d, op, &id);
	if (p->o->json) {
		struct buf *b = &p->text;
		buf_clear(b);
		buf_printf(b, "{\"event\":\"note\",\"time_ms\":%lld,\"op\":", (long long)time_ms);
		buf_json_string(b, id.data, id.len);
		buf_puts(b, ",\"note\":");
		buf_json_string(b, note, strlen(note));
		buf_puts(b, "}\n");
		fwrite(b->data, 1, b->len, stdout);
	} else {
		progress_break(p);
		fprintf(stderr, "drplan: %s: %s\n", id.data, note);
	}
	buf_free(&id);
}

/* ---- The report at the end: every VM's outcome, and why for each failure. */

/* A workgroup's outcome: its first failed or skipped operation, or DAG_NONE if all went well. */
static uint32_t workgroup_trouble(const struct run_result *r, const uint32_t *first_op, const uint32_t *next_op,
                                  uint32_t w)
{
	for (uint32_t op = first_op[w]; op != DAG_NONE; op = next_op[op])
		if (r->state[op] == RUN_FAILED || r->state[op] == RUN_SKIPPED || r->state[op] == RUN_PENDING ||
		    r->state[op] == RUN_RUNNING)
			return op;
	return DAG_NONE;
}

/* Which of a VM's operations a query after a fault found done (so they were not redone). */
static void put_reconciled(struct buf *b, uint16_t kinds)
{
	const char *sep = " (reconciled after a fault: ";
	for (int k = 0; k < DAG_N_OP_KINDS; k++)
		if (kinds & (1u << k)) {
			buf_printf(b, "%s%s", sep, dag_op_kind_names[k]);
			sep = ", ";
		}
	if (kinds)
		buf_putc(b, ')');
}

static void report(const struct dag *d, const struct run_result *r, const struct run_cli *o, struct adapter *sim)
{
	/* Each workgroup's operations, chained in index order. */
	uint32_t *first_op = xmalloc(((size_t)d->n_workgroups + 1) * sizeof *first_op);
	uint32_t *next_op = xmalloc(((size_t)d->n_ops + 1) * sizeof *next_op);
	memset(first_op, 0xff, ((size_t)d->n_workgroups + 1) * sizeof *first_op);
	for (uint32_t i = d->n_ops; i-- > 0;) {
		next_op[i] = DAG_NONE;
		if (d->ops[i].target_kind == DAG_TARGET_WORKGROUP) {
			next_op[i] = first_op[d->ops[i].target];
			first_op[d->ops[i].target] = i;
		}
	}
	uint32_t recovered = 0, troubled = 0;
	/* A cleanup removes the test's copies: its VMs end "cleaned up", not recovered. */
	const char *ok_word = d->mode == AST_MODE_CLEANUP ? "cleaned up" : "recovered";
	bool list_all = o->all || d->n_vms <= 100;
	struct buf line = BUF_INIT, id = BUF_INIT;
	FILE *out = o->json ? stderr : stdout;
	if (list_all && !o->json)
		fprintf(out, "\nVMs\n");
	for (uint32_t w = 0; w < d->n_workgroups; w++) {
		const struct dag_workgroup *wg = &d->workgroups[w];
		uint32_t bad = workgroup_trouble(r, first_op, next_op, w);
		if (bad == DAG_NONE)
			recovered += wg->n_vms;
		else
			troubled += wg->n_vms;
		if (o->json || (!list_all && bad == DAG_NONE))
			continue;
		for (uint32_t k = 0; k < wg->n_vms; k++) {
			const struct dag_vm *vm = &d->vms[wg->first_vm + k];
			buf_clear(&line);
			buf_printf(&line, "  %-24s w%-5u ", vm->name, w + 1);
			if (bad == DAG_NONE) {
				buf_puts(&line, wg->live ? (d->mode == AST_MODE_CLEANUP ? "untouched (live)" : "migrated") : ok_word);
			} else {
				buf_clear(&id);
				dag_op_id(d, bad, &id);
				buf_printf(&line, "%s at %s", run_op_state_names[r->state[bad]], id.data);
				if (r->why && r->why[bad])
					buf_printf(&line, ": %s", r->why[bad]);
			}
			put_reconciled(&line, r->vm_reconciled[wg->first_vm + k]);
			if (sim) {
				buf_puts(&line, "  [");
				sim_describe_vm(sim, vm->name, &line);
				buf_puts(&line, "]");
			}
			fprintf(out, "%s\n", line.data);
		}
	}
	if (!list_all && troubled == 0 && !o->json)
		fprintf(out, "\n(%u VMs, all %s: --all lists them)\n", d->n_vms, ok_word);
	fprintf(out, "\n%u VM%s %s, %u not; operations: %u done, %u ignored, %u failed, %u skipped, %u not run; "
	             "run time ",
	        recovered, recovered == 1 ? "" : "s", ok_word, troubled, r->count[RUN_DONE], r->count[RUN_IGNORED],
	        r->count[RUN_FAILED], r->count[RUN_SKIPPED], r->count[RUN_PENDING] + r->count[RUN_RUNNING]);
	buf_clear(&line);
	put_clock(&line, (double)r->makespan_ms / 1000.0);
	fprintf(out, "%s%s\n", line.data, o->simulate ? " (simulated)" : "");
	if (r->vms_reconciled)
		fprintf(out, "%u VM operation%s found done after a fault, not redone\n", r->vms_reconciled,
		        r->vms_reconciled == 1 ? "" : "s");
	buf_free(&line);
	buf_free(&id);
	free(first_op);
	free(next_op);
}

/* ---- The command. */

static volatile int interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

struct resume_state {
	uint8_t *resume;
	uint32_t n_ops, last_run;
	uint8_t **vms;                 /* per op: its VMs recorded done (vm-done) */
	const struct dag *d;
};

static void resume_each(void *ctx, const struct journal_record *rec)
{
	struct resume_state *s = ctx;
	if (rec->run > s->last_run)
		s->last_run = rec->run;
	run_resume_note(s->resume, s->n_ops, rec);
	run_resume_note_vm(s->vms, s->d, rec);
}

static void resume_warn(void *ctx, const char *message)
{
	(void)ctx;
	fprintf(stderr, "drplan run: warning: %s\n", message);
}

static void run_usage(FILE *out)
{
	fprintf(out,
	        "usage: drplan run [OPTIONS] FILE|COMPILED\n"
	        "\n"
	        "Executes a plan (compiling it first) or a compiled plan on the simulator: a pool of\n"
	        "workers performs the operations under the plan's limits, workgroups pipelined through\n"
	        "the steps; every state change goes to the journal, so an interrupted run resumes\n"
	        "without performing anything twice.\n"
	        "\n"
	        "Options:\n"
	        "  --journal FILE      the run's journal (default: PLAN.journal in the current directory)\n"
	        "  --resume            continue the run of an existing journal\n"
	        "  --simulate          a rehearsal in virtual time: no waiting, scripts not executed,\n"
	        "                      prompts confirmed\n"
	        "  --sim-state DIR     the simulated world (default: JOURNAL.sim)\n"
	        "  --seed N            the simulator's latencies (default 1)\n"
	        "  --time-scale X      real time: operations and waits last X times their time (default 1)\n"
	        "  --down SITE         the simulator's SITE is down (a disaster rehearsal; repeatable)\n"
	        "  --fail OP|VM        this operation id or VM's operations fail (repeatable)\n"
	        "  --transient OP      this operation fails transiently twice, then succeeds (repeatable)\n"
	        "  --migration-record DEVICE=STATE\n"
	        "                      the simulator finds storage-migration records saying STATE\n"
	        "                      (completed, in-progress or none) on DEVICE's recovered copy\n"
	        "                      (repeatable; default: the inventory's state, on both devices)\n"
	        "  --no-discovery-check  do not compare the plan with a fresh discovery of its exec\n"
	        "                      sites before the first operation (see docs/commands.md)\n"
	        "  --faults FILE       inject the faults of this rules file (docs/faults.md): errors,\n"
	        "                      timeouts, delays, lost replies, a crash (exit 70), drawn from --seed\n"
	        "  --strategy S        pipeline (default) or barrier: every workgroup finishes a step\n"
	        "                      before any starts the next (SRM priority groups, Ansible linear)\n"
	        "  --workers N         worker threads (default 16)\n"
	        "  --yes               confirm every prompt\n"
	        "  --json              JSON-lines events on standard output\n"
	        "  --all               list every VM at the end, not only the ones in trouble\n"
	        "  --lock-dir DIR      where the protection groups' locks live (default: SIM-STATE/locks)\n"
	        "  --scripts DIR       the directory that `run` scripts are relative to (default: the\n"
	        "                      directory of FILE; give it when running a compiled plan kept\n"
	        "                      elsewhere than its source)\n"
	        "  --plan NAME, --root DIR, --latency FILE, --format F, --color WHEN: as for compile\n"
	        "  -h, --help          this help\n"
	        "\n"
	        "Exit codes: 0 every operation done, 1 invalid plan or failed operations, 2 usage error or\n"
	        "unreadable input, 3 unfinished (interrupted, waiting for a prompt, or locked): resumable.\n");
}

static bool add_listed(struct listed *l, const char *v)
{
	if (l->n == MAX_LISTED)
		return false;
	l->v[l->n++] = v;
	return true;
}

static int parse_options(int argc, char **argv, struct run_cli *o)
{
	static const struct option options[] = {
		{"journal", required_argument, NULL, 'j'},
		{"resume", no_argument, NULL, 'R'},
		{"simulate", no_argument, NULL, 'S'},
		{"sim-state", required_argument, NULL, 's'},
		{"seed", required_argument, NULL, 'e'},
		{"time-scale", required_argument, NULL, 'T'},
		{"down", required_argument, NULL, 'D'},
		{"fail", required_argument, NULL, 'F'},
		{"transient", required_argument, NULL, 't'},
		{"migration-record", required_argument, NULL, 'M'},
		{"strategy", required_argument, NULL, 'g'},
		{"workers", required_argument, NULL, 'w'},
		{"yes", no_argument, NULL, 'y'},
		{"json", no_argument, NULL, 'J'},
		{"all", no_argument, NULL, 'a'},
		{"lock-dir", required_argument, NULL, 'L'},
		{"scripts", required_argument, NULL, 'X'},
		{"faults", required_argument, NULL, 'Q'},
		{"no-discovery-check", no_argument, NULL, 'N'},
		CLI_PLAN_OPTIONS,
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	optind = 1;
	opterr = 0;
	int opt;
	char *end;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'j': o->journal = optarg; break;
		case 'R': o->resume = true; break;
		case 'S': o->simulate = true; break;
		case 's': o->sim_state = optarg; break;
		case 'e':
			errno = 0;
			o->seed = strtoull(optarg, &end, 10);
			if (errno || *end || !*optarg)
				return cli_usage_error("run", "--seed takes a number, not '%s'", optarg);
			break;
		case 'T':
			o->time_scale = strtod(optarg, &end);
			if (*end || !*optarg || !(o->time_scale > 0 && o->time_scale <= 1000))
				return cli_usage_error("run", "--time-scale takes a number above 0 (up to 1000), not '%s'", optarg);
			break;
		case 'D':
		case 'F':
		case 't':
		case 'M':
			if (!add_listed(opt == 'D' ? &o->down : opt == 'F' ? &o->fail : opt == 't' ? &o->transient : &o->records,
			                optarg))
				return cli_usage_error("run", "at most %d of each of --down, --fail, --transient and "
				                       "--migration-record", MAX_LISTED);
			break;
		case 'g':
			if (strcmp(optarg, "pipeline") == 0)
				o->barrier = false;
			else if (strcmp(optarg, "barrier") == 0)
				o->barrier = true;
			else
				return cli_usage_error("run", "--strategy is pipeline or barrier, not '%s'", optarg);
			break;
		case 'w': {
			long n = strtol(optarg, &end, 10);
			if (*end || !*optarg || n < 1 || n > 1024)
				return cli_usage_error("run", "--workers takes a number from 1 to 1024, not '%s'", optarg);
			o->workers = (uint32_t)n;
			break;
		}
		case 'y': o->yes = true; break;
		case 'J': o->json = true; break;
		case 'a': o->all = true; break;
		case 'L': o->lock_dir = optarg; break;
		case 'X': o->scripts = optarg; break;
		case 'Q': o->faults = optarg; break;
		case 'N': o->no_discovery_check = true; break;
		case 'h': run_usage(stdout); return EXIT_OK;
		default:
			switch (cli_plan_option("run", opt, optarg, &o->report, &o->plan)) {
			case 1: break;
			case 0: return cli_usage_error("run", "unknown option '%s'", argv[optind - 1]);
			default: return EXIT_USAGE;
			}
		}
	}
	if (optind >= argc)
		return cli_usage_error("run", "no plan given");
	if (optind + 1 < argc)
		return cli_usage_error("run", "one plan at a time (got %d)", argc - optind);
	return -1;
}

/* The adapter of every site: the simulator, or for a site whose plan says `adapter exec { program
 * ... }` that program (docs/adapters.md), paths relative to `dir`. A rehearsal (--simulate) never
 * leaves the simulator. Returns sim itself when no site needs anything else, else a router that
 * owns sim too; NULL with err set if an adapter cannot be opened. */
static struct adapter *site_adapters(const struct dag *d, struct adapter *sim, const char *dir, const char *log,
                                     bool simulate, char *err, size_t errlen)
{
	if (simulate)
		return sim;
	struct adapter **by_site = xcalloc((size_t)d->n_sites + 1, sizeof *by_site);
	bool any = false, ok = true;
	for (uint32_t i = 0; i < d->n_sites && ok; i++) {
		const struct dag_site *site = &d->sites[i];
		if (!site->adapter || strcmp(site->adapter, "sim") == 0)
			continue;
		if (strcmp(site->adapter, "exec") != 0) {
			snprintf(err, errlen, "site '%s': drplan run knows the adapters sim and exec, not '%s'", site->name,
			         site->adapter);
			ok = false;
			break;
		}
		struct cli_exec x;
		if (!cli_exec_options(site, dir, log, &x, err, errlen)) {
			ok = false;
			break;
		}
		by_site[i] = exec_open(d, &x.options, err, errlen);
		cli_exec_free(&x);
		ok = by_site[i] != NULL;
		any = true;
	}
	if (!ok || !any) {
		for (uint32_t i = 0; i < d->n_sites; i++)
			if (by_site[i])
				by_site[i]->vt->close(by_site[i]);
		free(by_site);
		return ok ? sim : NULL;
	}
	struct adapter *router = router_new(d, by_site, sim);
	free(by_site);
	return router;
}

int cmd_run(int argc, char **argv)
{
	struct run_cli o = {.seed = 1, .time_scale = 1};
	cli_report_init(&o.report);
	int status = parse_options(argc, argv, &o);
	if (status >= 0)
		return status;
	const char *path = argv[optind];

	struct cli_plan p;
	status = cli_plan_load(&p, path, &o.plan);
	cli_print_diags(&p.diags, &p.sources, &o.report);
	if (status != EXIT_OK) {
		cli_plan_free(&p);
		return status;
	}
	const struct dag *d = &p.dag;
	/* The fault rules before anything is locked or written: a bad file starts nothing. */
	struct fault_rules faults = {0};
	if (o.faults) {
		char ferr[256];
		struct src_file *f = src_load(&p.sources, o.faults, ferr, sizeof ferr);
		if (!f) {
			fprintf(stderr, "drplan run: cannot read fault rules '%s': %s\n", o.faults, ferr);
			cli_plan_free(&p);
			return EXIT_USAGE;
		}
		struct diag_list fdiags;
		diag_list_init(&fdiags);
		bool ok = fault_rules_load(&faults, f, &fdiags);
		if (fdiags.len > 0)
			cli_print_diags(&fdiags, &p.sources, &o.report);
		diag_list_free(&fdiags);
		if (!ok) {
			fault_rules_free(&faults);
			cli_plan_free(&p);
			return EXIT_INVALID;
		}
		faults.sleep_delays = !o.simulate;
	}
	struct buf journal_path = BUF_INIT, sim_state = BUF_INIT, lock_dir = BUF_INIT, who = BUF_INIT, script_log = BUF_INIT;
	if (o.journal)
		buf_puts(&journal_path, o.journal);
	else
		buf_printf(&journal_path, "%s.journal", d->name);
	if (o.sim_state)
		buf_puts(&sim_state, o.sim_state);
	else
		buf_printf(&sim_state, "%s.sim", journal_path.data);
	buf_printf(&script_log, "%s.scripts.log", journal_path.data);
	if (o.lock_dir)
		buf_puts(&lock_dir, o.lock_dir);
	else
		buf_printf(&lock_dir, "%s/locks", sim_state.data);

	struct journal *journal = NULL;
	struct run_lock *lock = NULL;
	struct adapter *sim = NULL, *faulty = NULL, *adapter = NULL;
	struct buf adapter_log = BUF_INIT;
	uint8_t *resume = NULL, **resume_vms = NULL;
	char *script_dir = o.scripts ? xstrdup(o.scripts) : cli_dir_of(path);
	char err[512];
	char digest[65];
	journal_plan_digest(d, digest);

	/* The locks first: a second run over the same protection groups touches nothing. */
	lock_describe(&who, d->name, journal_path.data);
	lock = lock_acquire(lock_dir.data, d->protections, d->n_protections, who.data, err, sizeof err);
	if (!lock) {
		fprintf(stderr, "drplan run: %s\n", err);
		status = EXIT_UNFINISHED;
		goto out;
	}
	buf_printf(&adapter_log, "%s.adapters.log", journal_path.data);
	/* Under the locks (a run in progress elsewhere is "locked", not "stale"), before the journal:
	 * a stale plan leaves nothing behind. A resumed run has changed the world itself already. */
	if (!o.resume && !o.simulate && !o.no_discovery_check) {
		status = cli_discovery_check(&p, path, script_dir, adapter_log.data, &o.report);
		if (status != EXIT_OK)
			goto out;
	}
	uint32_t run_number = 1;
	if (o.resume) {
		resume = xcalloc((size_t)d->n_ops + 1, 1);
		resume_vms = xcalloc((size_t)d->n_ops + 1, sizeof *resume_vms);
		struct resume_state rs = {resume, d->n_ops, 0, resume_vms, d};
		journal = journal_open(journal_path.data, digest, resume_each, resume_warn, &rs, err, sizeof err);
		if (!journal) {
			fprintf(stderr, "drplan run: cannot resume: %s\n", err);
			status = EXIT_USAGE;
			goto out;
		}
		run_number = rs.last_run + 1;
	} else {
		struct stat st;
		if (stat(journal_path.data, &st) == 0) {
			fprintf(stderr,
			        "drplan run: the journal '%s' of an earlier run exists: add --resume to continue that run, or "
			        "give another --journal\n",
			        journal_path.data);
			status = EXIT_USAGE;
			goto out;
		}
		journal = journal_create(journal_path.data, digest, d->name, err, sizeof err);
		if (!journal) {
			fprintf(stderr, "drplan run: %s\n", err);
			status = EXIT_USAGE;
			goto out;
		}
	}
	struct sim_options so = {
		.state_dir = sim_state.data, .seed = o.seed, .virtual_time = o.simulate, .time_scale = o.time_scale,
		.down_sites = o.down.v, .n_down_sites = o.down.n, .fail = o.fail.v, .n_fail = o.fail.n,
		.transient = o.transient.v, .n_transient = o.transient.n, .transient_failures = 2,
		.records = o.records.v, .n_records = o.records.n,
		.defer_sync = true,
	};
	sim = sim_open(d, &so, err, sizeof err);
	if (!sim) {
		fprintf(stderr, "drplan run: the simulator: %s\n", err);
		status = EXIT_USAGE;
		goto out;
	}

	adapter = site_adapters(d, sim, script_dir, adapter_log.data, o.simulate, err, sizeof err);
	if (!adapter) {
		fprintf(stderr, "drplan run: %s\n", err);
		status = EXIT_USAGE;
		goto out;
	}
	if (o.faults)
		faulty = faults_wrap(adapter, d, &faults, o.seed);

	struct progress pr = {.d = d, .o = &o, .tty = isatty(STDERR_FILENO) && !o.json, .total = d->n_ops};
	pr.state = xcalloc((size_t)d->n_ops + 1, 1);
	clock_gettime(CLOCK_MONOTONIC, &pr.start);
	if (!o.json)
		fprintf(stderr, "drplan: %s plan '%s' %s -> %s: %u VMs in %u workgroups, %u operations%s%s\n",
		        ast_mode_names[d->mode], d->name, d->from == DAG_NONE ? "?" : d->sites[d->from].name,
		        d->to == DAG_NONE ? "?" : d->sites[d->to].name, d->n_vms, d->n_workgroups, d->n_ops,
		        o.simulate ? ", simulated" : "", o.resume ? ", resumed" : "");
	struct sigaction sa = {.sa_handler = on_interrupt};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	struct run_options ro = {
		.adapter = faulty ? faulty : adapter, .journal = journal, .run = run_number, .virtual_time = o.simulate, .barrier = o.barrier,
		.workers = o.workers, .confirm_prompts = o.yes, .script_dir = script_dir, .simulate_scripts = o.simulate,
		.time_scale = o.time_scale, .resume = resume, .resume_vms = resume_vms,
		.script_log = o.simulate ? NULL : script_log.data, .on_event = on_event, .on_note = on_note, .ctx = &pr,
		.interrupt = &interrupted,
	};
	struct run_result r;
	if (run_execute(d, &ro, &r) != 0) {
		progress_break(&pr);
		fprintf(stderr, "drplan run: %s\n", r.message);
		status = EXIT_USAGE;
	} else {
		if (!o.json)
			progress_line(&pr, true);
		report(d, &r, &o, sim);
		for (uint32_t i = 0; i < d->n_steps && !o.simulate && !o.json; i++)
			if (d->steps[i].kind == AST_STEP_RUN) {
				printf("The scripts' output is in %s.\n", script_log.data);
				break;
			}
		if (r.unfinished) {
			fprintf(stderr, "drplan run: unfinished: %s\n", r.message);
			fprintf(stderr, "drplan run: resume with: drplan run --resume --journal %s %s\n", journal_path.data, path);
			status = EXIT_UNFINISHED;
		} else {
			status = r.count[RUN_FAILED] || r.count[RUN_SKIPPED] ? EXIT_INVALID : EXIT_OK;
		}
	}
	run_result_free(&r);
	free(pr.state);
	buf_free(&pr.text);
	if (sim && !sim_checkpoint(sim, err, sizeof err)) {
		fprintf(stderr, "drplan run: the simulator's world: %s\n", err);
		status = status == EXIT_OK ? EXIT_UNFINISHED : status;
	}
out:
	/* One chain: the proxy closes what it wraps, a router each site's adapter and the simulator. */
	if (faulty)
		faulty->vt->close(faulty);
	else if (adapter)
		adapter->vt->close(adapter);
	else if (sim)
		sim->vt->close(sim);
	buf_free(&adapter_log);
	fault_rules_free(&faults);
	if (journal)
		journal_close(journal);
	lock_release(lock);
	free(resume);
	run_resume_vms_free(resume_vms, d->n_ops);
	free(script_dir);
	buf_free(&journal_path);
	buf_free(&sim_state);
	buf_free(&lock_dir);
	buf_free(&who);
	buf_free(&script_log);
	cli_plan_free(&p);
	return status;
}
