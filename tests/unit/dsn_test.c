#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "dsn.h"
#include "t.h"

#define OUT_MAX	(1024 * 1024)

/* A temporary file holding text; its descriptor. */
static int
file_with(const char *text)
{
	FILE	*f = tmpfile();
	int	 fd;

	if (f == NULL)
		return -1;
	fd = dup(fileno(f));
	fclose(f);
	if (fd != -1 && write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Write a DSN for m[0..n) and read it back into out (malloc'd); relay
 * NULL: several smart hosts.
 */
static int
dsn_text_relay(const struct dsn_msg *m, size_t n, const char *relay,
    char **out, struct ferr *e)
{
	struct dsn_info info = { "00000000bbbbbbbb", "s@example.org",
	    "relay.example", "relay.example", relay, 1700000000 };
	ssize_t	r;
	size_t	len = 0;
	int	fd = file_with(""), rc;

	*out = calloc(1, OUT_MAX + 1);
	if (fd == -1 || *out == NULL)
		return -1;
	rc = dsn_write(fd, &info, m, n, e);
	lseek(fd, 0, SEEK_SET);
	while ((r = read(fd, *out + len, OUT_MAX - len)) > 0)
		len += (size_t)r;
	close(fd);
	return rc;
}

static int
dsn_text(const struct dsn_msg *m, size_t n, char **out, struct ferr *e)
{
	return dsn_text_relay(m, n, "smtp.example", out, e);
}

static size_t
count(const char *hay, const char *needle)
{
	size_t	n = 0;

	for (; (hay = strstr(hay, needle)) != NULL; hay++)
		n++;
	return n;
}

static void
single_case(struct t *t)
{
	static const struct dsn_rcpt r[] = {
		{ "a@x", "550 5.1.1 no such user", 0 },
		{ "b@x", "gave up after 120 hours", 1 },
	};
	struct dsn_msg m = { "0123456789abcdef", 1699990000, r, 2, -1 };
	struct ferr e;
	char	*out;

	m.orig = file_with("Subject: hi\nFrom: s@example.org\n\nsecret body\n");
	T_OK(t, dsn_text(&m, 1, &out, &e) == 0, "single: written");
	T_OK(t, strstr(out, "Subject: Undelivered Mail Returned to Sender\n")
	    != NULL, "single: plain subject");
	T_OK(t, strstr(out, "queue ID 0123456789abcdef") != NULL,
	    "single: names the message");
	T_OK(t, count(out, "Final-Recipient: rfc822; ") == 2,
	    "single: a group per recipient");
	T_OK(t, strstr(out, "Status: 5.1.1\n") != NULL &&
	    strstr(out, "Status: 4.4.7\n") != NULL, "single: statuses");
	T_OK(t, count(out, "Diagnostic-Code: ") == 1,
	    "single: no diagnostic for the expired one");
	T_OK(t, count(out, "X-Ferry-Queue-ID: ") == 1 &&
	    strstr(out, "Arrival-Date: ") != NULL,
	    "single: per-message fields once");
	T_OK(t, strstr(out, "Content-Type: text/rfc822-headers\n\n"
	    "Subject: hi\nFrom: s@example.org\n") != NULL,
	    "single: headers quoted");
	T_OK(t, strstr(out, "secret body") == NULL, "single: never the body");
	T_OK(t, count(out, "Remote-MTA: dns; smtp.example\n") == 2 &&
	    strstr(out, "The smart host smtp.example said:") != NULL,
	    "single: names the smart host");
	free(out);
	T_OK(t, dsn_text_relay(&m, 1, NULL, &out, &e) == 0 &&
	    count(out, "Remote-MTA:") == 0 &&
	    strstr(out, "The smart host said:") != NULL &&
	    count(out, "Final-Recipient: rfc822; ") == 2,
	    "single, several smart hosts: none named, no Remote-MTA");
	T_OK(t, count(out, "\n--00000000bbbbbbbb/relay.example\n") == 3 &&
	    count(out, "\n--00000000bbbbbbbb/relay.example--\n") == 1,
	    "single: three parts");
	close(m.orig);
	free(out);
}

static void
merged_case(struct t *t)
{
	static const struct dsn_rcpt r1[] = {
		{ "a@x", "550 5.1.1 no such user", 0 },
	}, r2[] = {
		{ "b@x", "554 5.7.1 policy", 0 },
		{ "c@x", "gave up after 120 hours", 1 },
	};
	struct dsn_msg m[3] = {
		{ "1111111111111111", 1699990000, r1, 1, -1 },
		{ "2222222222222222", 1699990001, r2, 2, -1 },
		{ "3333333333333333", 1699990002, r1, 1, -1 },
	};
	struct ferr e;
	char	*out;

	m[0].orig = file_with("Subject: first\nMessage-ID: <1@x>\n\nbody\n");
	m[1].orig = file_with("Message-ID: <2@x>\r\nsubject: folded\r\n"
	    "\tline \xc3\xa9t\xc3\xa9\r\n\r\nbody\r\n");
	m[2].orig = file_with("Subject: no id\n");	/* headers only */
	T_OK(t, dsn_text(m, 3, &out, &e) == 0, "merged: written");
	T_OK(t, strstr(out, "Subject: Undelivered Mail Returned to Sender "
	    "(3 messages)\n") != NULL, "merged: subject counts");
	T_OK(t, count(out, "Final-Recipient: rfc822; ") == 4,
	    "merged: a group per recipient of every message");
	T_OK(t, count(out, "X-Ferry-Queue-ID: 2222222222222222\n") == 2 &&
	    count(out, "X-Ferry-Queue-ID: ") == 4,
	    "merged: each group names its message");
	T_OK(t, count(out, "Reporting-MTA: ") == 1 &&
	    strstr(out, "Arrival-Date: ") == NULL,
	    "merged: per-message fields once, no single arrival");
	T_OK(t, strstr(out, "  Subject: first\n  Message-ID: <1@x>\n") !=
	    NULL, "merged: subject and id listed");
	T_OK(t, strstr(out, "  Subject: folded line ??t??\n") != NULL,
	    "merged: unfolded, any case, us-ascii only");
	T_OK(t, strstr(out, "Queue ID 3333333333333333") != NULL &&
	    strstr(out, "<3@x>") == NULL && count(out, "Message-ID: <") == 3,
	    "merged: no Message-ID line when there is none");
	T_OK(t, strstr(out, "text/rfc822-headers") == NULL &&
	    count(out, "\n--00000000bbbbbbbb/relay.example\n") == 2,
	    "merged: two parts, no headers part");
	T_OK(t, strstr(out, "body") == NULL, "merged: never a body");
	free(out);
	close(m[0].orig);
	close(m[1].orig);
	close(m[2].orig);
}

static void
limit_cases(struct t *t)
{
	static const struct dsn_rcpt r[] = { { "a@x", "550 no", 0 } };
	struct dsn_msg	*m = calloc(DSN_MSGS_MAX + 1, sizeof(*m));
	struct ferr	 e;
	char		*out;
	size_t		 i;
	int		 fd = file_with("Subject: many\n\n");

	if (m == NULL)
		return;
	for (i = 0; i <= DSN_MSGS_MAX; i++) {
		m[i].id = "4444444444444444";
		m[i].r = r;
		m[i].n = 1;
		m[i].orig = fd;
	}
	T_OK(t, dsn_text(m, DSN_MSGS_MAX, &out, &e) == 0 &&
	    count(out, "Final-Recipient: ") == DSN_MSGS_MAX,
	    "DSN_MSGS_MAX messages");
	free(out);
	T_OK(t, dsn_text(m, DSN_MSGS_MAX + 1, &out, &e) == -1 &&
	    e.kind == FE_SOFTWARE, "DSN_MSGS_MAX + 1 refused");
	free(out);
	T_OK(t, dsn_text(m, 0, &out, &e) == -1 && e.kind == FE_SOFTWARE,
	    "no message refused");
	free(out);
	close(fd);
	free(m);
}

void
dsn_test(struct t *t)
{
	single_case(t);
	merged_case(t);
	limit_cases(t);
}
