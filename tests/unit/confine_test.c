/*
 * confine: a forked child confines itself with a temporary directory as
 * its spool, then tries what a delivery may do (write in the spool) and
 * what it may not: read /etc/passwd (Landlock: EACCES) and exec a
 * program (seccomp: the kernel kills it with SIGSYS). While it waits,
 * the parent reads its /proc/PID/status. Under qemu-user (the aarch64
 * unit run) seccomp is refused: confine_enter must then fail cleanly.
 */
#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "confine.h"
#include "t.h"

enum {
	R_ENTERED = 1,		/* confine_enter returned 0 */
	R_SPOOL = 2,		/* a file made in the spool */
	R_OUTSIDE_DENIED = 4,	/* /etc/passwd: EACCES */
	R_LANDLOCK = 8		/* what says landlock */
};

/* qemu-user runs us: an aarch64 build whose /proc/cpuinfo is x86's. */
static int
emulated(void)
{
#if defined(__aarch64__)
	char	line[256];
	FILE	*f = fopen("/proc/cpuinfo", "r");
	int	x86 = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		x86 |= strncmp(line, "vendor_id", 9) == 0;
	fclose(f);
	return x86;
#else
	return 0;
#endif
}

static void
child(int dirfd, int report, int go)
{
	struct confine	cf;
	struct ferr	e;
	char		what[CONFINE_WHAT_SIZE], ch = 0;
	unsigned char	r = 0;
	int		fd;

	confine_init(&cf, 1, dirfd, -1, 25);
	if (confine_enter(&cf, -1, what, sizeof(what), &e) == 0)
		r |= R_ENTERED;
	if (strstr(what, "landlock-abi") != NULL)
		r |= R_LANDLOCK;
	if ((fd = openat(dirfd, "qentry", O_WRONLY | O_CREAT | O_EXCL,
	    0600)) != -1) {
		r |= R_SPOOL;
		close(fd);
	}
	if (open("/etc/passwd", O_RDONLY) == -1 && errno == EACCES)
		r |= R_OUTSIDE_DENIED;
	(void)!write(report, &r, 1);
	(void)!read(go, &ch, 1);	/* the parent reads our status */
	if (!(r & R_ENTERED))
		_exit(0);
	execl("/bin/true", "true", (char *)NULL);
	_exit(3);			/* exec failed, but we lived */
}

/* The value of field ("Seccomp:") in /proc/pid/status, or -1. */
static int
status_field(pid_t pid, const char *field)
{
	char	path[64], line[256];
	FILE	*f;
	int	v = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, strlen(field)) == 0)
			v = atoi(line + strlen(field));
	fclose(f);
	return v;
}

void
confine_test(struct t *t)
{
	char		dir[] = "/tmp/ferry-confine-XXXXXX", path[64];
	unsigned char	r = 0;
	pid_t		pid;
	int		dirfd, rep[2], go[2], st = 0, emu = emulated();

	T_OK(t, mkdtemp(dir) != NULL, "mkdtemp");
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	T_OK(t, dirfd != -1, "open the spool");
	T_OK(t, pipe(rep) == 0 && pipe(go) == 0, "pipes");
	fflush(NULL);
	if ((pid = fork()) == 0) {
		close(rep[0]);
		close(go[1]);
		child(dirfd, rep[1], go[0]);
	}
	T_OK(t, pid > 0, "fork");
	close(rep[1]);
	close(go[0]);
	T_OK(t, read(rep[0], &r, 1) == 1, "the child reports");
	if (emu) {
		T_OK(t, !(r & R_ENTERED), "qemu-user: seccomp is refused");
	} else {
		T_OK(t, r & R_ENTERED, "confine_enter");
		T_OK(t, status_field(pid, "Seccomp:") == 2, "Seccomp: 2");
		T_OK(t, status_field(pid, "NoNewPrivs:") == 1,
		    "NoNewPrivs: 1");
		T_OK(t, r & R_LANDLOCK, "Landlock (ABI 2 or later) applied");
		T_OK(t, r & R_OUTSIDE_DENIED, "/etc/passwd: EACCES");
	}
	T_OK(t, r & R_SPOOL, "a file made in the spool");
	(void)!write(go[1], "g", 1);
	close(go[1]);
	close(rep[0]);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
#ifdef SIGSYS
	if (!emu)
		T_OK(t, WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS,
		    "exec kills the confined child with SIGSYS");
#endif
	snprintf(path, sizeof(path), "%s/qentry", dir);
	unlink(path);
	rmdir(dir);
	close(dirfd);
}
