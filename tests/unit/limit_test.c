/*
 * limit_test.c: which replies ask for a further transaction (too many
 * recipients), which ask ferry to slow down, which are a sender's
 * quota, and which are none of these, from real servers' wording.
 */
#include "limit.h"
#include "t.h"

struct limit_case {
	const char	*text;
	enum limit_kind	 want;
};

static const struct limit_case cases[] = {
	/* RFC 5321 4.5.3.1.10; Postfix's smtpd_recipient_limit */
	{ "452 4.5.3 Error: too many recipients", LIMIT_RCPTS },
	{ "452 Too many recipients", LIMIT_RCPTS },
	{ "552 5.5.3 Too many recipients", LIMIT_RCPTS },
	{ "host[127.0.0.1]:25: RCPT TO:<a@b>: 452 4.5.3 Too many",
	    LIMIT_RCPTS },
	/* 452 for a full mailbox or disk is not about the count */
	{ "452 4.2.2 Mailbox full", LIMIT_NONE },
	{ "452 4.3.1 Insufficient system storage", LIMIT_NONE },
	{ "552 5.2.2 Mailbox full", LIMIT_NONE },
	{ "552 Too many recipients", LIMIT_NONE },	/* no 5.5.3 */
	/* throttles */
	{ "454 Throttling failure: Maximum sending rate exceeded.",
	    LIMIT_THROTTLE },
	{ "421 4.7.0 Try again later, closing connection.",
	    LIMIT_THROTTLE },
	{ "h:465: server closing: 421 4.3.2 going away", LIMIT_THROTTLE },
	{ "451 4.4.5 Mail system congestion", LIMIT_THROTTLE },
	/* quotas */
	{ "550 5.4.5 Daily user sending quota exceeded.", LIMIT_QUOTA },
	{ "h:587: MAIL FROM: 550 5.4.5 Daily user sending quota exceeded",
	    LIMIT_QUOTA },
	{ "554 5.2.0 STOREDRV.Submission.Exception:"
	    "SubmissionQuotaExceededException; Failed to process message",
	    LIMIT_QUOTA },
	/* Office 365's full recipient mailbox stays a recipient's fault */
	{ "554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:"
	    "QuotaExceededException", LIMIT_NONE },
	{ "550 5.2.2 The email account that you tried to reach is over "
	    "quota", LIMIT_NONE },
	/* plain failures */
	{ "550 5.1.1 User unknown", LIMIT_NONE },
	{ "451 4.3.0 try later", LIMIT_NONE },
	{ "450 4.2.1 receiving mail at a rate that prevents additional "
	    "messages", LIMIT_NONE },
	{ "250 2.1.5 Ok", LIMIT_NONE },
	/* no reply in the text, or digits that are not one */
	{ "", LIMIT_NONE },
	{ "connect to [127.0.0.1]:4210: refused", LIMIT_NONE },
	{ "x421 4.7.0", LIMIT_NONE },
	{ "4521 4.5.3 no", LIMIT_NONE },
	{ "452", LIMIT_RCPTS },
	{ "550 5.4.55 odd", LIMIT_NONE },
	{ "550 4.4.5 class differs", LIMIT_NONE },
};

void
limit_test(struct t *t)
{
	size_t	i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		T_OK(t, limit_reply(cases[i].text) == cases[i].want,
		    cases[i].text);
}
