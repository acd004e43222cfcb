/* ast.h: the syntax tree of a plan file, as the parser builds it. Every node carries its source
 * range. The tree records what was written, nothing more: names are not resolved and no rule beyond
 * the grammar (and closed vocabularies such as modes) is checked; later passes do that. All nodes and
 * strings live in the arena of the compilation that parsed them. */
#ifndef DRP_AST_H
#define DRP_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/arena.h"
#include "../lib/buf.h"
#include "source.h"

/* A name (site, device, VM pattern, ...) as written: bare or quoted. text == NULL means absent. */
struct ast_name {
	const char *text; /* decoded, NUL-terminated, never contains NUL */
	uint32_t len;
	bool quoted;      /* written as a string literal */
	struct src_range at;
};

struct ast_name_node {
	struct ast_name name;
	struct ast_name_node *next;
};

struct ast_names {
	struct ast_name_node *head, *tail;
	size_t count;
};

/* A string literal, decoded. text == NULL means absent. */
struct ast_string {
	const char *text;
	uint32_t len;
	struct src_range at;
};

struct ast_number {
	int64_t value;
	bool present;
	struct src_range at;
};

/* A duration like 90s, 5m, 1h30m, 250ms. The spelling is kept (fmt prints it as written). */
struct ast_duration {
	int64_t ms;
	bool present;
	struct src_range at;
	const char *invalid; /* why the lexeme is not a valid duration, or NULL; reported where one is used */
};

/* A value in an adapter setting. */
enum ast_value_kind { AST_VALUE_STRING, AST_VALUE_NUMBER, AST_VALUE_DURATION, AST_VALUE_NAME };

struct ast_value {
	enum ast_value_kind kind;
	struct ast_string string;     /* STRING; NAME uses name */
	struct ast_name name;
	struct ast_number number;
	struct ast_duration duration;
	struct src_range at;
};

/* key value, inside an adapter block: `program "bin/sra"`, `timeout 30s`. */
struct ast_setting {
	struct ast_name key;
	struct ast_value value;
	struct src_range at;
	struct ast_setting *next;
};

/* `adapter KIND` or `adapter KIND { settings }`. */
struct ast_adapter {
	struct ast_name kind;
	bool has_block;
	struct src_range open_brace;
	struct ast_setting *settings;
	struct src_range at;
	struct ast_adapter *next;
};

enum ast_device_kind { AST_DEVICE_REPLICATED, AST_DEVICE_STRETCHED };

struct ast_device {
	enum ast_device_kind kind;
	struct ast_name name;
	/* replicated: `at SITE replicated to PEER at PEER_SITE [consistency GROUP]` */
	struct ast_name site;
	struct ast_name peer;
	struct ast_name peer_site;
	struct ast_name consistency;
	/* stretched: `stretched between SITE and PEER_SITE prefer PREFER` */
	struct ast_name prefer;
	struct ast_adapter *adapter; /* optional trailing `adapter ...` clause */
};

/* `devices a b c` inside a protection group. */
struct ast_devices_stmt {
	struct ast_names devices;
	struct src_range at;
	struct ast_devices_stmt *next;
};

/* Clauses of a `vm` statement, kept in source order. */
enum ast_vm_clause_kind {
	AST_VM_PRIORITY, /* priority N */
	AST_VM_AFTER,    /* after VM... */
	AST_VM_ON,       /* on DEVICE...: the VM's disks, for VMs declared in the plan */
	AST_VM_HOST,     /* host NAME */
};

struct ast_vm_clause {
	enum ast_vm_clause_kind kind;
	struct ast_number priority;
	struct ast_names names; /* AFTER, ON */
	struct ast_name host;
	struct src_range at;
	struct ast_vm_clause *next;
};

enum ast_mode { AST_MODE_PLANNED, AST_MODE_DISASTER, AST_MODE_TEST, AST_MODE_CLEANUP, AST_MODE_REPROTECT };

enum ast_step_kind {
	AST_STEP_SYNC,     /* sync storage */
	AST_STEP_SHUTDOWN, /* shutdown vms [at SITE] */
	AST_STEP_FAILOVER, /* failover storage */
	AST_STEP_REVERSE,  /* reverse storage (reprotect) */
	AST_STEP_PREFER,   /* prefer SITE */
	AST_STEP_MIGRATE,  /* migrate live */
	AST_STEP_REGISTER, /* register vms [at SITE] */
	AST_STEP_POWER_ON, /* power-on vms [by priority] */
	AST_STEP_RUN,      /* run "script" [per workgroup] */
	AST_STEP_PROMPT,   /* prompt "text" */
	AST_STEP_WAIT,     /* wait DURATION */
	AST_STEP_UNREGISTER, /* unregister vms [at SITE] (cleanup) */
	AST_STEP_DISCARD,  /* discard snapshots (cleanup) */
};
#define AST_N_STEP_KINDS (AST_STEP_DISCARD + 1)

struct ast_step {
	enum ast_step_kind kind;
	struct ast_name site;          /* SHUTDOWN, REGISTER, UNREGISTER (optional), PREFER */
	struct ast_string text;        /* RUN script, PROMPT text */
	struct ast_duration wait;      /* WAIT */
	bool by_priority;              /* POWER_ON */
	bool per_workgroup;            /* RUN */
	/* Options any step may carry, printed in this order by fmt, with their keywords' ranges. */
	struct ast_duration timeout;   /* timeout D */
	struct ast_number retries;     /* retry N */
	struct ast_duration backoff;   /* backoff D (only with retry) */
	struct src_range timeout_at, retry_at, backoff_at;
};

enum ast_stmt_kind {
	AST_STMT_ROUTE,     /* from SITE to SITE */
	AST_STMT_MODE,      /* mode MODE */
	AST_STMT_PROTECT,   /* protect GROUP... */
	AST_STMT_WORKGROUP, /* workgroup N */
	AST_STMT_LIMIT,     /* limit OPERATION N [per SCOPE] */
	AST_STMT_RTO,       /* rto DURATION */
	AST_STMT_STEP,      /* step ... */
};

struct ast_stmt {
	enum ast_stmt_kind kind;
	struct src_range at;
	struct ast_stmt *next;
	union {
		struct { struct ast_name from, to; } route;
		struct { enum ast_mode mode; struct ast_name word; } mode;
		struct ast_names protect;
		struct ast_number workgroup;
		struct { struct ast_name operation; struct ast_number count; struct ast_name scope; } limit;
		struct ast_duration rto;
		struct ast_step step;
	} u;
};

enum ast_item_kind {
	AST_INCLUDE,    /* include "path" */
	AST_INVENTORY,  /* inventory "path" */
	AST_SITE,       /* site NAME { adapter ... } */
	AST_DEVICE,     /* device NAME ... */
	AST_PROTECTION, /* protection NAME { devices ... } */
	AST_VM,         /* vm PATTERN clauses */
	AST_PLAN,       /* plan NAME { statements } */
};

struct ast_item {
	enum ast_item_kind kind;
	struct src_range at;
	struct ast_item *next;
	struct ast_name name;              /* SITE, DEVICE, PROTECTION, VM (the pattern), PLAN */
	struct src_range open_brace, close_brace; /* blocks: SITE, PROTECTION, PLAN */
	struct ast_file *included;         /* INCLUDE: the file it read (set by load.c; NULL if that
	                                      file was read before, through another include) */
	union {
		struct ast_string path;            /* INCLUDE, INVENTORY */
		struct ast_adapter *site_adapters; /* SITE */
		struct ast_device device;          /* DEVICE */
		struct ast_devices_stmt *protection; /* PROTECTION */
		struct ast_vm_clause *vm;          /* VM */
		struct ast_stmt *plan;             /* PLAN */
	} u;
};

/* A comment, `# ...` to the end of the line; kept for fmt. */
struct ast_comment {
	struct src_range at;
	struct ast_comment *next;
};

/* One parsed file. */
struct ast_file {
	struct src_file *src;
	struct ast_item *items;
	struct ast_comment *comments;
	bool has_errors; /* the parse reported an error: the tree is incomplete */
};

/* Closed vocabularies, shared by the parser (to validate) and fmt (to print). NULL-terminated. */
extern const char *const ast_mode_names[];      /* indexed by enum ast_mode */
extern const char *const ast_step_names[];      /* indexed by enum ast_step_kind: "sync", ... */
extern const char *const ast_operation_names[]; /* operation kinds a limit may name */
extern const char *const ast_scope_names[];     /* "site", "host", "device" */

/* Keywords of the language (reserved: a name spelled like one must be quoted). */
bool ast_is_keyword(const char *text, size_t len);
/* True if text can be written as a bare name (not a keyword, only name characters). */
bool ast_name_is_bare(const char *text, size_t len);

/* A canonical, location-free rendering of the tree, one node per line. Two files whose dumps are
 * equal have the same meaning; fmt's tests compare dumps. */
void ast_dump(struct buf *out, const struct ast_file *file);

#endif
