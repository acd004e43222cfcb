/* exec.h: the exec adapter: each operation is one run of an external program, executed directly (no
 * shell) in a process group of its own, that reads a YAML request on stdin and writes a YAML reply on
 * stdout (the protocol is docs/adapters.md). Thread-safe: every call is its own process. */
#ifndef DRP_EXEC_H
#define DRP_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../compiler/dag.h"
#include "../../lib/buf.h"
#include "../adapter.h"

/* The strings are copied by exec_open, and the environment is read then: the caller may free them
 * and change its environment afterwards. */
struct exec_options {
	const char *program;            /* the adapter program: executed directly, never through a shell */
	int64_t timeout_ms;             /* per call (0: 300000); the request's own timeout_ms wins if smaller */
	const char *secrets_file;       /* NULL, or KEY=VALUE lines added to the program's environment;
	                                   refused unless a regular file of mode 0600 owned by the caller */
	const char *const *pass_env;    /* names of the caller's environment variables passed through */
	uint32_t n_pass_env;
	const char *log_path;           /* the program's stderr lines are appended here, each prefixed with
	                                   the adapter name and op id; NULL: drplan's stderr */
	const char *name;               /* how messages name the adapter ("exec:bin/sra"); NULL: "exec:"
	                                   followed by the program */
	int64_t poll_ms;                /* sync-status interval while a sync is in progress (0: 5000) */
};

/* The size above which a reply is refused (and the program killed): an operation's, and a
 * discovery's, which lists a whole site (some 100 bytes a VM: 256 MiB is two million VMs). */
#define EXEC_REPLY_MAX ((size_t)1 << 20)
#define EXEC_DISCOVER_REPLY_MAX ((size_t)1 << 28)

/* Opens the adapter for this compiled plan (which must outlive it). NULL with err set if the program
 * is not executable, the secrets file is unsafe or malformed, or the log cannot be opened. Close it
 * through a->vt->close. */
struct adapter *exec_open(const struct dag *d, const struct exec_options *o, char *err, size_t errlen);

/* Parses text as an adapter's reply, as a call does (with `discover`: its inventory mapping copied
 * through libyaml's emitter into a YAML document appended to inventory, which may be NULL
 * otherwise). False with why set. For the fuzz harness and tests: replies are hostile input. */
bool exec_reply_check(const char *text, size_t len, bool discover, struct buf *inventory, char *why, size_t whylen);

/* Runs the program once with `discover` (docs/adapters.md section 5) for these sites, and appends
 * the inventory document of its reply to `inventory` as YAML (to be read as an inventory file).
 * False with err set if the program or its reply failed. */
bool exec_discover(const struct exec_options *o, const char *const *sites, uint32_t n_sites, struct buf *inventory,
                   char *err, size_t errlen);

#endif
