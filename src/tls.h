/*
 * tls.h: the byte stream to the smart host, plaintext until tls_start
 * and TLS 1.2 (BearSSL) after. Owns no socket: the caller connects and
 * closes. Every wait is bounded by the timeout given at init.
 */
#ifndef FERRY_TLS_H
#define FERRY_TLS_H
#include <stddef.h>
#include <sys/types.h>
#include <bearssl.h>
#include "ferr.h"
#include "x509.h"

#define TLS_PIN_SIZE	X509_PIN_SIZE
#define TLS_FIRST_SIZE	64	/* the server's first bytes, kept */

struct tls_trust {
	const br_x509_trust_anchor	*ta;	/* may be empty with pins */
	size_t				 nta;
	const unsigned char		(*pins)[TLS_PIN_SIZE];
	size_t				 npins;
	/* the certificates of tls_ca_file's anchors (x509.h) */
	const br_x509_certificate	*certs;
	size_t				 ncerts;
};

/*
 * The session kept between connections (RFC 5246 7.3, session IDs;
 * BearSSL's client has no tickets): a file in the spool, bound to the
 * server and to what was trusted, good for TLS_SESSION_TTL seconds.
 */
#define TLS_SESSION_FILE	"tls-session"
#define TLS_SESSION_TTL		3600	/* Postfix's default cache time */
#define TLS_KEY_SIZE		32	/* SHA-256 of what it is bound to */
#define TLS_SESSION_REC_SIZE	165	/* the file's exact size */

struct tls_conn {			/* caller owns it; fields private */
	int			fd;
	unsigned		timeout;
	long long		deadline;	/* monotonic ms; 0 = none */
	int			gone;		/* the peer closed: see tls_gone */
	int			on;		/* 0 plain, 1 handshake, 2 TLS up */
	int			io_err;		/* errno of the socket */
	unsigned char		first[TLS_FIRST_SIZE];	/* what the */
	size_t			nfirst;		/* server sent first */
	int			starttls;	/* plaintext came before TLS */
	int			cache_dirfd;	/* -1: keep no session */
	unsigned		cache_port;
	char			cache_host[256];
	int			resumed;	/* the last handshake did */
	br_ssl_client_context	sc;
	struct x509_engine	x;	/* the certificate check */
	br_sslio_context	io;
	unsigned char		buf[BR_SSL_BUFSIZE_BIDI];
};

void	tls_init(struct tls_conn *c, int fd, unsigned timeout);
/*
 * From now on no wait ends later than secs seconds from now (one
 * reply's deadline); 0 lifts it. A wait past it fails as a timeout.
 */
void	tls_set_deadline(struct tls_conn *c, unsigned secs);
/*
 * After tls_init: resume the session kept in folder dirfd (the spool)
 * when it was made with host:port, the same name and the same trust,
 * and keep a new one there after a full handshake. The file is only a
 * cache: one that is missing, corrupt, expired or bound elsewhere is
 * ignored, and failing to write it is not an error. dirfd stays the
 * caller's.
 */
void	tls_cache(struct tls_conn *c, int dirfd, const char *host,
	    unsigned port);
/*
 * 1 when the server has closed its end: writes since then were
 * dropped (they cannot reach it), so that the replies it sent before
 * closing can still be read; reading past them fails.
 */
int	tls_gone(const struct tls_conn *c);
/* 1 when the last tls_start resumed a kept session. */
int	tls_resumed(const struct tls_conn *c);
/*
 * The cache file's record, pure for tests: encode writes exactly
 * TLS_SESSION_REC_SIZE bytes; decode returns 0 and fills p only when
 * buf is such a record, for key, made at most TLS_SESSION_TTL seconds
 * before now (and not in the future), else -1.
 */
void	tls_session_encode(const br_ssl_session_parameters *p,
	    long long made, const unsigned char key[TLS_KEY_SIZE],
	    unsigned char *out);
int	tls_session_decode(const unsigned char *buf, size_t len,
	    const unsigned char key[TLS_KEY_SIZE], long long now,
	    br_ssl_session_parameters *p);
/*
 * Run the TLS handshake. `name` is sent as SNI and checked against the
 * certificate; it must be a DNS name, not an address. A failed check is
 * FE_TLS with the reason ("certificate has expired", "certificate is
 * for another name", ...); a server that refuses the TLS 1.2 handshake
 * with an alert (TLS 1.3 only, key types BearSSL lacks) is FE_PROTOCOL
 * with what to do; a network failure is FE_TEMP.
 */
int	tls_start(struct tls_conn *c, const char *name,
	    const struct tls_trust *trust, struct ferr *e);
/* Read up to size bytes. Returns the count, or -1 (EOF is an error). */
ssize_t	tls_read(struct tls_conn *c, void *buf, size_t size,
	    struct ferr *e);
/* Write all of buf; with TLS it may stay buffered until tls_flush. */
int	tls_write(struct tls_conn *c, const void *buf, size_t len,
	    struct ferr *e);
int	tls_flush(struct tls_conn *c, struct ferr *e);
/*
 * What the server's first bytes were: for explaining a tls setting
 * that does not fit the port. TLS_SAW_NOTHING when it sent none.
 */
enum tls_saw { TLS_SAW_NOTHING, TLS_SAW_TLS, TLS_SAW_SMTP, TLS_SAW_OTHER };
enum tls_saw	tls_saw(const struct tls_conn *c);
/*
 * On a session that already failed waiting for a plaintext greeting:
 * send a ClientHello (no SNI, nothing checked) and report whether TLS
 * records came back. The connection is of no further use.
 */
int	tls_probe(struct tls_conn *c);
/*
 * Send close_notify when TLS is on, without waiting for the server's;
 * the caller closes the socket.
 */
void	tls_close(struct tls_conn *c);
/*
 * SHA-256 of the SubjectPublicKeyInfo of a DER certificate: what
 * `tls_pin sha256:BASE64` names. Pure; 0, or -1 when it does not parse.
 */
int	tls_spki_sha256(const unsigned char *der, size_t len,
	    unsigned char out[TLS_PIN_SIZE]);
#endif
