#include <tomcrypt.h>

#include "auth.h"
#include "conf.h"
#include "t.h"

static void
b64_cases(struct t *t)
{
	static const struct {
		const char *in, *out;
	} c[] = {	/* RFC 4648 10 */
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	char	out[64];
	struct ferr e;
	size_t	i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		T_OK(t, auth_b64(out, sizeof(out), c[i].in, strlen(c[i].in),
		    &e) == 0, c[i].in);
		T_STREQ(t, out, c[i].out, c[i].out);
	}
	/* "foobar" needs 8 + NUL: 9 fits, 8 does not */
	T_OK(t, auth_b64(out, 9, "foobar", 6, &e) == 0, "exact size");
	T_OK(t, auth_b64(out, 8, "foobar", 6, &e) == -1, "size - 1");
}

static void
plain_cases(struct t *t)
{
	char	out[AUTH_LINE_SIZE], user[600], pass[600];
	struct ferr e;

	T_OK(t, auth_plain(out, sizeof(out), "tim", "tanstaaf", &e) == 0,
	    "plain");
	T_STREQ(t, out, "AHRpbQB0YW5zdGFhZg==", "plain base64");
	memset(user, 'u', sizeof(user) - 1);
	user[sizeof(user) - 1] = '\0';
	memset(pass, 'p', sizeof(pass) - 1);
	pass[sizeof(pass) - 1] = '\0';
	T_OK(t, auth_plain(out, sizeof(out), user, pass, &e) == -1,
	    "plain too long");
	T_OK(t, strstr(e.text, "ppp") == NULL, "no password in error");
}

static void
cram_cases(struct t *t)
{
	static const char chal[] =
	    "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+";
	char	out[AUTH_LINE_SIZE];
	struct ferr e;

	/* RFC 2195 section 2's example */
	T_OK(t, auth_cram_md5(out, sizeof(out), chal, strlen(chal), "tim",
	    "tanstaaftanstaaf", &e) == 0, "cram");
	T_STREQ(t, out, "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw",
	    "RFC 2195 response");
	T_OK(t, auth_cram_md5(out, sizeof(out), "not*base64", 10, "tim",
	    "x", &e) == -1 && e.kind == FE_PROTOCOL, "bad challenge");
}

static void
mech_cases(struct t *t)
{
	static const char ehlo[] =
	    "LOGIN PLAIN CRAM-MD5 DIGEST-MD5 SCRAM-SHA-256";
	static const char oauth[] = "XOAUTH2 OAUTHBEARER PLAIN";
	char	names[64];

	T_OK(t, auth_mechs_parse(ehlo, strlen(ehlo)) == CONF_AUTH_ALL,
	    "parse all");
	T_OK(t, auth_mechs_parse(oauth, strlen(oauth)) == (CONF_AUTH_XOAUTH2 |
	    CONF_AUTH_OAUTHBEARER | CONF_AUTH_PLAIN), "parse OAuth");
	T_OK(t, auth_mechs_parse("plain", 5) == CONF_AUTH_PLAIN, "case");
	T_OK(t, auth_mechs_parse("PLAINX CRAM", 11) == 0, "no prefixes");
	T_OK(t, auth_mechs_parse("SCRAM-SHA-256-PLUS", 18) == 0, "no -PLUS");
	T_OK(t, auth_choose(CONF_AUTH_ALL, CONF_AUTH_ALL) ==
	    CONF_AUTH_SCRAM_SHA256, "prefer SCRAM-SHA-256");
	T_OK(t, auth_choose(CONF_AUTH_ALL & ~CONF_AUTH_SCRAM_SHA256,
	    CONF_AUTH_ALL) == CONF_AUTH_CRAM_MD5, "then CRAM-MD5");
	T_OK(t, auth_choose(CONF_AUTH_ALL | CONF_AUTH_XOAUTH2,
	    CONF_AUTH_ALL) == CONF_AUTH_SCRAM_SHA256, "OAuth only if named");
	T_OK(t, auth_choose(CONF_AUTH_PLAIN | CONF_AUTH_XOAUTH2 |
	    CONF_AUTH_OAUTHBEARER, CONF_AUTH_XOAUTH2 | CONF_AUTH_OAUTHBEARER) ==
	    CONF_AUTH_OAUTHBEARER, "OAUTHBEARER before XOAUTH2");
	T_OK(t, auth_choose(CONF_AUTH_PLAIN | CONF_AUTH_LOGIN,
	    CONF_AUTH_ALL) == CONF_AUTH_PLAIN, "then PLAIN");
	T_OK(t, auth_choose(CONF_AUTH_PLAIN, CONF_AUTH_LOGIN) == 0,
	    "none allowed");
	auth_names(CONF_AUTH_PLAIN | CONF_AUTH_LOGIN, names, sizeof(names));
	T_STREQ(t, names, "PLAIN LOGIN", "names");
}

/* base64-decode a line ferry made, for comparing with RFC text */
static size_t
unb64(const char *in, char *out, size_t size)
{
	unsigned long	n = size - 1;

	if (base64_strict_decode((const unsigned char *)in, strlen(in),
	    (unsigned char *)out, &n) != CRYPT_OK)
		n = 0;
	out[n] = '\0';
	return n;
}

static void
b64_of(const char *text, char *out, size_t size)
{
	struct ferr e;

	if (auth_b64(out, size, text, strlen(text), &e) == -1)
		out[0] = '\0';
}

static void
scram_cases(struct t *t)
{
	/* RFC 7677 3's example exchange */
	static const char sfirst[] = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfu"
	    "xFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
	static const char cfinal[] = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2"
	    "RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
	static const char sfinal[] =
	    "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
	struct auth_scram sc;
	char	out[AUTH_LINE_SIZE], raw[AUTH_LINE_SIZE], c64[AUTH_LINE_SIZE];
	struct ferr e;

	T_OK(t, auth_scram_first(&sc, "user", "rOprNGfwEbeRWgbNEkqO", out,
	    sizeof(out), &e) == 0, "scram first");
	unb64(out, raw, sizeof(raw));
	T_STREQ(t, raw, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO", "client-first");
	b64_of(sfirst, c64, sizeof(c64));
	T_OK(t, auth_scram_final(&sc, c64, strlen(c64), "pencil", out,
	    sizeof(out), &e) == 0, "scram final");
	unb64(out, raw, sizeof(raw));
	T_STREQ(t, raw, cfinal, "RFC 7677 client proof");
	b64_of(sfinal, c64, sizeof(c64));
	T_OK(t, auth_scram_verify(&sc, c64, strlen(c64), &e) == 0,
	    "RFC 7677 server signature");
	/* one bit off in the server signature: refused */
	b64_of("v=6rriTRBj23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", c64,
	    sizeof(c64));
	T_OK(t, auth_scram_verify(&sc, c64, strlen(c64), &e) == -1 &&
	    e.kind == FE_PROTOCOL, "forged server signature");
	b64_of("e=invalid-proof", c64, sizeof(c64));
	T_OK(t, auth_scram_verify(&sc, c64, strlen(c64), &e) == -1 &&
	    e.kind == FE_CONFIG && strstr(e.text, "invalid-proof") != NULL,
	    "server error");
	/* a wrong password gives another proof */
	b64_of(sfirst, c64, sizeof(c64));
	T_OK(t, auth_scram_final(&sc, c64, strlen(c64), "pencil2", out,
	    sizeof(out), &e) == 0, "other password");
	unb64(out, raw, sizeof(raw));
	T_OK(t, strcmp(raw, cfinal) != 0, "other proof");

	/* the user name is escaped (RFC 5802 5.1) */
	T_OK(t, auth_scram_first(&sc, "a,b=c", "abc", out, sizeof(out),
	    &e) == 0, "escape");
	unb64(out, raw, sizeof(raw));
	T_STREQ(t, raw, "n,,n=a=2Cb=3Dc,r=abc", "escaped name");

	/* bad server-first messages */
	auth_scram_first(&sc, "user", "rOprNGfwEbeRWgbNEkqO", out,
	    sizeof(out), &e);
	b64_of("r=OTHERNONCE,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", c64,
	    sizeof(c64));
	T_OK(t, auth_scram_final(&sc, c64, strlen(c64), "pencil", out,
	    sizeof(out), &e) == -1 && e.kind == FE_PROTOCOL, "foreign nonce");
	b64_of("r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
	    c64, sizeof(c64));
	T_OK(t, auth_scram_final(&sc, c64, strlen(c64), "pencil", out,
	    sizeof(out), &e) == -1, "nonce not extended");
	b64_of("r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4095",
	    c64, sizeof(c64));
	T_OK(t, auth_scram_final(&sc, c64, strlen(c64), "pencil", out,
	    sizeof(out), &e) == -1, "iterations 4095");
	b64_of("r=rOprNGfwEbeRWgbNEkqOx,i=4096", c64, sizeof(c64));
	T_OK(t, auth_scram_final(&sc, c64, strlen(c64), "pencil", out,
	    sizeof(out), &e) == -1, "no salt");
	b64_of("m=ext,r=rOprNGfwEbeRWgbNEkqOx,s=W22Z,i=4096", c64,
	    sizeof(c64));
	T_OK(t, auth_scram_final(&sc, c64, strlen(c64), "pencil", out,
	    sizeof(out), &e) == -1, "mandatory extension");
	T_OK(t, auth_scram_final(&sc, "not*b64", 7, "pencil", out,
	    sizeof(out), &e) == -1 && e.kind == FE_PROTOCOL, "not base64");
	T_OK(t, auth_scram_verify(&sc, c64, strlen(c64), &e) == -1,
	    "no verify after a failed final");
}

static void
oauth_cases(struct t *t)
{
	/* Google's XOAUTH2 documentation example */
	static const char google[] = "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdX"
	    "RoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRH"
	    "RXVZMjl0Q2cBAQ==";
	/* RFC 7628 3.2.2 / Google's failure challenge */
	static const char json[] = "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmV"
	    "hcmVyIG1hYyIsInNjb3BlIjoiaHR0cHM6Ly9tYWlsLmdvb2dsZS5jb20vIn0K";
	char	out[AUTH_LONG_SIZE], raw[AUTH_LONG_SIZE], tok[6000];
	struct auth_oauth_err oe;
	struct ferr e;

	T_OK(t, auth_xoauth2(out, sizeof(out), "someuser@example.com",
	    "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg", &e) == 0,
	    "xoauth2");
	T_STREQ(t, out, google, "Google's example");
	T_OK(t, auth_oauthbearer(out, sizeof(out), "user@example.com",
	    "server.example.com", 587, "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==",
	    &e) == 0, "oauthbearer");
	unb64(out, raw, sizeof(raw));
	T_STREQ(t, raw, "n,a=user@example.com,\001host=server.example.com"
	    "\001port=587\001auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY2"
	    "9tCg==\001\001", "RFC 7628 4.1 shape");
	/* a 6000-byte token (long JWTs) still fits one AUTH line */
	memset(tok, 'a', sizeof(tok) - 1);
	tok[sizeof(tok) - 1] = '\0';
	T_OK(t, auth_xoauth2(out, sizeof(out), "u", tok, &e) == 0,
	    "long token");
	T_OK(t, auth_xoauth2(out, 100, "u", tok, &e) == -1, "no room");

	T_OK(t, auth_oauth_error(json, strlen(json), &oe) == 0, "json");
	T_STREQ(t, oe.status, "401", "status");
	T_STREQ(t, oe.schemes, "bearer mac", "schemes");
	T_STREQ(t, oe.scope, "https://mail.google.com/", "scope");
	T_OK(t, auth_oauth_error("bm90IGpzb24=", 12, &oe) == -1 &&
	    oe.status[0] == '\0', "not JSON");
	T_OK(t, auth_oauth_error("*", 1, &oe) == -1, "not base64");
}

void
auth_test(struct t *t)
{
	b64_cases(t);
	plain_cases(t);
	cram_cases(t);
	mech_cases(t);
	scram_cases(t);
	oauth_cases(t);
}
