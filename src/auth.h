/*
 * auth.h: SASL client messages for SMTP AUTH (RFC 4954): PLAIN (RFC
 * 4616), LOGIN and CRAM-MD5 (RFC 2195). Pure functions: no I/O, no
 * allocation. Outputs are base64 lines without CRLF; they hold secrets,
 * so callers wipe them when sent.
 */
#ifndef FERRY_AUTH_H
#define FERRY_AUTH_H
#include <stddef.h>
#include "ferr.h"

#define AUTH_LINE_SIZE	1024	/* one SASL line, base64, + NUL */

/* The CONF_AUTH_* bits named in an EHLO AUTH value ("PLAIN LOGIN"). */
unsigned	auth_mechs_parse(const char *list, size_t len);
/*
 * The mechanism to use, one CONF_AUTH_* bit, or 0 when none is both
 * offered and allowed. Order: CRAM-MD5 (the password never crosses the
 * wire), then PLAIN, then LOGIN.
 */
unsigned	auth_choose(unsigned offered, unsigned allowed);
/* "PLAIN", "LOGIN" or "CRAM-MD5" for one bit; "?" otherwise. */
const char	*auth_name(unsigned mech);
/* Names of every bit in mechs, space-separated, into out. */
void		auth_names(unsigned mechs, char *out, size_t size);
/* base64 of data into out (NUL-terminated). FE_SOFTWARE if too small. */
int	auth_b64(char *out, size_t size, const void *data, size_t len,
	    struct ferr *e);
/* The PLAIN initial response: base64("" NUL user NUL pass). */
int	auth_plain(char *out, size_t size, const char *user,
	    const char *pass, struct ferr *e);
/*
 * The CRAM-MD5 response to a 334 challenge (base64 text of chlen
 * bytes): base64(user " " hex(HMAC-MD5(pass, challenge))). A challenge
 * that is not strict base64 is FE_PROTOCOL.
 */
int	auth_cram_md5(char *out, size_t size, const char *chal, size_t chlen,
	    const char *user, const char *pass, struct ferr *e);
#endif
