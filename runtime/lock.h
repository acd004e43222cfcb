/* lock.h: the protection-group locks of a run: one file per group in a lock directory, held with
 * flock(2) for as long as the run lives, so that a second run over the same devices refuses to start
 * and says who holds them. The kernel drops the locks when the process dies, even by kill -9: a
 * crashed run leaves no stale lock behind. */
#ifndef DRP_LOCK_H
#define DRP_LOCK_H

#include <stddef.h>
#include <stdint.h>

#include "../lib/buf.h"

struct run_lock; /* opaque: the locks held */

/* Takes the lock of every name (`DIR/<name>.lock`, the name made safe for a file name) in sorted
 * order, so that two runs wanting overlapping sets cannot deadlock, without waiting: if one is
 * held, releases what it took and fails with err = "protection group 'X' is locked by <the
 * holder's who>". Once a lock is taken, `who` (see lock_describe) is written into its file for the
 * next one to read. Creates DIR (mode 0755, and its parents) if missing. Duplicate names are one
 * lock. Returns NULL with err set on failure. */
struct run_lock *lock_acquire(const char *dir, const char *const *names, uint32_t n, const char *who, char *err,
                              size_t errlen);

/* Releases every lock (the files stay, emptied: removing them would race with a run opening
 * them). NULL is fine. */
void lock_release(struct run_lock *l);

/* Appends a description of this process for lock_acquire's `who`:
 * "pid 1234 on host h (plan p, journal j, since 2026-11-24T10:00:00+0000)". */
void lock_describe(struct buf *out, const char *plan, const char *journal);

/* The file name (no directory) of name's lock: the name with every byte outside [A-Za-z0-9._-]
 * replaced by '_' and, when that changed anything (or the name starts with '.' or is long), a
 * checksum of the name appended so that distinct names keep distinct files; then ".lock". */
void lock_file_name(struct buf *out, const char *name);

#endif
