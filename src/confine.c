/*
 * confine.c: PLATFORM FILE, like plat.c (see confine.h): its whole job
 * is Linux's seccomp and Landlock and FreeBSD's Capsicum, each behind
 * its #ifdef. The kernel ABI's numbers are written out here: musl's
 * headers carry no linux/ directory, and these are fixed by the kernel.
 */
#undef _POSIX_C_SOURCE
#define _DEFAULT_SOURCE		/* syscall(2): glibc, musl */
#define _BSD_SOURCE		/* older musl */

#include <sys/types.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#include <sys/syscall.h>
#elif defined(__FreeBSD__)
#include <sys/capsicum.h>
#endif

#include "confine.h"
#include "log.h"
#include "plat.h"
#include "spool.h"

#define MARK		"confined."	/* + pid: a confined process lives */
#define MARK_NEW	"confining."	/* + pid: not yet locked */

void
confine_init(struct confine *cf, int on, int dirfd, int faileddirfd,
    unsigned port)
{
	cf->on = on;
	cf->done = 0;
	cf->dirfd = dirfd;
	cf->faileddirfd = faileddirfd;
	cf->nports = 0;
	confine_port(cf, port);
	cf->markfd = -1;
	cf->mark[0] = '\0';
}

void
confine_port(struct confine *cf, unsigned port)
{
	size_t	i;

	for (i = 0; i < cf->nports; i++)
		if (cf->ports[i] == port)
			return;
	if (cf->nports < CONFINE_PORTS_MAX)
		cf->ports[cf->nports++] = port;
}

int
confine_can_connect(const struct confine *cf)
{
#if defined(__FreeBSD__)
	return !(cf->on && cf->done);
#else
	(void)cf;
	return 1;
#endif
}

/* Append s to what (size bytes), space-separated; cut to fit. */
static void
said(char *what, size_t size, const char *s)
{
	size_t	len = strlen(what);

	if (len < size)
		snprintf(what + len, size - len, "%s%s", len ? " " : "", s);
}

#if defined(__linux__) && (defined(__x86_64__) || defined(__aarch64__))
/* <linux/filter.h>, <linux/seccomp.h>, <linux/audit.h> */
struct cf_insn {
	uint16_t	code;
	uint8_t		jt, jf;
	uint32_t	k;
};
struct cf_prog {
	unsigned short	 len;
	struct cf_insn	*filter;
};
#define LD_W_ABS	0x20	/* BPF_LD | BPF_W | BPF_ABS */
#define JEQ_K		0x15	/* BPF_JMP | BPF_JEQ | BPF_K */
#define JGE_K		0x35	/* BPF_JMP | BPF_JGE | BPF_K */
#define RET_K		0x06	/* BPF_RET | BPF_K */
#define OFF_NR		0	/* struct seccomp_data */
#define OFF_ARCH	4
#define OFF_ARG1	24	/* args[1], its low half (little-endian) */
#define RET_KILL	0x80000000u	/* SECCOMP_RET_KILL_PROCESS */
#define RET_ERRNO	0x00050000u
#define RET_ALLOW	0x7fff0000u
#define MODE_FILTER	2	/* SECCOMP_MODE_FILTER */
#define TIOCGWINSZ_	0x5413	/* asm-generic: musl's stdout isatty */
#define ARCH_X86_64	0xc000003eu	/* AUDIT_ARCH_X86_64 */
#define ARCH_AARCH64	0xc00000b7u	/* AUDIT_ARCH_AARCH64 */
#define X32_BIT		0x40000000u	/* x32 calls: another ABI, refused */

/*
 * What delivery does once connected, found by strace over the e2e
 * suite: files through the spool's fds, sockets (a reconnect resolves
 * and connects again; syslog may reconnect), memory, time, randomness,
 * signals' return and exit. No exec, fork, ptrace, mount, module, bpf,
 * keyring, or changing of ids: those kill.
 */
static const long calls[] = {
	SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_pread64,
	SYS_pwrite64, SYS_lseek, SYS_close, SYS_openat, SYS_fstat,
	SYS_newfstatat, SYS_fcntl, SYS_flock, SYS_fsync, SYS_fdatasync,
	SYS_ftruncate, SYS_getdents64, SYS_linkat, SYS_unlinkat, SYS_fchmod, SYS_faccessat, SYS_utimensat, SYS_dup,
	SYS_dup3, SYS_umask,
	SYS_mmap, SYS_munmap, SYS_mremap, SYS_brk, SYS_madvise,
	SYS_ppoll, SYS_pselect6, SYS_socket, SYS_connect, SYS_bind,
	SYS_sendto, SYS_recvfrom, SYS_sendmsg, SYS_recvmsg,
	SYS_getsockopt, SYS_setsockopt, SYS_getsockname, SYS_getpeername,
	SYS_shutdown,
	SYS_clock_gettime, SYS_gettimeofday, SYS_clock_nanosleep,
	SYS_nanosleep, SYS_getrandom, SYS_futex,
	SYS_getpid, SYS_gettid, SYS_getuid, SYS_geteuid, SYS_getgid,
	SYS_getegid, SYS_uname,
	SYS_rt_sigaction, SYS_rt_sigprocmask, SYS_rt_sigreturn,
	SYS_restart_syscall, SYS_exit, SYS_exit_group,
#ifdef SYS_statx
	SYS_statx,
#endif
#ifdef SYS_renameat
	SYS_renameat,
#endif
#ifdef SYS_renameat2
	SYS_renameat2,
#endif
#ifdef SYS_faccessat2
	SYS_faccessat2,
#endif
#if defined(__x86_64__)
	SYS_open, SYS_stat, SYS_lstat, SYS_poll, SYS_select, SYS_dup2,
	SYS_link, SYS_rename, SYS_unlink, SYS_access, SYS_time,
#endif
};
#define NALLOWED	(sizeof(calls) / sizeof(calls[0]))
/* arch (3), nr and x32 (3), ioctl (5), two a call, kill (1) */
#define PROG_SIZE	(12 + 2 * NALLOWED)

/* Append one instruction; *n past size means the program did not fit. */
static void
put(struct cf_insn *p, size_t size, size_t *n, uint16_t code, uint8_t jt,
    uint8_t jf, uint32_t k)
{
	if (*n < size) {
		p[*n].code = code;
		p[*n].jt = jt;
		p[*n].jf = jf;
		p[*n].k = k;
	}
	(*n)++;
}

static int
seccomp_on(struct ferr *e)
{
	struct cf_insn	p[PROG_SIZE];
	struct cf_prog	prog;
	size_t		n = 0, i;

#define PUT(c, t, f, k)	put(p, PROG_SIZE, &n, (c), (t), (f), (k))
	PUT(LD_W_ABS, 0, 0, OFF_ARCH);
#if defined(__x86_64__)
	PUT(JEQ_K, 1, 0, ARCH_X86_64);
#else
	PUT(JEQ_K, 1, 0, ARCH_AARCH64);
#endif
	PUT(RET_K, 0, 0, RET_KILL);
	PUT(LD_W_ABS, 0, 0, OFF_NR);
#if defined(__x86_64__)
	PUT(JGE_K, 0, 1, X32_BIT);
	PUT(RET_K, 0, 0, RET_KILL);
#endif
	/* ioctl: the terminal size query alone, else "not a tty" */
	PUT(JEQ_K, 0, 4, SYS_ioctl);
	PUT(LD_W_ABS, 0, 0, OFF_ARG1);
	PUT(JEQ_K, 0, 1, TIOCGWINSZ_);
	PUT(RET_K, 0, 0, RET_ALLOW);
	PUT(RET_K, 0, 0, RET_ERRNO | ENOTTY);
	for (i = 0; i < NALLOWED; i++) {
		PUT(JEQ_K, 0, 1, (uint32_t)calls[i]);
		PUT(RET_K, 0, 0, RET_ALLOW);
	}
	PUT(RET_K, 0, 0, RET_KILL);
#undef PUT
	if (n > PROG_SIZE)
		return ferr_set(e, FE_SOFTWARE, 0, "seccomp: filter too long");
	prog.len = (unsigned short)n;
	prog.filter = p;
	if (prctl(PR_SET_SECCOMP, MODE_FILTER, &prog, 0, 0) == -1)
		return ferr_set(e, FE_OS, errno, "seccomp");
	return 0;
}
#elif defined(__linux__)
static int
seccomp_on(struct ferr *e)
{
	return ferr_set(e, FE_OS, ENOSYS, "seccomp: no filter for this "
	    "architecture");
}
#endif

#if defined(__linux__)
/* <linux/landlock.h>, up to ABI 6 */
struct ll_ruleset {
	uint64_t	fs, net, scoped;
};
struct ll_beneath {
	uint64_t	allowed;
	int32_t		fd;
} __attribute__((packed));
struct ll_port {
	uint64_t	allowed, port;
};
#define LL_VERSION	1u	/* LANDLOCK_CREATE_RULESET_VERSION */
#define LL_PATH		1	/* LANDLOCK_RULE_PATH_BENEATH */
#define LL_NET		2	/* LANDLOCK_RULE_NET_PORT */
#define FS_READ_FILE	(1ull << 2)
#define FS_WRITE_FILE	(1ull << 1)
#define FS_READ_DIR	(1ull << 3)
#define FS_REMOVE_FILE	(1ull << 5)
#define FS_MAKE_REG	(1ull << 8)
#define FS_REFER	(1ull << 13)	/* ABI 2 */
#define FS_TRUNCATE	(1ull << 14)	/* ABI 3 */
#define NET_BIND	(1ull << 0)	/* ABI 4 */
#define NET_CONNECT	(1ull << 1)
#define SCOPE_ALL	3ull		/* ABI 6: abstract sockets, signals */

#ifdef SYS_landlock_create_ruleset
static int
landlock_path(int rs, int fd, uint64_t allowed)
{
	struct ll_beneath b;

	b.allowed = allowed;
	b.fd = fd;
	return (int)syscall(SYS_landlock_add_rule, rs, LL_PATH, &b, 0);
}

/* A file outside the spool that a reconnect's lookup reads. */
static int
landlock_file(int rs, const char *path)
{
	int	fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;	/* not there: nothing to read */
	rc = landlock_path(rs, fd, FS_READ_FILE);
	close(fd);
	return rc;
}

/*
 * ABI 1 cannot let a file move between directories (entries go to
 * failed/ by rename): from ABI 2 on, or not at all. Every right the
 * kernel knows is handled, so all but the ones granted are denied.
 * 1 when applied, 0 when the kernel has no (usable) Landlock.
 */
static int
landlock_on(const struct confine *cf, int *abi, struct ferr *e)
{
	struct ll_ruleset attr;
	struct ll_port	 port;
	size_t		 size = sizeof(attr.fs), i;
	uint64_t	 spool;
	int		 rs, rc = -1;

	*abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LL_VERSION);
	if (*abi < 2)
		return 0;
	memset(&attr, 0, sizeof(attr));
	attr.fs = (1ull << 14) - 1;		/* ABI 2: EXECUTE..REFER */
	if (*abi >= 3)
		attr.fs |= FS_TRUNCATE;
	if (*abi >= 5)
		attr.fs |= 1ull << 15;		/* IOCTL_DEV */
	if (*abi >= 4) {
		attr.net = NET_BIND | NET_CONNECT;
		size = 2 * sizeof(uint64_t);
	}
	if (*abi >= 6) {
		attr.scoped = SCOPE_ALL;
		size = sizeof(attr);
	}
	spool = (FS_READ_FILE | FS_WRITE_FILE | FS_READ_DIR |
	    FS_REMOVE_FILE | FS_MAKE_REG | FS_REFER | FS_TRUNCATE) & attr.fs;
	rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (rs == -1)
		return ferr_set(e, FE_OS, errno, "landlock");
	if ((cf->dirfd != -1 && landlock_path(rs, cf->dirfd, spool) == -1) ||
	    landlock_file(rs, "/etc/resolv.conf") == -1 ||
	    landlock_file(rs, "/etc/hosts") == -1) {
		ferr_set(e, FE_OS, errno, "landlock: rule");
		goto out;
	}
	for (i = 0; *abi >= 4 && i < cf->nports; i++) {
		port.allowed = NET_CONNECT;
		port.port = cf->ports[i];
		if (syscall(SYS_landlock_add_rule, rs, LL_NET, &port, 0) ==
		    -1) {
			ferr_set(e, FE_OS, errno, "landlock: port");
			goto out;
		}
	}
	if (syscall(SYS_landlock_restrict_self, rs, 0) == -1) {
		ferr_set(e, FE_OS, errno, "landlock");
		goto out;
	}
	rc = 1;
out:
	close(rs);
	return rc;
}
#else
static int
landlock_on(const struct confine *cf, int *abi, struct ferr *e)
{
	(void)cf;
	(void)e;
	*abi = 0;
	return 0;
}
#endif

int
confine_enter(const struct confine *cf, int sock, char *what, size_t size,
    struct ferr *e)
{
	char	buf[32];
	int	abi, rc;

	(void)sock;	/* seccomp and Landlock do not name fds */
	if (size > 0)
		what[0] = '\0';
	tzset();	/* musl reads /etc/localtime once, and keeps it */
	/* first: Landlock's restrict_self wants no_new_privs too */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return ferr_set(e, FE_OS, errno, "no_new_privs");
	said(what, size, "no_new_privs");
	if ((rc = landlock_on(cf, &abi, e)) == -1)
		return -1;
	if (rc == 1) {
		snprintf(buf, sizeof(buf), "landlock-abi%d", abi);
		said(what, size, buf);
	} else
		said(what, size, "no-landlock");
	if (seccomp_on(e) == -1)
		return -1;
	said(what, size, "seccomp");
	return 0;
}
#elif defined(__FreeBSD__)
/* The rights delivery uses on the spool's directories and their files. */
static int
limit_dir(int fd)
{
	cap_rights_t	r;

	if (fd == -1)
		return 0;
	cap_rights_init(&r, CAP_LOOKUP, CAP_READ, CAP_WRITE, CAP_CREATE,
	    CAP_SEEK, CAP_FSTAT, CAP_FSTATAT, CAP_FCNTL, CAP_FLOCK,
	    CAP_FSYNC, CAP_FTRUNCATE, CAP_FCHMOD, CAP_FUTIMES,
	    CAP_LINKAT_SOURCE, CAP_LINKAT_TARGET, CAP_RENAMEAT_SOURCE,
	    CAP_RENAMEAT_TARGET, CAP_UNLINKAT);
	return cap_rights_limit(fd, &r);
}

int
confine_enter(const struct confine *cf, int sock, char *what, size_t size,
    struct ferr *e)
{
	cap_rights_t	r;

	if (size > 0)
		what[0] = '\0';
	tzset();
	if (limit_dir(cf->dirfd) == -1 || limit_dir(cf->faileddirfd) == -1)
		return ferr_set(e, FE_OS, errno, "cap_rights_limit spool");
	cap_rights_init(&r, CAP_READ, CAP_WRITE, CAP_EVENT, CAP_FSTAT,
	    CAP_FCNTL, CAP_GETSOCKOPT, CAP_SETSOCKOPT, CAP_GETPEERNAME,
	    CAP_GETSOCKNAME, CAP_SHUTDOWN);
	if (sock != -1 && cap_rights_limit(sock, &r) == -1)
		return ferr_set(e, FE_OS, errno, "cap_rights_limit socket");
	if (cap_enter() == -1)
		return ferr_set(e, FE_OS, errno, "cap_enter");
	said(what, size, "capsicum");
	return 0;
}
#else
int
confine_enter(const struct confine *cf, int sock, char *what, size_t size,
    struct ferr *e)
{
	(void)cf;
	(void)sock;
	if (size > 0)
		what[0] = '\0';
	return ferr_set(e, FE_OS, ENOSYS, "no confinement on this system");
}
#endif

/*
 * A confined process killed (SIGSYS for a violation) cannot say so, and
 * a cron job's -q has no parent that waits. So each one leaves a marker
 * in the spool that it holds locked until confine_end removes it: one
 * whose lock is free belongs to a process that is gone. The next
 * delivery says so, once, and removes it.
 */
static void
mark_dead(int dirfd)
{
	const size_t	 k = sizeof(MARK) - 1;
	struct dirent	*de;
	DIR		*d;
	int		 fd;

	if ((fd = dup(dirfd)) == -1)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	rewinddir(d);	/* a dup shares the offset spool's listing left */
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, MARK, k) != 0)
			continue;
		fd = spool_file_open(dirfd, de->d_name, O_RDONLY, 0);
		if (fd == -1)
			continue;
		if (plat_lock(fd, PLAT_LOCK_NB) == 0) {
			log_warn("delivery process %s ended while confined, "
			    "before it was done: killed (by SIGSYS if it broke "
			    "its confinement; see the kernel's audit log); its "
			    "messages stay queued", de->d_name + k);
			unlinkat(dirfd, de->d_name, 0);
		}
		close(fd);
	}
	closedir(d);
}

/* Leave our marker, locked (under another name until it is). */
static void
mark_self(struct confine *cf)
{
	char	tmp[CONFINE_MARK_SIZE];
	long	pid = (long)getpid();

	cf->markfd = -1;
	snprintf(tmp, sizeof(tmp), MARK_NEW "%ld", pid);
	snprintf(cf->mark, sizeof(cf->mark), MARK "%ld", pid);
	(void)unlinkat(cf->dirfd, tmp, 0);	/* an older process's pid */
	cf->markfd = spool_file_open(cf->dirfd, tmp,
	    O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (cf->markfd == -1)
		return;
	if (plat_lock(cf->markfd, PLAT_LOCK_NB) == -1 ||
	    renameat(cf->dirfd, tmp, cf->dirfd, cf->mark) == -1) {
		unlinkat(cf->dirfd, tmp, 0);
		close(cf->markfd);
		cf->markfd = -1;
	}
}

void
confine_end(struct confine *cf)
{
	if (!cf->done || cf->markfd == -1)
		return;
	unlinkat(cf->dirfd, cf->mark, 0);
	close(cf->markfd);
	cf->markfd = -1;
}

void
confine_ready(void *arg, int sock)
{
	struct confine	*cf = arg;
	struct ferr	 e;
	char		 what[CONFINE_WHAT_SIZE];

	if (!cf->on || cf->done)
		return;
	cf->done = 1;
	cf->markfd = -1;
	if (cf->dirfd != -1) {
		mark_dead(cf->dirfd);
		mark_self(cf);
	}
	if (confine_enter(cf, sock, what, sizeof(what), &e) == -1)
		log_warn("delivery not confined: %s%s%s", e.text,
		    what[0] ? "; applied: " : "", what);
	else
		log_debug("delivery confined: %s", what);
}
