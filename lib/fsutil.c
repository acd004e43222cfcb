/* fsutil.c: atomic file replacement. */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"

bool fs_sync_directory_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return false;
	bool ok = fsync(fd) == 0 || errno == EINVAL; /* some filesystems cannot sync a directory */
	close(fd);
	return ok;
}

bool fs_atomic_open(struct fs_atomic *f, const char *path, char *err, size_t errlen)
{
	f->mode = 0644;
	struct stat st;
	if (stat(path, &st) == 0)
		f->mode = st.st_mode & 07777;
	struct buf tmp = BUF_INIT;
	buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	f->tmp = buf_detach(&tmp);
	f->path = xstrdup(path);
	f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)f->mode);
	if (f->fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", f->tmp, strerror(errno));
		free(f->tmp);
		free(f->path);
		f->tmp = f->path = NULL;
		return false;
	}
	return true;
}

bool fs_atomic_write(struct fs_atomic *f, const void *data, size_t len, char *err, size_t errlen)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(f->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "cannot write %s: %s", f->tmp, strerror(n < 0 ? errno : EIO));
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

bool fs_atomic_commit(struct fs_atomic *f, char *err, size_t errlen)
{
	if (fchmod(f->fd, (mode_t)f->mode) != 0 || fsync(f->fd) != 0) {
		snprintf(err, errlen, "cannot sync %s: %s", f->tmp, strerror(errno));
		return false;
	}
	int fd = f->fd;
	f->fd = -1;
	if (close(fd) != 0) {
		snprintf(err, errlen, "cannot close %s: %s", f->tmp, strerror(errno));
		return false;
	}
	if (rename(f->tmp, f->path) != 0) {
		snprintf(err, errlen, "cannot replace %s: %s", f->path, strerror(errno));
		return false;
	}
	free(f->tmp);
	f->tmp = NULL;
	bool synced = fs_sync_directory_of(f->path);
	if (!synced)
		snprintf(err, errlen, "cannot sync the directory of %s: %s", f->path, strerror(errno));
	free(f->path);
	f->path = NULL;
	return synced;
}

void fs_atomic_abort(struct fs_atomic *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->tmp)
		unlink(f->tmp);
	free(f->tmp);
	free(f->path);
	f->tmp = f->path = NULL;
}

bool fs_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
	struct fs_atomic f;
	if (!fs_atomic_open(&f, path, err, errlen))
		return false;
	if (fs_atomic_write(&f, data, len, err, errlen) && fs_atomic_commit(&f, err, errlen))
		return true;
	fs_atomic_abort(&f);
	return false;
}
