#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "plat.h"

void
msg_addrs_init(struct msg_addrs *a)
{
	a->v = NULL;
	a->n = 0;
	a->size = 0;
}

int
msg_addrs_add(struct msg_addrs *a, const char *addr, size_t len,
    struct ferr *e)
{
	char	**v, *s;
	size_t	  i;

	for (i = 0; i < a->n; i++)
		if (strlen(a->v[i]) == len &&
		    strncasecmp(a->v[i], addr, len) == 0)
			return 0;
	if (a->n == a->size) {
		size_t size = a->size ? 2 * a->size : 8;

		v = realloc(a->v, size * sizeof(*v));
		if (v == NULL)
			return ferr_set(e, FE_OS, errno, "address list");
		a->v = v;
		a->size = size;
	}
	s = malloc(len + 1);
	if (s == NULL)
		return ferr_set(e, FE_OS, errno, "address list");
	memcpy(s, addr, len);
	s[len] = '\0';
	a->v[a->n++] = s;
	return 0;
}

void
msg_addrs_free(struct msg_addrs *a)
{
	size_t	i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	msg_addrs_init(a);
}

int
msg_addr_check(const char *addr, struct ferr *e)
{
	size_t	i, len = strlen(addr), at = len;
	int	quoted = 0;

	if (len == 0)
		return ferr_set(e, FE_DATA, 0, "empty address");
	if (len >= MSG_ADDR_SIZE)
		return ferr_set(e, FE_DATA, 0, "address too long: %.40s...",
		    addr);
	if (addr[0] == '-')	/* would be read as an option downstream */
		return ferr_set(e, FE_DATA, 0, "address begins with '-': "
		    "%s", addr);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)addr[i];

		if (ch < ' ' || ch == 127)
			return ferr_set(e, FE_DATA, 0, "control character "
			    "in address");
		/* RFC 5322 3.2.4: a quoted-pair in "x\"y"@example.com */
		if (quoted && ch == '\\' && i + 1 < len &&
		    (unsigned char)addr[i + 1] >= ' ' && addr[i + 1] != 127)
			i++;
		else if (ch == '"')
			quoted = !quoted;
		else if (!quoted && ch == '@') {
			if (at != len)
				return ferr_set(e, FE_DATA, 0, "more than one "
				    "'@' in address %s", addr);
			at = i;
		} else if (!quoted && (ch == ' ' || ch == '<' || ch == '>' ||
		    ch == '(' || ch == ')' || ch == ',' || ch == ';'))
			return ferr_set(e, FE_DATA, 0, "bad character '%c' "
			    "in address %s", ch, addr);
	}
	if (quoted)
		return ferr_set(e, FE_DATA, 0, "unbalanced quote in "
		    "address %s", addr);
	/* RFC 5321 4.1.2: Local-part "@" Domain, neither empty */
	if (at == 0)
		return ferr_set(e, FE_DATA, 0, "no local part before '@' in "
		    "address %s", addr);
	if (at + 1 == len)
		return ferr_set(e, FE_DATA, 0, "no domain after '@' in "
		    "address %s", addr);
	return 0;
}

/*
 * Address parsing: a small scanner over the value. Comments vanish,
 * quoted strings are kept whole, and the text of one address (between
 * commas, outside any group's name) is gathered; an <angle address>
 * in it wins over the rest, which is then a display name.
 */
struct scan {
	char	buf[MSG_ADDR_SIZE];	/* the address outside angles */
	size_t	len;
	char	angle[MSG_ADDR_SIZE];
	size_t	alen;
	int	in_angle;
	int	had_angle;
	int	overflow;
};

static void
scan_reset(struct scan *sc)
{
	sc->len = sc->alen = 0;
	sc->in_angle = sc->had_angle = sc->overflow = 0;
}

static void
scan_put(struct scan *sc, char ch)
{
	if (sc->in_angle) {
		if (sc->alen + 1 < sizeof(sc->angle))
			sc->angle[sc->alen++] = ch;
		else
			sc->overflow = 1;
	} else if (!sc->had_angle) {
		if (sc->len + 1 < sizeof(sc->buf))
			sc->buf[sc->len++] = ch;
		else
			sc->overflow = 1;
	}
}

/* Whitespace outside double quotes: a phrase, not an addr-spec. */
static int
has_bare_space(const char *p, size_t len)
{
	size_t	i;
	int	q = 0;

	for (i = 0; i < len; i++) {
		if (p[i] == '"')
			q = !q;
		else if (p[i] == '\\' && q && i + 1 < len)
			i++;
		else if (!q && isspace((unsigned char)p[i]))
			return 1;
	}
	return 0;
}

static int
scan_emit(struct scan *sc, struct msg_addrs *out, struct ferr *e)
{
	const char *p;
	size_t	len;

	if (sc->overflow)
		return ferr_set(e, FE_DATA, 0, "address too long in header");
	if (sc->had_angle) {
		p = sc->angle;
		len = sc->alen;
		/* obsolete source route: "<@a,@b:user@c>" */
		if (len > 0 && p[0] == '@') {
			const char *colon = memchr(p, ':', len);

			if (colon != NULL) {
				len -= (size_t)(colon + 1 - p);
				p = colon + 1;
			}
		}
	} else {
		p = sc->buf;
		len = sc->len;
	}
	while (len > 0 && isspace((unsigned char)*p)) {
		p++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)p[len - 1]))
		len--;
	scan_reset(sc);
	if (len == 0)
		return 0;
	if (has_bare_space(p, len)) {
		/* a phrase with no address: "undisclosed recipients" */
		if (memchr(p, '@', len) == NULL)
			return 0;
		return ferr_set(e, FE_DATA, 0, "malformed address in "
		    "header: %.*s", (int)(len > 60 ? 60 : len), p);
	}
	return msg_addrs_add(out, p, len, e);
}

int
msg_parse_addrs(const char *v, size_t len, struct msg_addrs *out,
    struct ferr *e)
{
	struct scan sc;
	size_t	i;
	int	depth = 0, quoted = 0, group = 0, lit = 0;

	scan_reset(&sc);
	for (i = 0; i < len; i++) {
		char ch = v[i];

		if (lit) {	/* RFC 5321 4.1.3: "[IPv6:2001:db8::1]" */
			if (ch == ']')
				lit = 0;
			scan_put(&sc, ch == '\r' || ch == '\n' ? ' ' : ch);
			continue;
		}
		if (quoted) {
			if (ch == '\\' && i + 1 < len) {
				scan_put(&sc, ch);
				ch = v[++i];
			} else if (ch == '"')
				quoted = 0;
			scan_put(&sc, ch);
			continue;
		}
		if (depth > 0) {	/* comments nest (RFC 5322 3.2.2) */
			if (ch == '\\' && i + 1 < len)
				i++;
			else if (ch == '(')
				depth++;
			else if (ch == ')')
				depth--;
			continue;
		}
		switch (ch) {
		case '(':
			depth = 1;
			break;
		case '"':
			quoted = 1;
			scan_put(&sc, ch);
			break;
		case '[':
			lit = 1;
			scan_put(&sc, ch);
			break;
		case '<':
			sc.in_angle = 1;
			sc.had_angle = 1;
			sc.alen = 0;
			break;
		case '>':
			sc.in_angle = 0;
			break;
		case ':':
			if (sc.in_angle) {
				scan_put(&sc, ch);
				break;
			}
			scan_reset(&sc);	/* a group's display name */
			group = 1;
			break;
		case ';':
			if (group && !sc.in_angle) {
				if (scan_emit(&sc, out, e) == -1)
					return -1;
				group = 0;
				break;
			}
			scan_put(&sc, ch);
			break;
		case ',':
			if (sc.in_angle) {
				scan_put(&sc, ch);
				break;
			}
			if (scan_emit(&sc, out, e) == -1)
				return -1;
			break;
		case '\r':
		case '\n':
			scan_put(&sc, ' ');
			break;
		default:
			scan_put(&sc, ch);
		}
	}
	if (quoted || depth > 0 || sc.in_angle || lit)
		return ferr_set(e, FE_DATA, 0, "unbalanced quote, comment, "
		    "angle or square bracket in address header");
	return scan_emit(&sc, out, e);
}

/* Is line a header field's first line ("Name: ...")? */
static int
field_name(const char *line, size_t len, size_t *namelen)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];

		if (ch == ':')
			break;
		if (ch <= ' ' || ch >= 127)	/* RFC 5322 2.2: ftext */
			return 0;
	}
	if (i == 0 || i == len)
		return 0;
	*namelen = i;
	return 1;
}

static int
is_name(const char *field, size_t namelen, const char *name)
{
	return strlen(name) == namelen &&
	    strncasecmp(field, name, namelen) == 0;
}

static int
put(FILE *out, const char *p, size_t len, struct msg_info *info,
    struct ferr *e)
{
	size_t	i;

	if (fwrite(p, 1, len, out) != len)
		return ferr_set(e, FE_TEMP, errno, "write message");
	info->size += (off_t)len;
	info->wire += (off_t)len;
	for (i = 0; i < len; i++)
		if (p[i] == '\n')
			info->wire++;
	return 0;
}

static int
is_wsp(char ch)
{
	return ch == ' ' || ch == '\t';
}

/*
 * Where to fold the line p[0..n) next after pos: before the last white
 * space that keeps p[pos..cut) within room bytes, with text before it
 * on that line and text after it (RFC 5322 3.2.2: no line of white
 * space only); 0 when there is none. last is p's last non-space byte.
 */
static size_t
fold_next(const char *p, size_t pos, size_t last, size_t room)
{
	size_t	i, cut = 0;

	for (i = pos + 1; i < last && i - pos <= room; i++)
		if (is_wsp(p[i]) && !is_wsp(p[i - 1]))
			cut = i;
	return cut;
}

/* A hard cut at most room bytes after pos, not inside a UTF-8 char. */
static size_t
cut_hard(const char *p, size_t pos, size_t room)
{
	size_t	cut = pos + room, k;

	for (k = 0; k < 3 && ((unsigned char)p[cut] & 0xc0) == 0x80; k++)
		cut--;
	return k < 3 ? cut : pos + room;
}

/*
 * One physical line of a header field, with its line end if it has
 * one. Over MSG_LINE_MAX it is folded (RFC 5322 2.1.1, 2.2.3) before
 * existing white space. A run with no white space to fold at is cut
 * at the limit with a line end and a space put in, as Postfix does
 * (smtp_line_length_limit): the reader sees one extra space, but the
 * relay takes the message. White space ending such a line is dropped.
 */
static int
put_line(FILE *out, const char *p, size_t len, struct msg_info *info,
    struct ferr *e)
{
	const char *eol;
	size_t	n = len, pos, cut, last, room = MSG_LINE_MAX;

	if (n > 0 && p[n - 1] == '\n' && --n > 0 && p[n - 1] == '\r')
		n--;
	if (n <= MSG_LINE_MAX)
		return put(out, p, len, info, e);
	eol = len - n == 2 ? "\r\n" : "\n";
	for (last = n - 1; last > 0 && is_wsp(p[last]); last--)
		;
	n = last + 1;
	for (pos = 0; n - pos > room; pos = cut) {
		if ((cut = fold_next(p, pos, last, room)) == 0)
			cut = cut_hard(p, pos, room);
		if ((room < MSG_LINE_MAX && put(out, " ", 1, info, e) == -1) ||
		    put(out, p + pos, cut - pos, info, e) == -1 ||
		    put(out, eol, strlen(eol), info, e) == -1)
			return -1;
		/* a cut line goes on after an added space */
		room = is_wsp(p[cut]) ? MSG_LINE_MAX : MSG_LINE_MAX - 1;
	}
	if (room < MSG_LINE_MAX && put(out, " ", 1, info, e) == -1)
		return -1;
	if (put(out, p + pos, n - pos, info, e) == -1)
		return -1;
	return p[len - 1] == '\n' ? put(out, eol, strlen(eol), info, e) : 0;
}

/* A header field as read or built, line by line. */
static int
put_field(FILE *out, const char *f, size_t len, struct msg_info *info,
    struct ferr *e)
{
	const char *nl;
	size_t	n;

	while (len > 0) {
		nl = memchr(f, '\n', len);
		n = nl != NULL ? (size_t)(nl + 1 - f) : len;
		if (put_line(out, f, n, info, e) == -1)
			return -1;
		f += n;
		len -= n;
	}
	return 0;
}

/* Text built in a caller's buffer; over marks what did not fit. */
struct text {
	char	*p;
	size_t	 len;
	size_t	 size;
	int	 over;
};

static void
text_add(struct text *t, const char *s, size_t len)
{
	if (len > t->size - t->len) {
		t->over = 1;
		return;
	}
	memcpy(t->p + t->len, s, len);
	t->len += len;
}

static void
text_str(struct text *t, const char *s)
{
	text_add(t, s, strlen(s));
}

/*
 * Masquerading header addresses: a local address (no domain, or one of
 * o->local) in From, To or Cc becomes local@o->masquerade, the way the
 * envelope is rewritten. Everything else in the value is copied as is:
 * display names, comments, groups.
 */
static int
is_local_addr(const char *a, size_t len, const struct msg_opts *o,
    size_t *at)
{
	size_t	i, k;
	int	q = 0;

	*at = len;
	for (i = 0; i < len; i++) {
		if (q && a[i] == '\\' && i + 1 < len)
			i++;
		else if (a[i] == '"')
			q = !q;
		else if (!q && a[i] == '@')
			*at = i;
	}
	if (*at == len)
		return len > 0;
	for (k = 0; k < o->nlocal; k++)
		if (strlen(o->local[k]) == len - *at - 1 &&
		    strncasecmp(a + *at + 1, o->local[k], len - *at - 1) == 0)
			return 1;
	return 0;
}

/* Copy one address, masqueraded when local. */
static void
masq_addr(const char *a, size_t len, const struct msg_opts *o,
    struct text *t)
{
	size_t	at;

	if (!is_local_addr(a, len, o, &at)) {
		text_add(t, a, len);
		return;
	}
	text_add(t, a, at);
	text_str(t, "@");
	text_str(t, o->masquerade);
}

/* One element of an address list (between commas), rewritten. */
static void
masq_element(const char *v, size_t len, const struct msg_opts *o,
    struct text *t)
{
	const char *lt = NULL, *gt = NULL;
	size_t	s = 0, e = len, i;
	int	q = 0, depth = 0, bare = 1;

	for (i = 0; i < len; i++) {
		if (depth == 0 && v[i] == '"')
			q = !q;
		else if (!q && v[i] == '(')
			depth++;
		else if (!q && v[i] == ')' && depth > 0)
			depth--;
		else if (!q && depth == 0 && v[i] == '<' && lt == NULL)
			lt = v + i;
		else if (!q && depth == 0 && v[i] == '>' && lt != NULL)
			gt = v + i;
	}
	if (lt != NULL && gt != NULL && gt > lt) {	/* Name <addr> */
		text_add(t, v, (size_t)(lt + 1 - v));
		masq_addr(lt + 1, (size_t)(gt - lt - 1), o, t);
		text_add(t, gt, (size_t)(v + len - gt));
		return;
	}
	/* a bare addr-spec: one word, then only white space or comments */
	while (s < e && is_wsp(v[s]))
		s++;
	for (i = s, q = 0; i < len; i++) {
		if (v[i] == '"')
			q = !q;
		else if (!q && (is_wsp(v[i]) || v[i] == '(' ||
		    v[i] == '\r' || v[i] == '\n'))
			break;
		else if (!q && v[i] == '<')
			bare = 0;
	}
	e = i;
	for (depth = 0; i < len; i++) {	/* what follows the word */
		if (v[i] == '(')
			depth++;
		else if (v[i] == ')' && depth > 0)
			depth--;
		else if (depth == 0 && !is_wsp(v[i]) && v[i] != '\r' &&
		    v[i] != '\n')
			bare = 0;
	}
	if (!bare || s == e) {
		text_add(t, v, len);
		return;
	}
	text_add(t, v, s);
	masq_addr(v + s, e - s, o, t);
	text_add(t, v + e, len - e);
}

/* The value of an address header, each element masqueraded. */
static void
masq_value(const char *v, size_t len, const struct msg_opts *o,
    struct text *t)
{
	size_t	start = 0, i;
	int	q = 0, depth = 0, angle = 0, lit = 0;

	for (i = 0; i <= len; i++) {
		if (i < len) {
			char ch = v[i];

			if (q && ch == '\\' && i + 1 < len) {
				i++;	/* a quoted-pair: "x\\"y" */
				continue;
			}
			if (depth == 0 && !lit && ch == '"')
				q = !q;
			if (q)
				continue;
			if (depth == 0 && (ch == '[' || ch == ']'))
				lit = ch == '[';
			if (lit)	/* a domain literal's ':' */
				continue;
			if (ch == '(')
				depth++;
			else if (ch == ')' && depth > 0)
				depth--;
			else if (depth == 0 && ch == '<')
				angle = 1;
			else if (depth == 0 && ch == '>')
				angle = 0;
			if (depth > 0 || angle ||
			    (ch != ',' && ch != ':' && ch != ';'))
				continue;
			if (ch == ':') {	/* a group's name: not an address */
				text_add(t, v + start, i + 1 - start);
				start = i + 1;
				continue;
			}
		}
		masq_element(v + start, i - start, o, t);
		if (i < len)
			text_add(t, v + i, 1);
		start = i + 1;
	}
}

#define LINE_PIECE	16384	/* bytes of one input line held at once */
#define IN_BUF_SIZE	8192

struct reader {
	int	 in;
	FILE	*out;
	char	 line[LINE_PIECE];	/* a line, or a piece of a long one */
	size_t	 carry;		/* bytes kept at its start for the next */
	int	 more;		/* the piece in line is not the line's end */
	int	 cutting;	/* the long body line being cut was cut */
	size_t	 lcol;		/* bytes of the long body line so far */
	char	 ibuf[IN_BUF_SIZE];
	size_t	 ipos, iend;
	char	*hdr;
	size_t	 hlen;
	size_t	 hsize;
	size_t	 nlines;	/* physical lines in hdr */
	int	 seen;		/* MSG_ADDED_* fields in hdr */
	int	 reply_to;	/* the message has a Reply-To */
	char	*old_from;	/* with force_from: the From value dropped */
	size_t	 old_fromlen;
	int	 hdr8;		/* 8-bit bytes in the header block */
	int	 qp_ok;		/* a text body we may re-encode */
	int	 long_body;	/* a body line over MSG_LINE_MAX, kept raw */
	off_t	 cte_off;	/* the Content-Transfer-Encoding written */
	off_t	 cte_end;
	off_t	 hend;		/* where the header fields end in out */
	off_t	 body_off;	/* where the body starts in out */
};

/* An address field with its local addresses masqueraded. */
static int
put_masqueraded(struct reader *r, const char *f, size_t len, size_t n,
    const struct msg_opts *o, struct msg_info *info, struct ferr *e)
{
	struct text	t;
	size_t		size = 2 * len + 64 * 4 + strlen(o->masquerade) * len;
	int		rc;

	/* each address may grow by "@" and the domain: bound it loosely */
	if (size > 4 * MSG_HEADER_MAX)
		size = 4 * MSG_HEADER_MAX;
	if ((t.p = malloc(size)) == NULL)
		return ferr_set(e, FE_OS, errno, "header");
	t.len = 0;
	t.size = size;
	t.over = 0;
	text_add(&t, f, n + 1);
	masq_value(f + n + 1, len - n - 1, o, &t);
	rc = t.over ? put_field(r->out, f, len, info, e) :
	    put_field(r->out, t.p, t.len, info, e);
	free(t.p);
	return rc;
}

/*
 * One header field (first line plus continuations, as read): keep it,
 * or with -t take its addresses and drop it if it is Bcc.
 */
static int
field(struct reader *r, const char *f, size_t len, const struct msg_opts *o,
    struct msg_info *info, struct ferr *e)
{
	size_t	n;

	if (!field_name(f, len, &n))
		return put_field(r->out, f, len, info, e);
	if (is_name(f, n, "Date"))
		r->seen |= MSG_ADDED_DATE;
	else if (is_name(f, n, "Message-ID"))
		r->seen |= MSG_ADDED_MSGID;
	else if (is_name(f, n, "Reply-To"))
		r->reply_to = 1;
	else if (is_name(f, n, "From") && o->force_from) {
		/* the provider takes one sender; keep who wrote it */
		if (r->old_from == NULL &&
		    (r->old_from = malloc(len - n)) != NULL) {
			memcpy(r->old_from, f + n + 1, len - n - 1);
			r->old_fromlen = len - n - 1;
		}
		return 0;
	} else if (is_name(f, n, "From"))
		r->seen |= MSG_ADDED_FROM;
	else if (is_name(f, n, "Content-Transfer-Encoding")) {
		/* dropped again if the body becomes quoted-printable */
		r->cte_off = info->size;
		if (put_field(r->out, f, len, info, e) == -1)
			return -1;
		r->cte_end = info->size;
		return 0;
	}
	if (o->extract && (is_name(f, n, "To") || is_name(f, n, "Cc") ||
	    is_name(f, n, "Bcc"))) {
		if (msg_parse_addrs(f + n + 1, len - n - 1, &info->rcpts,
		    e) == -1)
			return ferr_wrap(e, "%.*s header", (int)n, f);
		if (is_name(f, n, "Bcc"))	/* the point of Bcc */
			return 0;
	}
	if (o->masquerade != NULL && (is_name(f, n, "From") ||
	    is_name(f, n, "To") || is_name(f, n, "Cc")))
		return put_masqueraded(r, f, len, n, o, info, e);
	return put_field(r->out, f, len, info, e);
}

static int
fields(struct reader *r, const struct msg_opts *o, struct msg_info *info,
    struct ferr *e)
{
	const char *h = r->hdr;
	size_t	start = 0, i, len = r->hlen;

	for (i = 0; i < len; i++) {
		/* a field ends at a newline not followed by white space */
		if (h[i] != '\n' || (i + 1 < len && is_wsp(h[i + 1])))
			continue;
		if (field(r, h + start, i + 1 - start, o, info, e) == -1)
			return -1;
		start = i + 1;
	}
	if (start < len)
		return field(r, h + start, len - start, o, info, e);
	return 0;
}

/* RFC 5322 3.3: "Sat, 28 Nov 2026 13:45:01 +0000", local time. */
static int
make_date(time_t now, const char *eol, struct text *t, struct ferr *e)
{
	static const char days[] = "SunMonTueWedThuFriSat";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm tm;
	char	buf[80];
	long	off;
	int	n;

	if (localtime_r(&now, &tm) == NULL)
		return ferr_set(e, FE_OS, errno, "local time");
	off = plat_gmtoff(&tm) / 60;
	n = snprintf(buf, sizeof(buf), "Date: %.3s, %02d %.3s %d "
	    "%02d:%02d:%02d %c%02ld%02ld%s", days + 3 * (tm.tm_wday % 7),
	    tm.tm_mday, months + 3 * (tm.tm_mon % 12), tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+',
	    labs(off) / 60 % 100, labs(off) % 60, eol);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return ferr_set(e, FE_SOFTWARE, 0, "Date header too long");
	text_str(t, buf);
	return 0;
}

/* A host name fit for a Message-ID's right side (RFC 5322 3.6.4). */
static const char *
msgid_host(const char *host)
{
	size_t	i, len;

	if (host == NULL || (len = strlen(host)) == 0 || len > 253 ||
	    host[0] == '.' || host[len - 1] == '.')
		return "localhost";
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)host[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		    (ch == '.' && host[i + 1] != '.')))
			return "localhost";
	}
	return host;
}

/* "<YYYYMMDDhhmmss.HEX@host>": UTC time and 128 random bits. */
static int
make_msgid(time_t now, const char *host, const char *eol, struct text *t,
    struct ferr *e)
{
	unsigned char	rnd[16];
	char		buf[64 + 256], hex[2 * sizeof(rnd) + 1];
	struct tm	tm;
	size_t		i;
	int		n;

	if (gmtime_r(&now, &tm) == NULL)
		return ferr_set(e, FE_OS, errno, "time");
	if (plat_random(rnd, sizeof(rnd)) == -1)
		return ferr_set(e, FE_OS, errno, "random bytes");
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(hex + 2 * i, 3, "%02X", rnd[i]);
	n = snprintf(buf, sizeof(buf), "Message-ID: <%04d%02d%02d%02d%02d"
	    "%02d.%s@%s>%s", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, hex, msgid_host(host), eol);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return ferr_set(e, FE_SOFTWARE, 0, "Message-ID too long");
	text_str(t, buf);
	return 0;
}

/* A name's byte, made printable: header fields hold no controls. */
static unsigned char
name_byte(char c)
{
	unsigned char ch = (unsigned char)c;

	return ch < ' ' || ch == 127 ? ' ' : ch;
}

/* RFC 2047 4.2 in a phrase (5(3)): what "Q" may leave as it is. */
static size_t
q_byte(unsigned char ch, char out[3])
{
	static const char hex[] = "0123456789ABCDEF";

	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '!' || ch == '*' ||
	    ch == '+' || ch == '-' || ch == '/') {
		out[0] = (char)ch;
		return 1;
	}
	if (ch == ' ') {
		out[0] = '_';
		return 1;
	}
	out[0] = '=';
	out[1] = hex[ch >> 4];
	out[2] = hex[ch & 15];
	return 3;
}

#define Q_WORD_MAX	75	/* RFC 2047 2: an encoded-word */
#define Q_LINE_MAX	76	/* RFC 2047 2: a line with encoded-words */

/*
 * The name as "=?utf-8?q?...?=" words, each holding whole UTF-8
 * characters (RFC 2047 5), then " <addr>", folded so that no line is
 * over Q_LINE_MAX; t already holds "From: ".
 */
static void
name_encoded(const char *name, size_t len, const char *addr,
    const char *eol, struct text *t)
{
	static const char pre[] = "=?utf-8?q?", post[] = "?=";
	char	word[Q_WORD_MAX], enc[4 * 3];
	size_t	i = 0, k, clen, elen, wlen, wmax, col = 6, n = 0;

	while (i < len || n == 0) {
		/* the first word shares its line with "From: " */
		wmax = n == 0 ? Q_LINE_MAX - col : sizeof(word);
		memcpy(word, pre, sizeof(pre) - 1);
		wlen = sizeof(pre) - 1;
		while (i < len) {
			unsigned char lead = (unsigned char)name[i];

			clen = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 :
			    lead >= 0xc0 ? 2 : 1;
			if (clen > len - i)
				clen = len - i;
			for (k = elen = 0; k < clen; k++)
				elen += q_byte(name_byte(name[i + k]),
				    enc + elen);
			if (wlen + elen + sizeof(post) - 1 > wmax)
				break;
			memcpy(word + wlen, enc, elen);
			wlen += elen;
			i += clen;
		}
		memcpy(word + wlen, post, sizeof(post) - 1);
		wlen += sizeof(post) - 1;
		if (n++ > 0) {
			if (col + 1 + wlen > Q_LINE_MAX) {
				text_str(t, eol);
				col = 0;
			}
			text_str(t, " ");
			col++;
		}
		text_add(t, word, wlen);
		col += wlen;
	}
	if (col + 3 + strlen(addr) > Q_LINE_MAX)
		text_str(t, eol);
	text_str(t, " <");
	text_str(t, addr);
	text_str(t, ">");
}

/*
 * RFC 5322 3.4: "From: addr", or with a name "From: "Name" <addr>",
 * quoted, or RFC 2047 encoded when it is not ASCII.
 */
static int
make_from(const struct msg_opts *o, const char *eol, struct text *t,
    struct ferr *e)
{
	const char *name = o->full_name != NULL ? o->full_name : "";
	size_t	i, len = strlen(name);
	int	ascii = 1;

	/* it becomes header text: no CR, LF or spaces may get in */
	if (msg_addr_check(o->from_addr, e) == -1)
		return ferr_wrap(e, "From header");
	if (len > MSG_NAME_MAX)
		return ferr_set(e, FE_DATA, 0, "full name over %d bytes",
		    MSG_NAME_MAX);
	text_str(t, "From: ");
	if (len == 0) {
		text_str(t, o->from_addr);
		text_str(t, eol);
		return 0;
	}
	for (i = 0; i < len; i++)
		if ((unsigned char)name[i] >= 0x80)
			ascii = 0;
	if (!ascii) {
		name_encoded(name, len, o->from_addr, eol, t);
		text_str(t, eol);
		return 0;
	}
	text_str(t, "\"");
	for (i = 0; i < len; i++) {
		char ch = (char)name_byte(name[i]);

		if (ch == '"' || ch == '\\')	/* RFC 5322 3.2.4 */
			text_str(t, "\\");
		text_add(t, &ch, 1);
	}
	text_str(t, "\" <");
	text_str(t, o->from_addr);
	text_str(t, ">");
	text_str(t, eol);
	return 0;
}

/* The line end the header block uses, for the lines added to it. */
static const char *
hdr_eol(const struct reader *r)
{
	const char *nl = memchr(r->hdr, '\n', r->hlen);

	return nl != NULL && nl > r->hdr && nl[-1] == '\r' ? "\r\n" : "\n";
}

#define FIXUP_SIZE	2048	/* the fields added, at most */

/*
 * RFC 6409 8.1-8.3: a submission server may add From, Date and
 * Message-ID; mail without them is refused by some receivers.
 */
static int
fixup(struct reader *r, const struct msg_opts *o, struct msg_info *info,
    struct ferr *e)
{
	char		 buf[FIXUP_SIZE];
	struct text	 t = { buf, 0, sizeof(buf), 0 };
	const char	*eol = r->hlen > 0 ? hdr_eol(r) : "\n";
	time_t		 now = o->now != 0 ? o->now : time(NULL);
	int		 want;

	want = MSG_ADDED_DATE | MSG_ADDED_MSGID;
	if (o->from_addr != NULL && o->from_addr[0] != '\0')
		want |= MSG_ADDED_FROM;
	want &= ~r->seen;
	if (want == 0 && o->warning == NULL && r->old_from == NULL)
		return 0;
	/* input that ended inside the header block, in a field's line */
	if (r->hlen > 0 && r->hdr[r->hlen - 1] != '\n')
		text_str(&t, eol);
	if (r->old_from != NULL && !r->reply_to) {
		text_str(&t, "Reply-To:");
		text_add(&t, r->old_from, r->old_fromlen);
		if (r->old_fromlen == 0 ||
		    r->old_from[r->old_fromlen - 1] != '\n')
			text_str(&t, eol);
	}
	if (o->warning != NULL) {
		text_str(&t, "X-Authentication-Warning: ");
		text_str(&t, o->warning);
		text_str(&t, eol);
	}
	if (((want & MSG_ADDED_DATE) && make_date(now, eol, &t, e) == -1) ||
	    ((want & MSG_ADDED_MSGID) &&
	    make_msgid(now, o->host, eol, &t, e) == -1) ||
	    ((want & MSG_ADDED_FROM) && make_from(o, eol, &t, e) == -1))
		return -1;
	if (t.over)
		return ferr_set(e, FE_SOFTWARE, 0, "added header fields "
		    "over %d bytes", FIXUP_SIZE);
	if (put_field(r->out, t.p, t.len, info, e) == -1)
		return -1;
	info->added = want;
	return 0;
}

/*
 * The value of the header field name in the block as read, and how
 * many such fields there are; *v is NULL when there is none.
 */
static size_t
hdr_find(const struct reader *r, const char *name, const char **v,
    size_t *vlen)
{
	const char *h = r->hdr;
	size_t	i = 0, end, n, count = 0;

	*v = NULL;
	*vlen = 0;
	while (i < r->hlen) {
		for (end = i; end < r->hlen; end++)	/* the whole field */
			if (h[end] == '\n' && (end + 1 == r->hlen ||
			    !is_wsp(h[end + 1])))
				break;
		if (end < r->hlen)
			end++;
		if (field_name(h + i, end - i, &n) && is_name(h + i, n, name) &&
		    count++ == 0) {
			*v = h + i + n + 1;
			*vlen = end - i - n - 1;
		}
		i = end;
	}
	return count;
}

/* Does value (white space around it skipped) begin with word? */
static int
value_is(const char *v, size_t len, const char *word, int prefix)
{
	size_t	wlen = strlen(word);

	while (len > 0 && isspace((unsigned char)*v)) {
		v++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)v[len - 1]))
		len--;
	if (len < wlen || strncasecmp(v, word, wlen) != 0)
		return 0;
	return prefix || len == wlen || v[wlen] == ';' || v[wlen] == '(' ||
	    isspace((unsigned char)v[wlen]);
}

/*
 * RFC 2045: a body we may turn into quoted-printable is one part of
 * text (no Content-Type is text/plain) in 7bit or 8bit, that is, not
 * encoded yet. Multipart bodies and encoded ones are left to wrap.
 */
static int
text_body(const struct reader *r)
{
	const char *v;
	size_t	len, n;

	n = hdr_find(r, "Content-Type", &v, &len);
	if (n > 1 || (n == 1 && !value_is(v, len, "text/", 1)))
		return 0;
	n = hdr_find(r, "Content-Transfer-Encoding", &v, &len);
	return n == 0 || (n == 1 && (value_is(v, len, "7bit", 0) ||
	    value_is(v, len, "8bit", 0)));
}

/* The header block is complete: write it, and what fix-up adds. */
static int
hdr_end(struct reader *r, const struct msg_opts *o, struct msg_info *info,
    struct ferr *e)
{
	r->qp_ok = text_body(r);
	if (fields(r, o, info, e) == -1 ||
	    (o->fixup && fixup(r, o, info, e) == -1))
		return -1;
	r->hend = info->size;
	return 0;
}

/* What a line does in the header block. */
enum hline { HL_FIELD, HL_CONT, HL_END, HL_BODY };

static enum hline
classify(const char *line, size_t len, size_t hlen)
{
	size_t	n;

	if (len == 0 || (len == 1 && line[0] == '\n') ||
	    (len == 2 && line[0] == '\r' && line[1] == '\n'))
		return HL_END;
	if (is_wsp(line[0]))
		return hlen > 0 ? HL_CONT : HL_BODY;
	/* a message may start with its body, as `echo hi | sendmail` does */
	return field_name(line, len, &n) ? HL_FIELD : HL_BODY;
}

/*
 * An mbox separator as the first line ("From addr Sat Nov 28 13:45:01
 * 2026"), as formail and git format-patch write it. It is no part of
 * the message: sendmail and Postfix drop it too. The time of day tells
 * it from a body line that merely begins with "From ".
 */
static int
mbox_from(const char *line, size_t len)
{
	size_t	i;

	if (len < 5 || memcmp(line, "From ", 5) != 0)
		return 0;
	for (i = 5; i + 5 <= len; i++)
		if (isdigit((unsigned char)line[i]) &&
		    isdigit((unsigned char)line[i + 1]) && line[i + 2] == ':' &&
		    isdigit((unsigned char)line[i + 3]) &&
		    isdigit((unsigned char)line[i + 4]))
			return 1;
	return 0;
}

static int
lone_dot(const char *line, size_t len)
{
	return (len == 2 && line[0] == '.' && line[1] == '\n') ||
	    (len == 3 && line[0] == '.' && line[1] == '\r' &&
	    line[2] == '\n') || (len == 1 && line[0] == '.');
}

/*
 * Keep a field's line, or continuation, for the end of the block; not
 * first: the next piece of a line over LINE_PIECE.
 */
static int
hdr_add(struct reader *r, const char *line, size_t len, int first,
    struct ferr *e)
{
	char	*p;
	size_t	 i;

	/* RFC 5322 2.2: CR only in CRLF; a lone one is read differently */
	for (i = 0; i < len; i++)
		if (line[i] == '\r' && (i + 1 == len || line[i + 1] != '\n'))
			return ferr_set(e, FE_DATA, 0, "header line %zu has "
			    "a bare CR", r->nlines + 1);
	if (len > MSG_HEADER_MAX - r->hlen)
		return ferr_set(e, FE_DATA, 0, "header block over %d bytes",
		    MSG_HEADER_MAX);
	if (r->hlen + len > r->hsize) {
		size_t size = r->hsize ? r->hsize : 4096;

		while (size < r->hlen + len)
			size *= 2;
		p = realloc(r->hdr, size);
		if (p == NULL)
			return ferr_set(e, FE_OS, errno, "header block");
		r->hdr = p;
		r->hsize = size;
	}
	memcpy(r->hdr + r->hlen, line, len);
	r->hlen += len;
	r->nlines += first;
	return 0;
}

/*
 * One body line, with its line end if it has one, or a piece of it
 * (r->more: the line goes on). Over MSG_LINE_MAX (RFC 5322 2.1.1) a
 * text body is kept as it is, to be re-encoded at the end; any other is
 * cut at the limit with a line end and a space put in, as Postfix does:
 * encoded parts ignore it, and no byte is lost. A piece keeps what is
 * left after its last cut in r->carry, so a line of any length is cut
 * as if it were read whole; a cut made before the line's end is seen
 * gets LF, which goes on the wire as CRLF all the same.
 */
static int
body_put(struct reader *r, const char *p, size_t len,
    struct msg_info *info, struct ferr *e)
{
	size_t	n = len, pos, cut, room;
	const char *eol = "\n";

	if (!r->more && n > 0 && p[n - 1] == '\n' && --n > 0 &&
	    p[n - 1] == '\r')
		n--;
	if (!r->more && !r->cutting && r->lcol == 0 && n <= MSG_LINE_MAX)
		return put(r->out, p, len, info, e);
	if (r->qp_ok) {
		r->long_body |= r->lcol + n > MSG_LINE_MAX;
		r->lcol = r->more ? r->lcol + n : 0;
		return put(r->out, p, len, info, e);
	}
	if (!r->more && len - n == 2)
		eol = "\r\n";
	room = r->cutting ? MSG_LINE_MAX - 1 : MSG_LINE_MAX;
	for (pos = 0; n - pos > room; pos = cut) {
		cut = pos + room;
		if (p[cut - 1] == '\r')	/* keep a CR with its LF */
			cut--;
		if ((r->cutting && put(r->out, " ", 1, info, e) == -1) ||
		    put(r->out, p + pos, cut - pos, info, e) == -1 ||
		    put(r->out, eol, strlen(eol), info, e) == -1)
			return -1;
		r->cutting = 1;
		room = MSG_LINE_MAX - 1;
	}
	if (r->more) {		/* the rest waits for the next piece */
		memmove(r->line, p + pos, n - pos);
		r->carry = n - pos;
		return 0;
	}
	if (r->cutting && put(r->out, " ", 1, info, e) == -1)
		return -1;
	r->cutting = 0;
	return put(r->out, p + pos, len - pos, info, e);
}

#define QP_LINE_MAX	76	/* RFC 2045 6.7 (5): with the soft "=" */
#define QP_BUF_SIZE	8192

/*
 * A quoted-printable encoder (RFC 2045 6.7) writing at off in fd.
 * White space is held back one byte: at a line's end it must be
 * encoded, and a soft break never follows it, so no decoder strips it.
 */
struct qp {
	int		 fd;
	off_t		 off;
	const char	*eol;		/* for soft line breaks */
	char		 buf[QP_BUF_SIZE];
	size_t		 len;
	size_t		 col;
	int		 ws;		/* a space or tab held back, or 0 */
	int		 cr;		/* a CR held back */
	int		 err;
};

static void
qp_flush(struct qp *q)
{
	size_t	done = 0;
	ssize_t	n;

	while (done < q->len && !q->err) {
		n = pwrite(q->fd, q->buf + done, q->len - done, q->off);
		if (n <= 0) {
			q->err = n == 0 ? EIO : errno;
			break;
		}
		done += (size_t)n;
		q->off += n;
	}
	q->len = 0;
}

static void
qp_out(struct qp *q, const char *s, size_t len)
{
	if (q->len + len > sizeof(q->buf))
		qp_flush(q);
	memcpy(q->buf + q->len, s, len);
	q->len += len;
}

/* One encoded or literal byte; need is what must fit on the line. */
static void
qp_token(struct qp *q, unsigned char ch, int encode, size_t need)
{
	static const char hex[] = "0123456789ABCDEF";
	char	tok[3] = { (char)ch };
	size_t	n = 1;

	if (encode) {
		tok[0] = '=';
		tok[1] = hex[ch >> 4];
		tok[2] = hex[ch & 15];
		n = 3;
	}
	if (q->col + (need > n ? need : n) > QP_LINE_MAX - 1) {
		qp_out(q, "=", 1);
		qp_out(q, q->eol, strlen(q->eol));
		q->col = 0;
	}
	qp_out(q, tok, n);
	q->col += n;
}

/* The held-back space: literal, unless a line end comes next. */
static void
qp_ws(struct qp *q, int at_eol)
{
	if (q->ws != 0)
		/* room for it and the token after it: no break after it */
		qp_token(q, (unsigned char)q->ws, at_eol, at_eol ? 3 : 4);
	q->ws = 0;
}

static void
qp_byte(struct qp *q, unsigned char ch)
{
	if (q->cr) {
		q->cr = 0;
		if (ch == '\n') {
			qp_ws(q, 1);
			qp_out(q, "\r\n", 2);
			q->col = 0;
			return;
		}
		qp_ws(q, 0);
		qp_token(q, '\r', 1, 3);	/* a bare CR survives */
	}
	if (ch == '\r') {
		q->cr = 1;
	} else if (ch == '\n') {
		qp_ws(q, 1);
		qp_out(q, "\n", 1);
		q->col = 0;
	} else if (ch == ' ' || ch == '\t') {
		qp_ws(q, 0);
		q->ws = ch;
	} else {
		qp_ws(q, 0);
		qp_token(q, ch, ch == '=' || ch < 33 || ch > 126, 1);
	}
}

static void
qp_end(struct qp *q)
{
	qp_ws(q, 1);
	if (q->cr)
		qp_token(q, '\r', 1, 3);
	q->cr = 0;
	qp_flush(q);
}

/* Copy fd's bytes [from, to) to at, in chunks, front to back. */
static int
move(int fd, off_t from, off_t to, off_t at, struct ferr *e)
{
	char	buf[QP_BUF_SIZE];
	ssize_t	n;
	size_t	want;

	while (from < to) {
		want = to - from < (off_t)sizeof(buf) ? (size_t)(to - from) :
		    sizeof(buf);
		if ((n = pread(fd, buf, want, from)) <= 0)
			return ferr_set(e, FE_TEMP, n == 0 ? EIO : errno,
			    "reread message");
		if (pwrite(fd, buf, (size_t)n, at) != n)
			return ferr_set(e, FE_TEMP, errno, "write message");
		from += n;
		at += n;
	}
	return 0;
}

int
msg_wire(int fd, off_t size, off_t *wire, struct ferr *e)
{
	char	buf[QP_BUF_SIZE];
	off_t	off = 0;
	ssize_t	n, i;

	*wire = size;
	while (off < size) {
		n = pread(fd, buf, size - off < (off_t)sizeof(buf) ?
		    (size_t)(size - off) : sizeof(buf), off);
		if (n <= 0)
			return ferr_set(e, FE_TEMP, n == 0 ? EIO : errno,
			    "reread message");
		for (i = 0; i < n; i++)
			if (buf[i] == '\n')
				(*wire)++;
		off += n;
	}
	return 0;
}

/* The body, fd's bytes [from, to), through the encoder. */
static int
encode_body(struct qp *q, off_t from, off_t to, struct ferr *e)
{
	char	buf[QP_BUF_SIZE];
	ssize_t	n, i;

	while (from < to && q->err == 0) {
		n = pread(q->fd, buf, to - from < (off_t)sizeof(buf) ?
		    (size_t)(to - from) : sizeof(buf), from);
		if (n <= 0)
			return ferr_set(e, FE_TEMP, n == 0 ? EIO : errno,
			    "reread message");
		for (i = 0; i < n; i++)
			qp_byte(q, (unsigned char)buf[i]);
		from += n;
	}
	qp_end(q);
	return 0;
}

/*
 * The body had a line over the limit: make it quoted-printable. The
 * new header tail, MIME fields and encoded body are written after the
 * end of out, then moved down over the old ones (the copy runs front
 * to back and the target is lower, so nothing is read after it is
 * overwritten). The spool entry is not committed yet: a crash here
 * loses nothing the caller was told was queued.
 */
static int
qp_rewrite(struct reader *r, struct msg_info *info, struct ferr *e)
{
	struct qp	*q;
	const char	*v, *eol = r->hlen > 0 ? hdr_eol(r) : "\n";
	char		 f[64];
	off_t		 end = info->size, keep, from;
	size_t		 len;
	int		 fd = fileno(r->out), rc = -1;

	keep = r->cte_end > r->cte_off ? r->cte_off : r->hend;
	from = r->cte_end > r->cte_off ? r->cte_end : r->hend;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return ferr_set(e, FE_OS, errno, "encode message");
	q->fd = fd;
	q->eol = eol;
	q->off = end;
	if (move(fd, from, r->hend, q->off, e) == -1)
		goto out;
	q->off += r->hend - from;
	if (hdr_find(r, "MIME-Version", &v, &len) == 0) {
		qp_out(q, "MIME-Version: 1.0", 17);
		qp_out(q, eol, strlen(eol));
	}
	qp_out(q, "Content-Transfer-Encoding: quoted-printable", 43);
	qp_out(q, eol, strlen(eol));
	/* no Content-Type is US-ASCII (RFC 2045 5.2); 8 bits are UTF-8 */
	if (info->eightbit && hdr_find(r, "Content-Type", &v, &len) == 0) {
		snprintf(f, sizeof(f), "Content-Type: text/plain; "
		    "charset=utf-8%s", eol);
		qp_out(q, f, strlen(f));
	}
	qp_flush(q);
	if (q->err == 0 && move(fd, r->hend, r->body_off, q->off, e) == -1)
		goto out;
	q->off += r->body_off - r->hend;
	if (encode_body(q, r->body_off, end, e) == -1)
		goto out;
	if (q->err != 0) {
		ferr_set(e, FE_TEMP, q->err, "write message");
		goto out;
	}
	if (move(fd, end, q->off, keep, e) == -1)
		goto out;
	if (ftruncate(fd, keep + (q->off - end)) == -1) {
		ferr_set(e, FE_TEMP, errno, "write message");
		goto out;
	}
	info->size = keep + (q->off - end);
	if (msg_wire(fd, info->size, &info->wire, e) == -1)
		goto out;
	info->eightbit = r->hdr8;	/* the body is 7-bit now */
	rc = 0;
out:
	free(q);
	return rc;
}

/*
 * The next piece of input into r->line after the r->carry bytes kept
 * there: up to and with an LF, or LINE_PIECE bytes of a longer line
 * (r->more set), so memory never follows the longest line. A piece that
 * stops short never ends in a CR, which may be half of a CRLF. Its
 * length (0 at the end of input), or -1 with errno.
 */
static ssize_t
next_piece(struct reader *r)
{
	size_t		 len = r->carry, n;
	const char	*nl = NULL;
	ssize_t		 got;

	r->carry = 0;
	r->more = 0;
	while (len < LINE_PIECE && nl == NULL) {
		if (r->ipos == r->iend) {
			got = read(r->in, r->ibuf, sizeof(r->ibuf));
			if (got == -1 && errno == EINTR)
				continue;
			if (got == -1)
				return -1;
			if (got == 0)
				return (ssize_t)len;
			r->ipos = 0;
			r->iend = (size_t)got;
		}
		n = r->iend - r->ipos;
		if (n > LINE_PIECE - len)
			n = LINE_PIECE - len;
		if ((nl = memchr(r->ibuf + r->ipos, '\n', n)) != NULL)
			n = (size_t)(nl - (r->ibuf + r->ipos)) + 1;
		memcpy(r->line + len, r->ibuf + r->ipos, n);
		len += n;
		r->ipos += n;
	}
	if (nl == NULL) {
		r->more = 1;
		if (r->line[len - 1] == '\r') {	/* still in ibuf */
			len--;
			r->ipos--;
		}
	}
	return (ssize_t)len;
}

static int
copy(struct reader *r, const struct msg_opts *o, struct msg_info *info,
    struct ferr *e)
{
	ssize_t	n;
	size_t	len;
	int	in_hdr = 1, first = 1, fresh = 1, skip = 0, whole;

	/* fresh: this piece starts a line; first: the message's first */
	for (; (n = next_piece(r)) > 0; fresh = !r->more) {
		len = (size_t)n;
		whole = fresh && !r->more;
		if (memchr(r->line, '\0', len) != NULL)
			return ferr_set(e, FE_DATA, 0, "message contains a "
			    "NUL byte");
		if (skip || (first && mbox_from(r->line, len))) {
			first = 0;
			skip = r->more;		/* all of the From line */
			continue;
		}
		first = 0;
		if (whole && o->dot_ends && lone_dot(r->line, len))
			break;
		if (!info->eightbit) {
			size_t i;

			for (i = 0; i < len; i++)
				if ((unsigned char)r->line[i] >= 0x80)
					info->eightbit = 1;
			r->hdr8 = in_hdr && info->eightbit;
		}
		if (in_hdr && !fresh) {		/* the rest of a long field */
			if (hdr_add(r, r->line, len, 0, e) == -1)
				return -1;
			continue;
		}
		if (in_hdr) {
			switch (classify(r->line, len, r->hlen)) {
			case HL_FIELD:
			case HL_CONT:
				if (hdr_add(r, r->line, len, 1, e) == -1)
					return -1;
				continue;
			case HL_END:
				in_hdr = 0;
				if (hdr_end(r, o, info, e) == -1 ||
				    put(r->out, r->line, len, info, e) == -1)
					return -1;
				r->body_off = info->size;
				continue;
			case HL_BODY:
				/*
				 * Only the first line may start the body:
				 * later, a line that is no field is a
				 * broken header, not text to send as body.
				 */
				if (r->nlines > 0)
					return ferr_set(e, FE_DATA, 0, "header "
					    "line %zu %s", r->nlines + 1,
					    memchr(r->line, ':', len) == NULL ?
					    "has no colon" :
					    "has a bad field name");
				in_hdr = 0;
				if (hdr_end(r, o, info, e) == -1 ||
				    put(r->out, "\n", 1, info, e) == -1)
					return -1;
				r->body_off = info->size;
				break;
			}
		}
		if (body_put(r, r->line, len, info, e) == -1)
			return -1;
	}
	if (n == -1)
		return ferr_set(e, FE_TEMP, errno, "read message");
	if (in_hdr && hdr_end(r, o, info, e) == -1)
		return -1;
	if (fflush(r->out) == EOF)
		return ferr_set(e, FE_TEMP, errno, "write message");
	return r->long_body ? qp_rewrite(r, info, e) : 0;
}

int
msg_read(int in, int out, const struct msg_opts *o, struct msg_info *info,
    struct ferr *e)
{
	struct reader	r;
	int		fd, rc = -1;

	memset(&r, 0, sizeof(r));
	info->size = info->wire = 0;
	info->eightbit = 0;
	info->added = 0;
	r.in = in;
	if ((fd = dup(out)) == -1 || (r.out = fdopen(fd, "w")) == NULL) {
		if (fd != -1)
			close(fd);
		ferr_set(e, FE_OS, errno, "write message");
		goto done;
	}
	rc = copy(&r, o, info, e);
done:
	if (r.out != NULL && fclose(r.out) == EOF && rc == 0)
		rc = ferr_set(e, FE_TEMP, errno, "write message");
	free(r.hdr);
	free(r.old_from);
	return rc;
}
