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

#endif
