#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "plat.h"
#include "report.h"

/* How a string is written: JSON, a Prometheus label, plugin text. */
enum esc { ESC_JSON, ESC_LABEL, ESC_PLAIN };

static void
put_str(report_put_fn *put, void *arg, const char *s)
{
	put(arg, s, strlen(s));
}

static void
put_fmt(report_put_fn *put, void *arg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
put_fmt(report_put_fn *put, void *arg, const char *fmt, ...)
{
	char	buf[256];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)	/* numbers and names: they fit */
		put(arg, buf, (size_t)n < sizeof(buf) ? (size_t)n :
		    sizeof(buf) - 1);
}

/*
 * Bytes in the well-formed UTF-8 sequence at s (RFC 3629 4: no
 * overlong forms, no surrogates, nothing past U+10FFFF), or 0.
 */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned long	cp;
	size_t		len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	cp = s[0] & (0x3fu >> (len - 1));
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 ||
	    cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * s, escaped for its place. Each format gets valid UTF-8 only (a stray
 * byte is U+FFFD), JSON its RFC 8259 7 escapes, a label the exposition
 * format's three (\\, \", \n), plugin text no line break and no '|'
 * (which would start the performance data).
 */
static void
put_esc(report_put_fn *put, void *arg, const char *s, enum esc how)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t	n = strlen(s), len, run;
	char	u[8];

	while (n > 0) {
		for (run = 0; run < n; run += len) {
			len = utf8_len(p + run, n - run);
			if (len != 1 || p[run] < 0x20 || p[run] == 0x7f ||
			    p[run] == '"' || p[run] == '\\' || p[run] == '|')
				break;
		}
		if (run > 0) {
			put(arg, (const char *)p, run);
			p += run;
			n -= run;
			continue;
		}
		len = utf8_len(p, n);
		if (len > 1) {
			put(arg, (const char *)p, len);
		} else if (len == 0) {
			len = 1;
			if (how == ESC_JSON)
				put_str(put, arg, "\\ufffd");
			else
				put_str(put, arg, "\xef\xbf\xbd");
		} else if (how == ESC_PLAIN) {
			put_str(put, arg, *p == '|' ? "/" : *p == '"' ? "\"" :
			    *p == '\\' ? "\\" : " ");
		} else if (*p == '"' || *p == '\\') {
			u[0] = '\\';
			u[1] = (char)*p;
			put(arg, u, 2);
		} else if (*p == '|') {
			put(arg, "|", 1);
		} else if (how == ESC_LABEL) {
			put_str(put, arg, *p == '\n' ? "\\n" : " ");
		} else {
			snprintf(u, sizeof(u), "\\u%04x", *p);
			put(arg, u, 6);
		}
		p += len;
		n -= len;
	}
}

static void
json_field(report_put_fn *put, void *arg, const char *name, const char *v)
{
	put_fmt(put, arg, "\"%s\": \"", name);
	put_esc(put, arg, v, ESC_JSON);
	put_str(put, arg, "\"");
}

/* A recipient's place in postqueue -j: still to do, or failed. */
static int
json_listed(const struct spool_rcpt *r, int failed)
{
	return r->state == SPOOL_PENDING || r->state == SPOOL_REFUSED ||
	    r->state == SPOOL_EXPIRED || (failed && r->state == SPOOL_FAILED);
}

void
report_json_entry(report_put_fn *put, void *arg, const struct spool_env *env,
    int failed)
{
	const char	*why;
	size_t		 i, k = 0;

	put_fmt(put, arg, "{\"queue_name\": \"%s\", \"queue_id\": \"%s\", "
	    "\"arrival_time\": %lld, \"message_size\": %lld, "
	    "\"forced_expire\": false, ", failed ? "hold" : env->tries > 0 ?
	    "deferred" : "incoming", env->id, env->arrival,
	    (long long)env->size);
	json_field(put, arg, "sender", env->from);
	put_str(put, arg, ", \"recipients\": [");
	for (i = 0; i < env->nrcpt; i++) {
		const struct spool_rcpt *r = &env->rcpt[i];

		if (!json_listed(r, failed))
			continue;
		put_str(put, arg, k++ > 0 ? ", {" : "{");
		json_field(put, arg, "address", r->addr);
		/* Postfix leaves delay_reason out when there is none */
		why = r->reply != NULL ? r->reply : env->error;
		if (why[0] != '\0') {
			put_str(put, arg, ", ");
			json_field(put, arg, "delay_reason", why);
		}
		put_str(put, arg, "}");
	}
	put_str(put, arg, "]}\n");
}

void
report_state_init(struct report_state *st)
{
	memset(st, 0, sizeof(*st));
}

void
report_state_note(struct report_state *st, long long now, int delivered,
    const char *err)
{
	if (delivered && now >= st->ok) {
		st->ok = now;
		st->changed = 1;
	}
	if (err != NULL && err[0] != '\0' && now >= st->err_time) {
		st->err_time = now;
		/* one line: the file is lines, and so is every report */
		snprintf(st->err, sizeof(st->err), "%.*s",
		    (int)strcspn(err, "\r\n"), err);
		st->changed = 1;
	}
}

void
report_state_parse(struct report_state *st, const char *buf, size_t len)
{
	const char	*p = buf, *end = buf + len, *nl, *v;
	long long	*num;
	char		 line[REPORT_STATE_SIZE], *rest;
	size_t		 n;

	report_state_init(st);
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;	/* a cut last line: taken as it is */
		n = (size_t)(nl - p);
		if (n >= sizeof(line))
			continue;
		memcpy(line, p, n);
		line[n] = '\0';
		if (strlen(line) != n || (v = strchr(line, ' ')) == NULL)
			continue;	/* a NUL inside, or no value */
		v++;
		num = strncmp(line, "ok ", 3) == 0 ? &st->ok :
		    strncmp(line, "err_time ", 9) == 0 ? &st->err_time : NULL;
		if (num != NULL) {
			errno = 0;
			*num = strtoll(v, &rest, 10);
			if (errno != 0 || *rest != '\0' || rest == v || *num < 0)
				*num = 0;
		} else if (strncmp(line, "err ", 4) == 0)
			snprintf(st->err, sizeof(st->err), "%s", v);
	}
}

size_t
report_state_format(const struct report_state *st, char *buf, size_t size)
{
	int	n;

	n = snprintf(buf, size, "ok %lld\nerr_time %lld\nerr %s\n", st->ok,
	    st->err_time, st->err);
	if (n < 0)
		return 0;
	return (size_t)n < size ? (size_t)n : size - 1;
}

int
report_state_load(struct spool *sp, struct report_state *st, struct ferr *e)
{
	char	buf[REPORT_STATE_SIZE];
	size_t	len;

	report_state_init(st);
	if (spool_state_read(sp, REPORT_STATE_FILE, buf, sizeof(buf), &len,
	    e) == -1)
		return -1;
	report_state_parse(st, buf, len);
	return 0;
}

int
report_state_save(struct spool *sp, const struct report_state *st,
    struct ferr *e)
{
	struct report_state	now;
	char			buf[REPORT_STATE_SIZE];
	size_t			len;

	if (!st->changed)
		return 0;
	if (report_state_load(sp, &now, e) == -1)
		report_state_init(&now);	/* start it afresh */
	report_state_note(&now, st->ok, st->ok != 0, NULL);
	report_state_note(&now, st->err_time, 0, st->err);
	len = report_state_format(&now, buf, sizeof(buf));
	return spool_state_write(sp, REPORT_STATE_FILE, buf, len, e);
}

/* The smart hosts' holds, as failover left them (relay.h). */
static int
hosts_load(struct spool *sp, struct relay *r, struct ferr *e)
{
	memset(r, 0, sizeof(*r));	/* no config: every line */
	return relay_load(r, sp, e);
}

int
report_queue_scan(struct spool *sp, struct report_queue *rq, struct ferr *e)
{
	struct spool_ids ids;
	struct spool_env env;
	size_t		 i;
	int		 rc;

	memset(rq, 0, sizeof(*rq));
	rq->now = (long long)time(NULL);
	if (spool_list(sp, 1, &ids, e) == -1)
		return -1;
	rq->failed = ids.n;
	spool_ids_free(&ids);
	if (spool_list(sp, 0, &ids, e) == -1)
		return -1;
	rq->queued = ids.n;
	/* ids sort by arrival: the first that is still there is oldest */
	spool_env_init(&env);
	for (i = 0; i < ids.n && rq->oldest == 0; i++) {
		rc = spool_peek(sp, 0, ids.v[i], &env, e);
		if (rc == 1)
			rq->oldest = env.arrival > 0 ? env.arrival : 1;
		else if (rc == 0)
			rq->queued--;	/* delivered since listed */
		spool_env_free(&env);
		if (rc == -1) {
			spool_ids_free(&ids);
			return -1;
		}
	}
	spool_ids_free(&ids);
	if (report_state_load(sp, &rq->st, e) == -1)
		return -1;
	return hosts_load(sp, &rq->hosts, e);
}

void
report_limits_init(struct report_limits *l)
{
	size_t	i;

	for (i = 0; i < REPORT_NMETRIC; i++)
		l->warn[i] = l->crit[i] = -1;
}

static const char *const metric_names[REPORT_NMETRIC] = {
	"queued", "age", "failed", "since", "held"
};

/* A count, or with a duration's unit, seconds; -1 when bad. */
static long long
limit_value(const char *v, size_t len, int duration)
{
	long long	n = 0, mul = 1;
	size_t		i;

	if (len > 0 && duration && strchr("smhd", v[len - 1]) != NULL) {
		mul = v[len - 1] == 'm' ? 60 : v[len - 1] == 'h' ? 3600 :
		    v[len - 1] == 'd' ? 86400 : 1;
		len--;
	}
	if (len == 0 || len > 9)
		return -1;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		n = n * 10 + (v[i] - '0');
	}
	return n * mul;
}

int
report_limits_parse(struct report_limits *l, int crit, const char *arg,
    struct ferr *e)
{
	const char	*p = arg, *eq;
	long long	 v;
	size_t		 len, m;

	while (*p != '\0') {
		len = strcspn(p, ",");
		eq = memchr(p, '=', len);
		for (m = 0; eq != NULL && m < REPORT_NMETRIC; m++)
			if (strlen(metric_names[m]) == (size_t)(eq - p) &&
			    memcmp(p, metric_names[m], (size_t)(eq - p)) == 0)
				break;
		if (eq == NULL || m == REPORT_NMETRIC)
			return ferr_set(e, FE_USAGE, 0, "-%c: want queued=N, "
			    "age=T, failed=N, since=T or held=N, not %.*s",
			    crit ? 'c' : 'w', (int)len, p);
		v = limit_value(eq + 1, len - (size_t)(eq + 1 - p),
		    m == REPORT_AGE || m == REPORT_SINCE);
		if (v < 0)
			return ferr_set(e, FE_USAGE, 0, "-%c: bad value in "
			    "%.*s", crit ? 'c' : 'w', (int)len, p);
		if (crit)
			l->crit[m] = v;
		else
			l->warn[m] = v;
		p += len + (p[len] == ',');
	}
	return 0;
}

/* The plugin line as it is built: bounded, cut if it must be. */
struct line {
	char	*buf;
	size_t	 size, len;
};

static void
line_put(void *arg, const char *s, size_t len)
{
	struct line *ln = arg;

	if (ln->size == 0 || ln->len >= ln->size - 1)
		return;
	if (len > ln->size - 1 - ln->len)
		len = ln->size - 1 - ln->len;
	memcpy(ln->buf + ln->len, s, len);
	ln->len += len;
	ln->buf[ln->len] = '\0';
}

/* A limit in perfdata: "" when there is none. */
static void
perf_limit(struct line *ln, long long v)
{
	if (v >= 0)
		put_fmt(line_put, ln, "%lld", v);
}

static void
perf(struct line *ln, const char *label, long long v, const char *uom,
    const struct report_limits *l, int m)
{
	if (v < 0)
		put_fmt(line_put, ln, " %s=U;", label);
	else
		put_fmt(line_put, ln, " %s=%lld%s;", label, v, uom);
	perf_limit(ln, m >= 0 ? l->warn[m] : -1);
	line_put(ln, ";", 1);
	perf_limit(ln, m >= 0 ? l->crit[m] : -1);
	line_put(ln, ";0", 2);
}

static size_t
held_count(const struct relay *r, long long now)
{
	size_t	i, n = 0;

	for (i = 0; i < r->n; i++)
		n += relay_held(r, i, now);
	return n;
}

/*
 * With failover, mail may flow while the first host is dead: say which
 * hosts are held, so that a check catches it (held=0 warns).
 */
static void
held_text(struct line *ln, const struct relay *r, long long now)
{
	const char	*sep = ", held: ";
	size_t		 i;

	for (i = 0; i < r->n; i++) {
		if (!relay_held(r, i, now))
			continue;
		put_fmt(line_put, ln, "%s%s (%u failures, %lld s more)", sep,
		    r->h[i].name, r->h[i].fails, r->h[i].until - now);
		sep = ", ";
	}
}

int
report_check(const struct report_queue *rq, const struct report_limits *l,
    char *out, size_t size)
{
	static const char *const status[] = { "OK", "WARNING", "CRITICAL" };
	struct line	ln = { out, size, 0 };
	long long	v[REPORT_NMETRIC];
	long long	err_age;
	size_t		m;
	int		code = REPORT_OK, c;

	v[REPORT_QUEUED] = (long long)rq->queued;
	v[REPORT_AGE] = rq->oldest > 0 ? rq->now - rq->oldest : 0;
	v[REPORT_FAILED] = (long long)rq->failed;
	v[REPORT_SINCE] = rq->st.ok > 0 ? rq->now - rq->st.ok : -1;
	v[REPORT_HELD] = (long long)held_count(&rq->hosts, rq->now);
	err_age = rq->st.err_time > 0 ? rq->now - rq->st.err_time : -1;
	if (size > 0)
		out[0] = '\0';
	for (m = 0; m < REPORT_NMETRIC; m++) {
		/* never delivered while mail waits: as old as the oldest */
		long long x = m == REPORT_SINCE && v[m] < 0 ?
		    v[REPORT_AGE] : v[m];

		if (m == REPORT_SINCE && rq->queued == 0)
			continue;
		c = l->crit[m] >= 0 && x > l->crit[m] ? REPORT_CRITICAL :
		    l->warn[m] >= 0 && x > l->warn[m] ? REPORT_WARNING :
		    REPORT_OK;
		code = c > code ? c : code;
	}
	put_fmt(line_put, &ln, "FERRY %s - %zu queued, oldest %lld s, "
	    "%zu failed, ", status[code], rq->queued, v[REPORT_AGE],
	    rq->failed);
	if (v[REPORT_SINCE] < 0)
		put_str(line_put, &ln, "no delivery yet");
	else
		put_fmt(line_put, &ln, "last delivery %lld s ago",
		    v[REPORT_SINCE]);
	/* the error only while it is news: no success came after it */
	if (err_age >= 0 && rq->st.err_time >= rq->st.ok) {
		put_fmt(line_put, &ln, ", last error %lld s ago: ", err_age);
		put_esc(line_put, &ln, rq->st.err, ESC_PLAIN);
	}
	held_text(&ln, &rq->hosts, rq->now);
	put_str(line_put, &ln, " |");
	perf(&ln, "queued", v[REPORT_QUEUED], "", l, REPORT_QUEUED);
	perf(&ln, "oldest_age", v[REPORT_AGE], "s", l, REPORT_AGE);
	perf(&ln, "failed", v[REPORT_FAILED], "", l, REPORT_FAILED);
	perf(&ln, "since_success", v[REPORT_SINCE], "s", l, REPORT_SINCE);
	perf(&ln, "since_error", err_age, "s", l, -1);
	if (rq->hosts.n > 1)
		perf(&ln, "held_hosts", v[REPORT_HELD], "", l, REPORT_HELD);
	/* a line cut short still ends: the newline has its byte */
	if (size >= 2) {
		if (ln.len > size - 2)
			ln.len = size - 2;
		out[ln.len] = '\n';
		out[ln.len + 1] = '\0';
	}
	return code;
}

void
report_unknown(const char *why, char *out, size_t size)
{
	struct line	ln = { out, size, 0 };

	if (size > 0)
		out[0] = '\0';
	put_str(line_put, &ln, "FERRY UNKNOWN - ");
	put_esc(line_put, &ln, why, ESC_PLAIN);
	if (size >= 2) {
		if (ln.len > size - 2)
			ln.len = size - 2;
		out[ln.len] = '\n';
		out[ln.len + 1] = '\0';
	}
}

static void
gauge(report_put_fn *put, void *arg, const char *name, const char *help,
    long long v)
{
	put_fmt(put, arg, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", name,
	    help, name, name, v);
}

/* Each smart host's hold and failures in a row (failover). */
static void
host_metrics(report_put_fn *put, void *arg, const struct relay *r,
    long long now)
{
	size_t	i;

	put_str(put, arg, "# HELP ferry_smarthost_held 1 while failover "
	    "skips this smart host after it failed.\n"
	    "# TYPE ferry_smarthost_held gauge\n");
	for (i = 0; i < r->n; i++)
		put_fmt(put, arg, "ferry_smarthost_held{smarthost=\"%s\"} "
		    "%d\n", r->h[i].name, relay_held(r, i, now));
	put_str(put, arg, "# HELP ferry_smarthost_failures This smart "
	    "host's failures in a row.\n"
	    "# TYPE ferry_smarthost_failures gauge\n");
	for (i = 0; i < r->n; i++)
		put_fmt(put, arg, "ferry_smarthost_failures{smarthost=\"%s\"} "
		    "%u\n", r->h[i].name, r->h[i].fails);
}

void
report_metrics(report_put_fn *put, void *arg, const struct report_queue *rq)
{
	gauge(put, arg, "ferry_queue_messages", "Messages in the queue.",
	    (long long)rq->queued);
	gauge(put, arg, "ferry_failed_messages", "Messages kept in failed/.",
	    (long long)rq->failed);
	gauge(put, arg, "ferry_queue_oldest_age_seconds", "Age of the oldest "
	    "queued message when this file was written; 0 when none.",
	    rq->oldest > 0 ? rq->now - rq->oldest : 0);
	gauge(put, arg, "ferry_queue_oldest_arrival_timestamp_seconds",
	    "Arrival of the oldest queued message; 0 when none.", rq->oldest);
	gauge(put, arg, "ferry_last_success_timestamp_seconds", "Last time "
	    "the smart host took a message; 0 when never.", rq->st.ok);
	gauge(put, arg, "ferry_last_error_timestamp_seconds", "Last time a "
	    "message was deferred or refused; 0 when never.",
	    rq->st.err_time);
	put_str(put, arg, "# HELP ferry_last_error_info The last deferral or "
	    "refusal's reply.\n# TYPE ferry_last_error_info gauge\n"
	    "ferry_last_error_info{reason=\"");
	put_esc(put, arg, rq->st.err, ESC_LABEL);
	put_str(put, arg, "\"} 1\n");
	if (rq->hosts.n > 1)
		host_metrics(put, arg, &rq->hosts, rq->now);
	gauge(put, arg, "ferry_metrics_timestamp_seconds", "When this file "
	    "was written (after a queue run).", rq->now);
}

/* The metrics file as it is written; the first failure sticks. */
struct mfile {
	int	fd;
	int	err;
};

static void
mfile_put(void *arg, const char *s, size_t len)
{
	struct mfile	*f = arg;

	if (f->err == 0 && plat_write_full(f->fd, s, len) == -1)
		f->err = errno;
}

int
report_metrics_write(const char *path, const struct report_queue *rq,
    struct ferr *e)
{
	struct mfile	f = { -1, 0 };
	char		tmp[1100];

	if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >=
	    (int)sizeof(tmp))
		return ferr_set(e, FE_CONFIG, 0, "metrics_file: path too long");
	(void)unlink(tmp);	/* a dead run's, with our pid */
	if ((f.fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) == -1)
		return ferr_set(e, FE_TEMP, errno, "create %s", tmp);
	report_metrics(mfile_put, &f, rq);
	/* node_exporter runs as its own user: it must read the file */
	if (f.err == 0 && (fchmod(f.fd, 0644) == -1 || fsync(f.fd) == -1))
		f.err = errno;
	if (close(f.fd) == -1 && f.err == 0)
		f.err = errno;
	if (f.err == 0 && rename(tmp, path) == -1)
		f.err = errno;
	if (f.err != 0) {
		(void)unlink(tmp);
		return ferr_set(e, FE_TEMP, f.err, "write %s", path);
	}
	return 0;
}
