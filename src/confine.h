/*
 * confine.h: the delivery process gives up what it will not need
 * before it reads a byte from the smart host (README "Confinement").
 * By then it has resolved the host, connected, opened the spool's
 * directory, the log socket and the time zone, and holds the password:
 * what parses the network (the SMTP replies, TLS, x509) can afterwards
 * read and write the spool and talk on sockets, and nothing else.
 *
 *   Linux: PR_SET_NO_NEW_PRIVS; a seccomp-bpf allowlist (the arch is
 *     checked; anything else kills the process); Landlock, ABI 2 or
 *     later, limiting the file system to the spool (plus read-only
 *     /etc/resolv.conf and /etc/hosts for a reconnect's lookup) and,
 *     ABI 4 on, TCP connect to the smart host's port.
 *   FreeBSD: Capsicum; the spool's directories and the socket keep
 *     only the rights delivery needs, then cap_enter().
 *
 * One-way: the process stays confined until it exits.
 */
#ifndef FERRY_CONFINE_H
#define FERRY_CONFINE_H
#include <stddef.h>
#include "ferr.h"

#define CONFINE_WHAT_SIZE	96
#define CONFINE_MARK_SIZE	40	/* "confined." + a pid */
#define CONFINE_PORTS_MAX	4	/* one per smart host */

/* What the caller keeps open across the confinement. */
struct confine {		/* caller owns it; fields private */
	int		on;		/* `confine yes` */
	int		done;		/* entered (or tried): never twice */
	int		dirfd;		/* the spool, or -1 */
	int		faileddirfd;	/* its failed/, or -1 */
	unsigned	ports[CONFINE_PORTS_MAX];	/* the smart hosts' */
	size_t		nports;
	int		markfd;		/* our marker, locked; valid if done */
	char		mark[CONFINE_MARK_SIZE];
};

/*
 * Ready cf for confine_ready: on is the config's `confine`; dirfd and
 * faileddirfd the spool's directories (-1 for none); port the smart
 * host's. Nothing happens yet.
 */
void	confine_init(struct confine *cf, int on, int dirfd, int faileddirfd,
	    unsigned port);
/*
 * Let a later session connect to port too (another smart host's), where
 * the confinement can say so (Landlock). Before confine_ready; more
 * than CONFINE_PORTS_MAX ports are not kept.
 */
void	confine_port(struct confine *cf, unsigned port);
/*
 * 0 when this process, confined, can no longer connect anywhere new:
 * FreeBSD's capability mode. Then a next session waits for a next
 * process; elsewhere 1.
 */
int	confine_can_connect(const struct confine *cf);
/*
 * smtp_set_ready's hook (arg is a struct confine): sock is connected
 * and nothing has been read from it. Confines the process the first
 * time it is called with cf->on, and logs what it did (log_debug) or
 * why it could not (log_warn: the kernel lacks it; delivery goes on).
 * First it logs (log_warn) and removes the marker of each confined
 * process that died before confine_end (a seccomp violation kills),
 * and leaves its own: "confined.PID" in the spool, locked while the
 * process lives.
 */
void	confine_ready(void *arg, int sock);
/* The process is done: remove its marker. Nothing when never confined. */
void	confine_end(struct confine *cf);
/*
 * Confine now, as confine_ready does: cf's directories stay usable,
 * sock (-1 for none) is the connection. On success 0 and what was
 * applied in what ("seccomp landlock-abi6"); -1 with e when a step
 * failed (the ones before it stay applied).
 */
int	confine_enter(const struct confine *cf, int sock, char *what,
	    size_t size, struct ferr *e);
#endif
