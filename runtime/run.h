/* run.h: the scheduler of `drplan run` (docs/runtime.md): executes a compiled plan's DAG through an
 * adapter, in real time (a pool of worker threads performs the calls) or in virtual time (the clock
 * jumps to the next event), under the plan's limits, by critical-path priority, pipelined or with a
 * barrier between steps; records every state change in the journal (group commit) and resumes an
 * interrupted run from it. */
#ifndef DRP_RUN_H
#define DRP_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "../compiler/dag.h"
#include "../lib/arena.h"
#include "adapter.h"
#include "journal.h"

enum run_op_state {
	RUN_PENDING,
	RUN_RUNNING,
	RUN_DONE,
	RUN_IGNORED,                   /* best-effort failed: counts as done */
	RUN_FAILED,
	RUN_SKIPPED,                   /* a prerequisite failed, or the run stopped */
	RUN_N_STATES
};
extern const char *const run_op_state_names[]; /* "pending", "running", "done", ... */

/* For progress output: one per state change, in order. A RUN_PENDING event follows RUN_RUNNING
 * when an attempt failed transiently and a retry is scheduled (message: why, attempt: the one that
 * failed). Events of the reconciliation before a resumed run starts have time 0. */
struct run_event {
	int64_t time_ms;               /* the run's clock */
	uint32_t op;
	enum run_op_state state;
	uint32_t attempt;
	const char *message;           /* NULL, or why (valid during the call only) */
};

struct run_options {
	struct adapter *adapter;
	struct journal *journal;       /* open for appending; NULL: no journal (tests, estimates) */
	uint32_t run;                  /* this run's number: 1, or 1 + the journal's last run */
	bool virtual_time;             /* time advances to the next event; adapters return durations */
	bool barrier;                  /* --strategy barrier: every op of step s finishes before any op
	                                  of step s+1 starts (SRM priority groups, Ansible linear) */
	uint32_t workers;              /* worker threads in real time (0: 16) */
	bool confirm_prompts;          /* --yes: prompts are confirmed (journal prompt-confirmed) */
	const char *script_dir;        /* `run` scripts are relative to it (NULL: the current directory) */
	bool simulate_scripts;         /* scripts are not executed: they take their modelled time */
	const char *script_log;        /* scripts' stdout and stderr are appended to this file; NULL:
	                                  inherited */
	double time_scale;             /* real time: `wait` steps and simulated scripts last their time
	                                  times this (0: 1), to match the simulator's time_scale in a demo */
	const uint8_t *resume;         /* NULL, or per op the state the journal recorded (enum
	                                  run_op_state: RUN_DONE/RUN_IGNORED = never again; RUN_RUNNING =
	                                  was in flight; others = to do), for --resume: see
	                                  run_resume_note */
	uint8_t *const *resume_vms;    /* NULL, or per op NULL or one byte per VM of its workgroup: 1 =
	                                  the journal records it done (vm-done), never acted on again:
	                                  see run_resume_note_vm */
	void (*on_event)(void *ctx, const struct run_event *e);
	/* For output: an adapter's note about one VM of an operation that succeeded ("VM: text", valid
	 * during the call only), journaled as a `note` record. May be NULL. */
	void (*on_note)(void *ctx, int64_t time_ms, uint32_t op, const char *note);
	void *ctx;
	volatile int *interrupt;       /* set to 1 by a SIGINT handler: stop starting, finish, exit 3 */
};

struct run_result {
	uint8_t *state;                /* per op, enum run_op_state (free with run_result_free) */
	char **why;                    /* per op: why it failed or was skipped, or NULL (in arena) */
	uint32_t *attempts;            /* per op: attempts made in this run */
	uint32_t count[RUN_N_STATES];
	int64_t makespan_ms;           /* the run's clock at the end */
	bool unfinished;               /* stopped before the end: a prompt without --yes and no
	                                  terminal, an interrupt, or a journal write error: exit 3 */
	char message[256];             /* why unfinished, or the setup error */
	uint32_t reconciled;           /* operations the adapter was asked about before the run */
	uint16_t *vm_reconciled;       /* per VM of the DAG: one bit (1 << enum dag_op_kind) per
	                                  workgroup operation that a query after a fault found done for
	                                  it (and that was therefore not performed again for it) */
	uint32_t vms_reconciled;       /* how many (operation, VM) pairs that makes */
	struct arena arena;            /* owns the why strings */
};

/* Executes d (finished, verified) and fills r (always initialised: run_result_free it). Returns 0
 * when the run went as far as it could (r->count says how: failures are not errors here), -1 on a
 * setup error (message in r->message: no adapter, a script log that cannot be opened, an empty
 * DAG's journal that cannot be written). Blocks until the run ends. */
int run_execute(const struct dag *d, const struct run_options *o, struct run_result *r);
void run_result_free(struct run_result *r);

/* Builds the resume array from a journal: call it for every record of the earlier runs, in order,
 * on an array of d->n_ops bytes zeroed to RUN_PENDING. The last word on an op wins: start -> was
 * in flight; done, reconciled-done, prompt-confirmed -> done; ignored -> ignored; failed, skipped
 * -> to do again; retry, reconciled-not-done -> to do. Records for ops out of range are ignored. */
void run_resume_note(uint8_t *resume, uint32_t n_ops, const struct journal_record *rec);

/* For --resume: notes a vm-done record (others are ignored) in vms, an array of d->n_ops pointers
 * zeroed: vms[op] becomes one byte per VM of the op's workgroup (allocated on first use), 1 for
 * the VM the record names. A VM recorded done stays done, whatever comes after. */
void run_resume_note_vm(uint8_t **vms, const struct dag *d, const struct journal_record *rec);
/* Frees what run_resume_note_vm allocated, and the array itself. NULL is fine. */
void run_resume_vms_free(uint8_t **vms, uint32_t n_ops);

#endif
