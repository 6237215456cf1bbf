/*
 * x509.c: the policy layer over br_x509_minimal (see x509.h).
 *
 * How the two share the work: each certificate is collected whole,
 * parsed here, checked against the policy, then handed to minimal,
 * which checks the signature chain, issuer names, dates and anchors.
 * minimal refuses every critical extension it does not know, and it
 * counts self-issued certificates against pathLenConstraint (RFC 5280
 * 6.1.4 (l) says not to); both checks are done here instead. So the
 * copy minimal sees has a critical extendedKeyUsage or nameConstraints
 * renamed to subjectKeyIdentifier (which it skips) and a pathLen raised
 * out of its way. That changes the signed bytes: after minimal read
 * such a certificate, its hash of the signed part is replaced by the
 * hash of the real bytes, before the issuer's key checks it; when a
 * trust anchor signed it directly, that signature is checked here.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "x509.h"

/* ---- DER ---- */

struct der {			/* a cursor over bytes */
	const unsigned char	*p;
	size_t			 len;
};

/*
 * The next TLV of in: its tag, its value in *val and the whole of it
 * in *tlv (either may be NULL); in moves past it. Single-byte tags and
 * definite lengths only, as DER has. -1 when it does not parse.
 */
static int
der_get(struct der *in, int *tag, struct der *val, struct der *tlv)
{
	size_t	hdr, n, i, v = 0;

	if (in->len < 2 || (in->p[0] & 0x1f) == 0x1f)
		return -1;
	if (!(in->p[1] & 0x80)) {
		hdr = 2;
		v = in->p[1];
	} else {
		/* a longer form than DER's shortest is let pass, as minimal does */
		n = in->p[1] & 0x7f;
		if (n == 0 || n > 4 || in->len < 2 + n)
			return -1;
		for (i = 0; i < n; i++)
			v = (v << 8) | in->p[2 + i];
		hdr = 2 + n;
	}
	if (v > in->len - hdr)
		return -1;
	if (tag != NULL)
		*tag = in->p[0];
	if (val != NULL) {
		val->p = in->p + hdr;
		val->len = v;
	}
	if (tlv != NULL) {
		tlv->p = in->p;
		tlv->len = hdr + v;
	}
	in->p += hdr + v;
	in->len -= hdr + v;
	return 0;
}

/* The next TLV must have tag want. */
static int
der_want(struct der *in, int want, struct der *val, struct der *tlv)
{
	int	tag;

	if (in->len == 0 || in->p[0] != want)
		return -1;
	return der_get(in, &tag, val, tlv);
}

static int
der_eq(const struct der *a, const unsigned char *b, size_t blen)
{
	return a->len == blen && memcmp(a->p, b, blen) == 0;
}

static int
der_same(const struct der *a, const struct der *b)
{
	return der_eq(a, b->p, b->len);
}

#define OID(s)	(const unsigned char *)(s), sizeof(s) - 1

/* extensions (RFC 5280 4.2) */
#define O_BC		"\x55\x1d\x13"
#define O_KU		"\x55\x1d\x0f"
#define O_SAN		"\x55\x1d\x11"
#define O_NC		"\x55\x1d\x1e"
#define O_EKU		"\x55\x1d\x25"
#define O_CP		"\x55\x1d\x20"
#define O_AKI		"\x55\x1d\x23"
#define O_SKI		"\x55\x1d\x0e"
#define O_PC		"\x55\x1d\x24"
#define O_AIA		"\x2b\x06\x01\x05\x05\x07\x01\x01"
#define O_ANYEKU	"\x55\x1d\x25\x00"
#define O_SERVER	"\x2b\x06\x01\x05\x05\x07\x03\x01"
/* keys */
#define O_RSA		"\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01"
#define O_EC		"\x2a\x86\x48\xce\x3d\x02\x01"
#define RSA_SIG		"\x2a\x86\x48\x86\xf7\x0d\x01\x01"	/* + n */
#define EC_SIG		"\x2a\x86\x48\xce\x3d\x04"		/* + ... */

/* Extensions minimal processes or skips even when critical. */
static const struct {
	const char	*oid;
	size_t		 len;
} known_critical[] = {
	{ O_BC, 3 }, { O_KU, 3 }, { O_SAN, 3 }, { O_NC, 3 }, { O_EKU, 3 },
	{ O_CP, 3 },
	{ "\x55\x1d\x12", 3 },	/* issuerAltName */
	{ "\x55\x1d\x09", 3 },	/* subjectDirectoryAttributes */
	{ "\x55\x1d\x1f", 3 },	/* cRLDistributionPoints */
	{ "\x55\x1d\x2e", 3 },	/* freshestCRL */
	{ "\x2b\x06\x01\x05\x05\x07\x01\x0b", 8 },	/* subjectInfoAccess */
};

enum hash { H_NONE, H_MD5, H_SHA1, H_SHA224, H_SHA256, H_SHA384,
	H_SHA512 };

/* ---- one certificate ---- */

#define C_BC		0x0001	/* has basicConstraints */
#define C_BC_CRIT	0x0002
#define C_CA		0x0004	/* cA TRUE */
#define C_KU		0x0008
#define C_EKU		0x0010
#define C_EKU_SERVER	0x0020
#define C_SAN		0x0040
#define C_SAN_CRIT	0x0080
#define C_NC		0x0100
#define C_SELF		0x0200	/* issuer and subject are the same */
#define C_PATCH		0x0400	/* minimal needs a changed copy */
#define C_CRIT_UNKNOWN	0x0800	/* a critical extension ferry lacks */
#define C_NC_CRIT	0x1000
#define C_EKU_ANY	0x2000	/* anyExtendedKeyUsage */

#define MAX_PATCH	4

struct cert {
	struct der	 der;		/* all of it */
	struct der	 tbs;		/* the signed part, TLV */
	struct der	 alg_in, alg;	/* signature algorithms, TLV */
	struct der	 sig;		/* signature bits */
	struct der	 serial, issuer, subject, spki;
	int		 version;	/* 0 is v1 */
	long long	 not_before, not_after;
	int		 key;		/* BR_KEYTYPE_RSA, _EC, or 0 */
	unsigned	 rsa_bits;
	enum hash	 hash;		/* of the signature */
	int		 sigkey;	/* key type that signed */
	unsigned	 flags;
	int		 pathlen;	/* -1: none */
	unsigned	 ku;		/* first byte of keyUsage */
	struct der	 san, nc;	/* the extensions' values */
	size_t		 patch[MAX_PATCH];	/* offsets of bytes to set */
	unsigned char	 patch_to[MAX_PATCH];
	size_t		 npatch;
	const char	*bad;		/* first fault seen while parsing */
};

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static long long
days_from_civil(int y, int m, int d)
{
	int	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (long long)era * 146097 + doe - 719468;
}

static int
digits(const unsigned char *p, int n)
{
	int	v = 0;

	while (n-- > 0) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p++ - '0');
	}
	return v;
}

/* UTCTime or GeneralizedTime, Z only (RFC 5280 4.1.2.5). */
static int
read_time(struct der *in, long long *t)
{
	struct der	v;
	const unsigned char *p;
	int		tag, y, mo, d, h, mi, s;

	if (der_get(in, &tag, &v, NULL) == -1)
		return -1;
	p = v.p;
	if (tag == 0x17 && v.len == 13) {
		y = digits(p, 2);
		y += y < 50 ? 2000 : 1900;
		p += 2;
	} else if (tag == 0x18 && v.len == 15) {
		y = digits(p, 4);
		p += 4;
	} else
		return -1;
	mo = digits(p, 2);
	d = digits(p + 2, 2);
	h = digits(p + 4, 2);
	mi = digits(p + 6, 2);
	s = digits(p + 8, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 ||
	    h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60 || p[10] != 'Z')
		return -1;
	*t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	return 0;
}

/* The algorithm of a signature: key type and hash, or -1. */
static int
read_sigalg(const struct der *tlv, int *key, enum hash *h)
{
	struct der	in = *tlv, seq, oid;
	static const enum hash rsa[] = { H_NONE, H_NONE, H_NONE /* md2 */,
	    H_NONE, H_MD5, H_SHA1, H_NONE, H_NONE, H_NONE, H_NONE, H_NONE,
	    H_SHA256, H_SHA384, H_SHA512, H_SHA224 };

	*key = 0;
	*h = H_NONE;
	if (der_want(&in, 0x30, &seq, NULL) == -1 ||
	    der_want(&seq, 0x06, &oid, NULL) == -1)
		return -1;
	if (oid.len == 9 && memcmp(oid.p, RSA_SIG, 8) == 0 &&
	    oid.p[8] < sizeof(rsa) / sizeof(rsa[0])) {
		*key = BR_KEYTYPE_RSA;
		*h = rsa[oid.p[8]];
		if (oid.p[8] == 2)
			*h = H_MD5;	/* md2 is weaker still */
	} else if (oid.len == 7 && memcmp(oid.p, EC_SIG "\x01", 7) == 0) {
		*key = BR_KEYTYPE_EC;
		*h = H_SHA1;
	} else if (oid.len == 8 && memcmp(oid.p, EC_SIG "\x03", 7) == 0 &&
	    oid.p[7] >= 1 && oid.p[7] <= 4) {
		*key = BR_KEYTYPE_EC;
		*h = (enum hash[]){ H_SHA224, H_SHA256, H_SHA384,
		    H_SHA512 }[oid.p[7] - 1];
	} else if (oid.len == 7 &&
	    memcmp(oid.p, "\x2a\x86\x48\xce\x38\x04\x03", 7) == 0)
		*h = H_SHA1;	/* dsa-with-sha1: no DSA here anyway */
	return 0;
}

/* SubjectPublicKeyInfo: the key type and RSA modulus size. */
static int
read_spki(struct cert *c)
{
	struct der	in = c->spki, seq, alg, oid, bits, rsa, n;
	int		tag;
	size_t		i;

	if (der_want(&in, 0x30, &seq, NULL) == -1 ||
	    der_want(&seq, 0x30, &alg, NULL) == -1 ||
	    der_want(&alg, 0x06, &oid, NULL) == -1 ||
	    der_want(&seq, 0x03, &bits, NULL) == -1 || bits.len < 1)
		return -1;
	if (der_eq(&oid, OID(O_EC)))
		c->key = BR_KEYTYPE_EC;
	else if (der_eq(&oid, OID(O_RSA))) {
		c->key = BR_KEYTYPE_RSA;
		bits.p++;
		bits.len--;
		if (der_want(&bits, 0x30, &rsa, NULL) == -1 ||
		    der_get(&rsa, &tag, &n, NULL) == -1 || tag != 0x02)
			return -1;
		for (i = 0; i < n.len && n.p[i] == 0; i++)
			;
		c->rsa_bits = (unsigned)(n.len - i) * 8;
		if (i < n.len)	/* count the top byte's bits exactly */
			for (tag = 0x80; tag > 0 && !(n.p[i] & tag);
			    tag >>= 1)
				c->rsa_bits--;
	}
	return 0;
}

/* One extension; sets c->bad on what the policy refuses outright. */
static int
read_ext(struct cert *c, struct der *ext)
{
	struct der	oid, val, crit, v, in, s;
	int		critical = 0, tag;
	size_t		i;

	if (der_want(ext, 0x06, &oid, NULL) == -1)
		return -1;
	if (ext->len > 0 && ext->p[0] == 0x01) {
		if (der_get(ext, &tag, &crit, NULL) == -1 || crit.len != 1)
			return -1;
		critical = crit.p[0] != 0;
	}
	if (der_want(ext, 0x04, &val, NULL) == -1 || ext->len != 0)
		return -1;
	in = val;
	if (der_eq(&oid, OID(O_BC))) {
		c->flags |= C_BC | (critical ? C_BC_CRIT : 0);
		if (der_want(&in, 0x30, &v, NULL) == -1 || in.len != 0)
			return -1;
		if (v.len > 0 && v.p[0] == 0x01) {
			if (der_get(&v, &tag, &s, NULL) == -1 || s.len != 1)
				return -1;
			if (s.p[0])
				c->flags |= C_CA;
		}
		if (v.len > 0) {
			if (der_want(&v, 0x02, &s, NULL) == -1 || s.len < 1 ||
			    s.len > 2 || (s.p[0] & 0x80) || v.len != 0)
				return -1;
			c->pathlen = s.p[0];
			if (s.len == 2)
				c->pathlen = c->pathlen << 8 | s.p[1];
			/* out of minimal's way: the count is done here */
			for (i = 0; i < s.len && c->npatch < MAX_PATCH; i++) {
				c->patch[c->npatch] = (size_t)(s.p + i -
				    c->der.p);
				c->patch_to[c->npatch++] = i == 0 ? 0x7f :
				    0xff;
			}
			c->flags |= C_PATCH;
		}
	} else if (der_eq(&oid, OID(O_KU))) {
		c->flags |= C_KU;
		if (der_want(&in, 0x03, &v, NULL) == -1 || v.len < 1)
			return -1;
		c->ku = v.len > 1 ? v.p[1] : 0;
	} else if (der_eq(&oid, OID(O_EKU))) {
		c->flags |= C_EKU;
		if (der_want(&in, 0x30, &v, NULL) == -1 || in.len != 0 ||
		    v.len == 0)
			return -1;
		while (v.len > 0) {
			if (der_want(&v, 0x06, &s, NULL) == -1)
				return -1;
			if (der_eq(&s, OID(O_SERVER)))
				c->flags |= C_EKU_SERVER;
			if (der_eq(&s, OID(O_ANYEKU)))
				c->flags |= C_EKU_ANY;
		}
	} else if (der_eq(&oid, OID(O_SAN))) {
		c->flags |= C_SAN | (critical ? C_SAN_CRIT : 0);
		if (der_want(&in, 0x30, &c->san, NULL) == -1 || in.len != 0)
			return -1;
	} else if (der_eq(&oid, OID(O_NC))) {
		c->flags |= C_NC | (critical ? C_NC_CRIT : 0);
		if (der_want(&in, 0x30, &c->nc, NULL) == -1 || in.len != 0)
			return -1;
	} else if (der_eq(&oid, OID(O_AIA))) {
		/* SEQUENCE OF AccessDescription { OID, GeneralName } */
		if (der_want(&in, 0x30, &v, NULL) == -1 || in.len != 0 ||
		    v.len == 0)
			return -1;
		while (v.len > 0)
			if (der_want(&v, 0x30, &s, NULL) == -1 ||
			    der_want(&s, 0x06, NULL, NULL) == -1 ||
			    der_get(&s, &tag, NULL, NULL) == -1 ||
			    s.len != 0)
				return -1;
	} else if (der_eq(&oid, OID(O_PC)) && !critical && c->bad == NULL)
		c->bad = "has a non-critical policyConstraints (RFC 5280 "
		    "4.2.1.11: it must be critical)";
	if (!critical)
		return 0;
	/* RFC 5280 4.2.1.1, 4.2.1.2, 4.2.2.1: these MUST NOT be critical */
	if (der_eq(&oid, OID(O_AKI)) || der_eq(&oid, OID(O_SKI)) ||
	    der_eq(&oid, OID(O_AIA))) {
		if (c->bad == NULL)
			c->bad = "has a critical extension that must not be "
			    "(AKI, SKI or AIA)";
		return 0;
	}
	if (der_eq(&oid, OID(O_EKU)) || der_eq(&oid, OID(O_NC))) {
		/* minimal would refuse it: rename it for minimal's copy */
		if (c->npatch < MAX_PATCH) {
			c->patch[c->npatch] = (size_t)(oid.p + 2 - c->der.p);
			c->patch_to[c->npatch++] = 0x0e;
		}
		c->flags |= C_PATCH;
		return 0;
	}
	for (i = 0; i < sizeof(known_critical) / sizeof(known_critical[0]);
	    i++)
		if (der_eq(&oid, (const unsigned char *)known_critical[i].oid,
		    known_critical[i].len))
			return 0;
	c->flags |= C_CRIT_UNKNOWN;
	if (c->bad == NULL)
		c->bad = "has an unknown critical extension";
	return 0;
}

/* Parse a whole DER certificate into c (pointers into der). */
static int
cert_parse(struct cert *c, const unsigned char *der, size_t len)
{
	struct der	in = { der, len }, crt, tbs, v, exts, ext, seen[16];
	size_t		nseen = 0, i;
	int		tag;

	memset(c, 0, sizeof(*c));
	c->der = in;
	c->pathlen = -1;
	if (der_want(&in, 0x30, &crt, NULL) == -1 || in.len != 0 ||
	    der_want(&crt, 0x30, &tbs, &c->tbs) == -1 ||
	    der_want(&crt, 0x30, NULL, &c->alg) == -1 ||
	    der_want(&crt, 0x03, &c->sig, NULL) == -1 || crt.len != 0 ||
	    c->sig.len < 1 || c->sig.p[0] != 0)
		return -1;
	c->sig.p++;
	c->sig.len--;
	if (tbs.len > 0 && tbs.p[0] == 0xa0) {
		if (der_get(&tbs, &tag, &v, NULL) == -1 ||
		    der_want(&v, 0x02, &ext, NULL) == -1 || v.len != 0 ||
		    ext.len != 1 || ext.p[0] > 2)
			return -1;
		c->version = ext.p[0];
	}
	if (der_want(&tbs, 0x02, &c->serial, NULL) == -1 ||
	    der_want(&tbs, 0x30, NULL, &c->alg_in) == -1 ||
	    der_want(&tbs, 0x30, NULL, &c->issuer) == -1 ||
	    der_want(&tbs, 0x30, &v, NULL) == -1 ||
	    read_time(&v, &c->not_before) == -1 ||
	    read_time(&v, &c->not_after) == -1 || v.len != 0 ||
	    der_want(&tbs, 0x30, NULL, &c->subject) == -1 ||
	    der_want(&tbs, 0x30, NULL, &c->spki) == -1 ||
	    read_spki(c) == -1 ||
	    read_sigalg(&c->alg, &c->sigkey, &c->hash) == -1)
		return -1;
	if (der_same(&c->issuer, &c->subject))
		c->flags |= C_SELF;
	/* issuerUniqueID [1], subjectUniqueID [2], extensions [3] */
	while (tbs.len > 0 && (tbs.p[0] == 0x81 || tbs.p[0] == 0xa1 ||
	    tbs.p[0] == 0x82 || tbs.p[0] == 0xa2))
		if (der_get(&tbs, &tag, NULL, NULL) == -1)
			return -1;
	if (tbs.len == 0)
		return 0;
	if (der_want(&tbs, 0xa3, &v, NULL) == -1 || tbs.len != 0 ||
	    der_want(&v, 0x30, &exts, NULL) == -1 || v.len != 0 ||
	    exts.len == 0 || c->version != 2)
		return -1;
	while (exts.len > 0) {
		if (der_want(&exts, 0x30, &ext, NULL) == -1)
			return -1;
		/* RFC 5280 4.2: one instance of an extension at most */
		if (ext.len > 0 && ext.p[0] == 0x06) {
			struct der o = ext;

			if (der_get(&o, &tag, &v, NULL) == -1)
				return -1;
			for (i = 0; i < nseen; i++)
				if (der_same(&seen[i], &v) && c->bad == NULL)
					c->bad = "has an extension twice";
			if (nseen < sizeof(seen) / sizeof(seen[0]))
				seen[nseen++] = v;
		}
		if (read_ext(c, &ext) == -1)
			return -1;
	}
	return 0;
}

/* ---- names ---- */

static int
lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

static int
eq_nocase(const unsigned char *a, const unsigned char *b, size_t n)
{
	while (n-- > 0)
		if (lower(*a++) != lower(*b++))
			return 0;
	return 1;
}

static size_t
count_dots(const unsigned char *s, size_t len)
{
	size_t	n = 0;

	while (len-- > 0)
		n += *s++ == '.';
	return n;
}

int
x509_dns_valid(const unsigned char *s, size_t len)
{
	size_t	i, label = 0;

	if (len == 0 || len > 253)
		return 0;
	if (len >= 2 && s[0] == '*' && s[1] == '.') {	/* whole label */
		s += 2;
		len -= 2;
		if (len == 0)
			return 0;
	}
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    (s[i] == '-' && label > 0)))
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && s[len - 1] != '-';
}

/*
 * A wildcard directly under a public suffix ("*.co.uk") would stand for
 * every domain there. ferry carries no Public Suffix List (see README):
 * a suffix of two labels is taken as public when it is a generic
 * second-level label under a two-letter country code, as the registries
 * of .uk, .jp, .au, .br and most others make them.
 */
static int
wild_public(const unsigned char *pat, size_t len)
{
	static const char *const gen[] = { "ac", "co", "com", "edu", "gob",
	    "go", "gov", "gv", "lg", "ltd", "mil", "ne", "net", "nic",
	    "nom", "or", "org", "plc", "sch" };
	size_t	i, n;

	if (len < 4 || pat[0] != '*' || pat[1] != '.' ||
	    count_dots(pat, len) != 2 || pat[len - 3] != '.')
		return 0;
	n = len - 5;	/* the label between "*." and ".cc" */
	for (i = 0; i < sizeof(gen) / sizeof(gen[0]); i++)
		if (strlen(gen[i]) == n && eq_nocase(pat + 2,
		    (const unsigned char *)gen[i], n))
			return 1;
	return 0;
}

int
x509_dns_match(const unsigned char *pat, size_t len, const char *host)
{
	size_t		 hlen = strlen(host);
	const char	*dot;

	if (!x509_dns_valid(pat, len))
		return 0;
	if (pat[0] != '*')
		return len == hlen && eq_nocase(pat, (const unsigned char *)host,
		    len);
	/*
	 * "*." then at least two labels ("*.example.com", not "*.com" or
	 * "*.test"); the star stands for one whole non-empty label.
	 */
	if (count_dots(pat, len) < 2 || wild_public(pat, len) ||
	    (dot = strchr(host, '.')) == NULL || dot == host)
		return 0;
	return hlen - (size_t)(dot - host) == len - 1 &&
	    eq_nocase(pat + 1, (const unsigned char *)dot, len - 1);
}

int
x509_nc_dns(const unsigned char *c, size_t clen, const unsigned char *name,
    size_t nlen)
{
	if (clen == 0)
		return 1;		/* the empty constraint covers all */
	if (c[0] == '.')		/* subdomains only */
		return nlen > clen && eq_nocase(name + nlen - clen, c, clen);
	if (nlen == clen)
		return eq_nocase(name, c, clen);
	return nlen > clen && name[nlen - clen - 1] == '.' &&
	    eq_nocase(name + nlen - clen, c, clen);
}

int
x509_nc_dns_wild(const unsigned char *c, size_t clen,
    const unsigned char *pat, size_t plen)
{
	const unsigned char *base = pat + 2;
	size_t		 blen = plen - 2, i;

	if (plen < 3 || pat[0] != '*' || pat[1] != '.')
		return x509_nc_dns(c, clen, pat, plen);
	if (x509_nc_dns(c, clen, pat, plen))
		return 1;	/* the subtree holds the wildcard's base */
	/* the star's one label could spell the subtree itself: L.base */
	if (clen < blen + 2 || c[clen - blen - 1] != '.' ||
	    !eq_nocase(c + clen - blen, base, blen))
		return 0;
	for (i = 0; i < clen - blen - 1; i++)
		if (c[i] == '.')
			return 0;
	return 1;
}

int
x509_nc_ip(const unsigned char *c, size_t clen, const unsigned char *ip,
    size_t iplen)
{
	size_t	i;

	if (clen != 2 * iplen)
		return 0;
	for (i = 0; i < iplen; i++)
		if ((ip[i] & c[iplen + i]) != (c[i] & c[iplen + i]))
			return 0;
	return 1;
}

/* A mask is ones then zeros (RFC 4632 prefixes). */
static int
mask_ok(const unsigned char *m, size_t len)
{
	size_t	i;
	int	zero = 0, b;

	for (i = 0; i < len; i++)
		for (b = 0x80; b > 0; b >>= 1) {
			if (!(m[i] & b))
				zero = 1;
			else if (zero)
				return 0;
		}
	return 1;
}

/* The subject's RDNs start with the constraint's (RFC 5280 7.1). */
static int
nc_dn(const struct der *c, const struct der *subject)
{
	struct der	a = *c, b = *subject, av, bv;

	if (der_want(&a, 0x30, &av, NULL) == -1 ||
	    der_want(&b, 0x30, &bv, NULL) == -1)
		return 0;
	return bv.len >= av.len && memcmp(av.p, bv.p, av.len) == 0;
}

/*
 * Does one subtree list (permitted or excluded) match name (GeneralName
 * tag and value)? *typed says whether the list had any of that type.
 * -1 when a subtree is malformed.
 */
static int
nc_any(const struct der *list, int tag, const struct der *name,
    const struct der *subject, int excl, int *typed)
{
	struct der	in = *list, sub, base;
	int		btag;

	*typed = 0;
	while (in.len > 0) {
		if (der_want(&in, 0x30, &sub, NULL) == -1 ||
		    der_get(&sub, &btag, &base, NULL) == -1)
			return -1;
		if (btag == 0x87 && ((base.len != 8 && base.len != 32) ||
		    !mask_ok(base.p + base.len / 2, base.len / 2)))
			return -1;
		if (btag == 0x82 && base.len > 0 && base.p[0] != '.' &&
		    !x509_dns_valid(base.p, base.len))
			return -1;
		if (btag != tag)
			continue;
		if (tag == 0x87 && base.len != 2 * name->len)
			continue;	/* IPv4 rules say nothing of IPv6 */
		*typed = 1;
		/*
		 * An excluded subtree is hit by every name a wildcard could
		 * match (Go's CVE-2025-61727): *.example.com against an
		 * excluded bar.example.com.
		 */
		if ((tag == 0x82 && excl && x509_nc_dns_wild(base.p,
		    base.len, name->p, name->len)) ||
		    (tag == 0x82 && x509_nc_dns(base.p, base.len, name->p,
		    name->len)) ||
		    (tag == 0x87 && x509_nc_ip(base.p, base.len, name->p,
		    name->len)) ||
		    (tag == 0xa4 && nc_dn(&base, subject)))
			return 1;
	}
	return 0;
}

/*
 * nameConstraints value nc against one name of a certificate below:
 * 0 allowed, else the reason.
 */
static const char *
nc_check_name(const struct der *nc, int tag, const struct der *name,
    const struct der *subject)
{
	struct der	in = *nc, perm = { NULL, 0 }, excl = { NULL, 0 };
	int		t, typed, m;

	if (in.len > 0 && in.p[0] == 0xa0 && der_get(&in, &t, &perm,
	    NULL) == -1)
		return "has malformed nameConstraints";
	if (in.len > 0 && in.p[0] == 0xa1 && der_get(&in, &t, &excl,
	    NULL) == -1)
		return "has malformed nameConstraints";
	if (in.len != 0)
		return "has malformed nameConstraints";
	if ((m = nc_any(&excl, tag, name, subject, 1, &typed)) == -1)
		return "has malformed nameConstraints";
	if (m)
		return "names a host its issuer's nameConstraints exclude";
	if ((m = nc_any(&perm, tag, name, subject, 0, &typed)) == -1)
		return "has malformed nameConstraints";
	if (typed && !m)
		return "names a host outside its issuer's nameConstraints";
	return NULL;
}

/* Every name of c under the constraints nc; NULL or the reason. */
static const char *
nc_check(const struct der *nc, const struct cert *c)
{
	struct der	in = c->san, v, empty = { NULL, 0 };
	const char	*why;
	int		tag;

	/* the subject is a directoryName too (RFC 5280 4.2.1.10) */
	if (c->subject.len > 2 &&
	    (why = nc_check_name(nc, 0xa4, &empty, &c->subject)) != NULL)
		return why;
	while (in.len > 0) {
		if (der_get(&in, &tag, &v, NULL) == -1)
			return "has a malformed subjectAltName";
		if (tag != 0x82 && tag != 0x87)
			continue;
		if ((tag == 0x82 && !x509_dns_valid(v.p, v.len)) ||
		    (tag == 0x87 && v.len != 4 && v.len != 16))
			return "has a malformed name under nameConstraints";
		if ((why = nc_check_name(nc, tag, &v, &c->subject)) != NULL)
			return why;
	}
	return NULL;
}

/* How many TLVs a DER value holds (a subjectAltName's names). */
static size_t
der_count(const struct der *v)
{
	struct der	in = *v;
	size_t		n = 0;
	int		tag;

	while (in.len > 0 && der_get(&in, &tag, NULL, NULL) == 0)
		n++;
	return n;
}

/* How many subtrees, permitted and excluded, nameConstraints holds. */
static size_t
nc_count(const struct der *nc)
{
	struct der	in = *nc, v;
	size_t		n = 0;
	int		tag;

	while (in.len > 0 && der_get(&in, &tag, &v, NULL) == 0)
		n += der_count(&v);
	return n;
}

/*
 * The nameConstraints value itself (RFC 5280 4.2.1.10): NULL when ferry
 * can enforce it, else why not. crit: the extension is critical.
 */
static const char *
nc_why(const struct der *nc, int crit)
{
	struct der	in = *nc, v, sub, base;
	int		t, btag, n = 0;

	while (in.len > 0) {
		if (der_get(&in, &t, &v, NULL) == -1 ||
		    (t != 0xa0 && t != 0xa1) || v.len == 0)
			return "has empty or malformed nameConstraints";
		while (v.len > 0) {
			if (der_want(&v, 0x30, &sub, NULL) == -1 ||
			    der_get(&sub, &btag, &base, NULL) == -1)
				return "has malformed nameConstraints";
			/*
			 * "example.com" covers its subdomains already; a
			 * leading period is the rfc822Name and URI form, not
			 * dNSName's (4.2.1.10), and webpki and Go refuse it.
			 */
			if (btag == 0x82 && base.len > 0 && base.p[0] == '.')
				return "has a dNSName constraint with a leading "
				    "period (RFC 5280 4.2.1.10)";
			if (btag == 0x82 && base.len > 0 &&
			    !x509_dns_valid(base.p, base.len))
				return "has malformed nameConstraints";
			if (btag == 0x87 && ((base.len != 8 &&
			    base.len != 32) || !mask_ok(base.p + base.len / 2,
			    base.len / 2)))
				return "has malformed nameConstraints";
			/* otherName, x400Address, ediPartyName, registeredID */
			if (crit && (btag == 0xa0 || btag == 0xa3 ||
			    btag == 0xa5 || btag == 0x88))
				return btag == 0xa0 ? "has critical "
				    "nameConstraints on otherName, which ferry "
				    "cannot check" : "has critical "
				    "nameConstraints of a name type ferry cannot "
				    "check";
		}
		n++;
	}
	return n > 0 ? NULL : "has empty or malformed nameConstraints";
}

/* The host name (or address) against the leaf's subjectAltName. */
static const char *
name_check(const struct cert *c, const char *host)
{
	struct der	in = c->san, v;
	unsigned char	ip[16];
	size_t		iplen = 0;
	int		tag, psl = 0;

	if (!(c->flags & C_SAN))
		return "has no subjectAltName (a CN alone does not name a "
		    "host)";
	if (c->san.len == 0)
		return "has an empty subjectAltName";
	if (inet_pton(AF_INET, host, ip) == 1)
		iplen = 4;
	else if (inet_pton(AF_INET6, host, ip) == 1)
		iplen = 16;
	while (in.len > 0) {
		if (der_get(&in, &tag, &v, NULL) == -1)
			return "has a malformed subjectAltName";
		if (tag == 0x82 && wild_public(v.p, v.len)) {
			psl = 1;
			continue;
		}
		if (tag == 0x82 && iplen == 0 &&
		    x509_dns_match(v.p, v.len, host))
			return NULL;
		if (tag == 0x87 && iplen > 0 && v.len == iplen &&
		    memcmp(v.p, ip, iplen) == 0)
			return NULL;
	}
	if (psl)
		return "has a wildcard directly under a public suffix (as "
		    "*.co.uk), which matches nothing";
	return "is for another name";
}

/* ---- the engine ---- */

static int
set_why(struct x509_engine *x, size_t i, const char *what)
{
	if (x->failed)
		return -1;
	x->failed = 1;
	if (i == (size_t)-1)
		snprintf(x->why, sizeof(x->why), "trust anchor %s", what);
	else if (i == 0)
		snprintf(x->why, sizeof(x->why), "certificate %s", what);
	else
		snprintf(x->why, sizeof(x->why), "issuer certificate %zu %s",
		    i, what);
	return -1;
}

static const char *
hash_name(enum hash h)
{
	return h == H_MD5 ? "MD5" : "SHA-1";
}

/*
 * What holds for any certificate of the path, the leaf (i 0), an
 * intermediate (i > 0) or an anchor's own certificate (i -1).
 */
static int
check_any(struct x509_engine *x, const struct cert *c, size_t i)
{
	char	buf[64];

	if (c->bad != NULL)
		return set_why(x, i, c->bad);
	if (!der_same(&c->alg, &c->alg_in))
		return set_why(x, i, "names two different signature "
		    "algorithms");
	/* a self-signed certificate's own signature is never relied on */
	if ((c->hash == H_MD5 || c->hash == H_SHA1) &&
	    !(c->flags & C_SELF)) {
		snprintf(buf, sizeof(buf), "is signed with %s",
		    hash_name(c->hash));
		return set_why(x, i, buf);
	}
	if (c->key == BR_KEYTYPE_RSA && c->rsa_bits < X509_MIN_RSA) {
		snprintf(buf, sizeof(buf), "has an RSA key of %u bits "
		    "(under %d)", c->rsa_bits, X509_MIN_RSA);
		return set_why(x, i, buf);
	}
	/* as webpki and Go's crypto/rsa: real keys are whole bytes */
	if (c->key == BR_KEYTYPE_RSA && c->rsa_bits % 8 != 0) {
		snprintf(buf, sizeof(buf), "has an RSA modulus of %u bits, "
		    "not a whole number of bytes", c->rsa_bits);
		return set_why(x, i, buf);
	}
	/* RFC 5280 4.1.2.2: positive, at most 20 octets */
	if (c->serial.len == 0 || c->serial.len > 21 ||
	    (c->serial.p[0] & 0x80) ||
	    (c->serial.len == 21 && c->serial.p[0] != 0) ||
	    (c->serial.len == 1 && c->serial.p[0] == 0))
		return set_why(x, i, "has a serial number that is not "
		    "positive or over 20 bytes");
	if (c->issuer.len <= 2)		/* RFC 5280 4.1.2.4 */
		return set_why(x, i, "has an empty issuer name");
	if ((c->ku & 0x04) && !(c->flags & C_CA))	/* 4.2.1.3 */
		return set_why(x, i, "may sign certificates (keyUsage) but "
		    "is no CA");
	if (c->subject.len <= 2 && (c->flags & C_SAN) &&
	    !(c->flags & C_SAN_CRIT))		/* 4.2.1.6 */
		return set_why(x, i, "has an empty subject and a "
		    "non-critical subjectAltName");
	return 0;
}

/* What holds for an issuer: i > 0, or -1 for an anchor's own cert. */
static int
check_ca(struct x509_engine *x, const struct cert *c, size_t i)
{
	const char	*why;

	if (!(c->flags & C_BC))
		return set_why(x, i, "is not a CA (no basicConstraints)");
	if (!(c->flags & C_CA))
		return set_why(x, i, "is not a CA (basicConstraints "
		    "CA:FALSE)");
	if (!(c->flags & C_BC_CRIT))		/* RFC 5280 4.2.1.9 */
		return set_why(x, i, "has a non-critical basicConstraints");
	if ((c->flags & C_KU) && !(c->ku & 0x04))
		return set_why(x, i, "may not sign certificates (keyUsage "
		    "lacks keyCertSign)");
	if (c->subject.len <= 2)
		return set_why(x, i, "has an empty subject name");
	if ((c->flags & C_NC) &&
	    (why = nc_why(&c->nc, c->flags & C_NC_CRIT)) != NULL)
		return set_why(x, i, why);
	/* Go and webpki: an issuer's EKU limits what it may issue for */
	if ((c->flags & C_EKU) && !(c->flags & (C_EKU_SERVER | C_EKU_ANY)))
		return set_why(x, i, "may not issue for TLS servers "
		    "(extendedKeyUsage lacks serverAuth)");
	return 0;
}

static int
check_leaf(struct x509_engine *x, const struct cert *c)
{
	const char	*why;

	if ((c->flags & C_EKU) && !(c->flags & C_EKU_SERVER))
		return set_why(x, 0, "is not for TLS servers "
		    "(extendedKeyUsage lacks serverAuth)");
	/*
	 * RFC 5280 4.2.1.9 lets the last certificate be a CA's; one that
	 * says CA:TRUE but may not sign certificates contradicts itself
	 * (CA/B BR 7.1.2.7.8). A self-signed one often says CA:TRUE.
	 */
	if ((c->flags & C_CA) && (c->flags & C_KU) && !(c->ku & 0x04) &&
	    !(c->flags & C_SELF))
		return set_why(x, 0, "says CA:TRUE but may not sign "
		    "certificates: it is no server's");
	if (c->flags & C_NC)
		return set_why(x, 0, "has nameConstraints, which only a CA "
		    "may have");
	if (x->name[0] != '\0' && (why = name_check(c, x->name)) != NULL)
		return set_why(x, 0, why);
	return 0;
}

static const br_hash_class *
hash_class(enum hash h)
{
	switch (h) {
	case H_SHA224:	return &br_sha224_vtable;
	case H_SHA256:	return &br_sha256_vtable;
	case H_SHA384:	return &br_sha384_vtable;
	case H_SHA512:	return &br_sha512_vtable;
	default:	return NULL;
	}
}

static const unsigned char *
hash_oid(enum hash h)
{
	switch (h) {
	case H_SHA224:	return BR_HASH_OID_SHA224;
	case H_SHA256:	return BR_HASH_OID_SHA256;
	case H_SHA384:	return BR_HASH_OID_SHA384;
	default:	return BR_HASH_OID_SHA512;
	}
}

/* Hash c's signed part into out; its length, or 0 for no such hash. */
static size_t
tbs_hash(const struct cert *c, unsigned char *out)
{
	const br_hash_class	*hc = hash_class(c->hash);
	br_hash_compat_context	 hx;

	if (hc == NULL)
		return 0;
	hc->init(&hx.vtable);
	hc->update(&hx.vtable, c->tbs.p, c->tbs.len);
	hc->out(&hx.vtable, out);
	return (hc->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK;
}

/* Is c signed by key pk? */
static int
signed_by(const struct cert *c, const br_x509_pkey *pk)
{
	unsigned char	h[64], got[64];
	size_t		hlen;

	if ((hlen = tbs_hash(c, h)) == 0 || pk->key_type != c->sigkey)
		return 0;
	if (pk->key_type == BR_KEYTYPE_RSA)
		return br_rsa_pkcs1_vrfy_get_default()(c->sig.p, c->sig.len,
		    hash_oid(c->hash), hlen, &pk->key.rsa, got) &&
		    memcmp(got, h, hlen) == 0;
	if (pk->key_type == BR_KEYTYPE_EC)
		return br_ecdsa_vrfy_asn1_get_default()(br_ec_get_default(),
		    h, hlen, &pk->key.ec, c->sig.p, c->sig.len) == 1;
	return 0;
}

/* A CA anchor of the trust named as c's issuer signed c. */
static int
anchor_signed(const struct x509_engine *x, const struct cert *c)
{
	const br_x509_trust_anchor *ta;
	size_t	i;

	for (i = 0; i < x->trust.nta; i++) {
		ta = &x->trust.ta[i];
		if ((ta->flags & BR_X509_TA_CA) &&
		    der_eq(&c->issuer, ta->dn.data, ta->dn.len) &&
		    signed_by(c, &ta->pkey))
			return 1;
	}
	return 0;
}

/*
 * The certificate of the anchor that signed top, when the trust has
 * it: into a; 0 found, -1 not (a built-in anchor: a name and a key).
 */
static int
anchor_cert(const struct x509_engine *x, const struct cert *top,
    struct cert *a)
{
	br_x509_decoder_context	 dc;
	const br_x509_pkey	*pk;
	size_t			 i;

	for (i = 0; i < x->trust.ncerts; i++) {
		if (cert_parse(a, x->trust.certs[i].data,
		    x->trust.certs[i].data_len) == -1 ||
		    !der_same(&a->subject, &top->issuer))
			continue;
		br_x509_decoder_init(&dc, NULL, NULL);
		br_x509_decoder_push(&dc, a->der.p, a->der.len);
		pk = br_x509_decoder_get_pkey(&dc);
		if (pk != NULL && signed_by(top, pk))
			return 0;
	}
	return -1;
}

static int
valid_at(const struct cert *c, long long now)
{
	return c->not_before <= now && now <= c->not_after;
}

/*
 * A trust anchor is a name and a key (RFC 5280 6.1.1 (d)): how its own
 * certificate was issued (serial, AKI/SKI, the signature algorithm
 * fields, duplicate extensions) is no input to the path. What ferry
 * takes from it on purpose is what says how the key may be used: its
 * dates, an RSA key of X509_MIN_RSA bits, CA:TRUE in basicConstraints
 * (X.509 v3; critical or not: three of Debian's roots have it
 * non-critical), keyCertSign if it has a keyUsage, no
 * critical extension ferry cannot read, and well-formed
 * nameConstraints; its nameConstraints and pathLenConstraint then
 * count over the path (check_path).
 */
static const char *
anchor_why(const struct cert *a, long long now)
{
	if (a->key == BR_KEYTYPE_RSA && (a->rsa_bits < X509_MIN_RSA ||
	    a->rsa_bits % 8 != 0))
		return "has an RSA key under 2048 bits or not of whole bytes";
	if (!valid_at(a, now))
		return "has expired or is not yet valid";
	if (a->flags & C_CRIT_UNKNOWN)
		return "has an unknown critical extension";
	/*
	 * An X.509 v1 root has no extensions to say CA:TRUE; old bundles
	 * still hold some, and OpenSSL trusts them as CAs.
	 */
	if (a->version == 0)
		return NULL;
	if (!(a->flags & C_BC))
		return "is not a CA (no basicConstraints)";
	if (!(a->flags & C_CA))
		return "is not a CA (basicConstraints CA:FALSE)";
	if ((a->flags & C_KU) && !(a->ku & 0x04))
		return "may not sign certificates (keyUsage lacks "
		    "keyCertSign)";
	if (a->flags & C_NC)
		return nc_why(&a->nc, a->flags & C_NC_CRIT);
	return NULL;
}

const char *
x509_anchor_why(const unsigned char *der, size_t len, long long now)
{
	struct cert	a;

	/* what ferry cannot parse is a name and a key only (anchor_cert) */
	if (cert_parse(&a, der, len) == -1)
		return NULL;
	return anchor_why(&a, now);
}

/* Certificate i of the path under test (x->path) into c. */
static int
path_cert(const struct x509_engine *x, size_t i, struct cert *c)
{
	size_t	k = x->path[i];

	return cert_parse(c, x->chain + x->off[k], x->off[k + 1] - x->off[k]);
}

/*
 * The path is certificates 0..n-1, the last signed by an anchor: the
 * rules between certificates (pathLenConstraint, nameConstraints) and
 * the anchor's own certificate, when known.
 */
static int
check_path(struct x509_engine *x)
{
	struct cert	c, below, a;
	size_t		i, j, n = x->ncert, between, names, work = 0;
	const char	*why;
	int		have_a;

	path_cert(x, n - 1, &c);
	have_a = anchor_cert(x, &c, &a) == 0;
	/* a self-signed leaf trusted as its own anchor is no issuer */
	if (have_a && n == 1 && der_same(&a.der, &c.der))
		have_a = 0;
	if (have_a && (why = anchor_why(&a, x->now)) != NULL)
		return set_why(x, (size_t)-1, why);
	/* issuers from the top down: i == n stands for the anchor */
	for (i = n; i >= 1; i--) {
		if (i == n && !have_a)
			continue;
		if (i < n)
			path_cert(x, i, &c);
		else
			c = a;
		between = 0;
		for (j = 1; j < i; j++) {
			path_cert(x, j, &below);
			if (!(below.flags & C_SELF))	/* 6.1.4 (l) */
				between++;
		}
		if (c.pathlen >= 0 && between > (size_t)c.pathlen)
			return set_why(x, i == n ? (size_t)-1 : i, "allows "
			    "a shorter chain (pathLenConstraint)");
		if (!(c.flags & C_NC))
			continue;
		/* bound the work before doing it: names x subtrees */
		names = 0;
		for (j = 0; j < i; j++) {
			path_cert(x, j, &below);
			names += 1 + der_count(&below.san);
		}
		work += names * nc_count(&c.nc);
		if (work > X509_NC_WORK)
			return set_why(x, i == n ? (size_t)-1 : i, "has "
			    "nameConstraints too large for the names below it "
			    "(over 250000 comparisons)");
		for (j = 0; j < i; j++) {
			path_cert(x, j, &below);
			if (j > 0 && (below.flags & C_SELF))
				continue;	/* 6.1.3 (b) */
			if ((why = nc_check(&c.nc, &below)) != NULL)
				return set_why(x, j, why);
		}
	}
	return 0;
}

/* Feed minimal the certificate; fix up after a changed copy. */
static void
feed_minimal(struct x509_engine *x, struct cert *c, unsigned char *der)
{
	unsigned char	keep[MAX_PATCH];
	size_t		i;

	for (i = 0; i < c->npatch; i++) {
		keep[i] = der[c->patch[i]];
		der[c->patch[i]] = c->patch_to[i];
	}
	x->mini.vtable->append(&x->mini.vtable, der, c->der.len);
	for (i = 0; i < c->npatch; i++)
		der[c->patch[i]] = keep[i];
	x->mini.vtable->end_cert(&x->mini.vtable);
	if (c->npatch == 0 || x->mini.err != 0)
		return;
	/* minimal hashed the copy: give it the hash of what was signed */
	if (tbs_hash(c, x->mini.tbs_hash) == 0)
		x->mini.err = BR_ERR_X509_UNSUPPORTED;
	else if (anchor_signed(x, c))
		x->mini.err = BR_ERR_X509_OK;
}

static void
pin_match(struct x509_engine *x, const unsigned char *der, size_t len)
{
	unsigned char	h[X509_PIN_SIZE];
	size_t		i;

	if (x->trust.npins == 0 || x509_spki_sha256(der, len, h) == -1)
		return;
	for (i = 0; i < x->trust.npins; i++)
		if (memcmp(h, x->trust.pins[i], sizeof(h)) == 0)
			x->pin_seen = 1;
}

static void
x_start_chain(const br_x509_class **ctx, const char *name)
{
	struct x509_engine *x = (struct x509_engine *)(void *)ctx;

	snprintf(x->name, sizeof(x->name), "%s", name != NULL ? name : "");
	x->now = x->when != 0 ? x->when : (long long)time(NULL);
	x->nsent = 0;
	x->off[0] = 0;
	x->lost = 0;
	x->ncert = 0;
	x->failed = 0;
	x->why[0] = '\0';
	x->pin_seen = 0;
	x->pin_failed = 0;
}

static void
x_start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct x509_engine *x = (struct x509_engine *)(void *)ctx;

	(void)length;
	x->cur = 0;
	x->overflow = 0;
}

static void
x_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	struct x509_engine *x = (struct x509_engine *)(void *)ctx;
	size_t	at = x->off[x->nsent] + x->cur;

	if (x->overflow || len > sizeof(x->chain) - at) {
		x->overflow = 1;
		return;
	}
	memcpy(x->chain + at, buf, len);
	x->cur += len;
}

/*
 * Every certificate the server sends is kept, as sent, up to
 * X509_POOL_MAX of them in X509_CHAIN_SIZE bytes: the first that does
 * not fit ends the pool (x->lost says why), and what follows is only
 * matched against the pins.
 */
static void
x_end_cert(const br_x509_class **ctx)
{
	struct x509_engine *x = (struct x509_engine *)(void *)ctx;

	if (!x->overflow)
		pin_match(x, x->chain + x->off[x->nsent], x->cur);
	if (x->lost != 0)
		return;
	if (x->overflow || x->nsent == X509_POOL_MAX) {
		x->lost = x->overflow ? 1 : 2;
		return;
	}
	x->off[x->nsent + 1] = x->off[x->nsent] + x->cur;
	x->nsent++;
}

/* minimal afresh for one path, as br_ssl_client_init_full, less MD5 */
static void
mini_reset(struct x509_engine *x)
{
	br_x509_minimal_init(&x->mini, &br_sha256_vtable, x->trust.ta,
	    x->trust.nta);
	br_x509_minimal_set_hash(&x->mini, br_sha1_ID, &br_sha1_vtable);
	br_x509_minimal_set_hash(&x->mini, br_sha224_ID, &br_sha224_vtable);
	br_x509_minimal_set_hash(&x->mini, br_sha256_ID, &br_sha256_vtable);
	br_x509_minimal_set_hash(&x->mini, br_sha384_ID, &br_sha384_vtable);
	br_x509_minimal_set_hash(&x->mini, br_sha512_ID, &br_sha512_vtable);
	br_x509_minimal_set_rsa(&x->mini, br_rsa_pkcs1_vrfy_get_default());
	br_x509_minimal_set_ecdsa(&x->mini, br_ec_get_default(),
	    br_ecdsa_vrfy_asn1_get_default());
	br_x509_minimal_set_minrsa(&x->mini, X509_MIN_RSA / 8);
	/* BearSSL counts days from 1 January of year 0 */
	if (x->when != 0)
		br_x509_minimal_set_time(&x->mini,
		    (uint32_t)(x->when / 86400 + 719528),
		    (uint32_t)(x->when % 86400));
}

/*
 * One candidate path: pool certificates p[0..n-1], leaf first, through
 * the policy and a fresh minimal, which stops at the first certificate
 * an anchor signed. 0 when trusted, else a BR_ERR_X509_* code (and
 * x->why when the policy refused); x->ncert certificates were looked
 * at. sent: p is the chain as sent, whose end may say why it stopped
 * (x->lost, the 10-certificate limit).
 */
static unsigned
try_path(struct x509_engine *x, const unsigned char *p, size_t n, int sent)
{
	const br_x509_class	**mv = &x->mini.vtable;
	unsigned char		*der;
	struct cert		 c;
	size_t			 i;

	x->failed = 0;
	x->why[0] = '\0';
	x->ncert = 0;
	mini_reset(x);
	/* the name is checked here, with the stricter wildcard rule */
	(*mv)->start_chain(mv, NULL);
	for (i = 0; i < n && x->mini.err == 0; i++) {
		x->path[i] = p[i];
		der = x->chain + x->off[p[i]];
		if (cert_parse(&c, der, x->off[p[i] + 1] - x->off[p[i]]) ==
		    -1) {
			set_why(x, i, "is not valid DER X.509");
			break;
		}
		if (check_any(x, &c, i) == -1 ||
		    (i == 0 && check_leaf(x, &c) == -1) ||
		    (i > 0 && check_ca(x, &c, i) == -1)) {
			x->ncert = i + 1;	/* looked at, refused */
			break;
		}
		(*mv)->start_cert(mv, (uint32_t)c.der.len);
		feed_minimal(x, &c, der);
		x->ncert = i + 1;
		if (x->mini.err == BR_ERR_X509_OK)
			(void)check_path(x);
	}
	if (sent && !x->failed && x->mini.err == 0) {
		if (n == X509_CHAIN_MAX && x->nsent > n)
			set_why(x, n, "is one too many (10 at most)");
		else if (x->lost == 1)
			set_why(x, n, "is too large (the chain is limited to "
			    "32 KB)");
		else if (x->lost == 2)
			set_why(x, n, "is one too many (16 sent at most)");
	}
	i = (*mv)->end_chain(mv);
	return x->failed ? BR_ERR_X509_NOT_TRUSTED : (unsigned)i;
}

/* Some CA anchor has this name: a path may end below it. */
static int
anchor_named(const struct x509_engine *x, const struct der *name)
{
	size_t	i;

	for (i = 0; i < x->trust.nta; i++)
		if ((x->trust.ta[i].flags & BR_X509_TA_CA) &&
		    der_eq(name, x->trust.ta[i].dn.data, x->trust.ta[i].dn.len))
			return 1;
	return 0;
}

struct build {			/* the search over the pool */
	struct der	 subject[X509_POOL_MAX], issuer[X509_POOL_MAX];
	size_t		 tried;		/* prefix of the sent chain run */
	size_t		 steps, paths;
	int		 spent;		/* a limit stopped the search */
	int		 have;		/* a candidate below an anchor ran */
	unsigned	 err;		/* ... and how it failed */
	char		 why[X509_WHY_SIZE];
};

/*
 * Depth first from p[0..n-1], the server's order first: each time the
 * last certificate's issuer names an anchor, try the path; else (and
 * then) go on with every unused certificate of that subject. Bounded
 * by X509_PATHS_MAX tries and X509_STEPS_MAX steps, so a server that
 * sends many certificates of one name cannot make it spin. 1 when a
 * path was trusted (x then holds it).
 */
static int
build(struct x509_engine *x, unsigned char *p, size_t n, struct build *b)
{
	size_t		 k, i;
	unsigned	 err;
	const struct der *iss = &b->issuer[p[n - 1]];

	if (b->steps == X509_STEPS_MAX) {
		b->spent = 1;
		return 0;
	}
	b->steps++;
	if (iss->len == 0)
		return 0;
	for (i = 0; i < n && p[i] == i; i++)
		;
	/* the sent chain's prefix ran already: what starts so ends so */
	if (i == n && n == b->tried)
		return 0;
	if (anchor_named(x, iss)) {
		if (b->paths++ == X509_PATHS_MAX) {
			b->spent = 1;
			return 0;
		}
		if ((err = try_path(x, p, n, 0)) == 0)
			return 1;
		if (!b->have) {
			b->have = 1;
			b->err = err;
			snprintf(b->why, sizeof(b->why), "%s", x->failed ?
			    x->why : "");
		}
	}
	if (n == X509_CHAIN_MAX)
		return 0;
	for (k = 0; k < x->nsent && !b->spent; k++) {
		for (i = 0; i < n && p[i] != k; i++)
			;
		if (i < n || !der_same(&b->subject[k], iss))
			continue;
		p[n] = (unsigned char)k;
		if (build(x, p, n + 1, b))
			return 1;
	}
	return 0;
}

/*
 * The chain as sent first (its reason is the old one), then other
 * paths through what the server sent. A refusal names the reason of
 * the first path that reached an anchor by name, or else the sent
 * chain's.
 */
static unsigned
check_chain(struct x509_engine *x)
{
	struct build	b;
	unsigned char	p[X509_CHAIN_MAX];
	struct cert	c;
	unsigned	err;
	size_t		i, n;
	char		why[X509_WHY_SIZE];
	int		failed, named;

	n = x->nsent < X509_CHAIN_MAX ? x->nsent : X509_CHAIN_MAX;
	for (i = 0; i < n; i++)
		p[i] = (unsigned char)i;
	if ((err = try_path(x, p, n, 1)) == 0 || x->nsent == 0)
		return err;
	failed = x->failed;
	snprintf(why, sizeof(why), "%s", x->why);
	named = x->ncert > 0 && path_cert(x, x->ncert - 1, &c) == 0 &&
	    anchor_named(x, &c.issuer);
	memset(&b, 0, sizeof(b));
	b.tried = x->ncert;
	for (i = 0; i < x->nsent; i++)
		if (cert_parse(&c, x->chain + x->off[i],
		    x->off[i + 1] - x->off[i]) == 0) {
			b.subject[i] = c.subject;
			b.issuer[i] = c.issuer;
		}
	p[0] = 0;
	if (build(x, p, 1, &b))
		return 0;
	if (!named && b.have) {
		err = b.err;
		failed = b.why[0] != '\0';
		snprintf(why, sizeof(why), "%s", b.why);
	} else if (!named && b.spent) {
		failed = 1;
		snprintf(why, sizeof(why), "certificate chain has too many "
		    "possible paths (%d tried, %d steps at most)",
		    X509_PATHS_MAX, X509_STEPS_MAX);
	}
	x->failed = failed;
	snprintf(x->why, sizeof(x->why), "%s", why);
	return failed ? BR_ERR_X509_NOT_TRUSTED : err;
}

static unsigned
x_end_chain(const br_x509_class **ctx)
{
	struct x509_engine *x = (struct x509_engine *)(void *)ctx;
	unsigned	err;

	err = check_chain(x);
	if (x->failed)
		return BR_ERR_X509_NOT_TRUSTED;
	if (x->trust.npins == 0)
		return err;
	if (!x->pin_seen) {
		x->pin_failed = 1;
		return BR_ERR_X509_NOT_TRUSTED;
	}
	/* pins alone may stand for anchors: a pinned self-signed host */
	if (err == BR_ERR_X509_NOT_TRUSTED && x->trust.nta == 0)
		return 0;
	return err;
}

static const br_x509_pkey *
x_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	const struct x509_engine *x =
	    (const struct x509_engine *)(const void *)ctx;

	/* minimal gives the key for NOT_TRUSTED too; end_chain decided */
	return x->mini.vtable->get_pkey(&x->mini.vtable, usages);
}

static const br_x509_class x509_policy_vtable = {
	sizeof(struct x509_engine),
	x_start_chain, x_start_cert, x_append, x_end_cert, x_end_chain,
	x_get_pkey
};

void
x509_engine_init(struct x509_engine *x, const struct x509_trust *t)
{
	x->vtable = &x509_policy_vtable;
	x->trust = *t;
	x->when = 0;
	x->nsent = 0;
	x->ncert = 0;
	x->failed = 0;
	x->pin_failed = 0;
	x->why[0] = '\0';
	mini_reset(x);
}

void
x509_engine_set_time(struct x509_engine *x, long long when)
{
	x->when = when;
	mini_reset(x);
}

/* BearSSL's own X.509 codes, for what x509.c leaves to it. */
const char *
x509_br_reason(unsigned err)
{
	switch (err) {
	case BR_ERR_X509_EXPIRED:
		return "certificate has expired or is not yet valid";
	case BR_ERR_X509_BAD_SERVER_NAME:
		return "certificate is for another name";
	case BR_ERR_X509_NOT_TRUSTED:
		return "certificate is not signed by a trusted CA";
	case BR_ERR_X509_CRITICAL_EXTENSION:
		return "certificate has an unknown critical extension";
	case BR_ERR_X509_WEAK_PUBLIC_KEY:
		return "certificate key is too weak";
	case BR_ERR_X509_NOT_CA:
		return "an issuer certificate is not a CA";
	case BR_ERR_X509_FORBIDDEN_KEY_USAGE:
		return "a certificate's keyUsage forbids this use";
	case BR_ERR_X509_DN_MISMATCH:
		return "certificate chain is out of order or incomplete";
	case BR_ERR_X509_UNSUPPORTED:
	case BR_ERR_X509_BAD_SIGNATURE:
		return "certificate signature not supported";
	default:
		return "certificate could not be verified";
	}
}

const char *
x509_why(const struct x509_engine *x)
{
	return x->failed ? x->why : NULL;
}

int
x509_pin_failed(const struct x509_engine *x)
{
	return x->pin_failed;
}

int
x509_spki_sha256(const unsigned char *der, size_t len,
    unsigned char out[X509_PIN_SIZE])
{
	br_sha256_context sha;
	struct der	in = { der, len }, crt, tbs, spki;
	int		i, tag;

	/* only the walk to the key: a pin must not depend on the rest */
	if (der_want(&in, 0x30, &crt, NULL) == -1 ||
	    der_want(&crt, 0x30, &tbs, NULL) == -1)
		return -1;
	if (tbs.len > 0 && tbs.p[0] == 0xa0 &&
	    der_get(&tbs, &tag, NULL, NULL) == -1)
		return -1;
	/* serial, signature, issuer, validity, subject, then the key */
	for (i = 0; i < 5; i++)
		if (der_get(&tbs, &tag, NULL, NULL) == -1)
			return -1;
	if (der_want(&tbs, 0x30, NULL, &spki) == -1)
		return -1;
	br_sha256_init(&sha);
	br_sha256_update(&sha, spki.p, spki.len);
	br_sha256_out(&sha, out);
	return 0;
}
