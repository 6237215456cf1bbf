/*
 * dsn.h: bounces. A delivery status notification (RFC 3464
 * multipart/report) telling a sender which recipients failed, why, and
 * with which headers. Writes to a file descriptor; no sockets.
 */
#ifndef FERRY_DSN_H
#define FERRY_DSN_H
#include <stddef.h>
#include "ferr.h"

#define DSN_HEADERS_MAX	(64 * 1024)	/* original headers quoted */

struct dsn_rcpt {
	const char	*addr;
	const char	*reply;	/* the server's reply, or why it expired */
	int		 expired;
};

struct dsn_info {
	const char	*id;		/* queue ID of the failed message */
	const char	*sender;	/* who gets the bounce */
	const char	*host;		/* this host: Reporting-MTA */
	const char	*domain;	/* MAILER-DAEMON@domain */
	const char	*relay;		/* the smart host: Remote-MTA */
	long long	 arrival;
	long long	 now;
};

/* The RFC 3463 status for a reply ("550 5.1.1 ..." gives "5.1.1"). */
void	dsn_status(const char *reply, int expired, char *out, size_t size);
/*
 * Write the bounce for the message on fd orig (its headers are quoted,
 * never its body) to fd out. FE_TEMP when writing fails.
 */
int	dsn_write(int out, const struct dsn_info *info,
	    const struct dsn_rcpt *r, size_t n, int orig, struct ferr *e);
#endif
