/*
 * plat.h: the only calls ferry makes beyond C11 and POSIX.1-2008. Every
 * other file builds with -std=c11 -D_POSIX_C_SOURCE=200809L alone; the
 * BSD and Linux extensions they need are wrapped here, and plat.c is
 * the one place with #ifdef __linux__ / __FreeBSD__ (but for
 * confine.c, whose seccomp, Landlock and Capsicum are nothing else).
 * FreeBSD hides flock(2), SOCK_CLOEXEC and MSG_DONTWAIT under
 * _POSIX_C_SOURCE (glibc and musl do not), so they are wrapped too;
 * scripts/clang-check fails on their names anywhere else but these
 * two files. LOG_PERROR stays direct: FreeBSD's syslog.h shows it in
 * strict POSIX mode.
 */
#ifndef FERRY_PLAT_H
#define FERRY_PLAT_H
#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/*
 * Fill buf with len bytes from the kernel's random source. 0, or -1
 * with errno set (buf then holds nothing to rely on).
 */
int	plat_random(void *buf, size_t len);
/* Zero len bytes at buf in a way the compiler may not drop. */
void	plat_wipe(void *buf, size_t len);
/* Seconds east of UTC for a struct tm filled by localtime_r(). */
long	plat_gmtoff(const struct tm *tm);
/* The path of the local syslog socket, to tell whether there is one. */
const char *plat_log_path(void);
/* vsyslog(3): not in POSIX, but in every libc ferry targets. */
void	plat_vsyslog(int pri, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));

enum {
	PLAT_LOCK_SH = 1,	/* shared, else exclusive */
	PLAT_LOCK_NB = 2,	/* fail with EWOULDBLOCK instead of waiting */
	PLAT_LOCK_UN = 4	/* release */
};
/* Milliseconds on a clock that does not jump (CLOCK_MONOTONIC). */
long long	plat_now_ms(void);
/* Sleep ms milliseconds, the whole time, through EINTR. */
void		plat_sleep_ms(long long ms);
/* Write all of buf, through EINTR and short writes: 0, or -1 with errno. */
int	plat_write_full(int fd, const char *buf, size_t len);
/* flock(2) on fd with PLAT_LOCK_* flags: 0, or -1 with errno set. */
int	plat_lock(int fd, int how);
/* socket(2) with close-on-exec set atomically: fd, or -1 with errno. */
int	plat_socket(int domain, int type, int protocol);
/* recv(2) that never waits: bytes read, 0 at EOF, -1 with errno. */
long	plat_recv_now(int fd, void *buf, size_t len);
/*
 * Set the real, effective and saved group IDs to the real one
 * (setresgid): a setgid program that drops its group with setgid()
 * alone keeps it as the saved ID and could take it back. 0, or -1.
 */
int	plat_drop_group(void);
/*
 * Peer credentials and setgid that did not take (issue 24). The uid
 * and gid of the process at the other end of the unix socket fd, as
 * the kernel recorded them at connect: SO_PEERCRED (Linux), getpeereid
 * (FreeBSD). 0, or -1 with errno (ENOTSOCK for a pipe or a file).
 */
int	plat_peer_ids(int fd, uid_t *uid, gid_t *gid);
/*
 * Become uid with gid as real group and sole supplementary group and
 * egid as effective and saved group: the state that exec of a program
 * setgid to egid gives that user. Needs root. 0, or -1 with errno.
 */
int	plat_become(uid_t uid, gid_t gid, gid_t egid);
/*
 * The group our own program file is setgid to (/proc/self/exe on
 * Linux, kern.proc.pathname on FreeBSD): 0 with *gid, or -1 when the
 * file is not setgid or cannot be found (no /proc in a chroot).
 */
int	plat_exe_group(gid_t *gid);
/*
 * Why exec did not apply that setgid bit, for a message:
 * "no_new_privs is set", "ferry's file system is mounted nosuid", or
 * "the setgid bit did not take" when neither can be seen.
 */
const char *plat_nosuid_why(void);
/* The local submission socket (ferry-submit.socket, inetd). */
const char *plat_submit_path(void);

/*
 * No core file and no ptrace by the caller's user: RLIMIT_CORE 0 and
 * PR_SET_DUMPABLE 0 (Linux), PROC_TRACE_CTL (FreeBSD). A core of a
 * run that did AUTH would hold the password. 0, or -1 with errno.
 */
int	plat_no_dump(void);
/*
 * Close every descriptor from lowfd up (closefrom, close_range): what
 * a caller left open, a pipe or a web server's socket, must not stay
 * open in a child that outlives the call. Errors are ignored.
 */
void	plat_close_from(int lowfd);
#endif
