/*
 * msg.h: reading a message from a caller: the header block, addresses
 * in To/Cc/Bcc for -t, the end-of-input rules of sendmail. The address
 * parser does no I/O.
 */
#ifndef FERRY_MSG_H
#define FERRY_MSG_H
#include <stddef.h>
#include <sys/types.h>
#include <time.h>
#include "ferr.h"

#define MSG_ADDR_SIZE	256	/* RFC 5321 4.5.3.1.3: a path, 256 */
#define MSG_HEADER_MAX	(1024 * 1024)	/* the whole header block */
#define MSG_LINE_MAX	998	/* RFC 5322 2.1.1: a line, no CRLF */
#define MSG_NAME_MAX	256	/* a full name (-F) for From, bytes */

struct msg_addrs {		/* a list of addresses; malloc'd */
	char	**v;
	size_t	  n;
	size_t	  size;
};

void	msg_addrs_init(struct msg_addrs *a);
/* Append a copy of addr (len bytes), unless it is already there. */
int	msg_addrs_add(struct msg_addrs *a, const char *addr, size_t len,
	    struct ferr *e);
void	msg_addrs_free(struct msg_addrs *a);
/*
 * Parse an RFC 5322 address-list (a To/Cc/Bcc value, unfolded or not):
 * display names, comments, quoted strings, angle addresses, groups.
 * Each addr-spec is appended to out. FE_DATA when one is malformed.
 */
int	msg_parse_addrs(const char *value, size_t len, struct msg_addrs *out,
	    struct ferr *e);
/*
 * Check an envelope address given on the command line or found in a
 * header: printable, no space outside quotes (a quoted-pair counts as
 * quoted), not starting with '-', at most one '@' outside quotes and
 * then text on both sides of it, at most MSG_ADDR_SIZE - 1 bytes.
 * FE_DATA with the reason.
 */
int	msg_addr_check(const char *addr, struct ferr *e);

struct msg_opts {
	int	 dot_ends;	/* a lone "." line ends input (no -i) */
	int	 extract;	/* -t: take recipients from To/Cc/Bcc */
	int	 fixup;		/* add Date, Message-ID, From if missing */
	/* the envelope sender, for From; NULL or "" adds no From */
	const char *from_addr;
	const char *full_name;	/* -F: From's display name, or NULL */
	int	 force_from;	/* replace From; the old one to Reply-To */
	const char *masquerade;	/* local addresses in From/To/Cc go here */
	const char *const *local;	/* names meaning this host */
	size_t	 nlocal;
	const char *warning;	/* an X-Authentication-Warning, or NULL */
	/* Message-ID's right side; NULL or not a domain: "localhost" */
	const char *host;
	time_t	 now;		/* for Date, Message-ID; 0: time(NULL) */
};

/* msg_info.added: what fix-up wrote (RFC 6409 8.1-8.3) */
#define MSG_ADDED_DATE	0x1
#define MSG_ADDED_MSGID	0x2
#define MSG_ADDED_FROM	0x4

struct msg_info {
	off_t			size;	/* bytes written to out */
	off_t			wire;	/* at most this many with CRLF */
	int			eightbit;
	int			added;	/* MSG_ADDED_* */
	struct msg_addrs	rcpts;	/* from the headers, with -t */
};

/*
 * Copy the message on fd in to fd out. With -t, the addresses of To,
 * Cc and Bcc go to info->rcpts and Bcc is left out. With o->fixup, a
 * missing Date, Message-ID or From (o->from_addr, named o->full_name)
 * is added after the other fields. A header line over MSG_LINE_MAX is
 * folded at white space, a longer run without it cut (line end and a
 * space put in). A body line over it makes a single-part text body
 * not yet encoded quoted-printable (out must be readable and seekable,
 * as a spool file is; MIME fields added or replaced); in any other
 * body such a line is cut like a header run.
 * A first line that is an mbox separator ("From addr <date>", with a
 * time of day) is dropped. The first line starts the body if it is not
 * a field; FE_DATA for a
 * later header line that is neither field nor continuation, a bare CR
 * in a header line, a NUL byte, a header block over MSG_HEADER_MAX,
 * a bad o->from_addr or a full name over MSG_NAME_MAX; write errors
 * FE_TEMP. info->rcpts must be initialised by the caller; on failure
 * out holds part of the message.
 */
int	msg_read(int in, int out, const struct msg_opts *o,
	    struct msg_info *info, struct ferr *e);
/*
 * The bytes fd's first size bytes take on the wire, where each LF
 * becomes CRLF, into *wire. FE_TEMP when it cannot reread them.
 */
int	msg_wire(int fd, off_t size, off_t *wire, struct ferr *e);
#endif
