/*
 * conf.c: ferry.conf and sendmail AuthInfo text. The parsers work on
 * bytes in memory so tests can feed them; conf_load alone opens files.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <tomcrypt.h>

#include "auth.h"
#include "conf.h"
#include "plat.h"
#include "secret.h"

#define XSTR(x)		STR(x)
#define STR(x)		#x
#define SHOW_MAX	64	/* bytes of a bad value shown in a message */
#define KEY_SHOW_MAX	32	/* bytes of an unknown key shown */
#define LABEL_MAX	63	/* RFC 1035 2.3.4 */
/* limits as text for the static reason strings; asserts keep them true */
#define HOST_LEN_TXT	"255"
#define PATH_LEN_TXT	"1023"
#define USER_LEN_TXT	"255"
#define PASS_LEN_TXT	"511"
_Static_assert(CONF_HOST_SIZE == 256, "update HOST_LEN_TXT");
_Static_assert(CONF_PATH_SIZE == 1024, "update PATH_LEN_TXT");
_Static_assert(CONF_USER_SIZE == 256, "update USER_LEN_TXT");
_Static_assert(CONF_PASS_SIZE == 512, "update PASS_LEN_TXT");
#define PIN_PREFIX	"sha256:"
#define AI_TAG		"AuthInfo:"

/* Lines of a config or authinfo text, one at a time. */
struct lines {
	const char	*p;
	const char	*end;
	const char	*name;
	size_t		 lineno;
	/* a line may hold a password: wiped by lines_done */
	char		 buf[CONF_LINE_SIZE + 1];
};

/* One AuthInfo entry while it is parsed; holds a password. */
struct ai_entry {
	char		user[CONF_USER_SIZE];
	char		authid[CONF_USER_SIZE];
	char		pass[CONF_PASS_SIZE];
	int		has_user;
	int		has_authid;
	int		has_pass;
	int		has_mechs;
	unsigned	mechs;
	size_t		lineno;
};

/* A config key: set checks v and stores it, or says what is wrong. */
struct key {
	const char	*name;
	const char	*(*set)(struct conf *, const char *v);
	int		 secret;	/* never echo the value */
	int		 host;		/* a smart host's own (conf_host) */
};

static int
is_space(int ch)
{
	/* '\r' too: a CRLF line's CR is no part of the value */
	return ch == ' ' || ch == '\t' || ch == '\r';
}

static int
is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

/* ASCII only: a locale must not change what a host name may hold. */
static int
is_alnum(int ch)
{
	return is_digit(ch) || (ch >= 'a' && ch <= 'z') ||
	    (ch >= 'A' && ch <= 'Z');
}

static int
copy_str(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		return -1;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

/*
 * Strict base64 (no spaces, correct padding). The void cast suits both
 * libtomcrypt 1.18 (unsigned char *in) and its develop branch (char *).
 */
static int
b64_decode(const char *in, size_t inlen, unsigned char *out, size_t size,
    size_t *outlen)
{
	unsigned long	n = size;

	if (base64_strict_decode((const void *)in, inlen, out, &n) !=
	    CRYPT_OK)
		return -1;
	*outlen = n;
	return 0;
}

static void
lines_init(struct lines *l, const char *text, size_t len, const char *name)
{
	l->p = text;
	l->end = text + len;
	l->name = name;
	l->lineno = 0;
	l->buf[0] = '\0';
}

static void
lines_done(struct lines *l)
{
	plat_wipe(l->buf, sizeof(l->buf));
}

/*
 * Next line that is neither blank nor a comment, trimmed, NUL-ended in
 * l->buf. 1: *linep set; 0: no more; -1: e set. Messages never show the
 * line: it may hold a password.
 */
static int
lines_next(struct lines *l, char **linep, struct ferr *e)
{
	const char	*nl;
	size_t		 len;
	char		*s, *t;

	for (;;) {
		if (l->p >= l->end)
			return 0;
		l->lineno++;
		nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
		len = (size_t)((nl != NULL ? nl : l->end) - l->p);
		if (len > 0 && l->p[len - 1] == '\r')
			len--;
		if (len > CONF_LINE_SIZE)
			return ferr_set(e, FE_CONFIG, 0,
			    "%s:%zu: line longer than %d bytes", l->name,
			    l->lineno, CONF_LINE_SIZE);
		/* C strings below: a NUL would cut a value silently */
		if (memchr(l->p, '\0', len) != NULL)
			return ferr_set(e, FE_CONFIG, 0,
			    "%s:%zu: NUL byte in line", l->name, l->lineno);
		memcpy(l->buf, l->p, len);
		l->buf[len] = '\0';
		l->p = nl != NULL ? nl + 1 : l->end;

		for (s = l->buf; is_space(*s); s++)
			;
		for (t = s + strlen(s); t > s && is_space(t[-1]); t--)
			;
		*t = '\0';
		if (*s == '\0' || *s == '#')
			continue;
		*linep = s;
		return 1;
	}
}

/*
 * 1 if s is a DNS name: letters, digits, '-' and '_' (seen on internal
 * hosts) in labels of 1..63 bytes that do not start or end with '-';
 * one trailing dot allowed.
 */
static int
host_is_name(const char *s)
{
	size_t	len = strlen(s), label = 0, i;

	if (len == 0 || len >= CONF_HOST_SIZE)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_')
			return 0;
		if (s[i] == '-' && label == 0)
			return 0;
		if (++label > LABEL_MAX)
			return 0;
	}
	return s[len - 1] != '-';
}

/* Digits and dots only: meant as an IPv4 address, not a name. */
static int
host_is_numeric(const char *s)
{
	for (; *s != '\0'; s++)
		if (!is_digit(*s) && *s != '.')
			return 0;
	return 1;
}

static int
ip_is_v4(const char *s)
{
	struct in_addr	a;

	return inet_pton(AF_INET, s, &a) == 1;
}

static int
ip_is_v6(const char *s)
{
	struct in6_addr	a;

	return inet_pton(AF_INET6, s, &a) == 1;
}

/*
 * Host name, IPv4 or IPv6 address; "[addr]" is stored without the
 * brackets so it goes straight to getaddrinfo.
 */
static const char *
host_parse(const char *v, char *out, size_t size)
{
	char	tmp[CONF_HOST_SIZE];
	size_t	len = strlen(v);

	if (len >= CONF_HOST_SIZE || len >= size)
		return "longer than " HOST_LEN_TXT " bytes";
	if (v[0] == '[') {
		if (len < 3 || v[len - 1] != ']')
			return "'[' without ']'";
		copy_str(tmp, sizeof(tmp), v + 1, len - 2);
		if (!ip_is_v4(tmp) && !ip_is_v6(tmp))
			return "not an IP address";
	} else {
		copy_str(tmp, sizeof(tmp), v, len);
		if (strchr(tmp, ':') != NULL) {
			if (!ip_is_v6(tmp))
				return "not an IPv6 address";
		} else if (host_is_numeric(tmp)) {
			if (!ip_is_v4(tmp))
				return "not an IPv4 address";
		} else if (!host_is_name(tmp))
			return "not a host name";
	}
	copy_str(out, size, tmp, strlen(tmp));
	return NULL;
}

/* Decimal digits only: strtoul would take "-1", " 5" and "0x10". */
static const char *
uint_parse(const char *v, unsigned min, unsigned max, unsigned *out)
{
	unsigned long	n = 0;

	if (*v == '\0')
		return "not a number";
	for (; *v != '\0'; v++) {
		if (!is_digit(*v))
			return "not a number";
		n = n * 10 + (unsigned long)(*v - '0');
		if (n > max)
			return "out of range";
	}
	if (n < min)
		return "out of range";
	*out = (unsigned)n;
	return NULL;
}

static const char *
yesno_parse(const char *v, int *out)
{
	if (strcasecmp(v, "yes") == 0)
		*out = 1;
	else if (strcasecmp(v, "no") == 0)
		*out = 0;
	else
		return "want yes or no";
	return NULL;
}

/*
 * Where each host field is in struct conf and in struct conf_host: one
 * list, so that saving and loading a block cannot miss a field.
 */
#define HOST_FIELD(f)	{ offsetof(struct conf, f), \
	    offsetof(struct conf_host, f), sizeof(((struct conf_host *)0)->f) }
static const struct {
	size_t	in_conf, in_host, size;
} host_fields[] = {
	HOST_FIELD(smarthost), HOST_FIELD(port), HOST_FIELD(tls),
	HOST_FIELD(pins), HOST_FIELD(npins), HOST_FIELD(tls_server_name),
	HOST_FIELD(auth), HOST_FIELD(user), HOST_FIELD(password),
	HOST_FIELD(has_password), HOST_FIELD(password_file),
	HOST_FIELD(authinfo), HOST_FIELD(password_command),
};
#undef HOST_FIELD

/* Copy the host fields from a conf to a conf_host (to_host) or back. */
static void
host_move(void *dst, const void *src, int to_host)
{
	size_t	i, d, f;

	for (i = 0; i < sizeof(host_fields) / sizeof(host_fields[0]); i++) {
		d = to_host ? host_fields[i].in_host : host_fields[i].in_conf;
		f = to_host ? host_fields[i].in_conf : host_fields[i].in_host;
		memcpy((char *)dst + d, (const char *)src + f,
		    host_fields[i].size);
	}
}

/* The host fields of c into h. */
static void
host_save(const struct conf *c, struct conf_host *h)
{
	host_move(h, c, 1);
}

/* h into the host fields of c. */
static void
host_load(struct conf *c, const struct conf_host *h)
{
	host_move(c, h, 0);
}

/* A new block: the host fields as conf_init leaves them. */
static void
host_defaults(struct conf_host *h)
{
	memset(h, 0, sizeof(*h));
	h->tls = CONF_TLS_IMPLICIT;
	h->auth = CONF_AUTH_ALL;
}

/*
 * A further smarthost starts the next host's block: nothing of the
 * one before carries over, so no credential reaches a host it was not
 * written for.
 */
static const char *
key_smarthost(struct conf *c, const char *v)
{
	struct conf_host fresh;

	if (c->smarthost[0] != '\0' && !c->hosts_done) {
		if (c->nhosts + 1 == CONF_HOSTS_MAX)
			return "more than " XSTR(CONF_HOSTS_MAX) " smart hosts";
		host_save(c, &c->hosts[c->nhosts++]);
		host_defaults(&fresh);
		host_load(c, &fresh);
	}
	return host_parse(v, c->smarthost, sizeof(c->smarthost));
}

static const char *
key_port(struct conf *c, const char *v)
{
	const char	*why;

	why = uint_parse(v, 1, 65535, &c->port);
	return why != NULL ? "want 1..65535" : NULL;
}

static const char *
key_tls(struct conf *c, const char *v)
{
	if (strcasecmp(v, "implicit") == 0)
		c->tls = CONF_TLS_IMPLICIT;
	else if (strcasecmp(v, "starttls") == 0)
		c->tls = CONF_TLS_STARTTLS;
	else if (strcasecmp(v, "none") == 0)
		c->tls = CONF_TLS_NONE;
	else
		return "want implicit, starttls or none";
	return NULL;
}

static const char *
key_path(char *dst, size_t size, const char *v)
{
	if (copy_str(dst, size, v, strlen(v)) == -1)
		return "longer than " PATH_LEN_TXT " bytes";
	return NULL;
}

static const char *
key_tls_ca_file(struct conf *c, const char *v)
{
	return key_path(c->tls_ca_file, sizeof(c->tls_ca_file), v);
}

static const char *
key_tls_builtin_ca(struct conf *c, const char *v)
{
	return yesno_parse(v, &c->tls_builtin_ca);
}

static const char *
key_confine(struct conf *c, const char *v)
{
	return yesno_parse(v, &c->confine);
}

static const char *
key_tls_pin(struct conf *c, const char *v)
{
	/* room for 33+ bytes, so a long pin is "not 32", not a b64 error */
	unsigned char	 pin[2 * CONF_PIN_SIZE];
	size_t		 n, plen = strlen(PIN_PREFIX);

	if (strncasecmp(v, PIN_PREFIX, plen) != 0)
		return "want sha256:BASE64";
	if (c->npins == CONF_PINS_MAX)
		return "more than " XSTR(CONF_PINS_MAX) " tls_pin lines";
	if (b64_decode(v + plen, strlen(v + plen), pin, sizeof(pin), &n) == -1)
		return "bad base64";
	if (n != CONF_PIN_SIZE)
		return "not " XSTR(CONF_PIN_SIZE) " bytes (a SHA-256 hash)";
	memcpy(c->pins[c->npins++], pin, CONF_PIN_SIZE);
	return NULL;
}

static const char *
key_tls_server_name(struct conf *c, const char *v)
{
	/* the certificate check matches DNS names only, not addresses */
	if (host_is_numeric(v) || !host_is_name(v))
		return "not a DNS name";
	copy_str(c->tls_server_name, sizeof(c->tls_server_name), v,
	    strlen(v));
	return NULL;
}

static const char *
key_auth(struct conf *c, const char *v)
{
	unsigned	 set = 0, bit;
	size_t		 len;

	while (*v != '\0') {
		for (len = 0; v[len] != '\0' && !is_space(v[len]); len++)
			;
		if ((bit = auth_mechs_parse(v, len)) == 0)
			return "want plain, login, cram-md5, scram-sha-256, "
			    "xoauth2 or oauthbearer";
		set |= bit;
		for (v += len; is_space(*v); v++)
			;
	}
	c->auth = set;
	return NULL;
}

static const char *
key_user(struct conf *c, const char *v)
{
	if (copy_str(c->user, sizeof(c->user), v, strlen(v)) == -1)
		return "longer than " USER_LEN_TXT " bytes";
	return NULL;
}

static const char *
key_password(struct conf *c, const char *v)
{
	if (copy_str(c->password, sizeof(c->password), v, strlen(v)) == -1)
		return "longer than " PASS_LEN_TXT " bytes";
	c->has_password = 1;
	return NULL;
}

static const char *
key_password_file(struct conf *c, const char *v)
{
	return key_path(c->password_file, sizeof(c->password_file), v);
}

/*
 * Checked here so a typo shows at load time, not at the first AUTH;
 * an absolute path, because no PATH search happens (ferry may be set-id).
 */
static const char *
key_password_command(struct conf *c, const char *v)
{
	char		 buf[CONF_LINE_SIZE], *argv[SECRET_ARGV_MAX + 1];
	size_t		 n;
	struct ferr	 e;

	if (copy_str(c->password_command, sizeof(c->password_command), v,
	    strlen(v)) == -1)
		return "too long";
	if (secret_split(v, buf, sizeof(buf), argv, &n, &e) == -1)
		return "bad command: unclosed quote or too many words";
	if (argv[0][0] != '/')
		return "want an absolute path to the program";
	return NULL;
}

static const char *
key_authinfo(struct conf *c, const char *v)
{
	return key_path(c->authinfo, sizeof(c->authinfo), v);
}

/*
 * The EHLO argument: a name, "[IPv4]" or "[IPv6:addr]", the
 * address-literal forms of RFC 5321 4.1.3. Stored as written.
 */
static const char *
key_helo(struct conf *c, const char *v)
{
	char	tmp[CONF_HOST_SIZE];
	size_t	len = strlen(v);

	if (len >= sizeof(c->helo))
		return "longer than " HOST_LEN_TXT " bytes";
	if (v[0] == '[') {
		if (len < 3 || v[len - 1] != ']')
			return "'[' without ']'";
		copy_str(tmp, sizeof(tmp), v + 1, len - 2);
		if (strncasecmp(tmp, "IPv6:", 5) == 0) {
			if (!ip_is_v6(tmp + 5))
				return "not an IPv6 address";
		} else if (!ip_is_v4(tmp))
			return "want [IPv4] or [IPv6:addr]";
	} else if (host_is_numeric(v) || !host_is_name(v))
		return "not a host name; write an address as [1.2.3.4]";
	copy_str(c->helo, sizeof(c->helo), v, len);
	return NULL;
}

static const char *
key_timeout(struct conf *c, const char *v)
{
	return uint_parse(v, 1, 3600, &c->timeout) != NULL ?
	    "want 1..3600 seconds" : NULL;
}

/* "90", "90s", "15m", "2h", "5d": seconds, at most max. */
static const char *
duration_parse(const char *v, unsigned max, unsigned *out)
{
	static const struct {
		char		 unit;
		unsigned	 mult;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
	char		 num[16];
	size_t		 len = strlen(v), i;
	unsigned	 n, mult = 1;

	if (len > 0 && !is_digit(v[len - 1])) {
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (v[len - 1] == units[i].unit)
				mult = units[i].mult;
		if (mult == 1 && v[len - 1] != 's')
			return "want a number with s, m, h or d";
		len--;
	}
	if (len == 0 || len >= sizeof(num))
		return "want a duration like 30m";
	memcpy(num, v, len);
	num[len] = '\0';
	if (uint_parse(num, 1, max / mult, &n) != NULL)
		return "out of range";
	*out = n * mult;
	return NULL;
}

static const char *
key_spool(struct conf *c, const char *v)
{
	if (v[0] != '/')
		return "want an absolute path";
	return key_path(c->spool, sizeof(c->spool), v);
}

static const char *
key_aliases(struct conf *c, const char *v)
{
	return key_path(c->aliases, sizeof(c->aliases), v);
}

static const char *
key_masquerade(struct conf *c, const char *v)
{
	if (strlen(v) >= sizeof(c->masquerade))
		return "longer than " HOST_LEN_TXT " bytes";
	if (host_is_numeric(v) || !host_is_name(v))
		return "not a domain name";
	copy_str(c->masquerade, sizeof(c->masquerade), v, strlen(v));
	return NULL;
}

/* from ADDRESS: one verified sender for providers that demand it. */
static const char *
key_from(struct conf *c, const char *v)
{
	size_t	i, len = strlen(v);

	if (len >= sizeof(c->from))
		return "longer than " USER_LEN_TXT " bytes";
	for (i = 0; i < len; i++)
		if ((unsigned char)v[i] <= ' ' || v[i] == '<' || v[i] == '>' ||
		    v[i] == 127)
			return "want a bare address like ops@example.com";
	if (strchr(v, '@') == NULL || v[0] == '@' || v[len - 1] == '@')
		return "want a bare address like ops@example.com";
	copy_str(c->from, sizeof(c->from), v, len);
	return NULL;
}

/* metrics_file PATH: the Prometheus textfile a queue run writes. */
static const char *
key_metrics_file(struct conf *c, const char *v)
{
	if (v[0] != '/')
		return "want an absolute path";
	return key_path(c->metrics_file, sizeof(c->metrics_file), v);
}

static const char *
key_trusted_users(struct conf *c, const char *v)
{
	copy_str(c->trusted_users, sizeof(c->trusted_users), v, strlen(v));
	return NULL;
}

static const char *
key_max_queue_age(struct conf *c, const char *v)
{
	return duration_parse(v, 365 * 86400, &c->max_queue_age);
}

/* "5m 15m 1h": the wait after the 1st, 2nd, ... failed try. */
static const char *
key_retry(struct conf *c, const char *v)
{
	char		 word[32];
	const char	*why;
	size_t		 n = 0, len;

	while (*v != '\0') {
		while (is_space(*v))
			v++;
		if (*v == '\0')
			break;
		for (len = 0; v[len] != '\0' && !is_space(v[len]); len++)
			;
		if (n == CONF_RETRY_MAX)
			return "more than " XSTR(CONF_RETRY_MAX) " steps";
		if (len >= sizeof(word))
			return "want durations like 5m 15m 1h";
		memcpy(word, v, len);
		word[len] = '\0';
		if ((why = duration_parse(word, 7 * 86400, &c->retry[n])) !=
		    NULL)
			return why;
		n++;
		v += len;
	}
	c->nretry = n;
	return NULL;
}

/* A duration of at most a week, or "0": off. */
static const char *
duration_or_off(const char *v, unsigned *out)
{
	if (strcmp(v, "0") == 0) {
		*out = 0;
		return NULL;
	}
	return duration_parse(v, 7 * 86400, out);
}

/* bounce_window DURATION: one bounce per sender per window; 0 = off */
static const char *
key_bounce_window(struct conf *c, const char *v)
{
	return duration_or_off(v, &c->bounce_window);
}

static const char *
key_failed_max_age(struct conf *c, const char *v)
{
	return duration_parse(v, 3650 * 86400U, &c->failed_max_age);
}

static const char *
key_failed_max_count(struct conf *c, const char *v)
{
	return uint_parse(v, 0, 10000000, &c->failed_max_count) != NULL ?
	    "want a count, 0..10000000" : NULL;
}

/* max_messages_per_session N: then a new session; 0 = no cap */
static const char *
key_max_messages_per_session(struct conf *c, const char *v)
{
	return uint_parse(v, 0, 1000000, &c->max_messages_per_session) !=
	    NULL ? "want a count, 0..1000000" : NULL;
}

/* send_rate N: at most N messages a minute in a queue run; 0 = off */
static const char *
key_send_rate(struct conf *c, const char *v)
{
	return uint_parse(v, 0, 60000, &c->send_rate) != NULL ?
	    "want messages a minute, 0..60000" : NULL;
}

/* failover_hold DURATION: a failed smart host is skipped; 0 = never */
static const char *
key_failover_hold(struct conf *c, const char *v)
{
	return duration_or_off(v, &c->failover_hold);
}

/* quota_replies defer | bounce: what a sending-quota 5xx does */
static const char *
key_quota_replies(struct conf *c, const char *v)
{
	if (strcmp(v, "defer") == 0)
		c->quota_defer = 1;
	else if (strcmp(v, "bounce") == 0)
		c->quota_defer = 0;
	else
		return "want defer or bounce";
	return NULL;
}

static const struct key keys[] = {
	{ "smarthost",		key_smarthost,		0, 1 },
	{ "port",		key_port,		0, 1 },
	{ "tls",		key_tls,		0, 1 },
	{ "tls_ca_file",	key_tls_ca_file,	0, 0 },
	{ "tls_builtin_ca",	key_tls_builtin_ca,	0, 0 },
	{ "tls_pin",		key_tls_pin,		0, 1 },
	{ "tls_server_name",	key_tls_server_name,	0, 1 },
	{ "auth",		key_auth,		0, 1 },
	{ "user",		key_user,		0, 1 },
	{ "password",		key_password,		1, 1 },
	{ "password_file",	key_password_file,	0, 1 },
	{ "authinfo",		key_authinfo,		0, 1 },
	{ "password_command",	key_password_command,	0, 1 },
	{ "helo",		key_helo,		0, 0 },
	{ "timeout",		key_timeout,		0, 0 },
	{ "spool",		key_spool,		0, 0 },
	{ "aliases",		key_aliases,		0, 0 },
	{ "masquerade",		key_masquerade,		0, 0 },
	{ "from",		key_from,		0, 0 },
	{ "trusted_users",	key_trusted_users,	0, 0 },
	{ "max_queue_age",	key_max_queue_age,	0, 0 },
	{ "retry",		key_retry,		0, 0 },
	{ "bounce_window",	key_bounce_window,	0, 0 },
	{ "failed_max_age",	key_failed_max_age,	0, 0 },
	{ "failed_max_count",	key_failed_max_count,	0, 0 },
	{ "metrics_file",	key_metrics_file,	0, 0 },
	{ "max_messages_per_session", key_max_messages_per_session, 0, 0 },
	{ "send_rate",		key_send_rate,		0, 0 },
	{ "quota_replies",	key_quota_replies,	0, 0 },
	{ "failover_hold",	key_failover_hold,	0, 0 },
	{ "confine",		key_confine,		0, 0 },
};

void
conf_init(struct conf *c)
{
	memset(c, 0, offsetof(struct conf, hosts));
	c->tls = CONF_TLS_IMPLICIT;
	c->tls_builtin_ca = 1;
	c->confine = 1;
	c->auth = CONF_AUTH_ALL;
	c->timeout = 60;
	copy_str(c->spool, sizeof(c->spool), SPOOLDIR, strlen(SPOOLDIR));
	c->max_queue_age = 5 * 86400;
	c->retry[0] = 5 * 60;	/* doubling to an hour, then hourly */
	c->retry[1] = 10 * 60;
	c->retry[2] = 20 * 60;
	c->retry[3] = 40 * 60;
	c->retry[4] = 60 * 60;
	c->nretry = 5;
	c->bounce_window = 10 * 60;
	c->failed_max_age = 30 * 86400;
	c->failed_max_count = 1000;
	c->max_messages_per_session = 100;	/* SendGrid's cap */
	c->quota_defer = 1;
	c->failover_hold = 5 * 60;
}

/*
 * An unknown key is shown only up to its first byte that cannot be in a
 * key: "password:hunter2" or "password=hunter2" must not show hunter2.
 */
static int
unknown_key(const char *name, size_t lineno, const char *key,
    struct ferr *e)
{
	size_t	n;

	for (n = 0; n < KEY_SHOW_MAX; n++)
		if (!is_alnum(key[n]) && key[n] != '_' && key[n] != '-')
			break;
	return ferr_set(e, FE_CONFIG, 0, "%s:%zu: unknown key '%.*s%s'",
	    name, lineno, (int)n, key, key[n] != '\0' ? "..." : "");
}

int
conf_parse(struct conf *c, const char *text, size_t len, const char *name,
    struct ferr *e)
{
	struct lines	 l;
	const struct key *k;
	const char	*why;
	char		*line, *v;
	size_t		 i;
	int		 rc;

	lines_init(&l, text, len, name);
	while ((rc = lines_next(&l, &line, e)) == 1) {
		for (v = line; *v != '\0' && !is_space(*v); v++)
			;
		if (*v != '\0')
			*v++ = '\0';
		while (is_space(*v))
			v++;
		k = NULL;
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			if (strcmp(line, keys[i].name) == 0) {
				k = &keys[i];
				break;
			}
		}
		if (k == NULL) {
			rc = unknown_key(name, l.lineno, line, e);
			break;
		}
		if (*v == '\0') {
			rc = ferr_set(e, FE_CONFIG, 0,
			    "%s:%zu: missing value for %s", name, l.lineno,
			    k->name);
			break;
		}
		if ((why = k->set(c, v)) == NULL)
			continue;
		if (k->secret)
			rc = ferr_set(e, FE_CONFIG, 0,
			    "%s:%zu: bad value for %s (%s)", name, l.lineno,
			    k->name, why);
		else
			rc = ferr_set(e, FE_CONFIG, 0,
			    "%s:%zu: bad value for %s: '%.*s%s' (%s)", name,
			    l.lineno, k->name, SHOW_MAX, v,
			    strlen(v) > SHOW_MAX ? "..." : "", why);
		break;
	}
	lines_done(&l);
	return rc == 0 ? 0 : -1;
}

/*
 * One field of an AuthInfo line at *pp, quoted or not; *pp moves past
 * it. 1: field in *fp, *flenp; 0: none left; -1: bad quoting.
 */
static int
ai_field(char **pp, char **fp, size_t *flenp)
{
	char	*p = *pp, *q;

	while (is_space(*p))
		p++;
	if (*p == '\0')
		return 0;
	if (*p == '"') {
		if ((q = strchr(p + 1, '"')) == NULL)
			return -1;
		if (q[1] != '\0' && !is_space(q[1]))
			return -1;
		*fp = p + 1;
		*flenp = (size_t)(q - p - 1);
		*pp = q + 1;
		return 1;
	}
	for (q = p; *q != '\0' && !is_space(*q); q++)
		if (*q == '"')
			return -1;
	*fp = p;
	*flenp = (size_t)(q - p);
	*pp = q;
	return 1;
}

/*
 * Fill ent from the fields after "AuthInfo:host". Messages name the
 * field's tag letter at most: the values may be secrets.
 */
static int
ai_entry_parse(struct ai_entry *ent, char *p, const char *name,
    size_t lineno, struct ferr *e)
{
	char	*f, *v, tag, sep;
	size_t	 flen, vlen, n;
	int	 r;

	while ((r = ai_field(&p, &f, &flen)) == 1) {
		if (flen < 2 || (f[1] != ':' && f[1] != '='))
			return ferr_set(e, FE_CONFIG, 0, "%s:%zu: bad field "
			    "(want \"X:value\")", name, lineno);
		tag = f[0];
		sep = f[1];
		v = f + 2;
		vlen = flen - 2;
		if (sep == '=' && tag != 'P')
			return ferr_set(e, FE_CONFIG, 0, "%s:%zu: '=' is only "
			    "for P= (base64 password)", name, lineno);
		switch (tag) {
		case 'U':
		case 'I':
			if (copy_str(tag == 'U' ? ent->user : ent->authid,
			    CONF_USER_SIZE, v, vlen) == -1)
				return ferr_set(e, FE_CONFIG, 0, "%s:%zu: %c: "
				    "longer than %d bytes", name, lineno, tag,
				    CONF_USER_SIZE - 1);
			if (tag == 'U')
				ent->has_user = 1;
			else
				ent->has_authid = 1;
			break;
		case 'P':
			if (sep == '=') {
				/* sendmail: P= holds the password in base64 */
				if (b64_decode(v, vlen, (unsigned char *)
				    ent->pass, sizeof(ent->pass) - 1, &n) == -1)
					return ferr_set(e, FE_CONFIG, 0,
					    "%s:%zu: P= is not base64 of at "
					    "most %d bytes", name, lineno,
					    CONF_PASS_SIZE - 1);
				ent->pass[n] = '\0';
				if (memchr(ent->pass, '\0', n) != NULL)
					return ferr_set(e, FE_CONFIG, 0,
					    "%s:%zu: P= decodes to a NUL byte",
					    name, lineno);
			} else {
				n = vlen;
				if (copy_str(ent->pass, sizeof(ent->pass), v,
				    vlen) == -1)
					return ferr_set(e, FE_CONFIG, 0,
					    "%s:%zu: P: longer than %d bytes",
					    name, lineno, CONF_PASS_SIZE - 1);
			}
			if (n == 0)
				return ferr_set(e, FE_CONFIG, 0,
				    "%s:%zu: empty password in P%c", name,
				    lineno, sep);
			ent->has_pass = 1;
			break;
		case 'M':
			/* DIGEST-MD5, GSSAPI...: sendmail's, not ferry's */
			ent->has_mechs = 1;
			ent->mechs = 0;
			while (vlen > 0) {
				for (n = 0; n < vlen && !is_space(v[n]); n++)
					;
				ent->mechs |= auth_mechs_parse(v, n);
				for (; n < vlen && is_space(v[n]); n++)
					;
				v += n;
				vlen -= n;
			}
			break;
		case 'R':	/* realm: for DIGEST-MD5 only */
			break;
		default:
			return ferr_set(e, FE_CONFIG, 0, "%s:%zu: unknown "
			    "field %c%c (want U I P M R)", name, lineno,
			    is_alnum(tag) ? tag : '?', sep);
		}
	}
	if (r == -1)
		return ferr_set(e, FE_CONFIG, 0, "%s:%zu: bad quoting",
		    name, lineno);
	return 0;
}

/* Host names compare without case; "[1.2.3.4]" is 1.2.3.4. */
static int
ai_host_match(const char *a, size_t alen, const char *b)
{
	size_t	blen = strlen(b);

	if (alen >= 2 && a[0] == '[' && a[alen - 1] == ']') {
		a++;
		alen -= 2;
	}
	if (blen >= 2 && b[0] == '[' && b[blen - 1] == ']') {
		b++;
		blen -= 2;
	}
	return alen == blen && strncasecmp(a, b, alen) == 0;
}

int
conf_parse_authinfo(struct conf *c, const char *text, size_t len,
    const char *name, struct ferr *e)
{
	struct lines	 l;
	struct ai_entry	 exact, fallback, cur, *use = NULL;
	char		*line, *host, *p;
	size_t		 hlen, tlen = strlen(AI_TAG);
	int		 rc, have_exact = 0, have_fallback = 0;

	lines_init(&l, text, len, name);
	while ((rc = lines_next(&l, &line, e)) == 1) {
		/* an access map holds other tags too (Connect:, To:...) */
		if (strncasecmp(line, AI_TAG, tlen) != 0)
			continue;
		host = line + tlen;
		for (p = host; *p != '\0' && !is_space(*p); p++)
			;
		hlen = (size_t)(p - host);
		memset(&cur, 0, sizeof(cur));
		cur.lineno = l.lineno;
		if ((rc = ai_entry_parse(&cur, p, name, l.lineno, e)) == -1)
			break;
		/* the first entry for a host wins, as in a sendmail map */
		if (hlen == 0 && !have_fallback) {
			fallback = cur;
			have_fallback = 1;
		} else if (hlen > 0 && !have_exact && c->smarthost[0] != '\0' &&
		    ai_host_match(host, hlen, c->smarthost)) {
			exact = cur;
			have_exact = 1;
		}
	}
	if (rc == 0) {
		if (have_exact)
			use = &exact;
		else if (have_fallback)
			use = &fallback;
	}
	if (use != NULL && use->has_mechs && use->mechs == 0) {
		rc = ferr_set(e, FE_CONFIG, 0, "%s:%zu: no supported mechanism "
		    "in M: (ferry has LOGIN PLAIN CRAM-MD5)", name,
		    use->lineno);
		use = NULL;
	}
	if (use != NULL) {
		if (use->has_user)
			memcpy(c->user, use->user, sizeof(c->user));
		else if (use->has_authid)
			memcpy(c->user, use->authid, sizeof(c->user));
		if (use->has_pass) {
			memcpy(c->password, use->pass, sizeof(c->password));
			c->has_password = 1;
		}
		if (use->has_mechs)
			c->auth = use->mechs;
	}
	plat_wipe(&cur, sizeof(cur));
	plat_wipe(&exact, sizeof(exact));
	plat_wipe(&fallback, sizeof(fallback));
	lines_done(&l);
	return rc == 0 ? 0 : -1;
}

/* "localhost", 127.0.0.0/8 or ::1, with or without brackets; no DNS. */
static int
host_is_loopback(const char *h)
{
	char		tmp[CONF_HOST_SIZE];
	struct in_addr	a4;
	struct in6_addr	a6;
	size_t		len = strlen(h);

	if (len >= 2 && h[0] == '[' && h[len - 1] == ']') {
		h++;
		len -= 2;
	}
	if (copy_str(tmp, sizeof(tmp), h, len) == -1)
		return 0;
	if (strcasecmp(tmp, "localhost") == 0 ||
	    strcasecmp(tmp, "localhost.") == 0)
		return 1;
	if (inet_pton(AF_INET, tmp, &a4) == 1)
		return ((const unsigned char *)&a4.s_addr)[0] == 127;
	if (inet_pton(AF_INET6, tmp, &a6) == 1)
		return memcmp(&a6, &in6addr_loopback, sizeof(a6)) == 0;
	return 0;
}

int
conf_tls_port(const struct conf *c, struct ferr *e)
{
	if (c->port == 465 && c->tls != CONF_TLS_IMPLICIT)
		return ferr_set(e, FE_CONFIG, 0, "port 465 is implicit TLS "
		    "(RFC 8314), not `tls %s`: set `tls implicit`, or use "
		    "port 587 for STARTTLS", c->tls == CONF_TLS_NONE ?
		    "none" : "starttls");
	if (c->port == 587 && c->tls == CONF_TLS_IMPLICIT)
		return ferr_set(e, FE_CONFIG, 0, "port 587 is STARTTLS "
		    "submission (RFC 6409), not implicit TLS: set `tls "
		    "starttls`, or use port 465 for implicit TLS");
	return 0;
}

/* One host's cross-key rules (conf_finish), on c's host fields. */
static int
host_finish(struct conf *c, struct ferr *e)
{
	const char	*name = c->path[0] != '\0' ? c->path : "config";

	if (c->smarthost[0] == '\0')
		return ferr_set(e, FE_CONFIG, 0, "%s: no smarthost set", name);
	if (c->port == 0) {
		switch (c->tls) {
		case CONF_TLS_IMPLICIT:
			c->port = 465;	/* RFC 8314 3.3 submissions */
			break;
		case CONF_TLS_STARTTLS:
			c->port = 587;	/* RFC 6409 3.1 submission */
			break;
		case CONF_TLS_NONE:
			c->port = 25;	/* a local MTA or tunnel */
			break;
		}
	}
	/* plaintext (and maybe a password) may cross no wire */
	if (c->tls == CONF_TLS_NONE && !host_is_loopback(c->smarthost))
		return ferr_set(e, FE_CONFIG, 0, "%s: tls none is only allowed "
		    "to a loopback smarthost (got %s)", name, c->smarthost);
	if (c->user[0] != '\0' && c->password_command[0] != '\0' &&
	    c->has_password)
		return ferr_set(e, FE_CONFIG, 0, "%s: password_command cannot "
		    "be combined with password, password_file or authinfo",
		    name);
	if (c->user[0] == '\0' && c->password_command[0] != '\0')
		return ferr_set(e, FE_CONFIG, 0, "%s: password_command is set "
		    "but no user", name);
	if (c->user[0] != '\0' && !c->has_password &&
	    c->password_command[0] == '\0')
		return ferr_set(e, FE_CONFIG, 0, "%s: user %s has no password "
		    "(set password, password_file, password_command or "
		    "authinfo)", name,
		    c->user);
	if (c->user[0] == '\0' && c->has_password)
		return ferr_set(e, FE_CONFIG, 0, "%s: a password is set but "
		    "no user", name);
	if (c->tls != CONF_TLS_NONE && !c->tls_builtin_ca && c->npins == 0 &&
	    c->tls_ca_file[0] == '\0')
		return ferr_set(e, FE_CONFIG, 0, "%s: tls_builtin_ca no needs "
		    "tls_ca_file or tls_pin", name);
	return 0;
}

/* The last block joins the others: hosts[] then holds every host. */
static void
hosts_close(struct conf *c)
{
	if (c->hosts_done)
		return;
	host_save(c, &c->hosts[c->nhosts++]);
	c->hosts_done = 1;
}

void
conf_copy(struct conf *dst, const struct conf *src)
{
	memcpy(dst, src, offsetof(struct conf, hosts) +
	    src->nhosts * sizeof(src->hosts[0]));
}

void
conf_pick(struct conf *c, size_t i)
{
	host_load(c, &c->hosts[i]);
	c->host = i;
}

/* Run fn on each host's block in turn; hosts[0] is left in c's fields. */
static int
hosts_each(struct conf *c, int (*fn)(struct conf *, struct ferr *),
    struct ferr *e)
{
	size_t	i;

	hosts_close(c);
	for (i = 0; i < c->nhosts; i++) {
		conf_pick(c, i);
		if (fn(c, e) == -1)
			return -1;
		host_save(c, &c->hosts[i]);
	}
	conf_pick(c, 0);
	return 0;
}

int
conf_finish(struct conf *c, struct ferr *e)
{
	if (c->hosts_done)	/* the host fields are the truth for theirs */
		host_save(c, &c->hosts[c->host]);
	return hosts_each(c, host_finish, e);
}

/*
 * Read a whole regular file of at most CONF_FILE_SIZE bytes into a
 * malloc'd *bufp (caller wipes and frees it); its mode to *modep.
 */
static int
file_read(const char *path, char **bufp, size_t *lenp, mode_t *modep,
    struct ferr *e)
{
	struct stat	 st;
	char		*buf = NULL;
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd, rc = -1;

	/* O_NONBLOCK: a FIFO must not hang us before fstat refuses it */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd == -1)
		return ferr_set(e, FE_CONFIG, errno, "%s", path);
	if (fstat(fd, &st) == -1) {
		ferr_set(e, FE_CONFIG, errno, "%s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ferr_set(e, FE_CONFIG, 0, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > CONF_FILE_SIZE) {
		ferr_set(e, FE_CONFIG, 0, "%s: larger than %d bytes", path,
		    CONF_FILE_SIZE);
		goto out;
	}
	/* one byte more than allowed: catches a file that grew */
	if ((buf = malloc(CONF_FILE_SIZE + 1)) == NULL) {
		ferr_set(e, FE_OS, errno, "%s", path);
		goto out;
	}
	for (;;) {
		n = read(fd, buf + len, CONF_FILE_SIZE + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			ferr_set(e, FE_CONFIG, errno, "%s", path);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > CONF_FILE_SIZE) {
			ferr_set(e, FE_CONFIG, 0, "%s: larger than %d bytes",
			    path, CONF_FILE_SIZE);
			goto out;
		}
	}
	*bufp = buf;
	*lenp = len;
	*modep = st.st_mode;
	buf = NULL;
	rc = 0;
out:
	if (buf != NULL) {
		plat_wipe(buf, len);
		free(buf);
	}
	close(fd);
	return rc;
}

static void
file_free(char *buf, size_t len)
{
	if (buf == NULL)
		return;
	plat_wipe(buf, len);
	free(buf);
}

/* Anyone on the host could read the secret: refuse, say the fix. */
static int
file_check_secret(const char *path, mode_t mode, struct ferr *e)
{
	if ((mode & S_IROTH) == 0)
		return 0;
	return ferr_set(e, FE_CONFIG, 0, "%s: holds a password but is "
	    "readable by others (mode %04o); chmod o-r %s", path,
	    (unsigned)(mode & 07777), path);
}

/* A relative path p (of key) is taken from the config file's folder. */
static int
path_resolve(char *p, size_t size, const char *conf, const char *key,
    struct ferr *e)
{
	char		 tmp[CONF_PATH_SIZE];
	const char	*slash;
	int		 n;

	if (p[0] == '\0' || p[0] == '/')
		return 0;
	if ((slash = strrchr(conf, '/')) == NULL)
		return 0;	/* config in the cwd: so is p */
	n = snprintf(tmp, sizeof(tmp), "%.*s/%s", (int)(slash - conf), conf,
	    p);
	if (n < 0 || (size_t)n >= sizeof(tmp) || (size_t)n >= size)
		return ferr_set(e, FE_CONFIG, 0, "%s: %s path longer than %d "
		    "bytes after adding the config's folder", conf, key,
		    CONF_PATH_SIZE - 1);
	memcpy(p, tmp, (size_t)n + 1);
	return 0;
}

static int
conf_load_password_file(struct conf *c, struct ferr *e)
{
	char	*buf = NULL;
	size_t	 len = 0, n;
	mode_t	 mode;
	int	 rc = -1;

	if (file_read(c->password_file, &buf, &len, &mode, e) == -1)
		return -1;
	if (file_check_secret(c->password_file, mode, e) == -1)
		goto out;
	for (n = 0; n < len && buf[n] != '\n'; n++)
		;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n == 0) {
		ferr_set(e, FE_CONFIG, 0, "%s: first line is empty (it "
		    "must hold the password)", c->password_file);
		goto out;
	}
	if (memchr(buf, '\0', n) != NULL) {
		ferr_set(e, FE_CONFIG, 0, "%s: NUL byte in the password",
		    c->password_file);
		goto out;
	}
	if (copy_str(c->password, sizeof(c->password), buf, n) == -1) {
		ferr_set(e, FE_CONFIG, 0, "%s: password longer than %d bytes",
		    c->password_file, CONF_PASS_SIZE - 1);
		goto out;
	}
	c->has_password = 1;
	rc = 0;
out:
	file_free(buf, len);
	return rc;
}

static int
conf_load_authinfo(struct conf *c, struct ferr *e)
{
	char	*buf = NULL;
	size_t	 len = 0;
	mode_t	 mode;
	int	 rc = -1;

	if (file_read(c->authinfo, &buf, &len, &mode, e) == -1)
		return -1;
	if (file_check_secret(c->authinfo, mode, e) == -1)
		goto out;
	rc = conf_parse_authinfo(c, buf, len, c->authinfo, e);
out:
	file_free(buf, len);
	return rc;
}

/* One host's secret sources, after the keys are read. */
static int
host_settle(struct conf *c, struct ferr *e)
{
	/* two sources for one secret: say so rather than pick one */
	if (c->has_password && c->password_file[0] != '\0')
		return ferr_set(e, FE_CONFIG, 0, "%s: password and "
		    "password_file are both set; keep one", c->path);
	if (c->authinfo[0] != '\0' &&
	    (c->has_password || c->password_file[0] != '\0'))
		return ferr_set(e, FE_CONFIG, 0, "%s: authinfo cannot be "
		    "combined with password or password_file", c->path);
	if (path_resolve(c->password_file, sizeof(c->password_file), c->path,
	    "password_file", e) == -1 ||
	    path_resolve(c->authinfo, sizeof(c->authinfo), c->path,
	    "authinfo", e) == -1)
		return -1;
	/* read when AUTH runs (conf_password), not for every run */
	if (c->password_file[0] != '\0')
		c->has_password = 1;
	if (c->authinfo[0] != '\0' && conf_load_authinfo(c, e) == -1)
		return -1;
	return 0;
}

/* After the keys are read, from a file or the environment. */
static int
conf_settle(struct conf *c, struct ferr *e)
{
	if (path_resolve(c->tls_ca_file, sizeof(c->tls_ca_file), c->path,
	    "tls_ca_file", e) == -1 ||
	    path_resolve(c->aliases, sizeof(c->aliases), c->path,
	    "aliases", e) == -1)
		return -1;
	if (hosts_each(c, host_settle, e) == -1)
		return -1;
	return conf_finish(c, e);
}

/* The passwords themselves; has_password still says one is set. */
static void
wipe_passwords(struct conf *c)
{
	size_t	i;

	plat_wipe(c->password, sizeof(c->password));
	for (i = 0; i < c->nhosts; i++)
		plat_wipe(c->hosts[i].password, sizeof(c->hosts[i].password));
}

int
conf_load(struct conf *c, const char *path, struct ferr *e)
{
	char	*buf = NULL;
	size_t	 len = 0;
	mode_t	 mode;
	int	 rc = -1;

	if (copy_str(c->path, sizeof(c->path), path, strlen(path)) == -1)
		return ferr_set(e, FE_CONFIG, 0, "config path longer than %d "
		    "bytes", CONF_PATH_SIZE - 1);
	if (file_read(c->path, &buf, &len, &mode, e) == -1)
		goto out;
	if (conf_parse(c, buf, len, c->path, e) == -1)
		goto out;
	if (c->has_password && file_check_secret(c->path, mode, e) == -1)
		goto out;
	if (conf_settle(c, e) == -1)
		goto out;
	rc = 0;
out:
	file_free(buf, len);
	/* what `password` or authinfo put here: conf_password reads again */
	wipe_passwords(c);
	if (rc == -1)
		conf_wipe(c);
	return rc;
}

/* FERRY_<KEY><sfx> in envp ("", or "_2" for the second host): or NULL. */
static const char *
env_value(char *const *envp, const char *key, const char *sfx)
{
	char	name[64];
	size_t	i, n;

	n = (size_t)snprintf(name, sizeof(name), "FERRY_%s%s=", key, sfx);
	if (n >= sizeof(name))
		return NULL;
	for (i = 6; name[i] != '\0'; i++)
		name[i] = (char)toupper((unsigned char)name[i]);
	for (; *envp != NULL; envp++)
		if (strncmp(*envp, name, n) == 0)
			return *envp + n;
	return NULL;
}

/* One key's value from the environment, as a config line. */
static int
env_key(struct conf *c, const struct key *k, const char *sfx, const char *v,
    struct ferr *e)
{
	char	line[CONF_LINE_SIZE], var[64];
	size_t	i, n;
	int	len;

	n = (size_t)snprintf(var, sizeof(var), "FERRY_%s%s", k->name, sfx);
	for (i = 6; i < n && i < sizeof(var); i++)
		var[i] = (char)toupper((unsigned char)var[i]);
	/* one line each: a newline in a value must not add a key */
	if (strpbrk(v, "\r\n") != NULL)
		return ferr_set(e, FE_CONFIG, 0, "%s: line break in the "
		    "value", var);
	len = snprintf(line, sizeof(line), "%s %s\n", k->name, v);
	if (len < 0 || (size_t)len >= sizeof(line))
		return ferr_set(e, FE_CONFIG, 0, "%s: longer than %d bytes",
		    var, CONF_LINE_SIZE - 2 - (int)strlen(k->name));
	return conf_parse(c, line, (size_t)len, var, e);
}

/*
 * The keys with suffix sfx: every key for the first host (""), only a
 * host's own for the others ("_2"...), each starting with smarthost.
 */
static int
env_keys(struct conf *c, char *const *envp, const char *sfx,
    struct ferr *e)
{
	char		 pin[CONF_LINE_SIZE];
	const char	*v, *p;
	size_t		 i, n;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if ((sfx[0] != '\0' && !keys[i].host) ||
		    (v = env_value(envp, keys[i].name, sfx)) == NULL ||
		    *v == '\0')
			continue;
		if (keys[i].secret)
			return ferr_set(e, FE_CONFIG, 0, "FERRY_PASSWORD%s is "
			    "not read (every child of the caller inherits it, "
			    "and docker inspect shows it): put the password "
			    "in a file and set FERRY_PASSWORD_FILE%s", sfx,
			    sfx);
		if (strcmp(keys[i].name, "tls_pin") != 0) {
			if (env_key(c, &keys[i], sfx, v, e) == -1)
				return -1;
			continue;
		}
		/* several pins, space-separated: one tls_pin line each */
		for (p = v; *(p += strspn(p, " ")) != '\0'; p += n) {
			n = strcspn(p, " ");
			snprintf(pin, sizeof(pin), "%.*s", (int)n, p);
			if (env_key(c, &keys[i], sfx, pin, e) == -1)
				return -1;
		}
	}
	return 0;
}

int
conf_load_env(struct conf *c, char *const *envp, struct ferr *e)
{
	char	sfx[8];
	size_t	i;

	copy_str(c->path, sizeof(c->path), "environment",
	    strlen("environment"));
	if (env_keys(c, envp, "", e) == -1)
		return -1;
	/* FERRY_SMARTHOST_2 starts the second host's keys, and so on */
	for (i = 2; i <= CONF_HOSTS_MAX; i++) {
		snprintf(sfx, sizeof(sfx), "_%zu", i);
		if (env_value(envp, "smarthost", sfx) != NULL &&
		    env_keys(c, envp, sfx, e) == -1)
			return -1;
	}
	if (conf_settle(c, e) == -1) {
		conf_wipe(c);
		return -1;
	}
	return 0;
}

int
conf_password(const struct conf *c, char *out, size_t size,
    struct ferr *e)
{
	struct conf	*t;
	char		*buf = NULL;
	size_t		 len = 0;
	mode_t		 mode;
	int		 rc = -1;

	if (size > 0)
		out[0] = '\0';
	if ((t = malloc(sizeof(*t))) == NULL)
		return ferr_set(e, FE_OS, errno, "password");
	conf_init(t);	/* what each source reads, and no more */
	if (c->password_file[0] != '\0') {
		memcpy(t->password_file, c->password_file,
		    sizeof(t->password_file));
		rc = conf_load_password_file(t, e);
	} else if (c->authinfo[0] != '\0') {
		memcpy(t->smarthost, c->smarthost, sizeof(t->smarthost));
		memcpy(t->authinfo, c->authinfo, sizeof(t->authinfo));
		rc = conf_load_authinfo(t, e);
	} else if (file_read(c->path, &buf, &len, &mode, e) == 0) {
		rc = conf_parse(t, buf, len, c->path, e);
		file_free(buf, len);
		/* the block of c's host; the last one is still in t's fields */
		if (rc == 0 && c->host < t->nhosts)
			host_load(t, &t->hosts[c->host]);
	}
	if (rc == 0 && !t->has_password)
		rc = ferr_set(e, FE_CONFIG, 0, "%s: the password is gone "
		    "since ferry started", c->path);
	if (rc == 0 && copy_str(out, size, t->password,
	    strlen(t->password)) == -1)
		rc = ferr_set(e, FE_SOFTWARE, 0, "password too long");
	plat_wipe(t, offsetof(struct conf, hosts) +
	    t->nhosts * sizeof(t->hosts[0]));
	free(t);
	if (rc == -1)
		plat_wipe(out, size);
	return rc;
}

int
conf_secret(const struct conf *c, size_t i, char *out, size_t size,
    struct ferr *e)
{
	struct conf	*t;
	int		 rc;

	if (i == c->host || i >= c->nhosts)	/* c's own fields */
		return c->password_command[0] != '\0' ?
		    secret_run(c->password_command, c->timeout, out, size, e) :
		    conf_password(c, out, size, e);
	if ((t = malloc(sizeof(*t))) == NULL)
		return ferr_set(e, FE_OS, errno, "password");
	conf_copy(t, c);
	conf_pick(t, i);
	rc = conf_secret(t, i, out, size, e);
	plat_wipe(t, offsetof(struct conf, hosts));
	free(t);
	return rc;
}

void
conf_wipe(struct conf *c)
{
	size_t	i;

	wipe_passwords(c);
	c->has_password = 0;
	for (i = 0; i < c->nhosts; i++)
		c->hosts[i].has_password = 0;
}

void
conf_host_name(const struct conf *c, char *out, size_t size)
{
	if (c->helo[0] != '\0')
		copy_str(out, size, c->helo, strlen(c->helo));
	else if (gethostname(out, size) == -1 || out[0] == '\0')
		copy_str(out, size, "localhost", 9);
	out[size - 1] = '\0';
}
