#include <sys/stat.h>
#include <sys/wait.h>
#include <poll.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include <tomcrypt.h>

#include "alias.h"
#include "anchors.h"
#include "cli.h"
#include "conf.h"
#include "ferr.h"
#include "local.h"
#include "log.h"
#include "msg.h"
#include "plat.h"
#include "queue.h"
#include "relay.h"
#include "report.h"
#include "serve.h"
#include "spool.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/etc"
#endif
#ifndef FERRY_VERSION
#define FERRY_VERSION	"0.0"
#endif
#ifndef BEARSSL_VERSION
#define BEARSSL_VERSION	"?"
#endif

enum mode {
	MODE_SEND, MODE_MAILQ, MODE_RUN, MODE_VERSION, MODE_VERIFY,
	MODE_NEWALIASES, MODE_SERVE, MODE_HOSTSTAT, MODE_CHECK
};
/*
 * DELIVER_WAIT, the default: deliver, waiting at most HANDOFF_MS for
 * the outcome before a detached child carries on (see handoff()).
 */
enum deliver { DELIVER_WAIT, DELIVER_NOW, DELIVER_BACKGROUND, DELIVER_QUEUE };

struct opts {
	enum mode	 mode;
	enum deliver	 deliver;
	const char	*conf;
	int		 conf_given;
	char		 from[MSG_ADDR_SIZE];	/* -f, if from_given */
	int		 from_given;
	const char	*full_name;	/* -F */
	char		 dsn_notify[32];	/* -N */
	char		 dsn_ret[8];		/* -R */
	const char	*dsn_envid;		/* -V */
	const char	*log_tag;	/* -L */
	int		 verbose;
	int		 print_errors;	/* -oep */
	int		 body8;		/* -B8BITMIME */
	unsigned	 interval;	/* -q30m: run every 30 minutes */
	struct msg_opts	 msg;
	char		**rcpts;
	int		 nrcpts;
	int		 bad_syntax;	/* an unknown option: show usage */
	int		 json;		/* -bpj, mailq -j */
	struct report_limits limits;	/* -bc's -w and -c */
};

static void
usage(void)
{
	fprintf(stderr, "usage: ferry [-Gintv] [-B type] [-C conf] [-F name] "
	    "[-f sender] [-L tag]\n"
	    "             [-N dsn] [-O opt=val] [-od{i,b,q}] [-oe{p,m}] "
	    "[-R ret] [-V envid] [--] recipient ...\n"
	    "       ferry [-v] [-C conf] -q[interval]\n"
	    "       ferry [-C conf] -bp[j] | mailq [-j]\n"
	    "       ferry [-C conf] -bc [-w limits] [-c limits]\n"
	    "       ferry [-v] [-C conf] -bv\n"
	    "       ferry -V\n");
}

/* "30m", "1h", "90": seconds; 0 on a bad value. */
static unsigned
interval_parse(const char *s)
{
	unsigned long	n = 0;
	char		*end;

	n = strtoul(s, &end, 10);
	if (end == s || n == 0 || n > 7 * 86400)
		return 0;
	switch (*end) {
	case '\0':
	case 's':
		break;
	case 'm':
		n *= 60;
		break;
	case 'h':
		n *= 3600;
		break;
	case 'd':
		n *= 86400;
		break;
	default:
		return 0;
	}
	if (*end != '\0' && end[1] != '\0')
		return 0;
	return n > 7 * 86400 ? 0 : (unsigned)n;
}

/* sendmail's -o options: the ones that mean something here. */
static void
o_option(struct opts *o, const char *v)
{
	if (strcmp(v, "i") == 0)
		o->msg.dot_ends = 0;
	else if (strcmp(v, "db") == 0)
		o->deliver = DELIVER_BACKGROUND;
	else if (strcmp(v, "dq") == 0)
		o->deliver = DELIVER_QUEUE;
	else if (strcmp(v, "di") == 0)
		o->deliver = DELIVER_NOW;
	else if (strcmp(v, "ep") == 0)
		o->print_errors = 1;
	else if (strcmp(v, "em") == 0 || strcmp(v, "ee") == 0)
		o->print_errors = 0;
	/* the rest are ignored, as sendmail ignores what it lacks */
}

/*
 * The flags of sendmail(8) and Postfix's sendmail(1) that change nothing
 * here, taken so that no caller's mail is refused for them (ferry(8)
 * lists them). The ones with a value take it, so it is no recipient.
 */
static int
ignored_opt(int ch, const char *arg)
{
	switch (ch) {
	case 'A':	/* -Am, -Ac: which submit.cf; there is one config */
	case 'c':	/* hold "expensive" connections: every one is */
	case 'D':	/* sendmail's debug output file */
	case 'd':	/* sendmail's debug flags */
	case 'G':	/* a gateway submission: we fix up all the same */
	case 'h':	/* hop count: the smart host counts Received */
	case 'M':	/* sendmail's macro definitions */
	case 'm':	/* metoo (mailx's "metoo"): no list is expanded here */
	case 'n':	/* no alias expansion: Postfix ignores it too */
	case 'O':	/* sendmail's long options, like -o: ignored */
	case 'p':	/* the protocol, for Received: the smart host writes */
	case 'Q':	/* quarantine: there is nobody to release it */
	case 's':	/* keep "From " lines: obsolete -os */
	case 'U':	/* initial user submission: every message is one */
	case 'x':	/* Postfix ignores it too */
		return 1;
	case 'X':	/* a traffic log would hold message bodies */
		fprintf(stderr, "ferry: -X %s ignored: ferry keeps no "
		    "traffic log\n", arg);
		return 1;
	}
	return 0;
}

/* -N never | success,failure,delay (RFC 3461 4.1), upper-cased. */
static int
parse_notify(struct opts *o, const char *v, struct ferr *e)
{
	static const char *const words[] = { "SUCCESS", "FAILURE", "DELAY" };
	const char *p = v;
	size_t	len, i, out = 0;

	if (strcasecmp(v, "never") == 0) {
		snprintf(o->dsn_notify, sizeof(o->dsn_notify), "NEVER");
		return 0;
	}
	while (*p != '\0') {
		len = strcspn(p, ",");
		for (i = 0; i < 3; i++)
			if (strlen(words[i]) == len &&
			    strncasecmp(p, words[i], len) == 0)
				break;
		if (i == 3)
			return ferr_set(e, FE_USAGE, 0, "-N wants never or "
			    "success,failure,delay, not %s", v);
		out += (size_t)snprintf(o->dsn_notify + out,
		    sizeof(o->dsn_notify) - out, "%s%s", out ? "," : "",
		    words[i]);
		p += len + (p[len] == ',');
	}
	return 0;
}

static int
parse_dsn(struct opts *o, int ch, const char *v, struct ferr *e)
{
	size_t	i;

	if (ch == 'N')
		return parse_notify(o, v, e);
	if (ch == 'R') {
		if (strcasecmp(v, "full") != 0 && strcasecmp(v, "hdrs") != 0)
			return ferr_set(e, FE_USAGE, 0, "-R wants full or "
			    "hdrs, not %s", v);
		snprintf(o->dsn_ret, sizeof(o->dsn_ret), "%s",
		    strcasecmp(v, "full") == 0 ? "FULL" : "HDRS");
		return 0;
	}
	for (i = 0; v[i] != '\0'; i++)	/* RFC 3461 4.4: printable */
		if (v[i] <= ' ' || v[i] == 127)
			break;
	if (v[i] != '\0' || i == 0 || i > 100)
		return ferr_set(e, FE_USAGE, 0, "-V wants 1 to 100 printable "
		    "characters");
	o->dsn_envid = v;
	return 0;
}

static int
parse_b(struct opts *o, const char *v, struct ferr *e)
{
	if (strcmp(v, "p") == 0 || strcmp(v, "pj") == 0)
		o->mode = MODE_MAILQ;
	else if (strcmp(v, "i") == 0)
		o->mode = MODE_NEWALIASES;
	else if (strcmp(v, "s") == 0)
		o->mode = MODE_SERVE;
	else if (strcmp(v, "v") == 0)
		o->mode = MODE_VERIFY;
	else if (strcmp(v, "m") != 0)
		return ferr_set(e, FE_USAGE, 0, "unknown mode -b%s", v);
	o->json |= strcmp(v, "pj") == 0;
	return 0;
}

static int
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < ' ' || *s == 127)
			return 1;
	return 0;
}

/*
 * -f and -r: "<addr>" and "<>" as some callers write them. Longer than
 * a path may be (RFC 5321 4.5.3.1.3) is refused, not cut: a cut sender
 * would lose its domain and its bounces.
 */
static int
parse_from(struct opts *o, const char *v, struct ferr *e)
{
	size_t	len = strlen(v);

	if (len >= 2 && v[0] == '<' && v[len - 1] == '>') {
		v++;
		len -= 2;
	}
	if (len >= sizeof(o->from))
		return ferr_set(e, FE_USAGE, 0, "-f: sender over %zu bytes "
		    "(RFC 5321 4.5.3.1.3)", sizeof(o->from) - 1);
	memcpy(o->from, v, len);
	o->from[len] = '\0';
	o->from_given = 1;
	return 0;
}

static int
parse_opt(struct opts *o, int ch, struct ferr *e)
{
	if (ignored_opt(ch, optarg))
		return 0;
	switch (ch) {
	case 'B':
		if (strcasecmp(optarg, "8BITMIME") == 0)
			o->body8 = 1;
		else if (strcasecmp(optarg, "7BIT") != 0)
			return ferr_set(e, FE_USAGE, 0, "-B wants 7BIT or "
			    "8BITMIME, not %s", optarg);
		break;
	case 'C':
		o->conf = optarg;
		o->conf_given = 1;
		break;
	case 'F':
		/* it becomes header text: no line breaks get in */
		if (has_control(optarg))
			return ferr_set(e, FE_USAGE, 0, "-F: control "
			    "character in the name");
		o->full_name = optarg;
		break;
	case 'N':
	case 'R':
	case 'V':
		return parse_dsn(o, ch, optarg, e);
	case 'e': {	/* sendmail's old form of -oe */
		char oe[8];

		snprintf(oe, sizeof(oe), "e%.4s", optarg);
		o_option(o, oe);
		break;
	}
	case 'I':	/* Postfix's newaliases */
		o->mode = MODE_NEWALIASES;
		break;
	case 'f':
	case 'r':
		return parse_from(o, optarg, e);
	case 'i':
		o->msg.dot_ends = 0;
		break;
	case 'j':	/* Postfix's postqueue -j: mailq only */
		o->json = 1;
		break;
	case 'L':
		/* it starts every syslog line: a newline would forge one */
		if (has_control(optarg))
			return ferr_set(e, FE_USAGE, 0, "-L: control character "
			    "in the tag");
		o->log_tag = optarg;
		break;
	case 'o':
		o_option(o, optarg);
		break;
	case 't':
		o->msg.extract = 1;
		break;
	case 'v':
		o->verbose = 1;
		break;
	case 'b':
		return parse_b(o, optarg, e);
	case 'q':	/* -q alone; -qINTERVAL is taken before getopt */
		o->mode = MODE_RUN;
		break;
	case ':':
		o->bad_syntax = 1;
		return ferr_set(e, FE_USAGE, 0, "option -%c needs a value",
		    optopt);
	default:
		o->bad_syntax = 1;
		return ferr_set(e, FE_USAGE, 0, "unknown option -%c",
		    optopt);
	}
	return 0;
}

/*
 * -bc, the monitoring check, has options of its own: -w and -c are the
 * plugin guidelines' warning and critical thresholds (sendmail's -c
 * means nothing here), and only -C is shared.
 */
static int
check_args(int argc, char **argv, struct opts *o, struct ferr *e)
{
	int	ch;

	o->mode = MODE_CHECK;
	report_limits_init(&o->limits);
	opterr = 0;
	while ((ch = getopt(argc, argv, ":b:C:c:w:")) != -1)
		if (ch == 'b' && strcmp(optarg, "c") != 0)
			return ferr_set(e, FE_USAGE, 0, "-bc takes no other "
			    "mode, not -b%s", optarg);
		else if (ch == 'C') {
			o->conf = optarg;
			o->conf_given = 1;
		} else if (ch == 'w' || ch == 'c') {
			if (report_limits_parse(&o->limits, ch == 'c', optarg,
			    e) == -1)
				return -1;
		} else if (ch != 'b')
			return ferr_set(e, FE_USAGE, 0, "-bc: %s -%c",
			    ch == ':' ? "a value for" : "unknown option",
			    optopt);
	if (optind != argc)
		return ferr_set(e, FE_USAGE, 0, "-bc: unexpected %s",
		    argv[optind]);
	return 0;
}

static int
parse_args(int argc, char **argv, struct opts *o, struct ferr *e)
{
	const char *base = strrchr(argv[0], '/');
	int	ch, i;

	o->conf = SYSCONFDIR "/ferry.conf";
	o->msg.dot_ends = 1;
	base = base != NULL ? base + 1 : argv[0];
	if (strcmp(base, "mailq") == 0)
		o->mode = MODE_MAILQ;
	else if (strcmp(base, "newaliases") == 0)
		o->mode = MODE_NEWALIASES;
	else if (strcmp(base, "hoststat") == 0 ||
	    strcmp(base, "purgestat") == 0)
		o->mode = MODE_HOSTSTAT;
	/*
	 * sendmail's -V takes an envid; a -V with nothing after it (as in
	 * "ferry -V") can only be asking for the version
	 */
	if (argc >= 2 && strcmp(argv[argc - 1], "-V") == 0) {
		o->mode = MODE_VERSION;
		return 0;
	}
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "-bc") == 0)
			return check_args(argc, argv, o, e);
	/* "-q30m": an attached value getopt cannot take portably */
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strncmp(argv[i], "-q", 2) == 0 && argv[i][2] != '\0' &&
		    strchr("IRSGfp", argv[i][2]) != NULL) {
			/*
			 * -qIid, -qRsite, -qSsite, -qf ...: there is one
			 * smart host and no per-id selection, so they all
			 * mean a queue run now
			 */
			argv[i] = (char *)"-q";
		} else if (strncmp(argv[i], "-q", 2) == 0 &&
		    argv[i][2] != '\0') {
			if ((o->interval = interval_parse(argv[i] + 2)) == 0)
				return ferr_set(e, FE_USAGE, 0, "bad queue "
				    "interval %s", argv[i]);
			argv[i] = (char *)"-q";
		}
	opterr = 0;
	/* one line: t_85 checks that ferry.8 has each letter */
	while ((ch = getopt(argc, argv, ":A:B:b:C:cD:d:e:F:f:Gh:IijL:M:mN:nO:o:p:Q:qR:r:stUV:vX:x")) != -1)
		if (parse_opt(o, ch, e) == -1)
			return -1;
	o->rcpts = argv + optind;
	o->nrcpts = argc - optind;
	if (o->json && o->mode != MODE_MAILQ)
		return ferr_set(e, FE_USAGE, 0, "-j goes with -bp or mailq");
	return 0;
}

static int
print_version(void)
{
	printf("ferry %s\nBearSSL %s, libtomcrypt %s\n"
	    "%zu built-in trust anchors from %s (sha256 %s)\n",
	    FERRY_VERSION, BEARSSL_VERSION, SCRYPT, anchors_builtin_n,
	    anchors_bundle_name, anchors_bundle_sha256);
	return 0;
}

/* user@host for a message with no -f. */
static void
default_sender(const struct conf *c, char *out, size_t size)
{
	struct passwd	*pw = getpwuid(getuid());
	char		 host[CONF_HOST_SIZE];

	conf_host_name(c, host, sizeof(host));
	if (snprintf(out, size, "%s@%s", pw != NULL ? pw->pw_name :
	    "nobody", host) >= (int)size)
		out[0] = '\0';		/* msg_addr_check refuses it */
}

static void
trace_stderr(void *arg, char dir, const char *line, size_t len)
{
	(void)arg;
	fprintf(stderr, "%c %.*s\n", dir == '>' ? '>' : '<', (int)len, line);
}

#define LOCAL_NAMES	5

/*
 * The names that mean "this host" in an address: the host name, its
 * first label, localhost, helo and the masquerade domain.
 */
static size_t
local_names(const struct conf *c, char buf[][CONF_HOST_SIZE],
    const char **v)
{
	size_t	n = 0;
	char	*dot;

	if (gethostname(buf[0], CONF_HOST_SIZE) == 0 && buf[0][0] != '\0') {
		buf[0][CONF_HOST_SIZE - 1] = '\0';
		v[n++] = buf[0];
		memcpy(buf[1], buf[0], CONF_HOST_SIZE);
		if ((dot = strchr(buf[1], '.')) != NULL) {
			*dot = '\0';
			v[n++] = buf[1];
		}
	}
	v[n++] = "localhost";
	if (c->helo[0] != '\0')
		v[n++] = c->helo;
	if (c->masquerade[0] != '\0')
		v[n++] = c->masquerade;
	return n;
}

/*
 * A bare name or one at this host becomes name@masquerade (or
 * name@hostname without masquerade), so the smart host gets a real
 * address: root on a node named mynode is root@<masquerade domain>.
 */
static int
masquerade(const struct conf *c, const char *const *local, size_t nlocal,
    const char *addr, char *out, size_t size, struct ferr *e)
{
	const char *at = strrchr(addr, '@'), *dom;
	size_t	i;
	int	n;

	dom = c->masquerade[0] != '\0' ? c->masquerade : local[0];
	n = -1;
	if (at == NULL)
		n = snprintf(out, size, "%s@%s", addr, dom);
	for (i = 0; at != NULL && i < nlocal && n < 0; i++)
		if (strcasecmp(at + 1, local[i]) == 0 &&
		    c->masquerade[0] != '\0')
			n = snprintf(out, size, "%.*s@%s", (int)(at - addr),
			    addr, dom);
	if (n < 0)
		n = snprintf(out, size, "%s", addr);
	/* a cut address is someone else's, or no one's */
	if (n < 0 || (size_t)n >= size)
		return ferr_set(e, FE_DATA, 0, "address over %zu bytes with "
		    "its domain: %.40s...", size - 1, addr);
	return 0;
}

/* Expand aliases, masquerade, deduplicate: the final recipients. */
static int
rewrite_rcpts(const struct conf *c, const struct msg_addrs *in,
    struct spool_env *env, struct ferr *e)
{
	char		 names[LOCAL_NAMES][CONF_HOST_SIZE];
	char		 addr[MSG_ADDR_SIZE];
	const char	*local[LOCAL_NAMES];
	struct alias_map map;
	struct msg_addrs out, done;
	size_t		 nlocal, i;
	int		 rc = -1;

	nlocal = local_names(c, names, local);
	alias_init(&map);
	msg_addrs_init(&out);
	msg_addrs_init(&done);
	if (c->aliases[0] != '\0' && alias_load(&map, c->aliases, e) == -1)
		goto out;
	for (i = 0; i < in->n; i++)
		if (alias_expand(&map, in->v[i], local, nlocal, &out, e) == -1)
			goto out;
	for (i = 0; i < out.n; i++) {
		if (masquerade(c, local, nlocal, out.v[i], addr, sizeof(addr),
		    e) == -1 || msg_addr_check(addr, e) == -1 ||
		    msg_addrs_add(&done, addr, strlen(addr), e) == -1)
			goto out;
	}
	for (i = 0; i < done.n; i++)
		if (spool_env_add(env, done.v[i], SPOOL_PENDING, e) == -1)
			goto out;
	rc = 0;
out:
	alias_free(&map);
	msg_addrs_free(&out);
	msg_addrs_free(&done);
	return rc;
}

/* The envelope sender: -f, or the caller's user@host; masqueraded. */
static int
make_sender(const struct conf *c, const struct opts *o, char *out,
    size_t size, struct ferr *e)
{
	char		 names[LOCAL_NAMES][CONF_HOST_SIZE];
	const char	*local[LOCAL_NAMES];
	char		 from[MSG_ADDR_SIZE];
	size_t		 nlocal;

	nlocal = local_names(c, names, local);
	if (o->from_given)
		snprintf(from, sizeof(from), "%s", o->from);
	else
		default_sender(c, from, sizeof(from));
	out[0] = '\0';
	if (from[0] != '\0' &&
	    masquerade(c, local, nlocal, from, out, size, e) == -1)
		return ferr_wrap(e, "sender");
	if ((!o->from_given || o->from[0] != '\0') &&
	    msg_addr_check(out, e) == -1)
		return ferr_wrap(e, "sender");
	return 0;
}

/*
 * One recipient argument: an RFC 5322 address list, as sendmail and
 * Postfix read it. cron passes MAILTO="root,ops@example.org" as one,
 * others "Jane <jane@example.org>" or a list with a trailing comma.
 */
static int
rcpt_arg(const char *arg, struct msg_addrs *all, struct ferr *e)
{
	struct msg_addrs one;
	size_t		 i;
	int		 rc = -1;

	msg_addrs_init(&one);
	if (msg_parse_addrs(arg, strlen(arg), &one, e) == -1) {
		ferr_wrap(e, "recipient %.60s", arg);
		goto out;
	}
	/* a name with no address would vanish without a word */
	if (one.n == 0 && strspn(arg, " \t,") != strlen(arg) &&
	    strchr(arg, ':') == NULL) {
		ferr_set(e, FE_DATA, 0, "no address in recipient %.60s", arg);
		goto out;
	}
	for (i = 0; i < one.n; i++)
		if (msg_addr_check(one.v[i], e) == -1 ||
		    msg_addrs_add(all, one.v[i], strlen(one.v[i]), e) == -1)
			goto out;
	rc = 0;
out:
	msg_addrs_free(&one);
	return rc;
}

/* The envelope recipients from argv and -t headers. */
static int
make_env(const struct conf *c, const struct opts *o,
    const struct msg_info *info, struct spool_env *env, struct ferr *e)
{
	struct msg_addrs all;
	int		 i, rc = -1;
	size_t		 k;

	msg_addrs_init(&all);
	for (i = 0; i < o->nrcpts; i++)
		if (rcpt_arg(o->rcpts[i], &all, e) == -1)
			goto out;
	for (k = 0; k < info->rcpts.n; k++)
		if (msg_addr_check(info->rcpts.v[k], e) == -1 ||
		    msg_addrs_add(&all, info->rcpts.v[k],
		    strlen(info->rcpts.v[k]), e) == -1)
			goto out;
	if (all.n == 0) {
		ferr_set(e, FE_USAGE, 0, "no recipients given");
		goto out;
	}
	if (rewrite_rcpts(c, &all, env, e) == -1)
		goto out;
	env->size = info->size;
	env->wire = info->wire;
	snprintf(env->dsn_notify, sizeof(env->dsn_notify), "%s", o->dsn_notify);
	snprintf(env->dsn_ret, sizeof(env->dsn_ret), "%s", o->dsn_ret);
	if (o->dsn_envid != NULL)
		snprintf(env->dsn_envid, sizeof(env->dsn_envid), "%s",
		    o->dsn_envid);
	if (info->eightbit || o->body8)
		env->flags |= SPOOL_F_8BIT;
	rc = 0;
out:
	msg_addrs_free(&all);
	return rc;
}

/*
 * A sender claimed (-f, or MAIL FROM over -bs) by a user who is not
 * root nor in trusted_users: sendmail's X-Authentication-Warning, so
 * the receiver knows who really sent it. claimed NULL: none.
 */
static int
untrusted(const struct conf *c, const char *claimed, const char *how,
    const char *host, char *out, size_t size)
{
	struct passwd	*pw;
	const char	*name, *p;
	size_t		 len;

	if (claimed == NULL || getuid() == 0)
		return 0;
	pw = getpwuid(getuid());
	name = pw != NULL ? pw->pw_name : "unknown";
	len = strlen(name);
	for (p = c->trusted_users; (p = strstr(p, name)) != NULL; p += len)
		if ((p == c->trusted_users || p[-1] == ' ') &&
		    (p[len] == '\0' || p[len] == ' '))
			return 0;
	snprintf(out, size, "%s: %s set sender to %s using %s", host, name,
	    claimed[0] != '\0' ? claimed : "<>", how);
	return 1;
}

/* What the submission fix-up refers to; the caller's, for msg_read. */
struct fix {
	char		 host[CONF_HOST_SIZE];
	char		 names[LOCAL_NAMES][CONF_HOST_SIZE];
	const char	*local[LOCAL_NAMES];
	char		 warning[512];
};

/*
 * An MTA's submission fix-up, one for every door (stdin and -bs): Date,
 * Message-ID and From (sender) if missing, masquerading, the provider's
 * forced From, and a warning for a sender claimed by `how`.
 */
static void
fix_opts(const struct conf *c, const struct opts *o, const char *sender,
    const char *claimed, const char *how, struct fix *f,
    struct msg_opts *mo)
{
	*mo = o->msg;
	mo->fixup = 1;
	mo->from_addr = sender;
	mo->full_name = o->full_name;
	if (c->masquerade[0] != '\0')
		snprintf(f->host, sizeof(f->host), "%s", c->masquerade);
	else
		conf_host_name(c, f->host, sizeof(f->host));
	mo->host = f->host;
	mo->force_from = c->from[0] != '\0';
	if (c->masquerade[0] != '\0') {
		mo->masquerade = c->masquerade;
		mo->nlocal = local_names(c, f->names, f->local);
		mo->local = f->local;
	}
	mo->warning = untrusted(c, claimed, how, f->host, f->warning,
	    sizeof(f->warning)) ? f->warning : NULL;
	mo->now = time(NULL);
}

/*
 * A caller who is not root, running ferry with its group: such a queue
 * run stays within the caller's own entries (see queue_restrict).
 */
static void
restrict_caller(struct queue *q)
{
	if (getuid() != 0 && (getegid() != getgid() || geteuid() != getuid()))
		queue_restrict(q, (long long)getuid());
}

/*
 * The first smart host is held after failing (relay.h): the delivery
 * starts elsewhere, so connecting to it early would only knock on a
 * host that is down.
 */
static int
first_held(const struct conf *c, struct spool *sp)
{
	struct relay	r;
	struct ferr	e;

	relay_init(&r, c);
	return relay_load(&r, sp, &e) == 0 &&
	    relay_next(&r, (long long)time(NULL)) != 0;
}

/*
 * Read the message into a new spool entry and commit it. With early,
 * the connect to the smart host starts before the commit's fsyncs, so
 * that they overlap its first round trip; a failure to start is left
 * for the delivery to meet and report. The caller frees early.
 */
static int
enqueue(const struct conf *c, const struct opts *o, struct spool *sp,
    struct spool_msg *m, struct spool_env *env, struct net_conn *early,
    struct ferr *e)
{
	struct msg_info	info;
	struct msg_opts	mo;
	struct fix	f;
	struct ferr	ignored;
	int		rc = -1;

	if (o->nrcpts == 0 && !o->msg.extract)
		return ferr_set(e, FE_USAGE, 0, "no recipients given");
	msg_addrs_init(&info.rcpts);
	env->arrival = (long long)time(NULL);
	if (c->from[0] != '\0')	/* the provider takes this one only */
		snprintf(env->from, sizeof(env->from), "%s", c->from);
	else if (make_sender(c, o, env->from, sizeof(env->from), e) == -1)
		goto out;
	fix_opts(c, o, env->from, o->from_given ? o->from : NULL, "-f", &f,
	    &mo);
	mo.now = env->arrival;
	if (spool_create(sp, m, e) == -1)
		goto out;
	if (msg_read(STDIN_FILENO, m->fd, &mo, &info, e) == -1 ||
	    make_env(c, o, &info, env, e) == -1) {
		spool_abort(sp, m);
		goto out;
	}
	if (early != NULL && conf_tls_port(c, &ignored) == 0 &&
	    !first_held(c, sp))
		(void)net_start(early, c->smarthost, c->port, &ignored);
	if (spool_commit(sp, m, env, e) == -1) {
		spool_abort(sp, m);
		goto out;
	}
	log_info("%s: from=<%s>, size=%lld, nrcpt=%zu (queued)", m->id,
	    env->from, (long long)env->size, env->nrcpt);
	rc = 0;
out:
	msg_addrs_free(&info.rcpts);
	return rc;
}

/* The foreground attempt's outcome as an exit status. */
static int
foreground(const struct opts *o, struct queue *q, struct spool_msg *m,
    struct spool_env *env, struct ferr *e)
{
	struct queue_result res;
	char	id[SPOOL_ID_SIZE];
	size_t	i;
	int	rc = EX_OK;

	memcpy(id, m->id, sizeof(id));
	if (queue_deliver(q, m, env, &res, e) == -1) {
		fprintf(stderr, "ferry: %s: %s\n", id, e->text);
		queue_result_free(&res);
		return ferr_exit(e);
	}
	if (res.failed > 0 && o->print_errors) {
		for (i = 0; i < res.n; i++)
			if (res.rcpt[i].code / 100 == 5 ||
			    (res.rcpt[i].code / 100 != 4 &&
			    res.rcpt[i].code / 100 != 2 &&
			    res.why.kind == FE_PERM))
				fprintf(stderr, "ferry: %s: <%s>: %s\n", id,
				    res.rcpt[i].addr, res.rcpt[i].text);
		rc = EX_UNAVAILABLE;
	}
	/* queued for later is success, unless the setup itself is wrong */
	if (res.pending > 0 && res.why.kind != FE_TEMP &&
	    res.why.kind != FE_PERM && res.why.kind != FE_OK) {
		fprintf(stderr, "ferry: %s (kept in the queue as %s)\n",
		    res.why.text, id);
		rc = ferr_exit(&res.why);
	} else if (res.pending > 0 && o->verbose)
		fprintf(stderr, "ferry: %s: deferred: %s\n", id, res.why.text);
	queue_result_free(&res);
	(void)queue_flush_bounces(q, e);
	return rc;
}

/*
 * Fork a child that outlives its caller: a session of its own, and
 * /dev/null on stdin, stdout and stderr (errfd on stderr when it is not
 * -1), so that no pipe of the caller's (PHP's popen, cron's) stays open
 * behind it. In an empty jail with no /dev/null a directory takes the
 * caller's place: reads and writes on it fail instead of landing in a
 * file. Returns fork's value.
 */
static pid_t
detach(int errfd)
{
	pid_t	pid;
	int	fd;

	if ((pid = fork()) != 0)
		return pid;
	setsid();
	if ((fd = open("/dev/null", O_RDWR)) == -1)
		fd = open("/", O_RDONLY | O_DIRECTORY);
	if (fd != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(errfd != -1 ? errfd : fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	if (errfd > STDERR_FILENO)
		close(errfd);
	return 0;
}

/* -odb: the child delivers, the caller goes on at once. */
static int
background(struct queue *q, struct spool_msg *m, struct spool_env *env)
{
	struct queue_result res;
	struct ferr	 e;
	pid_t		 pid;

	pid = detach(-1);
	if (pid != 0) {
		/* the child keeps the lock; on no child a queue run sends it */
		spool_release(m);
		return EX_OK;
	}
	if (queue_deliver(q, m, env, &res, &e) == 0)
		queue_result_free(&res);
	(void)queue_flush_bounces(q, &e);
	queue_end(q);
	_exit(EX_OK);
}

/* The default wait for the outcome, before the child goes on alone. */
#define HANDOFF_MS	1000

/*
 * The default mode. A dead or silent smart host costs `timeout` for the
 * greeting and again for the TLS probe, and cron, PHP's mail() and a
 * web request behind it cannot pass -odb. The message is already
 * durable, so a child delivers it and the caller waits at most
 * HANDOFF_MS: when the child ends within it, its lines (errors,
 * refusals) and exit status are the caller's, as in -odi; when not,
 * the caller exits 0 and the child goes on alone, its lines dropped
 * (the log has the outcome). A person at a terminal, or with -v, gets
 * -odi instead: the whole wait, and why delivery failed.
 */
static int
handoff(const struct opts *o, struct queue *q, struct spool_msg *m,
    struct spool_env *env, struct ferr *e)
{
	struct pollfd	pfd;
	struct timespec	t0, t1;
	char		buf[512];
	long		left;
	ssize_t		n;
	pid_t		pid;
	int		p[2], st, rc;

	if (pipe(p) == -1)
		return background(q, m, env);
	if ((pid = detach(p[1])) == 0) {
		close(p[0]);
		rc = foreground(o, q, m, env, e);	/* prints its lines */
		queue_end(q);
		_exit(rc);
	}
	close(p[1]);
	spool_release(m);	/* the child keeps the lock */
	if (pid == -1) {
		close(p[0]);
		return EX_OK;	/* queued: a queue run sends it */
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		left = HANDOFF_MS - ((t1.tv_sec - t0.tv_sec) * 1000L +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000L);
		if (left <= 0 || (poll(&pfd, 1, (int)left) == -1 &&
		    errno != EINTR))
			break;
		if (!(pfd.revents & (POLLIN | POLLHUP)))
			continue;
		if ((n = read(p[0], buf, sizeof(buf))) > 0) {
			(void)plat_write_full(STDERR_FILENO, buf, (size_t)n);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		/* the child is done: its status is ours */
		close(p[0]);
		while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
			;
		return WIFEXITED(st) ? WEXITSTATUS(st) : EX_SOFTWARE;
	}
	close(p[0]);
	log_info("%s: queued; delivery goes on in the background (pid %ld)",
	    m->id, (long)pid);
	return EX_OK;
}

static int
submit(const struct conf *c, const struct opts *o, struct spool *sp,
    struct ferr *e)
{
	struct spool_msg m;
	struct spool_env env;
	struct queue	 q;
	struct net_conn	 early;
	int		 rc;

	spool_env_init(&env);
	net_conn_init(&early);
	/* -odb's caller does not wait: no need to hurry its connect */
	if (enqueue(c, o, sp, &m, &env, o->deliver == DELIVER_NOW ||
	    o->deliver == DELIVER_WAIT ? &early : NULL, e) == -1) {
		net_conn_free(&early);
		spool_env_free(&env);
		return -1;
	}
	if (o->deliver == DELIVER_QUEUE) {
		spool_release(&m);
		spool_env_free(&env);
		return EX_OK;
	}
	if (queue_init(&q, c, sp, o->verbose ? trace_stderr : NULL,
	    o->print_errors, e) == -1) {
		/* the message is safe; say why it cannot go now */
		net_conn_free(&early);
		spool_release(&m);
		spool_env_free(&env);
		ferr_wrap(e, "%s kept in the queue", m.id);
		return -1;
	}
	queue_early(&q, &early);
	restrict_caller(&q);
	if (o->deliver == DELIVER_BACKGROUND)
		rc = background(&q, &m, &env);
	else if (o->deliver == DELIVER_NOW || o->verbose ||
	    isatty(STDERR_FILENO))
		rc = foreground(o, &q, &m, &env, e);
	else
		rc = handoff(o, &q, &m, &env, e);
	queue_end(&q);
	spool_env_free(&env);
	return rc;
}

static void
print_time(long long t, char *out, size_t size)
{
	time_t		tt = (time_t)t;
	struct tm	tm;

	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(out, size, "%a %b %e %H:%M:%S", &tm) == 0)
		snprintf(out, size, "?");
}

/* One mailq block, the way Postfix's mailq lays it out. */
static void
print_entry(const struct spool_env *env, int failed)
{
	char	arrived[32], next[32];
	size_t	i;

	print_time(env->arrival, arrived, sizeof(arrived));
	printf("%-16s%c %8lld %s  %s\n", env->id, failed ? '!' : ' ',
	    (long long)env->size, arrived, env->from[0] ? env->from :
	    "MAILER-DAEMON");
	if (env->error[0] != '\0')
		printf("%*s(%s)\n", 18, "", env->error);
	if (failed)
		printf("%*s(failed: kept in failed/, not retried)\n", 18, "");
	else if (env->tries > 0) {
		print_time(env->next, next, sizeof(next));
		printf("%*s(tries %u, next retry %s)\n", 18, "", env->tries,
		    next);
	}
	/* what is still to do; in failed/, what failed */
	for (i = 0; i < env->nrcpt; i++)
		if (env->rcpt[i].state == SPOOL_PENDING ||
		    (failed && env->rcpt[i].state == SPOOL_FAILED))
			printf("%*s%s%s\n", 41, "", env->rcpt[i].addr,
			    env->rcpt[i].state == SPOOL_FAILED ?
			    " (failed)" : "");
		else if (env->rcpt[i].state == SPOOL_REFUSED ||
		    env->rcpt[i].state == SPOOL_EXPIRED)	/* bounce_window */
			printf("%*s%s (failed, bounce held)\n", 41, "",
			    env->rcpt[i].addr);
	printf("\n");
}

static void
put_stdout(void *arg, const char *s, size_t len)
{
	(void)arg;
	fwrite(s, 1, len, stdout);
}

static int
mailq(struct spool *sp, int json, struct ferr *e)
{
	static char	 obuf[65536];	/* a long queue: fewer writes */
	struct spool_ids ids;
	struct spool_env env;
	long long	 bytes = 0;
	size_t		 i, n = 0;
	int		 failed;

	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	spool_env_init(&env);
	for (failed = 0; failed < 2; failed++) {
		if (spool_list(sp, failed, &ids, e) == -1)
			return -1;
		for (i = 0; i < ids.n; i++) {
			if (spool_peek(sp, failed, ids.v[i], &env, e) != 1)
				continue;	/* gone since listed */
			if (json) {	/* postqueue -j: no header, no total */
				report_json_entry(put_stdout, NULL, &env,
				    failed);
				spool_env_free(&env);
				continue;
			}
			if (n++ == 0)
				printf("-Queue ID-       --Size-- ---Arrival "
				    "Time--- -Sender/Recipient-------\n");
			print_entry(&env, failed);
			bytes += env.size;
			spool_env_free(&env);
		}
		spool_ids_free(&ids);
	}
	if (json)
		return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
	if (n == 0)
		printf("Mail queue is empty\n");
	else
		printf("-- %lld Kbytes in %zu Request%s.\n",
		    (bytes + 1023) / 1024, n, n == 1 ? "" : "s");
	return EX_OK;
}

static int	run_queue(const struct conf *, const struct opts *,
		    struct spool *, struct ferr *);

/*
 * -bs: each message the SMTP dialogue hands over becomes an entry. DATA
 * goes as it comes to a scratch entry (raw), and at the final dot
 * through msg_read into the real one, so a message that came this way
 * gets the same checks and fix-up as one on stdin.
 */
struct bs {
	const struct conf	*c;
	const struct opts	*o;
	struct spool		*sp;
	struct spool_msg	 raw;
	struct spool_msg	 m;
	struct spool_env	 env;
	int			 raw_open;
	int			 m_open;
	size_t			 queued;
};

static int
bs_begin(void *arg, struct ferr *e)
{
	struct bs *b = arg;

	if (spool_create(b->sp, &b->raw, e) == -1)
		return -1;
	spool_env_init(&b->env);
	b->raw_open = 1;
	return 0;
}

static int
bs_data(void *arg, const char *buf, size_t len, struct ferr *e)
{
	struct bs *b = arg;
	size_t	off;
	ssize_t	n;

	for (off = 0; off < len; off += (size_t)n)
		if ((n = write(b->raw.fd, buf + off, len - off)) == -1) {
			if (errno == EINTR) {
				n = 0;
				continue;
			}
			return ferr_set(e, FE_TEMP, errno, "write message");
		}
	return 0;
}

/*
 * The sender claimed over -bs, for the warning: NULL when it is the
 * caller's own address, which needs no warning.
 */
static const char *
bs_claimed(const struct conf *c, const char *from, const char *sender)
{
	char		 names[LOCAL_NAMES][CONF_HOST_SIZE];
	const char	*local[LOCAL_NAMES];
	char		 own[MSG_ADDR_SIZE], mine[MSG_ADDR_SIZE];
	struct ferr	 e;
	size_t		 nlocal;

	nlocal = local_names(c, names, local);
	default_sender(c, own, sizeof(own));
	if (from[0] != '\0' && own[0] != '\0' &&
	    masquerade(c, local, nlocal, own, mine, sizeof(mine), &e) == 0 &&
	    strcasecmp(mine, sender) == 0)
		return NULL;
	return from;
}

/*
 * MAIL FROM:<name> with the caller's own login name and no domain
 * means the caller's default sender, as no -f does: local_submit sends
 * that for a caller that gave no -f (see serve_as_peer).
 */
static const char *
bs_own(const struct conf *c, const char *from, char *buf, size_t size)
{
	struct passwd	*pw;

	if (strchr(from, '@') != NULL || (pw = getpwuid(getuid())) == NULL ||
	    strcmp(from, pw->pw_name) != 0)
		return from;
	default_sender(c, buf, size);
	return buf[0] != '\0' ? buf : from;
}

static int
bs_end(void *arg, const char *from, const struct msg_addrs *rcpts,
    char *reply, size_t size, struct ferr *e)
{
	struct bs	*b = arg;
	char		 own[MSG_ADDR_SIZE];
	struct msg_info	 info;
	struct msg_opts	 mo;
	struct fix	 f;
	char		 names[LOCAL_NAMES][CONF_HOST_SIZE];
	const char	*local[LOCAL_NAMES];
	size_t		 nlocal;
	int		 rc = -1;

	nlocal = local_names(b->c, names, local);
	msg_addrs_init(&info.rcpts);
	from = bs_own(b->c, from, own, sizeof(own));
	b->env.arrival = (long long)time(NULL);
	if (b->c->from[0] != '\0')
		snprintf(b->env.from, sizeof(b->env.from), "%s", b->c->from);
	else if (from[0] != '\0' && masquerade(b->c, local, nlocal, from,
	    b->env.from, sizeof(b->env.from), e) == -1)
		goto out;
	fix_opts(b->c, b->o, b->env.from, bs_claimed(b->c, from,
	    b->env.from), "-bs", &f, &mo);
	mo.dot_ends = 0;	/* the dialogue found the end */
	mo.extract = 0;
	mo.now = b->env.arrival;
	if (lseek(b->raw.fd, 0, SEEK_SET) == -1) {
		ferr_set(e, FE_TEMP, errno, "reread message");
		goto out;
	}
	if (spool_create(b->sp, &b->m, e) == -1)
		goto out;
	b->m_open = 1;
	if (msg_read(b->raw.fd, b->m.fd, &mo, &info, e) == -1)
		goto out;
	b->env.size = info.size;
	b->env.wire = info.wire;
	if (info.eightbit || b->o->body8)
		b->env.flags |= SPOOL_F_8BIT;
	if (rewrite_rcpts(b->c, rcpts, &b->env, e) == -1 ||
	    spool_commit(b->sp, &b->m, &b->env, e) == -1)
		goto out;
	log_info("%s: from=<%s>, size=%lld, nrcpt=%zu (queued)", b->m.id,
	    b->env.from, (long long)b->env.size, b->env.nrcpt);
	snprintf(reply, size, "250 2.0.0 Ok: queued as %s", b->m.id);
	spool_release(&b->m);
	b->m_open = 0;
	spool_abort(b->sp, &b->raw);
	b->raw_open = 0;
	spool_env_free(&b->env);
	b->queued++;
	rc = 0;
out:
	msg_addrs_free(&info.rcpts);
	return rc;
}

static void
bs_abort(void *arg)
{
	struct bs *b = arg;

	if (b->m_open)
		spool_abort(b->sp, &b->m);
	if (b->raw_open) {
		spool_abort(b->sp, &b->raw);
		spool_env_free(&b->env);
	}
	b->m_open = b->raw_open = 0;
}

/*
 * -bs: speak SMTP on stdin and stdout, as mutt and some PHP setups
 * want; what is queued goes out when the dialogue ends.
 */
static int
serve_stdio(const struct conf *c, const struct opts *o, struct spool *sp,
    struct ferr *e)
{
	static const struct serve_ops ops = { bs_begin, bs_data, bs_end,
	    bs_abort };
	struct serve	*sv;
	struct bs	 b;
	char		 in[4096], out[4096], host[CONF_HOST_SIZE];
	size_t		 off, used, outlen = 0;
	ssize_t		 n;
	int		 rc = 0;

	memset(&b, 0, sizeof(b));
	b.c = c;
	b.o = o;
	b.sp = sp;
	if ((sv = malloc(sizeof(*sv))) == NULL)
		return ferr_set(e, FE_OS, errno, "session");
	if (gethostname(host, sizeof(host)) == -1)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	serve_init(sv, host);
	if (serve_greeting(sv, out, sizeof(out), &outlen, e) == -1 ||
	    plat_write_full(STDOUT_FILENO, out, outlen) == -1)
		rc = -1;
	while (rc == 0 && (n = read(STDIN_FILENO, in, sizeof(in))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			break;
		for (off = 0; rc == 0 && off < (size_t)n; off += used) {
			outlen = 0;
			rc = serve_input(sv, in + off, (size_t)n - off, &used,
			    out, sizeof(out), &outlen, &ops, &b, e);
			if (plat_write_full(STDOUT_FILENO, out, outlen) == -1)
				rc = -1;
		}
	}
	serve_eof(sv, &ops, &b);
	free(sv);
	if (rc == -1)
		return -1;
	if (b.queued == 0 || o->deliver == DELIVER_QUEUE)
		return EX_OK;
	if (o->deliver == DELIVER_NOW)
		return run_queue(c, o, sp, e);
	/* the client has its replies: it need not wait for the relay */
	if (detach(-1) != 0)
		return EX_OK;
	_exit(run_queue(c, o, sp, e) == -1 ? ferr_exit(e) : EX_OK);
}

/*
 * newaliases (-bi): there is no database to build; check the aliases
 * file and say what is wrong with it.
 */
static int
newaliases(const struct conf *c, struct ferr *e)
{
	char		 names[LOCAL_NAMES][CONF_HOST_SIZE];
	const char	*local[LOCAL_NAMES];
	char		 report[4096];
	struct alias_map map;
	size_t		 nlocal, bad;

	if (c->aliases[0] == '\0') {
		printf("ferry: no aliases file in %s; nothing to check\n",
		    c->path);
		return EX_OK;
	}
	if (alias_load(&map, c->aliases, e) == -1)
		return -1;
	nlocal = local_names(c, names, local);
	bad = alias_check(&map, local, nlocal, report, sizeof(report));
	printf("ferry: %s: %zu aliases%s\n", c->aliases, map.n,
	    bad ? ", with problems:" : ", no problems");
	if (bad)
		fputs(report, stdout);
	alias_free(&map);
	return bad ? EX_DATAERR : EX_OK;
}

/* -bv of smart host number host: 0, or -1 with e. */
static int
verify_host(const struct conf *c, const struct opts *o, struct spool *sp,
    size_t host, struct ferr *e)
{
	struct queue	q;
	char		line[512];
	int		rc;

	if (queue_init(&q, c, sp, o->verbose ? trace_stderr : NULL, 0,
	    e) == -1)
		return -1;
	rc = queue_verify(&q, host, line, sizeof(line), e);
	queue_end(&q);
	if (rc == 0)
		printf("ferry: %s\n", line);
	return rc;
}

/*
 * -bv: does the config reach each smart host, with TLS and AUTH? Each
 * host is checked in a child of its own, since a confined process can
 * connect nowhere new on FreeBSD. The exit code is the first failing
 * host's.
 */
static int
verify(const struct conf *c, const struct opts *o, struct spool *sp,
    struct ferr *e)
{
	size_t	i, bad = 0;
	pid_t	pid;
	int	st, rc = EX_OK, r;

	if (c->nhosts < 2) {
		if (verify_host(c, o, sp, 0, e) == -1)
			return -1;
		printf("ferry: the configuration works\n");
		return EX_OK;
	}
	for (i = 0; i < c->nhosts; i++) {
		fflush(NULL);
		if ((pid = fork()) == -1)
			return ferr_set(e, FE_OS, errno, "fork");
		if (pid == 0) {
			r = verify_host(c, o, sp, i, e);
			if (r == -1)
				fprintf(stderr, "ferry: smart host %zu, %s: "
				    "%s\n", i + 1, c->hosts[i].smarthost,
				    e->text);
			fflush(NULL);
			_exit(r == -1 ? ferr_exit(e) : EX_OK);
		}
		while ((r = waitpid(pid, &st, 0)) == -1 && errno == EINTR)
			;
		r = r == -1 ? EX_OSERR : WIFEXITED(st) ? WEXITSTATUS(st) :
		    EX_SOFTWARE;
		if (r != EX_OK && bad++ == 0)
			rc = r;
	}
	if (bad > 0)
		fprintf(stderr, "ferry: %zu of %zu smart hosts failed\n", bad,
		    c->nhosts);
	else
		printf("ferry: the configuration works (%zu smart hosts)\n",
		    c->nhosts);
	return rc;
}

/*
 * After a queue run, the Prometheus file (metrics_file), unless the
 * caller is a user running ferry with its group: that run saw only the
 * caller's entries, and the file is root's to write.
 */
static void
write_metrics(const struct conf *c, struct spool *sp)
{
	struct report_queue rq;
	struct ferr	e;

	if (c->metrics_file[0] == '\0' || (getuid() != 0 &&
	    (getegid() != getgid() || geteuid() != getuid())))
		return;
	if (report_queue_scan(sp, &rq, &e) == -1 ||
	    report_metrics_write(c->metrics_file, &rq, &e) == -1)
		log_warn("metrics_file: %s", e.text);
}

/*
 * The configuration: the file, or, when there is none at the default
 * path and FERRY_SMARTHOST is set, FERRY_* environment variables (a
 * container has no /etc to edit). Only for a ferry that gained no privilege at exec: a
 * set-group-ID ferry must not take a smart host or a password file
 * from its caller, who would have it send ferry's password there.
 */
static int
load_conf(const struct opts *o, struct conf *c, struct ferr *e)
{
	extern char	**environ;
	struct stat	  st;

	conf_init(c);
	if (!o->conf_given && getuid() == geteuid() &&
	    getgid() == getegid() && getenv("FERRY_SMARTHOST") != NULL &&
	    stat(o->conf, &st) == -1 && errno == ENOENT)
		return conf_load_env(c, environ, e);
	return conf_load(c, o->conf, e);
}

/* -bc's UNKNOWN: the plugin guidelines' 3, one line on stdout. */
static int
check_unknown(const char *why)
{
	char	line[512];

	report_unknown(why, line, sizeof(line));
	fputs(line, stdout);
	return REPORT_UNKNOWN;
}

/*
 * -bc: one status line with performance data for Nagios, Icinga,
 * Zabbix or Consul, and its exit code: 0 OK, 1 WARNING, 2 CRITICAL,
 * 3 UNKNOWN (no config, no spool).
 */
static int
check_main(const struct opts *o)
{
	struct report_queue rq;
	struct conf	 c;
	struct spool	 sp;
	struct ferr	 e;
	char		 line[1024];
	int		 rc;

	/* as in cli_main: a caller's own config, without ferry's group */
	if (o->conf_given && getuid() != 0 && plat_drop_group() == -1)
		return check_unknown("cannot drop the group");
	if (load_conf(o, &c, &e) == -1)
		return check_unknown(e.text);
	if (spool_open(&sp, c.spool, &e) == -1) {
		conf_wipe(&c);
		return check_unknown(e.text);
	}
	rc = report_queue_scan(&sp, &rq, &e);
	spool_close(&sp);
	conf_wipe(&c);
	if (rc == -1)
		return check_unknown(e.text);
	rc = report_check(&rq, &o->limits, line, sizeof(line));
	fputs(line, stdout);
	return rc;
}

/*
 * A queue run when delivery is confined and something follows it
 * outside the spool (metrics_file, or a -q interval loop's next run
 * reading the trust anchors): in a child, for a run leaves its process
 * confined (confine.h). Returns the child's exit status (its
 * error line is printed by it). A child killed by a signal is logged
 * here; SIGSYS is a seccomp violation. Its messages stay queued: their
 * locks died with it.
 */
static int
run_apart(struct queue *q, int force)
{
	struct ferr	e;
	pid_t		pid;
	int		st, rc;

	fflush(NULL);
	if ((pid = fork()) == -1) {
		log_warn("queue run: fork: %s", strerror(errno));
		return EX_OSERR;
	}
	if (pid == 0) {
		rc = queue_run(q, force, &e);
		queue_end(q);
		if (rc == -1)
			fprintf(stderr, "ferry: %s\n", e.text);
		_exit(rc == -1 ? ferr_exit(&e) : EX_OK);
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return EX_OSERR;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
#ifdef SIGSYS
	if (WTERMSIG(st) == SIGSYS) {
		log_warn("queue run (pid %ld) killed: it broke its "
		    "confinement (seccomp); its messages stay queued",
		    (long)pid);
		return EX_SOFTWARE;
	}
#endif
	log_warn("queue run (pid %ld) killed by signal %d", (long)pid,
	    WTERMSIG(st));
	return EX_SOFTWARE;
}

static int
run_queue(const struct conf *c, const struct opts *o, struct spool *sp,
    struct ferr *e)
{
	struct queue	q;
	int		rc = 0;

	for (;;) {
		if (queue_init(&q, c, sp, o->verbose ? trace_stderr : NULL, 0,
		    e) == -1)
			return -1;
		restrict_caller(&q);
		/* a plain -q is the admin asking: try everything now */
		/* in-process otherwise: one process, as t_60 kills it */
		if (c->confine && (o->interval > 0 ||
		    c->metrics_file[0] != '\0'))
			rc = run_apart(&q, o->interval == 0);
		else
			rc = queue_run(&q, o->interval == 0, e) == -1 ? -1 :
			    EX_OK;
		queue_end(&q);
		write_metrics(c, sp);
		if (o->interval == 0)
			return rc;
		sleep(o->interval);
	}
}

/*
 * -bs run by root on a unix socket is the local submission service
 * (ferry-submit@.service, inetd): its client is a process that could
 * not gain ferry's group (issue 24). Become that client as exec of
 * the setgid file would have made it (its uid and group, ferry's group
 * effective), so every trust rule (trusted_users, whose entries a -q
 * takes, who owns a spool entry) is the setgid one. A pipe or a root
 * client: nothing to do.
 */
static int
serve_as_peer(struct ferr *e)
{
	struct passwd	*pw;
	uid_t		 uid;
	gid_t		 gid, group;

	if (getuid() != 0 || plat_peer_ids(STDIN_FILENO, &uid, &gid) == -1 ||
	    uid == 0)
		return 0;
	if (plat_exe_group(&group) == -1)
		return ferr_set(e, FE_CONFIG, 0, "-bs on a socket: ferry is not "
		    "setgid to its group, so it cannot act for uid %ld",
		    (long)uid);
	/* as the real group, ferry's would lift restrict_caller's limit */
	if (gid == group && (pw = getpwuid(uid)) != NULL)
		gid = pw->pw_gid;
	if (plat_become(uid, gid, group) == -1)
		return ferr_set(e, FE_OS, errno, "become uid %ld", (long)uid);
	return 0;
}

/*
 * A caller whose exec did not grant ferry's group (no_new_privs, a
 * nosuid mount) can read neither the config nor the spool: hand the
 * message to the local submission service, or say why not and exit
 * EX_TEMPFAIL with stdin unread, so that a caller that retries will.
 * -1: the caller has the group (or is root); go on as usual.
 */
static int
submit_local(const struct opts *o)
{
	struct local_msg m;
	struct ferr	 e;
	char		 why[LOCAL_WHY_SIZE], reply[LOCAL_REPLY_SIZE];
	int		 fd, rc;

	if (!local_group_lost(why, sizeof(why)))
		return -1;
	ferr_clear(&e);
	if ((fd = local_connect(plat_submit_path(), &e)) == -1) {
		fprintf(stderr, "ferry: cannot gain ferry's group (%s) and no "
		    "submission service at %s: enable ferry-submit.socket "
		    "(inetd on FreeBSD), see ferry(8); nothing sent, retry "
		    "later\n", why, e.text);
		return EX_TEMPFAIL;
	}
	m.from = o->from_given ? o->from : NULL;
	m.rcpts = o->rcpts;
	m.nrcpts = o->nrcpts;
	m.extract = o->msg.extract;
	m.dot_ends = o->msg.dot_ends;
	rc = local_submit(fd, STDIN_FILENO, &m, reply, sizeof(reply), &e);
	close(fd);
	if (rc == -1) {
		fprintf(stderr, "ferry: %s\n", e.text);
		return ferr_exit(&e);
	}
	if (o->verbose)
		fprintf(stderr, "ferry: %s (%s): %s\n", plat_submit_path(),
		    why, reply);
	return EX_OK;
}

/*
 * A caller may start us with fd 0, 1 or 2 closed. The spool's files
 * would then take those numbers, and a line for stderr (or -v's
 * transcript) would land in a queued message: give each /dev/null,
 * or in an empty jail a directory, where reads and writes just fail.
 */
static int
std_fds(void)
{
	int	fd;

	for (;;) {
		if ((fd = open("/dev/null", O_RDWR)) == -1 &&
		    (fd = open("/", O_RDONLY | O_DIRECTORY)) == -1)
			return -1;
		if (fd > STDERR_FILENO) {
			close(fd);
			return 0;
		}
	}
}

int
cli_main(int argc, char **argv)
{
	struct opts	o;
	struct conf	c;
	struct spool	sp;
	struct ferr	e;
	int		rc;

	if (std_fds() == -1)
		return EX_OSERR;
	/*
	 * Nothing of the caller's above stderr: the detached delivery
	 * child kept a caller's pipe open until it ended (issue 22).
	 */
	plat_close_from(STDERR_FILENO + 1);
	memset(&o, 0, sizeof(o));
	ferr_clear(&e);
	/* before any secret is in memory; best effort, nothing to report */
	(void)plat_no_dump();
	signal(SIGPIPE, SIG_IGN);	/* a dead peer is an error, not death */
	umask(027);
	rc = parse_args(argc, argv, &o, &e);
	if (rc == -1 && o.mode == MODE_CHECK)	/* the plugin's UNKNOWN */
		return check_unknown(e.text);
	if (rc == -1) {
		fprintf(stderr, "ferry: %s\n", e.text);
		if (o.bad_syntax)	/* else the one line says it all */
			usage();
		return ferr_exit(&e);
	}
	if (o.mode == MODE_VERSION)
		return print_version();
	if (o.mode == MODE_CHECK)
		return check_main(&o);
	/*
	 * ferry's only per-host status is the smart hosts' holds
	 * (host-state, with several hosts), nothing like sendmail's
	 * hoststat; and purgestat has nothing to purge. FreeBSD's daily
	 * periodic runs both through mailer.conf and takes output as
	 * trouble.
	 */
	if (o.mode == MODE_HOSTSTAT)
		return EX_OK;
	if (o.mode == MODE_SEND && !o.conf_given &&
	    (rc = submit_local(&o)) != -1)
		return rc;
	/*
	 * a caller's own config must not be read with ferry's group, and
	 * the saved set-group-ID goes too, so it cannot be taken back
	 */
	if (o.conf_given && getuid() != 0 && plat_drop_group() == -1) {
		fprintf(stderr, "ferry: setresgid: %s\n", strerror(errno));
		return EX_OSERR;
	}
	if (o.mode == MODE_SERVE && serve_as_peer(&e) == -1) {
		fprintf(stderr, "ferry: %s\n", e.text);
		return ferr_exit(&e);
	}
	log_open(o.log_tag != NULL ? o.log_tag : "ferry", o.verbose);
	if (load_conf(&o, &c, &e) == -1) {
		fprintf(stderr, "ferry: %s\n", e.text);
		return ferr_exit(&e);
	}
	if (o.mode == MODE_NEWALIASES) {
		rc = newaliases(&c, &e);
		conf_wipe(&c);
		if (rc == -1) {
			fprintf(stderr, "ferry: %s\n", e.text);
			return ferr_exit(&e);
		}
		return rc;
	}
	if (spool_open(&sp, c.spool, &e) == -1) {
		fprintf(stderr, "ferry: %s\n", e.text);
		conf_wipe(&c);
		return ferr_exit(&e);
	}
	if (o.mode == MODE_MAILQ)
		rc = mailq(&sp, o.json, &e);
	else if (o.mode == MODE_RUN)
		rc = run_queue(&c, &o, &sp, &e);
	else if (o.mode == MODE_VERIFY)
		rc = verify(&c, &o, &sp, &e);
	else if (o.mode == MODE_SERVE)
		rc = serve_stdio(&c, &o, &sp, &e);
	else
		rc = submit(&c, &o, &sp, &e);
	spool_close(&sp);
	conf_wipe(&c);
	if (rc == -1) {
		fprintf(stderr, "ferry: %s\n", e.text);
		return ferr_exit(&e);
	}
	return rc;
}
