/*
 * limit.h: what a smart host's reply says about its limits, beyond its
 * code class. Too many recipients (RFC 5321 4.5.3.1.10) asks for a
 * further transaction; a throttle (421, 454, X.4.5) or a sending
 * quota (X.4.5 as 5xx, Office 365's SubmissionQuotaExceeded) asks
 * the client to slow down. Pure: no I/O, for tests.
 */
#ifndef FERRY_LIMIT_H
#define FERRY_LIMIT_H

/* RFC 5321 4.5.3.1.8: recipients a server must take in one message */
#define LIMIT_RCPTS_MIN	100

enum limit_kind {
	LIMIT_NONE,
	LIMIT_RCPTS,	/* too many recipients: the rest in a new MAIL */
	LIMIT_THROTTLE,	/* slow down: stop the run, try later */
	LIMIT_QUOTA	/* a sender's quota used up: as THROTTLE, 5xx */
};

/*
 * Classify one reply line, "CODE[ X.Y.Z] text"; text may lead with
 * context ("host[addr]:port: MAIL FROM: 550 5.4.5 ..."): the first
 * word of three digits [2-5]xx is the code. LIMIT_RCPTS only means it
 * when the reply answered a RCPT; the caller knows which command.
 */
enum limit_kind	limit_reply(const char *text);
#endif
