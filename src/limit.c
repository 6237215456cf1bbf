#include <string.h>

#include "limit.h"

static int
is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

/* Digits from p: how many (at most max), their value in *v. */
static size_t
digits(const char *p, size_t max, int *v)
{
	size_t	n;

	*v = 0;
	for (n = 0; n < max && is_digit((unsigned char)p[n]); n++)
		*v = *v * 10 + (p[n] - '0');
	return n;
}

/*
 * The reply code: the first word that is three digits, 2xx to 5xx,
 * followed by a space, '-' or the end. *rest points past it.
 */
static int
reply_code(const char *text, const char **rest)
{
	const char	*p;
	int		 v;

	for (p = text; *p != '\0'; p++) {
		if (p != text && p[-1] != ' ')
			continue;
		if (digits(p, 4, &v) != 3 || v < 200 || v > 599 ||
		    (p[3] != ' ' && p[3] != '-' && p[3] != '\0'))
			continue;
		*rest = p[3] == '\0' ? p + 3 : p + 4;
		return v;
	}
	return 0;
}

/*
 * RFC 3463 2: class.subject.detail, the class the code's first digit,
 * subject and detail at most three digits each. -1 when there is none.
 */
static int
enhanced(const char *p, int code, int *subject, int *detail)
{
	int	cls;

	if (digits(p, 1, &cls) != 1 || cls != code / 100 || p[1] != '.')
		return -1;
	p += 2;
	if (digits(p, 3, subject) == 0)
		return -1;
	while (is_digit((unsigned char)*p))
		p++;
	if (*p++ != '.' || digits(p, 3, detail) == 0 ||
	    is_digit((unsigned char)p[3]))
		return -1;
	return 0;
}

/* needle in hay, ASCII case ignored */
static int
has_word(const char *hay, const char *needle)
{
	size_t	i, n = strlen(needle);

	for (; *hay != '\0'; hay++) {
		for (i = 0; i < n; i++) {
			char a = hay[i], b = needle[i];

			if (a >= 'A' && a <= 'Z')
				a = (char)(a - 'A' + 'a');
			if (b >= 'A' && b <= 'Z')
				b = (char)(b - 'A' + 'a');
			if (a != b)
				break;
		}
		if (i == n)
			return 1;
	}
	return 0;
}

enum limit_kind
limit_reply(const char *text)
{
	const char	*rest;
	int		 code, sub = 0, det = 0, has;

	if ((code = reply_code(text, &rest)) == 0)
		return LIMIT_NONE;
	has = enhanced(rest, code, &sub, &det) == 0;
	/*
	 * RFC 5321 4.5.3.1.10: 452 for too many recipients, and a 552
	 * there (RFC 821's code) is to be taken as temporary. A 452
	 * with another enhanced code (4.2.2 mailbox full, 4.3.1 disk
	 * full) is about that recipient or the host, not the count.
	 */
	if ((code == 452 && (!has || (sub == 5 && det == 3))) ||
	    (code == 552 && has && sub == 5 && det == 3))
		return LIMIT_RCPTS;
	/*
	 * 421: the server is going away (RFC 5321 3.8), Gmail's "421
	 * 4.7.0 Try again later"; 454 outside STARTTLS and AUTH is how
	 * SES says "Throttling failure". X.4.5 is "mail system
	 * congestion" (RFC 3463 3.5).
	 */
	if (code == 421 || code == 454 ||
	    (code / 100 == 4 && has && sub == 4 && det == 5))
		return LIMIT_THROTTLE;
	/*
	 * RFC 3463 3.5 calls X.4.5 "useful only as a persistent
	 * transient error": a 5.4.5 (Gmail's daily sending quota) says
	 * the sender must wait, not that the message is wrong. Office
	 * 365 says its quota only in the text, under the catch-all 5.2.0.
	 */
	if (code / 100 == 5 && ((has && sub == 4 && det == 5) ||
	    has_word(rest, "SubmissionQuotaExceeded")))
		return LIMIT_QUOTA;
	return LIMIT_NONE;
}
