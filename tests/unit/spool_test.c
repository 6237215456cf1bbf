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
		{ "reply 550 no\n", "reply before any rcpt" },
		{ "rcpt refused <x@y>\nreply 550 a\nreply 550 b\n",
		    "two replies for one rcpt" },
		{ "covers 0123\n", "short covered id" },
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

/* Owed bounces: refused/expired states, their replies, a DSN's list. */
static void
owed_cases(struct t *t)
{
	static const char owed[] =
	    "version 1\nid 0123456789abcdef\narrival 1700000000\n"
	    "from <a@b.example>\nsize 10\nwire 12\ntries 1\nnext 0\n"
	    "rcpt refused <x@y>\nreply 550 5.1.1 no such user\n"
	    "rcpt expired <z@y>\nreply gave up\nrcpt pending <w@y>\n"
	    "covers 1111111111111111\ncovers 2222222222222222\n";
	struct spool_env env, back;
	char	buf[4096], lng[SPOOL_REPLY_SIZE + 10];
	size_t	len;
	struct ferr e;

	spool_env_init(&env);
	spool_env_init(&back);
	T_OK(t, spool_env_parse(&env, owed, sizeof(owed) - 1, &e) == 0,
	    "owed: parse");
	T_OK(t, env.rcpt[0].state == SPOOL_REFUSED &&
	    env.rcpt[1].state == SPOOL_EXPIRED &&
	    strcmp(env.rcpt[0].reply, "550 5.1.1 no such user") == 0 &&
	    env.rcpt[2].reply == NULL, "owed: states and replies");
	T_OK(t, spool_env_owed(&env) == 2 && spool_env_pending(&env) == 1,
	    "owed: counts");
	T_OK(t, env.ncovers == 2 &&
	    strcmp(env.covers[1], "2222222222222222") == 0, "owed: covers");
	T_OK(t, spool_env_format(&env, buf, sizeof(buf), &len, &e) == 0 &&
	    len == sizeof(owed) - 1 && memcmp(buf, owed, len) == 0,
	    "owed: format gives the same bytes");
	memset(lng, 'r', sizeof(lng) - 1);
	lng[sizeof(lng) - 1] = '\0';
	lng[3] = '\n';
	T_OK(t, spool_env_set_reply(&env, 2, lng, &e) == 0 &&
	    strlen(env.rcpt[2].reply) == SPOOL_REPLY_SIZE - 1 &&
	    env.rcpt[2].reply[3] == ' ', "owed: reply cut to one line");
	T_OK(t, spool_env_format(&env, buf, sizeof(buf), &len, &e) == 0 &&
	    spool_env_parse(&back, buf, len, &e) == 0 &&
	    strcmp(back.rcpt[2].reply, env.rcpt[2].reply) == 0,
	    "owed: longest reply round trip");
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
	owed_cases(t);
	status_cases(t);
}
