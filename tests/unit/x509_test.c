/*
 * x509_test.c: the name rules of the certificate check, which the
 * x509-limbo driver (tests/limbo) and the handshakes (t_22_x509) then
 * exercise on whole chains: wildcards, name constraints, addresses.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"
#include "ta.h"
#include "x509.h"

#define S(s)	(const unsigned char *)(s), strlen(s)

/* One certificate of n bytes (junk) through the engine; its reason. */
static const char *
one_cert(size_t n)
{
	static struct x509_engine x;	/* 40 KB: off the stack */
	static unsigned char	der[X509_CHAIN_SIZE + 1];
	static const br_x509_trust_anchor none[1];
	struct x509_trust	tr = { none, 0, NULL, 0, NULL, 0 };
	const br_x509_class	**vt = &x.vtable;

	memset(der, 0x30, sizeof(der));
	x509_engine_init(&x, &tr);
	(*vt)->start_chain(vt, "mail.example.com");
	(*vt)->start_cert(vt, (uint32_t)n);
	(*vt)->append(vt, der, n / 2);
	(*vt)->append(vt, der + n / 2, n - n / 2);
	(*vt)->end_cert(vt);
	if ((*vt)->end_chain(vt) == 0)
		return "accepted";
	return x509_why(&x) != NULL ? x509_why(&x) : "";
}

/* The path is kept whole: X509_CHAIN_SIZE bytes, and not one more. */
static void
engine_limits(struct t *t)
{
	T_OK(t, strstr(one_cert(X509_CHAIN_SIZE + 1), "too large") != NULL,
	    "a certificate over the chain buffer: too large");
	T_OK(t, strstr(one_cert(X509_CHAIN_SIZE), "not valid DER") != NULL,
	    "a certificate that fills it exactly is parsed");
	T_OK(t, strstr(one_cert(100), "not valid DER") != NULL,
	    "junk is not X.509");
}

#define BUNDLE		"/etc/ssl/certs/ca-certificates.crt"
#define BUNDLE_SIZE	(4 * 1024 * 1024)
#define WHEN_2026	1767225600LL	/* 2026-01-01: both G2 roots valid */

/* The serial number of a DER certificate is the single byte 0. */
static int
serial_zero(const unsigned char *d, size_t len)
{
	size_t	i = 0, k;

	/* SEQUENCE, SEQUENCE (tbs), [0] version, then the INTEGER */
	for (k = 0; k < 2; k++) {
		if (i + 2 > len || d[i] != 0x30)
			return 0;
		i += (d[i + 1] & 0x80) ? 2 + (d[i + 1] & 0x7f) : 2;
	}
	if (i + 5 > len || d[i] != 0xa0)
		return 0;
	i += 2 + d[i + 1];
	return i + 3 <= len && d[i] == 0x02 && d[i + 1] == 1 && d[i + 2] == 0;
}

static int
has_name(const br_x509_certificate *c, const char *name)
{
	size_t	n = strlen(name), i;

	for (i = 0; i + n <= c->data_len; i++)
		if (memcmp(c->data + i, name, n) == 0)
			return 1;
	return 0;
}

/*
 * Debian's bundle as a tls_ca_file: every root may stand as an anchor
 * (issue 25: Go Daddy and Starfield Root G2 have serial number 0),
 * unless it has simply expired.
 */
static void
debian_anchors(struct t *t)
{
	static const char *g2[] = {
		"Go Daddy Root Certificate Authority - G2",
		"Starfield Root Certificate Authority - G2",
	};
	struct ta_list	l;
	struct ferr	e;
	char		*pem, what[160];
	const char	*why;
	size_t		len = 0, i, k, zero = 0, g2ok = 0;
	FILE		*f;

	pem = malloc(BUNDLE_SIZE);
	f = fopen(BUNDLE, "rb");
	T_OK(t, pem != NULL && f != NULL, "read " BUNDLE);
	if (pem == NULL || f == NULL) {
		free(pem);
		if (f != NULL)
			fclose(f);
		return;
	}
	len = fread(pem, 1, BUNDLE_SIZE, f);
	fclose(f);
	ta_init(&l);
	T_OK(t, ta_add_pem(&l, pem, len, BUNDLE, &e) == 0,
	    "Debian's bundle loads as a tls_ca_file");
	for (i = 0; i < l.n; i++) {
		why = x509_anchor_why(l.cert[i].data, l.cert[i].data_len,
		    WHEN_2026);
		zero += serial_zero(l.cert[i].data, l.cert[i].data_len);
		for (k = 0; k < sizeof(g2) / sizeof(g2[0]); k++)
			if (has_name(&l.cert[i], g2[k]) &&
			    serial_zero(l.cert[i].data, l.cert[i].data_len) &&
			    why == NULL)
				g2ok++;
		if (why != NULL && strcmp(why, "has expired or is not yet "
		    "valid") != 0) {
			snprintf(what, sizeof(what), "bundle root %zu: %s",
			    i, why);
			T_OK(t, 0, what);
		}
	}
	T_OK(t, l.n > 100, "the bundle has its roots");
	T_OK(t, zero >= 2, "the bundle has roots of serial number 0");
	T_OK(t, g2ok == 2, "Go Daddy and Starfield Root G2 (serial 0) "
	    "stand as anchors");
	ta_free(&l);
	free(pem);
}

void
x509_test(struct t *t)
{
	static const struct {
		const char	*pat, *host;
		int		 match;
		const char	*what;
	} names[] = {
		{ "mail.example.com", "mail.example.com", 1, "exact" },
		{ "MAIL.Example.COM", "mail.example.com", 1, "case" },
		{ "mail.example.com", "mail.example.co", 0, "shorter" },
		{ "*.example.com", "mail.example.com", 1, "wildcard" },
		{ "*.example.com", "example.com", 0, "wildcard: apex" },
		{ "*.example.com", "a.b.example.com", 0,
		    "wildcard: one label only" },
		{ "*.test", "interop.test", 0, "wildcard under a TLD" },
		{ "*.com", "example.com", 0, "wildcard under .com" },
		{ "f*.example.com", "foo.example.com", 0,
		    "wildcard inside a label" },
		{ "*oo.example.com", "foo.example.com", 0,
		    "partial leftmost label" },
		{ "mail.*.com", "mail.example.com", 0, "wildcard not leftmost" },
		{ "*.*.example.com", "a.b.example.com", 0, "two wildcards" },
		{ "*", "localhost", 0, "a lone star" },
		{ "*.", "a.", 0, "star dot" },
		{ "xn--bliss-1b3c148a.example.com", "xn--bliss-1b3c148a.example.com",
		    1, "A-label" },
		{ "mail.example.com.", "mail.example.com", 0, "trailing dot" },
		{ "", "", 0, "empty" },
		{ "-bad.example.com", "-bad.example.com", 0, "leading hyphen" },
		/* issue 25 */
		{ "a_b.example.com", "a_b.example.com", 0,
		    "underscore: no host name" },
		{ "*.co.uk", "mail.co.uk", 0, "wildcard under co.uk" },
		{ "*.com.au", "mail.com.au", 0, "wildcard under com.au" },
		{ "*.CO.JP", "mail.co.jp", 0, "wildcard under co.jp, case" },
		{ "*.example.co.uk", "mail.example.co.uk", 1,
		    "wildcard under a domain under co.uk" },
		{ "*.ferry.test", "mail.ferry.test", 1,
		    "wildcard under a name of two labels" },
		{ "*.co.ukk", "mail.co.ukk", 1, "not a country code" },
	};
	static const struct {
		const char	*c, *name;
		int		 in;
		const char	*what;
	} ncs[] = {
		{ "example.com", "example.com", 1, "constraint: same" },
		{ "example.com", "mail.example.com", 1, "constraint: below" },
		{ "example.com", "a.b.example.com", 1, "constraint: deep" },
		{ "example.com", "notexample.com", 0,
		    "constraint: label boundary" },
		{ ".example.com", "example.com", 0, "dot: not the apex" },
		{ ".example.com", "mail.example.com", 1, "dot: below" },
		{ "", "anything.test", 1, "empty constraint" },
		{ "EXAMPLE.com", "mail.example.COM", 1, "constraint: case" },
		{ "example.com", "com", 0, "constraint: above" },
	};
	/* issue 25: what a wildcard could match, against a subtree */
	static const struct {
		const char	*c, *name;
		int		 in;
		const char	*what;
	} wilds[] = {
		{ "bar.example.com", "*.example.com", 1,
		    "wildcard could be the excluded name" },
		{ "BAR.example.com", "*.Example.com", 1, "wildcard: case" },
		{ "a.bar.example.com", "*.example.com", 0,
		    "wildcard: one label, not two" },
		{ "example.com", "*.example.com", 1,
		    "wildcard below the subtree" },
		{ "com", "*.example.com", 1, "wildcard far below" },
		{ "bar.example.org", "*.example.com", 0,
		    "wildcard: another domain" },
		{ "barexample.com", "*.example.com", 0,
		    "wildcard: label boundary" },
		{ "bar.example.com", "bar.example.com", 1, "no wildcard" },
		{ "bar.example.com", "foo.example.com", 0,
		    "no wildcard: no match" },
	};
	static const unsigned char v4net[8] = { 192, 0, 2, 0, 255, 255, 255, 0 };
	static const unsigned char v4in[4] = { 192, 0, 2, 77 };
	static const unsigned char v4out[4] = { 192, 0, 3, 1 };
	static const unsigned char v6net[32] = { 0x20, 0x01, 0x0d, 0xb8,
	    [16] = 0xff, 0xff, 0xff, 0xff };
	static const unsigned char v6in[16] = { 0x20, 0x01, 0x0d, 0xb8, 9 };
	size_t	i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		T_OK(t, x509_dns_match(S(names[i].pat), names[i].host) ==
		    names[i].match, names[i].what);
	for (i = 0; i < sizeof(ncs) / sizeof(ncs[0]); i++)
		T_OK(t, x509_nc_dns(S(ncs[i].c), S(ncs[i].name)) == ncs[i].in,
		    ncs[i].what);
	for (i = 0; i < sizeof(wilds) / sizeof(wilds[0]); i++)
		T_OK(t, x509_nc_dns_wild(S(wilds[i].c), S(wilds[i].name)) ==
		    wilds[i].in, wilds[i].what);
	T_OK(t, x509_nc_ip(v4net, 8, v4in, 4), "IPv4 in its /24");
	T_OK(t, !x509_nc_ip(v4net, 8, v4out, 4), "IPv4 outside its /24");
	T_OK(t, !x509_nc_ip(v4net, 8, v6in, 16), "IPv6 against an IPv4 rule");
	T_OK(t, x509_nc_ip(v6net, 32, v6in, 16), "IPv6 in its /32");
	T_OK(t, !x509_nc_ip(v6net, 32, v4in, 4), "IPv4 against an IPv6 rule");
	/* label length: 63 is the limit (RFC 1035 2.3.4) */
	T_OK(t, x509_dns_valid(S("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaa.test")), "63-octet label");
	T_OK(t, !x509_dns_valid(S("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaa.test")), "64-octet label");
	T_OK(t, !x509_dns_valid(S("a..test")), "empty label");
	T_OK(t, !x509_dns_valid(S("a b.test")), "space");
	T_OK(t, x509_spki_sha256((const unsigned char *)"\x30\x03\x02\x01\x01",
	    5, (unsigned char[X509_PIN_SIZE]){ 0 }) == -1, "pin of junk");
	engine_limits(t);
	debian_anchors(t);
}
