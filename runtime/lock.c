/* lock.c: protection-group locks with flock(2) on one file per group: taken without waiting, in
 * sorted file-name order, each file holding a line that says who holds it. */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../lib/alloc.h"
#include "../lib/crc32c.h"

#define LOCK_NAME_MAX 100  /* bytes of the name kept in the file name */
#define LOCK_WHO_MAX 1024  /* bytes of a holder's description read back */

struct run_lock {
	uint32_t n;
	int *fds;
};

struct lock_entry {
	char *file;                    /* DIR/<safe name>.lock */
	const char *name;              /* as given, for messages */
};

void lock_file_name(struct buf *out, const char *name)
{
	size_t len = strlen(name);
	bool changed = len == 0 || len > LOCK_NAME_MAX || name[0] == '.';
	for (size_t i = 0; i < len && i < LOCK_NAME_MAX; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		          c == '_' || c == '-';
		buf_putc(out, ok ? c : '_');
		changed |= !ok;
	}
	if (changed)
		buf_printf(out, "-%08x", crc32c(0, name, len));
	buf_puts(out, ".lock");
}

void lock_describe(struct buf *out, const char *plan, const char *journal)
{
	char host[256] = "unknown";
	if (gethostname(host, sizeof host - 1) != 0)
		snprintf(host, sizeof host, "unknown");
	host[sizeof host - 1] = '\0';
	char since[64] = "an unknown time";
	time_t now = time(NULL);
	struct tm tm;
	if (localtime_r(&now, &tm))
		strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%S%z", &tm);
	buf_printf(out, "pid %ld on host %s (plan %s, journal %s, since %s)", (long)getpid(), host, plan, journal,
	           since);
}

/* mkdir -p with mode 0755. */
static bool lock_make_dir(const char *dir, char *err, size_t errlen)
{
	if (dir[0] == '\0') {
		snprintf(err, errlen, "no lock directory given");
		return false;
	}
	char *path = xstrdup(dir);
	bool ok = true;
	for (char *p = path + 1; ok; p++) {
		bool last = *p == '\0';
		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create the lock directory %s: %s", path, strerror(errno));
			ok = false;
		}
		if (last)
			break;
		*p = '/';
	}
	free(path);
	return ok;
}

static int lock_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct lock_entry *)a)->file, ((const struct lock_entry *)b)->file);
}

/* What the holder of fd's lock wrote, made printable, in out. */
static void lock_read_holder(int fd, char *out, size_t outlen)
{
	char who[LOCK_WHO_MAX];
	ssize_t n = pread(fd, who, sizeof who - 1, 0);
	size_t len = n > 0 ? (size_t)n : 0;
	while (len > 0 && (who[len - 1] == '\n' || who[len - 1] == ' '))
		len--;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)who[i] < 0x20 || who[i] == 0x7f)
			who[i] = '?';
	who[len] = '\0';
	snprintf(out, outlen, "%s", len ? who : "another process (which has not yet said who it is)");
}

struct run_lock *lock_acquire(const char *dir, const char *const *names, uint32_t n, const char *who, char *err,
                              size_t errlen)
{
	if (!lock_make_dir(dir, err, errlen))
		return NULL;
	struct lock_entry *e = xcalloc(n ? n : 1, sizeof *e);
	for (uint32_t i = 0; i < n; i++) {
		struct buf file = BUF_INIT;
		buf_printf(&file, "%s/", dir);
		lock_file_name(&file, names[i]);
		e[i].file = buf_detach(&file);
		e[i].name = names[i];
	}
	/* One global order for everyone: no two runs can each hold what the other waits for. */
	qsort(e, n, sizeof *e, lock_entry_cmp);
	struct run_lock *l = xcalloc(1, sizeof *l);
	l->fds = xcalloc(n ? n : 1, sizeof *l->fds);
	size_t who_len = strlen(who);
	bool ok = true;
	for (uint32_t i = 0; i < n && ok; i++) {
		if (i > 0 && strcmp(e[i].file, e[i - 1].file) == 0)
			continue;
		int fd = open(e[i].file, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0) {
			snprintf(err, errlen, "cannot open the lock of protection group '%s' (%s): %s", e[i].name, e[i].file,
			         strerror(errno));
			ok = false;
			break;
		}
		int rc;
		while ((rc = flock(fd, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR)
			;
		if (rc != 0) {
			if (errno == EWOULDBLOCK) {
				char holder[LOCK_WHO_MAX + 64];
				lock_read_holder(fd, holder, sizeof holder);
				snprintf(err, errlen, "protection group '%s' is locked by %s", e[i].name, holder);
			} else
				snprintf(err, errlen, "cannot lock protection group '%s' (%s): %s", e[i].name, e[i].file,
				         strerror(errno));
			close(fd);
			ok = false;
			break;
		}
		l->fds[l->n++] = fd;
		/* Only informative: no fsync, and a reader that comes before the write says so. */
		if (ftruncate(fd, 0) != 0 || pwrite(fd, who, who_len, 0) != (ssize_t)who_len ||
		    pwrite(fd, "\n", 1, (off_t)who_len) != 1) {
			snprintf(err, errlen, "cannot write to the lock of protection group '%s' (%s): %s", e[i].name,
			         e[i].file, strerror(errno));
			ok = false;
		}
	}
	for (uint32_t i = 0; i < n; i++)
		free(e[i].file);
	free(e);
	if (!ok) {
		lock_release(l);
		return NULL;
	}
	return l;
}

void lock_release(struct run_lock *l)
{
	if (!l)
		return;
	for (uint32_t i = 0; i < l->n; i++) {
		/* Emptied while still held, so no one reads a stale holder from it later. */
		if (ftruncate(l->fds[i], 0) != 0) {
			/* Harmless: the next holder overwrites it. */
		}
		close(l->fds[i]);
	}
	free(l->fds);
	free(l);
}
