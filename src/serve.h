/*
 * serve.h: the server side of SMTP for `sendmail -bs` (RFC 5321, with
 * PIPELINING RFC 2920, 8BITMIME RFC 6152, ENHANCEDSTATUSCODES RFC
 * 2034). A state machine with no I/O: the caller feeds it the bytes
 * read from stdin, writes the replies it makes to stdout, and keeps the
 * message through callbacks. No AUTH or STARTTLS: the peer is a local
 * process on a pipe.
 */
#ifndef FERRY_SERVE_H
#define FERRY_SERVE_H
#include <stddef.h>
#include "ferr.h"
#include "msg.h"

#define SERVE_LINE_SIZE		1000	/* RFC 5321 4.5.3.1.6, with CRLF */
#define SERVE_REPLY_SIZE	512	/* RFC 5321 4.5.3.1.5, with CRLF */
#define SERVE_HOST_SIZE		256	/* RFC 5321 4.5.3.1.2: 255 + NUL */
#define SERVE_RCPT_MAX		1000	/* RFC 5321 4.5.3.1.8 asks >= 100 */
#define SERVE_DATA_SIZE		4096	/* message bytes per data call */

/*
 * What the caller does with a message. All four must be set; each
 * returns 0 or -1 with e filled.
 */
struct serve_ops {
	/* DATA was accepted: open a spool entry */
	int	(*begin)(void *arg, struct ferr *e);
	/* message bytes, dot-unstuffed, CRLF made LF; any split */
	int	(*data)(void *arg, const char *buf, size_t len,
		    struct ferr *e);
	/*
	 * The final dot: commit the entry for from ("" for <>) and
	 * rcpts. reply (replysize bytes) gets the reply line without
	 * CRLF, e.g. "250 2.0.0 queued as ID"; left empty it is
	 * "250 2.0.0 Ok". On -1 the client gets "451 4.3.0 " e->text,
	 * or "554 5.6.0 " for FE_DATA (the content itself is bad).
	 */
	int	(*end)(void *arg, const char *from,
		    const struct msg_addrs *rcpts, char *reply,
		    size_t replysize, struct ferr *e);
	/*
	 * Drop the entry begin opened: called after data or end failed,
	 * and by serve_eof in the middle of DATA; never after an end
	 * that returned 0.
	 */
	void	(*abort)(void *arg);
};

enum serve_state {
	SERVE_IDLE,		/* no transaction */
	SERVE_MAIL,		/* MAIL taken; RCPTs may follow */
	SERVE_DATA,		/* reading the message */
	SERVE_DONE		/* QUIT answered or input ended */
};

struct serve {			/* caller owns it; fields private */
	enum serve_state	 state;
	size_t			 rcpt_max;	/* may be lowered after init */
	char			 host[SERVE_HOST_SIZE];
	char			 from[MSG_ADDR_SIZE];
	struct msg_addrs	 rcpts;
	char			 line[SERVE_LINE_SIZE];	/* a command */
	size_t			 linelen;
	int			 toolong;	/* skipping to the line end */
	int			 dot;		/* where DATA is in a line */
	int			 data_failed;	/* data said -1; e below */
	struct ferr		 data_err;
	char			 dbuf[SERVE_DATA_SIZE];
	size_t			 dlen;
};

/*
 * Start a session for hostname (cut at SERVE_HOST_SIZE - 1 bytes; NULL,
 * empty or with control characters: "localhost").
 */
void	serve_init(struct serve *sv, const char *hostname);
/* Append "220 host ESMTP ferry\r\n" to out at *len; -1 if no room. */
int	serve_greeting(struct serve *sv, char *out, size_t size, size_t *len,
	    struct ferr *e);
/*
 * Take input bytes, split anywhere, and append each reply in order at
 * out + *outlen (size bytes in all). Before taking a line that gets a
 * reply it needs SERVE_REPLY_SIZE bytes free; when they are not there
 * it stops, so *used (bytes taken) can be less than len: write out and
 * call again with the rest. Returns 0; 1 once QUIT was answered (the
 * caller ends; bytes after QUIT are not taken); -1 with e (FE_SOFTWARE)
 * when out is empty and still too small. A failed callback is not an
 * error here: the client gets a 451 and the transaction is dropped.
 */
int	serve_input(struct serve *sv, const char *in, size_t len,
	    size_t *used, char *out, size_t size, size_t *outlen,
	    const struct serve_ops *ops, void *arg, struct ferr *e);
/*
 * The session is over (input ended, QUIT, or -1 above): call abort if
 * a message was being read, and free the envelope. Call it once.
 */
void	serve_eof(struct serve *sv, const struct serve_ops *ops, void *arg);
#endif
