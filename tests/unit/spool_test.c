#include <stdlib.h>

#include "dsn.h"
#include "spool.h"
#include "t.h"

static const char good[] =
    "version 1\nid 0123456789abcdef\narrival 1700000000\n"
    "from <a@b.example>\nsize 10\nwire 12\ntries 2\nnext 1700000300\n"
    "flags 8bit\nerror 451 4.3.0 later\n"
    "rcpt pending <x@y>\nrcpt sent <z@y>\nrcpt failed <w@y>\n";

static void
env_cases(struct t *t)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "version 2\n", "version" },
		{ "id 0123\n", "short id" },
		{ "id 0123456789ABCDEF\n", "upper-case id" },
		{ "from a@b\n", "from without brackets" },
		{ "arrival -1\n", "negative number" },
		{ "arrival 99999999999999999999\n", "number too big" },
		{ "rcpt maybe <x@y>\n", "unknown state" },
		{ "rcpt pending <>\n", "empty recipient" },
		{ "colour blue\n", "unknown key" },
		{ "novalue\n", "no value" },
		{ "version 1", "no newline" },
		{ "version 1\nid 0123456789abcdef\n", "no recipients" },
	};
	struct spool_env env, back;
	char	buf[4096];
	size_t	len, i;
	struct ferr e;

	spool_env_init(&env);
	spool_env_init(&back);
	T_OK(t, spool_env_parse(&env, good, sizeof(good) - 1, &e) == 0,
	    "parse a queue file");
	T_OK(t, env.nrcpt == 3 && env.rcpt[1].state == SPOOL_SENT &&
	    env.tries == 2 && env.flags == SPOOL_F_8BIT &&
	    strcmp(env.from, "a@b.example") == 0, "fields");
	T_OK(t, spool_env_pending(&env) == 1, "pending count");
	T_OK(t, spool_env_format(&env, buf, sizeof(buf), &len, &e) == 0 &&
	    spool_env_parse(&back, buf, len, &e) == 0 &&
	    back.nrcpt == 3 && back.next == env.next &&
	    strcmp(back.error, env.error) == 0, "format round trip");
	T_OK(t, spool_env_format(&env, buf, len, &len, &e) == -1 &&
	    e.kind == FE_SOFTWARE, "format into one byte too few");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_OK(t, spool_env_parse(&back, bad[i].text,
		    strlen(bad[i].text), &e) == -1 && e.kind == FE_DATA,
		    bad[i].why);
	env.from[0] = '\0';
	T_OK(t, spool_env_format(&env, buf, sizeof(buf), &len, &e) == 0 &&
	    strstr(buf, "from <>\n") != NULL, "empty sender kept");
	spool_env_free(&env);
	spool_env_free(&back);
}

static void
status_cases(struct t *t)
{
	char	s[16];

	dsn_status("550 5.1.1 <x>: no such user", 0, s, sizeof(s));
	T_STREQ(t, s, "5.1.1", "enhanced code taken");
	dsn_status("554 no enhanced code", 0, s, sizeof(s));
	T_STREQ(t, s, "5.0.0", "class only");
	dsn_status("451 4.7.1 later", 1, s, sizeof(s));
	T_STREQ(t, s, "4.4.7", "expired");
}

void
spool_test(struct t *t)
{
	env_cases(t);
	status_cases(t);
}
