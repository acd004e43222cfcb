/* fsutil.h: file replacement that survives a crash at any instant: the file is either the old one
 * or the new one, never a mix (write a temporary file beside it, fsync, rename, fsync the directory). */
#ifndef DRP_FSUTIL_H
#define DRP_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>

/* Replaces path with data[0..len), keeping the old file's permissions (0644 for a new file). On
 * failure returns false, leaves path untouched, removes the temporary file and writes the reason to
 * err[errlen]. */
bool fs_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen);

/* fsyncs the directory that holds path, so that a file created or renamed there survives a crash.
 * False (errno set) if it could not. */
bool fs_sync_directory_of(const char *path);

/* The same for a file written piece by piece (too large to hold in memory): fs_atomic_open makes the
 * temporary file, fs_atomic_write appends (fs_atomic.fd may also be used directly, with pwrite),
 * fs_atomic_commit syncs and renames it over path, fs_atomic_abort removes it. Each returns false
 * with err set on failure; after a failed write or commit, call fs_atomic_abort. */
struct fs_atomic {
	int fd;
	char *tmp;
	char *path;
	unsigned mode;
};
bool fs_atomic_open(struct fs_atomic *f, const char *path, char *err, size_t errlen);
bool fs_atomic_write(struct fs_atomic *f, const void *data, size_t len, char *err, size_t errlen);
bool fs_atomic_commit(struct fs_atomic *f, char *err, size_t errlen);
void fs_atomic_abort(struct fs_atomic *f);

#endif
