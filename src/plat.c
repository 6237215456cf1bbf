/*
 * plat.c: PLATFORM FILE. Linux (musl, glibc) and FreeBSD differ here and
 * nowhere else; see plat.h. The build defines _POSIX_C_SOURCE for every
 * file, which hides the BSD extensions this file is for: undo it.
 */
#undef _POSIX_C_SOURCE
#define _DEFAULT_SOURCE		/* glibc, musl */
#define _GNU_SOURCE		/* setresgid: glibc, musl */
#define _BSD_SOURCE		/* older musl */

#include <sys/types.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <grp.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#elif defined(__FreeBSD__)
#include <sys/procctl.h>
#include <sys/sysctl.h>
#include <stdlib.h>
#include <strings.h>
#else
#include <stdlib.h>
#include <strings.h>
#endif

#include "plat.h"

#if defined(__linux__)
/*
 * getrandom(2) rather than /dev/urandom: an empty chroot has no /dev.
 * It blocks only until the pool is first seeded, and returns at most
 * 32 MB a call, and may stop short on a signal: loop.
 */
int
plat_random(void *buf, size_t len)
{
	unsigned char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = getrandom(p, len, 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
#elif defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__) || \
    defined(__APPLE__)
/* Kernel-seeded ChaCha; it cannot fail and needs no /dev. */
int
plat_random(void *buf, size_t len)
{
	arc4random_buf(buf, len);
	return 0;
}
#else
/* getentropy(3) is POSIX.1-2024; it takes 256 bytes a call at most. */
int
plat_random(void *buf, size_t len)
{
	unsigned char	*p = buf;
	size_t		 n;

	for (; len > 0; p += n, len -= n) {
		n = len < 256 ? len : 256;
		if (getentropy(p, n) == -1)
			return -1;
	}
	return 0;
}
#endif

/* glibc >= 2.25, musl >= 1.1.20 and FreeBSD >= 11 all have it. */
void
plat_wipe(void *buf, size_t len)
{
	explicit_bzero(buf, len);
}

/* Both systems have tm_gmtoff; strict POSIX headers only hide its name. */
long
plat_gmtoff(const struct tm *tm)
{
	return (long)tm->tm_gmtoff;
}

/* syslog.h names the socket: /dev/log on Linux, /var/run/log on FreeBSD. */
#ifndef _PATH_LOG
#define _PATH_LOG	"/dev/log"
#endif
const char *
plat_log_path(void)
{
	return _PATH_LOG;
}

void
plat_vsyslog(int pri, const char *fmt, va_list ap)
{
	vsyslog(pri, fmt, ap);
}

int
plat_lock(int fd, int how)
{
	int	op;

	if (how & PLAT_LOCK_UN)
		op = LOCK_UN;
	else
		op = how & PLAT_LOCK_SH ? LOCK_SH : LOCK_EX;
	if (how & PLAT_LOCK_NB)
		op |= LOCK_NB;
	return flock(fd, op);
}

int
plat_socket(int domain, int type, int protocol)
{
	return socket(domain, type | SOCK_CLOEXEC, protocol);
}

long
plat_recv_now(int fd, void *buf, size_t len)
{
	return (long)recv(fd, buf, len, MSG_DONTWAIT);
}

/* Linux and FreeBSD both have setresgid(2); POSIX has only setregid. */
int
plat_drop_group(void)
{
	gid_t	g = getgid();

	if (setresgid(g, g, g) == -1)
		return -1;
	/* a kernel that ignored part of it must not go unnoticed */
	return getegid() == g ? 0 : -1;
}

#if defined(__linux__)
int
plat_peer_ids(int fd, uid_t *uid, gid_t *gid)
{
	struct ucred	cr;
	socklen_t	len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1)
		return -1;
	*uid = cr.uid;
	*gid = cr.gid;
	return 0;
}
#else
int
plat_peer_ids(int fd, uid_t *uid, gid_t *gid)
{
	return getpeereid(fd, uid, gid);
}
#endif

int
plat_become(uid_t uid, gid_t gid, gid_t egid)
{
	/* groups first: once uid is not 0, nothing else may be changed */
	if (setgroups(1, &gid) == -1 || setresgid(gid, egid, egid) == -1 ||
	    setresuid(uid, uid, uid) == -1)
		return -1;
	if (getuid() != uid || geteuid() != uid || getegid() != egid) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

#if defined(__FreeBSD__)
/* FreeBSD has no /proc by default: the kernel names the image. */
static int
exe_path(char *buf, size_t size)
{
	int	mib[4] = { CTL_KERN, KERN_PROC, KERN_PROC_PATHNAME, -1 };

	return sysctl(mib, 4, buf, &size, NULL, 0);
}
#else
static int
exe_path(char *buf, size_t size)
{
	return snprintf(buf, size, "/proc/self/exe") < (int)size ? 0 : -1;
}
#endif

int
plat_exe_group(gid_t *gid)
{
	char		path[1024];
	struct stat	st;

	if (exe_path(path, sizeof(path)) == -1 || stat(path, &st) == -1)
		return -1;
	if (!(st.st_mode & S_ISGID)) {
		errno = EPERM;
		return -1;
	}
	*gid = st.st_gid;
	return 0;
}

#if defined(__linux__)
/* prctl(PR_GET_NO_NEW_PRIVS) says it; any kernel since 3.5. */
static int
no_new_privs(void)
{
	return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
}
#elif defined(__FreeBSD__) && defined(PROC_NO_NEW_PRIVS_STATUS)
static int
no_new_privs(void)	/* FreeBSD 14 and later */
{
	int	v = 0;

	return procctl(P_PID, getpid(), PROC_NO_NEW_PRIVS_STATUS, &v) == 0 &&
	    v == PROC_NO_NEW_PRIVS_ENABLE;
}
#else
static int
no_new_privs(void)
{
	return 0;
}
#endif

const char *
plat_nosuid_why(void)
{
	char		path[1024];
	struct statvfs	vfs;

	if (no_new_privs())
		return "no_new_privs is set";
	if (exe_path(path, sizeof(path)) == 0 && statvfs(path, &vfs) == 0 &&
	    (vfs.f_flag & ST_NOSUID))
		return "ferry's file system is mounted nosuid";
	return "the setgid bit did not take";
}

/* /run is Linux's; FreeBSD's inetd listens in /var/run. */
const char *
plat_submit_path(void)
{
#if defined(__FreeBSD__)
	return "/var/run/ferry-submit.sock";
#else
	return "/run/ferry/submit.sock";
#endif
}

int
plat_no_dump(void)
{
	struct rlimit	rl = { 0, 0 };
	int		rc = setrlimit(RLIMIT_CORE, &rl);

#if defined(__linux__)
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		rc = -1;
#elif defined(__FreeBSD__)
	{
		int	ctl = PROC_TRACE_CTL_DISABLE;

		if (procctl(P_PID, getpid(), PROC_TRACE_CTL, &ctl) == -1)
			rc = -1;
	}
#endif
	return rc;
}

#if defined(__FreeBSD__)
void
plat_close_from(int lowfd)
{
	closefrom(lowfd);
}
#else
/* Every number from lowfd below the descriptor limit: the last resort. */
static void
close_each(int lowfd)
{
	struct rlimit	rl;
	rlim_t		fd, max = 65536;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		max = rl.rlim_cur;
	for (fd = (rlim_t)lowfd; fd < max; fd++)
		(void)close((int)fd);
}

/*
 * Linux: close_range(2) since 5.9, through syscall(2) since musl has
 * no wrapper; on an older kernel the descriptors /proc/self/fd lists;
 * in a chroot without /proc, every number below the limit.
 */
void
plat_close_from(int lowfd)
{
	struct dirent	*de;
	DIR		*d;
	long		 fd;
	char		*end;

#if defined(SYS_close_range)
	if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0U) == 0)
		return;
#endif
	if ((d = opendir("/proc/self/fd")) == NULL) {
		close_each(lowfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		fd = strtol(de->d_name, &end, 10);
		if (*end == '\0' && end != de->d_name && fd >= lowfd &&
		    fd != dirfd(d) && fd <= 0x7fffffffL)
			(void)close((int)fd);
	}
	closedir(d);
}
#endif

long long
plat_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
plat_sleep_ms(long long ms)
{
	struct timespec	ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int
plat_write_full(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}
