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
#define AUTH_LONG_SIZE	12288	/* RFC 4954 4: an AUTH line with a token */
#define AUTH_SHA256_SIZE	32
#define AUTH_NONCE_SIZE		64	/* client nonce text + NUL */

/* The CONF_AUTH_* bits named in an EHLO AUTH value ("PLAIN LOGIN"). */
unsigned	auth_mechs_parse(const char *list, size_t len);
/*
 * The mechanism to use, one CONF_AUTH_* bit, or 0 when none is both
 * offered and allowed. Order: OAUTHBEARER, XOAUTH2 (allowed only
 * when named: their secret is a token), SCRAM-SHA-256 (the server
 * proves it knows the password too), CRAM-MD5 (the password never
 * crosses the wire), then PLAIN, then LOGIN.
 */
unsigned	auth_choose(unsigned offered, unsigned allowed);
/* The EHLO name ("PLAIN", "SCRAM-SHA-256") of one bit; "?" otherwise. */
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

/* XOAUTH2 as Google and Microsoft document it: base64("user=" user
 * ^A "auth=Bearer " token ^A ^A). */
int	auth_xoauth2(char *out, size_t size, const char *user,
	    const char *token, struct ferr *e);
/*
 * The OAUTHBEARER initial response (RFC 7628 3.1): base64 of the GS2
 * header "n,a=user," then ^A "host=" host ^A "port=" port ^A
 * "auth=Bearer " token ^A ^A.
 */
int	auth_oauthbearer(char *out, size_t size, const char *user,
	    const char *host, unsigned port, const char *token,
	    struct ferr *e);

/* What an OAuth JSON error challenge said; "" for what it left out. */
struct auth_oauth_err {
	char	status[32];
	char	schemes[32];
	char	scope[128];
};
/*
 * Read the 334 JSON error challenge (RFC 7628 3.2.2; Google sends the
 * same for XOAUTH2): base64 of {"status":..,"schemes":..,"scope":..}.
 * Values are kept printable and cut to fit. -1 when it is not base64
 * JSON: then every field is "".
 */
int	auth_oauth_error(const char *chal, size_t len,
	    struct auth_oauth_err *oe);

/* One SCRAM-SHA-256 exchange; caller owns it and wipes it after. */
struct auth_scram {
	char		first[AUTH_LINE_SIZE];	/* client-first-message-bare */
	size_t		firstlen;
	char		cnonce[AUTH_NONCE_SIZE];
	unsigned char	server_sig[AUTH_SHA256_SIZE];
	int		has_sig;	/* auth_scram_final worked */
};
/*
 * Start: the client-first-message "n,,n=user,r=cnonce" in base64.
 * cnonce is printable ASCII without ','; the user is escaped (RFC
 * 5802 5.1: '=' and ',').
 */
int	auth_scram_first(struct auth_scram *sc, const char *user,
	    const char *cnonce, char *out, size_t size, struct ferr *e);
/*
 * Answer the server-first-message (base64 text of chlen bytes): check
 * the nonce extends ours and the iteration count is 4096..10^7, derive
 * the keys with PBKDF2-HMAC-SHA-256, put client-final-message with the
 * proof in out (base64) and keep the server signature we expect. A bad
 * challenge is FE_PROTOCOL.
 */
int	auth_scram_final(struct auth_scram *sc, const char *chal,
	    size_t chlen, const char *pass, char *out, size_t size,
	    struct ferr *e);
/*
 * Check the server-final-message: "v=" must be the signature expected
 * (constant-time compare), else FE_PROTOCOL: the server does not know
 * the password. "e=..." is the server's refusal: FE_CONFIG.
 */
int	auth_scram_verify(const struct auth_scram *sc, const char *chal,
	    size_t chlen, struct ferr *e);
#endif
