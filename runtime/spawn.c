/* spawn.c: starting a program in a process group of its own (spawn.h), for script.c and the exec
 * adapter. */
#define _GNU_SOURCE /* posix_spawn_file_actions_addchdir_np: glibc 2.29, musl 1.1.24 */
#include "spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>

/* Signals as a fresh process has them: the scheduler's workers block SIGINT, the CLI may ignore
 * SIGPIPE, and neither must leak into the program. */
int spawn_group(const char *path, char *const argv[], char *const envp[], const char *dir, int in_fd, int out_fd,
                int err_fd, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int err = posix_spawn_file_actions_init(&fa);
	if (err)
		return err;
	err = posix_spawnattr_init(&attr);
	if (err) {
		posix_spawn_file_actions_destroy(&fa);
		return err;
	}
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	err = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	if (!err)
		err = posix_spawnattr_setpgroup(&attr, 0);
	if (!err)
		err = posix_spawnattr_setsigmask(&attr, &none);
	if (!err)
		err = posix_spawnattr_setsigdefault(&attr, &all);
	if (!err && dir)
		err = posix_spawn_file_actions_addchdir_np(&fa, dir);
	if (!err && in_fd < 0)
		err = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (!err && in_fd >= 0)
		err = posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
	if (!err && out_fd >= 0)
		err = posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	if (!err && err_fd >= 0)
		err = posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
	if (!err)
		err = posix_spawn(pid, path, &fa, &attr, argv, envp);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return err;
}
