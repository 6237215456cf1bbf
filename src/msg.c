#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "msg.h"

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
	size_t	i, len = strlen(addr);
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
		if (ch == '"')
			quoted = !quoted;
		else if (!quoted && (ch == ' ' || ch == '<' || ch == '>' ||
		    ch == '(' || ch == ')' || ch == ',' || ch == ';'))
			return ferr_set(e, FE_DATA, 0, "bad character '%c' "
			    "in address %s", ch, addr);
	}
	if (quoted)
		return ferr_set(e, FE_DATA, 0, "unbalanced quote in "
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
	int	depth = 0, quoted = 0, group = 0;

	scan_reset(&sc);
	for (i = 0; i < len; i++) {
		char ch = v[i];

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
	if (quoted || depth > 0 || sc.in_angle)
		return ferr_set(e, FE_DATA, 0, "unbalanced quote, comment or "
		    "angle bracket in address header");
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

/*
 * One header field (first line plus continuations, as read): keep it,
 * or with -t take its addresses and drop it if it is Bcc.
 */
static int
field(const char *f, size_t len, FILE *out, const struct msg_opts *o,
    struct msg_info *info, struct ferr *e)
{
	size_t	n;

	if (o->extract && field_name(f, len, &n) &&
	    (is_name(f, n, "To") || is_name(f, n, "Cc") ||
	    is_name(f, n, "Bcc"))) {
		if (msg_parse_addrs(f + n + 1, len - n - 1, &info->rcpts,
		    e) == -1)
			return ferr_wrap(e, "%.*s header", (int)n, f);
		if (is_name(f, n, "Bcc"))	/* the point of Bcc */
			return 0;
	}
	return put(out, f, len, info, e);
}

static int
fields(const char *h, size_t len, FILE *out, const struct msg_opts *o,
    struct msg_info *info, struct ferr *e)
{
	size_t	start = 0, i;

	for (i = 0; i < len; i++) {
		/* a field ends at a newline not followed by white space */
		if (h[i] != '\n' || (i + 1 < len &&
		    (h[i + 1] == ' ' || h[i + 1] == '\t')))
			continue;
		if (field(h + start, i + 1 - start, out, o, info, e) == -1)
			return -1;
		start = i + 1;
	}
	if (start < len)
		return field(h + start, len - start, out, o, info, e);
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
	if (line[0] == ' ' || line[0] == '\t')
		return hlen > 0 ? HL_CONT : HL_BODY;
	/* a message may start with its body, as `echo hi | sendmail` does */
	return field_name(line, len, &n) ? HL_FIELD : HL_BODY;
}

static int
lone_dot(const char *line, size_t len)
{
	return (len == 2 && line[0] == '.' && line[1] == '\n') ||
	    (len == 3 && line[0] == '.' && line[1] == '\r' &&
	    line[2] == '\n') || (len == 1 && line[0] == '.');
}

struct reader {
	FILE	*in;
	FILE	*out;
	char	*line;
	size_t	 linesize;
	char	*hdr;
	size_t	 hlen;
	size_t	 hsize;
};

static int
hdr_add(struct reader *r, const char *line, size_t len, struct ferr *e)
{
	char	*p;

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
	return 0;
}

static int
copy(struct reader *r, const struct msg_opts *o, struct msg_info *info,
    struct ferr *e)
{
	ssize_t	n;
	size_t	len;
	int	in_hdr = 1;

	while ((n = getline(&r->line, &r->linesize, r->in)) > 0) {
		len = (size_t)n;
		if (memchr(r->line, '\0', len) != NULL)
			return ferr_set(e, FE_DATA, 0, "message contains a "
			    "NUL byte");
		if (o->dot_ends && lone_dot(r->line, len))
			break;
		if (!info->eightbit) {
			size_t i;

			for (i = 0; i < len; i++)
				if ((unsigned char)r->line[i] >= 0x80)
					info->eightbit = 1;
		}
		if (in_hdr) {
			switch (classify(r->line, len, r->hlen)) {
			case HL_FIELD:
			case HL_CONT:
				if (hdr_add(r, r->line, len, e) == -1)
					return -1;
				continue;
			case HL_END:
				in_hdr = 0;
				if (fields(r->hdr, r->hlen, r->out, o, info,
				    e) == -1)
					return -1;
				break;
			case HL_BODY:
				in_hdr = 0;
				if (fields(r->hdr, r->hlen, r->out, o, info,
				    e) == -1 || put(r->out, "\n", 1, info,
				    e) == -1)
					return -1;
				break;
			}
		}
		if (put(r->out, r->line, len, info, e) == -1)
			return -1;
	}
	if (ferror(r->in))
		return ferr_set(e, FE_TEMP, errno, "read message");
	if (in_hdr && fields(r->hdr, r->hlen, r->out, o, info, e) == -1)
		return -1;
	if (fflush(r->out) == EOF)
		return ferr_set(e, FE_TEMP, errno, "write message");
	return 0;
}

int
msg_read(int in, int out, const struct msg_opts *o, struct msg_info *info,
    struct ferr *e)
{
	struct reader	r = { NULL, NULL, NULL, 0, NULL, 0, 0 };
	int		fd, rc = -1;

	info->size = info->wire = 0;
	info->eightbit = 0;
	if ((fd = dup(in)) == -1 || (r.in = fdopen(fd, "r")) == NULL) {
		if (fd != -1)
			close(fd);
		return ferr_set(e, FE_OS, errno, "read message");
	}
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
	fclose(r.in);
	free(r.line);
	free(r.hdr);
	return rc;
}
