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
	static const char ehlo[] = "LOGIN PLAIN CRAM-MD5 DIGEST-MD5";
	char	names[64];

	T_OK(t, auth_mechs_parse(ehlo, strlen(ehlo)) == CONF_AUTH_ALL,
	    "parse all");
	T_OK(t, auth_mechs_parse("plain", 5) == CONF_AUTH_PLAIN, "case");
	T_OK(t, auth_mechs_parse("PLAINX CRAM", 11) == 0, "no prefixes");
	T_OK(t, auth_choose(CONF_AUTH_ALL, CONF_AUTH_ALL) ==
	    CONF_AUTH_CRAM_MD5, "prefer CRAM-MD5");
	T_OK(t, auth_choose(CONF_AUTH_PLAIN | CONF_AUTH_LOGIN,
	    CONF_AUTH_ALL) == CONF_AUTH_PLAIN, "then PLAIN");
	T_OK(t, auth_choose(CONF_AUTH_PLAIN, CONF_AUTH_LOGIN) == 0,
	    "none allowed");
	auth_names(CONF_AUTH_PLAIN | CONF_AUTH_LOGIN, names, sizeof(names));
	T_STREQ(t, names, "PLAIN LOGIN", "names");
}

void
auth_test(struct t *t)
{
	b64_cases(t);
	plain_cases(t);
	cram_cases(t);
	mech_cases(t);
}
