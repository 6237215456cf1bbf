#define _GNU_SOURCE	/* memmem */
/*
 * fuzz_smtp: the SMTP reply parser and EHLO extension reader, fed the
 * bytes a hostile smart host could send, split into lines as the
 * session's reader splits them; and dot-stuffing of the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_reply(const struct smtp_reply *r)
{
	/* the text stays NUL-terminated inside its buffer */
	if (r->len >= sizeof(r->text) || r->text[r->len] != '\0')
		abort();
}

static void
replies(const char *p, size_t size)
{
	struct smtp_reply	r;
	struct smtp_ext		x;
	const char		*end = p + size, *nl;
	size_t			 len;
	int			 rc;

	smtp_reply_init(&r);
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		len = (size_t)(nl - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len >= SMTP_LINE_MAX)	/* the reader refuses these */
			continue;
		rc = smtp_reply_add(&r, p, len);
		check_reply(&r);
		if (rc == 1) {
			if (r.code < 200 || r.code > 599)
				abort();
			smtp_ext_parse(&x, &r);
		}
		if (rc != 0)
			smtp_reply_init(&r);
	}
}

/*
 * Stuff in odd-sized pieces (to split CRLFs); the data must not hold
 * the end-of-data mark "CRLF . CRLF" anywhere but at its end (RFC 5321
 * 4.5.2), counting the CRLF that ended the command before it.
 */
static void
stuff(const char *p, size_t size)
{
	struct smtp_dot	d;
	char		*out, *hit;
	size_t		chunk, len = 2, n;

	if ((out = malloc(2 + SMTP_DOT_OUT_SIZE(size) + 5)) == NULL)
		abort();
	memcpy(out, "\r\n", 2);
	smtp_dot_init(&d);
	while (size > 0) {
		chunk = size < 97 ? size : 97;
		n = smtp_dot_stuff(&d, p, chunk, out + len);
		if (n > SMTP_DOT_OUT_SIZE(chunk))
			abort();
		len += n;
		p += chunk;
		size -= chunk;
	}
	n = smtp_dot_end(&d, out + len);
	if (n < 3 || n > 5)
		abort();
	len += n;
	hit = memmem(out, len, "\r\n.\r\n", 5);
	if (hit == NULL || hit != out + len - 5)
		abort();
	/* RFC 5321 2.3.8: CR and LF only as a pair */
	for (n = 0; n < len; n++)
		if ((out[n] == '\r' && (n + 1 == len || out[n + 1] != '\n')) ||
		    (out[n] == '\n' && (n == 0 || out[n - 1] != '\r')))
			abort();
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	replies((const char *)data, size);
	stuff((const char *)data, size);
	return 0;
}
