#include <stdlib.h>
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
	memset(long_addr, 'a', sizeof(long_addr));
	long_addr[MSG_ADDR_SIZE] = '\0';
	T_OK(t, msg_addr_check(long_addr, &e) == -1, "limit + 1");
	long_addr[MSG_ADDR_SIZE - 1] = '\0';
	T_OK(t, msg_addr_check(long_addr, &e) == 0, "limit");
}

/* Run msg_read over input; compare what it wrote and the -t list. */
static void
read_case(struct t *t, const char *in, size_t inlen, int dot_ends,
    int extract, const char *want, const char *rcpts)
{
	struct msg_opts	o = { dot_ends, extract };
	struct msg_info	info;
	struct ferr	e;
	char		out[4096], got[512] = "";
	int		ip[2], fd;
	ssize_t		n;
	FILE		*tf = tmpfile();
	int		rc;

	if (tf == NULL || pipe(ip) == -1) {
		T_OK(t, 0, "setup");
		return;
	}
	fd = fileno(tf);
	if (write(ip[1], in, inlen) != (ssize_t)inlen)
		T_OK(t, 0, "pipe write");
	close(ip[1]);
	msg_addrs_init(&info.rcpts);
	rc = msg_read(ip[0], fd, &o, &info, &e);
	close(ip[0]);
	if (want == NULL) {
		T_OK(t, rc == -1 && e.kind == FE_DATA, in);
		goto out;
	}
	lseek(fd, 0, SEEK_SET);
	n = read(fd, out, sizeof(out));
	T_OK(t, rc == 0 && n >= 0 && (size_t)n == strlen(want) &&
	    memcmp(out, want, (size_t)n) == 0 && info.size == n, in);
	join(&info.rcpts, got, sizeof(got));
	T_STREQ(t, got, rcpts, rcpts);
out:
	msg_addrs_free(&info.rcpts);
	fclose(tf);
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
}

void
msg_test(struct t *t)
{
	addrs_cases(t);
	check_cases(t);
	read_cases(t);
}
