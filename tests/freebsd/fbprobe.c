/*
 * fbprobe: the few things tests/freebsd/guest.sh needs that the guest's
 * rescue userland lacks. Built static on the Linux host against the
 * FreeBSD sysroot by scripts/freebsd-vm; runs inside the FreeBSD guest.
 *
 *   fbprobe as UID GID PROG ARG...  become UID:GID (no other groups),
 *                                   then exec PROG: su(1) cannot run
 *                                   there (its static PAM has no modules)
 *   fbprobe trace PID               PROC_TRACE_STATUS of PID: -1 when
 *                                   procctl(2) turned tracing off
 *   fbprobe nofollow PATH           the errno name open(O_NOFOLLOW |
 *                                   O_NONBLOCK) gives on PATH, or "ok"
 *   fbprobe fifo PATH               mkfifo(2): rescue has no mkfifo(1)
 *   fbprobe until SECS PROG ARG...  run PROG, SIGKILL it after SECS;
 *                                   exit 124 then (rescue has no timeout)
 *
 * Exit 64 on a usage error, 71 when a system call failed.
 */
#include <sys/types.h>
#include <sys/procctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
become(char **argv)
{
	uid_t	uid = (uid_t)strtoul(argv[0], NULL, 10);
	gid_t	gid = (gid_t)strtoul(argv[1], NULL, 10);

	/* groups first: setuid takes away the right to change them */
	if (setgroups(1, &gid) == -1 || setgid(gid) == -1 ||
	    setuid(uid) == -1) {
		perror("fbprobe as");
		return 71;
	}
	execv(argv[2], argv + 2);
	perror(argv[2]);
	return 127;
}

static int
trace(const char *pid)
{
	int	st = 0;

	if (procctl(P_PID, (id_t)strtol(pid, NULL, 10), PROC_TRACE_STATUS,
	    &st) == -1) {
		perror("fbprobe trace");
		return 71;
	}
	printf("%d\n", st);
	return 0;
}

static int
nofollow(const char *path)
{
	int	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);

	if (fd != -1) {
		close(fd);
		printf("ok\n");
		return 0;
	}
	switch (errno) {
	case EMLINK:	printf("EMLINK\n"); break;
	case ELOOP:	printf("ELOOP\n"); break;
	case ENXIO:	printf("ENXIO\n"); break;
	default:	printf("errno %d\n", errno); break;
	}
	return 0;
}

static int
until(char **argv)
{
	unsigned	secs = (unsigned)strtoul(argv[0], NULL, 10);
	pid_t		pid;
	int		st;

	if ((pid = fork()) == -1)
		return 71;
	if (pid == 0) {
		execv(argv[1], argv + 1);
		_exit(127);
	}
	for (;;) {
		pid_t	r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
		if (r == -1 || secs-- == 0)
			break;
		sleep(1);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return 124;
}

int
main(int argc, char **argv)
{
	if (argc >= 5 && strcmp(argv[1], "as") == 0)
		return become(argv + 2);
	if (argc == 3 && strcmp(argv[1], "trace") == 0)
		return trace(argv[2]);
	if (argc == 3 && strcmp(argv[1], "nofollow") == 0)
		return nofollow(argv[2]);
	if (argc == 3 && strcmp(argv[1], "fifo") == 0)
		return mkfifo(argv[2], 0600) == -1 ? 71 : 0;
	if (argc >= 4 && strcmp(argv[1], "until") == 0)
		return until(argv + 2);
	fprintf(stderr, "usage: fbprobe as|trace|nofollow|fifo|until ...\n");
	return 64;
}
