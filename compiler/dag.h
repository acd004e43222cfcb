/* dag.h: the compiled plan: the operations a plan performs and the edges that order them, with the
 * facts the runtime needs to perform them (sites, devices, consistency groups, hosts, workgroups and
 * their VMs, steps, limits, the latency model). Lowering (lower.c) builds one from the model; the
 * compiled-plan reader (compiled.c) builds one from YAML; the verifier, the views and the runtime
 * only read it. The DAG is standalone: nothing in it points into the model or the AST, except that
 * strings may be borrowed from whoever built it (see dag_init). */
#ifndef DRP_DAG_H
#define DRP_DAG_H

#include <stdbool.h>
#include <stdint.h>

#include "../lib/arena.h"
#include "../lib/buf.h"
#include "ast.h"

#define DAG_NONE UINT32_MAX
/* The priority of VMs that no rule gives one: they power on last (same value as the model's). */
#define DAG_NO_PRIORITY INT32_MAX
#define DAG_FORMAT_VERSION 1

/* Operation kinds. The first ten are, in order, the words of ast_operation_names that a `limit`
 * may name, so a limit's operation converts by index. The kinds of a cleanup (unregister, discard)
 * come after the gate: a limit cannot name them (`limit all` counts them), which keeps that
 * conversion and every compiled plan's numbering as they were. */
enum dag_op_kind {
	DAG_SYNC,     /* device: copy the latest changes to the peer */
	DAG_FAILOVER, /* device or consistency group: make the source read-only, promote the peer */
	DAG_PREFER,   /* stretched device: switch the site preference to op.site */
	DAG_SHUTDOWN, /* workgroup: shut the guests down at op.site */
	DAG_MIGRATE,  /* workgroup: live-migrate to the recovery site */
	DAG_REGISTER, /* workgroup: register the VMs at op.site from the recovered devices */
	DAG_POWER_ON, /* workgroup: power the VMs on */
	DAG_RUN,      /* plan or workgroup: run the step's script */
	DAG_SNAPSHOT, /* device or consistency group (test mode): a writable snapshot of the peer */
	DAG_REVERSE,  /* device: reverse the direction of replication */
	DAG_PROMPT,   /* plan: wait for an operator to confirm the step's text */
	DAG_WAIT,     /* plan: pause for the step's duration */
	DAG_GATE,     /* plan: no action; joins edges (the power-ons of every priority below op.target) */
	DAG_UNREGISTER, /* workgroup (cleanup): remove the test VMs from the inventory at op.site */
	DAG_DISCARD,  /* device or consistency group (cleanup): discard the test's writable snapshot */
	DAG_N_OP_KINDS
};
#define DAG_N_LIMIT_KINDS (DAG_REVERSE + 1)

/* What an operation acts on: op.target indexes the matching table (unused for DAG_TARGET_PLAN). */
enum dag_target { DAG_TARGET_PLAN, DAG_TARGET_DEVICE, DAG_TARGET_GROUP, DAG_TARGET_WORKGROUP };

/* Operation flags. */
enum {
	DAG_BEST_EFFORT = 1 << 0, /* acts at the protected site in disaster mode: a failure is logged and
	                             the run goes on as if it had succeeded */
};

/* Why an edge exists (DESIGN.md section 3). Between two operations there is at most one edge; when
 * several reasons apply, the smallest kind is kept. */
enum dag_edge_kind {
	DAG_EDGE_STEP,     /* 1: the same workgroup's (or device's) previous step */
	DAG_EDGE_PREFER,   /* 2: prefer(D) before migrate(W) for every stretched D under W */
	DAG_EDGE_STORAGE,  /* 3: failover(D) or snapshot(D) before register(W)/power-on(W) */
	DAG_EDGE_SYNC,     /* 4: planned mode: sync(D) before failover(D) */
	DAG_EDGE_SHUTDOWN, /* 4: planned mode: shutdown(W) before failover(D) for every W on D */
	DAG_EDGE_PRIORITY, /* 5: power-on by priority, through the priority's gate */
	DAG_EDGE_AFTER,    /* 5: an `after` dependency between two workgroups' power-ons */
	DAG_EDGE_BARRIER,  /* a plan-wide step (run, prompt, wait): everything before it, before it;
	                      it, before everything after it */
	DAG_EDGE_UNREGISTER, /* cleanup: unregister(W) before discard(D) for every replicated D under W */
	DAG_N_EDGE_KINDS
};

enum dag_device_kind { DAG_REPLICATED, DAG_STRETCHED };

/* Limit scopes: a limit counts the operations of its kind in flight, over the whole plan or per
 * site, host or device. An operation counts once against each site, host or device it touches: its
 * op.site; the hosts of its workgroup's VMs where it acts (at the plan's `to`: their recovery hosts,
 * dag_vm_to_host; elsewhere: their inventory hosts, vm.host; a migrate: both); the devices under
 * its workgroup, or its devices. */
enum dag_scope { DAG_SCOPE_PLAN, DAG_SCOPE_SITE, DAG_SCOPE_HOST, DAG_SCOPE_DEVICE };
#define DAG_LIMIT_ALL DAG_N_LIMIT_KINDS /* dag_limit.kind of `limit all N` */

/* An adapter setting as the plan wrote it (docs/language.md section 3): strings and names as
 * text, numbers in decimal, durations as milliseconds ("30000ms"). */
struct dag_setting {
	const char *key, *value;
};

struct dag_site {
	const char *name;
	const char *adapter;           /* the kind of the site's adapter (its first), or NULL: the simulator */
	const struct dag_setting *settings;
	uint32_t n_settings;
};

struct dag_host {
	const char *name;
	uint32_t site;                 /* DAG_NONE if unknown */
};

struct dag_device {
	const char *name;
	const char *peer;              /* replicated: the peer's identifier; stretched: its own name */
	enum dag_device_kind kind;
	uint32_t site, peer_site;      /* replicated: source and peer sites; stretched: its two sites */
	uint32_t group;                /* consistency group, or DAG_NONE */
	uint32_t prefer;               /* stretched: the preferred site when compiled, or DAG_NONE */
};

struct dag_group {
	const char *name;
	uint32_t *devices;             /* sorted by name */
	uint32_t n_devices;
};

struct dag_vm {
	const char *name;
	uint32_t host;                 /* at the protected site, as the inventory lists it; DAG_NONE if unknown */
	uint32_t workgroup;
};

/* A VM that was being moved between two replicated devices when the inventory was taken (a
 * storage-migration record, docs/inventory.md). Both devices are in its workgroup's, so both copies
 * are recovered before `register`, which registers the copy that the records found on the recovered
 * devices choose (the run decides, not the compiler). */
enum dag_migration_state { DAG_MIGRATION_COMPLETED, DAG_MIGRATION_IN_PROGRESS };
struct dag_migration {
	uint32_t vm;                   /* index into dag.vms */
	uint32_t from, to;             /* devices: the source copy's and the destination copy's */
	uint32_t state;                /* enum dag_migration_state, as the inventory recorded it: the
	                                  simulator's starting world, never the run's choice */
};

/* VMs that move together: same priority, same way of moving, same devices. Its VMs are contiguous
 * in dag.vms, sorted by name. */
struct dag_workgroup {
	int32_t priority;              /* DAG_NO_PRIORITY if none */
	bool live;                     /* moves by live migration (all devices stretched) */
	uint32_t first_vm, n_vms;
	const uint32_t *devices;       /* sorted by name; workgroups with the same devices share it */
	uint32_t n_devices;
};

struct dag_step {
	enum ast_step_kind kind;
	bool inserted;                 /* added by the compiler (a `prefer` before `migrate live`) */
	bool by_priority;              /* POWER_ON */
	bool per_workgroup;            /* RUN */
	uint32_t site;                 /* SHUTDOWN, REGISTER, PREFER; else DAG_NONE */
	const char *text;              /* RUN: the script's path as written; PROMPT: the text; or NULL */
	int64_t wait_ms;               /* WAIT */
	int64_t timeout_ms;            /* 0: none */
	uint32_t retries;
	int64_t backoff_ms;
	uint32_t line;                 /* the step's line in the plan's file; 0 if inserted */
};

struct dag_limit {
	uint32_t kind;                 /* enum dag_op_kind below DAG_N_LIMIT_KINDS, or DAG_LIMIT_ALL */
	enum dag_scope scope;
	uint32_t count;
};

/* Expected duration of an operation: base + per_vm * (VMs of its workgroup; for device and plan
 * operations, 0). `wait` lasts its step's duration and `prompt` and `gate` take no time, whatever
 * the model says. */
struct dag_latency {
	int64_t base_ms[DAG_N_OP_KINDS];
	int64_t per_vm_ms[DAG_N_OP_KINDS];
};

struct dag_op {
	uint8_t kind;                  /* enum dag_op_kind */
	uint8_t target_kind;           /* enum dag_target */
	uint8_t flags;                 /* DAG_BEST_EFFORT */
	uint32_t step;                 /* index into dag.steps */
	uint32_t target;               /* device, group or workgroup; GATE: the priority */
	uint32_t site;                 /* where it acts (PREFER: the site preferred), or DAG_NONE */
	uint32_t first_pred, n_preds;  /* into dag.edges, after dag_finish */
};

struct dag_edge {
	uint32_t from, to;
	uint32_t kind;                 /* enum dag_edge_kind */
};

struct dag {
	struct arena arena;
	/* The plan. */
	const char *name;
	enum ast_mode mode;
	uint32_t from, to;             /* sites */
	uint32_t workgroup_size;
	int64_t rto_ms;                /* 0: none */
	char plan_digest[65];          /* SHA-256 (hex) of the plan's sources and inventories, or "" */
	char inventory_digest[65];     /* SHA-256 (hex) of its inventories, or "" */
	char seal[65];                 /* read from a compiled plan: its seal (checked), else "" */
	/* The protection groups the plan moves, sorted: a run locks them (runtime/lock.h). */
	const char **protections;
	uint32_t n_protections;
	/* The world, as far as the plan touches it. */
	struct dag_site *sites;
	uint32_t n_sites;
	struct dag_host *hosts;
	uint32_t n_hosts;
	struct dag_device *devices;
	uint32_t n_devices;
	struct dag_group *groups;
	uint32_t n_groups;
	struct dag_vm *vms;
	uint32_t n_vms;
	struct dag_workgroup *workgroups;
	uint32_t n_workgroups;
	struct dag_migration *migrations; /* sorted by VM, at most one per VM */
	uint32_t n_migrations;
	/* The recovery hosts the VMs are dealt to, round-robin in the order of `vms` (lower.c,
	 * "Placement"); none when the recovery site lists no hosts or the plan moves no VMs. */
	uint32_t *placement;
	uint32_t n_placement;
	struct dag_step *steps;
	uint32_t n_steps;
	struct dag_limit *limits;
	uint32_t n_limits;
	struct dag_latency latency;
	/* The graph. */
	struct dag_op *ops;
	uint32_t n_ops, cap_ops;
	struct dag_edge *edges;        /* after dag_finish: sorted by (to, from), one per pair */
	uint32_t n_edges, cap_edges;
	bool finished;
};

/* An empty DAG with the built-in latency model. Tables (sites, ..., limits) are filled by the
 * builder, in dag.arena or in memory that outlives the DAG; strings may be borrowed likewise. */
void dag_init(struct dag *d);
void dag_free(struct dag *d);

/* Makes room for this many operations and edges, so that a builder that knows its sizes roughly
 * allocates once: pages a generous guess never touches cost no memory. */
void dag_reserve(struct dag *d, uint32_t ops, uint32_t edges);
/* Appends an operation and returns its index. */
uint32_t dag_add_op(struct dag *d, enum dag_op_kind kind, enum dag_target target_kind, uint32_t target,
                    uint32_t step, uint32_t site, unsigned flags);
/* Records that `to` waits for `from`. Duplicates are fine: dag_finish merges them. */
void dag_add_edge(struct dag *d, uint32_t from, uint32_t to, enum dag_edge_kind kind);
/* Sorts and merges the edges and indexes each operation's predecessors (op.first_pred, n_preds).
 * Call once, after the last dag_add_edge. */
void dag_finish(struct dag *d);

/* The successors of every operation, the reverse of the predecessor index: succ[first[i] ..
 * first[i+1]) are the operations that wait for i, ascending. Built on demand by whoever needs it. */
struct dag_succ {
	uint32_t *first;               /* n_ops + 1 entries */
	uint32_t *succ;                /* n_edges entries */
};
void dag_succ_build(const struct dag *d, struct dag_succ *s);
void dag_succ_free(struct dag_succ *s);

/* A topological order of the operations (Kahn's algorithm, smallest index first among the ready
 * ones, so it is deterministic). Returns the number of operations ordered: less than n_ops means a
 * cycle, and the unordered ones are on it or behind it. `order` has n_ops entries. */
uint32_t dag_topo_order(const struct dag *d, uint32_t *order);

/* Names, stable across compiles: they appear in the compiled plan, the views and the journal. */
extern const char *const dag_op_kind_names[];   /* "sync", ..., "gate" */
extern const char *const dag_edge_kind_names[]; /* "step", "prefer", ... */
extern const char *const dag_scope_names[];     /* "plan", "site", "host", "device" */
/* An operation's id: "s<step>.<kind>[.<target>]", e.g. "s3.failover.cg-pay-db", "s4.power-on.w12",
 * "s7.prompt", "s4.gate.p2". Steps count from 1 and workgroups are w1, w2, ... */
void dag_op_id(const struct dag *d, uint32_t op, struct buf *out);
/* What follows from an operation's kind, step and target, as lowering sets it: where it acts
 * (sync, reverse: the device's site; failover, snapshot, discard: the recovery site of its device
 * or group; prefer, shutdown, register, unregister: the step's site; migrate, power-on and per-workgroup run: the plan's
 * `to`; plan operations: none) and its flags (sync and shutdown are best-effort in disaster mode).
 * The compiled plan does not repeat them: its reader derives them with these. */
uint32_t dag_op_default_site(const struct dag *d, const struct dag_op *op);
unsigned dag_op_default_flags(const struct dag *d, const struct dag_op *op);
/* Why an edge from -> to exists, from the two operations' kinds and targets (enum dag_edge_kind),
 * as lowering labels it; the compiled plan's reader labels edges with it. */
enum dag_edge_kind dag_edge_kind_of(const struct dag *d, uint32_t from, uint32_t to);
/* Sets every operation's site and flags and every edge's kind to the above (before dag_finish). */
void dag_derive(struct dag *d);
/* Where the plan places a VM at the recovery site: placement[vm mod n_placement], or DAG_NONE. */
uint32_t dag_vm_to_host(const struct dag *d, uint32_t vm);
/* A VM's storage-migration record, or NULL. */
const struct dag_migration *dag_vm_migration(const struct dag *d, uint32_t vm);
extern const char *const dag_migration_state_names[]; /* "completed", "in-progress" */
/* The VMs an operation acts on: its workgroup's, or none. */
uint32_t dag_op_vms(const struct dag *d, uint32_t op);
/* Expected duration under d->latency. */
int64_t dag_op_duration_ms(const struct dag *d, uint32_t op);

#endif
