#include <stdlib.h>

#include "serve.h"
#include "t.h"

#define HOST		"mx.test"
#define DATA_MAX	16384
#define TRANS_MAX	16384
#define BIG_OUT		4096

#define F_BEGIN		0x1	/* begin fails */
#define F_DATA		0x2	/* data fails */
#define F_END		0x4	/* end fails */
#define F_END_DATA	0x100	/* end finds the content bad */

/* The caller's side: keeps the message and what end was given. */
struct fake {
	unsigned	fail;
	int		begins, ends, aborts;
	char		data[DATA_MAX];
	size_t		len;
	char		env[512];	/* "from>rcpt|rcpt" at the last end */
};

static int
fake_begin(void *arg, struct ferr *e)
{
	struct fake *f = arg;

	f->begins++;
	f->len = 0;
	if (f->fail & F_BEGIN)
		return ferr_set(e, FE_TEMP, 0, "no spool");
	return 0;
}

static int
fake_data(void *arg, const char *buf, size_t len, struct ferr *e)
{
	struct fake *f = arg;

	if (f->fail & F_DATA)
		return ferr_set(e, FE_TEMP, 0, "disk full");
	if (len > sizeof(f->data) - f->len)
		return ferr_set(e, FE_SOFTWARE, 0, "test buffer");
	memcpy(f->data + f->len, buf, len);
	f->len += len;
	return 0;
}

static int
fake_end(void *arg, const char *from, const struct msg_addrs *rcpts,
    char *reply, size_t replysize, struct ferr *e)
{
	struct fake	*f = arg;
	size_t		 i, n;

	f->ends++;
	n = (size_t)snprintf(f->env, sizeof(f->env), "%s>", from);
	for (i = 0; i < rcpts->n && n < sizeof(f->env); i++)
		n += (size_t)snprintf(f->env + n, sizeof(f->env) - n, "%s%s",
		    i ? "|" : "", rcpts->v[i]);
	if (f->fail & F_END)
		return ferr_set(e, FE_TEMP, 0, "spool full");
	if (f->fail & F_END_DATA)
		return ferr_set(e, FE_DATA, 0, "message contains a NUL byte");
	snprintf(reply, replysize, "250 2.0.0 queued as %d", f->ends);
	return 0;
}

static void
fake_abort(void *arg)
{
	struct fake *f = arg;

	f->aborts++;
}

static const struct serve_ops fake_ops = {
	fake_begin, fake_data, fake_end, fake_abort
};

/*
 * Feed in, split pieces at a time (0: whole), through an out buffer of
 * outsize bytes; the replies go to tr, NUL-ended. Returns what
 * serve_input last returned, or -2 if it stopped taking bytes.
 */
static int
feed(struct serve *sv, const char *in, size_t len, size_t split,
    size_t outsize, struct fake *f, char *tr, size_t *trlen)
{
	char		out[BIG_OUT];
	struct ferr	e;
	size_t		off = 0, n, used, outlen;
	int		rc;

	while (off < len) {
		n = split == 0 || split > len - off ? len - off : split;
		while (n > 0) {
			outlen = 0;
			rc = serve_input(sv, in + off, n, &used, out, outsize,
			    &outlen, &fake_ops, f, &e);
			if (outlen > TRANS_MAX - 1 - *trlen)
				return -2;
			memcpy(tr + *trlen, out, outlen);
			*trlen += outlen;
			tr[*trlen] = '\0';
			off += used;
			n -= used;
			if (rc != 0)
				return rc;
			if (used == 0 && outlen == 0)
				return -2;
		}
	}
	return 0;
}

struct scase {
	const char	*name;
	const char	*in;
	unsigned	 fail;
	int		 rc;		/* serve_input's last */
	const char	*out;		/* all replies */
	const char	*data;		/* the last message, or NULL */
	const char	*env;		/* "from>rcpts" at end, or NULL */
	int		 ends, aborts;	/* after serve_eof */
};

#define EHLO_REPLY	"250-" HOST "\r\n250-PIPELINING\r\n250-8BITMIME\r\n" \
			"250 ENHANCEDSTATUSCODES\r\n"
#define GO		"354 End data with <CR><LF>.<CR><LF>\r\n"
#define OK		"250 2.0.0 Ok\r\n"
#define MAIL_OK		"250 2.1.0 Ok\r\n"
#define RCPT_OK		"250 2.1.5 Ok\r\n"
#define BYE		"221 2.0.0 " HOST " closing\r\n"

static const struct scase cases[] = {
	{ "full session",
	  "EHLO client.test\r\n"
	  "MAIL FROM:<a@b.test> SIZE=42 BODY=8BITMIME\r\n"
	  "RCPT TO:<x@y.test>\r\nRCPT TO:<z@y.test>\r\nDATA\r\n"
	  "Subject: hi\r\n\r\n..x\r\n.y\r\nlast\r\n.\r\nQUIT\r\n",
	  0, 1,
	  EHLO_REPLY MAIL_OK RCPT_OK RCPT_OK GO
	  "250 2.0.0 queued as 1\r\n" BYE,
	  "Subject: hi\n\n.x\ny\nlast\n", "a@b.test>x@y.test|z@y.test",
	  1, 0 },
	{ "bare LF, null sender, bare CR kept",
	  "helo c\nmail from:<>\nrcpt to:<x@y>\ndata\na\rb\n..\n\n.\n",
	  0, 0, "250 " HOST "\r\n" MAIL_OK RCPT_OK GO
	  "250 2.0.0 queued as 1\r\n", "a\rb\n.\n\n", ">x@y", 1, 0 },
	{ "dot-CR not at end is data",
	  "MAIL FROM:<a@b>\r\nRCPT TO:<x@y>\r\nDATA\r\n.\rq\r\n.\r\n",
	  0, 0, MAIL_OK RCPT_OK GO "250 2.0.0 queued as 1\r\n", "\rq\n",
	  "a@b>x@y", 1, 0 },
	{ "empty message, two in a session",
	  "MAIL FROM:<a@b>\r\nRCPT TO:<x@y>\r\nDATA\r\n.\r\n"
	  "MAIL FROM:<c@d>\r\nRCPT TO:<Postmaster>\r\nDATA\r\nm\r\n.\r\n",
	  0, 0, MAIL_OK RCPT_OK GO "250 2.0.0 queued as 1\r\n"
	  MAIL_OK RCPT_OK GO "250 2.0.0 queued as 2\r\n", "m\n",
	  "c@d>Postmaster", 2, 0 },
	{ "source route dropped, space after colon",
	  "MAIL FROM: <@r.test:a@b>\r\nRCPT TO:<@p,@q:x@y>\r\nDATA\r\n.\r\n",
	  0, 0, MAIL_OK RCPT_OK GO "250 2.0.0 queued as 1\r\n", "",
	  "a@b>x@y", 1, 0 },
	{ "RCPT before MAIL", "RCPT TO:<x@y>\r\n", 0, 0,
	  "503 5.5.1 Need MAIL before RCPT\r\n", NULL, NULL, 0, 0 },
	{ "DATA before MAIL", "DATA\r\n", 0, 0,
	  "503 5.5.1 Need MAIL before DATA\r\n", NULL, NULL, 0, 0 },
	{ "DATA before RCPT, then data read as commands",
	  "MAIL FROM:<a@b>\r\nDATA\r\nhello\r\n", 0, 0,
	  MAIL_OK "554 5.5.1 No valid recipients\r\n"
	  "500 5.5.2 Command unrecognized\r\n", NULL, NULL, 0, 0 },
	{ "nested MAIL", "MAIL FROM:<a@b>\r\nMAIL FROM:<a@b>\r\n", 0, 0,
	  MAIL_OK "503 5.5.1 Nested MAIL command\r\n", NULL, NULL, 0, 0 },
	{ "bad addresses",
	  "MAIL FROM:<a b@c>\r\nMAIL FROM:a@b\r\nRCPT TO:<-x@y>\r\n"
	  "RCPT TO:<>\r\nRCPT TO:<x@y\r\nRCPT TO:<x@y>junk\r\n"
	  "RCPT TO:<\"q>\"@y>\r\nRCPT <x@y>\r\n",
	  0, 0, "501 5.1.7 bad character ' ' in address a b@c\r\n" MAIL_OK
	  "501 5.1.3 address begins with '-': -x@y\r\n"
	  "501 5.5.4 Syntax: RCPT TO:<address>\r\n"
	  "501 5.5.4 Syntax: RCPT TO:<address>\r\n"
	  "501 5.5.4 Syntax: RCPT TO:<address>\r\n" RCPT_OK
	  "501 5.5.4 Syntax: RCPT TO:<address>\r\n", NULL, NULL, 0, 0 },
	{ "RSET clears",
	  "MAIL FROM:<a@b>\r\nRCPT TO:<x@y>\r\nRSET\r\nDATA\r\nRCPT TO:<x@y>\r\n",
	  0, 0, MAIL_OK RCPT_OK OK "503 5.5.1 Need MAIL before DATA\r\n"
	  "503 5.5.1 Need MAIL before RCPT\r\n", NULL, NULL, 0, 0 },
	{ "EHLO clears", "MAIL FROM:<a@b>\r\nEHLO c\r\nRCPT TO:<x@y>\r\n",
	  0, 0, MAIL_OK EHLO_REPLY "503 5.5.1 Need MAIL before RCPT\r\n",
	  NULL, NULL, 0, 0 },
	{ "EOF mid-DATA aborts",
	  "MAIL FROM:<a@b>\r\nRCPT TO:<x@y>\r\nDATA\r\npart", 0, 0,
	  MAIL_OK RCPT_OK GO, NULL, NULL, 0, 1 },
	{ "EOF after the dot line's dot",
	  "MAIL FROM:<a@b>\r\nRCPT TO:<x@y>\r\nDATA\r\n.\r", 0, 0,
	  MAIL_OK RCPT_OK GO, NULL, NULL, 0, 1 },
	{ "end fails: 451, reset",
	  "MAIL FROM:<a@b>\r\nRCPT TO:<x@y>\r\nDATA\r\nm\r\n.\r\n"
	  "RCPT TO:<x@y>\r\n", F_END, 0,
	  MAIL_OK RCPT_OK GO "451 4.3.0 spool full\r\n"
	  "503 5.5.1 Need MAIL before RCPT\r\n", NULL, "a@b>x@y", 1, 1 },
	{ "end finds bad content: 554, not a retry",
	  "MAIL FROM:<a@b>\r\nRCPT TO:<x@y>\r\nDATA\r\nm\r\n.\r\n", F_END_DATA,
	  0, MAIL_OK RCPT_OK GO "554 5.6.0 message contains a NUL byte\r\n",
	  NULL, "a@b>x@y", 1, 1 },
	{ "data fails: read to the dot, 451",
	  "MAIL FROM:<a@b>\r\nRCPT TO:<x@y>\r\nDATA\r\nm\r\nQUIT\r\n.\r\n"
	  "NOOP\r\n", F_DATA, 0,
	  MAIL_OK RCPT_OK GO "451 4.3.0 disk full\r\n" OK, NULL, NULL, 0, 1 },
	{ "begin fails: 451, no abort",
	  "MAIL FROM:<a@b>\r\nRCPT TO:<x@y>\r\nDATA\r\nNOOP\r\n", F_BEGIN, 0,
	  MAIL_OK RCPT_OK "451 4.3.0 no spool\r\n" OK, NULL, NULL, 0, 0 },
	{ "QUIT returns 1, rest not taken", "NOOP\r\nQUIT\r\nNOOP\r\n", 0, 1,
	  OK BYE, NULL, NULL, 0, 0 },
	{ "QUIT mid-transaction", "MAIL FROM:<a@b>\r\nQUIT\r\n", 0, 1,
	  MAIL_OK BYE, NULL, NULL, 0, 0 },
	{ "others",
	  "VRFY root\r\nHELP\r\nEXPN x\r\nMAILX\r\n\r\nHELO\r\nnoop x\r\n"
	  "STARTTLS\r\n", 0, 0,
	  "252 2.5.0 Cannot VRFY; send mail and see\r\n"
	  "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT "
	  "VRFY HELP\r\n"
	  "500 5.5.2 Command unrecognized\r\n"
	  "500 5.5.2 Command unrecognized\r\n"
	  "500 5.5.2 Command unrecognized\r\n"
	  "501 5.5.4 Syntax: HELO hostname\r\n" OK
	  "500 5.5.2 Command unrecognized\r\n", NULL, NULL, 0, 0 },
};

static void
scase_run(struct t *t, const struct scase *c, size_t split, size_t outsize)
{
	struct serve	 sv;
	struct fake	*f = calloc(1, sizeof(*f));
	char		*tr = malloc(TRANS_MAX), what[128];
	size_t		 trlen = 0;
	int		 rc;

	snprintf(what, sizeof(what), "%s (split %zu, out %zu)", c->name,
	    split, outsize);
	if (f == NULL || tr == NULL) {
		T_OK(t, 0, what);
		goto out;
	}
	tr[0] = '\0';
	f->fail = c->fail;
	serve_init(&sv, HOST);
	rc = feed(&sv, c->in, strlen(c->in), split, outsize, f, tr, &trlen);
	serve_eof(&sv, &fake_ops, f);
	T_OK(t, rc == c->rc, what);
	T_STREQ(t, tr, c->out, what);
	if (c->data != NULL)
		T_MEMEQ(t, f->data, f->len, c->data, strlen(c->data), what);
	if (c->env != NULL)
		T_STREQ(t, f->env, c->env, what);
	T_OK(t, f->ends == c->ends && f->aborts == c->aborts, what);
	T_OK(t, sv.rcpts.n == 0 && sv.rcpts.v == NULL, what);
out:
	free(f);
	free(tr);
}

/* Command lines: 998 bytes + CRLF is the limit (RFC 5321 4.5.3.1.6). */
static void
line_cases(struct t *t)
{
	static const struct {
		size_t		 len;	/* the line, with its end */
		const char	*end;
		const char	*want;
	} lc[] = {
		{ 1000, "\r\n", OK },
		{ 1001, "\r\n", "500 5.5.2 Line too long\r\n" },
		{ 999, "\n", OK },
		{ 1000, "\n", "500 5.5.2 Line too long\r\n" },
		{ 5000, "\r\n", "500 5.5.2 Line too long\r\n" },
	};
	struct serve	 sv;
	struct fake	 f;
	char		*in = malloc(8192), tr[TRANS_MAX], what[64];
	size_t		 i, n, el, trlen;
	int		 rc;

	if (in == NULL) {
		T_OK(t, 0, "line: malloc");
		return;
	}
	for (i = 0; i < sizeof(lc) / sizeof(lc[0]); i++) {
		el = strlen(lc[i].end);
		n = lc[i].len - el;
		memcpy(in, "NOOP ", 5);
		memset(in + 5, 'x', n - 5);
		memcpy(in + n, lc[i].end, el);
		memcpy(in + lc[i].len, "NOOP\r\n", 6);
		snprintf(what, sizeof(what), "line of %zu", lc[i].len);
		memset(&f, 0, sizeof(f));
		serve_init(&sv, HOST);
		trlen = 0;
		rc = feed(&sv, in, lc[i].len + 6, 7, BIG_OUT, &f, tr, &trlen);
		serve_eof(&sv, &fake_ops, &f);
		T_OK(t, rc == 0, what);
		T_OK(t, trlen == strlen(lc[i].want) + strlen(OK) &&
		    memcmp(tr, lc[i].want, strlen(lc[i].want)) == 0, what);
		T_STREQ(t, tr + strlen(lc[i].want), OK, what);
	}
	free(in);
}

/* A data line far over any buffer passes through in pieces. */
static void
long_data_case(struct t *t)
{
	static const char head[] = "MAIL FROM:<a@b>\r\nRCPT TO:<x@y>\r\n"
	    "DATA\r\n";
	struct serve	 sv;
	struct fake	*f = calloc(1, sizeof(*f));
	char		*in = malloc(DATA_MAX), tr[TRANS_MAX];
	size_t		 n = 3 * SERVE_DATA_SIZE, hl = strlen(head), trlen = 0;
	int		 rc;

	if (f == NULL || in == NULL) {
		T_OK(t, 0, "long data: malloc");
		goto out;
	}
	memcpy(in, head, hl);
	in[hl] = '.';
	memset(in + hl + 1, 'y', n);
	in[hl + n - 1] = '\r';	/* a bare CR is data */
	memcpy(in + hl + 1 + n, "\r\n.\r\n", 5);
	serve_init(&sv, HOST);
	rc = feed(&sv, in, hl + n + 6, 1000, BIG_OUT, f, tr, &trlen);
	serve_eof(&sv, &fake_ops, f);
	T_OK(t, rc == 0 && f->ends == 1, "long data: ended");
	memmove(in, in + hl + 1, n);	/* the stuffed dot dropped */
	in[n] = '\n';
	T_MEMEQ(t, f->data, f->len, in, n + 1, "long data: bytes");
out:
	free(f);
	free(in);
}

static void
misc_cases(struct t *t)
{
	static const char two[] = "MAIL FROM:<a@b>\r\nRCPT TO:<x@y>\r\n"
	    "RCPT TO:<X@Y>\r\nRCPT TO:<z@y>\r\nRCPT TO:<w@y>\r\n";
	struct serve	sv;
	struct fake	f;
	struct ferr	e;
	char		out[BIG_OUT], tr[TRANS_MAX] = "";
	size_t		len = 0, used, trlen = 0;

	serve_init(&sv, HOST);
	T_OK(t, serve_greeting(&sv, out, sizeof(out), &len, &e) == 0,
	    "greeting");
	T_MEMEQ(t, out, len, "220 " HOST " ESMTP ferry\r\n",
	    strlen("220 " HOST " ESMTP ferry\r\n"), "greeting text");
	len = 0;
	T_OK(t, serve_greeting(&sv, out, SERVE_REPLY_SIZE - 1, &len, &e) ==
	    -1 && e.kind == FE_SOFTWARE, "greeting: no room");
	len = 0;
	T_OK(t, serve_input(&sv, "NOOP\r\n", 6, &used, out,
	    SERVE_REPLY_SIZE - 1, &len, &fake_ops, &f, &e) == -1 &&
	    e.kind == FE_SOFTWARE && used == 0, "input: no room");
	T_OK(t, serve_input(&sv, "NOOP\r", 5, &used, out,
	    SERVE_REPLY_SIZE - 1, &len, &fake_ops, &f, &e) == 0 &&
	    used == 5, "input: no reply needs no room");
	serve_eof(&sv, &fake_ops, &f);

	serve_init(&sv, "bad host\r\n");
	len = 0;
	serve_greeting(&sv, out, sizeof(out), &len, &e);
	T_MEMEQ(t, out, len, "220 localhost ESMTP ferry\r\n",
	    strlen("220 localhost ESMTP ferry\r\n"), "hostname checked");
	serve_eof(&sv, &fake_ops, &f);

	/* the limit; a duplicate (any case) is not counted twice */
	memset(&f, 0, sizeof(f));
	serve_init(&sv, HOST);
	sv.rcpt_max = 2;
	feed(&sv, two, strlen(two), 0, BIG_OUT, &f, tr, &trlen);
	T_STREQ(t, tr, MAIL_OK RCPT_OK RCPT_OK RCPT_OK
	    "452 4.5.3 Too many recipients\r\n", "rcpt_max");
	T_OK(t, sv.rcpts.n == 2, "rcpt_max: count");
	serve_eof(&sv, &fake_ops, &f);
}

void
serve_test(struct t *t)
{
	static const size_t splits[] = { 0, 1, 2, 7 };
	size_t	i, j;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (j = 0; j < sizeof(splits) / sizeof(splits[0]); j++)
			scase_run(t, &cases[i], splits[j], BIG_OUT);
		/* room for one reply at a time: pipelining still in order */
		scase_run(t, &cases[i], 0, SERVE_REPLY_SIZE);
	}
	line_cases(t);
	long_data_case(t);
	misc_cases(t);
}
