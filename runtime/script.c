/* script.c: the runner of `run` steps (script.h): posix_spawn without a shell, a process group of
 * its own, the environment the plan's operation adds, a timeout that kills the group. */
#include "script.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../compiler/dot.h"
#include "../lib/alloc.h"
#include "../lib/buf.h"
#include "../lib/clock.h"
#include "spawn.h"

extern char **environ;

/* Length of the name in "NAME=value". */
static size_t env_name_len(const char *entry)
{
	const char *eq = strchr(entry, '=');
	return eq ? (size_t)(eq - entry) : strlen(entry);
}

/* The inherited environment without the names req->env sets, then req->env. The strings are
 * borrowed; the array is the caller's to free. */
static char **build_env(const struct script_request *req)
{
	size_t n = 0;
	for (char **e = environ; e && *e; e++)
		n++;
	char **out = xmalloc((n + req->n_env + 1) * sizeof *out);
	size_t k = 0;
	for (char **e = environ; e && *e; e++) {
		size_t len = env_name_len(*e);
		bool replaced = false;
		for (uint32_t i = 0; i < req->n_env && !replaced; i++)
			replaced = env_name_len(req->env[i]) == len && strncmp(req->env[i], *e, len) == 0;
		if (!replaced)
			out[k++] = *e;
	}
	for (uint32_t i = 0; i < req->n_env; i++)
		out[k++] = (char *)req->env[i];
	out[k] = NULL;
	return out;
}

static void fail(struct script_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct script_result *res, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	res->status = SCRIPT_FAILED;
	vsnprintf(res->message, sizeof res->message, fmt, ap);
	va_end(ap);
}

/* Spawns the script in its own process group (spawn.h). Returns 0 or an errno. */
static int spawn(const struct script_request *req, pid_t *pid)
{
	char **env = build_env(req);
	char *argv[] = {(char *)req->path, NULL};
	int err = spawn_group(req->path, argv, env, req->dir, -1, req->log_fd, req->log_fd, pid);
	free(env);
	return err;
}

void script_run(const struct script_request *req, struct script_result *res)
{
	memset(res, 0, sizeof *res);
	res->exit_status = -1;
	/* The common mistakes (a missing script, one not executable) get their own message: an exec
	 * failure in the child would otherwise look like a script that exited with 127. */
	struct buf full = BUF_INIT;
	if (req->dir && req->path[0] != '/')
		buf_printf(&full, "%s/", req->dir);
	buf_puts(&full, req->path);
	bool runnable = access(full.data, X_OK) == 0;
	if (!runnable)
		fail(res, "cannot run %s: %s", full.data, strerror(errno));
	buf_free(&full);
	if (!runnable)
		return;
	int64_t start = clock_mono_ms();
	pid_t pid;
	int err = spawn(req, &pid);
	if (err) {
		fail(res, "cannot run %s: %s", req->path, strerror(err));
		return;
	}
	/* Poll with a growing sleep: short scripts finish within a few milliseconds, long ones cost a
	 * wake-up every 50 ms. Waiting for SIGCHLD instead would not be thread-safe across workers. */
	int64_t deadline = req->timeout_ms > 0 ? start + req->timeout_ms : 0;
	long sleep_us = 500;
	int status = 0;
	for (;;) {
		pid_t w = waitpid(pid, &status, res->timed_out ? 0 : WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			fail(res, "waiting for %s: %s", req->path, strerror(errno));
			kill(-pid, SIGKILL);
			return;
		}
		if (w < 0 || res->timed_out)
			continue;
		int64_t now = clock_mono_ms();
		if (deadline && now >= deadline) {
			kill(-pid, SIGKILL);
			res->timed_out = true;
			continue;
		}
		long us = sleep_us;
		if (deadline && (deadline - now) * 1000 < us)
			us = (long)(deadline - now) * 1000;
		struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
		nanosleep(&ts, NULL);
		if (sleep_us < 50000)
			sleep_us *= 2;
	}
	res->elapsed_ms = clock_mono_ms() - start;
	if (res->timed_out) {
		struct buf d = BUF_INIT;
		dot_duration(&d, req->timeout_ms);
		fail(res, "timed out after %s", d.data);
		buf_free(&d);
	} else if (WIFEXITED(status)) {
		res->exit_status = WEXITSTATUS(status);
		if (res->exit_status != 0) {
			res->status = SCRIPT_FAILED;
			snprintf(res->message, sizeof res->message, "exit status %d", res->exit_status);
		}
	} else if (WIFSIGNALED(status)) {
		res->signal = WTERMSIG(status);
		res->status = SCRIPT_FAILED;
		snprintf(res->message, sizeof res->message, "killed by signal %d (%s)", res->signal,
		         strsignal(res->signal));
	}
}
