#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include <tomcrypt.h>

#include "anchors.h"
#include "cli.h"
#include "conf.h"
#include "ferr.h"
#include "log.h"
#include "msg.h"
#include "smtp.h"
#include "ta.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/etc"
#endif
#ifndef FERRY_VERSION
#define FERRY_VERSION	"0.0"
#endif
#ifndef BEARSSL_VERSION
#define BEARSSL_VERSION	"?"
#endif

struct opts {
	const char	*conf;
	const char	*from;
	int		 verbose;
	int		 version;
	struct msg_opts	 msg;
	char		**rcpts;
	int		 nrcpts;
};

static void
usage(void)
{
	fprintf(stderr, "usage: ferry [-tiv] [-C conf] [-f sender] [-o opt] "
	    "[--] recipient ...\n       ferry -V\n");
}

static int
parse_args(int argc, char **argv, struct opts *o, struct ferr *e)
{
	int	ch;

	o->conf = SYSCONFDIR "/ferry.conf";
	o->msg.dot_ends = 1;
	opterr = 0;
	while ((ch = getopt(argc, argv, ":C:f:r:io:tvV")) != -1) {
		switch (ch) {
		case 'C':
			o->conf = optarg;
			break;
		case 'f':
		case 'r':
			o->from = optarg;
			break;
		case 'i':
			o->msg.dot_ends = 0;
			break;
		case 'o':	/* sendmail ignores -o options it lacks */
			if (strcmp(optarg, "i") == 0)
				o->msg.dot_ends = 0;
			break;
		case 't':
			o->msg.extract = 1;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'V':
			o->version = 1;
			break;
		case ':':
			return ferr_set(e, FE_USAGE, 0, "option -%c needs a "
			    "value", optopt);
		default:
			return ferr_set(e, FE_USAGE, 0, "unknown option -%c",
			    optopt);
		}
	}
	o->rcpts = argv + optind;
	o->nrcpts = argc - optind;
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

static int
read_file(const char *path, char **buf, size_t *len, struct ferr *e)
{
	struct stat st;
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return ferr_set(e, FE_CONFIG, errno, "%s", path);
	if (fstat(fd, &st) == -1 || st.st_size > 16 * 1024 * 1024 ||
	    (*buf = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return ferr_set(e, FE_CONFIG, errno ? errno : EFBIG, "%s",
		    path);
	}
	n = read(fd, *buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(*buf);
		return ferr_set(e, FE_CONFIG, errno, "%s: short read", path);
	}
	*len = (size_t)n;
	return 0;
}

/* The anchors to trust: built-in ones and tls_ca_file's, in one list. */
static int
trust_load(const struct conf *c, struct ta_list *extra,
    br_x509_trust_anchor **all, struct tls_trust *t, struct ferr *e)
{
	size_t	nb = c->tls_builtin_ca ? anchors_builtin_n : 0, len = 0;
	char	*pem = NULL;

	*all = NULL;
	if (c->tls_ca_file[0] != '\0') {
		if (read_file(c->tls_ca_file, &pem, &len, e) == -1)
			return -1;
		if (ta_add_pem(extra, pem, len, c->tls_ca_file, e) == -1) {
			free(pem);
			return -1;
		}
		free(pem);
	}
	*all = calloc(nb + extra->n + 1, sizeof(**all));
	if (*all == NULL)
		return ferr_set(e, FE_OS, errno, "trust anchors");
	if (nb > 0)
		memcpy(*all, anchors_builtin, nb * sizeof(**all));
	if (extra->n > 0)
		memcpy(*all + nb, extra->v, extra->n * sizeof(**all));
	t->ta = *all;
	t->nta = nb + extra->n;
	t->pins = (const unsigned char (*)[TLS_PIN_SIZE])c->pins;
	t->npins = c->npins;
	return 0;
}

/* user@host for a message with no -f. */
static void
default_sender(const struct conf *c, char *out, size_t size)
{
	struct passwd	*pw = getpwuid(getuid());
	char		 host[CONF_HOST_SIZE];

	if (c->helo[0] != '\0')
		snprintf(host, sizeof(host), "%s", c->helo);
	else if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
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

/* Recipients from the command line and, with -t, the headers. */
static int
gather_rcpts(const struct opts *o, struct msg_addrs *hdr,
    struct smtp_rcpt **out, size_t *n, struct ferr *e)
{
	size_t	i, total = (size_t)o->nrcpts + hdr->n;

	if (total == 0)
		return ferr_set(e, FE_USAGE, 0, "no recipients given");
	*out = calloc(total, sizeof(**out));
	if (*out == NULL)
		return ferr_set(e, FE_OS, errno, "recipients");
	*n = 0;
	for (i = 0; i < (size_t)o->nrcpts; i++) {
		if (msg_addr_check(o->rcpts[i], e) == -1)
			return -1;
		(*out)[(*n)++].addr = o->rcpts[i];
	}
	for (i = 0; i < hdr->n; i++) {
		if (msg_addr_check(hdr->v[i], e) == -1)
			return -1;
		(*out)[(*n)++].addr = hdr->v[i];
	}
	return 0;
}

/* Read stdin into an unlinked temporary file. */
static int
take_message(const struct opts *o, struct msg_info *info, struct ferr *e)
{
	char	 path[CONF_PATH_SIZE];
	const char *tmp = getenv("TMPDIR");
	int	 fd;

	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	if (snprintf(path, sizeof(path), "%s/ferry.XXXXXX", tmp) >=
	    (int)sizeof(path))
		return ferr_set(e, FE_CANTCREAT, 0, "TMPDIR too long");
	fd = mkstemp(path);
	if (fd == -1)
		return ferr_set(e, FE_CANTCREAT, errno, "%s", path);
	unlink(path);
	if (msg_read(STDIN_FILENO, fd, &o->msg, info, e) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Report each recipient's fate; the result is the message's. */
static int
report(const struct smtp_session *s, const struct smtp_rcpt *r, size_t n,
    const struct smtp_reply *final, double delay, struct ferr *e)
{
	size_t	i, temp = 0, perm = 0;

	for (i = 0; i < n; i++) {
		if (r[i].code / 100 == 2) {
			log_info("to=<%s>, relay=%s, delay=%.1f, "
			    "status=sent (%d %s)", r[i].addr, smtp_peer(s),
			    delay, final->code, final->text);
			continue;
		}
		r[i].code / 100 == 4 ? temp++ : perm++;
		log_warn("to=<%s>, relay=%s, delay=%.1f, status=%s (%s)",
		    r[i].addr, smtp_peer(s), delay, r[i].code / 100 == 4 ?
		    "deferred" : "bounced", r[i].text);
		fprintf(stderr, "ferry: %s: <%s>: %s\n", smtp_peer(s),
		    r[i].addr, r[i].text);
	}
	if (temp + perm == 0)
		return 0;
	return ferr_set(e, temp ? FE_TEMP : FE_PERM, 0, "%zu of %zu "
	    "recipients refused", temp + perm, n);
}

static int
deliver(const struct conf *c, const struct opts *o, struct ferr *e)
{
	struct smtp_session	*s;
	struct ta_list		 extra;
	br_x509_trust_anchor	*all = NULL;
	struct tls_trust	 trust;
	struct msg_info		 info;
	struct smtp_rcpt	*rcpt = NULL;
	char			 from[MSG_ADDR_SIZE];
	size_t			 n = 0;
	struct timespec		 t0, t1;
	int			 fd = -1, rc = -1;

	ta_init(&extra);
	msg_addrs_init(&info.rcpts);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (o->from != NULL)
		snprintf(from, sizeof(from), "%s", o->from);
	else
		default_sender(c, from, sizeof(from));
	if ((o->from == NULL || o->from[0] != '\0') &&
	    msg_addr_check(from, e) == -1)
		goto out;
	if ((fd = take_message(o, &info, e)) == -1 ||
	    gather_rcpts(o, &info.rcpts, &rcpt, &n, e) == -1 ||
	    trust_load(c, &extra, &all, &trust, e) == -1)
		goto out;
	/* about 100 KB of buffers: the heap, not the stack */
	if ((s = malloc(sizeof(*s))) == NULL) {
		ferr_set(e, FE_OS, errno, "session");
		goto out;
	}
	if (smtp_open(s, c, &trust, o->verbose ? trace_stderr : NULL, NULL,
	    e) == 0) {
		if (smtp_send(s, from, rcpt, n, fd, info.wire,
		    info.eightbit ? SMTP_BODY_8BIT : 0, e) == 0) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			rc = report(s, rcpt, n, &s->reply,
			    (double)(t1.tv_sec - t0.tv_sec) +
			    (t1.tv_nsec - t0.tv_nsec) / 1e9, e);
		}
		smtp_close(s);
	}
	free(s);
out:
	if (fd != -1)
		close(fd);
	free(rcpt);
	free(all);
	ta_free(&extra);
	msg_addrs_free(&info.rcpts);
	return rc;
}

int
cli_main(int argc, char **argv)
{
	struct opts	o;
	struct conf	c;
	struct ferr	e;
	int		rc;

	memset(&o, 0, sizeof(o));
	ferr_clear(&e);
	if (parse_args(argc, argv, &o, &e) == -1) {
		fprintf(stderr, "ferry: %s\n", e.text);
		usage();
		return ferr_exit(&e);
	}
	if (o.version)
		return print_version();
	log_open("ferry", o.verbose);
	conf_init(&c);
	if (conf_load(&c, o.conf, &e) == -1) {
		fprintf(stderr, "ferry: %s\n", e.text);
		return ferr_exit(&e);
	}
	rc = deliver(&c, &o, &e);
	conf_wipe(&c);
	if (rc == -1) {
		fprintf(stderr, "ferry: %s\n", e.text);
		if (e.kind != FE_USAGE && e.kind != FE_DATA)
			log_warn("status=%s (%s)", e.kind == FE_TEMP ?
			    "deferred" : "failed", e.text);
		return ferr_exit(&e);
	}
	return EX_OK;
}
