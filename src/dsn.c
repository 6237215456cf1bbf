#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* The original header block, at most DSN_HEADERS_MAX bytes of it. */
static int
copy_headers(FILE *f, int orig, struct ferr *e)
{
	char	*buf, *end;
	ssize_t	 n;
	size_t	 len = 0;

	if ((buf = malloc(DSN_HEADERS_MAX + 1)) == NULL)
		return ferr_set(e, FE_OS, errno, "bounce");
	if (lseek(orig, 0, SEEK_SET) == -1) {
		free(buf);
		return ferr_set(e, FE_TEMP, errno, "read message");
	}
	while (len < DSN_HEADERS_MAX &&
	    (n = read(orig, buf + len, DSN_HEADERS_MAX - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	if ((end = strstr(buf, "\n\n")) != NULL)
		len = (size_t)(end - buf) + 1;
	else if ((end = strstr(buf, "\r\n\r\n")) != NULL)
		len = (size_t)(end - buf) + 2;
	fwrite(buf, 1, len, f);
	if (len > 0 && buf[len - 1] != '\n')
		fputc('\n', f);
	free(buf);
	return 0;
}

int
dsn_write(int out, const struct dsn_info *in, const struct dsn_rcpt *r,
    size_t n, int orig, struct ferr *e)
{
	char	 date[64], arrived[64], status[16];
	FILE	*f;
	size_t	 i;
	int	 fd;

	if ((fd = dup(out)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		if (fd != -1)
			close(fd);
		return ferr_set(e, FE_OS, errno, "bounce");
	}
	rfc5322_date(in->now, date, sizeof(date));
	rfc5322_date(in->arrival, arrived, sizeof(arrived));
	fprintf(f, "From: Mail Delivery System <MAILER-DAEMON@%s>\n"
	    "To: <%s>\nSubject: Undelivered Mail Returned to Sender\n"
	    "Date: %s\nMessage-ID: <%s.bounce@%s>\n"
	    "Auto-Submitted: auto-replied\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\n"
	    "\tboundary=\"%s/%s\"\n\n"
	    "This is a MIME-encapsulated message.\n\n--%s/%s\n"
	    "Content-Description: Notification\n"
	    "Content-Type: text/plain; charset=us-ascii\n\n"
	    "This is the ferry mail relay at %s.\n\n"
	    "Your message (queue ID %s) could not be delivered to one or\n"
	    "more recipients. The smart host %s said:\n\n",
	    in->domain, in->sender, date, in->id, in->domain, in->id,
	    in->host, in->id, in->host, in->host, in->id, in->relay);
	for (i = 0; i < n; i++)
		fprintf(f, "<%s>: %s\n", r[i].addr, r[i].reply);
	fprintf(f, "\n--%s/%s\nContent-Description: Delivery report\n"
	    "Content-Type: message/delivery-status\n\n"
	    "Reporting-MTA: dns; %s\nX-Ferry-Queue-ID: %s\n"
	    "Arrival-Date: %s\n", in->id, in->host, in->host, in->id,
	    arrived);
	for (i = 0; i < n; i++) {
		dsn_status(r[i].reply, r[i].expired, status, sizeof(status));
		fprintf(f, "\nFinal-Recipient: rfc822; %s\nAction: failed\n"
		    "Status: %s\nRemote-MTA: dns; %s\n", r[i].addr, status,
		    in->relay);
		if (!r[i].expired)
			fprintf(f, "Diagnostic-Code: smtp; %s\n", r[i].reply);
	}
	fprintf(f, "\n--%s/%s\nContent-Description: Undelivered Message "
	    "Headers\nContent-Type: text/rfc822-headers\n\n", in->id,
	    in->host);
	if (copy_headers(f, orig, e) == -1) {
		fclose(f);
		return -1;
	}
	fprintf(f, "\n--%s/%s--\n", in->id, in->host);
	if (ferror(f) || fclose(f) == EOF)
		return ferr_set(e, FE_TEMP, errno, "write bounce");
	return 0;
}
