#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "dsn.h"

void
dsn_status(const char *reply, int expired, char *out, size_t size)
{
	const char *p = reply;
	size_t	n = 0;

	if (expired) {		/* RFC 3463 4.4.7: delivery time expired */
		snprintf(out, size, "4.4.7");
		return;
	}
	/* "550 5.1.1 text": take the enhanced code when there is one */
	while (*p != '\0' && !isspace((unsigned char)*p))
		p++;
	while (isspace((unsigned char)*p))
		p++;
	if ((p[0] == '4' || p[0] == '5') && p[1] == '.') {
		while ((isdigit((unsigned char)p[n]) || p[n] == '.') && n < 11)
			n++;
		if (n >= 5) {
			snprintf(out, size, "%.*s", (int)n, p);
			return;
		}
	}
	snprintf(out, size, "%c.0.0", reply[0] == '4' ? '4' : '5');
}

static void
rfc5322_date(long long t, char *out, size_t size)
{
	time_t	 tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(out, size, "%a, %d %b %Y %H:%M:%S %z", &tm) == 0)
		snprintf(out, size, "Thu, 01 Jan 1970 00:00:00 +0000");
}

/* The original header block, at most DSN_HEADERS_MAX bytes, into buf. */
static int
read_headers(int orig, char *buf, size_t *len, struct ferr *e)
{
	char	*end;
	ssize_t	 n;

	*len = 0;
	if (lseek(orig, 0, SEEK_SET) == -1)
		return ferr_set(e, FE_TEMP, errno, "read message");
	while (*len < DSN_HEADERS_MAX &&
	    (n = read(orig, buf + *len, DSN_HEADERS_MAX - *len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return ferr_set(e, FE_TEMP, errno, "read message");
		*len += (size_t)n;
	}
	buf[*len] = '\0';
	if ((end = strstr(buf, "\n\n")) != NULL)
		*len = (size_t)(end - buf) + 1;
	else if ((end = strstr(buf, "\r\n\r\n")) != NULL)
		*len = (size_t)(end - buf) + 2;
	buf[*len] = '\0';
	return 0;
}

/*
 * The value of header `name` in the block buf, unfolded, as printable
 * ASCII (other bytes become '?': the text part is us-ascii), cut to
 * fit out; "" when absent.
 */
static void
header_field(const char *buf, const char *name, char *out, size_t size)
{
	const char *p = buf;
	size_t	nlen = strlen(name), o = 0;

	out[0] = '\0';
	while (*p != '\0') {
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':')
			break;
		if ((p = strchr(p, '\n')) == NULL)
			return;
		p++;
	}
	if (*p == '\0')
		return;
	for (p += nlen + 1; *p == ' ' || *p == '\t'; p++)
		;
	for (; *p != '\0' && o + 1 < size; p++) {
		if (*p == '\r')
			continue;
		if (*p == '\n' && p[1] != ' ' && p[1] != '\t')
			break;		/* the end of the field */
		if (*p == '\n')
			continue;	/* unfolding keeps the blank after */
		if (*p == '\t')
			out[o++] = ' ';
		else
			out[o++] = (unsigned char)*p < ' ' ||
			    (unsigned char)*p > '~' ? '?' : *p;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

static void
write_top(FILE *f, const struct dsn_info *in, const struct dsn_msg *m,
    size_t n, const char *date)
{
	/* no name with several smart hosts (dsn.h) */
	const char	*relay = in->relay != NULL ? in->relay : "";
	const char	*sp = in->relay != NULL ? " " : "";
	char		 subj[32] = "";

	if (n > 1)
		snprintf(subj, sizeof(subj), " (%zu messages)", n);
	fprintf(f, "From: Mail Delivery System <MAILER-DAEMON@%s>\n"
	    "To: <%s>\nSubject: Undelivered Mail Returned to Sender%s\n"
	    "Date: %s\nMessage-ID: <%s.bounce@%s>\n"
	    "Auto-Submitted: auto-replied\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\n"
	    "\tboundary=\"%s/%s\"\n\n"
	    "This is a MIME-encapsulated message.\n\n--%s/%s\n"
	    "Content-Description: Notification\n"
	    "Content-Type: text/plain; charset=us-ascii\n\n"
	    "This is the ferry mail relay at %s.\n\n",
	    in->domain, in->sender, subj, date, in->id, in->domain, in->id,
	    in->host, in->id, in->host, in->host);
	if (n == 1)
		fprintf(f, "Your message (queue ID %s) could not be delivered "
		    "to one or\nmore recipients. The smart host%s%s said:\n\n",
		    m[0].id, sp, relay);
	else
		fprintf(f, "%zu of your messages could not be delivered to "
		    "one or more\nrecipients. The smart host%s%s said, for "
		    "each:\n\n", n, sp, relay);
}

/* One message's lines in the text part. */
static void
write_text(FILE *f, const struct dsn_msg *m, int merged, const char *hdrs)
{
	char	arrived[64], field[DSN_FIELD_MAX + 1];
	size_t	i;

	if (merged) {
		rfc5322_date(m->arrival, arrived, sizeof(arrived));
		fprintf(f, "Queue ID %s, arrived %s\n", m->id, arrived);
		header_field(hdrs, "Subject", field, sizeof(field));
		fprintf(f, "  Subject: %s\n", field);
		header_field(hdrs, "Message-ID", field, sizeof(field));
		if (field[0] != '\0')
			fprintf(f, "  Message-ID: %s\n", field);
	}
	for (i = 0; i < m->n; i++)
		fprintf(f, "%s<%s>: %s\n", merged ? "  " : "", m->r[i].addr,
		    m->r[i].reply);
	if (merged)
		fputc('\n', f);
}

/* One message's per-recipient groups (RFC 3464 2.3). */
static void
write_groups(FILE *f, const struct dsn_info *in, const struct dsn_msg *m,
    int merged)
{
	char	status[16];
	size_t	i;

	for (i = 0; i < m->n; i++) {
		dsn_status(m->r[i].reply, m->r[i].expired, status,
		    sizeof(status));
		fprintf(f, "\nFinal-Recipient: rfc822; %s\nAction: failed\n"
		    "Status: %s\n", m->r[i].addr, status);
		if (in->relay != NULL)	/* optional: RFC 3464 2.3.5 */
			fprintf(f, "Remote-MTA: dns; %s\n", in->relay);
		if (!m->r[i].expired)
			fprintf(f, "Diagnostic-Code: smtp; %s\n",
			    m->r[i].reply);
		if (merged)	/* which message: an extension field */
			fprintf(f, "X-Ferry-Queue-ID: %s\n", m->id);
	}
}

static int
write_all(FILE *f, const struct dsn_info *in, const struct dsn_msg *m,
    size_t n, char *hdrs, struct ferr *e)
{
	char	date[64], arrived[64];
	size_t	i, len;
	int	merged = n > 1;

	rfc5322_date(in->now, date, sizeof(date));
	write_top(f, in, m, n, date);
	for (i = 0; i < n; i++) {
		if (read_headers(m[i].orig, hdrs, &len, e) == -1)
			return -1;
		write_text(f, &m[i], merged, hdrs);
	}
	fprintf(f, "\n--%s/%s\nContent-Description: Delivery report\n"
	    "Content-Type: message/delivery-status\n\n"
	    "Reporting-MTA: dns; %s\n", in->id, in->host, in->host);
	if (!merged) {
		rfc5322_date(m[0].arrival, arrived, sizeof(arrived));
		fprintf(f, "X-Ferry-Queue-ID: %s\nArrival-Date: %s\n",
		    m[0].id, arrived);
	}
	for (i = 0; i < n; i++)
		write_groups(f, in, &m[i], merged);
	if (!merged) {
		fprintf(f, "\n--%s/%s\nContent-Description: Undelivered "
		    "Message Headers\nContent-Type: text/rfc822-headers\n\n",
		    in->id, in->host);
		if (read_headers(m[0].orig, hdrs, &len, e) == -1)
			return -1;
		fwrite(hdrs, 1, len, f);
		if (len > 0 && hdrs[len - 1] != '\n')
			fputc('\n', f);
	}
	fprintf(f, "\n--%s/%s--\n", in->id, in->host);
	return 0;
}

int
dsn_write(int out, const struct dsn_info *in, const struct dsn_msg *m,
    size_t n, struct ferr *e)
{
	FILE	*f;
	char	*hdrs;
	int	 fd, rc;

	if (n == 0 || n > DSN_MSGS_MAX)
		return ferr_set(e, FE_SOFTWARE, 0, "bounce of %zu messages", n);
	if ((hdrs = malloc(DSN_HEADERS_MAX + 1)) == NULL)
		return ferr_set(e, FE_OS, errno, "bounce");
	if ((fd = dup(out)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		if (fd != -1)
			close(fd);
		free(hdrs);
		return ferr_set(e, FE_OS, errno, "bounce");
	}
	rc = write_all(f, in, m, n, hdrs, e);
	free(hdrs);
	if (rc == -1) {
		fclose(f);
		return -1;
	}
	if (ferror(f) || fclose(f) == EOF)
		return ferr_set(e, FE_TEMP, errno, "write bounce");
	return 0;
}
