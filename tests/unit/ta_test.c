/*
 * ta_test.c: PEM bundles to trust anchors. The certificates are
 * self-signed throwaways made with OpenSSL 3.0:
 *   openssl req -x509 -newkey rsa:1024 -nodes -keyout /dev/null \
 *       -subj "/CN=ferry test RSA" -days 36500
 *   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
 *       -nodes -keyout /dev/null -subj "/CN=ferry test EC" -days 36500
 * EC_PUB is the EC certificate's key as a PUBLIC KEY block.
 */
#include <stdlib.h>
#include <string.h>

#include <bearssl.h>

#include "ferr.h"
#include "t.h"
#include "ta.h"

#define RSA_CERT \
	"-----BEGIN CERTIFICATE-----\n" \
	"MIICEDCCAXmgAwIBAgIUI5xDeKdvqhEtJddBkxw3KR9vYzswDQYJKoZIhvcNAQEL\n" \
	"BQAwGTEXMBUGA1UEAwwOZmVycnkgdGVzdCBSU0EwIBcNMjYxMTI4MTIyNjAwWhgP\n" \
	"MjEyNjExMDQxMjI2MDBaMBkxFzAVBgNVBAMMDmZlcnJ5IHRlc3QgUlNBMIGfMA0G\n" \
	"CSqGSIb3DQEBAQUAA4GNADCBiQKBgQCtykgYK4HiTlynnYH2Xa4WP/YekR2g6NKE\n" \
	"yZKkabQCbdbAiwGO/V2AuyftxmuD0QEHrG3bq5FqzfDtkGB/Fmur6zvXCOx2qdqT\n" \
	"NalM0uMAlwyt9v+g5HMX6rATnr86CWcEiNLqbnalQ/DjgfSHSu8ZR0XZgizYVkYQ\n" \
	"qiXtcM3xJwIDAQABo1MwUTAdBgNVHQ4EFgQU34udipWrJEX60iAMdMy6G0ppcxgw\n" \
	"HwYDVR0jBBgwFoAU34udipWrJEX60iAMdMy6G0ppcxgwDwYDVR0TAQH/BAUwAwEB\n" \
	"/zANBgkqhkiG9w0BAQsFAAOBgQBFrFIjzyP2wG+ZWzzQcO0INXzjnl2OK/jkiv7L\n" \
	"dgI1Vw0SOK44XuSxJ3LDpXGt14luhoHKrm7OEYPT2W2iob7JwMew9P5st2GpLSI6\n" \
	"IukpiTEfBkDblc1nhsHy6B34F6XH5Jdc/E1lZpz4+DpSIBbTuvDCZ5ILIU2mAQLr\n" \
	"GfHDsw==\n" \
	"-----END CERTIFICATE-----\n"

#define EC_CERT_BODY \
	"MIIBiDCCAS2gAwIBAgIUEdK4FDo3ZpMx0eNechDAe5RL5wMwCgYIKoZIzj0EAwIw\n" \
	"GDEWMBQGA1UEAwwNZmVycnkgdGVzdCBFQzAgFw0yNjExMjgxMjI2MDBaGA8yMTI2\n" \
	"MTEwNDEyMjYwMFowGDEWMBQGA1UEAwwNZmVycnkgdGVzdCBFQzBZMBMGByqGSM49\n" \
	"AgEGCCqGSM49AwEHA0IABIF5DL7RNcvYbwGSwWeY23fX5EwinVFCs1hZozMTL4m5\n" \
	"ySCYJSHQ7QUdZR8DZ98M3BoSpuPQRsgXzLHVronXYb2jUzBRMB0GA1UdDgQWBBQD\n" \
	"fpufcHLupVrXgP1woHDvtfSNHTAfBgNVHSMEGDAWgBQDfpufcHLupVrXgP1woHDv\n" \
	"tfSNHTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQD3W94f79WE\n" \
	"G5lbQ9cVGTjtNQnUApcBmI7vSzI7rFWEuQIhAOIz5QcZIbHCsTcTbDc1wSRhxW33\n" \
	"vjkJNX9921CCLQEX\n"

#define EC_CERT \
	"-----BEGIN CERTIFICATE-----\n" \
	EC_CERT_BODY \
	"-----END CERTIFICATE-----\n"

#define EC_PUB \
	"-----BEGIN PUBLIC KEY-----\n" \
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEgXkMvtE1y9hvAZLBZ5jbd9fkTCKd\n" \
	"UUKzWFmjMxMvibnJIJglIdDtBR1lHwNn3wzcGhKm49BGyBfMsdWuiddhvQ==\n" \
	"-----END PUBLIC KEY-----\n"

/* The subjects, DER: SEQUENCE { SET { SEQUENCE { CN, UTF8String } } } */
static const unsigned char rsa_dn[] =
	"\x30\x19\x31\x17\x30\x15\x06\x03\x55\x04\x03\x0c\x0e"
	"ferry test RSA";
static const unsigned char ec_dn[] =
	"\x30\x18\x31\x16\x30\x14\x06\x03\x55\x04\x03\x0c\x0d"
	"ferry test EC";

static const unsigned char rsa_n[] = {
	0xad, 0xca, 0x48, 0x18, 0x2b, 0x81, 0xe2, 0x4e, 0x5c, 0xa7, 0x9d, 0x81,
	0xf6, 0x5d, 0xae, 0x16, 0x3f, 0xf6, 0x1e, 0x91, 0x1d, 0xa0, 0xe8, 0xd2,
	0x84, 0xc9, 0x92, 0xa4, 0x69, 0xb4, 0x02, 0x6d, 0xd6, 0xc0, 0x8b, 0x01,
	0x8e, 0xfd, 0x5d, 0x80, 0xbb, 0x27, 0xed, 0xc6, 0x6b, 0x83, 0xd1, 0x01,
	0x07, 0xac, 0x6d, 0xdb, 0xab, 0x91, 0x6a, 0xcd, 0xf0, 0xed, 0x90, 0x60,
	0x7f, 0x16, 0x6b, 0xab, 0xeb, 0x3b, 0xd7, 0x08, 0xec, 0x76, 0xa9, 0xda,
	0x93, 0x35, 0xa9, 0x4c, 0xd2, 0xe3, 0x00, 0x97, 0x0c, 0xad, 0xf6, 0xff,
	0xa0, 0xe4, 0x73, 0x17, 0xea, 0xb0, 0x13, 0x9e, 0xbf, 0x3a, 0x09, 0x67,
	0x04, 0x88, 0xd2, 0xea, 0x6e, 0x76, 0xa5, 0x43, 0xf0, 0xe3, 0x81, 0xf4,
	0x87, 0x4a, 0xef, 0x19, 0x47, 0x45, 0xd9, 0x82, 0x2c, 0xd8, 0x56, 0x46,
	0x10, 0xaa, 0x25, 0xed, 0x70, 0xcd, 0xf1, 0x27,
};
static const unsigned char rsa_e[] = { 0x01, 0x00, 0x01 };
static const unsigned char ec_q[] = {
	0x04, 0x81, 0x79, 0x0c, 0xbe, 0xd1, 0x35, 0xcb, 0xd8, 0x6f, 0x01, 0x92,
	0xc1, 0x67, 0x98, 0xdb, 0x77, 0xd7, 0xe4, 0x4c, 0x22, 0x9d, 0x51, 0x42,
	0xb3, 0x58, 0x59, 0xa3, 0x33, 0x13, 0x2f, 0x89, 0xb9, 0xc9, 0x20, 0x98,
	0x25, 0x21, 0xd0, 0xed, 0x05, 0x1d, 0x65, 0x1f, 0x03, 0x67, 0xdf, 0x0c,
	0xdc, 0x1a, 0x12, 0xa6, 0xe3, 0xd0, 0x46, 0xc8, 0x17, 0xcc, 0xb1, 0xd5,
	0xae, 0x89, 0xd7, 0x61, 0xbd,
};

static const struct {
	const char	*what;
	const char	*pem;
	int		 rc;
	enum ferr_kind	 kind;
	size_t		 n;		/* anchors in the list after */
	const char	*text;		/* in the error text, or NULL */
} cases[] = {
	{ "empty input", "", 0, FE_OK, 0, NULL },
	{ "text only", "no blocks here\n", 0, FE_OK, 0, NULL },
	{ "RSA and EC", RSA_CERT EC_CERT, 0, FE_OK, 2, NULL },
	{ "text outside blocks",
	    "Subject: CN=ferry test RSA\n" RSA_CERT "\n# between\n" EC_CERT
	    "trailing words", 0, FE_OK, 2, NULL },
	{ "other blocks skipped",
	    EC_PUB RSA_CERT
	    "-----BEGIN FERRY NOTE-----\nAAAA\n-----END FERRY NOTE-----\n",
	    0, FE_OK, 1, NULL },
	{ "no newline after END",
	    "-----BEGIN CERTIFICATE-----\n" EC_CERT_BODY
	    "-----END CERTIFICATE-----", 0, FE_OK, 1, NULL },
	{ "CRLF lines",
	    "-----BEGIN CERTIFICATE-----\r\n"
	"MIIBiDCCAS2gAwIBAgIUEdK4FDo3ZpMx0eNechDAe5RL5wMwCgYIKoZIzj0EAwIw\r\n"
	"GDEWMBQGA1UEAwwNZmVycnkgdGVzdCBFQzAgFw0yNjExMjgxMjI2MDBaGA8yMTI2\r\n"
	"MTEwNDEyMjYwMFowGDEWMBQGA1UEAwwNZmVycnkgdGVzdCBFQzBZMBMGByqGSM49\r\n"
	"AgEGCCqGSM49AwEHA0IABIF5DL7RNcvYbwGSwWeY23fX5EwinVFCs1hZozMTL4m5\r\n"
	"ySCYJSHQ7QUdZR8DZ98M3BoSpuPQRsgXzLHVronXYb2jUzBRMB0GA1UdDgQWBBQD\r\n"
	"fpufcHLupVrXgP1woHDvtfSNHTAfBgNVHSMEGDAWgBQDfpufcHLupVrXgP1woHDv\r\n"
	"tfSNHTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQD3W94f79WE\r\n"
	"G5lbQ9cVGTjtNQnUApcBmI7vSzI7rFWEuQIhAOIz5QcZIbHCsTcTbDc1wSRhxW33\r\n"
	"vjkJNX9921CCLQEX\r\n"
	    "-----END CERTIFICATE-----\r\n", 0, FE_OK, 1, NULL },
	{ "old label",
	    "-----BEGIN X509 CERTIFICATE-----\n" EC_CERT_BODY
	    "-----END X509 CERTIFICATE-----\n", 0, FE_OK, 1, NULL },
	/* Valid base64, not DER; the RSA anchor before it stays. */
	{ "garbage DER", RSA_CERT
	    "-----BEGIN CERTIFICATE-----\nZmVycnkgZmVycnkgZmVycnk=\n"
	    "-----END CERTIFICATE-----\n", -1, FE_CONFIG, 1,
	    "t.pem: PEM block 2: " },
	{ "bad base64",
	    "-----BEGIN CERTIFICATE-----\n!!not base64!!\n"
	    "-----END CERTIFICATE-----\n", -1, FE_CONFIG, 0,
	    "t.pem: PEM block 1: " },
	{ "truncated certificate",
	    "-----BEGIN CERTIFICATE-----\n"
	    "MIIBiDCCAS2gAwIBAgIUEdK4FDo3ZpMx0eNechDAe5RL5wMwCgYIKoZIzj0EAwIw\n"
	    "-----END CERTIFICATE-----\n", -1, FE_CONFIG, 0,
	    "truncated certificate" },
	{ "empty certificate",
	    "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
	    -1, FE_CONFIG, 0, "PEM block 1" },
	{ "no END line", EC_CERT "-----BEGIN CERTIFICATE-----\n"
	    EC_CERT_BODY, -1, FE_CONFIG, 1, "PEM block 2: no END line" },
};

static void
ta_test_cases(struct t *t)
{
	struct ta_list	l;
	struct ferr	e;
	size_t		i;
	int		rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ta_init(&l);
		ferr_clear(&e);
		rc = ta_add_pem(&l, cases[i].pem, strlen(cases[i].pem),
		    "t.pem", &e);
		T_OK(t, rc == cases[i].rc, cases[i].what);
		T_OK(t, e.kind == cases[i].kind, cases[i].what);
		T_OK(t, l.n == cases[i].n, cases[i].what);
		T_OK(t, cases[i].text == NULL ||
		    strstr(e.text, cases[i].text) != NULL, cases[i].what);
		ta_free(&l);
		T_OK(t, l.n == 0 && l.v == NULL, cases[i].what);
	}
}

/* The anchors carry the certificates' subjects and keys, as CAs. */
static void
ta_test_content(struct t *t)
{
	static const char	 pem[] = RSA_CERT EC_CERT;
	const br_x509_trust_anchor *ta;
	struct ta_list		 l;
	struct ferr		 e;

	ta_init(&l);
	T_OK(t, ta_add_pem(&l, pem, sizeof(pem) - 1, "t.pem", &e) == 0,
	    "content: decode");
	if (l.n != 2) {
		T_OK(t, 0, "content: two anchors");
		ta_free(&l);
		return;
	}
	ta = &l.v[0];
	T_OK(t, ta->flags == BR_X509_TA_CA, "RSA: CA flag");
	T_MEMEQ(t, ta->dn.data, ta->dn.len, rsa_dn, sizeof(rsa_dn) - 1,
	    "RSA: subject");
	T_OK(t, ta->pkey.key_type == BR_KEYTYPE_RSA, "RSA: key type");
	T_MEMEQ(t, ta->pkey.key.rsa.n, ta->pkey.key.rsa.nlen, rsa_n,
	    sizeof(rsa_n), "RSA: modulus");
	T_MEMEQ(t, ta->pkey.key.rsa.e, ta->pkey.key.rsa.elen, rsa_e,
	    sizeof(rsa_e), "RSA: exponent");
	ta = &l.v[1];
	T_OK(t, ta->flags == BR_X509_TA_CA, "EC: CA flag");
	T_MEMEQ(t, ta->dn.data, ta->dn.len, ec_dn, sizeof(ec_dn) - 1,
	    "EC: subject");
	T_OK(t, ta->pkey.key_type == BR_KEYTYPE_EC, "EC: key type");
	T_OK(t, ta->pkey.key.ec.curve == BR_EC_secp256r1, "EC: curve");
	T_MEMEQ(t, ta->pkey.key.ec.q, ta->pkey.key.ec.qlen, ec_q,
	    sizeof(ec_q), "EC: point");

	/* A second bundle appends to the same list. */
	T_OK(t, ta_add_pem(&l, EC_CERT, strlen(EC_CERT), "u.pem", &e) == 0,
	    "append: decode");
	T_OK(t, l.n == 3 && l.v[2].pkey.key_type == BR_KEYTYPE_EC,
	    "append: third anchor");
	ta_free(&l);
}

/* Many anchors: the list grows past its first allocation. */
static void
ta_test_many(struct t *t)
{
	struct ta_list	l;
	struct ferr	e;
	char		*pem;
	size_t		i, n = 100, len = strlen(EC_CERT);

	pem = malloc(n * len);
	if (pem == NULL) {
		T_OK(t, 0, "many: malloc");
		return;
	}
	for (i = 0; i < n; i++)
		memcpy(pem + i * len, EC_CERT, len);
	ta_init(&l);
	T_OK(t, ta_add_pem(&l, pem, n * len, "t.pem", &e) == 0 && l.n == n,
	    "many: 100 anchors");
	ta_free(&l);
	free(pem);
}

/* DER length octets for len < 65536 at p; returns how many. */
static size_t
der_len(unsigned char *p, size_t len)
{
	if (len < 0x80) {
		p[0] = (unsigned char)len;
		return 1;
	}
	if (len < 0x100) {
		p[0] = 0x81;
		p[1] = (unsigned char)len;
		return 2;
	}
	p[0] = 0x82;
	p[1] = (unsigned char)(len >> 8);
	p[2] = (unsigned char)len;
	return 3;
}

/* Size of the DER element at p (tag, length octets and content). */
static size_t
der_size(const unsigned char *p)
{
	size_t	i, n, len;

	if ((p[1] & 0x80) == 0)
		return 2 + p[1];
	n = p[1] & 0x7f;
	for (len = 0, i = 0; i < n; i++)
		len = len << 8 | p[2 + i];
	return 2 + n + len;
}

/* Offset of the content of the element at p. */
static size_t
der_hdr(const unsigned char *p)
{
	return (p[1] & 0x80) == 0 ? 2 : 2 + (p[1] & 0x7f);
}

struct der_buf {
	unsigned char	b[1024];
	size_t		len;
	int		overflow;
};

static void
der_collect(void *ctx, const void *buf, size_t len)
{
	struct der_buf	*d = ctx;

	if (len > sizeof(d->b) - d->len) {
		d->overflow = 1;
		return;
	}
	memcpy(d->b + d->len, buf, len);
	d->len += len;
}

/*
 * The EC certificate with its subject replaced by a DN of exactly
 * dn_len bytes (277..60000), as PEM in a malloc'd string. The signature
 * no longer matches; the decoder does not check it and neither do we.
 */
static char *
cert_with_dn(size_t dn_len)
{
	static const char	 body[] = EC_CERT_BODY;
	br_pem_decoder_context	 pc;
	struct der_buf		 d = { .len = 0 };
	unsigned char		*der = d.b, *tbs, *subj, *q;
	unsigned char		*cert, *in, *out;
	size_t			 len, i, k, s, plen;
	char			*pem;

	/* PEM to DER with BearSSL's own decoder. */
	br_pem_decoder_init(&pc);
	br_pem_decoder_push(&pc, "-----BEGIN X-----\n", 18);
	br_pem_decoder_event(&pc);
	br_pem_decoder_setdest(&pc, der_collect, &d);
	br_pem_decoder_push(&pc, body, sizeof(body) - 1);
	br_pem_decoder_push(&pc, "-----END X-----\n", 16);
	if (br_pem_decoder_event(&pc) != BR_PEM_END_OBJ || d.overflow)
		return NULL;
	len = d.len;

	/* Certificate { TBS { version, serial, sigalg, issuer,
	 * validity, subject, ... }, sigalg, signature } */
	tbs = der + der_hdr(der);
	subj = tbs + der_hdr(tbs);
	for (i = 0; i < 5; i++)
		subj += der_size(subj);
	s = der_size(subj);

	in = malloc(dn_len + 2 * len);
	cert = malloc(dn_len + 2 * len);
	if (in == NULL || cert == NULL)
		goto fail;
	/* New TBS content: head, big subject, tail. */
	q = in;
	memcpy(q, tbs + der_hdr(tbs), (size_t)(subj - tbs) - der_hdr(tbs));
	q += (size_t)(subj - tbs) - der_hdr(tbs);
	k = dn_len - 21;	/* 4 headers of 4 bytes and the 5-byte OID */
	*q++ = 0x30;
	q[0] = 0x82; q[1] = (unsigned char)((dn_len - 4) >> 8);
	q[2] = (unsigned char)(dn_len - 4); q += 3;
	*q++ = 0x31;
	q[0] = 0x82; q[1] = (unsigned char)((dn_len - 8) >> 8);
	q[2] = (unsigned char)(dn_len - 8); q += 3;
	*q++ = 0x30;
	q[0] = 0x82; q[1] = (unsigned char)((dn_len - 12) >> 8);
	q[2] = (unsigned char)(dn_len - 12); q += 3;
	memcpy(q, "\x06\x03\x55\x04\x03\x0c\x82", 7);
	q += 7;
	q[0] = (unsigned char)(k >> 8);
	q[1] = (unsigned char)k;
	q += 2;
	memset(q, 'a', k);
	q += k;
	plen = (size_t)(tbs + der_size(tbs) - (subj + s));
	memcpy(q, subj + s, plen);
	q += plen;

	/* Wrap: TBS, then sigalg and signature as they were. */
	out = cert + 4;		/* room for the outer header */
	*out++ = 0x30;
	out += der_len(out, (size_t)(q - in));
	memcpy(out, in, (size_t)(q - in));
	out += q - in;
	plen = len - (size_t)(tbs + der_size(tbs) - der);
	memcpy(out, tbs + der_size(tbs), plen);
	out += plen;
	plen = (size_t)(out - (cert + 4));
	q = cert;
	*q++ = 0x30;
	q += der_len(q, plen);
	memmove(q, cert + 4, plen);
	plen += (size_t)(q - cert);

	pem = malloc(br_pem_encode(NULL, cert, plen, "CERTIFICATE",
	    BR_PEM_LINE64) + 1);
	if (pem != NULL)
		br_pem_encode(pem, cert, plen, "CERTIFICATE", BR_PEM_LINE64);
	free(in);
	free(cert);
	return pem;
fail:
	free(in);
	free(cert);
	return NULL;
}

/* The subject DN limit (TA_DN_SIZE, 4096 bytes): at it and one over. */
static void
ta_test_dn_limit(struct t *t)
{
	static const struct {
		size_t	dn_len;
		int	rc;
	} dn[] = { { 300, 0 }, { 4096, 0 }, { 4097, -1 } };
	struct ta_list	l;
	struct ferr	e;
	size_t		i;
	char		*pem;

	for (i = 0; i < sizeof(dn) / sizeof(dn[0]); i++) {
		pem = cert_with_dn(dn[i].dn_len);
		if (pem == NULL) {
			T_OK(t, 0, "DN limit: make certificate");
			continue;
		}
		ta_init(&l);
		ferr_clear(&e);
		T_OK(t, ta_add_pem(&l, pem, strlen(pem), "t.pem", &e) ==
		    dn[i].rc, "DN limit: result");
		if (dn[i].rc == 0)
			T_OK(t, l.n == 1 && l.v[0].dn.len == dn[i].dn_len,
			    "DN limit: DN kept whole");
		else
			T_OK(t, e.kind == FE_CONFIG && l.n == 0 &&
			    strstr(e.text, "subject name") != NULL,
			    "DN limit: FE_CONFIG");
		ta_free(&l);
		free(pem);
	}
}

void
ta_test(struct t *t)
{
	ta_test_cases(t);
	ta_test_content(t);
	ta_test_many(t);
	ta_test_dn_limit(t);
}
