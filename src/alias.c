#include <ctype.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alias.h"

#define SHOW_MAX	40	/* bytes of a bad target shown in a message */

struct parser {
	struct alias_map *m;
	const char	*name;		/* the file, for messages */
	size_t		 lineno;
	size_t		 errline;	/* line of the error in e */
	int		 in_entry;	/* the last entry takes continuations */
	char		 buf[ALIAS_LINE_MAX + 1];
};

struct expand {
	const struct alias_map	*m;
	const char *const	*dom;
	size_t			 ndom;
	struct msg_addrs	*out;
	const char		*stack[ALIAS_DEPTH_MAX];	/* names */
	size_t			 depth;
	const char		*loop_from;	/* the first loop, for check */
	const char		*loop_to;
};

static int
is_space(int ch)
{
	return ch == ' ' || ch == '\t';
}

static void
entry_free(struct alias_entry *a)
{
	free(a->name);
	msg_addrs_free(&a->targets);
}

void
alias_init(struct alias_map *m)
{
	m->v = NULL;
	m->n = 0;
	m->size = 0;
}

void
alias_free(struct alias_map *m)
{
	size_t	i;

	for (i = 0; i < m->n; i++)
		entry_free(&m->v[i]);
	free(m->v);
	alias_init(m);
}

/* A parse error at line: "NAME:LINE: reason". */
static int
perr(struct parser *ps, struct ferr *e, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
perr(struct parser *ps, struct ferr *e, size_t line, const char *fmt, ...)
{
	char	why[FERR_TEXT_SIZE];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);	/* cut is fine */
	va_end(ap);
	ps->errline = line;
	return ferr_set(e, FE_CONFIG, 0, "%s:%zu: %s", ps->name, line, why);
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct alias_entry *x = a, *y = b;
	int	c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

/*
 * Sort m and report the earliest second definition of a name, if it
 * comes before ps->errline. Sorting first keeps a 1 MiB file of short
 * lines from costing n * n compares.
 */
static int
check_dups(struct parser *ps, struct ferr *e)
{
	struct alias_map *m = ps->m;
	size_t	i, g = 0, best = 0;

	if (m->n == 0)
		return 0;
	qsort(m->v, m->n, sizeof(m->v[0]), entry_cmp);
	for (i = 1; i < m->n; i++) {
		if (strcmp(m->v[i].name, m->v[g].name) != 0) {
			g = i;
			continue;
		}
		if (i == g + 1 && m->v[i].line < ps->errline &&
		    (best == 0 || m->v[i].line < m->v[best].line))
			best = i;
	}
	if (best == 0)
		return 0;
	/* the group is sorted by line: the one before is the first */
	return perr(ps, e, m->v[best].line, "alias '%s' defined twice "
	    "(first at line %zu)", m->v[best].name, m->v[best - 1].line);
}

/* The entry being built has to have a target: it would eat mail. */
static int
entry_finish(struct parser *ps, struct ferr *e)
{
	const struct alias_entry *a;

	if (!ps->in_entry)
		return 0;
	ps->in_entry = 0;
	a = &ps->m->v[ps->m->n - 1];
	if (a->targets.n == 0)
		return perr(ps, e, a->line, "alias '%s' has no targets",
		    a->name);
	return 0;
}

/*
 * A name is what a local part looks like unquoted: sendmail refuses a
 * domain here (that is virtusertable's job) and the rest would make
 * the name unreachable or the line ambiguous.
 */
static int
entry_start(struct parser *ps, const char *name, size_t len, struct ferr *e)
{
	struct alias_map *m = ps->m;
	struct alias_entry *a;
	size_t	i;

	if (len == 0)
		return perr(ps, e, ps->lineno, "empty alias name");
	if (len >= MSG_ADDR_SIZE)
		return perr(ps, e, ps->lineno, "alias name longer than %d "
		    "bytes", MSG_ADDR_SIZE - 1);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (ch <= ' ' || ch == 127 || strchr("\"<>,@\\|()", ch))
			return perr(ps, e, ps->lineno, "bad alias name "
			    "'%.*s'", (int)len, name);
	}
	if (m->n == m->size) {
		size_t size = m->size ? 2 * m->size : 64;

		a = realloc(m->v, size * sizeof(*a));
		if (a == NULL)
			return ferr_set(e, FE_OS, errno, "aliases");
		m->v = a;
		m->size = size;
	}
	a = &m->v[m->n];
	if ((a->name = malloc(len + 1)) == NULL)
		return ferr_set(e, FE_OS, errno, "aliases");
	for (i = 0; i < len; i++)
		a->name[i] = (char)tolower((unsigned char)name[i]);
	a->name[len] = '\0';
	a->line = ps->lineno;
	msg_addrs_init(&a->targets);
	m->n++;
	ps->in_entry = 1;
	return 0;
}

/*
 * If t is one quoted string, its content (escapes undone) goes to out,
 * which has room for strlen(t) bytes; 1 if so, else 0.
 */
static int
unquote(const char *t, char *out)
{
	size_t	i, n = 0;

	if (t[0] != '"')
		return 0;
	for (i = 1; t[i] != '\0'; i++) {
		if (t[i] == '\\' && t[i + 1] != '\0')
			out[n++] = t[++i];
		else if (t[i] == '"')
			break;
		else
			out[n++] = t[i];
	}
	if (t[i] != '"' || t[i + 1] != '\0')
		return 0;
	out[n] = '\0';
	return 1;
}

/* Check one target t (trimmed, NUL-ended, in ps->buf) and add it. */
static int
target_add(struct parser *ps, char *t, struct ferr *e)
{
	struct alias_entry *a = &ps->m->v[ps->m->n - 1];
	char	unq[ALIAS_LINE_MAX + 1];
	const char *kind = t, *add = t;
	char	*lt, *gt, *p;
	int	q = 0, quoted;

	for (p = t; *p != '\0' && (q || *p != '<'); p++) {
		if (q && *p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '"')
			q = !q;
	}
	if (*p == '<') {	/* "Phrase <addr>": the address wins */
		lt = p;
		gt = strchr(lt, '>');
		if (gt == NULL || gt[1] != '\0' ||
		    memchr(lt + 1, '<', (size_t)(gt - lt - 1)) != NULL)
			return perr(ps, e, ps->lineno, "alias '%s': bad "
			    "angle address '%.*s'", a->name, SHOW_MAX, t);
		*gt = '\0';
		for (t = lt + 1; is_space(*t); t++)
			;
		for (p = gt; p > t && is_space(p[-1]); p--)
			;
		*p = '\0';
		if (*t == '\0')
			return perr(ps, e, ps->lineno, "alias '%s': empty "
			    "address <>", a->name);
		kind = add = t;
	}
	/* "|prog" and "/file" are quoted when they hold spaces */
	if ((quoted = unquote(t, unq)) != 0)
		kind = unq;
	if (kind[0] == '|')
		return perr(ps, e, ps->lineno, "alias '%s': command target "
		    "'%.*s' is not supported (ferry relays mail, it does not "
		    "deliver it locally)", a->name, SHOW_MAX, kind);
	if (kind[0] == '/')
		return perr(ps, e, ps->lineno, "alias '%s': file target "
		    "'%.*s' is not supported (ferry relays mail, it does not "
		    "deliver it locally)", a->name, SHOW_MAX, kind);
	if (strncasecmp(kind, ":include:", 9) == 0)
		return perr(ps, e, ps->lineno, ":include: is not supported");
	/* "admin@x" means admin@x; keep quotes only where they matter */
	if (quoted && strpbrk(unq, "\"\\") == NULL &&
	    msg_addr_check(unq, e) == 0)
		add = unq;
	if (msg_addr_check(add[0] == '\\' ? add + 1 : add, e) == -1) {
		ps->errline = ps->lineno;
		e->kind = FE_CONFIG;
		return ferr_wrap(e, "%s:%zu: alias '%s'", ps->name,
		    ps->lineno, a->name);
	}
	return msg_addrs_add(&a->targets, add, strlen(add), e);
}

/*
 * Split s at commas outside quotes and angle brackets. Empty targets
 * are skipped: a trailing comma before a continuation line is common.
 */
static int
targets_parse(struct parser *ps, char *s, struct ferr *e)
{
	char	*p = s, *t, *end;
	int	q, angle, more;

	do {
		q = angle = 0;
		for (t = p; *p != '\0'; p++) {
			if (q) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				else if (*p == '"')
					q = 0;
			} else if (*p == '"')
				q = 1;
			else if (*p == '<')
				angle = 1;
			else if (*p == '>')
				angle = 0;
			else if (*p == ',' && !angle)
				break;
		}
		if (q)
			return perr(ps, e, ps->lineno, "unbalanced quote");
		more = *p == ',';
		*p = '\0';
		while (is_space(*t))
			t++;
		for (end = p; end > t && is_space(end[-1]); end--)
			;
		*end = '\0';
		if (*t != '\0' && target_add(ps, t, e) == -1)
			return -1;
		p++;
	} while (more);
	return 0;
}

/* One line, without its line ending, NUL-ended in ps->buf. */
static int
line_parse(struct parser *ps, struct ferr *e)
{
	char	*s = ps->buf, *colon, *end;

	while (is_space(*s))
		s++;
	/* Postfix: these do not end an entry; continuations may follow */
	if (*s == '\0' || *s == '#')
		return 0;
	if (s != ps->buf) {
		if (!ps->in_entry)
			return perr(ps, e, ps->lineno, "continuation line "
			    "with no alias before it");
		return targets_parse(ps, s, e);
	}
	if (entry_finish(ps, e) == -1)
		return -1;
	if ((colon = strchr(s, ':')) == NULL)
		return perr(ps, e, ps->lineno, "missing ':' after alias "
		    "name");
	for (end = colon; end > s && is_space(end[-1]); end--)
		;
	if (entry_start(ps, s, (size_t)(end - s), e) == -1)
		return -1;
	return targets_parse(ps, colon + 1, e);
}

int
alias_parse(struct alias_map *m, const char *text, size_t len,
    const char *name, struct ferr *e)
{
	struct parser	*ps;
	const char	*p = text, *nl, *stop = text + len;
	size_t		 n;
	int		 rc = -1;

	alias_init(m);
	if (len > ALIAS_FILE_MAX)
		return ferr_set(e, FE_CONFIG, 0, "%s: larger than %d bytes",
		    name, ALIAS_FILE_MAX);
	/* the line buffer is too big for some thread stacks */
	if ((ps = malloc(sizeof(*ps))) == NULL)
		return ferr_set(e, FE_OS, errno, "aliases");
	ps->m = m;
	ps->name = name;
	ps->lineno = 0;
	ps->errline = SIZE_MAX;
	ps->in_entry = 0;
	while (p < stop) {
		ps->lineno++;
		nl = memchr(p, '\n', (size_t)(stop - p));
		n = (size_t)((nl != NULL ? nl : stop) - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > ALIAS_LINE_MAX) {
			perr(ps, e, ps->lineno, "line longer than %d bytes",
			    ALIAS_LINE_MAX);
			goto out;
		}
		/* C strings below: a NUL would cut a target silently */
		if (memchr(p, '\0', n) != NULL) {
			perr(ps, e, ps->lineno, "NUL byte in line");
			goto out;
		}
		memcpy(ps->buf, p, n);
		ps->buf[n] = '\0';
		p = nl != NULL ? nl + 1 : stop;
		if (line_parse(ps, e) == -1)
			goto out;
	}
	if (entry_finish(ps, e) == -1)
		goto out;
	rc = 0;
out:
	/* report what a reader going line by line would have met first */
	if ((rc == 0 || e->kind == FE_CONFIG) && check_dups(ps, e) == -1)
		rc = -1;
	if (rc == -1)
		alias_free(m);
	free(ps);
	return rc;
}

static int
name_cmp(const void *key, const void *entry)
{
	return strcmp(key, ((const struct alias_entry *)entry)->name);
}

/* Names are unique once alias_parse has returned 0. */
static const struct alias_entry *
alias_find(const struct alias_map *m, const char *key)
{
	if (m->n == 0)		/* bsearch wants a base even for 0 */
		return NULL;
	return bsearch(key, m->v, m->n, sizeof(m->v[0]), name_cmp);
}

/*
 * The lowercased local part of addr into key, if addr is local and
 * could be an alias name; else 0.
 */
static int
local_key(const struct expand *x, const char *addr, char *key,
    size_t size)
{
	const char *at = strrchr(addr, '@');
	size_t	len, i;

	if (at != NULL) {
		for (i = 0; i < x->ndom; i++)
			if (strcasecmp(at + 1, x->dom[i]) == 0)
				break;
		if (i == x->ndom)
			return 0;
		len = (size_t)(at - addr);
	} else
		len = strlen(addr);
	if (len == 0 || len >= size)
		return 0;
	for (i = 0; i < len; i++)
		key[i] = (char)tolower((unsigned char)addr[i]);
	key[len] = '\0';
	return 1;
}

static int
expand_addr(struct expand *x, const char *addr, struct ferr *e)
{
	const struct alias_entry *a;
	char	key[MSG_ADDR_SIZE];
	size_t	i;

	if (addr[0] == '\\')	/* sendmail: this user, not an alias */
		return msg_addrs_add(x->out, addr + 1, strlen(addr + 1), e);
	if (!local_key(x, addr, key, sizeof(key)) ||
	    (a = alias_find(x->m, key)) == NULL)
		return msg_addrs_add(x->out, addr, strlen(addr), e);
	for (i = 0; i < x->depth; i++) {
		if (x->stack[i] != a->name)
			continue;
		/* a name listing itself means "and this user too" */
		if (i + 1 != x->depth && x->loop_from == NULL) {
			x->loop_from = x->stack[x->depth - 1];
			x->loop_to = a->name;
		}
		return msg_addrs_add(x->out, addr, strlen(addr), e);
	}
	if (x->depth == ALIAS_DEPTH_MAX)
		return ferr_set(e, FE_CONFIG, 0, "alias loop or nesting "
		    "deeper than %d at '%s'", ALIAS_DEPTH_MAX, a->name);
	x->stack[x->depth++] = a->name;
	for (i = 0; i < a->targets.n; i++)
		if (expand_addr(x, a->targets.v[i], e) == -1)
			return -1;
	x->depth--;
	return 0;
}

static int
expand_run(struct expand *x, const char *addr, struct ferr *e)
{
	size_t	n0 = x->out->n;

	x->depth = 0;
	x->loop_from = x->loop_to = NULL;
	if (expand_addr(x, addr, e) == 0)
		return 0;
	/* dedup never drops an old address: the new ones are at the end */
	while (x->out->n > n0)
		free(x->out->v[--x->out->n]);
	return -1;
}

int
alias_expand(const struct alias_map *m, const char *addr,
    const char *const *local_domains, size_t ndomains,
    struct msg_addrs *out, struct ferr *e)
{
	struct expand x;

	x.m = m;
	x.dom = local_domains;
	x.ndom = ndomains;
	x.out = out;
	return expand_run(&x, addr, e);
}

/* Append a line to report; a cut line is ended by the NUL. */
static void
report_add(char *report, size_t size, size_t *len, const char *name,
    const char *why)
{
	int	n;

	if (*len + 1 >= size)
		return;
	n = snprintf(report + *len, size - *len, "alias '%s': %s\n", name,
	    why);
	if (n < 0)
		report[*len] = '\0';
	else if ((size_t)n >= size - *len)
		*len = size - 1;
	else
		*len += (size_t)n;
}

size_t
alias_check(const struct alias_map *m, const char *const *local_domains,
    size_t ndomains, char *report, size_t size)
{
	struct msg_addrs out;
	struct expand	 x;
	struct ferr	 e;
	char		 why[FERR_TEXT_SIZE];
	size_t		 i, len = 0, bad = 0;

	if (size > 0)
		report[0] = '\0';
	x.m = m;
	x.dom = local_domains;
	x.ndom = ndomains;
	x.out = &out;
	for (i = 0; i < m->n; i++) {
		msg_addrs_init(&out);
		if (expand_run(&x, m->v[i].name, &e) == -1) {
			report_add(report, size, &len, m->v[i].name, e.text);
			bad++;
		} else if (x.loop_from != NULL) {
			snprintf(why, sizeof(why), "loop: '%s' lists '%s' "
			    "again, which is kept as a local name",
			    x.loop_from, x.loop_to);	/* cut is fine */
			report_add(report, size, &len, m->v[i].name, why);
			bad++;
		}
		msg_addrs_free(&out);
	}
	return bad;
}

int
alias_load(struct alias_map *m, const char *path, struct ferr *e)
{
	char	*buf;
	size_t	 len = 0;
	ssize_t	 n = 0;
	int	 fd, rc;

	alias_init(m);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return ferr_set(e, FE_CONFIG, errno, "%s", path);
	/* one byte more than allowed, so a file too big is seen as such */
	if ((buf = malloc(ALIAS_FILE_MAX + 1)) == NULL) {
		close(fd);
		return ferr_set(e, FE_OS, errno, "%s", path);
	}
	while (len <= ALIAS_FILE_MAX &&
	    (n = read(fd, buf + len, ALIAS_FILE_MAX + 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (n == -1)
		rc = ferr_set(e, FE_CONFIG, errno, "%s", path);
	else
		rc = alias_parse(m, buf, len, path, e);
	free(buf);
	return rc;
}
