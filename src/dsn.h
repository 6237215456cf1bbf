/*
 * dsn.h: bounces. A delivery status notification (RFC 3464
 * multipart/report) telling a sender which recipients failed, why, and
 * in which messages. One failed message: its headers are quoted as the
 * third part. Several (merged within bounce_window): each is listed
 * with its queue ID, Subject and Message-ID in the text part and its
 * recipients in one delivery-status part, and no headers part, since
 * RFC 6522 allows one. Writes to a file descriptor; no sockets.
 */
#ifndef FERRY_DSN_H
#define FERRY_DSN_H
#include <stddef.h>
#include "ferr.h"

#define DSN_HEADERS_MAX	(64 * 1024)	/* original headers quoted */
#define DSN_MSGS_MAX	100		/* failed messages in one bounce */
#define DSN_FIELD_MAX	200		/* a Subject or Message-ID shown */

struct dsn_rcpt {
	const char	*addr;
	const char	*reply;	/* the server's reply, or why it expired */
	int		 expired;
};

struct dsn_msg {		/* one failed message */
	const char		*id;		/* its queue ID */
	long long		 arrival;
	const struct dsn_rcpt	*r;		/* its failed recipients */
	size_t			 n;
	int			 orig;		/* its d file, for headers */
};

struct dsn_info {
	const char	*id;		/* the bounce's own queue ID */
	const char	*sender;	/* who gets the bounce */
	const char	*host;		/* this host: Reporting-MTA */
	const char	*domain;	/* MAILER-DAEMON@domain */
	/* the smart host: Remote-MTA; NULL with several (failover): the
	 * spool does not keep which one refused, so none is named */
	const char	*relay;
	long long	 now;
};

/* The RFC 3463 status for a reply ("550 5.1.1 ..." gives "5.1.1"). */
void	dsn_status(const char *reply, int expired, char *out, size_t size);
/*
 * Write the bounce for the failed messages m[0..n) (1 <= n <=
 * DSN_MSGS_MAX) to fd out; their headers are read, never their
 * bodies. FE_TEMP when writing fails.
 */
int	dsn_write(int out, const struct dsn_info *info,
	    const struct dsn_msg *m, size_t n, struct ferr *e);
#endif
