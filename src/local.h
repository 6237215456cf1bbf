/*
 * local.h: the local submission service, for a caller that could not
 * gain ferry's group (issue 24). Under no_new_privs (systemd's
 * NoNewPrivileges= or RestrictSUIDSGID=, a container's
 * no-new-privileges) or from a nosuid mount, exec does not apply the
 * setgid bit, so ferry's config and spool are closed to the caller.
 * The service (ferry-submit.socket with Accept=yes, inetd on FreeBSD)
 * runs `ferry -bs` as root on a unix socket; that ferry becomes the
 * peer the kernel names (see cli's serve_as_peer), so the sender trust
 * rules are the setgid ones. This side reads the message as sendmail
 * does and speaks SMTP (RFC 5321) to the service.
 */
#ifndef FERRY_LOCAL_H
#define FERRY_LOCAL_H
#include <stddef.h>
#include "ferr.h"

#define LOCAL_WHY_SIZE	128
#define LOCAL_REPLY_SIZE	512	/* RFC 5321 4.5.3.1.5 */

struct local_msg {
	const char	*from;		/* -f; NULL: the caller's own */
	char *const	*rcpts;		/* recipient arguments, each a list */
	int		 nrcpts;
	int		 extract;	/* -t */
	int		 dot_ends;	/* a lone "." ends input (no -i) */
};

/*
 * 1 when we run as a user (not root) whose exec did not grant the
 * group our program file is setgid to, and that group is not among
 * the user's own: why (whysize bytes) then says why. 0 otherwise,
 * and when it cannot be told (no /proc).
 */
int	local_group_lost(char *why, size_t whysize);
/*
 * Connect to the service's socket at path: the fd, or -1 with e
 * (FE_TEMP) when no service listens there.
 */
int	local_connect(const char *path, struct ferr *e);
/*
 * Read the message on fd in (-t and -i as m says) into a temporary
 * file, then submit it over sock: MAIL FROM m->from (the caller's user
 * name without -f, which the service takes as "no sender claimed"),
 * a RCPT for each recipient, DATA. The service's last reply goes to
 * reply (replysize bytes). 0, or -1 with e: FE_TEMP for a 4xx or a
 * service that went away, FE_DATA for a 5xx, FE_USAGE for no
 * recipients. sock stays open; the caller closes it.
 */
int	local_submit(int sock, int in, const struct local_msg *m,
	    char *reply, size_t replysize, struct ferr *e);
#endif
