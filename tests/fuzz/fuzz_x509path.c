/*
 * fuzz_x509path: the certificate check (x509.c) past the parser, where
 * fuzz_x509 never gets: path validation, name constraints, the anchor's
 * own certificate and path building. The harness holds a fixed P-256
 * test key, the key of its one trust anchor ("CN=ferry fuzz root"),
 * and signs every element it is given with it, so fuzzed certificates
 * do chain: an intermediate whose key is that key (the seeds carry it)
 * signs what is below it.
 *
 * Input: byte 0 picks the host name (low 3 bits) and whether the first
 * element is the anchor's own TBSCertificate (bit 3; then it goes in
 * the trust's certificates, its subject as the anchor's name). The
 * rest is split into DER elements, each a TBSCertificate that becomes
 * a certificate signed ecdsa-with-SHA256 by the test key, fed to the
 * engine in two pieces as a server's Certificate message would be.
 * Seeds: tests/fuzz/seeds_x509path.sh (openssl, at run time).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "x509.h"
#include "fuzz_der.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TBS_MAX		8192
#define CERT_MAX	(TBS_MAX + 128)

/* a test key, not a secret: seeds_x509path.sh holds it as PEM */
static const unsigned char fuzz_priv[32] = {
	0x5a, 0x2a, 0xbd, 0x91, 0xf9, 0x31, 0xba, 0xcd, 0x12, 0x38, 0x7e,
	0x3a, 0x61, 0xa7, 0xc0, 0xab, 0x41, 0xe0, 0x3c, 0xed, 0x50, 0x99,
	0x62, 0x8a, 0x47, 0x88, 0xba, 0x97, 0xf0, 0xbd, 0x4c, 0xd6
};
static const unsigned char root_dn[] =
    "\x30\x1a\x31\x18\x30\x16\x06\x03\x55\x04\x03\x0c\x0f"
    "ferry fuzz root";
static const unsigned char ecdsa_sha256[] =
    "\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02";
static const char *const hosts[8] = {
	"mail.example.com", "example.com", "a.b.example.com", "",
	"192.0.2.1", "bar.example.com", "xn--bliss-1b3c148a.example.com",
	"mail.co.uk",
};

/* A DER header for len bytes of tag into out; its length. */
static size_t
header(unsigned char *out, int tag, size_t len)
{
	out[0] = (unsigned char)tag;
	if (len < 0x80) {
		out[1] = (unsigned char)len;
		return 2;
	}
	out[1] = 0x82;
	out[2] = (unsigned char)(len >> 8);
	out[3] = (unsigned char)len;
	return 4;
}

/* Certificate { tbs, ecdsa-with-SHA256, signature by the test key } */
static size_t
sign(const uint8_t *tbs, size_t len, unsigned char *out)
{
	static const br_ec_private_key sk = { BR_EC_secp256r1,
	    (unsigned char *)fuzz_priv, sizeof(fuzz_priv) };
	unsigned char	h[32], sig[80], body[CERT_MAX];
	br_sha256_context sha;
	size_t		slen, n = 0, b = 0;

	br_sha256_init(&sha);
	br_sha256_update(&sha, tbs, len);
	br_sha256_out(&sha, h);
	slen = br_ecdsa_sign_asn1_get_default()(br_ec_get_default(),
	    &br_sha256_vtable, h, &sk, sig);
	if (slen == 0)
		return 0;
	memcpy(body, tbs, len);
	b = len;
	memcpy(body + b, ecdsa_sha256, sizeof(ecdsa_sha256) - 1);
	b += sizeof(ecdsa_sha256) - 1;
	b += header(body + b, 0x03, slen + 1);
	body[b++] = 0;
	memcpy(body + b, sig, slen);
	b += slen;
	n = header(out, 0x30, b);
	memcpy(out + n, body, b);
	return n + b;
}

/* The subject of a TBSCertificate, or the default root name. */
static void
subject_of(const unsigned char *tbs, size_t len, br_x500_name *dn)
{
	size_t	i = 0, k, e;

	dn->data = (unsigned char *)root_dn;
	dn->len = sizeof(root_dn) - 1;
	e = fuzz_element(tbs, len);
	if (e != len || len < 4 || tbs[0] != 0x30)
		return;
	i = (tbs[1] & 0x80) ? 2 + (tbs[1] & 0x7f) : 2;
	if (i < len && tbs[i] == 0xa0)
		i += fuzz_element(tbs + i, len - i);
	/* serial, signature, issuer, validity, then the subject */
	for (k = 0; k < 4 && i < len; k++)
		i += fuzz_element(tbs + i, len - i);
	if (i >= len || tbs[i] != 0x30)
		return;
	dn->data = (unsigned char *)tbs + i;
	dn->len = fuzz_element(tbs + i, len - i);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct x509_engine x;	/* 40 KB: off the stack */
	static unsigned char	cert[CERT_MAX], acert[CERT_MAX], pub[72];
	static br_x509_trust_anchor ta;
	static br_ec_public_key pk;
	static br_x509_certificate ac;
	static const br_ec_private_key sk = { BR_EC_secp256r1,
	    (unsigned char *)fuzz_priv, sizeof(fuzz_priv) };
	struct x509_trust t = { &ta, 1, NULL, 0, NULL, 0 };
	const br_x509_class **vt = &x.vtable;
	const char	*why;
	size_t		k, half, n, ncert = 0;
	unsigned	flags, usages;

	if (size < 1)
		return 0;
	flags = data[0];
	data++;
	size--;
	if (pk.qlen == 0 && br_ec_compute_pub(br_ec_get_default(), &pk, pub,
	    &sk) == 0)
		abort();
	ta.flags = BR_X509_TA_CA;
	ta.pkey.key_type = BR_KEYTYPE_EC;
	ta.pkey.key.ec = pk;
	ta.dn.data = (unsigned char *)root_dn;
	ta.dn.len = sizeof(root_dn) - 1;
	if ((flags & 8) && size > 0) {
		k = fuzz_element(data, size);
		if (k <= TBS_MAX && (n = sign(data, k, acert)) > 0) {
			ac.data = acert;
			ac.data_len = n;
			t.certs = &ac;
			t.ncerts = 1;
			subject_of(data, k, &ta.dn);
		}
		data += k;
		size -= k;
	}
	x509_engine_init(&x, &t);
	x509_engine_set_time(&x, 4000000000LL);	/* 2096: the seeds hold */
	(*vt)->start_chain(vt, hosts[flags & 7]);
	while (size > 0 && ncert++ < 2 * X509_POOL_MAX) {
		k = fuzz_element(data, size);
		n = k <= TBS_MAX ? sign(data, k, cert) : 0;
		if (n == 0) {		/* too big to sign: as it came */
			memcpy(cert, data, k < CERT_MAX ? k : CERT_MAX);
			n = k < CERT_MAX ? k : CERT_MAX;
		}
		(*vt)->start_cert(vt, (uint32_t)n);
		half = n / 2;
		(*vt)->append(vt, cert, half);
		(*vt)->append(vt, cert + half, n - half);
		(*vt)->end_cert(vt);
		data += k;
		size -= k;
	}
	/* accepted: the leaf's key is there; refused: one line of reason */
	if ((*vt)->end_chain(vt) == 0) {
		if ((*vt)->get_pkey(vt, &usages) == NULL)
			abort();
		return 0;
	}
	why = x509_why(&x);
	if (why != NULL && (memchr(why, '\0', X509_WHY_SIZE) == NULL ||
	    strchr(why, '\n') != NULL))
		abort();
	return 0;
}
