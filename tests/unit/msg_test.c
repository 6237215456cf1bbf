#include <errno.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "t.h"

/* Join list with '|' into out (size bytes), cut to fit. */
static void
join(const struct msg_addrs *a, char *out, size_t size)
{
	size_t	i, len = 0;
	int	n;

	out[0] = '\0';
	for (i = 0; i < a->n && len < size; i++) {
		n = snprintf(out + len, size - len, "%s%s", i ? "|" : "",
		    a->v[i]);
		if (n < 0)
			break;
		len += (size_t)n;
	}
}

/* Parse value; the addresses found, joined by '|', must equal want. */
static void
addrs_case(struct t *t, const char *value, const char *want)
{
	struct msg_addrs a;
	struct ferr	 e;
	char		 got[512] = "";
	int		 rc;

	msg_addrs_init(&a);
	rc = msg_parse_addrs(value, strlen(value), &a, &e);
	join(&a, got, sizeof(got));
	if (want == NULL)
		T_OK(t, rc == -1 && e.kind == FE_DATA, value);
	else
		T_OK(t, rc == 0 && strcmp(got, want) == 0, value);
	msg_addrs_free(&a);
}

static void
addrs_cases(struct t *t)
{
	addrs_case(t, " a@b.example", "a@b.example");
	addrs_case(t, "a@b, c@d", "a@b|c@d");
	addrs_case(t, "Joe Q. Public <john.q.public@example.com>",
	    "john.q.public@example.com");
	addrs_case(t, "\"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
	    "sysservices@example.net");
	addrs_case(t, "A Group:Ed Jones <c@a.test>,joe@where.test,John "
	    "<jdoe@one.test>;", "c@a.test|joe@where.test|jdoe@one.test");
	addrs_case(t, "Undisclosed recipients:;", "");
	addrs_case(t, "Pete(A nice \\) chap) <pete(his account)@silly.test"
	    "(his host)>", "pete@silly.test");
	addrs_case(t, "(comment, with comma) a@b", "a@b");
	addrs_case(t, "\"john doe\"@example.com", "\"john doe\"@example.com");
	addrs_case(t, "<@route.a,@route.b:user@c.test>", "user@c.test");
	addrs_case(t, "a@b,\r\n\tc@d", "a@b|c@d");
	addrs_case(t, "a@b, A@B", "a@b");
	addrs_case(t, "=?utf-8?q?J=C3=B6rg?= <j@x.test>", "j@x.test");
	addrs_case(t, "root", "root");
	/* issue 15 item 6: a domain literal's colons are no group */
	addrs_case(t, "b@[IPv6:2001:db8::1]", "b@[IPv6:2001:db8::1]");
	addrs_case(t, "B <b@[IPv6:2001:db8::1]>, c@d",
	    "b@[IPv6:2001:db8::1]|c@d");
	addrs_case(t, "\"x\\\"y\"@example.com", "\"x\\\"y\"@example.com");
	/* issue 12 item 1: what cron's MAILTO and others pass as one */
	addrs_case(t, "root,ops@example.org,", "root|ops@example.org");
	addrs_case(t, "Jane <jane@example.org>", "jane@example.org");
	addrs_case(t, "b@[IPv6:2001:db8::1", NULL);
	addrs_case(t, "a@b <", NULL);
	addrs_case(t, "\"unterminated <a@b>", NULL);
	addrs_case(t, "name a@b", NULL);
	addrs_case(t, "(open comment a@b", NULL);
}

static void
check_cases(struct t *t)
{
	char	long_addr[MSG_ADDR_SIZE + 1];
	struct ferr e;

	T_OK(t, msg_addr_check("a@b.example", &e) == 0, "plain");
	T_OK(t, msg_addr_check("\"a b\"@c", &e) == 0, "quoted space");
	T_OK(t, msg_addr_check("-oQ/tmp@x", &e) == -1, "leading dash");
	T_OK(t, msg_addr_check("a@b\r\nRCPT TO:<x>", &e) == -1, "CRLF");
	T_OK(t, msg_addr_check("a b@c", &e) == -1, "space");
	T_OK(t, msg_addr_check("a>@c", &e) == -1, "angle");
	T_OK(t, msg_addr_check("", &e) == -1, "empty");
	T_OK(t, msg_addr_check("@", &e) == -1, "@ alone");
	T_OK(t, msg_addr_check("a@", &e) == -1, "no domain");
	T_OK(t, msg_addr_check("@b", &e) == -1, "no local part");
	T_OK(t, msg_addr_check("a@@b", &e) == -1, "two @");
	T_OK(t, msg_addr_check("a@b@c", &e) == -1, "two @ apart");
	T_OK(t, msg_addr_check("\"x\\\"y\"@example.com", &e) == 0,
	    "quoted-pair");
	T_OK(t, msg_addr_check("\"a@b\"@c", &e) == 0, "quoted @");
	T_OK(t, msg_addr_check("b@[IPv6:2001:db8::1]", &e) == 0,
	    "IPv6 literal");
	T_OK(t, msg_addr_check("root", &e) == 0, "local name");
	memset(long_addr, 'a', sizeof(long_addr));
	long_addr[MSG_ADDR_SIZE] = '\0';
	T_OK(t, msg_addr_check(long_addr, &e) == -1, "limit + 1");
	long_addr[MSG_ADDR_SIZE - 1] = '\0';
	T_OK(t, msg_addr_check(long_addr, &e) == 0, "limit");
}

#define OUT_SIZE	8192

/* Run msg_read over input; what it wrote goes to out, NUL-ended. */
static int
run(const char *in, size_t inlen, const struct msg_opts *o,
    struct msg_info *info, struct ferr *e, char *out, size_t *outlen)
{
	int	ip[2], rc = -1;
	ssize_t	n;
	FILE	*tf = tmpfile();

	*outlen = 0;
	out[0] = '\0';
	if (tf == NULL)
		return ferr_set(e, FE_SOFTWARE, errno, "test setup");
	if (pipe(ip) == -1) {
		fclose(tf);
		return ferr_set(e, FE_SOFTWARE, errno, "test setup");
	}
	/* the pipe holds 64 KiB, more than any case here */
	if (write(ip[1], in, inlen) != (ssize_t)inlen)
		ferr_set(e, FE_SOFTWARE, errno, "pipe write");
	else
		rc = 0;
	close(ip[1]);
	if (rc == 0)
		rc = msg_read(ip[0], fileno(tf), o, info, e);
	close(ip[0]);
	lseek(fileno(tf), 0, SEEK_SET);
	n = read(fileno(tf), out, OUT_SIZE - 1);
	if (n > 0) {
		*outlen = (size_t)n;
		out[n] = '\0';
	}
	fclose(tf);
	return rc;
}

/* Run msg_read over input; compare what it wrote and the -t list. */
static void
read_case(struct t *t, const char *in, size_t inlen, int dot_ends,
    int extract, const char *want, const char *rcpts)
{
	struct msg_opts	o = { .dot_ends = dot_ends, .extract = extract };
	struct msg_info	info;
	struct ferr	e;
	char		out[OUT_SIZE], got[512] = "";
	size_t		n;
	int		rc;

	msg_addrs_init(&info.rcpts);
	rc = run(in, inlen, &o, &info, &e, out, &n);
	if (want == NULL) {
		T_OK(t, rc == -1 && e.kind == FE_DATA, in);
		goto out;
	}
	T_OK(t, rc == 0 && n == strlen(want) && memcmp(out, want, n) == 0 &&
	    info.size == (off_t)n && info.added == 0, in);
	join(&info.rcpts, got, sizeof(got));
	T_STREQ(t, got, rcpts, rcpts);
out:
	msg_addrs_free(&info.rcpts);
}

#define READ(t, lit, ...) read_case((t), (lit), sizeof(lit) - 1, __VA_ARGS__)

static void
read_cases(struct t *t)
{
	READ(t, "Subject: x\n\nbody\n", 1, 0, "Subject: x\n\nbody\n",
	    "");
	READ(t, "hi\n", 1, 0, "\nhi\n", "");
	READ(t, "a\n.\nb\n", 1, 0, "\na\n", "");
	READ(t, "a\n.\nb\n", 0, 0, "\na\n.\nb\n", "");
	READ(t, "a\n.\r\nb\n", 1, 0, "\na\n", "");
	READ(t, "To: a@x, b@x\nBcc: c@x,\n\tfolded@x\nCc: \"D\" "
	    "<d@x>\nSubject: s\n\nbody\n", 1, 1, "To: a@x, b@x\nCc: \"D\" "
	    "<d@x>\nSubject: s\n\nbody\n", "a@x|b@x|c@x|folded@x|d@x");
	READ(t, "To: a@x\nBcc: c@x\n\nbody\n", 1, 0,
	    "To: a@x\nBcc: c@x\n\nbody\n", "");
	READ(t, "To: a@x\n", 1, 1, "To: a@x\n", "a@x");
	READ(t, "Subject: x\n\nnul\0here\n", 1, 0, NULL, "");
	READ(t, "To: a@x <\n\nbody\n", 1, 1, NULL, "");
	READ(t, "Subject: 8bit\n\n\xc3\xa9t\xc3\xa9\n", 1, 0,
	    "Subject: 8bit\n\n\xc3\xa9t\xc3\xa9\n", "");
	/* a bare CR in the header block, not in the body */
	READ(t, "Subject: x\rBcc: y@x\n\nbody\n", 1, 0, NULL, "");
	READ(t, "Subject: x\r\r\n\nbody\n", 1, 0, NULL, "");
	READ(t, "Subject: x\n\tmore\r\n\nbody\n", 1, 0,
	    "Subject: x\n\tmore\r\n\nbody\n", "");
	READ(t, "Subject: x\n\tmo\rre\n\nbody\n", 1, 0, NULL, "");
	READ(t, "Subject: x\r", 1, 0, NULL, "");
	READ(t, "Subject: x\r\n\r\nbo\rdy\r\n", 1, 0,
	    "Subject: x\r\n\r\nbo\rdy\r\n", "");
	READ(t, "a\rb\n", 1, 0, "\na\rb\n", "");
	/* only the first line may start the body */
	READ(t, "Subject: x\nnot a header\n\nbody\n", 1, 0, NULL, "");
	READ(t, "Subject: x\nBad Name: y\n\nbody\n", 1, 0, NULL, "");
	READ(t, "Subject: x\n\tcont\nTo: a@x\nno colon\n", 1, 1, NULL, "");
	READ(t, "hi\nSubject: x\n\nmore\n", 1, 0,
	    "\nhi\nSubject: x\n\nmore\n", "");
	READ(t, " indented\nSubject: x\n", 1, 0,
	    "\n indented\nSubject: x\n", "");
	/* issue 12 item 3: an mbox "From " line is dropped */
	READ(t, "From nobody Sat Nov 28 13:45:01 2026\nSubject: x\n", 1, 0,
	    "Subject: x\n", "");
	READ(t, "From a@x  Sat Nov 28 13:45:01 2026\nTo: b@x\n\nbody\n", 1, 1,
	    "To: b@x\n\nbody\n", "b@x");
	READ(t, "From me to you\nSubject: x\n", 1, 0,
	    "\nFrom me to you\nSubject: x\n", "");
	READ(t, "Subject: x\n\nFrom a Sat Nov 28 13:45:01 2026\n", 1, 0,
	    "Subject: x\n\nFrom a Sat Nov 28 13:45:01 2026\n", "");
}

/* The error text for a refused message. */
static void
refuse_case(struct t *t, const char *in, const char *text)
{
	struct msg_opts	o = { .dot_ends = 1 };
	struct msg_info	info;
	struct ferr	e;
	char		out[OUT_SIZE];
	size_t		n;

	msg_addrs_init(&info.rcpts);
	T_OK(t, run(in, strlen(in), &o, &info, &e, out, &n) == -1 &&
	    e.kind == FE_DATA && strcmp(e.text, text) == 0, text);
	msg_addrs_free(&info.rcpts);
}

static void
refuse_cases(struct t *t)
{
	refuse_case(t, "Subject: x\nnot a header\n\nbody",
	    "header line 2 has no colon");
	refuse_case(t, "To: a@x\n\tb@x\nSubject: s\nX Y: z\n\n",
	    "header line 4 has a bad field name");
	refuse_case(t, "Subject: x\r\nTo: a@x\rb\r\n\r\n",
	    "header line 2 has a bare CR");
}

/* Header lines made: a string of n copies of unit after prefix. */
static char *
repeat(char *buf, size_t size, const char *prefix, const char *unit,
    size_t n, const char *suffix)
{
	size_t	len = 0, i;

	buf[0] = '\0';
	len += (size_t)snprintf(buf, size, "%s", prefix);
	for (i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s", unit);
	if (len < size)
		snprintf(buf + len, size - len, "%s", suffix);
	return buf;
}

/* The longest line in p, without its line end. */
static size_t
longest(const char *p)
{
	size_t	max = 0, n;
	const char *nl;

	for (; *p != '\0'; p += n + 1) {
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (max < n - (n > 0 && p[n - 1] == '\r'))
			max = n - (n > 0 && p[n - 1] == '\r');
		if (nl == NULL)
			break;
	}
	return max;
}

/* p with each fold (line end before white space) taken out. */
static void
unfold(const char *p, char *out, size_t size)
{
	size_t	len = 0;

	for (; *p != '\0' && len + 1 < size; p++) {
		if (p[0] == '\r' && p[1] == '\n' && (p[2] == ' ' ||
		    p[2] == '\t')) {
			p++;
			continue;
		}
		if (p[0] == '\n' && (p[1] == ' ' || p[1] == '\t'))
			continue;
		out[len++] = *p;
	}
	out[len] = '\0';
}

/*
 * A header line of `words` copies of unit: folded when written (lines
 * is how many it becomes), and the same again once unfolded.
 */
static void
fold_case(struct t *t, const char *prefix, const char *unit, size_t words,
    const char *eol, size_t lines, const char *what)
{
	struct msg_opts	o = { .dot_ends = 1 };
	struct msg_info	info;
	struct ferr	e;
	char		in[OUT_SIZE], out[OUT_SIZE], flat[OUT_SIZE];
	char		tail[16];
	size_t		n, i, got = 0;
	int		rc;

	snprintf(tail, sizeof(tail), "%s%sbody%s", eol, eol, eol);
	repeat(in, sizeof(in), prefix, unit, words, tail);
	msg_addrs_init(&info.rcpts);
	rc = run(in, strlen(in), &o, &info, &e, out, &n);
	unfold(out, flat, sizeof(flat));
	for (i = 0; i < n && strncmp(out + i, tail, strlen(tail)) != 0; i++)
		if (out[i] == '\n')
			got++;
	T_OK(t, rc == 0 && longest(out) <= MSG_LINE_MAX, what);
	T_OK(t, got + 1 == lines, what);
	T_STREQ(t, flat, in, what);
	for (i = 0; i < n && strcmp(eol, "\r\n") == 0; i++)
		if (out[i] == '\n' && (i == 0 || out[i - 1] != '\r'))
			break;
	T_OK(t, strcmp(eol, "\n") == 0 || i == n, "folds end in CRLF");
	msg_addrs_free(&info.rcpts);
}

/* p without line ends and spaces: what a cut may add. */
static void
squeeze(const char *p, char *out, size_t size)
{
	size_t	len = 0;

	for (; *p != '\0' && len + 1 < size; p++)
		if (*p != '\r' && *p != '\n' && *p != ' ')
			out[len++] = *p;
	out[len] = '\0';
}

/*
 * A line over the limit with no white space to fold at is cut there,
 * a space going on the next line: no line over the limit, no byte lost.
 */
static void
cut_case(struct t *t, const char *prefix, const char *unit, size_t n,
    const char *what)
{
	struct msg_opts	o = { .dot_ends = 1 };
	struct msg_info	info;
	struct ferr	e;
	char		in[OUT_SIZE], out[OUT_SIZE], a[OUT_SIZE], b[OUT_SIZE];
	size_t		len;

	repeat(in, sizeof(in), prefix, unit, n, "\n\nbody\n");
	msg_addrs_init(&info.rcpts);
	T_OK(t, run(in, strlen(in), &o, &info, &e, out, &len) == 0 &&
	    longest(out) <= MSG_LINE_MAX && info.size == (off_t)len, what);
	squeeze(in, a, sizeof(a));
	squeeze(out, b, sizeof(b));
	T_STREQ(t, a, b, what);
	for (len = 0; out[len] != '\0'; len++)	/* no UTF-8 char cut */
		if (out[len] == '\n' && out[len + 1] == ' ')
			T_OK(t, ((unsigned char)out[len + 2] & 0xc0) != 0x80,
			    what);
	T_OK(t, strstr(out, "\n\nbody\n") != NULL, what);
	msg_addrs_free(&info.rcpts);
}

/* The exact cut: 998 bytes, then a line end and a space. */
static void
cut_exact(struct t *t)
{
	struct msg_opts	o = { .dot_ends = 1 };
	struct msg_info	info;
	struct ferr	e;
	char		in[OUT_SIZE], out[OUT_SIZE], want[OUT_SIZE];
	size_t		len;

	repeat(in, sizeof(in), "X-Long:", "x", 1200, "\n\nb\n");
	repeat(want, sizeof(want), "X-Long:", "x", 991, "\n ");
	len = strlen(want);
	repeat(want + len, sizeof(want) - len, "", "x", 209, "\n\nb\n");
	msg_addrs_init(&info.rcpts);
	T_OK(t, run(in, strlen(in), &o, &info, &e, out, &len) == 0,
	    "hard cut");
	T_STREQ(t, out, want, "hard cut at 998");
	msg_addrs_free(&info.rcpts);
}

#define BIG_SIZE	(60 * 1024)	/* under a pipe's 64 KiB */

/* msg_read over in (len bytes) into a fresh malloc'd, NUL-ended *out. */
static int
run_pieces(const char *in, size_t len, char **out, size_t *outlen)
{
	struct msg_opts	o = { .dot_ends = 1 };
	struct msg_info	info;
	struct ferr	e;
	FILE		*tf = tmpfile();
	int		 ip[2], rc = -1;
	ssize_t		 n;

	*out = calloc(1, 2 * BIG_SIZE);
	if (tf == NULL || *out == NULL || pipe(ip) == -1)
		return -1;
	msg_addrs_init(&info.rcpts);
	if (write(ip[1], in, len) == (ssize_t)len) {
		close(ip[1]);
		rc = msg_read(ip[0], fileno(tf), &o, &info, &e);
	} else
		close(ip[1]);
	close(ip[0]);
	lseek(fileno(tf), 0, SEEK_SET);
	n = read(fileno(tf), *out, 2 * BIG_SIZE - 1);
	*outlen = n > 0 ? (size_t)n : 0;
	if (rc == 0 && info.size != (off_t)*outlen)
		rc = -1;
	fclose(tf);
	msg_addrs_free(&info.rcpts);
	return rc;
}

/*
 * A line longer than msg.c holds at once (issue 15: memory followed
 * the longest line) is read in pieces and cut exactly as a short one:
 * 998 bytes, then " " and 997 a line, no byte lost, in header and body.
 */
static void
piece_cases(struct t *t)
{
	static const char *const hdrs[] = {
	    "Content-Type: application/octet-stream\n\n",
	    "Content-Type: application/octet-stream\r\n\r\n", "X-Long: " };
	char	*in = malloc(BIG_SIZE), *want = malloc(2 * BIG_SIZE), *out;
	char	 a[8], b[8];
	size_t	 n = 40000, len, wl, i, k, left, seg;
	int	 rc;

	if (in == NULL || want == NULL) {
		T_OK(t, 0, "piece: memory");
		return;
	}
	for (k = 0; k < 3; k++) {
		const char *eol = k == 1 ? "\r\n" : "\n";

		len = (size_t)snprintf(in, BIG_SIZE, "%s", hdrs[k]);
		memset(in + len, 'x', n);
		len += n;
		len += (size_t)snprintf(in + len, BIG_SIZE - len, "%s%send%s",
		    eol, k == 2 ? eol : "", eol);
		rc = run_pieces(in, len, &out, &wl);
		snprintf(a, sizeof(a), "%zu", k);
		T_OK(t, rc == 0 && longest(out) <= MSG_LINE_MAX, a);
		/* every x is there, one line of them cut where it must be */
		for (i = 0, left = 0; i < wl; i++)
			left += out[i] == 'x';
		snprintf(b, sizeof(b), "%zu x", k);
		T_OK(t, left == n, b);
		if (k != 0) {
			free(out);
			continue;
		}
		/* LF input: byte for byte what a whole-line read gave */
		wl = (size_t)snprintf(want, 2 * BIG_SIZE, "%s", hdrs[0]);
		for (left = n, seg = MSG_LINE_MAX; left > seg; seg =
		    MSG_LINE_MAX - 1) {
			if (seg != MSG_LINE_MAX)
				want[wl++] = ' ';
			memset(want + wl, 'x', seg);
			wl += seg;
			want[wl++] = '\n';
			left -= seg;
		}
		want[wl++] = ' ';
		memset(want + wl, 'x', left);
		wl += left;
		wl += (size_t)snprintf(want + wl, 2 * BIG_SIZE - wl,
		    "\nend\n");
		T_STREQ(t, out, want, "piece: exact cut of a 40000-byte line");
		free(out);
	}
	free(in);
	free(want);
}

static void
fold_cases(struct t *t)
{
	/* "Subject:" + 198 * " word" = 998: the limit */
	fold_case(t, "Subject:", " word", 198, "\n", 1, "998 kept");
	fold_case(t, "Subject:", " word", 198, "\r\n", 1, "998 CRLF kept");
	fold_case(t, "Subject:x", " word", 198, "\n", 2, "999 folded");
	fold_case(t, "Subject:", " word", 240, "\n", 2, "1208 folded");
	fold_case(t, "Subject:", " word", 240, "\r\n", 2, "CRLF folded");
	fold_case(t, "Subject:", "\tword", 700, "\n", 4, "3508 folded");
	fold_case(t, "To:", " a@x.test,", 300, "\n", 4, "To folded");
	cut_case(t, "Subject: ", "x", 1200, "1200-byte token");
	cut_case(t, "X-Long:", "x", 2000, "no white space");
	/* the token after the last space is still over the limit */
	cut_case(t, "Subject: a b ", "x", 1200, "token at the end");
	cut_case(t, "Subject: x", " ", 1200, "trailing spaces");
	cut_case(t, "Subject: ", "\xc3\xa9", 700, "UTF-8 kept whole");
	cut_exact(t);
}

/* Lines of out that start with name (any case); "" for none. */
static int
count_field(const char *out, const char *name)
{
	size_t	len = strlen(name);
	const char *p;
	int	n = 0;

	for (p = out; p != NULL; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncasecmp(p, name, len) == 0)
			n++;
	}
	return n;
}

struct fix {
	const char	*in;
	const char	*from;		/* msg_opts.from_addr */
	const char	*name;		/* msg_opts.full_name */
	int		 added;		/* MSG_ADDED_*, or -1: refused */
	const char	*has;		/* in the output, or NULL */
	const char	*tail;		/* the output's end, or NULL */
};

static void
fix_cases(struct t *t)
{
	static const struct fix cases[] = {
	{ "Subject: x\n\nbody\n", "me@x.test", NULL, 7,
	    "Subject: x\nDate: ", "\nFrom: me@x.test\n\nbody\n" },
	{ "date: Mon, 01 Jan 2024 00:00:00 +0000\nMESSAGE-ID: <a@b>\n"
	    "from: X <x@y>\n\nbody\n", "me@x.test", "Me", 0,
	    NULL, "from: X <x@y>\n\nbody\n" },
	{ "DATE: x\nSubject: s\n\nbody\n", "me@x.test", NULL, 6,
	    "DATE: x\nSubject: s\nMessage-ID: <", "\n\nbody\n" },
	{ "Message-Id: <a@b>\n\nbody\n", "me@x.test", NULL, 5, NULL,
	    "\nFrom: me@x.test\n\nbody\n" },
	{ "From: a@b\n\nbody\n", "me@x.test", NULL, 3, NULL,
	    "\n\nbody\n" },
	{ "Resent-Date: x\nResent-From: y@z\n\nb\n", "me@x.test", NULL,
	    7, NULL, "\n\nb\n" },
	{ "hi\n", "me@x.test", NULL, 7, NULL,
	    "\nFrom: me@x.test\n\nhi\n" },
	{ "", "me@x.test", NULL, 7, NULL, "\nFrom: me@x.test\n" },
	{ "Subject: x", "me@x.test", NULL, 7, "Subject: x\nDate: ",
	    "\nFrom: me@x.test\n" },
	{ "Subject: x\n.\nb\n", "me@x.test", NULL, 7, NULL,
	    "\nFrom: me@x.test\n" },
	{ "Subject: x\r\n\r\nbody\r\n", "me@x.test", NULL, 7,
	    "Subject: x\r\nDate: ", "\r\nFrom: me@x.test\r\n\r\nbody\r\n" },
	{ "Subject: x\n\nbody\n", NULL, NULL, 3, NULL, "\n\nbody\n" },
	{ "Subject: x\n\nbody\n", "", "Me", 3, NULL, "\n\nbody\n" },
	{ "Subject: x\n\nbody\n", "me@x.test", "Joe Q. Public", 7, NULL,
	    "\nFrom: \"Joe Q. Public\" <me@x.test>\n\nbody\n" },
	{ "Subject: x\n\nbody\n", "me@x.test", "Joe \"Q\" \\ P", 7, NULL,
	    "\nFrom: \"Joe \\\"Q\\\" \\\\ P\" <me@x.test>\n\nbody\n" },
	{ "Subject: x\n\nbody\n", "me@x.test", "A\r\nBcc: evil@x", 7,
	    NULL, "\nFrom: \"A  Bcc: evil@x\" <me@x.test>\n\nbody\n" },
	{ "Subject: x\n\nbody\n", "me@x.test", "J\xc3\xb6rg M\xc3\xbcller",
	    7, NULL, "\nFrom: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <me@x.test>"
	    "\n\nbody\n" },
	{ "Subject: x\n\nbody\n", "me@x.test", "\xc3\xa9 a=b?c_d", 7,
	    NULL, "\nFrom: =?utf-8?q?=C3=A9_a=3Db=3Fc=5Fd?= <me@x.test>"
	    "\n\nbody\n" },
	{ "Subject: x\n\nbody\n", "a b@x", NULL, -1, NULL, NULL },
	{ "Subject: x\n\nbody\n", "a@x\r\nBcc: b@x", NULL, -1, NULL,
	    NULL },
	{ "Subject: x\nno colon\n\nbody\n", "me@x.test", NULL, -1, NULL,
	    NULL },
	};
	struct msg_opts	o = { .dot_ends = 1, .fixup = 1,
	    .host = "mail.example" };
	struct msg_info	info;
	struct ferr	e;
	char		out[OUT_SIZE];
	size_t		i, n, tl;
	int		rc, ok, from;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct fix *c = &cases[i];

		o.from_addr = c->from;
		o.full_name = c->name;
		msg_addrs_init(&info.rcpts);
		rc = run(c->in, strlen(c->in), &o, &info, &e, out, &n);
		if (c->added == -1) {
			T_OK(t, rc == -1 && e.kind == FE_DATA, c->in);
			msg_addrs_free(&info.rcpts);
			continue;
		}
		from = c->from != NULL && c->from[0] != '\0';
		tl = c->tail != NULL ? strlen(c->tail) : 0;
		ok = rc == 0 && info.added == c->added &&
		    info.size == (off_t)n &&
		    count_field(out, "Date:") == 1 &&
		    count_field(out, "Message-ID:") == 1 &&
		    count_field(out, "From:") == (from || c->added == 0) &&
		    (c->has == NULL || strstr(out, c->has) != NULL) &&
		    n >= tl && memcmp(out + n - tl, c->tail, tl) == 0;
		T_OK(t, ok, c->in);
		if (c->added & MSG_ADDED_MSGID)
			T_OK(t, strstr(out, "Message-ID: <") != NULL &&
			    strstr(out, "@mail.example>") != NULL, c->in);
		msg_addrs_free(&info.rcpts);
	}
}

/* Fix-up at a known time in a known zone: the exact fields. */
static void
date_case(struct t *t, const char *tz, time_t now, const char *host,
    const char *date, const char *msgid)
{
	struct msg_opts	o = { .dot_ends = 1, .fixup = 1, .host = host,
	    .now = now };
	struct msg_info	info;
	struct ferr	e;
	char		out[OUT_SIZE], old[64] = "";
	const char	*p, *env = getenv("TZ");
	size_t		n;
	int		rc;

	if (env != NULL)
		snprintf(old, sizeof(old), "%s", env);
	setenv("TZ", tz, 1);
	tzset();
	msg_addrs_init(&info.rcpts);
	rc = run("\nbody\n", 6, &o, &info, &e, out, &n);
	if (env != NULL)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	tzset();
	T_OK(t, rc == 0 && strncmp(out, date, strlen(date)) == 0, date);
	p = strstr(out, "\nMessage-ID: <");
	/* <YYYYMMDDhhmmss.32 hex digits@host> */
	T_OK(t, p != NULL && strncmp(p + 14, msgid, 15) == 0 &&
	    strspn(p + 29, "0123456789ABCDEF") == 32 &&
	    strncmp(p + 61, msgid + 15, strlen(msgid + 15)) == 0, msgid);
	msg_addrs_free(&info.rcpts);
}

static void
date_cases(struct t *t)
{
	struct msg_opts	o = { .fixup = 1 };
	struct msg_info	info;
	struct ferr	e;
	char		a[OUT_SIZE], b[OUT_SIZE];
	size_t		n;

	date_case(t, "UTC0", 1795873501, "mail.example",
	    "Date: Sat, 28 Nov 2026 13:45:01 +0000\n",
	    "20261128134501.@mail.example>\n");
	date_case(t, "EST5", 1767582245, "h",
	    "Date: Sun, 04 Jan 2026 22:04:05 -0500\n",
	    "20260105030405.@h>\n");
	date_case(t, "IST-5:30", 1795873501, NULL,
	    "Date: Sat, 28 Nov 2026 19:15:01 +0530\n",
	    "20261128134501.@localhost>\n");
	date_case(t, "UTC0", 1795873501, "bad host",
	    "Date: Sat, 28 Nov 2026 13:45:01 +0000\n",
	    "20261128134501.@localhost>\n");
	date_case(t, "UTC0", 1795873501, "a..b",
	    "Date: Sat, 28 Nov 2026 13:45:01 +0000\n",
	    "20261128134501.@localhost>\n");
	/* two messages in the same second still differ */
	o.now = 1795873501;
	msg_addrs_init(&info.rcpts);
	T_OK(t, run("", 0, &o, &info, &e, a, &n) == 0 &&
	    run("", 0, &o, &info, &e, b, &n) == 0 && strcmp(a, b) != 0,
	    "Message-ID unique");
	msg_addrs_free(&info.rcpts);
}

/* A full name: its limit, and a long non-ASCII one in short lines. */
static void
name_cases(struct t *t)
{
	struct msg_opts	o = { .fixup = 1, .from_addr = "me@x.test" };
	struct msg_info	info;
	struct ferr	e;
	char		name[MSG_NAME_MAX + 2], out[OUT_SIZE];
	const char	*p;
	size_t		n;
	int		k = 0;

	msg_addrs_init(&info.rcpts);
	memset(name, 'a', sizeof(name));
	name[MSG_NAME_MAX] = '\0';
	o.full_name = name;
	T_OK(t, run("", 0, &o, &info, &e, out, &n) == 0 &&
	    longest(out) == 6 + 1 + MSG_NAME_MAX + 1 + 12, "name limit");
	name[MSG_NAME_MAX] = 'a';
	name[MSG_NAME_MAX + 1] = '\0';
	T_OK(t, run("", 0, &o, &info, &e, out, &n) == -1 &&
	    e.kind == FE_DATA, "name limit + 1");
	/* 128 "é": whole characters in each word, lines of 76 at most */
	repeat(name, sizeof(name), "", "\xc3\xa9", 128, "");
	T_OK(t, run("", 0, &o, &info, &e, out, &n) == 0, "long utf-8");
	p = strstr(out, "From: ");
	T_OK(t, p != NULL && longest(p) <= 76 && count_field(p, " =?utf-8?q?")
	    > 1 && strstr(p, " <me@x.test>\n") != NULL, "long utf-8 lines");
	for (; p != NULL && (p = strstr(p, "=C3=A9")) != NULL; p++)
		k++;
	T_OK(t, k == 128, "long utf-8 characters whole");
	msg_addrs_free(&info.rcpts);
}

/* -t and fix-up: Bcc still dropped, From added after the others. */
static void
extract_fix_case(struct t *t)
{
	struct msg_opts	o = { .dot_ends = 1, .extract = 1, .fixup = 1,
	    .from_addr = "me@x.test" };
	struct msg_info	info;
	struct ferr	e;
	char		out[OUT_SIZE], got[64];
	size_t		n;
	int		rc;

	msg_addrs_init(&info.rcpts);
	rc = run("To: a@x\nBcc: b@x\n\nbody\n", 23, &o, &info, &e, out,
	    &n);
	join(&info.rcpts, got, sizeof(got));
	T_OK(t, rc == 0 && strncmp(out, "To: a@x\nDate: ", 14) == 0 &&
	    strstr(out, "Bcc") == NULL && strcmp(got, "a@x|b@x") == 0,
	    "-t with fix-up");
	msg_addrs_free(&info.rcpts);
}

/* Masquerading: a local address in From/To/Cc gets the domain. */
static void
masq_case(struct t *t, const char *in, const char *want)
{
	static const char *const local[] = { "mynode", "mynode.internal" };
	struct msg_opts	o;
	struct msg_info	info;
	struct ferr	e;
	char		out[2048];
	int		ip[2];
	ssize_t		n;
	FILE		*tf = tmpfile();

	memset(&o, 0, sizeof(o));
	o.masquerade = "ex.com";
	o.local = local;
	o.nlocal = 2;
	if (tf == NULL || pipe(ip) == -1) {
		T_OK(t, 0, "setup");
		return;
	}
	if (write(ip[1], in, strlen(in)) != (ssize_t)strlen(in))
		T_OK(t, 0, "pipe write");
	close(ip[1]);
	msg_addrs_init(&info.rcpts);
	T_OK(t, msg_read(ip[0], fileno(tf), &o, &info, &e) == 0, in);
	close(ip[0]);
	lseek(fileno(tf), 0, SEEK_SET);
	n = read(fileno(tf), out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	T_STREQ(t, out, want, want);
	msg_addrs_free(&info.rcpts);
	fclose(tf);
}

static void
masq_cases(struct t *t)
{
	masq_case(t, "To: root\n\nb\n", "To: root@ex.com\n\nb\n");
	masq_case(t, "To: Root User <root>, admin@other.org,\n"
	    "\t\"Q, R\" <ops@mynode>\n\nb\n",
	    "To: Root User <root@ex.com>, admin@other.org,\n"
	    "\t\"Q, R\" <ops@ex.com>\n\nb\n");
	masq_case(t, "From: root (Cron Daemon)\n\nb\n",
	    "From: root@ex.com (Cron Daemon)\n\nb\n");
	masq_case(t, "To: undisclosed-recipients:;\n\nb\n",
	    "To: undisclosed-recipients:;\n\nb\n");
	masq_case(t, "Cc: team: a, b@other;\n\nb\n",
	    "Cc: team: a@ex.com, b@other;\n\nb\n");
	masq_case(t, "To: x@MYNODE.internal\nSubject: root\n\nb\n",
	    "To: x@ex.com\nSubject: root\n\nb\n");
	masq_case(t, "To: a phrase without address\n\nb\n",
	    "To: a phrase without address\n\nb\n");
}

#define QP_OUT_SIZE	32768

/* run() for inputs over a pipe's size: the input comes from a file. */
static int
run_big(const char *in, size_t inlen, const struct msg_opts *o,
    struct msg_info *info, struct ferr *e, char *out, size_t *outlen)
{
	FILE	*inf = tmpfile(), *tf = tmpfile();
	ssize_t	n;
	int	rc = -1;

	*outlen = 0;
	out[0] = '\0';
	if (inf == NULL || tf == NULL ||
	    fwrite(in, 1, inlen, inf) != inlen || fflush(inf) == EOF ||
	    lseek(fileno(inf), 0, SEEK_SET) == -1) {
		ferr_set(e, FE_SOFTWARE, errno, "test setup");
		goto out;
	}
	rc = msg_read(fileno(inf), fileno(tf), o, info, e);
	lseek(fileno(tf), 0, SEEK_SET);
	n = read(fileno(tf), out, QP_OUT_SIZE - 1);
	if (n > 0) {
		*outlen = (size_t)n;
		out[n] = '\0';
	}
out:
	if (inf != NULL)
		fclose(inf);
	if (tf != NULL)
		fclose(tf);
	return rc;
}

/*
 * A strict reading of quoted-printable (RFC 2045 6.7): trailing white
 * space is dropped first, as a decoder must, so an encoder that left
 * it bare would lose it here.
 */
static size_t
qp_decode(const char *p, size_t len, char *out)
{
	size_t	i = 0, n = 0, end, stop, k;

	while (i < len) {
		for (end = i; end < len && p[end] != '\n'; end++)
			;
		stop = end > i && p[end - 1] == '\r' && end < len ? end - 1 :
		    end;
		while (stop > i && (p[stop - 1] == ' ' || p[stop - 1] == '\t'))
			stop--;
		for (k = i; k < stop; k++) {
			if (p[k] == '=' && k + 2 < stop) {
				unsigned v;

				if (sscanf(p + k + 1, "%2X", &v) != 1)
					return 0;
				out[n++] = (char)v;
				k += 2;
			} else if (p[k] != '=')
				out[n++] = p[k];
		}
		if (end < len && !(stop > i && p[stop - 1] == '=')) {
			if (end > i && p[end - 1] == '\r')
				out[n++] = '\r';
			out[n++] = '\n';
		}
		i = end + 1;
	}
	return n;
}

/* The longest line of p[0..len), line end not counted. */
static size_t
longest_n(const char *p, size_t len)
{
	size_t	i, col = 0, max = 0;

	for (i = 0; i < len; i++) {
		if (p[i] == '\n') {
			col = 0;
			continue;
		}
		if (p[i] != '\r' && ++col > max)
			max = col;
	}
	return max;
}

/*
 * A text body with a long line arrives as quoted-printable that
 * decodes to the original; has must be in the header block, once.
 */
static void
qp_case(struct t *t, const char *hdr, const char *body, size_t blen,
    const char *has, const char *what)
{
	static char	in[QP_OUT_SIZE], out[QP_OUT_SIZE], dec[QP_OUT_SIZE];
	static char	head[QP_OUT_SIZE];
	struct msg_opts	o = { .dot_ends = 0 };
	struct msg_info	info;
	struct ferr	e;
	const char	*b, *sep;
	size_t		hlen = strlen(hdr), len, i, nl = 0;

	memcpy(in, hdr, hlen);
	memcpy(in + hlen, body, blen);
	msg_addrs_init(&info.rcpts);
	T_OK(t, run_big(in, hlen + blen, &o, &info, &e, out, &len) == 0,
	    what);
	sep = strstr(hdr, "\r\n") != NULL ? "\r\n\r\n" : "\n\n";
	if ((b = strstr(out, sep)) == NULL) {
		T_OK(t, 0, what);
		goto out;
	}
	b += strlen(sep);
	memcpy(head, out, (size_t)(b - out));	/* the header block */
	head[b - out] = '\0';
	T_OK(t, strstr(head, has) != NULL, what);
	T_OK(t, count_field(head, "Content-Transfer-Encoding:") == 1 &&
	    count_field(head, "MIME-Version:") == 1 &&
	    strstr(head, "Content-Transfer-Encoding: quoted-printable") !=
	    NULL, what);
	T_OK(t, longest_n(b, (size_t)(out + len - b)) <= 76, what);
	T_MEMEQ(t, dec, qp_decode(b, (size_t)(out + len - b), dec), body,
	    blen, what);
	for (i = 0; i < len; i++)
		nl += out[i] == '\n' || out[i] == '\0';
	T_OK(t, info.size == (off_t)len && info.wire == (off_t)(len + nl) &&
	    info.eightbit == 0, what);
out:
	msg_addrs_free(&info.rcpts);
}

/* Anything else with a long line: cut at 998, a space put in. */
static void
wrap_case(struct t *t, const char *in, const char *what)
{
	static char	out[QP_OUT_SIZE], a[QP_OUT_SIZE], b[QP_OUT_SIZE];
	struct msg_opts	o = { .dot_ends = 0 };
	struct msg_info	info;
	struct ferr	e;
	size_t		len;

	msg_addrs_init(&info.rcpts);
	T_OK(t, run_big(in, strlen(in), &o, &info, &e, out, &len) == 0 &&
	    longest(out) <= MSG_LINE_MAX && info.size == (off_t)len, what);
	T_OK(t, strstr(out, "quoted-printable") == NULL, what);
	squeeze(in, a, sizeof(a));
	squeeze(out, b, sizeof(b));
	T_STREQ(t, a, b, what);
	msg_addrs_free(&info.rcpts);
}

static void
long_body_cases(struct t *t)
{
	static char	body[12000], in[QP_OUT_SIZE], out[QP_OUT_SIZE];
	struct msg_opts	o = { .dot_ends = 0 };
	struct msg_info	info;
	struct ferr	e;
	size_t		n = 0, i, len;

	/* every kind of byte QP treats apart, over 5000 bytes of line */
	for (i = 0; i < 5000; i++)
		body[n++] = "ab= \t.\xc3\xa9z"[i % 9];
	memcpy(body + n, " \nshort=line\t\nbare\rcr\n.\nend  ", 29);
	n += 29;
	qp_case(t, "Subject: s\n\n", body, n,
	    "\nContent-Type: text/plain; charset=utf-8\n", "8-bit QP");
	qp_case(t, "Subject: s\nContent-Transfer-Encoding: 8bit\n"
	    "Content-Type: text/plain; charset=iso-8859-1\nMIME-Version: "
	    "1.0\n\n", body, n, "charset=iso-8859-1\n", "8bit CTE replaced");
	for (i = n = 0; i < 999; i++)
		body[n++] = 'q';
	memcpy(body + n, "\r\nnext\r\n", 8);
	n += 8;
	qp_case(t, "Subject: s\r\nContent-Type: TEXT/html\r\n\r\n", body, n,
	    "Content-Type: TEXT/html\r\nMIME-Version: 1.0\r\n", "999, CRLF");
	/* a body's first line may start the message */
	qp_case(t, "", body, n, "MIME-Version: 1.0\n", "no header");

	/* 998 is the limit: kept as it is */
	repeat(in, sizeof(in), "Subject: s\n\n", "q", 998, "\nx\n");
	msg_addrs_init(&info.rcpts);
	T_OK(t, run_big(in, strlen(in), &o, &info, &e, out, &len) == 0 &&
	    strcmp(in, out) == 0, "998 body kept");
	msg_addrs_free(&info.rcpts);

	repeat(in, sizeof(in), "Content-Type: multipart/mixed; boundary=b\n"
	    "\n--b\n\n", "m", 2500, "\n--b--\n");
	wrap_case(t, in, "multipart cut");
	repeat(in, sizeof(in), "Content-Transfer-Encoding: base64\n\n",
	    "QUJD", 600, "\n");
	wrap_case(t, in, "base64 cut");
	repeat(in, sizeof(in), "Content-Transfer-Encoding: 7bit\n"
	    "Content-Transfer-Encoding: 8bit\n\n", "w", 1200, "\r\n");
	wrap_case(t, in, "two CTE fields cut");
}

void
msg_test(struct t *t)
{
	masq_cases(t);
	addrs_cases(t);
	check_cases(t);
	read_cases(t);
	refuse_cases(t);
	fold_cases(t);
	piece_cases(t);
	long_body_cases(t);
	fix_cases(t);
	date_cases(t);
	name_cases(t);
	extract_fix_case(t);
}
