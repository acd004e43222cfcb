/* script.h: runs the program of a `run` step (docs/language.md section 7): directly with
 * posix_spawn, no shell, in its own process group so that a timeout can kill everything it started.
 * Thread-safe: the scheduler's workers call it concurrently. */
#ifndef DRP_SCRIPT_H
#define DRP_SCRIPT_H

#include <stdbool.h>
#include <stdint.h>

#define SCRIPT_MESSAGE_MAX 240

struct script_request {
	const char *path;              /* as the plan wrote it: relative to dir, or absolute */
	const char *dir;               /* the working directory, and the base of a relative path; NULL:
	                                  the current directory */
	const char *const *env;        /* "NAME=value" entries added to (or replacing in) the inherited
	                                  environment */
	uint32_t n_env;
	int64_t timeout_ms;            /* 0: none. On expiry the process group gets SIGKILL */
	int log_fd;                    /* stdout and stderr go here; -1: inherited */
};

enum script_status {
	SCRIPT_OK,                     /* exit status 0 */
	SCRIPT_FAILED,                 /* a non-zero exit, a signal, a timeout, or it could not start */
};

struct script_result {
	enum script_status status;
	int exit_status;               /* the exit status, or -1 (killed, or not started) */
	int signal;                    /* the signal that killed it, or 0 */
	bool timed_out;
	int64_t elapsed_ms;            /* wall time from spawn to exit */
	char message[SCRIPT_MESSAGE_MAX]; /* "" if ok; else "exit status 3", "killed by signal 9 (Killed)",
	                                     "timed out after 5m", "cannot run scripts/x.sh: ..." */
};

/* Runs the script and waits for it; every failure is reported through res. stdin is /dev/null.
 * The script has its own process group: a ^C at the terminal does not reach it (the scheduler lets
 * what runs finish), and a timeout kills the whole group. */
void script_run(const struct script_request *req, struct script_result *res);

#endif
