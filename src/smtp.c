#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "auth.h"
#include "plat.h"
#include "secret.h"
#include "smtp.h"

/* ---- replies ---- */

void
smtp_reply_init(struct smtp_reply *r)
{
	r->code = 0;
	r->nlines = 0;
	r->done = 0;
	r->len = 0;
	r->text[0] = '\0';
}

int
smtp_reply_add(struct smtp_reply *r, const char *line, size_t len)
{
	size_t	n;
	int	code;

	/* RFC 5321 4.2: three digits, then '-' (more) or ' ' / end (last) */
	if (len < 3 || !isdigit((unsigned char)line[0]) ||
	    !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]) ||
	    line[0] < '2' || line[0] > '5')
		return -1;
	if (len > 3 && line[3] != '-' && line[3] != ' ')
		return -1;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + line[2] - '0';
	if (r->nlines > 0 && code != r->code)
		return -1;
	r->code = code;
	n = len > 4 ? len - 4 : 0;
	if (r->nlines > 0 && r->len + 1 < sizeof(r->text))
		r->text[r->len++] = '\n';
	if (n > sizeof(r->text) - 1 - r->len)
		n = sizeof(r->text) - 1 - r->len;
	memcpy(r->text + r->len, line + 4, n);
	r->len += n;
	r->text[r->len] = '\0';
	r->nlines++;
	r->done = len == 3 || line[3] == ' ';
	return r->done;
}

int
smtp_reply_fits(enum smtp_step step, int code)
{
	/* 421 too: the caller then ends the session (RFC 5321 3.8) */
	if (code >= 400 && code <= 599)
		return 0;
	switch (step) {
	case SMTP_STEP_AUTH:
		return code == 235 ? 1 : -1;
	case SMTP_STEP_RSET:
		return code / 100 == 2 && code != 221 ? 1 : -1;
	case SMTP_STEP_RCPT:
		return code == 250 || code == 251 ? 1 : -1;
	case SMTP_STEP_DATA:
		return code == 354 ? 1 : -1;
	case SMTP_STEP_MAIL:
	case SMTP_STEP_END:
	default:
		return code == 250 ? 1 : -1;
	}
}

/* Is this EHLO line the keyword kw, alone or followed by a space? */
static int
keyword(const char *line, size_t len, const char *kw, const char **arg,
    size_t *arglen)
{
	size_t	k = strlen(kw);

	if (len < k || strncasecmp(line, kw, k) != 0 ||
	    (len > k && line[k] != ' ' && line[k] != '='))
		return 0;
	*arg = line + (len > k ? k + 1 : k);
	*arglen = len > k ? len - k - 1 : 0;
	return 1;
}

void
smtp_ext_parse(struct smtp_ext *x, const struct smtp_reply *r)
{
	const char	*p = r->text, *end = r->text + r->len, *nl, *arg;
	size_t		 len, alen;
	int		 first = 1;

	x->flags = 0;
	x->size = 0;
	x->auth = 0;
	for (; p < end; p = nl + 1, first = 0) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		len = (size_t)(nl - p);
		if (first)	/* the greeting line names the server */
			continue;
		if (keyword(p, len, "STARTTLS", &arg, &alen))
			x->flags |= SMTP_EXT_STARTTLS;
		else if (keyword(p, len, "PIPELINING", &arg, &alen))
			x->flags |= SMTP_EXT_PIPELINING;
		else if (keyword(p, len, "8BITMIME", &arg, &alen))
			x->flags |= SMTP_EXT_8BITMIME;
		else if (keyword(p, len, "SMTPUTF8", &arg, &alen))
			x->flags |= SMTP_EXT_SMTPUTF8;
		else if (keyword(p, len, "DSN", &arg, &alen))
			x->flags |= SMTP_EXT_DSN;
		else if (keyword(p, len, "CHUNKING", &arg, &alen))
			x->flags |= SMTP_EXT_CHUNKING;
		else if (keyword(p, len, "SIZE", &arg, &alen)) {
			x->flags |= SMTP_EXT_SIZE;
			x->size = 0;
			while (alen > 0 && isdigit((unsigned char)*arg) &&
			    x->size < 1000000000000UL) {
				x->size = x->size * 10 + (unsigned)(*arg - '0');
				arg++;
				alen--;
			}
		} else if (keyword(p, len, "AUTH", &arg, &alen)) {
			/* "AUTH=" is what old Microsoft servers send */
			x->flags |= SMTP_EXT_AUTH;
			x->auth |= auth_mechs_parse(arg, alen);
		}
	}
}

/* ---- dot-stuffing ---- */

void
smtp_dot_init(struct smtp_dot *d)
{
	d->bol = 1;
	d->cr = 0;
	d->stuff = 1;
}

void
smtp_crlf_init(struct smtp_dot *d)
{
	smtp_dot_init(d);
	d->stuff = 0;
}

/*
 * RFC 5321 2.3.8: CR and LF only as CRLF. A bare CR or a bare LF
 * becomes CRLF, so that no server can read a line end the client did
 * not mean: "x<CR>.<CR><LF>MAIL FROM:" (SMTP smuggling) goes out as
 * "x<CR><LF>..<CR><LF>MAIL FROM:", a line of the body. A CR is sent
 * as CRLF at once; an LF right after it is then the same line end.
 */
size_t
smtp_dot_stuff(struct smtp_dot *d, const char *in, size_t inlen, char *out)
{
	size_t	i, o = 0;
	char	ch;

	for (i = 0; i < inlen; i++) {
		ch = in[i];
		if (ch == '\n' || ch == '\r') {
			if (!(ch == '\n' && d->cr)) {
				out[o++] = '\r';
				out[o++] = '\n';
			}
			d->bol = 1;
			d->cr = ch == '\r';
			continue;
		}
		if (d->bol && ch == '.' && d->stuff)
			out[o++] = '.';
		out[o++] = ch;
		d->bol = 0;
		d->cr = 0;
	}
	return o;
}

size_t
smtp_dot_end(struct smtp_dot *d, char *out)
{
	size_t	o = 0;

	if (!d->bol) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	d->bol = 1;
	if (!d->stuff)
		return o;
	memcpy(out + o, ".\r\n", 3);
	return o + 3;
}

/* ---- the session ---- */

/* RFC 2920: the server offered PIPELINING, so commands may go in groups. */
static int
pipelining(const struct smtp_session *s)
{
	return (s->ext.flags & SMTP_EXT_PIPELINING) != 0;
}

static void
trace_line(struct smtp_session *s, char dir, const char *line, size_t len)
{
	if (s->trace != NULL)
		s->trace(s->trace_arg, dir, line, len);
}

static int
flush_out(struct smtp_session *s, struct ferr *e)
{
	if ((s->outlen > 0 &&
	    tls_write(&s->conn, s->out, s->outlen, e) == -1) ||
	    tls_flush(&s->conn, e) == -1) {
		s->broken = 1;
		return -1;
	}
	s->outlen = 0;
	return 0;
}

/*
 * Queue head then tail then CRLF in s->out, flushing first when they
 * do not fit behind what is queued. FE_DATA when they never fit.
 */
static int
put_line(struct smtp_session *s, const char *head, size_t hlen,
    const char *tail, struct ferr *e)
{
	size_t	tlen = strlen(tail), len = hlen + tlen + 2;

	if (len > sizeof(s->out))
		return ferr_set(e, FE_DATA, 0, "command too long");
	if (len > sizeof(s->out) - s->outlen && flush_out(s, e) == -1)
		return -1;
	memcpy(s->out + s->outlen, head, hlen);
	memcpy(s->out + s->outlen + hlen, tail, tlen);
	memcpy(s->out + s->outlen + hlen + tlen, "\r\n", 2);
	s->outlen += len;
	return 0;
}

/*
 * Queue one command line. Trace shows it cut at `shown` bytes followed
 * by "***" when shown >= 0: AUTH payloads are redacted here, before any
 * hook sees them.
 */
static int
cmd(struct smtp_session *s, int shown, struct ferr *e, const char *fmt, ...)
{
	char	line[SMTP_LINE_MAX];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		return ferr_set(e, FE_DATA, 0, "command too long");
	if (shown < 0)
		trace_line(s, '>', line, (size_t)n);
	else {
		char	red[SMTP_LINE_MAX];
		int	m;

		m = snprintf(red, sizeof(red), "%.*s***", shown, line);
		trace_line(s, '>', red, (size_t)m);
		plat_wipe(red, sizeof(red));
	}
	n = put_line(s, line, (size_t)n, "", e);
	plat_wipe(line, sizeof(line));
	return n;
}

/* One line from the server into line (NUL-terminated, no CRLF). */
static int
read_line(struct smtp_session *s, char *line, size_t size, size_t *len,
    struct ferr *e)
{
	char	*nl, *start;
	ssize_t	 n;
	size_t	 l;

	for (;;) {
		nl = memchr(s->in + s->inoff, '\n', s->inlen - s->inoff);
		if (nl != NULL)
			break;
		if (s->inoff > 0) {
			memmove(s->in, s->in + s->inoff, s->inlen - s->inoff);
			s->inlen -= s->inoff;
			s->inoff = 0;
		}
		if (s->inlen == sizeof(s->in))
			return ferr_set(e, FE_PROTOCOL, 0,
			    "reply line too long");
		n = tls_read(&s->conn, s->in + s->inlen,
		    sizeof(s->in) - s->inlen, e);
		if (n == -1)
			return -1;
		s->inlen += (size_t)n;
	}
	start = s->in + s->inoff;
	l = (size_t)(nl - start);
	s->inoff += l + 1;
	if (l > 0 && start[l - 1] == '\r')
		l--;
	if (l >= size)
		return ferr_set(e, FE_PROTOCOL, 0, "reply line too long");
	memcpy(line, start, l);
	line[l] = '\0';
	*len = l;
	return 0;
}

/*
 * Read a whole reply into s->reply. One deadline, `timeout` from the
 * first wait, covers all of it, and it may have SMTP_REPLY_LINES_MAX
 * lines: a server that drips bytes or sends "250-" lines without end
 * is cut off as if it were silent (issue 15). After a failure here
 * the session is broken: smtp_close does not wait on it again.
 */
static int
read_reply(struct smtp_session *s, struct ferr *e)
{
	char	line[SMTP_LINE_MAX];
	size_t	len = 0;
	int	r = -1;

	smtp_reply_init(&s->reply);
	tls_set_deadline(&s->conn, s->conf->timeout);
	do {
		if (read_line(s, line, sizeof(line), &len, e) == -1)
			goto out;
		trace_line(s, '<', line, len);
		if (s->reply.nlines == SMTP_REPLY_LINES_MAX) {
			ferr_set(e, FE_PROTOCOL, 0, "reply of more than %d "
			    "lines", SMTP_REPLY_LINES_MAX);
			r = -1;
			goto out;
		}
		r = smtp_reply_add(&s->reply, line, len);
		if (r == -1) {
			ferr_set(e, FE_PROTOCOL, 0,
			    "not an SMTP reply: \"%.60s\"", line);
			goto out;
		}
	} while (r == 0);
out:
	tls_set_deadline(&s->conn, 0);
	if (r == -1)
		s->broken = 1;
	return r == -1 ? -1 : 0;
}

/* The reply's text on one line, for error messages. */
static void
reply_line(const struct smtp_reply *r, char *out, size_t size)
{
	size_t	i;

	if (snprintf(out, size, "%d %s", r->code, r->text) < 0)
		out[0] = '\0';
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] == '\n' || (unsigned char)out[i] < ' ')
			out[i] = ' ';
}

/* An error for a reply that is not the `want` class (2 or 3). */
static int
reply_fail(struct smtp_session *s, const char *step, struct ferr *e)
{
	char	text[FERR_TEXT_SIZE];
	int	c = s->reply.code;

	reply_line(&s->reply, text, sizeof(text));
	return ferr_set(e, c >= 500 ? FE_PERM : c >= 400 ? FE_TEMP :
	    FE_PROTOCOL, 0, "%s: %s", step, text);
}

/*
 * Read a reply and fail unless its code is want: 220 for the greeting
 * and STARTTLS, 250 for EHLO and HELO. Another 2xx (a 221) is no
 * success: FE_PROTOCOL.
 */
static int
expect(struct smtp_session *s, int want, const char *step, struct ferr *e)
{
	if (read_reply(s, e) == -1)
		return ferr_wrap(e, "%s", step);
	if (s->reply.code != want)
		return reply_fail(s, step, e);
	return 0;
}

/*
 * EHLO; on a 5xx, HELO (RFC 5321 4.1.1.1: a server that does not know
 * EHLO answers 500 or 502, and HELO must then work). A HELO session has
 * no extensions; s->ehlo_refused keeps why, for the errors that follow.
 */
static int
ehlo(struct smtp_session *s, struct ferr *e)
{
	char	name[CONF_HOST_SIZE];

	conf_host_name(s->conf, name, sizeof(name));
	s->ehlo_refused[0] = '\0';
	memset(&s->ext, 0, sizeof(s->ext));
	if (cmd(s, -1, e, "EHLO %s", name) == -1 || flush_out(s, e) == -1)
		return -1;
	if (read_reply(s, e) == -1)
		return ferr_wrap(e, "EHLO");
	if (s->reply.code / 100 != 5) {
		if (s->reply.code != 250)
			return reply_fail(s, "EHLO", e);
		smtp_ext_parse(&s->ext, &s->reply);
		return 0;
	}
	reply_line(&s->reply, s->ehlo_refused, sizeof(s->ehlo_refused));
	return cmd(s, -1, e, "HELO %s", name) == -1 ||
	    flush_out(s, e) == -1 || expect(s, 250, "HELO", e) == -1 ? -1 : 0;
}

/* The TLS handshake, all of it within one timeout like a reply. */
static int
handshake(struct smtp_session *s, const char *name, struct ferr *e)
{
	int	rc;

	tls_set_deadline(&s->conn, s->conf->timeout);
	rc = tls_start(&s->conn, name, s->trust, e);
	tls_set_deadline(&s->conn, 0);
	return rc;
}

static int
starttls(struct smtp_session *s, const char *name, struct ferr *e)
{
	if (s->ehlo_refused[0] != '\0')
		return ferr_set(e, FE_TLS, 0, "server refused EHLO (%s), so "
		    "it cannot do STARTTLS, which `tls starttls` needs; not "
		    "sending anything in plaintext", s->ehlo_refused);
	if (!(s->ext.flags & SMTP_EXT_STARTTLS))
		return ferr_set(e, FE_TLS, 0, "server does not offer "
		    "STARTTLS; not sending anything in plaintext");
	if (cmd(s, -1, e, "STARTTLS") == -1 || flush_out(s, e) == -1 ||
	    expect(s, 220, "STARTTLS", e) == -1) {
		if (e->kind == FE_TEMP || e->kind == FE_PERM)
			e->kind = FE_TLS;	/* never fall back */
		return -1;
	}
	/* bytes sent before the handshake are an injection (CVE-2011-0411) */
	s->inlen = s->inoff = 0;
	if (handshake(s, name, e) == -1)
		return -1;
	return ehlo(s, e);	/* RFC 3207 4.2: forget what was learnt */
}

static const char *server_name(const struct conf *c, char *buf,
    size_t size);
static int	wait_push(struct smtp_session *s, int kind,
		    struct smtp_txn *t, struct ferr *e);

/* Read a 334 challenge; its base64 text is in s->reply.text. */
static int
challenge(struct smtp_session *s, struct ferr *e)
{
	if (read_reply(s, e) == -1)
		return -1;
	if (s->reply.code != 334)
		return reply_fail(s, "AUTH", e);
	return 0;
}

/*
 * Queue a line whose payload is a secret and may be longer than cmd
 * allows (an OAuth token): straight into s->out. The trace shows the
 * prefix and "***".
 */
static int
cmd_secret(struct smtp_session *s, const char *prefix, const char *payload,
    struct ferr *e)
{
	char	red[64];
	size_t	plen = strlen(prefix);
	int	n;

	if (plen + strlen(payload) + 2 > sizeof(s->out))
		return ferr_set(e, FE_CONFIG, 0, "AUTH line too long");
	n = snprintf(red, sizeof(red), "%s***", prefix);
	trace_line(s, '>', red, n > 0 ? (size_t)n : 0);
	return put_line(s, prefix, plen, payload, e);
}

/*
 * SCRAM-SHA-256 (RFC 5802, 7677): on return s->reply holds the final
 * reply, read only after the server proved it knows the password.
 */
static int
auth_scram(struct smtp_session *s, const char *pass, struct ferr *e)
{
	struct auth_scram sc;
	struct ferr	spare;		/* keeps e on the signature error */
	unsigned char	rnd[18];	/* 144 bits; base64 without padding */
	char		nonce[AUTH_NONCE_SIZE], msg[AUTH_LINE_SIZE];
	int		rc = -1;

	if (plat_random(rnd, sizeof(rnd)) == -1)
		return ferr_set(e, FE_OS, errno, "random bytes");
	if (auth_b64(nonce, sizeof(nonce), rnd, sizeof(rnd), e) == -1 ||
	    auth_scram_first(&sc, s->conf->user, nonce, msg, sizeof(msg),
	    e) == -1 ||
	    cmd(s, 19, e, "AUTH SCRAM-SHA-256 %s", msg) == -1 ||
	    flush_out(s, e) == -1 || challenge(s, e) == -1 ||
	    auth_scram_final(&sc, s->reply.text, s->reply.len, pass, msg,
	    sizeof(msg), e) == -1 ||
	    cmd(s, 0, e, "%s", msg) == -1 || flush_out(s, e) == -1 ||
	    read_reply(s, e) == -1)
		goto out;
	if (s->reply.code == 235) {
		ferr_set(e, FE_PROTOCOL, 0, "SCRAM-SHA-256: server accepted "
		    "without proving it knows the password; nothing sent");
		goto out;
	}
	if (s->reply.code != 334) {
		rc = 0;		/* a refusal: the caller reports it */
		goto out;
	}
	if (auth_scram_verify(&sc, s->reply.text, s->reply.len, e) == -1) {
		/* RFC 4954 4: "*" cancels; the session is dropped anyway */
		if (cmd(s, -1, &spare, "*") == 0)
			(void)flush_out(s, &spare);
		goto out;
	}
	if (cmd(s, -1, e, "%s", "") == -1 || flush_out(s, e) == -1 ||
	    read_reply(s, e) == -1)
		goto out;
	rc = 0;
out:
	plat_wipe(&sc, sizeof(sc));
	plat_wipe(rnd, sizeof(rnd));
	plat_wipe(msg, sizeof(msg));
	return rc;
}

/*
 * XOAUTH2 or OAUTHBEARER with the token as initial response. A 334
 * reply is the JSON error challenge: it is answered (RFC 7628 3.2.3:
 * OAUTHBEARER with %x01; XOAUTH2, as Google documents, with an empty
 * line) and the final reply is read; the error then says what the JSON
 * said. On 0 s->reply holds the final reply.
 */
static int
auth_oauth(struct smtp_session *s, unsigned mech, const char *token,
    struct ferr *e)
{
	const struct conf *c = s->conf;
	struct auth_oauth_err oe;
	char	msg[AUTH_LONG_SIZE], host[CONF_HOST_SIZE];
	char	text[FERR_TEXT_SIZE];
	int	xo = mech == CONF_AUTH_XOAUTH2, scope, rc;

	if (xo)
		rc = auth_xoauth2(msg, sizeof(msg), c->user, token, e);
	else
		rc = auth_oauthbearer(msg, sizeof(msg), c->user,
		    server_name(c, host, sizeof(host)), c->port, token, e);
	if (rc == 0)
		rc = cmd_secret(s, xo ? "AUTH XOAUTH2 " : "AUTH OAUTHBEARER ",
		    msg, e);
	plat_wipe(msg, sizeof(msg));
	if (rc == -1 || flush_out(s, e) == -1 || read_reply(s, e) == -1)
		return -1;
	if (s->reply.code != 334)
		return 0;
	(void)auth_oauth_error(s->reply.text, s->reply.len, &oe);
	if (cmd(s, -1, e, "%s", xo ? "" : "AQ==") == -1 ||
	    flush_out(s, e) == -1 || read_reply(s, e) == -1)
		return -1;
	reply_line(&s->reply, text, sizeof(text));
	/* a token without the right scope needs a person; others expire */
	scope = strcmp(oe.status, "insufficient_scope") == 0 ||
	    strcmp(oe.status, "403") == 0;
	return ferr_set(e, scope ? FE_CONFIG : FE_TEMP, 0, "AUTH %s: token "
	    "refused (status %s, schemes %s, scope %s); %s", auth_name(mech),
	    oe.status[0] ? oe.status : "-", oe.schemes[0] ? oe.schemes : "-",
	    oe.scope[0] ? oe.scope : "-", text);
}

/* The error for an AUTH refusal in s->reply. */
static void
auth_refused(struct smtp_session *s, struct ferr *e)
{
	reply_fail(s, "AUTH", e);
	if (e->kind == FE_PERM)	/* wrong credentials: keep the mail */
		e->kind = FE_CONFIG;
}

/*
 * PIPELINING only (authenticate checks it). RFC 4954 4: with
 * PIPELINING, AUTH must end a group, except when it carries an initial
 * response for a mechanism that completes in one round trip and
 * negotiates no security layer, PLAIN being its example. So AUTH
 * PLAIN goes out with the first MAIL, RCPT and DATA (or BDAT),
 * and its reply is read in turn. A refusal then also explains the 530s
 * that follow it. The mechanisms with a challenge, or an error
 * challenge (XOAUTH2, OAUTHBEARER), go alone, as that section asks.
 */
static int
auth_pipelined(struct smtp_session *s, const char *pass, struct ferr *e)
{
	char	msg[AUTH_LINE_SIZE];
	int	rc = -1;

	if (auth_plain(msg, sizeof(msg), s->conf->user, pass, e) == 0 &&
	    cmd(s, 11, e, "AUTH PLAIN %s", msg) == 0 &&
	    wait_push(s, SMTP_WAIT_AUTH, NULL, e) == 0)
		rc = 0;
	plat_wipe(msg, sizeof(msg));
	return rc;
}

static int
auth_exchange(struct smtp_session *s, unsigned mech, const char *pass,
    struct ferr *e)
{
	const struct conf *c = s->conf;
	char	msg[AUTH_LINE_SIZE];
	int	rc = -1;

	switch (mech) {
	case CONF_AUTH_PLAIN:
		if (auth_plain(msg, sizeof(msg), c->user, pass, e) ==
		    -1 || cmd(s, 11, e, "AUTH PLAIN %s", msg) == -1)
			goto out;
		break;
	case CONF_AUTH_LOGIN:
		if (cmd(s, -1, e, "AUTH LOGIN") == -1 ||
		    flush_out(s, e) == -1 || challenge(s, e) == -1 ||
		    auth_b64(msg, sizeof(msg), c->user, strlen(c->user),
		    e) == -1 || cmd(s, 0, e, "%s", msg) == -1 ||
		    flush_out(s, e) == -1 || challenge(s, e) == -1 ||
		    auth_b64(msg, sizeof(msg), pass, strlen(pass), e) == -1 ||
		    cmd(s, 0, e, "%s", msg) == -1)
			goto out;
		break;
	case CONF_AUTH_CRAM_MD5:
		if (cmd(s, -1, e, "AUTH CRAM-MD5") == -1 ||
		    flush_out(s, e) == -1 || challenge(s, e) == -1 ||
		    auth_cram_md5(msg, sizeof(msg), s->reply.text,
		    s->reply.len, c->user, pass, e) == -1 ||
		    cmd(s, 0, e, "%s", msg) == -1)
			goto out;
		break;
	case CONF_AUTH_SCRAM_SHA256:
		if (auth_scram(s, pass, e) == -1)
			goto out;
		break;
	case CONF_AUTH_XOAUTH2:
	case CONF_AUTH_OAUTHBEARER:
		if (auth_oauth(s, mech, pass, e) == -1)
			goto out;
		break;
	default:
		ferr_set(e, FE_SOFTWARE, 0, "no AUTH mechanism");
		goto out;
	}
	/* the last three have read their final reply already */
	if (!(mech & (CONF_AUTH_SCRAM_SHA256 | CONF_AUTH_XOAUTH2 |
	    CONF_AUTH_OAUTHBEARER)) &&
	    (flush_out(s, e) == -1 || read_reply(s, e) == -1))
		goto out;
	if (s->reply.code != 235) {
		auth_refused(s, e);
		goto out;
	}
	rc = 0;
out:
	plat_wipe(msg, sizeof(msg));
	return rc;
}

/*
 * The EHLO reply's keywords (kw NULL) or the arguments of keyword kw,
 * space-separated in out, cut to fit: to say what a server offers.
 */
static void
ehlo_list(const struct smtp_reply *r, const char *kw, char *out,
    size_t size)
{
	const char	*p = r->text, *end = r->text + r->len, *nl, *arg;
	size_t		 len, alen, olen = 0;
	int		 n, first = 1;

	out[0] = '\0';
	for (; p < end && olen < size; p = nl + 1, first = 0) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		len = (size_t)(nl - p);
		if (first)
			continue;
		if (kw == NULL) {
			for (alen = 0; alen < len && p[alen] != ' '; alen++)
				;
			arg = p;
		} else if (!keyword(p, len, kw, &arg, &alen))
			continue;
		n = snprintf(out + olen, size - olen, "%s%.*s",
		    olen > 0 ? " " : "", (int)alen, arg);
		if (n < 0)
			break;
		olen += (size_t)n;
	}
}

/*
 * user is set but the server offers no AUTH: say what it does offer,
 * and that AUTH often appears only after STARTTLS.
 */
static int
no_auth(struct smtp_session *s, struct ferr *e)
{
	char	ext[160];

	if (s->ehlo_refused[0] != '\0')
		return ferr_set(e, FE_CONFIG, 0, "server refused EHLO (%s), "
		    "so it cannot do AUTH, which `user` needs: remove `user` "
		    "or use a server that speaks ESMTP", s->ehlo_refused);
	ehlo_list(&s->reply, NULL, ext, sizeof(ext));
	if ((s->ext.flags & SMTP_EXT_STARTTLS) && s->conn.on != 2)
		return ferr_set(e, FE_CONFIG, 0, "server offers no AUTH "
		    "before TLS, usually it comes after STARTTLS: set `tls "
		    "starttls`; it offers: %s", ext[0] ? ext : "nothing");
	return ferr_set(e, FE_CONFIG, 0, "server offers no AUTH but user "
	    "is set: use the submission port (587 or 465) or remove "
	    "`user`; it offers: %s", ext[0] ? ext : "nothing");
}

/*
 * No greeting came. With `tls starttls` or `none` against a port that
 * starts TLS at once (465), the server waits silently for a
 * ClientHello: the session is lost anyway, so ask it with one.
 */
static int
greeting_fail(struct smtp_session *s, struct ferr *e)
{
	enum tls_saw saw = tls_saw(&s->conn);

	if (s->conf->tls == CONF_TLS_IMPLICIT || saw == TLS_SAW_SMTP ||
	    saw == TLS_SAW_OTHER)
		return -1;
	if (saw == TLS_SAW_NOTHING && !tls_probe(&s->conn))
		return -1;
	return ferr_set(e, FE_CONFIG, 0, "the server began TLS at once and "
	    "sent no SMTP greeting: it is an implicit-TLS port; set `tls "
	    "implicit` (or use the STARTTLS port, 587)");
}

/*
 * With confinement (smtp_set_ready), every host's password or token is
 * got before the first byte is read, while files and password_command
 * are still in reach: a later session may go to any of them. One that
 * cannot be got fails its own host's AUTH only, when that comes.
 */
static int
get_secrets(struct smtp_session *s, const struct conf *c, struct ferr *e)
{
	size_t	i;

	for (i = 0; i < c->nhosts; i++) {
		if (c->hosts[i].user[0] == '\0' || (s->has_secret & 1u << i))
			continue;
		if (conf_secret(c, i, s->secret[i], sizeof(s->secret[i]),
		    &s->secret_err[i]) == 0)
			s->has_secret |= 1u << i;
		else if (i == c->host) {
			*e = s->secret_err[i];
			return -1;
		}
	}
	s->secrets_got = 1;
	return 0;
}

static int
authenticate(struct smtp_session *s, struct ferr *e)
{
	char	 offered[96], allowed[96], pass[SECRET_SIZE];
	unsigned mech;
	int	 rc;

	if (s->conn.on != 2 && s->conf->tls != CONF_TLS_NONE)
		return ferr_set(e, FE_SOFTWARE, 0, "AUTH before TLS");
	if (!(s->ext.flags & SMTP_EXT_AUTH))
		return no_auth(s, e);
	mech = auth_choose(s->ext.auth, s->conf->auth);
	if (mech == 0) {
		ehlo_list(&s->reply, "AUTH", offered, sizeof(offered));
		auth_names(s->conf->auth, allowed, sizeof(allowed));
		return ferr_set(e, FE_CONFIG, 0, "server does not offer "
		    "the AUTH that `auth` allows (%s): set `auth` to one it "
		    "offers: %s", allowed, offered[0] ? offered : "(none)");
	}
	if (s->has_secret & 1u << s->conf->host)
		memcpy(pass, s->secret[s->conf->host], sizeof(pass));
	else if (s->secrets_got && s->conf->host < s->conf->nhosts) {
		/* confined: too late to read it */
		*e = s->secret_err[s->conf->host];
		return -1;
	} else if (conf_secret(s->conf, s->conf->host, pass, sizeof(pass),
	    e) == -1)
		return -1;	/* read now, not kept */
	if (mech == CONF_AUTH_PLAIN && pipelining(s))
		rc = auth_pipelined(s, pass, e);
	else
		rc = auth_exchange(s, mech, pass, e);
	plat_wipe(pass, sizeof(pass));
	if (rc == -1)
		return -1;
	s->mech = mech;
	return 0;
}

static const char *
server_name(const struct conf *c, char *buf, size_t size)
{
	const char *h = c->tls_server_name[0] ? c->tls_server_name :
	    c->smarthost;
	size_t	len = strlen(h);

	if (len >= 2 && h[0] == '[' && h[len - 1] == ']')
		snprintf(buf, size, "%.*s", (int)(len - 2), h + 1);
	else
		snprintf(buf, size, "%s", h);
	return buf;
}

static int
open_session(struct smtp_session *s, struct net_conn *early,
    struct ferr *e)
{
	const struct conf *c = s->conf;
	char	name[CONF_HOST_SIZE];

	if (conf_tls_port(c, e) == -1)	/* would cost a whole timeout */
		return -1;
	server_name(c, name, sizeof(name));
	if (early != NULL && early->fd != -1)
		s->fd = net_finish(early, c->timeout, s->peer,
		    sizeof(s->peer), e);
	else
		s->fd = net_connect(c->smarthost, c->port, c->timeout,
		    s->peer, sizeof(s->peer), e);
	if (s->fd == -1)
		return -1;
	tls_init(&s->conn, s->fd, c->timeout);
	if (s->cache_dirfd != -1)
		tls_cache(&s->conn, s->cache_dirfd, c->smarthost, c->port);
	if (s->ready_fn != NULL && !s->secrets_got &&
	    get_secrets(s, c, e) == -1)
		return -1;
	if (s->ready_fn != NULL)
		s->ready_fn(s->ready_arg, s->fd);
	if (c->tls == CONF_TLS_IMPLICIT &&
	    handshake(s, name, e) == -1)
		return -1;
	if (expect(s, 220, "greeting", e) == -1)
		return greeting_fail(s, e);
	if (ehlo(s, e) == -1)
		return -1;
	if (c->tls == CONF_TLS_STARTTLS && starttls(s, name, e) == -1)
		return -1;
	if (c->user[0] != '\0' && authenticate(s, e) == -1)
		return -1;
	return 0;
}

void
smtp_set_cache(struct smtp_session *s, int dirfd)
{
	s->cache_dirfd = dirfd;
}

void
smtp_set_done(struct smtp_session *s, smtp_done_fn *fn, void *arg)
{
	s->done_fn = fn;
	s->done_arg = arg;
}

void
smtp_set_ready(struct smtp_session *s, smtp_ready_fn *fn, void *arg)
{
	size_t	i;

	s->ready_fn = fn;
	s->ready_arg = arg;
	for (i = 0; i < CONF_HOSTS_MAX; i++)	/* the others: untouched */
		if (s->has_secret & 1u << i)
			plat_wipe(s->secret[i], sizeof(s->secret[i]));
	s->has_secret = 0;
	s->secrets_got = 0;
}

int
smtp_open(struct smtp_session *s, const struct conf *c,
    const struct tls_trust *trust, smtp_trace_fn *trace, void *trace_arg,
    struct net_conn *early, struct ferr *e)
{
	s->conf = c;
	s->trust = trust;
	s->trace = trace;
	s->trace_arg = trace_arg;
	s->fd = -1;
	s->inlen = s->inoff = s->outlen = 0;
	s->peer[0] = '\0';
	s->mech = 0;
	s->broken = 0;
	s->need_rset = 0;
	s->auth_failed = 0;
	s->quit_sent = 0;
	s->whead = s->nwait = 0;
	s->window = 1;
	memset(&s->ext, 0, sizeof(s->ext));
	if (open_session(s, early, e) == -1) {
		ferr_wrap(e, "%s:%u", c->smarthost, c->port);
		if (s->fd != -1) {
			tls_close(&s->conn);
			close(s->fd);
			s->fd = -1;
		}
		return -1;
	}
	return 0;
}

static void
note_rcpt(struct smtp_rcpt *r, const struct smtp_reply *reply)
{
	r->code = reply->code;
	reply_line(reply, r->text, sizeof(r->text));
}

/* The error for a message no recipient was accepted for. */
static int
rcpt_fail(const struct smtp_rcpt *rcpt, size_t n, struct ferr *e)
{
	size_t	i, worst = 0;

	for (i = 0; i < n; i++)		/* a 4xx keeps hope: report it */
		if (rcpt[i].code / 100 == 4) {
			worst = i;
			break;
		}
	return ferr_set(e, rcpt[worst].code / 100 == 4 ? FE_TEMP : FE_PERM,
	    0, "RCPT TO:<%s>: %s", rcpt[worst].addr, rcpt[worst].text);
}

static int
is_ascii(const char *p)
{
	for (; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			return 0;
	return 1;
}

static int
needs_utf8(const char *from, const struct smtp_rcpt *rcpt, size_t n)
{
	size_t	i;

	if (!is_ascii(from))
		return 1;
	for (i = 0; i < n; i++)
		if (!is_ascii(rcpt[i].addr))
			return 1;
	return 0;
}

/* RFC 3461 4: xtext, "+" and "=" and what is not printable as +HH. */
static void
xtext(const char *in, char *out, size_t size)
{
	size_t	o = 0;

	for (; *in != '\0' && o + 4 < size; in++) {
		unsigned char ch = (unsigned char)*in;

		if (ch < 33 || ch > 126 || ch == '+' || ch == '=')
			o += (size_t)snprintf(out + o, size - o, "+%02X", ch);
		else
			out[o++] = (char)ch;
	}
	out[o] = '\0';
}

/* ---- replies in flight ---- */

/*
 * Commands go out in groups (RFC 2920 3.1) and their replies come back
 * in the same order, so each reply belongs to the oldest entry of
 * s->wait: AUTH, RSET, QUIT, or a message, which takes one reply for
 * MAIL, one per RCPT, then the DATA 354 and the end-of-data reply, or
 * one per BDAT chunk. No reply is read for a command not yet sent.
 */
static int
wait_push(struct smtp_session *s, int kind, struct smtp_txn *t,
    struct ferr *e)
{
	if (s->nwait == SMTP_WAIT_MAX)
		return ferr_set(e, FE_SOFTWARE, 0, "too many replies due");
	s->wait[(s->whead + s->nwait) % SMTP_WAIT_MAX].kind = kind;
	s->wait[(s->whead + s->nwait) % SMTP_WAIT_MAX].t = t;
	s->nwait++;
	return 0;
}

static void
wait_pop(struct smtp_session *s)
{
	s->whead = (s->whead + 1) % SMTP_WAIT_MAX;
	s->nwait--;
}

/* t has all its replies, or can get no more: decide its outcome. */
static void
txn_end(struct smtp_session *s, struct smtp_txn *t)
{
	size_t	i, ok = 0, unread = 0;

	t->done = 1;
	for (i = 0; i < t->n; i++) {
		ok += t->rcpt[i].code / 100 == 2;
		unread += t->rcpt[i].code == 0;
	}
	if (t->failed) {		/* AUTH or MAIL refused, or not sent */
		/* the 503s that follow a refused MAIL say nothing of them */
		for (i = 0; i < t->n; i++) {
			t->rcpt[i].code = 0;
			t->rcpt[i].text[0] = '\0';
		}
		t->rc = -1;
	} else if (ok == 0 && unread == 0) {
		rcpt_fail(t->rcpt, t->n, &t->why);
		t->rc = -1;
	} else
		t->rc = t->data_failed || ok == 0 ? -1 : 0;
	/*
	 * A transaction the server may still hold (MAIL taken, the data
	 * never ended) needs RSET before the next MAIL (RFC 5321 4.1.1.5).
	 */
	if (t->mail_code / 100 == 2 && (!t->ended ||
	    (t->chunks > 0 && t->rc == -1)))
		s->need_rset = 1;
	/*
	 * Slow start: a server may hang up after so many errors (Postfix:
	 * smtpd_hard_error_limit, 20), and what it answered to a stream
	 * in flight is then lost. Each message taken doubles how many may
	 * be on the wire; any failure makes it one again.
	 */
	if (t->rc == 0 && !t->data_failed && s->window < SMTP_WINDOW)
		s->window *= 2;
	else if (t->rc == -1)
		s->window = 1;
	if (s->done_fn != NULL)
		s->done_fn(s->done_arg, t);
}

/* Keep the first error of a message: later ones follow from it. */
static void
txn_fail(struct smtp_txn *t, const struct ferr *e, int data)
{
	if (t->failed || t->data_failed)
		return;
	t->why = *e;
	if (data)
		t->data_failed = 1;
	else
		t->failed = 1;
}

/*
 * The session broke: nothing more comes for anything in flight. When
 * the replies went out of step (unsure), none read for a message in
 * flight can be trusted either: each is deferred with e, whatever its
 * replies said, so that a shifted 250 marks nothing sent and a shifted
 * 5xx bounces nothing. Else a reply that was read stands.
 */
static void
wait_break(struct smtp_session *s, const struct ferr *e, int unsure)
{
	struct smtp_txn	*t;

	s->broken = 1;
	for (; s->nwait > 0; wait_pop(s)) {
		t = s->wait[s->whead].t;
		if (t == NULL || t->done)
			continue;
		t->broke = 1;
		/* its end went out: the server may have taken it */
		t->unsure = t->all_sent && (t->go || t->chunks > 0);
		if (unsure) {
			t->why = *e;
			t->failed = 1;	/* txn_end forgets the RCPT codes */
			t->auth = 0;
		} else
			txn_fail(t, e, 1);
		txn_end(s, t);
	}
}

/* Which command of t the reply numbered k answers. */
static enum smtp_step
txn_step(const struct smtp_txn *t, size_t k)
{
	if (k == 0)
		return SMTP_STEP_MAIL;
	if (k <= t->n)
		return SMTP_STEP_RCPT;
	if (t->chunks == 0 && !t->go)
		return SMTP_STEP_DATA;
	return SMTP_STEP_END;
}

/*
 * The reply just read, for message t. -1 when it cannot be the reply
 * to the command it is matched with (smtp_reply_fits): out of step.
 */
static int
txn_reply(struct smtp_session *s, struct smtp_txn *t)
{
	struct ferr	 e;
	size_t		 k = t->got;
	int		 c = s->reply.code;

	if (smtp_reply_fits(txn_step(t, k), c) == -1)
		return -1;
	t->got++;
	if (k == 0) {				/* MAIL */
		t->mail_code = c;
		if (s->auth_failed) {
			txn_fail(t, &s->auth_err, 0);
			t->auth = 1;
		} else if (c / 100 != 2) {
			reply_fail(s, "MAIL FROM", &e);
			txn_fail(t, &e, 0);
		}
		/* without PIPELINING nothing more is sent */
		if (t->failed && !pipelining(s))
			t->all_sent = 1;
	} else if (k <= t->n)			/* RCPT */
		note_rcpt(&t->rcpt[k - 1], &s->reply);
	else if (t->chunks == 0 && !t->go) {	/* DATA */
		t->go = c == 354;
		if (c != 354) {
			reply_fail(s, "DATA", &e);
			txn_fail(t, &e, 1);
			t->all_sent = 1;	/* no data follows */
		}
	} else {			/* end of data, or a BDAT chunk */
		if (c / 100 != 2) {
			reply_fail(s, t->chunks > 0 ? "BDAT" : "end of data",
			    &e);
			txn_fail(t, &e, 1);
		}
		if (t->all_sent && t->got == t->sent) {
			t->ended = 1;
			reply_line(&s->reply, t->reply, sizeof(t->reply));
		}
	}
	if (t->all_sent && t->got == t->sent)
		txn_end(s, t);
	return 0;
}

/*
 * A reply that cannot belong to its command (a 221, a 354 but to DATA,
 * a 250 to DATA): one reply was lost or came in excess, and every
 * reply matched by position since may belong to another command. End
 * the session; everything in flight is deferred (wait_break).
 */
static int
out_of_step(struct smtp_session *s, const char *step, struct ferr *e)
{
	char	text[FERR_TEXT_SIZE];

	reply_line(&s->reply, text, sizeof(text));
	ferr_set(e, FE_TEMP, 0, "%s: reply out of step with the commands "
	    "(%s); the session is dropped, nothing in flight is taken as "
	    "sent or refused", step, text);
	ferr_wrap(e, "%s", s->peer);
	wait_break(s, e, 1);
	return -1;
}

static const char *const step_names[] = {
	[SMTP_STEP_AUTH] = "AUTH", [SMTP_STEP_RSET] = "RSET",
	[SMTP_STEP_MAIL] = "MAIL FROM", [SMTP_STEP_RCPT] = "RCPT TO",
	[SMTP_STEP_DATA] = "DATA", [SMTP_STEP_END] = "end of data",
};

/*
 * Read the reply the oldest entry waits for. -1 only when the session
 * broke (then every message in flight is done, with e).
 */
static int
wait_read(struct smtp_session *s, struct ferr *e)
{
	struct smtp_wait *w = &s->wait[s->whead];

	if (flush_out(s, e) == -1 || read_reply(s, e) == -1) {
		ferr_wrap(e, "%s", s->peer);
		wait_break(s, e, 0);
		return -1;
	}
	switch (w->kind) {
	case SMTP_WAIT_AUTH:
		if (smtp_reply_fits(SMTP_STEP_AUTH, s->reply.code) == -1)
			return out_of_step(s, "AUTH", e);
		wait_pop(s);
		if (s->reply.code == 235)
			break;
		auth_refused(s, &s->auth_err);
		ferr_wrap(&s->auth_err, "%s", s->peer);
		s->auth_failed = 1;
		break;
	case SMTP_WAIT_TXN:
		if (txn_reply(s, w->t) == -1)
			return out_of_step(s,
			    step_names[txn_step(w->t, w->t->got)], e);
		if (w->t->done)
			wait_pop(s);
		break;
	default:	/* RSET: what follows tells all */
		if (smtp_reply_fits(SMTP_STEP_RSET, s->reply.code) == -1)
			return out_of_step(s, "RSET", e);
		wait_pop(s);
		break;
	}
	/* 421: the server is going away (RFC 5321 3.8) */
	if (s->reply.code == 421) {
		reply_fail(s, "server closing", e);
		ferr_wrap(e, "%s", s->peer);
		wait_break(s, e, 0);
		return -1;
	}
	return 0;
}

/* No recipient took it (without PIPELINING, all were read). */
static int
no_rcpt(const struct smtp_txn *t)
{
	size_t	i;

	for (i = 0; i < t->n; i++)
		if (t->rcpt[i].code / 100 == 2)
			return 0;
	return 1;
}

/* t ended before all its replies were due: forget its entry. */
static void
wait_drop(struct smtp_session *s, const struct smtp_txn *t)
{
	if (s->nwait > 0 && s->wait[(s->whead + s->nwait - 1) %
	    SMTP_WAIT_MAX].t == t)
		s->nwait--;
}

/* Read replies until t is done or may send its data (DATA's 354). */
static int
wait_for(struct smtp_session *s, struct smtp_txn *t, int data,
    struct ferr *e)
{
	while (!t->done && !(data && t->go))
		if (wait_read(s, e) == -1)
			return -1;
	return 0;
}

int
smtp_check(struct smtp_session *s, struct ferr *e)
{
	if (smtp_wait(s, 1, e) == -1)
		return -1;
	if (s->auth_failed) {
		*e = s->auth_err;
		return -1;
	}
	return 0;
}

int
smtp_wait(struct smtp_session *s, int all, struct ferr *e)
{
	while (s->nwait > 0) {
		if (!all && s->wait[s->whead].kind == SMTP_WAIT_TXN)
			return wait_for(s, s->wait[s->whead].t, 0, e);
		if (wait_read(s, e) == -1)
			return -1;
	}
	return 0;
}

size_t
smtp_inflight(const struct smtp_session *s)
{
	size_t	i, n = 0;

	for (i = 0; i < s->nwait; i++)
		n += s->wait[(s->whead + i) % SMTP_WAIT_MAX].kind ==
		    SMTP_WAIT_TXN;
	return n;
}

/* ---- sending ---- */

/* MAIL's parameters; -1 with e when the server cannot take it. */
static int
mail_params(struct smtp_session *s, const char *from,
    const struct smtp_rcpt *rcpt, size_t n, off_t size, unsigned flags,
    const struct smtp_dsn *dsn, char *params, size_t psize, char *notify,
    size_t nsize, struct ferr *e)
{
	char	envid[320];
	size_t	len;

	params[0] = notify[0] = '\0';
	if ((s->ext.flags & SMTP_EXT_SIZE) && s->ext.size > 0 &&
	    (unsigned long long)size > s->ext.size)
		return ferr_set(e, FE_PERM, 0, "message is %lld bytes; the "
		    "server takes at most %lu", (long long)size, s->ext.size);
	if (s->ext.flags & SMTP_EXT_SIZE)
		snprintf(params, psize, " SIZE=%lld", (long long)size);
	len = strlen(params);
	if ((flags & SMTP_BODY_8BIT) && (s->ext.flags & SMTP_EXT_8BITMIME))
		snprintf(params + len, psize - len, " BODY=8BITMIME");
	/* RFC 6531: UTF-8 in an address needs the server's consent */
	if (needs_utf8(from, rcpt, n)) {
		if (!(s->ext.flags & SMTP_EXT_SMTPUTF8))
			return ferr_set(e, FE_PERM, 0, "an address is not "
			    "ASCII and the server does not offer SMTPUTF8");
		len = strlen(params);
		snprintf(params + len, psize - len, " SMTPUTF8");
	}
	if (dsn != NULL && (s->ext.flags & SMTP_EXT_DSN)) {
		len = strlen(params);
		if (dsn->ret[0] != '\0')
			snprintf(params + len, psize - len, " RET=%s",
			    dsn->ret);
		if (dsn->envid[0] != '\0') {
			xtext(dsn->envid, envid, sizeof(envid));
			len = strlen(params);
			snprintf(params + len, psize - len, " ENVID=%s",
			    envid);
		}
		if (dsn->notify[0] != '\0')
			snprintf(notify, nsize, " NOTIFY=%s", dsn->notify);
	}
	return 0;
}

/*
 * Queue one command of message t and note its reply as due. Without
 * PIPELINING each reply is read before the next command goes.
 */
static int
txn_cmd(struct smtp_session *s, struct smtp_txn *t, int first,
    struct ferr *e, const char *fmt, const char *a, const char *b)
{
	if (cmd(s, -1, e, fmt, a, b) == -1)
		return -1;
	if (first && wait_push(s, SMTP_WAIT_TXN, t, e) == -1)
		return -1;
	t->sent++;
	if (!pipelining(s))
		while (!t->done && t->got < t->sent)
			if (wait_read(s, e) == -1)
				return -1;
	return 0;
}

/* One block of the message file into s->data; -1 with e. */
static ssize_t
read_block(struct smtp_session *s, int msg, struct ferr *e)
{
	ssize_t	n;

	do
		n = read(msg, s->data, sizeof(s->data));
	while (n == -1 && errno == EINTR);
	if (n == -1)
		ferr_set(e, FE_OS, errno, "message file");
	return n;
}

/* DATA: the message dot-stuffed, then the final dot. */
static int
send_data(struct smtp_session *s, int msg, struct ferr *e)
{
	struct smtp_dot	d;
	ssize_t		n;
	size_t		len;

	smtp_dot_init(&d);
	for (;;) {
		if ((n = read_block(s, msg, e)) == -1)
			return -1;
		if (n == 0)
			break;
		len = smtp_dot_stuff(&d, s->data, (size_t)n, s->stuffed);
		if (tls_write(&s->conn, s->stuffed, len, e) == -1)
			return -1;
		if (tls_gone(&s->conn))	/* the rest cannot arrive */
			break;
	}
	len = smtp_dot_end(&d, s->stuffed);
	trace_line(s, '>', "<message data>", 14);
	trace_line(s, '>', ".", 1);
	return tls_write(&s->conn, s->stuffed, len, e);
}

/*
 * BDAT (RFC 3030 2): each block of the file, its line ends made CRLF,
 * is one chunk; the last says LAST. Chunks are pipelined (RFC 3030 4.2;
 * smtp_send streams BDAT only when PIPELINING is offered too)
 * but at most SMTP_CHUNKS_DUE replies wait unread, so that a huge
 * message cannot fill both ways' buffers and deadlock.
 */
static int
send_chunks(struct smtp_session *s, struct smtp_txn *t, int msg,
    struct ferr *e)
{
	struct smtp_dot	d;
	ssize_t		n;
	size_t		len = 0;
	char		size[32];
	int		more = 1;

	smtp_crlf_init(&d);
	if ((n = read_block(s, msg, e)) == -1)
		return -1;
	while (more) {
		len = smtp_dot_stuff(&d, s->data, (size_t)n, s->stuffed);
		/* one block ahead: is this chunk the last? */
		if (n > 0 && (n = read_block(s, msg, e)) == -1)
			return -1;
		if (n == 0) {
			len += smtp_dot_end(&d, s->stuffed + len);
			more = 0;
		}
		snprintf(size, sizeof(size), "%zu", len);
		if (cmd(s, -1, e, "BDAT %s%s", size, more ? "" : " LAST") ==
		    -1 || flush_out(s, e) == -1)
			return -1;
		trace_line(s, '>', "<message data>", 14);
		if (tls_write(&s->conn, s->stuffed, len, e) == -1)
			return -1;
		t->chunks++;
		t->sent++;
		t->all_sent = !more;
		if (tls_gone(&s->conn))		/* read what it said */
			return smtp_wait(s, 1, e);
		while (!t->done && t->sent - t->got > SMTP_CHUNKS_DUE)
			if (wait_read(s, e) == -1)
				return -1;
	}
	return 0;
}

int
smtp_send(struct smtp_session *s, struct smtp_txn *t, const char *from,
    struct smtp_rcpt *rcpt, size_t n, int msg, off_t size, unsigned flags,
    const struct smtp_dsn *dsn, struct ferr *e)
{
	char	params[512], notify[48];
	int	chunking = (s->ext.flags & (SMTP_EXT_PIPELINING |
		    SMTP_EXT_CHUNKING)) == (SMTP_EXT_PIPELINING |
		    SMTP_EXT_CHUNKING);
	size_t	i;

	memset(t, 0, sizeof(*t));
	t->rcpt = rcpt;
	t->n = n;
	ferr_clear(&t->why);
	for (i = 0; i < n; i++) {
		rcpt[i].code = 0;
		rcpt[i].text[0] = '\0';
	}
	if (mail_params(s, from, rcpt, n, size, flags, dsn, params,
	    sizeof(params), notify, sizeof(notify), &t->why) == -1 ||
	    lseek(msg, 0, SEEK_SET) == -1) {
		if (t->why.kind == FE_OK)
			ferr_set(&t->why, FE_OS, errno, "message file");
		t->failed = 1;
		txn_end(s, t);
		return 0;
	}
	/*
	 * RFC 2920 2: without PIPELINING every reply is read before the
	 * next command goes, the end of the message before too (a strict
	 * server, OpenSMTPD, takes early input as an error).
	 */
	if (!pipelining(s) && smtp_wait(s, 1, e) == -1)
		goto broken;
	/*
	 * RFC 2920 3.1: RSET, MAIL and RCPT may go anywhere in a group.
	 * After a transaction that ended with its data none is needed;
	 * one still in flight under BDAT may yet fail before its end, and
	 * then its MAIL would stand, so RSET it blindly (BDAT streams only
	 * with PIPELINING: chunking).
	 */
	if (s->need_rset || (chunking && smtp_inflight(s) > 0)) {
		if (cmd(s, -1, e, "RSET") == -1 ||
		    wait_push(s, SMTP_WAIT_RSET, NULL, e) == -1)
			goto broken;
		s->need_rset = 0;
		/* its reply before MAIL, unless PIPELINING was offered */
		if (!pipelining(s) && smtp_wait(s, 1, e) == -1)
			goto broken;
	}
	if (txn_cmd(s, t, 1, e, "MAIL FROM:<%s>%s", from, params) == -1)
		goto broken;
	for (i = 0; i < n && !t->done; i++)
		if (txn_cmd(s, t, 0, e, "RCPT TO:<%s>%s", rcpt[i].addr,
		    notify) == -1)
			goto broken;
	if (t->done)			/* no pipelining: MAIL refused */
		return 0;
	if (!pipelining(s) && no_rcpt(t)) {
		t->all_sent = 1;	/* no DATA for nobody */
		txn_end(s, t);
		wait_drop(s, t);
		return 0;
	}
	if (chunking) {
		/*
		 * CHUNKING and PIPELINING: RFC 3030 2, the chunks go
		 * whatever RCPT said, behind the envelope, unanswered
		 */
		if (send_chunks(s, t, msg, e) == -1)
			goto broken;
	} else {
		/*
		 * PIPELINING: RFC 2920 3.1, DATA ends the group; the group
		 * also carries the end of the message before (its content
		 * may start a group) and the replies to both come in one
		 * go. Without PIPELINING, smtp_wait above read that reply
		 * and txn_cmd reads each one before the next command.
		 */
		if (txn_cmd(s, t, 0, e, "DATA%s%s", "", "") == -1 ||
		    wait_for(s, t, 1, e) == -1)
			goto broken;
		if (t->done)
			return 0;
		if (send_data(s, msg, e) == -1)
			goto broken;
		t->sent++;		/* the end-of-data reply */
		t->all_sent = 1;
	}
	if ((flags & SMTP_SEND_LAST) && pipelining(s)) {
		/*
		 * PIPELINING: RFC 2920 3.1, QUIT may end the group that
		 * carries the end of data. Without it QUIT waits for that
		 * reply, in smtp_close. Its 221 is never read (smtp_close).
		 */
		if (cmd(s, -1, e, "QUIT") == -1)
			goto broken;
		s->quit_sent = 1;
	}
	if (flush_out(s, e) == -1)
		goto broken;
	/* it hung up meanwhile: its replies so far still count */
	if (tls_gone(&s->conn) && smtp_wait(s, 1, e) == -1)
		goto broken;
	/*
	 * Under BDAT keep at most s->window (<= SMTP_WINDOW) messages'
	 * replies due. Under DATA the next 354 bounds it to one already.
	 */
	while (smtp_inflight(s) >= (chunking ? s->window : SMTP_WINDOW))
		if (smtp_wait(s, 0, e) == -1)
			goto broken;
	return 0;
broken:
	if (!s->broken) {
		ferr_wrap(e, "%s", s->peer);
		wait_break(s, e, 0);
	}
	if (!t->done) {		/* not in s->wait yet */
		txn_fail(t, e, 1);
		txn_end(s, t);
	}
	return -1;
}

/*
 * Between messages the server says nothing unless it is going away
 * (RFC 5321 3.8: 421, or a close): anything to read, or a reset
 * connection, means the session is over.
 */
int
smtp_idle_ok(const struct smtp_session *s)
{
	struct pollfd p = { s->fd, POLLIN, 0 };

	if (s->broken || s->quit_sent || s->auth_failed)
		return 0;
	if (s->nwait > 0)
		return 1;		/* replies due: they tell */
	return !(s->inoff < s->inlen || poll(&p, 1, 0) != 0);
}

void
smtp_close(struct smtp_session *s)
{
	struct ferr e;

	if (s->fd == -1)
		return;
	/* every reply still due decides a message: read them first */
	while (!s->broken && s->nwait > 0)
		if (wait_read(s, &e) == -1)
			break;
	/*
	 * Then QUIT, best effort: the mail is already the server's. Not
	 * after a timeout or a broken dialogue: a stall must cost one
	 * timeout, not two. Its 221 decides nothing and is never read,
	 * here or anywhere: a server that never answers QUIT (Courier)
	 * must not hold the caller for `timeout` (RFC 5321 4.1.1.10 only
	 * says SHOULD; Postfix's own client skips it by default,
	 * smtp_skip_quit_response).
	 */
	if (!s->broken && !s->quit_sent && cmd(s, -1, &e, "QUIT") == 0)
		s->quit_sent = 1;
	if (!s->broken)
		(void)flush_out(s, &e);
	tls_close(&s->conn);
	close(s->fd);
	s->fd = -1;
}

const char *
smtp_peer(const struct smtp_session *s)
{
	return s->peer;
}

void
smtp_describe(const struct smtp_session *s, char *out, size_t size)
{
	static const struct {
		unsigned	 bit;
		const char	*name;
	} exts[] = {
		{ SMTP_EXT_PIPELINING, " PIPELINING" },
		{ SMTP_EXT_8BITMIME, " 8BITMIME" },
		{ SMTP_EXT_SMTPUTF8, " SMTPUTF8" },
		{ SMTP_EXT_DSN, " DSN" },
		{ SMTP_EXT_CHUNKING, " CHUNKING" },
	};
	char	 tls[64] = "no TLS", auth[64] = "no AUTH", offered[128];
	size_t	 i, len;

	if (s->conn.on == 2)
		snprintf(tls, sizeof(tls), "TLS 1.2 (cipher suite 0x%04X%s)",
		    (unsigned)s->conn.sc.eng.session.cipher_suite,
		    tls_resumed(&s->conn) ? ", session resumed" : "");
	if (s->mech != 0)
		snprintf(auth, sizeof(auth), "AUTH %s as %s",
		    auth_name(s->mech), s->conf->user);
	offered[0] = '\0';
	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (s->ext.flags & exts[i].bit) {
			len = strlen(offered);
			snprintf(offered + len, sizeof(offered) - len, "%s",
			    exts[i].name);
		}
	if (s->ext.flags & SMTP_EXT_SIZE) {
		len = strlen(offered);
		snprintf(offered + len, sizeof(offered) - len, " SIZE %lu",
		    s->ext.size);
	}
	snprintf(out, size, "%s: %s, %s; server offers%s", s->peer, tls,
	    auth, offered[0] ? offered : " no extensions");
}
