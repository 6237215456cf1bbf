#include "smtp.h"
#include "t.h"

static int
feed(struct smtp_reply *r, const char *const *lines)
{
	int	rc = 0;

	smtp_reply_init(r);
	for (; *lines != NULL; lines++)
		rc = smtp_reply_add(r, *lines, strlen(*lines));
	return rc;
}

static void
reply_cases(struct t *t)
{
	static const char *one[] = { "250 ok", NULL };
	static const char *bare[] = { "354", NULL };
	static const char *multi[] = { "250-mail.example", "250-PIPELINING",
	    "250 SIZE 1000", NULL };
	static const char *more[] = { "250-first", NULL };
	static const char *mixed[] = { "250-a", "251 b", NULL };
	static const char *bad[] = { "25 x", NULL };
	static const char *sep[] = { "250_x", NULL };
	static const char *low[] = { "199 x", NULL };
	static const char *letters[] = { "2a0 x", NULL };
	struct smtp_reply r;

	T_OK(t, feed(&r, one) == 1 && r.code == 250, "single line");
	T_STREQ(t, r.text, "ok", "single text");
	T_OK(t, feed(&r, bare) == 1 && r.code == 354, "code only");
	T_OK(t, feed(&r, multi) == 1 && r.nlines == 3, "multi-line");
	T_STREQ(t, r.text, "mail.example\nPIPELINING\nSIZE 1000", "joined");
	T_OK(t, feed(&r, more) == 0, "continuation pending");
	T_OK(t, feed(&r, mixed) == -1, "code changes mid-reply");
	T_OK(t, feed(&r, bad) == -1, "two digits");
	T_OK(t, feed(&r, sep) == -1, "bad separator");
	T_OK(t, feed(&r, low) == -1, "1xx is not SMTP");
	T_OK(t, feed(&r, letters) == -1, "letters");
}

static void
reply_limit_cases(struct t *t)
{
	char	line[SMTP_TEXT_SIZE + 100];
	struct smtp_reply r;

	memset(line, 'x', sizeof(line));
	memcpy(line, "250 ", 4);
	smtp_reply_init(&r);
	T_OK(t, smtp_reply_add(&r, line, sizeof(line)) == 1, "long line");
	T_OK(t, r.len == SMTP_TEXT_SIZE - 1 && r.text[r.len] == '\0',
	    "text cut to size");
	/* exactly fits: 4 + SMTP_TEXT_SIZE - 1 bytes of line */
	smtp_reply_init(&r);
	smtp_reply_add(&r, line, 4 + SMTP_TEXT_SIZE - 1);
	T_OK(t, r.len == SMTP_TEXT_SIZE - 1, "text exact size");
}

static void
ext_cases(struct t *t)
{
	static const char *ehlo[] = { "250-mail.example Hello",
	    "250-PIPELINING", "250-SIZE 10240000", "250-STARTTLS",
	    "250-AUTH PLAIN LOGIN", "250-AUTH=CRAM-MD5 SCRAM-SHA-256",
	    "250-8BITMIME", "250-DSN", "250-CHUNKING", "250 SMTPUTF8",
	    NULL };
	static const char *bare[] = { "250-x", "250-SIZE", "250-CHUNKINGX",
	    "250 STARTTLSX", NULL };
	struct smtp_reply r;
	struct smtp_ext	x;

	feed(&r, ehlo);
	smtp_ext_parse(&x, &r);
	T_OK(t, x.flags == (SMTP_EXT_PIPELINING | SMTP_EXT_SIZE |
	    SMTP_EXT_STARTTLS | SMTP_EXT_AUTH | SMTP_EXT_8BITMIME |
	    SMTP_EXT_DSN | SMTP_EXT_SMTPUTF8 | SMTP_EXT_CHUNKING),
	    "all flags");
	T_OK(t, x.size == 10240000, "size");
	T_OK(t, x.auth == CONF_AUTH_ALL, "auth incl. AUTH=");
	feed(&r, bare);
	smtp_ext_parse(&x, &r);
	T_OK(t, x.flags == SMTP_EXT_SIZE && x.size == 0, "SIZE alone");
}

static void
crlf_case(struct t *t, int stuff, const char *const *chunks,
    const char *want)
{
	char	out[1024];
	struct smtp_dot d;
	size_t	o = 0;

	if (stuff)
		smtp_dot_init(&d);
	else
		smtp_crlf_init(&d);
	for (; *chunks != NULL; chunks++)
		o += smtp_dot_stuff(&d, *chunks, strlen(*chunks), out + o);
	o += smtp_dot_end(&d, out + o);
	T_MEMEQ(t, out, o, want, strlen(want), want);
}

static void
dot_case(struct t *t, const char *const *chunks, const char *want)
{
	crlf_case(t, 1, chunks, want);
}

static void
dot_cases(struct t *t)
{
	static const char *lf[] = { "a\nb\n", NULL };
	static const char *crlf[] = { "a\r\nb\r\n", NULL };
	static const char *dots[] = { ".\n..x\nx.\n", NULL };
	static const char *split[] = { "a\r", "\n.", "b", NULL };
	static const char *noeol[] = { "abc", NULL };
	static const char *crend[] = { "abc\r", NULL };
	static const char *empty[] = { NULL };
	static const char *first[] = { ".", "\n", NULL };

	dot_case(t, lf, "a\r\nb\r\n.\r\n");
	dot_case(t, crlf, "a\r\nb\r\n.\r\n");
	dot_case(t, dots, "..\r\n...x\r\nx.\r\n.\r\n");
	dot_case(t, split, "a\r\n..b\r\n.\r\n");
	dot_case(t, noeol, "abc\r\n.\r\n");
	dot_case(t, crend, "abc\r\n.\r\n");
	dot_case(t, empty, ".\r\n");
	dot_case(t, first, "..\r\n.\r\n");
}

/* RFC 5321 2.3.8: no bare CR or LF on the wire, whatever the spool holds */
static void
bare_cr_cases(struct t *t)
{
	static const char *smuggle[] = { "line\r.\r\nMAIL FROM:<x@y>\r\n",
	    NULL };
	static const char *lfdot[] = { "line\n.\nRCPT TO:<x@y>\n", NULL };
	static const char *crcr[] = { "a\r\rb\r\n", NULL };
	static const char *crsplit[] = { "a\r", ".", "\r", "\n", NULL };
	static const char *lfcr[] = { "a\n\rb", NULL };
	static const char *raw[] = { ".a\r.b\n", NULL };
	static const char *rawend[] = { "x", NULL };

	dot_case(t, smuggle, "line\r\n..\r\nMAIL FROM:<x@y>\r\n.\r\n");
	dot_case(t, lfdot, "line\r\n..\r\nRCPT TO:<x@y>\r\n.\r\n");
	dot_case(t, crcr, "a\r\n\r\nb\r\n.\r\n");
	dot_case(t, crsplit, "a\r\n..\r\n.\r\n");
	dot_case(t, lfcr, "a\r\n\r\nb\r\n.\r\n");
	/* BDAT: the same line ends, no dots added, no end mark */
	crlf_case(t, 0, raw, ".a\r\n.b\r\n");
	crlf_case(t, 0, rawend, "x\r\n");
}

static void
dot_bound_case(struct t *t)
{
	char	in[64], out[SMTP_DOT_OUT_SIZE(64)];
	struct smtp_dot d;
	size_t	i, n;

	for (i = 0; i < sizeof(in); i += 2) {
		in[i] = '\n';
		in[i + 1] = '.';
	}
	smtp_dot_init(&d);
	n = smtp_dot_stuff(&d, in, sizeof(in), out);
	T_OK(t, n <= SMTP_DOT_OUT_SIZE(64), "worst case fits");
}

/* What each pipelined command may be answered; -1 is out of step. */
static void
fits_cases(struct t *t)
{
	static const struct {
		enum smtp_step	 step;
		int		 code, want;
		const char	*what;
	} c[] = {
		{ SMTP_STEP_MAIL, 250, 1, "MAIL 250" },
		{ SMTP_STEP_MAIL, 251, -1, "MAIL 251" },
		{ SMTP_STEP_MAIL, 221, -1, "MAIL 221" },
		{ SMTP_STEP_MAIL, 354, -1, "MAIL 354" },
		{ SMTP_STEP_MAIL, 235, -1, "MAIL 235" },
		{ SMTP_STEP_MAIL, 451, 0, "MAIL 451" },
		{ SMTP_STEP_MAIL, 553, 0, "MAIL 553" },
		{ SMTP_STEP_MAIL, 421, 0, "MAIL 421 (closing)" },
		{ SMTP_STEP_RCPT, 250, 1, "RCPT 250" },
		{ SMTP_STEP_RCPT, 251, 1, "RCPT 251" },
		{ SMTP_STEP_RCPT, 252, -1, "RCPT 252" },
		{ SMTP_STEP_RCPT, 354, -1, "RCPT 354" },
		{ SMTP_STEP_RCPT, 221, -1, "RCPT 221" },
		{ SMTP_STEP_RCPT, 550, 0, "RCPT 550" },
		{ SMTP_STEP_DATA, 354, 1, "DATA 354" },
		{ SMTP_STEP_DATA, 250, -1, "DATA 250" },
		{ SMTP_STEP_DATA, 554, 0, "DATA 554" },
		{ SMTP_STEP_END, 250, 1, "end 250" },
		{ SMTP_STEP_END, 221, -1, "end 221" },
		{ SMTP_STEP_END, 354, -1, "end 354" },
		{ SMTP_STEP_END, 251, -1, "end 251" },
		{ SMTP_STEP_END, 500, 0, "end 500" },
		{ SMTP_STEP_AUTH, 235, 1, "AUTH 235" },
		{ SMTP_STEP_AUTH, 334, -1, "AUTH 334" },
		{ SMTP_STEP_AUTH, 250, -1, "AUTH 250" },
		{ SMTP_STEP_AUTH, 535, 0, "AUTH 535" },
		{ SMTP_STEP_RSET, 250, 1, "RSET 250" },
		{ SMTP_STEP_RSET, 221, -1, "RSET 221" },
		{ SMTP_STEP_RSET, 354, -1, "RSET 354" },
		{ SMTP_STEP_RSET, 500, 0, "RSET 500" },
		{ SMTP_STEP_END, 399, -1, "end 399" },
		{ SMTP_STEP_END, 400, 0, "end 400, the lowest refusal" },
		{ SMTP_STEP_END, 599, 0, "end 599, the highest refusal" },
	};
	size_t	i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		T_OK(t, smtp_reply_fits(c[i].step, c[i].code) == c[i].want,
		    c[i].what);
}

void
smtp_test(struct t *t)
{
	reply_cases(t);
	fits_cases(t);
	reply_limit_cases(t);
	ext_cases(t);
	dot_cases(t);
	bare_cr_cases(t);
	dot_bound_case(t);
}
