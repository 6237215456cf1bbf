#include <stdlib.h>
#include <string.h>

#include "secret.h"
#include "t.h"

static void
split_cases(struct t *t)
{
	static const struct {
		const char	*cmd;
		const char	*words;	/* joined by '|'; NULL: an error */
	} c[] = {
		{ "/bin/echo", "/bin/echo" },
		{ "  /bin/echo  a\tb  ", "/bin/echo|a|b" },
		{ "/x 'a b' \"c d\"", "/x|a b|c d" },
		{ "/x 'it''s' a'b'c", "/x|its|abc" },
		{ "/x \"say \\\"hi\\\" \\\\ \\n\"", "/x|say \"hi\" \\ \\n" },
		{ "/x 'no \\' escape'", NULL },
		{ "/x ''", "/x|" },
		{ "/x 'unclosed", NULL },
		{ "/x \"unclosed", NULL },
		{ "", NULL },
		{ "   ", NULL },
	};
	char	 buf[256], joined[256], *argv[SECRET_ARGV_MAX + 1];
	size_t	 i, k, n;
	struct ferr e;
	int	 rc;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		rc = secret_split(c[i].cmd, buf, sizeof(buf), argv, &n, &e);
		if (c[i].words == NULL) {
			T_OK(t, rc == -1 && e.kind == FE_CONFIG, c[i].cmd);
			continue;
		}
		T_OK(t, rc == 0 && argv[n] == NULL, c[i].cmd);
		joined[0] = '\0';
		for (k = 0; rc == 0 && k < n; k++) {
			if (k > 0)
				strcat(joined, "|");
			strcat(joined, argv[k]);
		}
		T_STREQ(t, joined, c[i].words, c[i].cmd);
	}
}

/* SECRET_ARGV_MAX words fit, one more does not; so for bytes */
static void
limit_cases(struct t *t)
{
	char	 cmd[200], buf[16], *argv[SECRET_ARGV_MAX + 1];
	size_t	 i, n;
	struct ferr e;

	cmd[0] = '\0';
	for (i = 0; i < SECRET_ARGV_MAX; i++)
		strcat(cmd, "a ");
	T_OK(t, secret_split(cmd, buf, sizeof(buf), argv, &n, &e) == -1,
	    "64 bytes of words in 16");
	T_OK(t, secret_split("/abcdefghijklmn", buf, sizeof(buf), argv, &n,
	    &e) == 0 && n == 1, "15 bytes + NUL fit 16");
	T_OK(t, secret_split("/abcdefghijklmno", buf, sizeof(buf), argv, &n,
	    &e) == -1, "16 bytes + NUL do not");
	{
		char big[256];

		T_OK(t, secret_split(cmd, big, sizeof(big), argv, &n, &e) ==
		    0 && n == SECRET_ARGV_MAX, "32 words");
		strcat(cmd, "a");
		T_OK(t, secret_split(cmd, big, sizeof(big), argv, &n, &e) ==
		    -1, "33 words");
	}
}

static void
run_cases(struct t *t)
{
	char	out[64];
	struct ferr e;

	T_OK(t, secret_run("/bin/echo 'tok en'", 10, out, sizeof(out), &e) ==
	    0, "echo");
	T_STREQ(t, out, "tok en", "first line");
	T_OK(t, secret_run("/usr/bin/printf 'one\\r\\ntwo\\n'", 10, out,
	    sizeof(out), &e) == 0, "printf");
	T_STREQ(t, out, "one", "CRLF and second line dropped");
	T_OK(t, secret_run("/bin/false", 10, out, sizeof(out), &e) == -1 &&
	    e.kind == FE_TEMP && out[0] == '\0', "non-zero exit");
	T_OK(t, secret_run("/bin/true", 10, out, sizeof(out), &e) == -1 &&
	    e.kind == FE_TEMP, "no output");
	T_OK(t, secret_run("/nonexistent/cmd", 10, out, sizeof(out), &e) ==
	    -1 && e.kind == FE_TEMP, "cannot execute");
	T_OK(t, secret_run("/bin/sh -c 'echo $0; sleep 30' x", 1, out,
	    sizeof(out), &e) == -1 && e.kind == FE_TEMP &&
	    strstr(e.text, "timeout") != NULL && out[0] == '\0', "timeout");
	/* 63 bytes + NUL fit 64; 64 bytes do not */
	T_OK(t, secret_run("/usr/bin/printf %063d 0", 10, out, sizeof(out),
	    &e) == 0 && strlen(out) == 63, "exact size");
	T_OK(t, secret_run("/usr/bin/printf %064d 0", 10, out, sizeof(out),
	    &e) == -1, "size + 1");
}

void
secret_test(struct t *t)
{
	split_cases(t);
	limit_cases(t);
	run_cases(t);
}
