#include <stdio.h>
#include <stdlib.h>

#include "alias.h"
#include "t.h"

/* "name:t|t;name:t" for m, in its (sorted) order, cut to fit. */
static void
dump(const struct alias_map *m, char *out, size_t size)
{
	size_t	i, j, len = 0;
	int	n;

	out[0] = '\0';
	for (i = 0; i < m->n && len < size; i++) {
		n = snprintf(out + len, size - len, "%s%s:", i ? ";" : "",
		    m->v[i].name);
		for (j = 0; n >= 0 && j < m->v[i].targets.n; j++) {
			len += (size_t)n;
			if (len >= size)
				return;
			n = snprintf(out + len, size - len, "%s%s",
			    j ? "|" : "", m->v[i].targets.v[j]);
		}
		if (n < 0)
			return;
		len += (size_t)n;
	}
}

static void
join(const struct msg_addrs *a, char *out, size_t size)
{
	size_t	i, len = 0;
	int	n;

	out[0] = '\0';
	for (i = 0; i < a->n && len < size; i++) {
		n = snprintf(out + len, size - len, "%s%s", i ? "|" : "",
		    a->v[i]);
		if (n < 0)
			break;
		len += (size_t)n;
	}
}

/*
 * Parse text (len bytes); with ok, the dump must equal want, else the
 * error must be FE_CONFIG with exactly the text want.
 */
static void
parse_case(struct t *t, const char *text, size_t len, int ok,
    const char *want, const char *what)
{
	struct alias_map m;
	struct ferr	 e;
	char		 got[1024];
	int		 rc;

	ferr_clear(&e);
	rc = alias_parse(&m, text, len, "aliases", &e);
	if (ok) {
		dump(&m, got, sizeof(got));
		T_OK(t, rc == 0 && strcmp(got, want) == 0, what);
		if (rc != 0 || strcmp(got, want) != 0)
			fprintf(stderr, "  got rc %d '%s' / '%s'\n", rc, got,
			    e.text);
	} else {
		T_OK(t, rc == -1 && e.kind == FE_CONFIG &&
		    strcmp(e.text, want) == 0 && m.n == 0, what);
		if (rc != -1 || strcmp(e.text, want) != 0)
			fprintf(stderr, "  got rc %d '%s'\n", rc, e.text);
	}
	alias_free(&m);
}

static void
parse_cases(struct t *t)
{
	static const struct {
		const char *text;
		int	    ok;
		const char *want;
	} c[] = {
		{ "", 1, "" },
		{ "# only a comment\n\n   \n", 1, "" },
		{ "root: admin@x.test\n", 1, "root:admin@x.test" },
		{ "Root :  a@x.test , b ,\n", 1, "root:a@x.test|b" },
		{ "postmaster: root\nroot: a@x.test\n", 1,
		    "postmaster:root;root:a@x.test" },
		/* continuations, with comments and blanks in between */
		{ "list: a@x.test,\n\tb@x.test\n  # note\n\n c\nz: y", 1,
		    "list:a@x.test|b@x.test|c;z:y" },
		{ "a: b\r\nc: d,\r\n e\r\n", 1, "a:b;c:d|e" },
		{ "a: \"b c\"@x.test, \"d@x.test\", \"e f\"\n", 1,
		    "a:\"b c\"@x.test|d@x.test|\"e f\"" },
		{ "a: Bee <b@x.test>, <c@x.test>, \"X, Y\" <d@x.test>", 1,
		    "a:b@x.test|c@x.test|d@x.test" },
		{ "root: \\root, admin@x.test", 1,
		    "root:\\root|admin@x.test" },
		{ "a: b, B, b", 1, "a:b" },
		{ "a: b,,  ,c", 1, "a:b|c" },
		/* refusals */
		{ "a: b\nx: :include:/etc/list\n", 0,
		    "aliases:2: :include: is not supported" },
		{ "x: \":INCLUDE:/etc/list\"", 0,
		    "aliases:1: :include: is not supported" },
		{ "x: |/usr/bin/procmail", 0, "aliases:1: alias 'x': "
		    "command target '|/usr/bin/procmail' is not supported "
		    "(ferry relays mail, it does not deliver it locally)" },
		{ "x: a,\n \"|/bin/prog -x\"", 0, "aliases:2: alias 'x': "
		    "command target '|/bin/prog -x' is not supported "
		    "(ferry relays mail, it does not deliver it locally)" },
		{ "x: /var/mail/x", 0, "aliases:1: alias 'x': file target "
		    "'/var/mail/x' is not supported (ferry relays mail, it "
		    "does not deliver it locally)" },
		{ "a: b\n\nA: c\n", 0,
		    "aliases:3: alias 'a' defined twice (first at line 1)" },
		{ "a: b\nc: d\nc: e\na: f\n", 0,
		    "aliases:3: alias 'c' defined twice (first at line 2)" },
		{ "a: b\na: c\nbad line\n", 0,
		    "aliases:2: alias 'a' defined twice (first at line 1)" },
		{ "a: b\nno colon here\n", 0,
		    "aliases:2: missing ':' after alias name" },
		{ ": b\n", 0, "aliases:1: empty alias name" },
		{ "  : b\n", 0,
		    "aliases:1: continuation line with no alias before it" },
		{ "a b: c\n", 0, "aliases:1: bad alias name 'a b'" },
		{ "a@x.test: c\n", 0, "aliases:1: bad alias name 'a@x.test'" },
		{ "a:\nb: c\n", 0, "aliases:1: alias 'a' has no targets" },
		{ "a: , \n# c\n", 0, "aliases:1: alias 'a' has no targets" },
		{ "a: \"b\n", 0, "aliases:1: unbalanced quote" },
		{ "a: b c\n", 0, "aliases:1: alias 'a': bad character ' ' "
		    "in address b c" },
		{ "a: -oQ/tmp\n", 0, "aliases:1: alias 'a': address begins "
		    "with '-': -oQ/tmp" },
		{ "a: <b@x.test\n", 0,
		    "aliases:1: alias 'a': bad angle address '<b@x.test'" },
		{ "a: <>\n", 0, "aliases:1: alias 'a': empty address <>" },
		{ "a: b\n  c d\n", 0, "aliases:2: alias 'a': bad character "
		    "' ' in address c d" },
	};
	size_t	i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		parse_case(t, c[i].text, strlen(c[i].text), c[i].ok,
		    c[i].want, c[i].text);
	parse_case(t, "a: b\0c\n", 7, 0, "aliases:1: NUL byte in line",
	    "NUL");
}

/* A line of exactly n bytes, then CRLF; and the whole file limit. */
static void
limit_cases(struct t *t)
{
	char	*buf;
	size_t	 n, i;

	if ((buf = malloc(ALIAS_FILE_MAX + 2)) == NULL) {
		T_OK(t, 0, "malloc");
		return;
	}
	for (n = ALIAS_LINE_MAX; n <= ALIAS_LINE_MAX + 1; n++) {
		memcpy(buf, "a: ", 3);
		memset(buf + 3, 'b', n - 3 - 7);
		memcpy(buf + n - 7, "@x.test\r\n", 9);
		/* an address that long is refused, so use a comment line */
		buf[0] = '#';
		parse_case(t, buf, n + 2, n == ALIAS_LINE_MAX, n ==
		    ALIAS_LINE_MAX ? "" : "aliases:1: line longer than 4096 "
		    "bytes", n == ALIAS_LINE_MAX ? "line at limit" :
		    "line at limit + 1");
	}
	/* a long line of short targets, at the limit */
	n = 0;
	memcpy(buf, "a: ", 3);
	for (i = 3; i + 2 <= ALIAS_LINE_MAX; i += 2)
		memcpy(buf + i, n++ % 2 ? "b," : "c,", 2);
	if (i < ALIAS_LINE_MAX)
		buf[i++] = ' ';
	parse_case(t, buf, i, 1, "a:c|b", "targets line at limit");

	for (i = 0; i < ALIAS_FILE_MAX; i += 64) {
		memset(buf + i, 'x', 63);
		buf[i] = '#';
		buf[i + 63] = '\n';
	}
	parse_case(t, buf, ALIAS_FILE_MAX, 1, "", "file at limit");
	buf[ALIAS_FILE_MAX] = '\n';
	parse_case(t, buf, ALIAS_FILE_MAX + 1, 0,
	    "aliases: larger than 1048576 bytes", "file at limit + 1");
	free(buf);
}

static const char *const domains[] = { "host", "host.x.test" };

/* Expand addr by the aliases in text: joined by '|', or error want. */
static void
expand_case(struct t *t, const char *text, const char *addr, int ok,
    const char *want)
{
	struct alias_map m;
	struct msg_addrs out;
	struct ferr	 e;
	char		 got[2048];
	int		 rc;

	if (alias_parse(&m, text, strlen(text), "aliases", &e) == -1) {
		T_OK(t, 0, e.text);
		return;
	}
	msg_addrs_init(&out);
	/* an address already there stays once and stays after failure */
	if (msg_addrs_add(&out, "first@y.test", 12, &e) == -1)
		T_OK(t, 0, "add");
	rc = alias_expand(&m, addr, domains, 2, &out, &e);
	join(&out, got, sizeof(got));
	if (ok) {
		T_OK(t, rc == 0 && strcmp(got, want) == 0, addr);
		if (rc != 0 || strcmp(got, want) != 0)
			fprintf(stderr, "  got rc %d '%s' / '%s'\n", rc, got,
			    e.text);
	} else {
		T_OK(t, rc == -1 && e.kind == FE_CONFIG &&
		    strcmp(e.text, want) == 0 &&
		    strcmp(got, "first@y.test") == 0, addr);
		if (rc != -1 || strcmp(e.text, want) != 0)
			fprintf(stderr, "  got rc %d '%s'\n", rc, e.text);
	}
	msg_addrs_free(&out);
	alias_free(&m);
}

static void
expand_cases(struct t *t)
{
	static const char map[] =
	    "postmaster: root\n"
	    "root: root, admin@x.test\n"
	    "webmaster: www\n"
	    "www: dev1, Dev2@Y.test, \\www\n"
	    "dev1: d1@y.test, first@Y.TEST\n"
	    "a: b, a1@y.test\n"
	    "b: a, b1@y.test\n"
	    "all: postmaster, webmaster, ROOT@HOST, admin@x.test\n"
	    "remote: root@elsewhere.test, nobody\n"
	    "here: Postmaster@HOST.x.test\n";
	static const struct {
		const char *addr;
		int	    ok;
		const char *want;
	} c[] = {
		{ "nobody", 1, "first@y.test|nobody" },
		{ "nobody@host", 1, "first@y.test|nobody@host" },
		{ "admin@x.test", 1, "first@y.test|admin@x.test" },
		{ "root@elsewhere.test", 1,
		    "first@y.test|root@elsewhere.test" },
		{ "root", 1, "first@y.test|root|admin@x.test" },
		{ "ROOT@Host.X.Test", 1, "first@y.test|root|admin@x.test" },
		{ "postmaster", 1, "first@y.test|root|admin@x.test" },
		{ "webmaster@host", 1,
		    "first@y.test|d1@y.test|Dev2@Y.test|www" },
		{ "a", 1, "first@y.test|a|b1@y.test|a1@y.test" },
		{ "b@host", 1, "first@y.test|b|a1@y.test|b1@y.test" },
		{ "all", 1, "first@y.test|root|admin@x.test|d1@y.test|"
		    "Dev2@Y.test|www" },
		{ "remote", 1, "first@y.test|root@elsewhere.test|nobody" },
		{ "\\root", 1, "first@y.test|root" },
		{ "here", 1, "first@y.test|root|admin@x.test" },
		{ "here@host.x.test.", 1, "first@y.test|here@host.x.test." },
	};
	size_t	i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		expand_case(t, map, c[i].addr, c[i].ok, c[i].want);
}

/* a1 -> a2 -> ... -> an -> end@x.test */
static void
chain(char *buf, size_t size, int n)
{
	size_t	len = 0;
	int	i;

	buf[0] = '\0';
	for (i = 1; i <= n && len < size; i++)
		len += (size_t)(i < n ?
		    snprintf(buf + len, size - len, "a%d: a%d\n", i, i + 1) :
		    snprintf(buf + len, size - len, "a%d: end@x.test\n", i));
}

static void
depth_cases(struct t *t)
{
	char	buf[2048];

	chain(buf, sizeof(buf), ALIAS_DEPTH_MAX);
	expand_case(t, buf, "a1", 1, "first@y.test|end@x.test");
	expand_case(t, buf, "A2@HOST", 1, "first@y.test|end@x.test");
	chain(buf, sizeof(buf), ALIAS_DEPTH_MAX + 1);
	expand_case(t, buf, "a2", 1, "first@y.test|end@x.test");
	expand_case(t, buf, "a1", 0,
	    "alias loop or nesting deeper than 32 at 'a33'");
}

static void
check_cases(struct t *t)
{
	struct alias_map m;
	struct ferr	 e;
	char		 rep[512], small[20];
	char		 buf[2048];
	const char	*text = "a: b\nb: a, c\nroot: root, x@y.test\n";

	T_OK(t, alias_parse(&m, text, strlen(text), "aliases", &e) == 0,
	    "check parse");
	T_OK(t, alias_check(&m, domains, 2, rep, sizeof(rep)) == 2 &&
	    strcmp(rep, "alias 'a': loop: 'b' lists 'a' again, which is "
	    "kept as a local name\nalias 'b': loop: 'a' lists 'b' again, "
	    "which is kept as a local name\n") == 0, "check loops");
	T_OK(t, alias_check(&m, domains, 2, small, sizeof(small)) == 2 &&
	    strcmp(small, "alias 'a': loop: 'b") == 0 &&
	    strlen(small) == sizeof(small) - 1, "check report cut");
	alias_free(&m);

	chain(buf, sizeof(buf), ALIAS_DEPTH_MAX + 1);
	T_OK(t, alias_parse(&m, buf, strlen(buf), "aliases", &e) == 0,
	    "check parse chain");
	T_OK(t, alias_check(&m, domains, 2, rep, sizeof(rep)) == 1 &&
	    strcmp(rep, "alias 'a1': alias loop or nesting deeper than 32 "
	    "at 'a33'\n") == 0, "check depth");
	alias_free(&m);

	text = "root: root, x@y.test\npostmaster: root\n";
	T_OK(t, alias_parse(&m, text, strlen(text), "aliases", &e) == 0 &&
	    alias_check(&m, domains, 2, rep, sizeof(rep)) == 0 &&
	    rep[0] == '\0', "check clean");
	alias_free(&m);

	alias_init(&m);
	T_OK(t, alias_check(&m, domains, 2, rep, sizeof(rep)) == 0,
	    "check empty map");
	expand_case(t, "", "root", 1, "first@y.test|root");
}

void
alias_test(struct t *t)
{
	parse_cases(t);
	limit_cases(t);
	expand_cases(t);
	depth_cases(t);
	check_cases(t);
}
