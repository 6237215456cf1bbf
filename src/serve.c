#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "serve.h"

/* Where DATA is in the current line (sv->dot). */
enum {
	DOT_BOL,		/* at the start of a line */
	DOT_TEXT,		/* inside a line */
	DOT_CR,			/* inside a line, a CR held back */
	DOT_DOT,		/* a '.' began the line, held back */
	DOT_DOTCR		/* the line so far is ".\r", held back */
};

/* The longest line text, without CRLF. */
#define LINE_MAX	(SERVE_LINE_SIZE - 2)

void
serve_init(struct serve *sv, const char *hostname)
{
	size_t	i, len;

	memset(sv, 0, sizeof(*sv));
	sv->state = SERVE_IDLE;
	sv->rcpt_max = SERVE_RCPT_MAX;
	msg_addrs_init(&sv->rcpts);
	len = hostname == NULL ? 0 : strlen(hostname);
	for (i = 0; i < len; i++)	/* it goes into every reply */
		if ((unsigned char)hostname[i] <= ' ' || hostname[i] == 127)
			len = 0;
	if (len == 0) {
		hostname = "localhost";
		len = strlen(hostname);
	}
	if (len >= sizeof(sv->host))
		len = sizeof(sv->host) - 1;
	memcpy(sv->host, hostname, len);
	sv->host[len] = '\0';
}

/*
 * Append one reply line and CRLF. The text is cut to fit a reply line
 * and control characters become '?', so an address or error text from
 * elsewhere cannot end the line early or add one.
 */
static void
reply(char *out, size_t size, size_t *outlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
reply(char *out, size_t size, size_t *outlen, const char *fmt, ...)
{
	char	text[SERVE_REPLY_SIZE - 2];
	va_list	ap;
	size_t	i, len;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);	/* cut is fine */
	va_end(ap);
	if (n < 0)
		n = snprintf(text, sizeof(text), "451 4.3.0 Internal error");
	len = strlen(text);
	for (i = 0; i < len; i++)
		if ((unsigned char)text[i] < ' ' || text[i] == 127)
			text[i] = '?';
	/* serve_input made sure of SERVE_REPLY_SIZE free; stay safe */
	if (size - *outlen < len + 2)
		return;
	memcpy(out + *outlen, text, len);
	memcpy(out + *outlen + len, "\r\n", 2);
	*outlen += len + 2;
}

int
serve_greeting(struct serve *sv, char *out, size_t size, size_t *len,
    struct ferr *e)
{
	if (*len > size || size - *len < SERVE_REPLY_SIZE)
		return ferr_set(e, FE_SOFTWARE, 0, "reply buffer too small");
	reply(out, size, len, "220 %s ESMTP ferry", sv->host);
	return 0;
}

/* Forget the envelope; RSET, HELO, EHLO, QUIT and each DATA's end. */
static void
txn_reset(struct serve *sv)
{
	sv->state = SERVE_IDLE;
	sv->from[0] = '\0';
	msg_addrs_free(&sv->rcpts);
	sv->dot = DOT_BOL;
	sv->dlen = 0;
	sv->data_failed = 0;
}

/* Hand the buffered message bytes to the caller. */
static void
data_flush(struct serve *sv, const struct serve_ops *ops, void *arg)
{
	/* after a failure the rest is read and dropped: the 451 waits
	 * for the final dot, as the client reads no reply before it */
	if (sv->dlen > 0 && !sv->data_failed &&
	    ops->data(arg, sv->dbuf, sv->dlen, &sv->data_err) == -1)
		sv->data_failed = 1;
	sv->dlen = 0;
}

static void
data_put(struct serve *sv, char ch, const struct serve_ops *ops, void *arg)
{
	if (sv->dlen == sizeof(sv->dbuf))
		data_flush(sv, ops, arg);
	sv->dbuf[sv->dlen++] = ch;
}

/*
 * One byte of message data. RFC 5321 4.5.2: a line that is only "."
 * ends the data, and a leading '.' on any other line is dropped. CRLF
 * and a bare LF both end a line and become LF; a bare CR is data.
 * Returns 1 at the end of the data.
 */
static int
data_byte(struct serve *sv, char ch, const struct serve_ops *ops,
    void *arg)
{
	for (;;) {
		switch (sv->dot) {
		case DOT_BOL:
		case DOT_TEXT:
			if (sv->dot == DOT_BOL && ch == '.')
				sv->dot = DOT_DOT;
			else if (ch == '\r')
				sv->dot = DOT_CR;
			else {
				data_put(sv, ch, ops, arg);
				sv->dot = ch == '\n' ? DOT_BOL : DOT_TEXT;
			}
			return 0;
		case DOT_CR:
			if (ch == '\n') {
				data_put(sv, '\n', ops, arg);
				sv->dot = DOT_BOL;
				return 0;
			}
			data_put(sv, '\r', ops, arg);
			if (ch == '\r')
				return 0;	/* this one is held now */
			sv->dot = DOT_TEXT;
			continue;
		case DOT_DOT:
			if (ch == '\n')
				return 1;
			if (ch == '\r') {
				sv->dot = DOT_DOTCR;
				return 0;
			}
			sv->dot = DOT_TEXT;	/* drop the stuffed dot */
			continue;
		default:		/* DOT_DOTCR */
			if (ch == '\n')
				return 1;
			sv->dot = DOT_CR;	/* ".\r" + more: a bare CR */
			continue;
		}
	}
}

/* The final dot: commit through end, or drop the message. */
static void
data_end(struct serve *sv, char *out, size_t size, size_t *outlen,
    const struct serve_ops *ops, void *arg)
{
	char		text[SERVE_REPLY_SIZE - 2];
	struct ferr	e;
	size_t		n;

	data_flush(sv, ops, arg);
	if (sv->data_failed) {
		reply(out, size, outlen, "451 4.3.0 %s", sv->data_err.text);
		ops->abort(arg);
		txn_reset(sv);
		return;
	}
	text[0] = '\0';
	ferr_clear(&e);
	if (ops->end(arg, sv->from, &sv->rcpts, text, sizeof(text),
	    &e) == -1) {
		/* bad content (a NUL, a broken header) fails every retry */
		if (e.kind == FE_DATA)
			reply(out, size, outlen, "554 5.6.0 %s", e.text);
		else
			reply(out, size, outlen, "451 4.3.0 %s", e.text);
		ops->abort(arg);
		txn_reset(sv);
		return;
	}
	text[sizeof(text) - 1] = '\0';
	n = strcspn(text, "\r\n");
	text[n] = '\0';
	/* a reply must be a 2xx line; anything else is a caller's slip */
	if (n < 4 || text[0] != '2' || text[1] < '0' || text[1] > '9' ||
	    text[2] < '0' || text[2] > '9' || text[3] != ' ')
		reply(out, size, outlen, "250 2.0.0 Ok");
	else
		reply(out, size, outlen, "%s", text);
	txn_reset(sv);
}

/* The verb is word (4 letters), any case, followed by a space or end. */
static int
verb_is(const char *line, const char *word)
{
	return strncasecmp(line, word, 4) == 0 &&
	    (line[4] == '\0' || line[4] == ' ');
}

/*
 * Take the path after "MAIL FROM:" or "RCPT TO:" into addr (size
 * bytes); *rest gets what follows (the parameters). "<>" gives "". A
 * source route (<@a,@b:u@c>) is dropped, RFC 5321 4.1.1.3 lets us. A
 * path without angles is taken to the next space, as sendmail does.
 */
static int
path_parse(const char *p, char *addr, size_t size, const char **rest)
{
	const char	*end;
	size_t		 len;
	int		 quoted = 0;

	while (*p == ' ')	/* "MAIL FROM: <a@b>" is common */
		p++;
	if (*p != '<') {
		len = strcspn(p, " ");
		end = p + len;
		*rest = end;
	} else {
		for (end = ++p; *end != '\0'; end++) {
			if (*end == '\\' && quoted && end[1] != '\0')
				end++;
			else if (*end == '"')
				quoted = !quoted;
			else if (*end == '>' && !quoted)
				break;
		}
		if (*end != '>')
			return -1;
		*rest = end + 1;
		if (*p == '@') {
			while (p < end && *p != ':')
				p++;
			if (p == end)
				return -1;
			p++;
		}
		len = (size_t)(end - p);
	}
	if (**rest != '\0' && **rest != ' ')
		return -1;
	if (len >= size)
		return -1;
	memcpy(addr, p, len);
	addr[len] = '\0';
	return 0;
}

static void
cmd_mail(struct serve *sv, const char *line, char *out, size_t size,
    size_t *outlen)
{
	char		 addr[MSG_ADDR_SIZE];
	const char	*rest;
	struct ferr	 e;

	if (sv->state != SERVE_IDLE) {
		reply(out, size, outlen, "503 5.5.1 Nested MAIL command");
		return;
	}
	if (strncasecmp(line, "MAIL FROM:", 10) != 0 ||
	    path_parse(line + 10, addr, sizeof(addr), &rest) == -1) {
		reply(out, size, outlen, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return;
	}
	/* SIZE= and BODY= (RFC 1870, 6152) change nothing for a spool */
	if (addr[0] != '\0' && msg_addr_check(addr, &e) == -1) {
		reply(out, size, outlen, "501 5.1.7 %s", e.text);
		return;
	}
	memcpy(sv->from, addr, sizeof(sv->from));
	sv->state = SERVE_MAIL;
	reply(out, size, outlen, "250 2.1.0 Ok");
}

static void
cmd_rcpt(struct serve *sv, const char *line, char *out, size_t size,
    size_t *outlen)
{
	char		 addr[MSG_ADDR_SIZE];
	const char	*rest;
	struct ferr	 e;

	if (sv->state != SERVE_MAIL) {
		reply(out, size, outlen, "503 5.5.1 Need MAIL before RCPT");
		return;
	}
	if (strncasecmp(line, "RCPT TO:", 8) != 0 ||
	    path_parse(line + 8, addr, sizeof(addr), &rest) == -1 ||
	    addr[0] == '\0') {
		reply(out, size, outlen, "501 5.5.4 Syntax: RCPT TO:<address>");
		return;
	}
	if (msg_addr_check(addr, &e) == -1) {
		reply(out, size, outlen, "501 5.1.3 %s", e.text);
		return;
	}
	if (sv->rcpts.n >= sv->rcpt_max) {	/* RFC 5321 4.5.3.1.10 */
		reply(out, size, outlen, "452 4.5.3 Too many recipients");
		return;
	}
	if (msg_addrs_add(&sv->rcpts, addr, strlen(addr), &e) == -1) {
		reply(out, size, outlen, "452 4.3.1 %s", e.text);
		return;
	}
	reply(out, size, outlen, "250 2.1.5 Ok");
}

static void
cmd_data(struct serve *sv, char *out, size_t size, size_t *outlen,
    const struct serve_ops *ops, void *arg)
{
	struct ferr	e;

	if (sv->state != SERVE_MAIL) {
		reply(out, size, outlen, "503 5.5.1 Need MAIL before DATA");
		return;
	}
	if (sv->rcpts.n == 0) {
		reply(out, size, outlen, "554 5.5.1 No valid recipients");
		return;
	}
	ferr_clear(&e);
	if (ops->begin(arg, &e) == -1) {
		reply(out, size, outlen, "451 4.3.0 %s", e.text);
		txn_reset(sv);
		return;
	}
	sv->state = SERVE_DATA;
	sv->dot = DOT_BOL;
	sv->dlen = 0;
	sv->data_failed = 0;
	reply(out, size, outlen, "354 End data with <CR><LF>.<CR><LF>");
}

/* One command line, without its line end. Returns 1 after QUIT. */
static int
cmd_line(struct serve *sv, const char *line, size_t len, char *out,
    size_t size, size_t *outlen, const struct serve_ops *ops, void *arg)
{
	if (memchr(line, '\0', len) != NULL) {
		reply(out, size, outlen, "500 5.5.2 NUL in command");
		return 0;
	}
	if (verb_is(line, "HELO") || verb_is(line, "EHLO")) {
		if (line[4] == '\0' || line[5] == '\0') {
			reply(out, size, outlen, "501 5.5.4 Syntax: %.4s "
			    "hostname", line);
			return 0;
		}
		txn_reset(sv);		/* RFC 5321 4.1.4 */
		if (line[0] == 'H' || line[0] == 'h') {
			reply(out, size, outlen, "250 %s", sv->host);
			return 0;
		}
		reply(out, size, outlen, "250-%s", sv->host);
		reply(out, size, outlen, "250-PIPELINING");
		reply(out, size, outlen, "250-8BITMIME");
		reply(out, size, outlen, "250 ENHANCEDSTATUSCODES");
	} else if (verb_is(line, "MAIL"))
		cmd_mail(sv, line, out, size, outlen);
	else if (verb_is(line, "RCPT"))
		cmd_rcpt(sv, line, out, size, outlen);
	else if (verb_is(line, "DATA"))
		cmd_data(sv, out, size, outlen, ops, arg);
	else if (verb_is(line, "RSET")) {
		txn_reset(sv);
		reply(out, size, outlen, "250 2.0.0 Ok");
	} else if (verb_is(line, "NOOP"))
		reply(out, size, outlen, "250 2.0.0 Ok");
	else if (verb_is(line, "VRFY"))
		reply(out, size, outlen, "252 2.5.0 Cannot VRFY; send mail "
		    "and see");
	else if (verb_is(line, "HELP"))
		reply(out, size, outlen, "214 2.0.0 Commands: HELO EHLO MAIL "
		    "RCPT DATA RSET NOOP QUIT VRFY HELP");
	else if (verb_is(line, "QUIT")) {
		txn_reset(sv);
		sv->state = SERVE_DONE;
		reply(out, size, outlen, "221 2.0.0 %s closing", sv->host);
		return 1;
	} else
		reply(out, size, outlen, "500 5.5.2 Command unrecognized");
	return 0;
}

int
serve_input(struct serve *sv, const char *in, size_t len, size_t *used,
    char *out, size_t size, size_t *outlen, const struct serve_ops *ops,
    void *arg, struct ferr *e)
{
	size_t	i;
	char	ch;
	int	rc = 0;

	*used = 0;
	if (sv->state == SERVE_DONE)
		return 1;
	if (*outlen > size)
		return ferr_set(e, FE_SOFTWARE, 0, "reply buffer overrun");
	for (i = 0; i < len && rc == 0; i++) {
		ch = in[i];
		/* an LF may end a line that gets a reply: room first */
		if (ch == '\n' && (sv->state != SERVE_DATA ||
		    sv->dot == DOT_DOT || sv->dot == DOT_DOTCR) &&
		    size - *outlen < SERVE_REPLY_SIZE) {
			if (*outlen == 0)
				return ferr_set(e, FE_SOFTWARE, 0,
				    "reply buffer too small");
			break;
		}
		if (sv->state == SERVE_DATA) {
			if (data_byte(sv, ch, ops, arg) == 1)
				data_end(sv, out, size, outlen, ops, arg);
			continue;
		}
		if (ch != '\n') {
			/* keep one byte more than a line for its CR */
			if (sv->linelen < sizeof(sv->line) - 1)
				sv->line[sv->linelen++] = ch;
			else
				sv->toolong = 1;
			continue;
		}
		if (sv->linelen > 0 && sv->line[sv->linelen - 1] == '\r')
			sv->linelen--;
		if (sv->toolong || sv->linelen > LINE_MAX)
			reply(out, size, outlen, "500 5.5.2 Line too long");
		else {
			sv->line[sv->linelen] = '\0';
			rc = cmd_line(sv, sv->line, sv->linelen, out, size,
			    outlen, ops, arg);
		}
		sv->linelen = 0;
		sv->toolong = 0;
	}
	*used = i;
	return rc;
}

void
serve_eof(struct serve *sv, const struct serve_ops *ops, void *arg)
{
	if (sv->state == SERVE_DATA)
		ops->abort(arg);
	txn_reset(sv);
	sv->state = SERVE_DONE;
}
