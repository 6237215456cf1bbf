/*
 * msg.h: reading a message from a caller: the header block, addresses
 * in To/Cc/Bcc for -t, the end-of-input rules of sendmail. The address
 * parser does no I/O.
 */
#ifndef FERRY_MSG_H
#define FERRY_MSG_H
#include <stddef.h>
#include <sys/types.h>
#include "ferr.h"

#define MSG_ADDR_SIZE	256	/* RFC 5321 4.5.3.1.3: a path, 256 */
#define MSG_HEADER_MAX	(1024 * 1024)	/* the whole header block */

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
 * header: printable, no space outside quotes, not starting with '-',
 * at most MSG_ADDR_SIZE - 1 bytes. FE_DATA with the reason.
 */
int	msg_addr_check(const char *addr, struct ferr *e);

struct msg_opts {
	int	dot_ends;	/* a lone "." line ends input (no -i) */
	int	extract;	/* -t: take recipients from To/Cc/Bcc */
};

struct msg_info {
	off_t			size;	/* bytes written to out */
	off_t			wire;	/* at most this many with CRLF */
	int			eightbit;
	struct msg_addrs	rcpts;	/* from the headers, with -t */
};

/*
 * Copy the message on fd in to fd out. With -t, the addresses of To,
 * Cc and Bcc go to info->rcpts and Bcc is left out. A NUL byte or a
 * header block over MSG_HEADER_MAX is FE_DATA; write errors FE_TEMP.
 * info->rcpts must be initialised by the caller.
 */
int	msg_read(int in, int out, const struct msg_opts *o,
	    struct msg_info *info, struct ferr *e);
#endif
