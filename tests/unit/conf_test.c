/*
 * conf_test.c: ferry.conf keys, cross-key rules, AuthInfo and loading.
 * Every error text is searched for the test password: none may hold it.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "t.h"

#define TPASS		"Tr0ub4dor&3 s3cret"
#define TPASS_B64	"VHIwdWI0ZG9yJjMgczNjcmV0"
/* the 32 bytes 1..32, and 31 and 33 bytes of the same run */
#define PIN32		"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="
#define PIN31		"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHw=="
#define PIN33		"AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAh"
#define PINFF		"//////////////////////////////////////////8="

struct conf_case {
	const char	*what;
	const char	*text;
	const char	*err;	/* NULL: must parse; else in the text */
};

/*
 * A failure must be FE_CONFIG, say `want`, and hold no part of the
 * test password in either form.
 */
static void
check_err(struct t *t, int rc, const struct ferr *e, const char *want,
    const char *what)
{
	T_OK(t, rc == -1, what);
	T_OK(t, e->kind == FE_CONFIG, what);
	T_OK(t, strstr(e->text, want) != NULL, what);
	T_OK(t, strstr(e->text, "Tr0ub4dor") == NULL &&
	    strstr(e->text, "s3cret") == NULL &&
	    strstr(e->text, "VHIwdWI0") == NULL, what);
	if (strstr(e->text, want) == NULL)
		fprintf(stderr, "  got: %s\n  want: %s\n", e->text, want);
}

static int
parse(struct conf *c, const char *text, struct ferr *e)
{
	conf_init(c);
	ferr_clear(e);
	return conf_parse(c, text, strlen(text), "t.conf", e);
}

static void
run_cases(struct t *t, const struct conf_case *cs, size_t n, int finish)
{
	struct conf	c;
	struct ferr	e;
	size_t		i;
	int		rc;

	for (i = 0; i < n; i++) {
		rc = parse(&c, cs[i].text, &e);
		if (rc == 0 && finish)
			rc = conf_finish(&c, &e);
		if (cs[i].err == NULL) {
			T_OK(t, rc == 0, cs[i].what);
			if (rc != 0)
				fprintf(stderr, "  got: %s\n", e.text);
		} else
			check_err(t, rc, &e, cs[i].err, cs[i].what);
	}
}

static const struct conf_case parse_cases[] = {
	{ "empty text", "", NULL },
	{ "comments and blanks",
	    "# ferry\n\n   # indented\n\t\n  \r\n", NULL },
	{ "host name", "smarthost smtp.example.com\n", NULL },
	{ "host trailing dot", "smarthost smtp.example.com.", NULL },
	{ "host - and _", "smarthost mail-1.in_ternal.example", NULL },
	{ "host IPv4", "smarthost 192.0.2.1", NULL },
	{ "host [IPv4]", "smarthost [192.0.2.1]", NULL },
	{ "host IPv6", "smarthost 2001:db8::1", NULL },
	{ "host [IPv6]", "smarthost [2001:db8::1]", NULL },
	{ "host bad char", "smarthost bad!host",
	    "t.conf:1: bad value for smarthost: 'bad!host' (not a host name)" },
	{ "host space", "smarthost a b", "bad value for smarthost" },
	{ "host leading -", "smarthost -a.example", "bad value for smarthost" },
	{ "host label ends -", "smarthost a-.example",
	    "bad value for smarthost" },
	{ "host empty label", "smarthost a..example",
	    "bad value for smarthost" },
	{ "host leading dot", "smarthost .example", "bad value for smarthost" },
	{ "host 64-byte label", "smarthost "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    ".example", "bad value for smarthost" },
	{ "host 63-byte label", "smarthost "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    ".example", NULL },
	{ "host bad IPv4", "smarthost 999.1.1.1", "not an IPv4 address" },
	{ "host short IPv4", "smarthost 1.2.3", "not an IPv4 address" },
	{ "host bad IPv6", "smarthost 2001:db8::zz", "not an IPv6 address" },
	{ "host [name]", "smarthost [example.com]", "not an IP address" },
	{ "host [ unclosed", "smarthost [::1", "'[' without ']'" },
	{ "host []", "smarthost []", "'[' without ']'" },
	{ "port 1", "port 1", NULL },
	{ "port 65535", "port 65535", NULL },
	{ "port 0", "port 0", "bad value for port: '0' (want 1..65535)" },
	{ "port 65536", "port 65536", "bad value for port: '65536'" },
	{ "port abc", "port abc", "t.conf:1: bad value for port: 'abc'" },
	{ "port -1", "port -1", "bad value for port" },
	{ "port +25", "port +25", "bad value for port" },
	{ "port 25x", "port 25x", "bad value for port" },
	{ "port 0x19", "port 0x19", "bad value for port" },
	{ "port huge", "port 99999999999999999999999", "bad value for port" },
	{ "tls implicit", "tls implicit", NULL },
	{ "tls starttls", "tls starttls", NULL },
	{ "tls none", "tls none", NULL },
	{ "tls STARTTLS", "tls STARTTLS", NULL },
	{ "tls bad", "tls maybe",
	    "bad value for tls: 'maybe' (want implicit, starttls or none)" },
	{ "tls_ca_file", "tls_ca_file /etc/ssl/certs/ca.pem", NULL },
	{ "tls_builtin_ca yes", "tls_builtin_ca yes", NULL },
	{ "tls_builtin_ca NO", "tls_builtin_ca NO", NULL },
	{ "tls_builtin_ca 1", "tls_builtin_ca 1",
	    "bad value for tls_builtin_ca: '1' (want yes or no)" },
	{ "tls_pin", "tls_pin sha256:" PIN32, NULL },
	{ "tls_pin SHA256:", "tls_pin SHA256:" PIN32, NULL },
	{ "tls_pin 31 bytes", "tls_pin sha256:" PIN31, "not 32 bytes" },
	{ "tls_pin 33 bytes", "tls_pin sha256:" PIN33, "not 32 bytes" },
	{ "tls_pin no prefix", "tls_pin " PIN32, "want sha256:BASE64" },
	{ "tls_pin md5", "tls_pin md5:" PIN32, "want sha256:BASE64" },
	{ "tls_pin bad b64", "tls_pin sha256:!!!!" PIN32, "bad base64" },
	{ "tls_pin no padding",
	    "tls_pin sha256:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA",
	    "bad base64" },
	{ "tls_pin empty", "tls_pin sha256:", "not 32 bytes" },
	{ "tls_server_name", "tls_server_name mail.example.com", NULL },
	{ "tls_server_name IPv4", "tls_server_name 192.0.2.1",
	    "not a DNS name" },
	{ "tls_server_name [::1]", "tls_server_name [::1]", "not a DNS name" },
	{ "auth plain", "auth plain", NULL },
	{ "auth all mixed case", "auth PLAIN Login\tcram-MD5", NULL },
	{ "auth digest-md5", "auth digest-md5",
	    "bad value for auth: 'digest-md5'" },
	{ "auth one bad", "auth plain gssapi", "bad value for auth" },
	{ "user", "user bob@example.com", NULL },
	{ "password", "password " TPASS, NULL },
	{ "password_file", "password_file /etc/ferry.pw", NULL },
	{ "authinfo", "authinfo /etc/mail/authinfo", NULL },
	{ "helo name", "helo client.example.org", NULL },
	{ "helo [IPv4]", "helo [192.0.2.7]", NULL },
	{ "helo [IPv6:]", "helo [IPv6:2001:db8::7]", NULL },
	{ "helo bare IPv4", "helo 192.0.2.7", "bad value for helo" },
	{ "helo [IPv6] no tag", "helo [2001:db8::7]",
	    "want [IPv4] or [IPv6:addr]" },
	{ "helo bad IPv6", "helo [IPv6:nope]", "not an IPv6 address" },
	{ "helo bad char", "helo a/b", "bad value for helo" },
	{ "timeout 1", "timeout 1", NULL },
	{ "timeout 3600", "timeout 3600", NULL },
	{ "timeout 0", "timeout 0", "bad value for timeout: '0'" },
	{ "timeout 3601", "timeout 3601",
	    "bad value for timeout: '3601' (want 1..3600 seconds)" },
	{ "spool absolute", "spool /var/q", NULL },
	{ "spool relative", "spool q",
	    "bad value for spool: 'q' (want an absolute path)" },
	{ "max_queue_age 5d", "max_queue_age 5d", NULL },
	{ "max_queue_age 1s", "max_queue_age 1s", NULL },
	{ "max_queue_age bare seconds", "max_queue_age 90", NULL },
	{ "max_queue_age 365d", "max_queue_age 365d", NULL },
	{ "max_queue_age 366d", "max_queue_age 366d",
	    "bad value for max_queue_age" },
	{ "max_queue_age 0", "max_queue_age 0", "bad value for max_queue_age" },
	{ "max_queue_age unit", "max_queue_age 5w",
	    "bad value for max_queue_age" },
	{ "retry list", "retry 5m 15m 1h", NULL },
	{ "retry 7d", "retry 7d", NULL },
	{ "retry 8d", "retry 8d", "bad value for retry" },
	{ "retry 16 steps", "retry 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16",
	    NULL },
	{ "retry 17 steps", "retry 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17",
	    "bad value for retry" },
	{ "retry zero", "retry 5m 0", "bad value for retry" },
	{ "bounce_window 0", "bounce_window 0", NULL },
	{ "bounce_window 7d", "bounce_window 7d", NULL },
	{ "bounce_window 8d", "bounce_window 8d",
	    "bad value for bounce_window" },
	{ "bounce_window -1", "bounce_window -1",
	    "bad value for bounce_window" },
	{ "failed_max_age 3650d", "failed_max_age 3650d", NULL },
	{ "failed_max_age 3651d", "failed_max_age 3651d",
	    "bad value for failed_max_age" },
	{ "failed_max_count 0", "failed_max_count 0", NULL },
	{ "failed_max_count 10000000", "failed_max_count 10000000", NULL },
	{ "failed_max_count 10000001", "failed_max_count 10000001",
	    "bad value for failed_max_count" },
	{ "max_messages_per_session 0", "max_messages_per_session 0", NULL },
	{ "max_messages_per_session 1000000",
	    "max_messages_per_session 1000000", NULL },
	{ "max_messages_per_session 1000001",
	    "max_messages_per_session 1000001",
	    "bad value for max_messages_per_session" },
	{ "send_rate 0", "send_rate 0", NULL },
	{ "send_rate 60000", "send_rate 60000", NULL },
	{ "send_rate 60001", "send_rate 60001", "bad value for send_rate" },
	{ "send_rate 1.5", "send_rate 1.5", "bad value for send_rate" },
	{ "quota_replies defer", "quota_replies defer", NULL },
	{ "quota_replies bounce", "quota_replies bounce", NULL },
	{ "quota_replies yes", "quota_replies yes",
	    "bad value for quota_replies" },
	{ "unknown key", "smarthst mail.example.com",
	    "t.conf:1: unknown key 'smarthst'" },
	{ "keys are lower case", "Port 25", "unknown key 'Port'" },
	{ "unknown key line number", "# c\n\nport 25\nfoo bar\n",
	    "t.conf:4: unknown key 'foo'" },
	{ "missing value", "port", "t.conf:1: missing value for port" },
	{ "missing value, blanks", "port \t \r\n",
	    "missing value for port" },
	{ "missing password", "password\n", "missing value for password" },
	{ "password:value typo", "password:" TPASS,
	    "unknown key 'password...'" },
	{ "password=value typo", "password=" TPASS,
	    "unknown key 'password...'" },
	{ "CRLF", "smarthost a.example\r\nport 25\r\n# c\r\n\r\n", NULL },
	{ "blanks around", "  \tport   25 \t \n", NULL },
	{ "no final newline", "port 25", NULL },
	{ "bad value line number", "port 25\r\n\r\ntimeout x\r\n",
	    "t.conf:3: bad value for timeout" },
	{ "# only at line start", "port 25 # comment",
	    "bad value for port" },
};

/* The fields each key sets, and overriding. */
static void
test_values(struct t *t)
{
	static const unsigned char pin[CONF_PIN_SIZE] = {
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
		17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32
	};
	unsigned char	ff[CONF_PIN_SIZE];
	struct conf	c;
	struct ferr	e;
	int		rc;

	conf_init(&c);
	T_OK(t, c.tls == CONF_TLS_IMPLICIT && c.tls_builtin_ca == 1 &&
	    c.auth == CONF_AUTH_ALL && c.timeout == 60 && c.port == 0 &&
	    c.npins == 0 && !c.has_password, "defaults");

	rc = parse(&c,
	    "smarthost old.example\n"
	    "smarthost [2001:DB8::1]\n"
	    "port 2525\n"
	    "tls starttls\n"
	    "tls_ca_file ca.pem\n"
	    "tls_builtin_ca no\n"
	    "tls_pin sha256:" PIN32 "\n"
	    "tls_pin sha256:" PINFF "\n"
	    "tls_server_name mx.example.net\n"
	    "auth login cram-md5\n"
	    "user bob@example.com\n"
	    "password  " TPASS "  \r\n"
	    "password_file pw\n"
	    "authinfo /etc/mail/authinfo\n"
	    "helo [IPv6:::1]\n"
	    "timeout 3600\n", &e);
	T_OK(t, rc == 0, "full config parses");
	T_STREQ(t, c.smarthost, "2001:DB8::1", "later smarthost wins, "
	    "brackets dropped");
	T_OK(t, c.port == 2525, "port value");
	T_OK(t, c.tls == CONF_TLS_STARTTLS, "tls value");
	T_STREQ(t, c.tls_ca_file, "ca.pem", "tls_ca_file value");
	T_OK(t, c.tls_builtin_ca == 0, "tls_builtin_ca value");
	memset(ff, 0xff, sizeof(ff));
	T_OK(t, c.npins == 2, "pins add up");
	T_MEMEQ(t, c.pins[0], CONF_PIN_SIZE, pin, sizeof(pin), "pin 1 bytes");
	T_MEMEQ(t, c.pins[1], CONF_PIN_SIZE, ff, sizeof(ff), "pin 2 bytes");
	T_STREQ(t, c.tls_server_name, "mx.example.net", "server name");
	T_OK(t, c.auth == (CONF_AUTH_LOGIN | CONF_AUTH_CRAM_MD5), "auth set");
	T_STREQ(t, c.user, "bob@example.com", "user value");
	T_STREQ(t, c.password, TPASS, "password trimmed, inner space kept");
	T_OK(t, c.has_password, "has_password");
	T_STREQ(t, c.password_file, "pw", "password_file as written");
	T_STREQ(t, c.authinfo, "/etc/mail/authinfo", "authinfo value");
	T_STREQ(t, c.helo, "[IPv6:::1]", "helo kept as written");
	T_OK(t, c.timeout == 3600, "timeout value");

	conf_init(&c);
	T_OK(t, c.max_queue_age == 5 * 86400 && c.nretry == 5 &&
	    c.retry[0] == 300 && c.retry[4] == 3600 &&
	    strcmp(c.spool, SPOOLDIR) == 0, "queue defaults");
	rc = parse(&c, "retry 5m 15m  1h\nmax_queue_age 2h\nspool /q\n", &e);
	T_OK(t, rc == 0 && c.nretry == 3 && c.retry[0] == 300 &&
	    c.retry[1] == 900 && c.retry[2] == 3600, "retry values");
	T_OK(t, c.max_queue_age == 7200, "max_queue_age value");
	T_STREQ(t, c.spool, "/q", "spool value");
	conf_init(&c);
	T_OK(t, c.bounce_window == 600 && c.failed_max_age == 30 * 86400 &&
	    c.failed_max_count == 1000, "bounce and failed/ defaults");
	rc = parse(&c, "bounce_window 1m\nfailed_max_age 2d\n"
	    "failed_max_count 7\n", &e);
	T_OK(t, rc == 0 && c.bounce_window == 60 &&
	    c.failed_max_age == 2 * 86400 && c.failed_max_count == 7,
	    "bounce and failed/ values");
	conf_init(&c);
	T_OK(t, c.max_messages_per_session == 100 && c.send_rate == 0 &&
	    c.quota_defer == 1, "limit defaults");
	rc = parse(&c, "max_messages_per_session 0\nsend_rate 30\n"
	    "quota_replies bounce\n", &e);
	T_OK(t, rc == 0 && c.max_messages_per_session == 0 &&
	    c.send_rate == 30 && c.quota_defer == 0, "limit values");

	rc = parse(&c, "auth plain login\nauth cram-md5\n", &e);
	T_OK(t, rc == 0 && c.auth == CONF_AUTH_CRAM_MD5, "auth replaces");
	rc = parse(&c, "smarthost [192.0.2.9]\n", &e);
	T_STREQ(t, c.smarthost, "192.0.2.9", "[IPv4] stored bare");

	conf_wipe(&c);
	rc = parse(&c, "password " TPASS "\n", &e);
	conf_wipe(&c);
	T_OK(t, c.password[0] == '\0' && !c.has_password, "conf_wipe");

	conf_init(&c);
	rc = conf_parse(&c, "port 25\0timeout 5\n", 18, "t.conf", &e);
	check_err(t, rc, &e, "t.conf:1: NUL byte", "NUL byte refused");
}

/* Build "key <fill...>" of exactly len bytes into buf. */
static void
fill_line(char *buf, size_t size, const char *key, int ch, size_t len,
    const char *end)
{
	size_t	klen = strlen(key);

	memcpy(buf, key, klen);
	memset(buf + klen, ch, len - klen);
	snprintf(buf + len, size - len, "%s", end);
}

/* Host of `len` bytes: 63-byte labels, the first one shortened. */
static void
fill_host(char *buf, size_t len)
{
	size_t	i, label = 0;

	for (i = len; i-- > 0; ) {
		buf[i] = label == 63 ? '.' : 'a';
		label = label == 63 ? 0 : label + 1;
	}
	buf[len] = '\0';
}

static void
test_limits(struct t *t)
{
	static char	text[CONF_LINE_SIZE + 64];
	char		host[CONF_HOST_SIZE + 8];
	struct conf	c;
	struct ferr	e;
	size_t		i;
	int		rc;

	fill_host(host, 255);
	snprintf(text, sizeof(text), "smarthost %s\n", host);
	rc = parse(&c, text, &e);
	T_OK(t, rc == 0 && strlen(c.smarthost) == 255, "host of 255 bytes");
	fill_host(host, 256);
	snprintf(text, sizeof(text), "smarthost %s\n", host);
	check_err(t, parse(&c, text, &e), &e, "longer than 255 bytes",
	    "host of 256 bytes");
	fill_host(host, 255);
	snprintf(text, sizeof(text), "helo %s\n", host);
	T_OK(t, parse(&c, text, &e) == 0, "helo of 255 bytes");

	/* the line limit counts neither "\n" nor a CRLF's "\r" */
	fill_line(text, sizeof(text), "#", 'x', CONF_LINE_SIZE, "\r\n");
	T_OK(t, parse(&c, text, &e) == 0, "line of 2048 bytes");
	fill_line(text, sizeof(text), "#", 'x', CONF_LINE_SIZE + 1, "\n");
	check_err(t, parse(&c, text, &e), &e,
	    "t.conf:1: line longer than 2048 bytes", "line of 2049 bytes");
	fill_line(text, sizeof(text), "password ", 'p', CONF_LINE_SIZE + 1,
	    "");
	check_err(t, parse(&c, text, &e), &e, "line longer",
	    "last line of 2049 bytes");
	T_OK(t, strstr(e.text, "ppp") == NULL, "long password line not shown");

	fill_line(text, sizeof(text), "user ", 'u', 5 + 255, "\n");
	T_OK(t, parse(&c, text, &e) == 0 && strlen(c.user) == 255,
	    "user of 255 bytes");
	fill_line(text, sizeof(text), "user ", 'u', 5 + 256, "\n");
	check_err(t, parse(&c, text, &e), &e, "bad value for user",
	    "user of 256 bytes");
	fill_line(text, sizeof(text), "password ", 'p', 9 + 511, "\n");
	T_OK(t, parse(&c, text, &e) == 0 && strlen(c.password) == 511,
	    "password of 511 bytes");
	fill_line(text, sizeof(text), "password ", 'p', 9 + 512, "\n");
	check_err(t, parse(&c, text, &e), &e,
	    "t.conf:1: bad value for password (longer than 511 bytes)",
	    "password of 512 bytes");
	T_OK(t, strstr(e.text, "ppp") == NULL, "long password not shown");
	fill_line(text, sizeof(text), "tls_ca_file ", 'f', 12 + 1023, "\n");
	T_OK(t, parse(&c, text, &e) == 0, "path of 1023 bytes");
	fill_line(text, sizeof(text), "tls_ca_file ", 'f', 12 + 1024, "\n");
	check_err(t, parse(&c, text, &e), &e, "longer than 1023 bytes",
	    "path of 1024 bytes");

	text[0] = '\0';
	for (i = 0; i < CONF_PINS_MAX; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
		    "tls_pin sha256:%s\n", PIN32);
	rc = parse(&c, text, &e);
	T_OK(t, rc == 0 && c.npins == CONF_PINS_MAX, "8 pins");
	snprintf(text + strlen(text), sizeof(text) - strlen(text),
	    "tls_pin sha256:%s\n", PIN32);
	check_err(t, parse(&c, text, &e), &e,
	    "t.conf:9: bad value for tls_pin", "9th pin");
	T_OK(t, strstr(e.text, "more than 8 tls_pin lines") != NULL,
	    "9th pin reason");
}

static const struct conf_case finish_cases[] = {
	{ "no smarthost", "port 25", "config: no smarthost set" },
	{ "tls none to 127.0.0.1", "smarthost 127.0.0.1\ntls none", NULL },
	{ "tls none to 127.8.9.10", "smarthost 127.8.9.10\ntls none", NULL },
	{ "tls none to localhost", "smarthost LocalHost\ntls none", NULL },
	{ "tls none to ::1", "smarthost ::1\ntls none", NULL },
	{ "tls none to [::1]", "smarthost [::1]\ntls none", NULL },
	{ "tls none to [127.0.0.1]", "smarthost [127.0.0.1]\ntls none", NULL },
	{ "tls none to example.com", "smarthost example.com\ntls none",
	    "config: tls none is only allowed to a loopback smarthost "
	    "(got example.com)" },
	{ "tls none to 128.0.0.1", "smarthost 128.0.0.1\ntls none",
	    "only allowed to a loopback" },
	{ "tls none to ::2", "smarthost ::2\ntls none",
	    "only allowed to a loopback" },
	{ "tls none to localhost.example.com",
	    "smarthost localhost.example.com\ntls none",
	    "only allowed to a loopback" },
	{ "user without password", "smarthost a.example\nuser bob",
	    "user bob has no password" },
	{ "password without user", "smarthost a.example\npassword " TPASS,
	    "a password is set but no user" },
	{ "user and password", "smarthost a.example\nuser bob\npassword "
	    TPASS, NULL },
	{ "no anchors at all", "smarthost a.example\ntls_builtin_ca no",
	    "tls_builtin_ca no needs tls_ca_file or tls_pin" },
	{ "own CA file", "smarthost a.example\ntls_builtin_ca no\n"
	    "tls_ca_file /etc/ca.pem", NULL },
	{ "pin only", "smarthost a.example\ntls_builtin_ca no\n"
	    "tls_pin sha256:" PIN32, NULL },
};

static void
test_finish(struct t *t)
{
	static const struct {
		const char	*text;
		unsigned	 port;
	} ports[] = {
		{ "smarthost a.example", 465 },
		{ "smarthost a.example\ntls implicit", 465 },
		{ "smarthost a.example\ntls starttls", 587 },
		{ "smarthost 127.0.0.1\ntls none", 25 },
		{ "smarthost a.example\ntls starttls\nport 2525", 2525 },
		{ "port 2525\nsmarthost a.example\ntls starttls", 2525 },
	};
	struct conf	c;
	struct ferr	e;
	size_t		i;

	run_cases(t, finish_cases, sizeof(finish_cases) /
	    sizeof(finish_cases[0]), 1);
	for (i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		T_OK(t, parse(&c, ports[i].text, &e) == 0 &&
		    conf_finish(&c, &e) == 0 && c.port == ports[i].port,
		    ports[i].text);
	}
	/* the header allows a bracketed smarthost set by other means */
	conf_init(&c);
	snprintf(c.smarthost, sizeof(c.smarthost), "[::1]");
	c.tls = CONF_TLS_NONE;
	T_OK(t, conf_finish(&c, &e) == 0, "tls none to raw [::1]");
	snprintf(c.path, sizeof(c.path), "/etc/ferry.conf");
	snprintf(c.smarthost, sizeof(c.smarthost), "smtp.example.com");
	check_err(t, conf_finish(&c, &e), &e, "/etc/ferry.conf: tls none is "
	    "only allowed to a loopback smarthost (got smtp.example.com)",
	    "message names the file");
}

struct ai_case {
	const char	*what;
	const char	*smarthost;
	const char	*text;
	const char	*err;		/* NULL: must parse */
	const char	*user;		/* expected; "" = none set */
	const char	*pass;		/* expected; NULL = none set */
	unsigned	 auth;
};

#define ALL	CONF_AUTH_ALL
#define PL	CONF_AUTH_PLAIN
#define LO	CONF_AUTH_LOGIN
#define CR	CONF_AUTH_CRAM_MD5

static const struct ai_case ai_cases[] = {
	{ "exact host", "smtp.example.com",
	    "AuthInfo:smtp.example.com \"U:alice\" \"I:x\" \"P:" TPASS "\" "
	    "\"M:LOGIN PLAIN\" \"R:example.com\"\n",
	    NULL, "alice", TPASS, LO | PL },
	{ "host without case", "smtp.example.com",
	    "AuthInfo:SMTP.Example.COM \"U:alice\" \"P:pw\"\n",
	    NULL, "alice", "pw", ALL },
	{ "exact beats fallback", "smtp.example.com",
	    "AuthInfo: \"U:fb\" \"P:fbpw\"\n"
	    "AuthInfo:other.example \"U:o\" \"P:opw\"\n"
	    "AuthInfo:smtp.example.com \"U:alice\" \"P:pw\"\n",
	    NULL, "alice", "pw", ALL },
	{ "first exact wins", "smtp.example.com",
	    "AuthInfo:smtp.example.com \"U:one\" \"P:pw1\"\n"
	    "AuthInfo:smtp.example.com \"U:two\" \"P:pw2\"\n",
	    NULL, "one", "pw1", ALL },
	{ "fallback", "smtp.example.com",
	    "AuthInfo:other.example \"U:o\" \"P:opw\"\n"
	    "AuthInfo: \"U:fb\" \"P:fbpw\"\n",
	    NULL, "fb", "fbpw", ALL },
	{ "first fallback wins", "smtp.example.com",
	    "AuthInfo: \"U:fb1\" \"P:pw1\"\n"
	    "AuthInfo: \"U:fb2\" \"P:pw2\"\n",
	    NULL, "fb1", "pw1", ALL },
	{ "bare AuthInfo: fallback", "smtp.example.com",
	    "AuthInfo:\t\"U:fb\"\t\"P:fbpw\"\n",
	    NULL, "fb", "fbpw", ALL },
	{ "no match", "smtp.example.com",
	    "AuthInfo:other.example \"U:o\" \"P:opw\" \"M:GSSAPI\"\n",
	    NULL, "", NULL, ALL },
	{ "empty file", "smtp.example.com", "", NULL, "", NULL, ALL },
	{ "[IPv4] entry", "192.0.2.1",
	    "AuthInfo:[192.0.2.1] \"U:ip\" \"P:pw\"\n",
	    NULL, "ip", "pw", ALL },
	{ "IPv4 entry", "192.0.2.1",
	    "AuthInfo:192.0.2.1 \"U:ip\" \"P:pw\"\n",
	    NULL, "ip", "pw", ALL },
	{ "P= base64", "smtp.example.com",
	    "AuthInfo:smtp.example.com \"U:alice\" \"P=" TPASS_B64 "\"\n",
	    NULL, "alice", TPASS, ALL },
	{ "I: when no U:", "smtp.example.com",
	    "AuthInfo:smtp.example.com \"I:authid\" \"P:pw\"\n",
	    NULL, "authid", "pw", ALL },
	{ "M: CRAM-MD5 among others", "smtp.example.com",
	    "AuthInfo:smtp.example.com \"U:a\" \"P:pw\" "
	    "\"M:DIGEST-MD5 cram-md5 GSSAPI\"\n",
	    NULL, "a", "pw", CR },
	{ "M: none supported", "smtp.example.com",
	    "\n\nAuthInfo:smtp.example.com \"U:a\" \"P:" TPASS "\" "
	    "\"M:DIGEST-MD5 GSSAPI\"\n",
	    "authinfo:3: no supported mechanism in M:", NULL, NULL, 0 },
	{ "unquoted fields", "smtp.example.com",
	    "AuthInfo:smtp.example.com U:bob P:pw M:LOGIN\n",
	    NULL, "bob", "pw", LO },
	{ "comments, CRLF, other tags", "smtp.example.com",
	    "# sendmail authinfo\r\n\r\nConnect:10 RELAY\r\n"
	    "AuthInfo:smtp.example.com \"U:bob\" \"P:" TPASS "\"\r\n",
	    NULL, "bob", TPASS, ALL },
	{ "unterminated quote", "smtp.example.com",
	    "AuthInfo:smtp.example.com \"U:bob\" \"P:" TPASS "\n",
	    "authinfo:1: bad quoting", NULL, NULL, 0 },
	{ "text after quote", "smtp.example.com",
	    "AuthInfo:smtp.example.com \"P:" TPASS "\"x\n",
	    "bad quoting", NULL, NULL, 0 },
	{ "unknown field", "smtp.example.com",
	    "AuthInfo:smtp.example.com \"X:" TPASS "\"\n",
	    "unknown field X:", NULL, NULL, 0 },
	{ "field without tag", "smtp.example.com",
	    "AuthInfo:smtp.example.com \"U:bob\" " TPASS "\n",
	    "authinfo:1: bad field", NULL, NULL, 0 },
	{ "U=", "smtp.example.com",
	    "AuthInfo:smtp.example.com \"U=Ym9i\"\n",
	    "'=' is only for P=", NULL, NULL, 0 },
	{ "P= not base64", "smtp.example.com",
	    "AuthInfo:smtp.example.com \"P=" TPASS "\"\n",
	    "P= is not base64", NULL, NULL, 0 },
	{ "empty P:", "smtp.example.com",
	    "AuthInfo:smtp.example.com \"U:bob\" \"P:\"\n",
	    "empty password in P:", NULL, NULL, 0 },
	{ "bad line of other host", "smtp.example.com",
	    "AuthInfo:other.example \"P:" TPASS "\n",
	    "bad quoting", NULL, NULL, 0 },
};

static void
test_authinfo(struct t *t)
{
	struct conf	c;
	struct ferr	e;
	size_t		i;
	int		rc;

	for (i = 0; i < sizeof(ai_cases) / sizeof(ai_cases[0]); i++) {
		const struct ai_case *k = &ai_cases[i];

		conf_init(&c);
		ferr_clear(&e);
		snprintf(c.smarthost, sizeof(c.smarthost), "%s", k->smarthost);
		rc = conf_parse_authinfo(&c, k->text, strlen(k->text),
		    "authinfo", &e);
		if (k->err != NULL) {
			check_err(t, rc, &e, k->err, k->what);
			continue;
		}
		T_OK(t, rc == 0, k->what);
		if (rc != 0)
			fprintf(stderr, "  got: %s\n", e.text);
		T_STREQ(t, c.user, k->user, k->what);
		T_OK(t, k->pass == NULL ? !c.has_password :
		    c.has_password && strcmp(c.password, k->pass) == 0,
		    k->what);
		T_OK(t, c.auth == k->auth, k->what);
	}
}

/* A file dir/name holding text with the given mode; its path to buf. */
static int
put_file(char *buf, size_t size, const char *dir, const char *name,
    const char *text, size_t len, mode_t mode)
{
	int	fd, n;

	n = snprintf(buf, size, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= size)
		return -1;
	fd = open(buf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd == -1)
		return -1;
	if (write(fd, text, len) != (ssize_t)len || fchmod(fd, mode) == -1) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static int
put(char *buf, size_t size, const char *dir, const char *name,
    const char *text, mode_t mode)
{
	return put_file(buf, size, dir, name, text, strlen(text), mode);
}

static int
load(struct conf *c, const char *path, struct ferr *e)
{
	conf_init(c);
	ferr_clear(e);
	return conf_load(c, path, e);
}

/* What conf_password reads for c: 0 and the password, or -1 and e. */
static int
pw_read(const struct conf *c, char *buf, size_t size, struct ferr *e)
{
	ferr_clear(e);
	return conf_password(c, buf, size, e);
}

static int
pw_is(const struct conf *c, const char *want)
{
	char		buf[CONF_PASS_SIZE];
	struct ferr	e;

	return pw_read(c, buf, sizeof(buf), &e) == 0 &&
	    strcmp(buf, want) == 0;
}

static void
test_load(struct t *t)
{
	char		 dir[] = "/tmp/ferry-conf-XXXXXX";
	char		 cf[256], pw[256], ai[256], want[1024], *big;
	char		 got[CONF_PASS_SIZE];
	struct conf	 c;
	struct ferr	 e;
	size_t		 i;
	int		 rc;
	static const char *names[] = { "ferry.conf", "pw", "authinfo",
		"big.conf", "sub" };

	if (mkdtemp(dir) == NULL) {
		T_OK(t, 0, "mkdtemp");
		return;
	}

	T_OK(t, put(cf, sizeof(cf), dir, "ferry.conf", "smarthost "
	    "smtp.example.com\nuser bob\npassword " TPASS "\n", 0600) == 0,
	    "write config");
	rc = load(&c, cf, &e);
	T_OK(t, rc == 0 && c.has_password && c.password[0] == '\0' &&
	    pw_is(&c, TPASS) && c.port == 465,
	    "config 0600 with password: read again for AUTH, not kept");
	T_STREQ(t, c.path, cf, "path kept");
	conf_wipe(&c);

	chmod(cf, 0640);
	T_OK(t, load(&c, cf, &e) == 0, "config 0640 with password");

	chmod(cf, 0644);
	rc = load(&c, cf, &e);
	snprintf(want, sizeof(want), "%s: holds a password but is readable "
	    "by others (mode 0644); chmod o-r %s", cf, cf);
	check_err(t, rc, &e, want, "config 0644 with password");
	T_OK(t, c.password[0] == '\0' && !c.has_password,
	    "password wiped after failure");

	T_OK(t, put(cf, sizeof(cf), dir, "ferry.conf", "smarthost "
	    "smtp.example.com\ntls starttls\nuser bob\n", 0644) == 0,
	    "write config");
	T_OK(t, load(&c, cf, &e) == -1, "user without password file");

	/* relative to the config's folder, not the cwd */
	T_OK(t, put(cf, sizeof(cf), dir, "ferry.conf", "smarthost "
	    "smtp.example.com\nuser bob\npassword_file pw\n"
	    "tls_ca_file ca.pem\n", 0644) == 0, "write config");
	T_OK(t, put(pw, sizeof(pw), dir, "pw", TPASS "\r\nsecond line\n",
	    0600) == 0, "write pw");
	rc = load(&c, cf, &e);
	T_OK(t, rc == 0 && c.has_password && c.password[0] == '\0' &&
	    pw_is(&c, TPASS), "relative password_file, CRLF stripped");
	T_STREQ(t, c.password_file, pw, "password_file resolved");
	snprintf(want, sizeof(want), "%s/ca.pem", dir);
	T_STREQ(t, c.tls_ca_file, want, "tls_ca_file resolved");

	chmod(pw, 0604);
	snprintf(want, sizeof(want), "%s: holds a password but is readable "
	    "by others (mode 0604); chmod o-r %s", pw, pw);
	/* password_file is read for AUTH only: its faults show then */
	T_OK(t, load(&c, cf, &e) == 0, "password_file 0604: not read yet");
	check_err(t, pw_read(&c, got, sizeof(got), &e), &e, want,
	    "password_file 0604");
	T_OK(t, got[0] == '\0', "password_file 0604: nothing returned");

	T_OK(t, put(pw, sizeof(pw), dir, "pw", TPASS, 0400) == 0, "write pw");
	T_OK(t, load(&c, cf, &e) == 0 && pw_is(&c, TPASS),
	    "password_file without newline");
	T_OK(t, put(pw, sizeof(pw), dir, "pw", "\n" TPASS "\n", 0600) == 0,
	    "write pw");
	check_err(t, pw_read(&c, got, sizeof(got), &e), &e,
	    "first line is empty", "password_file empty first line");
	T_OK(t, put(pw, sizeof(pw), dir, "pw", "", 0600) == 0, "write pw");
	check_err(t, pw_read(&c, got, sizeof(got), &e), &e,
	    "first line is empty", "password_file empty");
	unlink(pw);
	snprintf(want, sizeof(want), "%s: No such file or directory", pw);
	T_OK(t, load(&c, cf, &e) == 0, "password_file missing: not read yet");
	check_err(t, pw_read(&c, got, sizeof(got), &e), &e, want,
	    "password_file missing");

	T_OK(t, put(pw, sizeof(pw), dir, "pw", TPASS "\n", 0600) == 0,
	    "write pw");
	T_OK(t, put(cf, sizeof(cf), dir, "ferry.conf", "smarthost "
	    "smtp.example.com\nuser bob\npassword_file pw\npassword "
	    TPASS "\n", 0600) == 0, "write config");
	check_err(t, load(&c, cf, &e), &e, "password and password_file are "
	    "both set", "password and password_file");

	T_OK(t, put(cf, sizeof(cf), dir, "ferry.conf", "smarthost "
	    "smtp.example.com\nauthinfo authinfo\n", 0644) == 0,
	    "write config");
	T_OK(t, put(ai, sizeof(ai), dir, "authinfo", "AuthInfo:smtp.example"
	    ".com \"U:alice\" \"P:" TPASS "\" \"M:PLAIN\"\n", 0600) == 0,
	    "write authinfo");
	rc = load(&c, cf, &e);
	T_OK(t, rc == 0 && strcmp(c.user, "alice") == 0 &&
	    c.password[0] == '\0' && pw_is(&c, TPASS) &&
	    c.auth == CONF_AUTH_PLAIN, "relative authinfo");
	chmod(ai, 0644);
	snprintf(want, sizeof(want), "%s: holds a password but is readable "
	    "by others (mode 0644); chmod o-r %s", ai, ai);
	check_err(t, load(&c, cf, &e), &e, want, "authinfo 0644");
	T_OK(t, put(ai, sizeof(ai), dir, "authinfo", "AuthInfo:smtp.example"
	    ".com \"U:alice\" \"P:" TPASS "\"\nAuthInfo:x junk\n", 0600) == 0,
	    "write authinfo");
	snprintf(want, sizeof(want), "%s/authinfo:2: bad field", dir);
	check_err(t, load(&c, cf, &e), &e, want, "authinfo error names file");
	T_OK(t, put(cf, sizeof(cf), dir, "ferry.conf", "smarthost "
	    "smtp.example.com\nauthinfo authinfo\npassword " TPASS "\n"
	    "user bob\n", 0600) == 0, "write config");
	check_err(t, load(&c, cf, &e), &e, "authinfo cannot be combined",
	    "authinfo and password");

	T_OK(t, put(cf, sizeof(cf), dir, "ferry.conf", "smarthost "
	    "smtp.example.com\n\nport x\n", 0644) == 0, "write config");
	snprintf(want, sizeof(want), "%s:3: bad value for port", cf);
	check_err(t, load(&c, cf, &e), &e, want, "parse error names file");

	snprintf(want, sizeof(want), "%s/nope.conf", dir);
	check_err(t, load(&c, want, &e), &e, "nope.conf: No such file or "
	    "directory", "missing config");
	T_OK(t, e.err == ENOENT, "missing config errno");

	snprintf(want, sizeof(want), "%s/sub", dir);
	mkdir(want, 0700);
	check_err(t, load(&c, want, &e), &e, "sub: not a regular file",
	    "directory as config");

	/* exactly CONF_FILE_SIZE bytes loads; one more does not */
	if ((big = malloc(CONF_FILE_SIZE + 1)) == NULL) {
		T_OK(t, 0, "malloc");
		goto out;
	}
	memset(big, '#', CONF_FILE_SIZE + 1);
	for (i = 1000; i < CONF_FILE_SIZE; i += 1000)
		big[i] = '\n';
	memcpy(big, "smarthost a.example\n", 20);
	T_OK(t, put_file(cf, sizeof(cf), dir, "big.conf", big,
	    CONF_FILE_SIZE, 0644) == 0, "write big");
	T_OK(t, load(&c, cf, &e) == 0, "config of 65536 bytes");
	T_OK(t, put_file(cf, sizeof(cf), dir, "big.conf", big,
	    CONF_FILE_SIZE + 1, 0644) == 0, "write big");
	check_err(t, load(&c, cf, &e), &e, "larger than 65536 bytes",
	    "config of 65537 bytes");
	free(big);
out:
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(want, sizeof(want), "%s/%s", dir, names[i]);
		if (unlink(want) == -1)
			rmdir(want);
	}
	rmdir(dir);
}

/* FERRY_* variables: every key, one line each, no password. */
static void
test_env(struct t *t)
{
	static const char pin[] =
	    "sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
	char		 pins[128];
	char		*good[] = { "PATH=/bin", "FERRY_SMARTHOST=smtp.example.com",
	    "FERRY_TLS=starttls", "FERRY_USER=u@example.com",
	    "FERRY_PASSWORD_FILE=/run/secrets/smtp", "FERRY_HELO=",
	    "FERRY_ROOT=/src", "FERRY_MAX_QUEUE_AGE=2d", pins, NULL };
	char		*pw[] = { "FERRY_SMARTHOST=a.example",
	    "FERRY_PASSWORD=hunter2", NULL };
	char		*nl[] = { "FERRY_SMARTHOST=a.example",
	    "FERRY_FROM=a@b\nsmarthost evil.example", NULL };
	char		*bad[] = { "FERRY_SMARTHOST=a.example",
	    "FERRY_PORT=70000", NULL };
	char		*none[] = { "PATH=/bin", NULL };
	struct conf	 c;
	struct ferr	 e;

	snprintf(pins, sizeof(pins), "FERRY_TLS_PIN=%s  %s", pin, pin);
	conf_init(&c);
	T_OK(t, conf_load_env(&c, good, &e) == 0, "env: loads");
	T_STREQ(t, c.smarthost, "smtp.example.com", "env: smarthost");
	T_OK(t, c.tls == CONF_TLS_STARTTLS && c.port == 587,
	    "env: tls, port by default");
	T_STREQ(t, c.password_file, "/run/secrets/smtp", "env: password file");
	T_OK(t, c.has_password && c.max_queue_age == 2 * 86400 &&
	    c.npins == 2 && c.helo[0] == '\0', "env: the rest; empty ignored");
	T_STREQ(t, c.path, "environment", "env: named in messages");
	conf_init(&c);
	check_err(t, conf_load_env(&c, pw, &e), &e, "FERRY_PASSWORD_FILE",
	    "env: FERRY_PASSWORD refused");
	T_OK(t, strstr(e.text, "hunter2") == NULL, "env: password not shown");
	conf_init(&c);
	check_err(t, conf_load_env(&c, nl, &e), &e, "FERRY_FROM: line break",
	    "env: a newline adds no key");
	conf_init(&c);
	check_err(t, conf_load_env(&c, bad, &e), &e, "FERRY_PORT",
	    "env: a bad value names its variable");
	conf_init(&c);
	check_err(t, conf_load_env(&c, none, &e), &e, "smarthost",
	    "env: none set: no smarthost");
}

/* issue 26: smart host blocks, in a file and in the environment */
static void
test_hosts(struct t *t)
{
	char		 dir[] = "/tmp/ferry-hosts-XXXXXX";
	char		 cf[256], pw2[256], got[CONF_PASS_SIZE];
	char		*env[] = { "FERRY_SMARTHOST=a.example",
	    "FERRY_USER=ua", "FERRY_PASSWORD_FILE=/run/a",
	    "FERRY_SMARTHOST_2=b.example", "FERRY_TLS_2=starttls",
	    "FERRY_USER_2=ub", "FERRY_PASSWORD_FILE_2=/run/b",
	    "FERRY_TIMEOUT_2=5", "FERRY_FAILOVER_HOLD=1m", NULL };
	char		*envpw[] = { "FERRY_SMARTHOST=a.example",
	    "FERRY_SMARTHOST_2=b.example", "FERRY_PASSWORD_2=hunter2", NULL };
	struct conf	 c;
	struct ferr	 e;
	int		 rc;

	rc = parse(&c, "tls starttls\nsmarthost a.example\nuser ua\n"
	    "password pa\ntimeout 9\nsmarthost b.example\nport 2465\n"
	    "failover_hold 2s\n", &e);
	T_OK(t, rc == 0 && conf_finish(&c, &e) == 0, "two hosts: finish");
	T_OK(t, c.nhosts == 2 && c.host == 0, "two hosts: counted");
	T_STREQ(t, c.smarthost, "a.example", "two hosts: the first in use");
	T_OK(t, c.tls == CONF_TLS_STARTTLS && c.port == 587 &&
	    strcmp(c.user, "ua") == 0, "keys before the first belong to it");
	T_OK(t, c.timeout == 9 && c.failover_hold == 2,
	    "global keys anywhere");
	conf_pick(&c, 1);
	T_STREQ(t, c.smarthost, "b.example", "pick: the second");
	T_OK(t, c.host == 1 && c.port == 2465 && c.tls == CONF_TLS_IMPLICIT &&
	    c.user[0] == '\0' && !c.has_password && c.auth == CONF_AUTH_ALL,
	    "a second block inherits nothing (no credential moves)");
	conf_pick(&c, 0);
	T_OK(t, c.has_password && strcmp(c.user, "ua") == 0, "pick: back");

	rc = parse(&c, "smarthost a\nsmarthost b\nsmarthost c\n"
	    "smarthost d\n", &e);
	T_OK(t, rc == 0 && conf_finish(&c, &e) == 0 && c.nhosts == 4,
	    "four hosts");
	rc = parse(&c, "smarthost a\nsmarthost b\nsmarthost c\n"
	    "smarthost d\nsmarthost e\n", &e);
	check_err(t, rc, &e, "more than 4 smart hosts", "a fifth host");
	rc = parse(&c, "smarthost a.example\nsmarthost b.example\n"
	    "user ub\n", &e);
	check_err(t, rc == 0 ? conf_finish(&c, &e) : rc, &e,
	    "user ub has no password", "each block is checked");
	rc = parse(&c, "smarthost a.example\nfailover_hold 0\n", &e);
	T_OK(t, rc == 0 && c.failover_hold == 0, "failover_hold 0");
	rc = parse(&c, "failover_hold 8d\n", &e);
	check_err(t, rc, &e, "failover_hold", "failover_hold too long");
	conf_init(&c);
	T_OK(t, c.failover_hold == 300, "failover_hold: 5m by default");

	/* each host's own password, read for it alone */
	if (mkdtemp(dir) == NULL) {
		T_OK(t, 0, "mkdtemp");
		return;
	}
	T_OK(t, put(pw2, sizeof(pw2), dir, "pw2", "Tr0ub4dor-two\n",
	    0600) == 0, "write pw2");
	snprintf(got, sizeof(got), "smarthost a.example\nuser ua\n"
	    "password " TPASS "\nsmarthost b.example\nuser ub\n"
	    "password_file %s\nsmarthost c.example\nuser uc\n"
	    "password s3cret-three\n", pw2);
	T_OK(t, put(cf, sizeof(cf), dir, "ferry.conf", got, 0600) == 0,
	    "write config");
	rc = load(&c, cf, &e);
	T_OK(t, rc == 0 && c.nhosts == 3, "load: three hosts");
	T_OK(t, c.hosts[0].password[0] == '\0' &&
	    c.hosts[2].password[0] == '\0', "load: no password kept");
	T_OK(t, conf_secret(&c, 0, got, sizeof(got), &e) == 0 &&
	    strcmp(got, TPASS) == 0, "secret of host 1: its password line");
	T_OK(t, conf_secret(&c, 1, got, sizeof(got), &e) == 0 &&
	    strcmp(got, "Tr0ub4dor-two") == 0, "secret of host 2: its file");
	T_OK(t, conf_secret(&c, 2, got, sizeof(got), &e) == 0 &&
	    strcmp(got, "s3cret-three") == 0, "secret of host 3: its line");
	conf_pick(&c, 2);
	T_OK(t, pw_is(&c, "s3cret-three"), "conf_password: the host's own");
	unlink(cf);
	unlink(pw2);
	rmdir(dir);

	conf_init(&c);
	T_OK(t, conf_load_env(&c, env, &e) == 0, "env: two hosts load");
	T_OK(t, c.nhosts == 2 && strcmp(c.hosts[1].smarthost, "b.example") ==
	    0 && c.hosts[1].port == 587 && strcmp(c.hosts[1].user, "ub") == 0 &&
	    strcmp(c.hosts[1].password_file, "/run/b") == 0,
	    "env: FERRY_*_2 keys are the second host's");
	T_OK(t, c.timeout == 60 && c.failover_hold == 60,
	    "env: a global key takes no suffix");
	conf_init(&c);
	check_err(t, conf_load_env(&c, envpw, &e), &e, "FERRY_PASSWORD_FILE_2",
	    "env: FERRY_PASSWORD_2 refused");
}

void
conf_test(struct t *t)
{
	run_cases(t, parse_cases, sizeof(parse_cases) /
	    sizeof(parse_cases[0]), 0);
	test_values(t);
	test_limits(t);
	test_finish(t);
	test_authinfo(t);
	test_load(t);
	test_env(t);
	test_hosts(t);
}
