/*
 * smtp.h: the SMTP client (RFC 5321) with STARTTLS (RFC 3207), AUTH
 * (RFC 4954), PIPELINING (RFC 2920), CHUNKING (RFC 3030), SIZE (RFC
 * 1870) and 8BITMIME. The reply parser and dot-stuffing are pure, for
 * tests; the session talks to the smart host. Nothing here allocates.
 *
 * Round trips: with PIPELINING, AUTH PLAIN goes with the first
 * envelope, one message's end goes with the next one's envelope, QUIT
 * goes with the last message's end, and under CHUNKING a queue of
 * messages streams with up to SMTP_WINDOW of them unanswered. Without
 * PIPELINING every reply is read before the next command (RFC 2920 2;
 * OpenSMTPD refuses early input). QUIT's 221 is never waited for.
 */
#ifndef FERRY_SMTP_H
#define FERRY_SMTP_H
#include <stddef.h>
#include <sys/types.h>
#include "conf.h"
#include "ferr.h"
#include "net.h"
#include "secret.h"
#include "tls.h"

#define SMTP_REPLY_LINE_SIZE	512	/* RFC 5321 4.5.3.1.5, with CRLF */
#define SMTP_PATH_SIZE		256	/* RFC 5321 4.5.3.1.3 */
#define SMTP_TEXT_SIZE		2048	/* reply text kept, lines joined */
#define SMTP_IN_SIZE		4096
#define SMTP_OUT_SIZE		16384
#define SMTP_LINE_MAX		4096	/* longest reply line read */
/*
 * A reply of more lines is an attack or a broken server (an EHLO
 * reply has about 15): endless "250-" lines must not hold ferry.
 */
#define SMTP_REPLY_LINES_MAX	128

/* A reply: code and its lines' text, joined by '\n'. */
struct smtp_reply {
	int	code;		/* 0 until the first line */
	int	nlines;
	int	done;		/* the last line was read */
	size_t	len;
	char	text[SMTP_TEXT_SIZE];
};

void	smtp_reply_init(struct smtp_reply *r);
/*
 * Add one reply line (without CRLF). Returns 1 when it was the last
 * line, 0 when more follow, -1 when it is not a reply line or its code
 * differs from the first line's. Text past SMTP_TEXT_SIZE is dropped.
 */
int	smtp_reply_add(struct smtp_reply *r, const char *line, size_t len);

/*
 * The commands whose replies come back in a pipeline, and what each
 * may be answered (RFC 5321 4.3.2, RFC 4954, RFC 3030).
 */
enum smtp_step {
	SMTP_STEP_AUTH,		/* AUTH PLAIN with its initial response */
	SMTP_STEP_RSET,
	SMTP_STEP_MAIL,
	SMTP_STEP_RCPT,
	SMTP_STEP_DATA,		/* the DATA command: its 354 */
	SMTP_STEP_END		/* the end of data, or a BDAT chunk */
};
/*
 * 1 when code is step's success (235 AUTH; 2xx but 221 RSET; 250 MAIL,
 * end of data and BDAT; 250 or 251 RCPT; 354 DATA), 0 when it is a
 * refusal (4xx, 5xx), -1 when it cannot be step's reply at all (a 221,
 * a 354 but to DATA, any other 2xx or 3xx): the replies are out of
 * step with the commands, one lost or one too many.
 */
int	smtp_reply_fits(enum smtp_step step, int code);

/* EHLO extensions (RFC 5321 4.1.1.1). */
#define SMTP_EXT_STARTTLS	0x01u
#define SMTP_EXT_PIPELINING	0x02u
#define SMTP_EXT_8BITMIME	0x04u
#define SMTP_EXT_SIZE		0x08u
#define SMTP_EXT_AUTH		0x10u
#define SMTP_EXT_SMTPUTF8	0x20u
#define SMTP_EXT_DSN		0x40u
#define SMTP_EXT_CHUNKING	0x80u	/* RFC 3030 */

struct smtp_ext {
	unsigned	flags;
	unsigned long	size;	/* SIZE limit; 0 = none given */
	unsigned	auth;	/* CONF_AUTH_* offered */
};

/* Read the extensions from an EHLO reply's text. */
void	smtp_ext_parse(struct smtp_ext *x, const struct smtp_reply *r);

/*
 * Message data for DATA: any of CRLF, bare LF and bare CR in, CRLF out
 * (RFC 5321 2.3.8: a bare CR never reaches the wire), a '.' starting a
 * line doubled (RFC 5321 4.5.2). For BDAT (smtp_crlf_init) the same
 * line ends without the dots (RFC 3030 2). State carries across calls;
 * the first call starts at a line start.
 */
struct smtp_dot {
	int	bol;		/* at the start of a line */
	int	cr;		/* the last byte was CR, sent as CRLF */
	int	stuff;		/* double leading dots (DATA) */
};

#define SMTP_DOT_OUT_SIZE(n)	(2 * (n) + 3)	/* worst case for n in */

void	smtp_dot_init(struct smtp_dot *d);
void	smtp_crlf_init(struct smtp_dot *d);
/* Convert in to out (size >= SMTP_DOT_OUT_SIZE(inlen)); returns length. */
size_t	smtp_dot_stuff(struct smtp_dot *d, const char *in, size_t inlen,
	    char *out);
/*
 * The end of data: CRLF if the data did not end a line, then ".CRLF"
 * (for DATA; nothing more for BDAT). At most 5 bytes.
 */
size_t	smtp_dot_end(struct smtp_dot *d, char *out);

/* Called with each line sent ('>') or received ('<'), AUTH redacted. */
typedef void smtp_trace_fn(void *arg, char dir, const char *line,
    size_t len);

/* A recipient and what the server said of it. */
struct smtp_rcpt {
	const char	*addr;
	int		 code;	/* the RCPT reply code; 0 = not tried */
	char		 text[SMTP_REPLY_LINE_SIZE];
};

/*
 * One message on its way (smtp_send), until done: the caller owns it
 * and keeps it and its rcpt array in place until then.
 */
struct smtp_txn {
	struct smtp_rcpt	*rcpt;
	size_t			 n;
	int			 done;	/* every reply is in, or never comes */
	int			 rc;	/* when done: 0 taken (2xx rcpts) */
	int			 auth;	/* when done: AUTH's refusal decided */
	/* when done: the session broke (network, timeout, 421, replies out
	 * of step) before all of its replies were read */
	int			 broke;
	/* when broke: its end of data went out, so the server may hold it */
	int			 unsure;
	struct ferr		 why;	/* when rc is -1 */
	char			 reply[SMTP_REPLY_LINE_SIZE];	/* the last */
	/* private */
	size_t			 sent, got;	/* replies due, read */
	unsigned		 chunks;	/* BDAT chunks sent */
	int			 all_sent, go, ended, failed, data_failed;
	int			 mail_code;
};

#define SMTP_WINDOW	16	/* messages with replies due, at most */
#define SMTP_CHUNKS_DUE	32	/* BDAT replies left unread, at most */
#define SMTP_WAIT_MAX	(2 * SMTP_WINDOW + 4)

enum { SMTP_WAIT_TXN, SMTP_WAIT_AUTH, SMTP_WAIT_RSET };

struct smtp_wait {		/* a reply due, oldest first */
	int		 kind;
	struct smtp_txn	*t;	/* SMTP_WAIT_TXN */
};

/* Called once connected, before the first byte is read (smtp_set_ready). */
typedef void smtp_ready_fn(void *arg, int fd);
/* Called when a message's outcome is known (t done), once for each. */
typedef void smtp_done_fn(void *arg, struct smtp_txn *t);

struct smtp_session {	/* caller owns it, zeroed (calloc) first; fields private */
	const struct conf	*conf;
	const struct tls_trust	*trust;
	smtp_trace_fn		*trace;
	void			*trace_arg;
	int			 fd;
	int			 cache_dirfd;	/* smtp_set_cache */
	smtp_done_fn		*done_fn;	/* smtp_set_done */
	void			*done_arg;
	smtp_ready_fn		*ready_fn;	/* smtp_set_ready */
	void			*ready_arg;
	/* kept for ready_fn: each host's, a bit each in has_secret */
	unsigned		 has_secret;
	int			 secrets_got;	/* tried every host's */
	char			 secret[CONF_HOSTS_MAX][SECRET_SIZE];
	struct ferr		 secret_err[CONF_HOSTS_MAX];
	char			 peer[NET_PEER_SIZE];
	struct smtp_ext		 ext;
	/* EHLO's refusal when the session fell back to HELO; or "" */
	char			 ehlo_refused[SMTP_REPLY_LINE_SIZE];
	unsigned		 mech;		/* AUTH used; 0 = none */
	int			 broken;	/* a read or write failed */
	int			 need_rset;	/* a MAIL may stand */
	int			 quit_sent;
	int			 auth_failed;	/* the pipelined AUTH */
	struct ferr		 auth_err;
	struct smtp_wait	 wait[SMTP_WAIT_MAX];
	size_t			 whead, nwait;
	size_t			 window;	/* messages in flight, at most */
	struct smtp_reply	 reply;
	struct tls_conn		 conn;
	size_t			 inlen, inoff;
	size_t			 outlen;
	char			 in[SMTP_IN_SIZE];
	char			 out[SMTP_OUT_SIZE];
	char			 data[SMTP_OUT_SIZE];
	char			 stuffed[SMTP_DOT_OUT_SIZE(SMTP_OUT_SIZE)];
};

#define SMTP_BODY_8BIT	0x01u	/* ask for BODY=8BITMIME */
#define SMTP_SEND_LAST	0x02u	/* QUIT after it: no message follows */

/* RFC 3461 DSN requests, passed on when the server offers DSN. */
struct smtp_dsn {
	const char	*notify;	/* "NEVER", "SUCCESS,FAILURE"; or "" */
	const char	*ret;		/* "FULL", "HDRS"; or "" */
	const char	*envid;		/* printable ASCII; or "" */
};

/*
 * Connect, read the banner, EHLO, STARTTLS or implicit TLS as the
 * config says, and AUTH when a user is set. A 5xx to EHLO falls back
 * to HELO (RFC 5321 4.1.1.1), without extensions: then `tls starttls`
 * fails with FE_TLS and a user set with FE_CONFIG, at once, with the
 * server's refusal in the text. trace may be NULL. early,
 * when not NULL and under way, is a net_start to the smart host made
 * before: it is finished instead of a new connect. On
 * failure the connection is closed; e says why (FE_TEMP for 4xx and
 * network trouble, FE_PERM for 5xx, FE_TLS, FE_PROTOCOL, FE_CONFIG).
 */
int	smtp_open(struct smtp_session *s, const struct conf *c,
	    const struct tls_trust *trust, smtp_trace_fn *trace,
	    void *trace_arg, struct net_conn *early, struct ferr *e);
/*
 * Keep TLS sessions in folder dirfd (the spool; -1 for none) so that
 * the next connection resumes them (tls_cache). Set it once, before
 * the first smtp_open; smtp_open leaves it alone.
 */
void	smtp_set_cache(struct smtp_session *s, int dirfd);
/*
 * Have fn called as each message gets done, while later replies may
 * still be unread: the caller records an outcome as soon as it is
 * known. fn must not use s, nor free t before smtp_send, smtp_wait or
 * smtp_close returns. Set it once, like the cache; NULL for none.
 */
void	smtp_set_done(struct smtp_session *s, smtp_done_fn *fn, void *arg);
/*
 * Have fn called by each smtp_open once it is connected, before a byte
 * is read, so that the caller can give up what parsing the network
 * needs not (confine_ready). With fn set, the password or token of
 * every smart host in the config is got before fn's first call and
 * kept for the later sessions, to any of them, which may no longer
 * read a file or run password_command; fn NULL wipes them.
 */
void	smtp_set_ready(struct smtp_session *s, smtp_ready_fn *fn, void *arg);
/*
 * Start one message on t: MAIL, RCPT for each of rcpt[0..n), and the
 * data read from fd `msg` (size bytes; CRLF, LF or CR line ends) as
 * DATA or, when the server offers CHUNKING and PIPELINING, as BDAT
 * chunks. Commands are pipelined behind what is in flight, replies are
 * read as they are needed: t is done (its rcpt codes, rc and why set)
 * by this call, a later smtp_send, smtp_wait or smtp_close. Under DATA
 * the call returns once the data is out; under BDAT, when fewer than
 * SMTP_WINDOW messages are in flight. With SMTP_SEND_LAST and
 * PIPELINING, QUIT goes out with the data. dsn may be NULL. A message the server cannot
 * take (SIZE, SMTPUTF8) is done at once, nothing sent. Returns -1 with
 * e only when the session broke: then every message in flight is
 * done, and the session must be closed.
 */
int	smtp_send(struct smtp_session *s, struct smtp_txn *t,
	    const char *from, struct smtp_rcpt *rcpt, size_t n, int msg,
	    off_t size, unsigned flags, const struct smtp_dsn *dsn,
	    struct ferr *e);
/*
 * Read replies until the oldest message in flight is done (all:
 * until nothing is due). -1 with e when the session broke.
 */
int	smtp_wait(struct smtp_session *s, int all, struct ferr *e);
/* Messages started and not done. */
size_t	smtp_inflight(const struct smtp_session *s);
/*
 * Read all that is due; -1 with e when the session broke or the
 * pipelined AUTH was refused. For -bv, which sends no message.
 */
int	smtp_check(struct smtp_session *s, struct ferr *e);
/*
 * 0 when the session cannot take another message: it broke, QUIT
 * went, AUTH was refused, or the server spoke or hung up while idle
 * (RFC 5321 3.8: a 421 between messages).
 */
int	smtp_idle_ok(const struct smtp_session *s);
/*
 * Read the replies still due, so messages in flight get done; then
 * QUIT (best effort; not after a failure), without waiting for its
 * reply, and close the connection.
 */
void	smtp_close(struct smtp_session *s);
/*
 * One line on an open session for -bv: the peer, TLS, the AUTH
 * mechanism used and the extensions offered.
 */
void	smtp_describe(const struct smtp_session *s, char *out, size_t size);
/* "host[address]:port" of the connected server. */
const char *smtp_peer(const struct smtp_session *s);
#endif
