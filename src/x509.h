/*
 * x509.h: the certificate check of the TLS handshake. An X.509 engine
 * (a br_x509_class) that runs BearSSL's br_x509_minimal for what it
 * does well (signatures, issuer names, dates, trust anchors) and adds
 * the rules it lacks, from RFC 5280 and the CA/Browser Forum baseline:
 * RSA keys of 2048 bits or more, no SHA-1 or MD5 signatures, an EKU
 * that includes serverAuth, basicConstraints and pathLenConstraint of
 * every issuer, nameConstraints (DNS, IP and directory names), the
 * host name from subjectAltName only, with a wildcard only as a whole
 * leftmost label with two labels after it. Each refusal keeps a line
 * that names its reason (x509_why).
 *
 * Every certificate the server sends is kept whole in the context (no
 * malloc): X509_CHAIN_SIZE bytes and X509_POOL_MAX certificates at
 * most. At the end of the chain the policy and br_x509_minimal run on
 * the chain as sent, then on other paths through those certificates
 * (path building: extra, out of order or cross-signed certificates),
 * X509_PATHS_MAX paths and X509_STEPS_MAX search steps at most; a path
 * holds X509_CHAIN_MAX certificates at most, up to the one a trust
 * anchor signed.
 */
#ifndef FERRY_X509_H
#define FERRY_X509_H
#include <stddef.h>
#include <time.h>
#include <bearssl.h>

#define X509_PIN_SIZE	32	/* SHA-256 of a SubjectPublicKeyInfo */
#define X509_CHAIN_SIZE	32768	/* the path's certificates, together */
#define X509_CHAIN_MAX	10	/* certificates in the path */
#define X509_POOL_MAX	16	/* certificates the server may send */
#define X509_PATHS_MAX	8	/* paths tried besides the sent chain */
#define X509_STEPS_MAX	256	/* steps of the search for them */
#define X509_NAME_SIZE	256	/* RFC 1035 2.3.4: 255 octets */
#define X509_WHY_SIZE	160
#define X509_MIN_RSA	2048	/* bits; NIST SP 800-131A */
#define X509_NC_WORK	250000	/* names x subtrees over a path, as Go */

/* What to trust; the engine keeps a copy, the arrays stay the caller's. */
struct x509_trust {
	const br_x509_trust_anchor	*ta;		/* may be empty */
	size_t				 nta;
	/*
	 * The anchors' own certificates where known (tls_ca_file). An
	 * anchor is a name and a key; from its certificate only what
	 * x509_anchor_why checks applies, and its nameConstraints and
	 * pathLenConstraint then count over the path. Built-in anchors
	 * are a name and a key only.
	 */
	const br_x509_certificate	*certs;
	size_t				 ncerts;
	const unsigned char		(*pins)[X509_PIN_SIZE];
	size_t				 npins;
};

struct x509_engine {			/* caller owns it; fields private */
	const br_x509_class		*vtable;	/* first */
	br_x509_minimal_context		 mini;
	struct x509_trust		 trust;
	long long			 when;		/* 0: now */
	long long			 now;		/* of this chain */
	char				 name[X509_NAME_SIZE];
	unsigned char			 chain[X509_CHAIN_SIZE];
	size_t				 off[X509_POOL_MAX + 1];
	size_t				 nsent;		/* kept in chain */
	int				 lost;		/* 1 big, 2 many */
	unsigned char			 path[X509_CHAIN_MAX];	/* tried */
	size_t				 ncert;		/* in the path */
	size_t				 cur;		/* this cert's bytes */
	int				 overflow;
	int				 failed;	/* why is set */
	int				 pin_seen;	/* some cert matched */
	int				 pin_failed;	/* none did */
	char				 why[X509_WHY_SIZE];
};

/*
 * Set x up to check chains against t (copied; its arrays must outlive
 * x). Also (re)initialises x->mini with every hash, RSA and ECDSA.
 */
void	x509_engine_init(struct x509_engine *x, const struct x509_trust *t);
/* Check at this time (seconds since the epoch) instead of now. */
void	x509_engine_set_time(struct x509_engine *x, long long when);
/*
 * After a refused chain: the reason, e.g. "certificate is signed with
 * SHA-1", or NULL when the engine did not refuse it (then BearSSL's
 * error code says why).
 */
const char *x509_why(const struct x509_engine *x);
/* A BearSSL X.509 error code (BR_ERR_X509_*) in words. */
const char *x509_br_reason(unsigned err);
/*
 * What ferry holds an anchor's own certificate to, at time now: NULL
 * when it may stand as an anchor, else why not ("has expired or is not
 * yet valid"). Its serial, AKI/SKI and how it was signed do not count.
 */
const char *x509_anchor_why(const unsigned char *der, size_t len,
	    long long now);
/* 1 when pins were set and no certificate of the chain matched one. */
int	x509_pin_failed(const struct x509_engine *x);
/*
 * SHA-256 of the SubjectPublicKeyInfo of a DER certificate: what
 * `tls_pin sha256:BASE64` names. Pure; 0, or -1 when it does not parse.
 */
int	x509_spki_sha256(const unsigned char *der, size_t len,
	    unsigned char out[X509_PIN_SIZE]);

/* The name rules, pure, for tests. 1 on match, else 0. */
/* A subjectAltName dNSName against a host name (case-insensitive). */
int	x509_dns_match(const unsigned char *pat, size_t len, const char *host);
/* A dNSName of a certificate is well formed (a wildcard label allowed). */
int	x509_dns_valid(const unsigned char *s, size_t len);
/* A dNSName name constraint (RFC 5280 4.2.1.10) covers name. */
int	x509_nc_dns(const unsigned char *c, size_t clen,
	    const unsigned char *name, size_t nlen);
/*
 * Some name the dNSName pat matches is in the subtree c: as
 * x509_nc_dns, and a wildcard "*.b" also for c of one label more
 * than b ("*.example.com" and "bar.example.com").
 */
int	x509_nc_dns_wild(const unsigned char *c, size_t clen,
	    const unsigned char *pat, size_t plen);
/* An iPAddress constraint (address then mask) covers address ip. */
int	x509_nc_ip(const unsigned char *c, size_t clen,
	    const unsigned char *ip, size_t iplen);
#endif
