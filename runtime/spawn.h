/* spawn.h: how drplan starts a program (a `run` step's script, an exec adapter): posix_spawn without a
 * shell, in a process group of its own, with signals as a fresh process has them. */
#ifndef DRP_SPAWN_H
#define DRP_SPAWN_H

#include <sys/types.h>

/* Starts path with argv and envp in the process group it leads (so that killing -*pid reaches all it
 * starts), in dir if not NULL. in_fd < 0: stdin is /dev/null; out_fd, err_fd < 0: inherited.
 * Returns 0 or an errno. */
int spawn_group(const char *path, char *const argv[], char *const envp[], const char *dir, int in_fd, int out_fd,
                int err_fd, pid_t *pid);

#endif
