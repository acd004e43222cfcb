/* model.h: the resolved plan: every site, device, consistency group, protection group and VM of a
 * program (the plan files and their inventories), with names replaced by indices and each fact
 * linked to where it was written. model_build resolves names and runs every validation rule of
 * docs/diagnostics.md; lowering to a DAG starts from this model. The model owns an arena holding all
 * of it; the program and the source set it came from must outlive it. */
#ifndef DRP_MODEL_H
#define DRP_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "../lib/arena.h"
#include "../lib/strmap.h"
#include "ast.h"
#include "diag.h"
#include "inventory.h"
#include "load.h"

#define MODEL_NONE UINT32_MAX
/* The priority of a VM that no rule gives one: it powers on after every prioritised VM. */
#define MODEL_NO_PRIORITY INT32_MAX

struct model_site {
	const char *name;
	struct src_range at;           /* the `site` declaration's name, or the inventory entry */
	const struct ast_item *decl;   /* NULL if only the inventory names it */
};

struct model_host {
	const char *name;
	uint32_t site;
	struct src_range at;
};

struct model_device {
	const char *name;
	enum ast_device_kind kind;
	uint32_t site;                 /* replicated: the source's site; stretched: the first site */
	uint32_t peer_site;            /* replicated: the peer's site; stretched: the second site */
	const char *peer;              /* replicated: the peer's identifier; stretched: its own */
	uint32_t consistency;          /* index into groups, or MODEL_NONE */
	uint32_t prefer;               /* stretched: the preferred site, or MODEL_NONE if unknown */
	struct src_range at;           /* the declaration's name (plan), else the inventory entry */
	const struct ast_item *decl;   /* the plan's `device`, or NULL */
	const struct inv_device *inv;  /* the inventory's entry, or NULL */
	bool disputed;                 /* declaration and inventory disagree (reported): rules that
	                                  would use the disputed facts stay silent */
};

struct model_cgroup {
	const char *name;
	struct src_range at;           /* first place it is named */
	uint32_t *devices;
	uint32_t n_devices;
};

struct model_protection {
	const char *name;
	struct src_range at;
	const struct ast_item *decl;
	uint32_t *devices;
	uint32_t n_devices;
	bool incomplete;               /* a device name did not resolve (already reported) */
};

/* One `after` clause of a `vm` rule, with its targets expanded to VMs. */
struct model_after {
	const struct ast_vm_clause *clause;
	uint32_t *targets;
	uint32_t n_targets;
};

/* A node of a VM's list of the `after` clauses that apply to it. */
struct model_vm_after {
	uint32_t after;                /* index into model.afters */
	struct model_vm_after *next;
};

struct model_vm {
	const char *name;
	struct src_range at;           /* the inventory entry, or the `vm` statement that declared it */
	uint32_t host;                 /* MODEL_NONE if unknown */
	uint32_t *devices;
	uint32_t n_devices;
	int32_t priority;              /* MODEL_NO_PRIORITY when no rule gives one */
	const struct ast_item *priority_rule; /* the rule that gave the priority */
	struct model_vm_after *afters;
	bool live;                     /* every device is stretched: it moves by live migration */
	uint32_t name_len;             /* strlen(name) (here, to keep the struct at 64 bytes) */
};

/* A storage-migration record of the inventories that passed validation (DRP057, DRP058): the VM was
 * being moved from one replicated device to another when the inventory was taken. Which copy a run
 * registers is decided at run time, from the records found on the recovered devices. */
struct model_migration {
	uint32_t vm, from, to;         /* VM and devices */
	bool completed;                /* the state the inventory recorded */
	const struct inv_migration *inv;
};

struct model_step {
	const struct ast_stmt *stmt;
	enum ast_step_kind kind;
	uint32_t site;                 /* shutdown/register/prefer: the site (defaults applied) */
};

struct model_limit {
	const struct ast_stmt *stmt;
	const char *operation;         /* a word of ast_operation_names */
	const char *scope;             /* NULL, "site", "host" or "device" */
	uint32_t count;
};

struct model_plan {
	const struct ast_item *decl;
	const char *name;
	uint32_t from, to;             /* sites, or MODEL_NONE if missing or unknown */
	enum ast_mode mode;
	uint32_t workgroup;            /* 0 when not given */
	int64_t rto_ms;                /* 0 when not given */
	uint32_t *protections;
	uint32_t n_protections;
	bool *covered;                 /* per device: in one of the plan's protection groups */
	struct model_step *steps;
	uint32_t n_steps;
	struct model_limit *limits;
	uint32_t n_limits;
};

struct model {
	struct arena arena;
	struct model_site *sites;
	uint32_t n_sites;
	struct model_host *hosts;
	uint32_t n_hosts;
	struct model_device *devices;
	uint32_t n_devices;
	struct model_cgroup *groups;
	uint32_t n_groups;
	struct model_protection *protections;
	uint32_t n_protections;
	struct model_vm *vms;
	uint32_t n_vms;
	struct model_after *afters;
	uint32_t n_afters;
	struct model_migration *migrations;
	uint32_t n_migrations;
	uint32_t *vm_migration;        /* per VM: its record in migrations, or MODEL_NONE */
	struct model_plan *plans;
	uint32_t n_plans;
	/* Name lookups. */
	struct strmap site_names, host_names, device_names, group_names, protection_names, vm_names;
};

/* Builds the model of a loaded program and reports every problem found. Never fails: what cannot be
 * resolved is left out (and reported once), so that one mistake does not cascade. */
struct model *model_build(const struct program *program, struct diag_list *diags);
void model_free(struct model *m);

#endif
