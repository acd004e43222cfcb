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

static bool fsync_directory_of(const char *path)
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

bool fs_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
	mode_t mode = 0644;
	struct stat st;
	if (stat(path, &st) == 0)
		mode = st.st_mode & 07777;
	struct buf tmp = BUF_INIT;
	buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp.data, strerror(errno));
		buf_free(&tmp);
		return false;
	}
	const char *p = data;
	size_t left = len;
	while (left > 0) {
		ssize_t n = write(fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "cannot write %s: %s", tmp.data, strerror(n < 0 ? errno : EIO));
			goto fail;
		}
		p += n;
		left -= (size_t)n;
	}
	if (fchmod(fd, mode) != 0 || fsync(fd) != 0) {
		snprintf(err, errlen, "cannot sync %s: %s", tmp.data, strerror(errno));
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		snprintf(err, errlen, "cannot close %s: %s", tmp.data, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp.data, path) != 0) {
		snprintf(err, errlen, "cannot replace %s: %s", path, strerror(errno));
		goto fail;
	}
	buf_free(&tmp);
	if (!fsync_directory_of(path)) {
		snprintf(err, errlen, "cannot sync the directory of %s: %s", path, strerror(errno));
		return false;
	}
	return true;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp.data);
	buf_free(&tmp);
	return false;
}
