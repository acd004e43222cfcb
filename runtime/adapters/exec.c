/* exec.c: the exec adapter (exec.h): one process per call, posix_spawn without a shell, a request in
 * YAML on stdin, a reply in YAML on stdout read as hostile input, stderr lines to the log, and a
 * timeout that kills the whole process group. docs/adapters.md is the protocol. */
#define _GNU_SOURCE /* pipe2 */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "../../compiler/dot.h"
#include "../../lib/alloc.h"
#include "../../lib/buf.h"
#include "../../lib/clock.h"
#include "../spawn.h"

#define EXEC_DEFAULT_TIMEOUT_MS 300000
#define EXEC_DEFAULT_POLL_MS 5000 /* between sync-status calls while a sync is in progress */
#define EXEC_GRACE_MS 2000      /* between SIGTERM and SIGKILL on a timeout */
#define EXEC_DRAIN_MS 1000      /* after the program exits: how long its pipes may stay open */
#define EXEC_LOG_LINE 4096      /* a longer stderr line is logged in pieces */
#define EXEC_SECRETS_MAX 65536

struct exec_adapter {
	struct adapter base;
	const struct dag *dag;
	char *program;
	char *name;
	int64_t timeout_ms;
	char **env;                 /* the program's whole environment, NULL-terminated */
	int log_fd;                 /* O_APPEND; 2 when log_path is NULL */
	bool own_log;
	int64_t poll_ms;            /* sync-status interval */
};

/* The protocol's name of each operation kind (the DAG's "prefer" is "set-preference"). */
static const char *op_word(enum dag_op_kind kind)
{
	switch (kind) {
	case DAG_SYNC: return "sync";
	case DAG_FAILOVER: return "failover";
	case DAG_PREFER: return "set-preference";
	case DAG_SHUTDOWN: return "shutdown";
	case DAG_MIGRATE: return "migrate";
	case DAG_REGISTER: return "register";
	case DAG_POWER_ON: return "power-on";
	case DAG_SNAPSHOT: return "snapshot";
	case DAG_REVERSE: return "reverse";
	case DAG_UNREGISTER: return "unregister";
	case DAG_DISCARD: return "discard-snapshot";
	case DAG_RUN:
	case DAG_PROMPT:
	case DAG_WAIT:
	case DAG_GATE:
	case DAG_N_OP_KINDS: break;
	}
	return "none";
}

static void set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- Opening: the environment and the secrets */

static void env_push(char ***env, size_t *n, size_t *cap, char *entry)
{
	if (*n + 2 > *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*env = xrealloc(*env, *cap * sizeof **env);
	}
	(*env)[(*n)++] = entry;
	(*env)[*n] = NULL;
}

static void env_free(char **env)
{
	for (char **e = env; e && *e; e++)
		free(*e);
	free(env);
}

static bool env_name_ok(const char *s, size_t len)
{
	if (len == 0 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

/* Reads KEY=VALUE lines (blank lines and # comments skipped) into env. The file must be a regular
 * file of ours with no group or other permission bits: anything else may have leaked its secrets. */
static bool read_secrets(const char *path, char ***env, size_t *n, size_t *cap, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		set_err(err, errlen, "secrets file %s: %s", path, strerror(errno));
		return false;
	}
	struct stat st;
	bool ok = fstat(fd, &st) == 0;
	if (!ok)
		set_err(err, errlen, "secrets file %s: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode)) {
		set_err(err, errlen, "secrets file %s: not a regular file", path);
		ok = false;
	} else if (st.st_uid != geteuid()) {
		set_err(err, errlen, "secrets file %s: owned by uid %u, not by this user", path, (unsigned)st.st_uid);
		ok = false;
	} else if (st.st_mode & 077) {
		set_err(err, errlen, "secrets file %s: mode %04o lets others read it; it must be 0600", path,
		        (unsigned)(st.st_mode & 07777));
		ok = false;
	} else if (st.st_size > (off_t)EXEC_SECRETS_MAX) {
		set_err(err, errlen, "secrets file %s: larger than %d bytes", path, EXEC_SECRETS_MAX);
		ok = false;
	}
	struct buf text = BUF_INIT;
	char chunk[4096];
	while (ok) {
		ssize_t r = read(fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			set_err(err, errlen, "secrets file %s: %s", path, strerror(errno));
			ok = false;
		} else if (r == 0) {
			break;
		} else {
			buf_append(&text, chunk, (size_t)r);
			if (text.len > EXEC_SECRETS_MAX) {
				set_err(err, errlen, "secrets file %s: larger than %d bytes", path, EXEC_SECRETS_MAX);
				ok = false;
			}
		}
	}
	close(fd);
	uint32_t line = 0;
	for (size_t at = 0; ok && at < text.len;) {
		line++;
		const char *s = text.data + at;
		const char *nl = memchr(s, '\n', text.len - at);
		size_t len = nl ? (size_t)(nl - s) : text.len - at;
		at += len + 1;
		if (len > 0 && s[len - 1] == '\r')
			len--;
		if (len == 0 || s[0] == '#')
			continue;
		const char *eq = memchr(s, '=', len);
		if (!eq || !env_name_ok(s, (size_t)(eq - s)) || memchr(s, '\0', len)) {
			/* Never quote the line: it holds a secret. */
			set_err(err, errlen, "secrets file %s, line %u: not NAME=value", path, line);
			ok = false;
			break;
		}
		/* A secret replaces a passed variable of the same name. */
		size_t name_len = (size_t)(eq - s) + 1;
		char *entry = xstrndup(s, len);
		bool replaced = false;
		for (size_t k = 0; k < *n && !replaced; k++) {
			if (strncmp((*env)[k], entry, name_len) == 0) {
				free((*env)[k]);
				(*env)[k] = entry;
				replaced = true;
			}
		}
		if (!replaced)
			env_push(env, n, cap, entry);
	}
	/* The text held secrets: do not leave them in freed memory. */
	if (text.data)
		memset(text.data, 0, text.cap);
	buf_free(&text);
	return ok;
}

/* ---- Closing */

static void exec_close(struct adapter *a)
{
	struct exec_adapter *x = (struct exec_adapter *)a;
	if (!x)
		return;
	if (x->own_log && x->log_fd >= 0)
		close(x->log_fd);
	for (char **e = x->env; e && *e; e++)
		memset(*e, 0, strlen(*e));
	env_free(x->env);
	free(x->program);
	free(x->name);
	free(x);
}

/* ---- The request */

/* A scalar as plain YAML when that is unambiguous, else double-quoted. */
static void put_scalar(struct buf *b, const char *s)
{
	bool plain = s[0] != '\0' && s[0] != '-';
	for (const char *p = s; *p && plain; p++) {
		char c = *p;
		plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		        c == '-' || c == '/';
	}
	if (plain) {
		buf_puts(b, s);
		return;
	}
	buf_putc(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			buf_printf(b, "\\x%02x", *p);
		else
			buf_putc(b, (char)*p);
	}
	buf_putc(b, '"');
}

static const char *site_name(const struct dag *d, uint32_t site)
{
	return site < d->n_sites ? d->sites[site].name : "";
}

static void put_device(struct buf *b, const struct dag *d, uint32_t i)
{
	const struct dag_device *dv = &d->devices[i];
	buf_puts(b, "  - {name: ");
	put_scalar(b, dv->name);
	buf_puts(b, ", peer: ");
	put_scalar(b, dv->peer ? dv->peer : "");
	buf_puts(b, ", site: ");
	put_scalar(b, site_name(d, dv->site));
	buf_puts(b, ", peer-site: ");
	put_scalar(b, site_name(d, dv->peer_site));
	buf_printf(b, ", kind: %s}\n", dv->kind == DAG_STRETCHED ? "stretched" : "replicated");
}

static void build_request(struct buf *b, const struct adapter_request *req, const char *operation,
                          const char *query, const char *op_id, int64_t timeout_ms)
{
	const struct dag *d = req->dag;
	const struct dag_op *op = &d->ops[req->op];
	buf_puts(b, "drplan-adapter-request: 1\noperation: ");
	buf_puts(b, operation);
	buf_puts(b, "\nop: ");
	put_scalar(b, op_id);
	buf_printf(b, "\nattempt: %" PRIu32 "\nrun: %" PRIu32 "\nplan: ", req->attempt, req->run);
	put_scalar(b, d->name ? d->name : "");
	/* Where it acts: op.site, except the protected half of a failover, at its devices' source. */
	uint32_t site = op->site;
	if (strcmp(operation, "prepare-failover") == 0) {
		if (op->target_kind == DAG_TARGET_DEVICE && op->target < d->n_devices)
			site = d->devices[op->target].site;
		else if (op->target_kind == DAG_TARGET_GROUP && op->target < d->n_groups && d->groups[op->target].n_devices)
			site = d->devices[d->groups[op->target].devices[0]].site;
	}
	buf_puts(b, "\nsite: ");
	put_scalar(b, site_name(d, site));
	buf_printf(b, "\ntimeout-ms: %" PRId64 "\nbest-effort: %s\n", timeout_ms, req->best_effort ? "true" : "false");
	if (query)
		buf_printf(b, "query: %s\n", query);
	/* Devices: the op's device, its group's, or its workgroup's. */
	const uint32_t *devs = NULL;
	uint32_t n_devs = 0, one = 0;
	const struct dag_workgroup *wg = NULL;
	if (op->target_kind == DAG_TARGET_DEVICE && op->target < d->n_devices) {
		one = op->target;
		devs = &one;
		n_devs = 1;
	} else if (op->target_kind == DAG_TARGET_GROUP && op->target < d->n_groups) {
		devs = d->groups[op->target].devices;
		n_devs = d->groups[op->target].n_devices;
	} else if (op->target_kind == DAG_TARGET_WORKGROUP && op->target < d->n_workgroups) {
		wg = &d->workgroups[op->target];
		devs = wg->devices;
		n_devs = wg->n_devices;
	}
	buf_puts(b, n_devs ? "devices:\n" : "devices: []\n");
	for (uint32_t i = 0; i < n_devs; i++)
		if (devs[i] < d->n_devices)
			put_device(b, d, devs[i]);
	if (!wg || wg->n_vms == 0) {
		buf_puts(b, "vms: []\n");
		return;
	}
	/* Only the VMs the request names: a retry after a fault acts on (and a query asks about) those
	 * not known done. */
	buf_puts(b, "vms:\n");
	bool reg = strcmp(operation, "register") == 0;
	for (uint32_t i = wg->first_vm; i < wg->first_vm + wg->n_vms && i < d->n_vms; i++) {
		if (!adapter_names_vm(req, i - wg->first_vm))
			continue;
		buf_puts(b, "  - {name: ");
		put_scalar(b, d->vms[i].name);
		buf_puts(b, ", host: ");
		put_scalar(b, d->vms[i].host < d->n_hosts ? d->hosts[d->vms[i].host].name : "");
		/* Where the plan placed it at the recovery site, when it did (section 2). */
		uint32_t to_host = dag_vm_to_host(d, i);
		if (to_host < d->n_hosts) {
			buf_puts(b, ", to-host: ");
			put_scalar(b, d->hosts[to_host].name);
		}
		/* A VM being moved: both candidate copies, for the program to choose from the records on
		 * the recovered devices (section 5, register). */
		const struct dag_migration *mg = reg ? dag_vm_migration(d, i) : NULL;
		if (mg && mg->from < d->n_devices && mg->to < d->n_devices) {
			buf_puts(b, ", source: ");
			put_scalar(b, d->devices[mg->from].name);
			buf_puts(b, ", destination: ");
			put_scalar(b, d->devices[mg->to].name);
		}
		buf_puts(b, "}\n");
	}
}

/* ---- Running the program */

struct call {
	struct exec_adapter *x;
	const char *operation;
	const char *op_id;
	struct buf out;            /* stdout, at most reply_max bytes */
	size_t reply_max;          /* EXEC_REPLY_MAX, or EXEC_DISCOVER_REPLY_MAX for discover */
	struct buf err_line;       /* the stderr line being assembled */
	bool too_big, timed_out, spawn_failed;
	int status;                /* from waitpid */
	int64_t timeout_ms;
	char why[160];             /* spawn failure */
};

/* One log line, written with a single write so that concurrent calls' lines never interleave. */
static void log_write(struct exec_adapter *x, const struct buf *b)
{
	size_t off = 0;
	while (off < b->len) {
		ssize_t w = write(x->log_fd, b->data + off, b->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

/* A line of the program's stderr, named, without control characters. */
static void log_line(struct call *c, const char *text, size_t len)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s %s: ", c->x->name, c->op_id);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];
		buf_putc(&b, ch < 0x20 && ch != '\t' ? '?' : (char)ch);
	}
	buf_putc(&b, '\n');
	log_write(c->x, &b);
	buf_free(&b);
}

static void take_stderr(struct call *c, const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n') {
			log_line(c, c->err_line.data ? c->err_line.data : "", c->err_line.len);
			buf_clear(&c->err_line);
			continue;
		}
		buf_putc(&c->err_line, data[i]);
		if (c->err_line.len >= EXEC_LOG_LINE) {
			log_line(c, c->err_line.data, c->err_line.len);
			buf_clear(&c->err_line);
		}
	}
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Runs the program once with the request; fills c. Leaves no process of its group behind. */
static void run_call(struct call *c, const struct buf *request)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, er[2] = {-1, -1};
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(er, O_CLOEXEC)) {
		snprintf(c->why, sizeof c->why, "cannot make a pipe: %s", strerror(errno));
		c->spawn_failed = true;
		close_fd(&in[0]), close_fd(&in[1]), close_fd(&out[0]), close_fd(&out[1]);
		close_fd(&er[0]), close_fd(&er[1]);
		return;
	}
	/* Most requests fit in the pipe: write them before the program starts, so that the loop below
	 * only reads. Nothing can raise SIGPIPE yet, as the read end is still ours. */
	size_t sent = 0;
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	while (sent < request->len) {
		ssize_t w = write(in[1], request->data + sent, request->len - sent);
		if (w <= 0)
			break;
		sent += (size_t)w;
	}
	if (sent == request->len)
		close_fd(&in[1]);
	pid_t pid;
	char *argv[] = {c->x->program, (char *)c->operation, NULL};
	int err = spawn_group(c->x->program, argv, c->x->env, NULL, in[0], out[1], er[1], &pid);
	close_fd(&in[0]), close_fd(&out[1]), close_fd(&er[1]);
	if (err) {
		snprintf(c->why, sizeof c->why, "cannot run %s: %s", c->x->program, strerror(err));
		c->spawn_failed = true;
		close_fd(&in[1]), close_fd(&out[0]), close_fd(&er[0]);
		return;
	}
	/* Reads follow poll's word that there is something to read, so they need not be non-blocking.
	 * A program that exits without reading the rest of a large request must not kill us with
	 * SIGPIPE: block it in this thread, and take back a SIGPIPE our writes raised (it is pending on
	 * this thread only). */
	sigset_t pipe_set, old;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	bool writing = in[1] >= 0, raised_pipe = false;
	if (writing)
		pthread_sigmask(SIG_BLOCK, &pipe_set, &old);

	int64_t start = clock_mono_ms();
	int64_t deadline = start + c->timeout_ms, kill_at = 0, drain_until = 0;
	bool exited = false;
	char chunk[65536];
	/* Linux tells exactly when the program exits through a pidfd; elsewhere (or on an old kernel)
	 * the loop looks at it on every wake-up. */
#ifdef SYS_pidfd_open
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#else
	int pidfd = -1;
#endif
	bool look = pidfd < 0; /* at the leader: always without a pidfd, else when it says so */
	for (;;) {
		struct pollfd fds[4];
		nfds_t n = 0;
		int i_in = -1, i_out = -1, i_err = -1, i_pid = -1;
		if (in[1] >= 0)
			i_in = (int)n, fds[n++] = (struct pollfd){in[1], POLLOUT, 0};
		if (out[0] >= 0)
			i_out = (int)n, fds[n++] = (struct pollfd){out[0], POLLIN, 0};
		if (er[0] >= 0)
			i_err = (int)n, fds[n++] = (struct pollfd){er[0], POLLIN, 0};
		if (pidfd >= 0 && !exited)
			i_pid = (int)n, fds[n++] = (struct pollfd){pidfd, POLLIN, 0};
		if (exited && out[0] < 0 && er[0] < 0)
			break;
		int64_t now = clock_mono_ms();
		/* Has the program (the group's leader) exited? Look without reaping it, so that its pid
		 * keeps naming the group until the rest of the group is killed. */
		if (!exited && look) {
			look = pidfd < 0;
			siginfo_t si;
			memset(&si, 0, sizeof si);
			if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid) {
				exited = true;
				/* Whatever it left running goes with it; its pipes then reach EOF. */
				kill(-pid, SIGKILL);
				drain_until = now + EXEC_DRAIN_MS;
				close_fd(&in[1]);
				continue;
			}
		}
		if (exited && now >= drain_until)
			break;
		if (!exited && !c->timed_out && now >= deadline) {
			c->timed_out = true;
			kill(-pid, SIGTERM);
			kill_at = now + EXEC_GRACE_MS;
			close_fd(&in[1]);
			continue;
		}
		if (!exited && kill_at && now >= kill_at) {
			kill(-pid, SIGKILL);
			kill_at = 0;
		}
		/* Wake up at least every 20 ms for the deadlines, and without a pidfd to look at the leader:
		 * a child it left behind may hold the pipes open long after it exited. Once its output has
		 * ended the program is exiting: then look every millisecond, or every call would wait up to
		 * 20 ms for nothing. */
		int r = poll(fds, n, pidfd < 0 && out[0] < 0 && er[0] < 0 ? 1 : 20);
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		if (i_pid >= 0 && fds[i_pid].revents)
			look = true;
		if (i_in >= 0 && fds[i_in].revents) {
			if (fds[i_in].revents & (POLLERR | POLLHUP)) {
				close_fd(&in[1]);
			} else {
				ssize_t w = write(in[1], request->data + sent, request->len - sent);
				if (w > 0)
					sent += (size_t)w;
				else if (w < 0 && errno != EAGAIN && errno != EINTR) {
					raised_pipe = raised_pipe || errno == EPIPE;
					close_fd(&in[1]);
				}
				if (sent == request->len)
					close_fd(&in[1]);
			}
		}
		if (i_out >= 0 && fds[i_out].revents) {
			ssize_t rd = read(out[0], chunk, sizeof chunk);
			if (rd > 0) {
				buf_append(&c->out, chunk, (size_t)rd);
				if (c->out.len > c->reply_max) {
					c->too_big = true;
					kill(-pid, SIGKILL);
					close_fd(&out[0]);
				}
			} else if (rd == 0 || (errno != EAGAIN && errno != EINTR)) {
				close_fd(&out[0]);
			}
		}
		if (i_err >= 0 && fds[i_err].revents) {
			ssize_t rd = read(er[0], chunk, sizeof chunk);
			if (rd > 0)
				take_stderr(c, chunk, (size_t)rd);
			else if (rd == 0 || (errno != EAGAIN && errno != EINTR))
				close_fd(&er[0]);
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	if (c->err_line.len)
		log_line(c, c->err_line.data, c->err_line.len);
	close_fd(&in[1]), close_fd(&out[0]), close_fd(&er[0]);
	if (!exited)
		kill(-pid, SIGKILL); /* the loop broke on an error: do not wait forever */
	while (waitpid(pid, &c->status, 0) < 0 && errno == EINTR)
		continue;
	/* A process of the group that outlived its pipes dies too. Its parent was the program, so init
	 * reaps it: wait a little for that, so that the group is usually gone when the call returns. */
	if (kill(-pid, SIGKILL) == 0) {
		for (int i = 0; i < 20 && kill(-pid, 0) == 0; i++) {
			struct timespec ts = {0, 10 * 1000000};
			nanosleep(&ts, NULL);
		}
	}
	if (raised_pipe) {
		struct timespec zero = {0, 0};
		sigset_t pending;
		sigpending(&pending);
		if (sigismember(&pending, SIGPIPE))
			sigtimedwait(&pipe_set, NULL, &zero);
	}
	if (writing)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* ---- The reply */

/* A reply's per-VM mapping: `vms` (a query of a workgroup operation: each VM's outcome, and where
 * it is) or `copies` (a register: which copy of each VM being moved it used, and why). A VM maps to
 * a mapping of the spec's fields, or, where the spec allows, to its first field alone. */
struct vm_map_spec {
	const char *key;
	const char *fields[2];
	bool shorthand;             /* `db-01: happened` for `db-01: {outcome: happened}` */
	const char *shape;          /* the error when the mapping is malformed */
};
static const struct vm_map_spec vms_spec = {
	"vms", {"outcome", "where"}, true, "vms must map each VM's name to its outcome"};
static const struct vm_map_spec copies_spec = {
	"copies", {"copy", "why"}, false, "copies must map each VM's name to {copy, why}, scalars"};

struct reply_vm {
	char *name;
	char *field[2];             /* as the spec names them; NULL if not given */
	unsigned long line;
};

struct vm_map {
	struct reply_vm *v;         /* in the reply's order */
	uint32_t n, cap;
	bool given;
};

/* The most VMs a per-VM mapping may list (a workgroup has far fewer). */
#define EXEC_REPLY_VMS_MAX 4096

#define COPIES_ELSEWHERE "unknown field \"copies\": only a register reply has it"

struct reply_fields {
	char *version, *op, *status, *message, *outcome;
	char *progress;             /* optional, in a sync's `in-progress` reply: "40%" */
	yaml_emitter_t *inventory;  /* discover: where the inventory field's mapping is copied; or NULL */
	bool has_inventory;
	struct vm_map vms, copies;
};

static void vm_map_free(struct vm_map *m)
{
	for (uint32_t i = 0; i < m->n; i++)
		free(m->v[i].name), free(m->v[i].field[0]), free(m->v[i].field[1]);
	free(m->v);
}

static void fields_free(struct reply_fields *f)
{
	free(f->version), free(f->op), free(f->status), free(f->message), free(f->outcome);
	free(f->progress);
	vm_map_free(&f->vms);
	vm_map_free(&f->copies);
}

/* Where parse_vm_map is in a per-VM mapping. */
enum vm_level { VM_OFF, VM_NAME, VM_VALUE, VM_KEY, VM_FIELD };
struct vm_state {
	const struct vm_map_spec *spec; /* the mapping being read, or NULL */
	struct vm_map *map;
	enum vm_level level;
	int field;                  /* VM_FIELD: the index of the field being read */
};

/* One event inside a per-VM mapping. False with why set. */
static bool parse_vm_map(struct vm_state *st, const yaml_event_t *ev, unsigned long line, char *why, size_t whylen)
{
	const struct vm_map_spec *spec = st->spec;
	struct vm_map *m = st->map;
	const char *v = ev->type == YAML_SCALAR_EVENT ? (const char *)ev->data.scalar.value : NULL;
	size_t vlen = v ? ev->data.scalar.length : 0;
	if (v && memchr(v, '\0', vlen)) {
		snprintf(why, whylen, "line %lu: %s holds a NUL byte", line, spec->key);
		return false;
	}
	struct reply_vm *vm = m->n ? &m->v[m->n - 1] : NULL;
	switch (st->level) {
	case VM_NAME:
		if (ev->type == YAML_MAPPING_END_EVENT) {
			st->level = VM_OFF;
			return true;
		}
		if (!v)
			break;
		if (m->n == EXEC_REPLY_VMS_MAX) {
			snprintf(why, whylen, "line %lu: %s lists more than %d VMs", line, spec->key, EXEC_REPLY_VMS_MAX);
			return false;
		}
		for (uint32_t i = 0; i < m->n; i++)
			if (strcmp(m->v[i].name, v) == 0) {
				snprintf(why, whylen, "line %lu: %s names VM %.60s twice", line, spec->key, v);
				return false;
			}
		if (m->n == m->cap) {
			m->cap = m->cap ? 2 * m->cap : 16;
			m->v = xrealloc(m->v, m->cap * sizeof *m->v);
		}
		m->v[m->n++] = (struct reply_vm){.name = xstrndup(v, vlen), .line = line};
		st->level = VM_VALUE;
		return true;
	case VM_VALUE:
		if (v && spec->shorthand) {
			vm->field[0] = xstrndup(v, vlen);
			st->level = VM_NAME;
			return true;
		}
		if (ev->type != YAML_MAPPING_START_EVENT)
			break;
		st->level = VM_KEY;
		return true;
	case VM_KEY:
		if (ev->type == YAML_MAPPING_END_EVENT) {
			st->level = VM_NAME;
			return true;
		}
		if (!v)
			break;
		st->field = strcmp(v, spec->fields[0]) == 0 ? 0 : strcmp(v, spec->fields[1]) == 0 ? 1 : -1;
		if (st->field < 0) {
			snprintf(why, whylen, "line %lu: unknown field \"%.40s\" for VM %.60s", line, v, vm->name);
			return false;
		}
		if (vm->field[st->field]) {
			snprintf(why, whylen, "line %lu: field %s given twice for VM %.60s", line, v, vm->name);
			return false;
		}
		st->level = VM_FIELD;
		return true;
	case VM_FIELD:
		if (!v)
			break;
		vm->field[st->field] = xstrndup(v, vlen);
		st->level = VM_KEY;
		return true;
	case VM_OFF: break;
	}
	snprintf(why, whylen, "line %lu: %s", line, spec->shape);
	return false;
}

/* Parses the reply: one mapping of scalars (and, for discover, the inventory mapping, copied event by
 * event to f->inventory). False with why set (line and column count from 1). */
static bool parse_reply(const struct buf *out, struct reply_fields *f, char *why, size_t whylen)
{
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p)) {
		snprintf(why, whylen, "out of memory");
		return false;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)(out->data ? out->data : ""), out->len);
	bool ok = true;
	int depth = 0;     /* 1 inside the top mapping */
	char *key = NULL;
	bool done = false, seen_map = false;
	int copy = 0;      /* nesting inside the inventory being copied */
	struct vm_state vm_map = {NULL, NULL, VM_OFF, 0};
	why[0] = '\0';
	while (ok && !done) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			snprintf(why, whylen, "the reply is not YAML (line %zu, column %zu: %s)", p.problem_mark.line + 1,
			         p.problem_mark.column + 1, p.problem ? p.problem : "syntax error");
			ok = false;
			break;
		}
		unsigned long line = (unsigned long)ev.start_mark.line + 1;
		if (f->inventory && (copy > 0 || (depth == 1 && key && strcmp(key, "inventory") == 0 && !f->has_inventory &&
		                                  ev.type == YAML_MAPPING_START_EVENT))) {
			if (ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_SEQUENCE_START_EVENT)
				copy++;
			else if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT)
				copy--;
			/* The emitter owns the event from here, even when it fails. */
			if (!yaml_emitter_emit(f->inventory, &ev)) {
				snprintf(why, whylen, "line %lu: the inventory cannot be copied", line);
				ok = false;
			}
			if (copy == 0) {
				f->has_inventory = true;
				free(key);
				key = NULL;
			}
			continue;
		}
		if (vm_map.level == VM_OFF && depth == 1 && key && ev.type == YAML_MAPPING_START_EVENT) {
			vm_map.spec = strcmp(key, vms_spec.key) == 0 ? &vms_spec : strcmp(key, copies_spec.key) == 0 ? &copies_spec : NULL;
			if (vm_map.spec) {
				vm_map.map = vm_map.spec == &vms_spec ? &f->vms : &f->copies;
				if (vm_map.map->given) {
					snprintf(why, whylen, "line %lu: field %s given twice", line, key);
					ok = false;
				}
				vm_map.map->given = true;
				vm_map.level = VM_NAME;
				yaml_event_delete(&ev);
				continue;
			}
		}
		if (vm_map.level != VM_OFF) {
			ok = parse_vm_map(&vm_map, &ev, line, why, whylen);
			if (vm_map.level == VM_OFF) {
				free(key);
				key = NULL;
			}
			yaml_event_delete(&ev);
			continue;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (seen_map) {
				snprintf(why, whylen, "the reply has more than one document (line %lu)", line);
				ok = false;
			}
			break;
		case YAML_MAPPING_START_EVENT:
			if (depth != 0 || key) {
				if (key)
					snprintf(why, whylen, "line %lu: field %.40s is not a scalar", line, key);
				else
					snprintf(why, whylen, "line %lu: a key is not a scalar", line);
				ok = false;
			}
			depth++;
			seen_map = true;
			break;
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_ALIAS_EVENT:
			if (depth == 0)
				snprintf(why, whylen, "the reply is not a mapping (line %lu)", line);
			else
				snprintf(why, whylen, "line %lu: field %s is not a scalar", line, key ? key : "?");
			ok = false;
			break;
		case YAML_SCALAR_EVENT: {
			const char *v = (const char *)ev.data.scalar.value;
			size_t vlen = ev.data.scalar.length;
			if (depth == 0) {
				snprintf(why, whylen, "the reply is not a mapping (line %lu)", line);
				ok = false;
			} else if (!key) {
				key = xstrndup(v, vlen);
			} else {
				char **slot = strcmp(key, "drplan-adapter-reply") == 0 ? &f->version
				              : strcmp(key, "op") == 0                ? &f->op
				              : strcmp(key, "status") == 0            ? &f->status
				              : strcmp(key, "message") == 0           ? &f->message
				              : strcmp(key, "outcome") == 0           ? &f->outcome
				              : strcmp(key, "progress") == 0          ? &f->progress
				                                                      : NULL;
				if (!slot) {
					snprintf(why, whylen, "line %lu: unknown field \"%.40s\"", line, key);
					ok = false;
				} else if (*slot) {
					snprintf(why, whylen, "line %lu: field %s given twice", line, key);
					ok = false;
				} else if (memchr(v, '\0', vlen)) {
					snprintf(why, whylen, "line %lu: field %s holds a NUL byte", line, key);
					ok = false;
				} else {
					*slot = xstrndup(v, vlen);
				}
				free(key);
				key = NULL;
			}
			break;
		}
		case YAML_SEQUENCE_END_EVENT:
		case YAML_NO_EVENT:
			break;
		}
		yaml_event_delete(&ev);
	}
	free(key);
	yaml_parser_delete(&p);
	if (ok && !seen_map) {
		snprintf(why, whylen, "the reply is empty");
		ok = false;
	}
	return ok;
}

/* Copies text into a reply message without control characters (the journal and terminals). */
static void clean(char *s)
{
	for (unsigned char *p = (unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = ' ';
}

enum call_result { CALL_DONE, CALL_FAILED, CALL_TRANSIENT };

/* What went wrong with the process itself, if anything: true with why and *res set. */
static bool process_fault(const struct call *c, char *why, size_t whylen, enum call_result *res)
{
	*res = CALL_FAILED;
	if (c->spawn_failed) {
		snprintf(why, whylen, "%s", c->why);
	} else if (c->timed_out) {
		struct buf dur = BUF_INIT;
		dot_duration(&dur, c->timeout_ms);
		snprintf(why, whylen, "timed out after %s (the process group was killed)", dur.data);
		buf_free(&dur);
		*res = CALL_TRANSIENT;
	} else if (c->too_big) {
		snprintf(why, whylen, "the reply is larger than %zu bytes (the process group was killed)", c->reply_max);
	} else if (WIFSIGNALED(c->status)) {
		snprintf(why, whylen, "killed by signal %d (%s)", WTERMSIG(c->status), strsignal(WTERMSIG(c->status)));
	} else if (WIFEXITED(c->status) && WEXITSTATUS(c->status) != 0) {
		snprintf(why, whylen, "exit status %d", WEXITSTATUS(c->status));
	} else if (c->out.len == 0) {
		snprintf(why, whylen, "exited without a reply");
		*res = CALL_TRANSIENT;
	} else {
		return false;
	}
	return true;
}

/* A query reply's answer for the VMs the request asked about (its `vms` mapping, or one `outcome`
 * for them all, as an adapter that answers per operation gives). False with why set if the reply
 * cannot be trusted: a VM not asked about, an outcome that is not a word of the protocol (a VM
 * given twice, the parser refused). A VM asked about but not in the reply stays UNKNOWN, and
 * ans->message says so. */
static bool vm_answers(const struct exec_adapter *x, const struct adapter_request *req, const struct reply_fields *f,
                       const char *op_id, struct adapter_answer *ans, char *why, size_t whylen)
{
	const struct dag *d = req->dag;
	const struct dag_workgroup *wg = &d->workgroups[d->ops[req->op].target];
	if (!f->vms.given) {
		if (!f->outcome) {
			snprintf(why, whylen, "the reply has no vms field");
			return false;
		}
		int o = -1;
		for (int k = 0; adapter_outcome_names[k]; k++)
			if (strcmp(f->outcome, adapter_outcome_names[k]) == 0)
				o = k;
		if (o < 0) {
			snprintf(why, whylen, "unknown outcome \"%.20s\"", f->outcome);
			return false;
		}
		for (uint32_t k = 0; k < ans->n_vms; k++)
			if (adapter_names_vm(req, k))
				ans->vms[k].outcome = (enum adapter_outcome)o;
		return true;
	}
	uint8_t *seen = xcalloc((size_t)ans->n_vms + 1, 1);
	bool ok = true;
	for (uint32_t i = 0; i < f->vms.n && ok; i++) {
		const struct reply_vm *rv = &f->vms.v[i];
		const char *outcome = rv->field[0], *where = rv->field[1];
		uint32_t k = 0;
		while (k < ans->n_vms && strcmp(d->vms[wg->first_vm + k].name, rv->name) != 0)
			k++;
		int o = -1;
		for (int w = 0; outcome && adapter_outcome_names[w]; w++)
			if (strcmp(outcome, adapter_outcome_names[w]) == 0)
				o = w;
		if (k == ans->n_vms || !adapter_names_vm(req, k))
			snprintf(why, whylen, "line %lu: the reply answers for VM \"%.60s\", which was not asked about", rv->line,
			         rv->name);
		else if (!outcome)
			snprintf(why, whylen, "line %lu: the reply gives VM %.60s no outcome", rv->line, rv->name);
		else if (o < 0)
			snprintf(why, whylen, "line %lu: unknown outcome \"%.20s\" for VM %.60s", rv->line, outcome, rv->name);
		ok = !why[0];
		if (!ok)
			break;
		seen[k] = 1;
		ans->vms[k].outcome = (enum adapter_outcome)o;
		snprintf(ans->vms[k].where, sizeof ans->vms[k].where, "%s", where ? where : "");
		clean(ans->vms[k].where);
	}
	for (uint32_t k = 0; ok && k < ans->n_vms; k++) {
		if (!adapter_names_vm(req, k) || seen[k])
			continue;
		ans->vms[k].outcome = ADAPTER_UNKNOWN;
		if (!ans->message[0])
			snprintf(ans->message, sizeof ans->message, "%s query %s: the reply says nothing of %s", x->name, op_id,
			         d->vms[wg->first_vm + k].name);
	}
	if (!ok)
		for (uint32_t k = 0; k < ans->n_vms; k++)
			ans->vms[k].outcome = ADAPTER_UNKNOWN;
	free(seen);
	return ok;
}

/* A register that is done must say, for each VM being moved, which copy it registered and why
 * (`copies`), and name no other VM. The choices become notes of `reply`. False with why set. */
static bool take_copies(const struct adapter_request *req, const struct reply_fields *f, struct adapter_reply *reply,
                        char *why, size_t whylen)
{
	const struct dag *d = req->dag;
	const struct dag_workgroup *wg = &d->workgroups[d->ops[req->op].target];
	uint32_t end = wg->first_vm + wg->n_vms < d->n_vms ? wg->first_vm + wg->n_vms : d->n_vms;
	uint32_t *vm_of = xmalloc(((size_t)f->copies.n + 1) * sizeof *vm_of);
	bool ok = true;
	for (uint32_t i = 0; i < f->copies.n && ok; i++) {
		const struct reply_vm *c = &f->copies.v[i];
		const char *copy = c->field[0], *because = c->field[1];
		uint32_t v = wg->first_vm;
		while (v < end && strcmp(d->vms[v].name, c->name) != 0)
			v++;
		vm_of[i] = v; /* the parser refused a VM named twice */
		if (v == end || !dag_vm_migration(d, v) || !adapter_names_vm(req, v - wg->first_vm))
			snprintf(why, whylen, "line %lu: copies names %.60s, which is no VM being moved of this register", c->line,
			         c->name);
		else if (!copy || (strcmp(copy, "source") != 0 && strcmp(copy, "destination") != 0))
			snprintf(why, whylen, "line %lu: the copy of VM %.60s must be source or destination%s%.20s%s", c->line,
			         c->name, copy ? ", not \"" : "", copy ? copy : "", copy ? "\"" : "");
		else if (!because || !because[0])
			snprintf(why, whylen, "line %lu: the reply does not say why it registered the %s copy of VM %.60s",
			         c->line, copy, c->name);
		ok = !why[0];
	}
	for (uint32_t v = wg->first_vm; ok && v < end; v++) {
		if (!dag_vm_migration(d, v) || !adapter_names_vm(req, v - wg->first_vm))
			continue;
		bool found = false;
		for (uint32_t i = 0; i < f->copies.n && !found; i++)
			found = vm_of[i] == v;
		if (!found) {
			snprintf(why, whylen, "the reply does not say which copy of VM %.60s it registered (copies)",
			         d->vms[v].name);
			ok = false;
		}
	}
	for (uint32_t i = 0; ok && i < f->copies.n; i++) {
		const struct reply_vm *c = &f->copies.v[i];
		const struct dag_migration *mg = dag_vm_migration(d, vm_of[i]);
		bool dest = c->field[0][0] == 'd';
		char text[ADAPTER_MESSAGE_MAX];
		snprintf(text, sizeof text, "%s", c->field[1]);
		clean(text);
		adapter_note(reply, c->name, "registered the %s copy (on %s): %s", dest ? "destination" : "source",
		             d->devices[dest ? mg->to : mg->from].name, text);
	}
	free(vm_of);
	return ok;
}

/* A sync that the array runs asynchronously (docs/adapters.md, "sync-status"): what a call of
 * sync or sync-status may answer besides done, and how long it may take. */
struct sync_poll {
	int64_t left_ms;            /* the time left to the sync's deadline: this call's limit too */
	bool in_progress;           /* the reply said `status: in-progress` */
	char progress[40];          /* its `progress`, or "" */
};

/* Performs one call of the protocol. For a query, ans is filled when the reply is good; for a
 * register that is done, the copies it chose become notes of `reply` (if not NULL). `poll` is
 * NULL except for sync and sync-status, which may answer in-progress. */
static enum call_result call(struct exec_adapter *x, const struct adapter_request *req, const char *operation,
                             const char *query, struct adapter_answer *ans, struct adapter_reply *reply,
                             struct sync_poll *poll, char *msg, size_t msglen)
{
	struct buf id = BUF_INIT, request = BUF_INIT;
	dag_op_id(req->dag, req->op, &id);
	struct call c;
	memset(&c, 0, sizeof c);
	c.x = x;
	c.operation = operation;
	c.op_id = id.data;
	c.reply_max = EXEC_REPLY_MAX;
	c.timeout_ms = x->timeout_ms;
	if (req->timeout_ms > 0 && req->timeout_ms < c.timeout_ms)
		c.timeout_ms = req->timeout_ms;
	if (poll && poll->left_ms < c.timeout_ms)
		c.timeout_ms = poll->left_ms > 0 ? poll->left_ms : 1;
	build_request(&request, req, operation, query, id.data, c.timeout_ms);
	run_call(&c, &request);
	enum call_result res = CALL_FAILED;
	char why[200] = "";
	struct reply_fields f = {0};
	if (process_fault(&c, why, sizeof why, &res)) {
		/* why says it */
	} else if (parse_reply(&c.out, &f, why, sizeof why)) {
		if (!f.version)
			snprintf(why, sizeof why, "the reply has no drplan-adapter-reply field");
		else if (strcmp(f.version, "1") != 0)
			snprintf(why, sizeof why, "unknown reply version \"%.20s\"", f.version);
		else if (!f.op)
			snprintf(why, sizeof why, "the reply has no op field");
		else if (strcmp(f.op, id.data) != 0)
			snprintf(why, sizeof why, "the reply is for another operation (\"%.60s\")", f.op);
		else if (f.vms.given && !(query && ans->vms))
			snprintf(why, sizeof why, "the reply has a vms field, which only a query of a workgroup operation has");
		else if (f.copies.given && (query || strcmp(operation, "register") != 0))
			snprintf(why, sizeof why, "%s", COPIES_ELSEWHERE);
		else if (query && ans->vms) {
			if (vm_answers(x, req, &f, id.data, ans, why, sizeof why))
				res = CALL_DONE;
		} else if (query) {
			if (!f.outcome)
				snprintf(why, sizeof why, "the reply has no outcome field");
			else if (strcmp(f.outcome, "happened") == 0)
				ans->outcome = ADAPTER_HAPPENED, res = CALL_DONE;
			else if (strcmp(f.outcome, "not-happened") == 0)
				ans->outcome = ADAPTER_NOT_HAPPENED, res = CALL_DONE;
			else if (strcmp(f.outcome, "unknown") == 0)
				ans->outcome = ADAPTER_UNKNOWN, res = CALL_DONE;
			else
				snprintf(why, sizeof why, "unknown outcome \"%.20s\"", f.outcome);
		} else if (!f.status) {
			snprintf(why, sizeof why, "the reply has no status field");
		} else if (strcmp(f.status, "done") == 0) {
			bool reg = strcmp(operation, "register") == 0 && req->dag->ops[req->op].target_kind == DAG_TARGET_WORKGROUP;
			if (!reply || !reg || take_copies(req, &f, reply, why, sizeof why))
				res = CALL_DONE;
		} else if (strcmp(f.status, "in-progress") == 0 && poll) {
			res = CALL_DONE;
			poll->in_progress = true;
			snprintf(poll->progress, sizeof poll->progress, "%s", f.progress ? f.progress : "");
			clean(poll->progress);
		} else if (strcmp(f.status, "in-progress") == 0) {
			snprintf(why, sizeof why, "status in-progress is only for sync");
		} else if (strcmp(f.status, "failed") == 0 || strcmp(f.status, "transient") == 0) {
			res = f.status[0] == 'f' ? CALL_FAILED : CALL_TRANSIENT;
			snprintf(why, sizeof why, "%s", f.message && f.message[0] ? f.message : f.status);
		} else {
			snprintf(why, sizeof why, "unknown status \"%.20s\"", f.status);
		}
	}
	if (res != CALL_DONE || why[0]) {
		clean(why);
		snprintf(msg, msglen, "%s %s %s: %s", x->name, operation, id.data, why);
	} else {
		msg[0] = '\0';
	}
	fields_free(&f);
	buf_free(&c.out);
	buf_free(&c.err_line);
	buf_free(&request);
	buf_free(&id);
	return res;
}

/* A sync: one call, then, while the array answers in-progress, a sync-status call (the same
 * request) every poll interval until it answers done or failed, all within the sync's timeout
 * (the step's, else the adapter's): running out of it while polling, between calls or during one,
 * is the sync timing out. The progress each reply reports goes to the log. */
static enum call_result sync_call(struct exec_adapter *x, const struct adapter_request *req, char *msg, size_t msglen)
{
	int64_t limit = req->timeout_ms > 0 && req->timeout_ms < x->timeout_ms ? req->timeout_ms : x->timeout_ms;
	int64_t deadline = clock_mono_ms() + limit;
	struct sync_poll poll = {.left_ms = limit};
	enum call_result r = call(x, req, "sync", NULL, NULL, NULL, &poll, msg, msglen);
	struct buf id = BUF_INIT;
	dag_op_id(req->dag, req->op, &id);
	for (uint32_t n = 1; r == CALL_DONE && poll.in_progress; n++) {
		struct buf line = BUF_INIT;
		buf_printf(&line, "%s %s: sync in progress%s%s (poll %u)\n", x->name, id.data, poll.progress[0] ? ", " : "",
		           poll.progress, n);
		log_write(x, &line);
		buf_free(&line);
		int64_t left = deadline - clock_mono_ms();
		clock_sleep_ns((left < x->poll_ms ? left : x->poll_ms) * 1000000);
		struct sync_poll last = poll;
		poll = (struct sync_poll){.left_ms = deadline - clock_mono_ms()};
		if (poll.left_ms > 0)
			r = call(x, req, "sync-status", NULL, NULL, NULL, &poll, msg, msglen);
		if (poll.left_ms <= 0 || (r == CALL_TRANSIENT && clock_mono_ms() >= deadline)) {
			struct buf dur = BUF_INIT;
			dot_duration(&dur, limit);
			snprintf(msg, msglen, "%s sync %s: timed out after %s while the sync was in progress%s%s", x->name,
			         id.data, dur.data, last.progress[0] ? " at " : "", last.progress);
			buf_free(&dur);
			r = CALL_TRANSIENT; /* as any timeout: it may complete yet, and query decides */
			break;
		}
	}
	buf_free(&id);
	return r;
}

static void perform(struct adapter *a, const struct adapter_request *req, struct adapter_reply *reply,
                    const char *operation)
{
	struct exec_adapter *x = (struct exec_adapter *)a;
	reply->duration_ms = 0;
	if (!req->dag || req->op >= req->dag->n_ops) {
		adapter_reply_set(reply, ADAPTER_FAILED, "%s %s: no operation %u in the plan", x->name, operation, req->op);
		return;
	}
	char msg[ADAPTER_MESSAGE_MAX];
	enum call_result r = strcmp(operation, "sync") == 0 ? sync_call(x, req, msg, sizeof msg)
	                     : call(x, req, operation, NULL, NULL, reply, NULL, msg, sizeof msg);
	enum adapter_status st = r == CALL_DONE ? ADAPTER_DONE : r == CALL_TRANSIENT ? ADAPTER_TRANSIENT : ADAPTER_FAILED;
	adapter_reply_set(reply, st, "%s", st == ADAPTER_DONE ? "" : msg);
}

#define ENTRY(fn, word)                                                                                         \
	static void fn(struct adapter *a, const struct adapter_request *req, struct adapter_reply *reply)       \
	{                                                                                                       \
		perform(a, req, reply, word);                                                                   \
	}
ENTRY(exec_sync, "sync")
ENTRY(exec_prepare_failover, "prepare-failover")
ENTRY(exec_failover, "failover")
ENTRY(exec_set_preference, "set-preference")
ENTRY(exec_snapshot, "snapshot")
ENTRY(exec_reverse, "reverse")
ENTRY(exec_shutdown, "shutdown")
ENTRY(exec_migrate, "migrate")
ENTRY(exec_register, "register")
ENTRY(exec_power_on, "power-on")
ENTRY(exec_unregister, "unregister")
ENTRY(exec_discard_snapshot, "discard-snapshot")
#undef ENTRY

/* A query that goes wrong answers "unknown" (an operator decides) and says why in the log and in
 * ans->message. A workgroup operation's query is answered per VM (docs/adapters.md). */
static void exec_query(struct adapter *a, const struct adapter_request *req, struct adapter_answer *ans)
{
	struct exec_adapter *x = (struct exec_adapter *)a;
	if (!req->dag || req->op >= req->dag->n_ops) {
		snprintf(ans->message, sizeof ans->message, "%s query: no operation %u in the plan", x->name, req->op);
		return;
	}
	const struct dag_op *op = &req->dag->ops[req->op];
	if (ans->vms && (op->target_kind != DAG_TARGET_WORKGROUP || op->target >= req->dag->n_workgroups ||
	                 req->dag->workgroups[op->target].n_vms != ans->n_vms)) {
		snprintf(ans->message, sizeof ans->message, "%s query: operation %u is not on this workgroup", x->name,
		         req->op);
		return;
	}
	char msg[ADAPTER_MESSAGE_MAX];
	const char *asked = op_word((enum dag_op_kind)op->kind);
	if (call(x, req, "query", asked, ans, NULL, NULL, msg, sizeof msg) != CALL_DONE) {
		struct buf line = BUF_INIT;
		buf_printf(&line, "%s (answering unknown)\n", msg);
		log_write(x, &line);
		buf_free(&line);
		ans->outcome = ADAPTER_UNKNOWN;
		snprintf(ans->message, sizeof ans->message, "%s", msg);
	}
}

static const struct adapter_vtable exec_vtable = {
	.name = "exec",
	.sync = exec_sync,
	.prepare_failover = exec_prepare_failover,
	.failover = exec_failover,
	.set_preference = exec_set_preference,
	.snapshot = exec_snapshot,
	.reverse = exec_reverse,
	.shutdown = exec_shutdown,
	.migrate = exec_migrate,
	.register_vms = exec_register,
	.power_on = exec_power_on,
	.query = exec_query,
	.flush = NULL,
	.close = exec_close,
	.unregister_vms = exec_unregister,
	.discard_snapshot = exec_discard_snapshot,
};

struct adapter *exec_open(const struct dag *d, const struct exec_options *o, char *err, size_t errlen)
{
	if (!o->program || !o->program[0]) {
		set_err(err, errlen, "exec adapter: no program");
		return NULL;
	}
	struct stat st;
	if (stat(o->program, &st) != 0 || access(o->program, X_OK) != 0) {
		set_err(err, errlen, "exec adapter: cannot run %s: %s", o->program, strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		set_err(err, errlen, "exec adapter: cannot run %s: not a regular file", o->program);
		return NULL;
	}
	struct exec_adapter *x = xcalloc(1, sizeof *x);
	x->base.vt = &exec_vtable;
	x->dag = d;
	x->program = xstrdup(o->program);
	if (o->name) {
		x->name = xstrdup(o->name);
	} else {
		struct buf n = BUF_INIT;
		buf_printf(&n, "exec:%s", o->program);
		x->name = buf_detach(&n);
	}
	x->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : EXEC_DEFAULT_TIMEOUT_MS;
	x->poll_ms = o->poll_ms > 0 ? o->poll_ms : EXEC_DEFAULT_POLL_MS;
	x->log_fd = 2;
	size_t n = 0, cap = 0;
	/* The program's environment is only what is passed on purpose: the names asked for, then the
	 * secrets (which win over a passed name). */
	for (uint32_t i = 0; i < o->n_pass_env; i++) {
		const char *v = getenv(o->pass_env[i]);
		if (!v)
			continue;
		struct buf e = BUF_INIT;
		buf_printf(&e, "%s=%s", o->pass_env[i], v);
		env_push(&x->env, &n, &cap, buf_detach(&e));
	}
	env_push(&x->env, &n, &cap, xstrdup("DRPLAN_ADAPTER=exec"));
	if (o->secrets_file && !read_secrets(o->secrets_file, &x->env, &n, &cap, err, errlen)) {
		exec_close(&x->base);
		return NULL;
	}
	if (o->log_path) {
		x->log_fd = open(o->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (x->log_fd < 0) {
			set_err(err, errlen, "exec adapter: cannot open the log %s: %s", o->log_path, strerror(errno));
			exec_close(&x->base);
			return NULL;
		}
		x->own_log = true;
	}
	return &x->base;
}

/* ---- Discovery */

static int buf_output(void *data, unsigned char *buffer, size_t size)
{
	buf_append(data, buffer, size);
	return 1;
}

bool exec_discover(const struct exec_options *o, const char *const *sites, uint32_t n_sites, struct buf *inventory,
                   char *err, size_t errlen)
{
	struct adapter *a = exec_open(NULL, o, err, errlen);
	if (!a)
		return false;
	struct exec_adapter *x = (struct exec_adapter *)a;
	struct buf request = BUF_INIT, doc = BUF_INIT;
	buf_puts(&request, "drplan-adapter-request: 1\noperation: discover\nsites: [");
	for (uint32_t i = 0; i < n_sites; i++) {
		if (i)
			buf_puts(&request, ", ");
		put_scalar(&request, sites[i]);
	}
	buf_puts(&request, "]\n");
	struct call c;
	memset(&c, 0, sizeof c);
	c.x = x;
	c.operation = "discover";
	c.op_id = "discover";
	c.reply_max = EXEC_DISCOVER_REPLY_MAX;
	c.timeout_ms = x->timeout_ms;
	run_call(&c, &request);
	enum call_result res;
	char why[200] = "";
	yaml_emitter_t em;
	struct reply_fields f = {0};
	bool ok = false, em_init = yaml_emitter_initialize(&em), em_ok = em_init;
	if (em_ok) {
		yaml_emitter_set_output(&em, buf_output, &doc);
		yaml_emitter_set_unicode(&em, 1);
		yaml_event_t ev;
		yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
		em_ok = yaml_emitter_emit(&em, &ev);
		yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
		em_ok = em_ok && yaml_emitter_emit(&em, &ev);
		f.inventory = &em;
	}
	if (!em_ok) {
		snprintf(why, sizeof why, "out of memory");
	} else if (process_fault(&c, why, sizeof why, &res)) {
		/* why says it */
	} else if (parse_reply(&c.out, &f, why, sizeof why)) {
		if (!f.version || strcmp(f.version, "1") != 0)
			snprintf(why, sizeof why, "the reply has no drplan-adapter-reply: 1");
		else if (!f.op || strcmp(f.op, "discover") != 0)
			snprintf(why, sizeof why, "the reply is not for discover");
		else if (!f.status || strcmp(f.status, "done") != 0)
			snprintf(why, sizeof why, "%s", f.message ? f.message : f.status ? f.status : "the reply has no status field");
		else if (!f.has_inventory)
			snprintf(why, sizeof why, "the reply has no inventory mapping");
		else if (f.copies.given)
			snprintf(why, sizeof why, "%s", COPIES_ELSEWHERE);
		else
			ok = true;
	}
	if (ok) {
		yaml_event_t ev;
		yaml_document_end_event_initialize(&ev, 1);
		ok = yaml_emitter_emit(&em, &ev);
		yaml_stream_end_event_initialize(&ev);
		ok = ok && yaml_emitter_emit(&em, &ev) && yaml_emitter_flush(&em);
		if (!ok)
			snprintf(why, sizeof why, "the inventory cannot be written");
	}
	if (ok) {
		buf_append(inventory, doc.data, doc.len);
	} else {
		clean(why);
		set_err(err, errlen, "%s discover: %s", x->name, why);
	}
	if (em_init)
		yaml_emitter_delete(&em);
	fields_free(&f);
	buf_free(&doc);
	buf_free(&c.out);
	buf_free(&c.err_line);
	buf_free(&request);
	exec_close(a);
	return ok;
}

bool exec_reply_check(const char *text, size_t len, bool discover, struct buf *inventory, char *why, size_t whylen)
{
	struct buf out = BUF_INIT;
	buf_append(&out, text, len);
	struct reply_fields f = {0};
	yaml_emitter_t em;
	bool em_init = discover && inventory && yaml_emitter_initialize(&em);
	if (em_init) {
		yaml_emitter_set_output(&em, buf_output, inventory);
		yaml_emitter_set_unicode(&em, 1);
		yaml_event_t ev;
		yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
		bool ok = yaml_emitter_emit(&em, &ev);
		yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
		if (ok && yaml_emitter_emit(&em, &ev))
			f.inventory = &em;
	}
	bool ok = parse_reply(&out, &f, why, whylen);
	if (em_init)
		yaml_emitter_delete(&em);
	fields_free(&f);
	buf_free(&out);
	return ok;
}
