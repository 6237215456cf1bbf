#include <sys/stat.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/*
 * A q file of exactly `want` bytes for id, padded with error lines
 * (each replaces the one before), written as dir/q<id>.
 */
static int
put_q(const char *dir, const char *id, size_t want)
{
	char	 path[256], *buf;
	size_t	 len, l;
	int	 fd, rc = -1;

	if ((buf = malloc(want + 1)) == NULL)
		return -1;
	len = (size_t)snprintf(buf, want + 1, "version 1\nid %s\narrival 1\n"
	    "from <a@b>\nsize 1\nwire 1\nrcpt pending <x@y>\n", id);
	while (len < want) {
		l = want - len > 208 ? 200 : want - len;	/* >= 8 */
		memcpy(buf + len, "error ", 6);
		memset(buf + len + 6, 'x', l - 7);
		buf[len + l - 1] = '\n';
		len += l;
	}
	snprintf(path, sizeof(path), "%s/q%s", dir, id);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640)) != -1) {
		rc = write(fd, buf, want) == (ssize_t)want ? 0 : -1;
		close(fd);
	}
	free(buf);
	return rc;
}

/* Reading q files: the buffer fits the file, the bound stays. */
static void
peek_cases(struct t *t)
{
	char		 dir[] = "/tmp/ferry-spool-XXXXXX", path[256];
	struct spool	 sp;
	struct spool_env env;
	struct ferr	 e;
	static const char *ids[] = { "00000000000000a1", "00000000000000a2",
		"00000000000000a3", "00000000000000a4" };
	size_t		 i;

	if (mkdtemp(dir) == NULL) {
		T_OK(t, 0, "mkdtemp");
		return;
	}
	spool_env_init(&env);
	T_OK(t, spool_open(&sp, dir, &e) == 0, "spool open");
	T_OK(t, put_q(dir, ids[0], 120) == 0 && put_q(dir, ids[1], 70000) ==
	    0 && put_q(dir, ids[2], SPOOL_ENV_MAX - 1) == 0 &&
	    put_q(dir, ids[3], SPOOL_ENV_MAX) == 0, "write q files");
	T_OK(t, spool_peek(&sp, 0, ids[0], &env, &e) == 1 &&
	    env.nrcpt == 1 && strcmp(env.id, ids[0]) == 0 &&
	    env.error[0] == 'x', "small q file read");
	T_OK(t, spool_peek(&sp, 0, ids[1], &env, &e) == 1 && env.nrcpt == 1,
	    "70 KB q file read whole");
	T_OK(t, spool_peek(&sp, 0, ids[2], &env, &e) == 1 && env.nrcpt == 1,
	    "q file of SPOOL_ENV_MAX - 1 bytes read");
	T_OK(t, spool_peek(&sp, 0, ids[3], &env, &e) == -1 &&
	    e.kind == FE_DATA && strstr(e.text, "too large") != NULL,
	    "q file of SPOOL_ENV_MAX bytes: too large");
	T_OK(t, spool_peek(&sp, 0, "00000000000000ff", &env, &e) == 0,
	    "missing q file: gone");
	spool_env_free(&env);
	spool_close(&sp);
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		snprintf(path, sizeof(path), "%s/q%s", dir, ids[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/failed", dir);
	rmdir(path);
	rmdir(dir);
}

void
spool_test(struct t *t)
{
	env_cases(t);
	owed_cases(t);
	status_cases(t);
	peek_cases(t);
}
