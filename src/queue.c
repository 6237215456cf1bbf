#include <sys/stat.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "anchors.h"
#include "bounce.h"
#include "confine.h"
#include "dsn.h"
#include "limit.h"
#include "log.h"
#include "queue.h"
#include "plat.h"

#define FILE_MAX	(16 * 1024 * 1024)	/* a tls_ca_file */

static void	flight_done(void *, struct smtp_txn *);
static void	close_session(struct queue *);
static void	host_down(struct queue *, const struct ferr *);
static void	ground(struct queue *);

static int
read_file(const char *path, char **buf, size_t *len, struct ferr *e)
{
	struct stat st;
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return ferr_set(e, FE_CONFIG, errno, "%s", path);
	if (fstat(fd, &st) == -1 || st.st_size > FILE_MAX ||
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
trust_load(struct queue *q, struct ferr *e)
{
	const struct conf *c = q->conf;
	size_t	nb = c->tls_builtin_ca ? anchors_builtin_n : 0, len = 0;
	char	*pem = NULL;
	int	 rc;

	if (c->tls_ca_file[0] != '\0') {
		if (read_file(c->tls_ca_file, &pem, &len, e) == -1)
			return -1;
		rc = ta_add_pem(&q->extra, pem, len, c->tls_ca_file, e);
		free(pem);
		if (rc == -1)
			return -1;
	}
	q->anchors = calloc(nb + q->extra.n + 1, sizeof(*q->anchors));
	if (q->anchors == NULL)
		return ferr_set(e, FE_OS, errno, "trust anchors");
	if (nb > 0)
		memcpy(q->anchors, anchors_builtin, nb * sizeof(*q->anchors));
	if (q->extra.n > 0)
		memcpy(q->anchors + nb, q->extra.v,
		    q->extra.n * sizeof(*q->anchors));
	q->trust.ta = q->anchors;
	q->trust.nta = nb + q->extra.n;
	/* the pins are the host's: hc's, set again for each (pick) */
	q->trust.pins = (const unsigned char (*)[TLS_PIN_SIZE])q->hc->pins;
	q->trust.npins = q->hc->npins;
	q->trust.certs = q->extra.cert;		/* their own constraints */
	q->trust.ncerts = q->extra.n;
	return 0;
}

int
queue_init(struct queue *q, const struct conf *c, struct spool *sp,
    smtp_trace_fn *trace, int print_errors, struct ferr *e)
{
	size_t	i;

	memset(q, 0, sizeof(*q));
	q->conf = c;
	q->sp = sp;
	q->trace = trace;
	q->print_errors = print_errors;
	q->only_uid = -1;
	net_conn_init(&q->early);
	ta_init(&q->extra);
	if ((q->hc = malloc(sizeof(*q->hc))) == NULL) {
		ferr_set(e, FE_OS, errno, "config");
		goto fail;
	}
	conf_copy(q->hc, c);
	relay_init(&q->relay, c);
	if (sp != NULL && relay_load(&q->relay, sp, e) == -1)
		log_warn("%s", e->text);	/* then nothing is held */
	if (trust_load(q, e) == -1)
		goto fail;
	/*
	 * About 180 KB of buffers: the heap, not the stack. calloc: its
	 * own mmap, zero pages that stay untouched until used.
	 */
	if ((q->s = calloc(1, sizeof(*q->s))) == NULL ||
	    (q->fly = calloc(SMTP_WINDOW + 1, sizeof(*q->fly))) == NULL) {
		ferr_set(e, FE_OS, errno, "session");
		goto fail;
	}
	/* resume TLS across runs */
	smtp_set_cache(q->s, sp != NULL ? sp->dirfd : -1);
	smtp_set_done(q->s, flight_done, q);
	/* confined before the first byte from the network (confine.h) */
	confine_init(&q->cf, c->confine, sp != NULL ? sp->dirfd : -1,
	    sp != NULL ? sp->faileddirfd : -1, c->port);
	for (i = 0; i < c->nhosts; i++)		/* any may be next */
		confine_port(&q->cf, c->hosts[i].port);
	smtp_set_ready(q->s, c->confine ? confine_ready : NULL, &q->cf);
	return 0;
fail:
	queue_end(q);
	return -1;
}

void
queue_restrict(struct queue *q, long long uid)
{
	q->only_uid = uid;
}

void
queue_early(struct queue *q, struct net_conn *nc)
{
	net_conn_free(&q->early);
	q->early = *nc;
	net_conn_init(nc);
}

void
queue_end(struct queue *q)
{
	struct ferr	e;

	if (q->s != NULL) {
		close_session(q);
		smtp_set_ready(q->s, NULL, NULL);	/* wipes the secret */
	}
	ground(q);
	if (q->sp != NULL && report_state_save(q->sp, &q->seen, &e) == -1)
		log_warn("%s", e.text);
	q->seen.changed = 0;
	confine_end(&q->cf);
	net_conn_free(&q->early);
	free(q->fly);
	q->fly = NULL;
	free(q->s);
	q->s = NULL;
	free(q->anchors);
	q->anchors = NULL;
	if (q->hc != NULL)
		conf_wipe(q->hc);
	free(q->hc);
	q->hc = NULL;
	ta_free(&q->extra);
	spool_ids_free(&q->bounces);
}

void
queue_result_free(struct queue_result *res)
{
	free(res->rcpt);
	res->rcpt = NULL;
	res->n = 0;
}

/* One message on its way, and what it needs to be recorded. */
struct queue_flight {
	struct spool_msg	*m;
	struct spool_env	*env;
	struct queue_result	*res;
	size_t			*idx;		/* res->rcpt[i] is env's idx[i] */
	struct dsn_rcpt		*fails;
	struct smtp_txn		 t;
	long long		 now;
	unsigned		 flags;		/* smtp_send's */
	/*
	 * The recipients of this transaction: res->rcpt, or after a
	 * "too many recipients" the ones left, in more; r[j] is
	 * res->rcpt[pos[j]] and env's rcpt[bidx[j]].
	 */
	struct smtp_rcpt	*r;
	size_t			 nr;
	size_t			*bidx;
	struct smtp_rcpt	*more;
	size_t			*pos;
	int			 again;		/* landed; the rest to go */
	int			 sent;		/* handed to smtp_send */
	int			 owned;		/* the own_ ones are used */
	struct spool_msg	 own_m;
	struct spool_env	 own_env;
	struct queue_result	 own_res;
	struct ferr		 err;
	int			 landed;	/* recorded; free it */
};

static int	land(struct queue *, struct queue_flight *);
static void	flight_free(struct queue_flight *);
static void	launch(struct queue *, struct queue_flight *);

/*
 * smtp_set_done's hook: record a message the moment its last reply is
 * in, not after the next one's data, so that a crash leaves no more
 * sent but unrecorded than before pipelining. reap frees it.
 */
static void
flight_done(void *arg, struct smtp_txn *t)
{
	struct queue_flight *f = (struct queue_flight *)(void *)((char *)t -
	    offsetof(struct queue_flight, t));

	(void)land(arg, f);
}

/* Record the messages whose replies are all in, and free them. */
static void
reap(struct queue *q)
{
	size_t	i, k = 0;

	for (i = 0; i < q->nfly; i++) {
		if (q->fly[i]->t.done && !q->fly[i]->landed)
			(void)land(q, q->fly[i]);
		if (q->fly[i]->landed && !q->fly[i]->again)
			flight_free(q->fly[i]);
		else
			q->fly[k++] = q->fly[i];
	}
	q->nfly = k;
}

/* Close the session, once every message on it is done and recorded. */
static void
close_session(struct queue *q)
{
	struct ferr	why;

	if (q->open)
		smtp_close(q->s);	/* reads what is still due */
	q->open = 0;
	reap(q);
	if (q->host_bad) {	/* a flight found it failed (fail_over) */
		why = q->host_err;
		host_down(q, &why);
	}
}

/*
 * Another smart host is left to try in this run, and this process can
 * still connect to it.
 */
static int
other_host(const struct queue *q)
{
	return !q->pinned && confine_can_connect(&q->cf) &&
	    relay_next(&q->relay, (long long)time(NULL)) < q->relay.n;
}

/* Host hc's failed at now: hold it, say so, and choose again. */
static void
host_down(struct queue *q, const struct ferr *why)
{
	struct ferr	e;
	size_t		next;
	unsigned	hold;
	long long	now = (long long)time(NULL);

	q->chosen = 0;
	q->host_bad = 0;
	if (q->pinned)
		return;
	hold = relay_failed(&q->relay, q->hc->host, now);
	if (q->sp != NULL && relay_save(&q->relay, q->sp, &e) == -1)
		log_warn("%s", e.text);
	if ((next = relay_next(&q->relay, now)) == q->relay.n)
		return;
	log_warn("smart host %s failed (%s); the next session goes to %s; this "
	    "one is skipped for %u s (failover_hold)",
	    q->relay.h[q->hc->host].name, why->text, q->relay.h[next].name,
	    hold);
}

/* Smart host i is the one the next session goes to (hc, its pins). */
static void
use_host(struct queue *q, size_t i)
{
	conf_pick(q->hc, i);
	q->trust.npins = q->hc->npins;
	q->chosen = 1;
	if (i != 0)	/* net_start went to the first */
		net_conn_free(&q->early);
}

/*
 * Connect to the host in use, or, when none is chosen or it fails, to
 * the next one (relay.h) until one takes the session: each is tried
 * once a run.
 */
static int
connect_next(struct queue *q, struct ferr *e)
{
	size_t	i;

	for (;;) {
		if (!q->chosen) {
			i = relay_next(&q->relay, (long long)time(NULL));
			if (i == q->relay.n)
				return -1;	/* e: the last host's error */
			relay_tried(&q->relay, i);
			use_host(q, i);
		}
		/* the hold sends the next run to the next host */
		if (!confine_can_connect(&q->cf))
			return ferr_set(e, FE_TEMP, 0, "no new connection in "
			    "capability mode: the rest waits for the next run");
		if (smtp_open(q->s, q->hc, &q->trust, q->trace, NULL,
		    &q->early, e) == 0)
			return 0;
		host_down(q, e);
	}
}

/*
 * A session to send on: the open one, or a new one. A transaction
 * that ended needs no RSET; smtp_send sends one, pipelined, when a
 * MAIL may still stand.
 */
static int
session(struct queue *q, struct ferr *e)
{
	unsigned cap = q->conf->max_messages_per_session;
	struct ferr	se;

	if (q->throttled) {	/* it asked: nothing more this run */
		*e = q->throttle_err;
		return -1;
	}
	if (q->open && smtp_idle_ok(q->s) && !q->host_bad && (cap == 0 ||
	    q->in_session < cap))
		return 0;
	if (q->open && smtp_idle_ok(q->s) && !q->host_bad)
		log_debug("%u messages on this session "
		    "(max_messages_per_session): a new one", q->in_session);
	if (q->open)
		close_session(q);	/* it died between messages */
	if (q->down) {	/* once per run: do not hammer a host that is down */
		*e = q->down_err;
		return -1;
	}
	if (connect_next(q, e) == -1) {
		q->down = 1;	/* every host, once: until the next run */
		q->down_err = *e;
		return -1;
	}
	if (!q->pinned)
		relay_ok(&q->relay, q->hc->host);
	if (q->sp != NULL && relay_save(&q->relay, q->sp, &se) == -1)
		log_warn("%s", se.text);
	q->open = 1;
	q->sessions++;
	q->in_session = 0;
	return 0;
}

/*
 * send_rate: at most that many transactions start in a minute, evenly
 * spaced, so that a provider's published limit (Office 365: 30 a
 * minute) is never hit. One process paces itself; two runs at once
 * are not coordinated.
 */
static void
pace(struct queue *q)
{
	long long	gap, wait;

	if (q->conf->send_rate == 0)
		return;
	gap = 60000 / (long long)q->conf->send_rate;
	wait = q->last_ms + gap - plat_now_ms();
	if (q->last_ms != 0 && wait > 0) {
		log_debug("send_rate %u a minute: waiting %lld ms",
		    q->conf->send_rate, wait);
		plat_sleep_ms(wait);
	}
	q->last_ms = plat_now_ms();
}

static void
remember_bounce(struct queue *q, const char *id)
{
	void	*v;

	if (q->bounces.n == q->bouncesize) {
		size_t size = q->bouncesize ? 2 * q->bouncesize : 8;

		if ((v = realloc(q->bounces.v, size *
		    sizeof(*q->bounces.v))) == NULL)
			return;		/* the next run delivers it */
		q->bounces.v = v;
		q->bouncesize = size;
	}
	memcpy(q->bounces.v[q->bounces.n++], id, SPOOL_ID_SIZE);
}

/* The seconds to wait after the tries-th failed try. */
static unsigned
backoff(const struct conf *c, unsigned tries)
{
	size_t	i = tries == 0 ? 0 : tries - 1;

	if (c->nretry == 0)
		return 300;
	return c->retry[i < c->nretry ? i : c->nretry - 1];
}

static void
log_rcpt(const struct queue *q, const struct spool_env *env,
    const char *addr, const char *status, const char *text, long long now)
{
	const char *relay = q->open ? smtp_peer(q->s) : "none";

	log_info("%s: to=<%s>, relay=%s, delay=%lld, tries=%u, status=%s "
	    "(%s)", env->id, addr, relay, now - env->arrival, env->tries + 1,
	    status, text);
}

/* A RCPT refused because the transaction has too many (limit.h). */
static int
too_many(const struct smtp_rcpt *r)
{
	return (r->code / 100 == 4 || r->code / 100 == 5) &&
	    limit_reply(r->text) == LIMIT_RCPTS;
}

/*
 * The class a reply counts as. A 5xx that says the sender's quota is
 * used up (limit.h) is deferred with quota_replies defer: the same
 * message goes once the quota allows.
 */
static int
reply_class(const struct queue *q, int code, const char *text)
{
	if (code / 100 == 5 && q->conf->quota_defer &&
	    limit_reply(text) == LIMIT_QUOTA)
		return 4;
	return code / 100;
}

/*
 * A reply that asks ferry to slow down (limit.h) ends the run: what is
 * not on the wire yet stays queued, untouched, for the next run.
 */
static void
heed(struct queue *q, const char *text)
{
	enum limit_kind	k = limit_reply(text);

	if (q->throttled || (k != LIMIT_THROTTLE &&
	    (k != LIMIT_QUOTA || !q->conf->quota_defer)))
		return;
	if (other_host(q)) {	/* the next host takes the rest */
		if (!q->host_bad) {
			q->host_bad = 1;
			ferr_set(&q->host_err, FE_TEMP, 0, "it asked to slow "
			    "down: %s", text);
		}
		return;
	}
	q->throttled = 1;
	ferr_set(&q->throttle_err, FE_TEMP, 0, "the smart host asked to "
	    "slow down: %s", text);
	log_warn("%s: %s; this queue run stops, the rest stays queued",
	    q->open ? smtp_peer(q->s) : "smart host", text);
}

/*
 * The reason a message waits, for mailq: with several smart hosts it
 * names the one that gave it.
 */
static void
note_error(const struct queue *q, struct spool_env *env, const char *text)
{
	const char	*host = q->hc->smarthost;

	if (q->relay.n > 1 && strncmp(text, host, strlen(host)) != 0)
		snprintf(env->error, sizeof(env->error), "%s: %s",
		    q->relay.h[q->hc->host].name, text);
	else
		snprintf(env->error, sizeof(env->error), "%s", text);
}

/* Decide each pending recipient's state from the replies. */
static void
sort_out(struct queue *q, struct spool_env *env, struct smtp_rcpt *r,
    size_t *idx, size_t n, int rc, const struct ferr *e,
    const char *final, struct queue_result *res, struct dsn_rcpt *fails,
    size_t *nfail, long long now, int again)
{
	size_t	i;
	int	cls;

	for (i = 0; i < n; i++) {
		struct spool_rcpt *sr = &env->rcpt[idx[i]];

		if (again && too_many(&r[i]))
			continue;	/* the next transaction's */
		cls = reply_class(q, r[i].code, r[i].text);
		/* a 250 to RCPT means nothing if the message failed later */
		if (rc == -1 && cls != 4 && cls != 5) {
			cls = reply_class(q, e->kind == FE_PERM ? 500 : 400,
			    e->text);
			snprintf(r[i].text, sizeof(r[i].text), "%s", e->text);
		}
		if (cls == 2) {
			sr->state = SPOOL_SENT;
			res->sent++;
			log_rcpt(q, env, sr->addr, "sent", final, now);
		} else if (cls == 5) {
			fails[(*nfail)].addr = sr->addr;
			fails[(*nfail)].reply = r[i].text;
			fails[(*nfail)++].expired = 0;
			log_rcpt(q, env, sr->addr, "bounced", r[i].text, now);
		} else {
			res->pending++;
			note_error(q, env, r[i].text);
			log_rcpt(q, env, sr->addr, "deferred", r[i].text, now);
		}
	}
}

/* Pending recipients past max_queue_age become expired failures. */
static void
expire(const struct queue *q, struct spool_env *env,
    struct dsn_rcpt *fails, size_t *nfail, char *why, size_t whysize,
    long long now)
{
	size_t	i, k, refused = *nfail;

	if (now - env->arrival < (long long)q->conf->max_queue_age)
		return;
	snprintf(why, whysize, "gave up after %lld hours in the queue; "
	    "last error: %s", (now - env->arrival) / 3600, env->error);
	for (i = 0; i < env->nrcpt; i++) {
		struct spool_rcpt *sr = &env->rcpt[i];

		if (sr->state != SPOOL_PENDING)
			continue;
		for (k = 0; k < refused; k++)	/* refused just now */
			if (fails[k].addr == sr->addr)
				break;
		if (k < refused)
			continue;
		fails[*nfail].addr = sr->addr;
		fails[*nfail].reply = why;
		fails[(*nfail)++].expired = 1;
		log_info("%s: to=<%s>, delay=%lld, tries=%u, status=expired "
		    "(%s)", env->id, sr->addr, now - env->arrival,
		    env->tries + 1, env->error);
	}
}

/*
 * A bounce is owed unless -oep prints the failures, the sender is <>
 * (no bounce of a bounce, RFC 5321 4.5.5) or -N left out FAILURE.
 */
static int
bounce_owed(const struct queue *q, const struct spool_env *env)
{
	return env->from[0] != '\0' && !q->print_errors &&
	    (env->dsn_notify[0] == '\0' ||
	    strstr(env->dsn_notify, "FAILURE") != NULL);
}

/*
 * Mark the failures: owed a bounce, with the reply that bounce will
 * quote (bounce_run makes it), or just FAILED.
 */
static int
settle_failures(struct queue *q, struct spool_env *env,
    struct dsn_rcpt *fails, size_t nfail, struct queue_result *res,
    struct ferr *e)
{
	size_t	i, k;
	int	owed = bounce_owed(q, env);

	for (i = 0; i < nfail; i++)
		for (k = 0; k < env->nrcpt; k++) {
			struct spool_rcpt *sr = &env->rcpt[k];

			if (sr->addr != fails[i].addr)
				continue;
			sr->state = !owed ? SPOOL_FAILED : fails[i].expired ?
			    SPOOL_EXPIRED : SPOOL_REFUSED;
			/* out of memory, the bounce just says less */
			if (owed)
				(void)spool_env_set_reply(env, k,
				    fails[i].reply, e);
		}
	res->failed += nfail;
	q->owed |= owed && nfail > 0;
	return 0;
}

/* Record the outcome: remove the entry, move it to failed/, or wait. */
static int
record(struct queue *q, struct spool_msg *m, struct spool_env *env,
    long long now, struct ferr *e)
{
	size_t	i;
	int	failed = 0;

	if (spool_env_pending(env) == 0) {
		for (i = 0; i < env->nrcpt; i++)
			failed |= env->rcpt[i].state == SPOOL_FAILED;
		if (failed && env->from[0] == '\0') {
			/* a bounce that bounced: keep it for the admin */
			log_warn("%s: undeliverable bounce moved to failed/",
			    env->id);
			return spool_fail(q->sp, m, env, e);
		}
		if (spool_env_owed(env) == 0)
			return spool_done(q->sp, m, e);
		/* kept, owed a bounce, until bounce_run makes it */
		if (spool_update(q->sp, env, e) == -1) {
			spool_release(m);
			return -1;
		}
		spool_release(m);
		return 0;
	}
	env->tries++;
	env->next = now + backoff(q->conf, env->tries);
	if (spool_update(q->sp, env, e) == -1) {
		spool_release(m);
		return -1;
	}
	spool_release(m);
	return 0;
}

/* Free a flight; what it owns goes with it. */
static void
flight_free(struct queue_flight *f)
{
	if (f->owned) {
		queue_result_free(&f->own_res);
		spool_env_free(&f->own_env);
	}
	free(f->idx);
	free(f->fails);
	free(f->more);
	free(f->pos);
	free(f->bidx);
	free(f);
}

static size_t
count_too_many(const struct queue_flight *f)
{
	size_t	i, n = 0;

	for (i = 0; i < f->nr; i++)
		n += too_many(&f->r[i]) != 0;
	return n;
}

/* A further transaction's replies go back into res, for the caller. */
static void
copy_back(struct queue_flight *f)
{
	size_t	j;

	if (f->r == f->res->rcpt)
		return;
	for (j = 0; j < f->nr; j++)
		f->res->rcpt[f->pos[j]] = f->r[j];
}

/*
 * The recipients refused as too many become the next transaction's
 * (in f->more, in place after the first). -1: out of memory; they
 * wait for the next run.
 */
static int
next_batch(struct queue_flight *f)
{
	size_t	j, k = 0, n = f->res->n;

	if (f->more == NULL) {
		if ((f->more = calloc(n + 1, sizeof(*f->more))) == NULL ||
		    (f->pos = calloc(n + 1, sizeof(*f->pos))) == NULL ||
		    (f->bidx = calloc(n + 1, sizeof(*f->bidx))) == NULL)
			return -1;
		for (j = 0; j < n; j++) {
			f->pos[j] = j;
			f->bidx[j] = f->idx[j];
		}
	}
	for (j = 0; j < f->nr; j++) {
		if (!too_many(&f->r[j]))
			continue;
		f->more[k].addr = f->r[j].addr;
		f->pos[k] = f->pos[j];
		f->bidx[k++] = f->bidx[j];
	}
	f->r = f->more;
	f->nr = k;
	return 0;
}

/*
 * f failed for the host's sake, not the message's: AUTH was refused,
 * the host asked to slow down, or the session broke. With another
 * host left, the host is held and
 * the session ends, and f goes to the next host in this run, as if
 * never sent (launch); unless its end of data went out before the
 * break: the server may hold it, so it waits for a later run.
 */
static int
fail_over(struct queue *q, struct queue_flight *f)
{
	size_t	i;

	if (!(f->t.auth || f->t.broke ||
	    limit_reply(f->t.why.text) == LIMIT_THROTTLE) || !other_host(q))
		return 0;
	if (!q->host_bad) {
		q->host_bad = 1;
		q->host_err = f->t.why;
	}
	if (f->t.unsure)
		return 0;
	for (i = 0; i < f->nr; i++) {
		f->r[i].code = 0;
		f->r[i].text[0] = '\0';
	}
	f->again = 1;
	f->landed = 1;
	return 1;
}

/*
 * Record what became of f's message (its replies are all in, or it
 * never went); reap frees f. -1 only when the spool could not record
 * it; f->m is released either way.
 */
static int
land(struct queue *q, struct queue_flight *f)
{
	struct spool_env	*env = f->env;
	struct queue_result	*res = f->res;
	size_t			 i, nfail = 0;
	char			 why[SPOOL_ERROR_SIZE + 64];
	int			 rc;

	if (f->sent) {
		if (f->t.rc == -1)
			res->why = f->t.why;
		if (f->t.rc == -1 && fail_over(q, f))
			return 0;
		/* AUTH refused: as if connecting failed, for the run */
		if (f->t.auth) {
			q->down = 1;
			q->down_err = f->t.why;
		}
		/*
		 * RFC 5321 4.5.3.1.10: the ones refused as too many go in a
		 * further transaction, now. Only after one that delivered
		 * (rc 0): each round takes some, so the rounds end.
		 */
		f->again = f->t.rc == 0 && count_too_many(f) > 0;
		for (i = 0; i < f->nr; i++)
			if (f->r[i].code / 100 == 4 || f->r[i].code / 100 == 5)
				heed(q, f->r[i].text);
		if (f->t.rc == -1 && !f->t.auth)
			heed(q, f->t.why.text);
		if (f->t.rc == -1 && reply_class(q, 500, f->t.why.text) == 4)
			res->why.kind = FE_TEMP;	/* a quota: it waits */
		sort_out(q, env, f->r, f->bidx != NULL ? f->bidx : f->idx,
		    f->nr, f->t.rc, &res->why,
		    f->t.reply, res, f->fails, &nfail, f->now, f->again);
	} else if (f->nr > 0) {
		for (i = 0; i < f->nr; i++) {
			snprintf(f->r[i].text, sizeof(f->r[i].text), "%s",
			    res->why.text);
			log_rcpt(q, env, f->r[i].addr, "deferred",
			    res->why.text, f->now);
		}
		note_error(q, env, res->why.text);
	}
	copy_back(f);
	if (spool_env_pending(env) > 0 && !f->again)
		expire(q, env, f->fails, &nfail, why, sizeof(why), f->now);
	(void)settle_failures(q, env, f->fails, nfail, res, &res->why);
	res->pending = spool_env_pending(env);
	/* for monitoring: when mail last went, and why it last did not */
	report_state_note(&q->seen, f->now, res->sent > 0, res->pending > 0 ?
	    env->error : nfail > 0 ? f->fails[0].reply : NULL);
	/*
	 * Before the rest go, those that took it are on disk as SENT: a
	 * crash now must not send it to them again.
	 */
	if (f->again && spool_update(q->sp, env, &f->err) == 0 &&
	    next_batch(f) == 0) {
		log_info("%s: %zu recipients left over as too many for one "
		    "transaction: sending them in another", env->id, f->nr);
		f->landed = 1;
		return 0;
	}
	f->again = 0;
	rc = record(q, f->m, env, f->now, &f->err);
	if (rc == -1 && f->owned)	/* a run goes on; say it here */
		log_warn("%s: %s", env->id, f->err.text);
	if (rc == -1) {
		q->land_rc = -1;
		q->land_err = f->err;
	}
	f->landed = 1;
	return rc;
}

/*
 * Start delivering one taken entry: a flight whose replies come back
 * later (smtp_send), or, when it cannot go now, one already done.
 * Owned: m, env and res move into the flight, which frees them.
 */
static int
take_off(struct queue *q, struct spool_msg *m, struct spool_env *env,
    struct queue_result *res, int owned, unsigned flags, struct ferr *e)
{
	struct queue_flight *f;
	size_t		 i, n = 0;

	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->idx = calloc(env->nrcpt + 1, sizeof(*f->idx))) == NULL ||
	    (f->fails = calloc(env->nrcpt + 1, sizeof(*f->fails))) == NULL ||
	    (res->rcpt = calloc(env->nrcpt + 1, sizeof(*res->rcpt))) ==
	    NULL) {
		if (f != NULL)
			flight_free(f);
		spool_release(m);
		return ferr_set(e, FE_OS, errno, "recipients");
	}
	f->now = (long long)time(NULL);
	f->owned = owned;
	if (owned) {
		f->own_m = *m;
		f->own_env = *env;
		f->own_res = *res;
		spool_env_init(env);
		res->rcpt = NULL;
		m = &f->own_m;
		env = &f->own_env;
		res = &f->own_res;
	}
	f->m = m;
	f->env = env;
	f->res = res;
	f->flags = flags | ((env->flags & SPOOL_F_8BIT) ? SMTP_BODY_8BIT : 0);
	for (i = 0; i < env->nrcpt; i++)
		if (env->rcpt[i].state == SPOOL_PENDING) {
			f->idx[n] = i;
			res->rcpt[n++].addr = env->rcpt[i].addr;
		}
	res->n = n;
	f->r = res->rcpt;
	f->nr = n;
	q->fly[q->nfly++] = f;
	launch(q, f);
	return 0;
}

/* Hand f's transaction to smtp_send, or, when it cannot go, land it. */
static void
launch(struct queue *q, struct queue_flight *f)
{
	struct spool_env *env = f->env;
	struct smtp_dsn	 dsn;
	struct ferr	 broke;

	if (f->nr > 0 && !q->throttled && !q->down)
		pace(q);
	/* still landed (again) while session may reap: not landed twice */
	if (f->nr == 0 || session(q, &f->res->why) == -1) {
		f->landed = f->again = f->sent = 0;
		f->t.done = 1;		/* reap records it */
		return;
	}
	f->landed = f->again = 0;
	q->in_session++;
	dsn.notify = env->dsn_notify;
	dsn.ret = env->dsn_ret;
	dsn.envid = env->dsn_envid;
	f->sent = 1;
	if (smtp_send(q->s, &f->t, env->from, f->r, f->nr, f->m->fd,
	    env->wire, f->flags, &dsn, &broke) == -1)
		close_session(q);	/* every flight on it is done; f too */
}

/* Start the further transactions landed flights ask for; how many. */
static int
refly(struct queue *q)
{
	size_t	i;
	int	n = 0;

	for (;; n++) {
		for (i = 0; i < q->nfly && !q->fly[i]->again; i++)
			;
		if (i == q->nfly)
			return n;
		launch(q, q->fly[i]);
		reap(q);
	}
}

/* Flights still owed a further transaction when the queue ends. */
static void
ground(struct queue *q)
{
	struct ferr	e;
	size_t		i;

	for (i = 0; i < q->nfly; i++)
		if (q->fly[i]->again) {
			q->fly[i]->again = 0;
			(void)record(q, q->fly[i]->m, q->fly[i]->env,
			    q->fly[i]->now, &e);
			flight_free(q->fly[i]);
		}
	q->nfly = 0;
}

/* Every message in flight done and recorded; the session stays. */
static void
settle(struct queue *q)
{
	struct ferr	e;

	do {
		if (q->open && smtp_wait(q->s, 1, &e) == -1)
			close_session(q);
		reap(q);
	} while (refly(q) > 0);
}

int
queue_deliver(struct queue *q, struct spool_msg *m, struct spool_env *env,
    struct queue_result *res, struct ferr *e)
{
	memset(res, 0, sizeof(*res));
	ferr_clear(&res->why);
	q->land_rc = 0;
	/*
	 * The caller's one message: QUIT goes with its end, unless it has
	 * more recipients than a server must take (RFC 5321 4.5.3.1.8),
	 * when a 452 may ask for a further transaction on this session.
	 */
	if (take_off(q, m, env, res, 0, spool_env_pending(env) >
	    LIMIT_RCPTS_MIN ? 0 : SMTP_SEND_LAST, e) == -1)
		return -1;
	settle(q);
	if (q->open && !smtp_idle_ok(q->s))
		close_session(q);
	if (q->land_rc == -1) {
		*e = q->land_err;
		return -1;
	}
	return 0;
}

/* Take entry id and start it if it is due (or force). */
static int
run_one(struct queue *q, const char *id, int force, struct ferr *e)
{
	struct queue_result res;
	struct spool_msg m;
	struct spool_env env;
	int		 rc;

	memset(&res, 0, sizeof(res));
	ferr_clear(&res.why);
	spool_env_init(&env);
	/* another user's entry: not even its lock is ours to take */
	if (q->only_uid != -1 && (spool_peek(q->sp, 0, id, &env, e) != 1 ||
	    env.uid != q->only_uid)) {
		spool_env_free(&env);
		return 0;
	}
	if (q->throttled) {	/* not even taken: untouched for later */
		q->held++;
		spool_env_free(&env);
		return 0;
	}
	rc = spool_take(q->sp, id, &m, &env, e);
	/* owed a bounce only, or a bounce still marking: bounce_run's */
	if (rc == 1 && ((spool_env_pending(&env) == 0 &&
	    spool_env_owed(&env) > 0) || env.ncovers > 0)) {
		spool_release(&m);
		rc = 0;
	} else if (rc == 1 && !force && env.next > (long long)time(NULL)) {
		spool_release(&m);
		rc = 0;
	} else if (rc == 1) {
		/* a queue run streams: replies are read as they come */
		rc = take_off(q, &m, &env, &res, 1, 0, e);
		reap(q);
		(void)refly(q);
	} else if (rc == -1)	/* one bad entry must not stop the run */
		log_warn("%s: %s", id, e->text);
	spool_env_free(&env);
	return rc == -1 ? -1 : 0;
}

int
queue_flush_bounces(struct queue *q, struct ferr *e)
{
	struct spool_ids made;
	size_t	i;
	int	rc = 0;

	/* restricted: the bounce lock and others' entries are not ours */
	if (q->owed && q->only_uid != -1) {
		log_debug("bounce owed: the next queue run by root makes it");
		q->owed = 0;
	}
	/* a foreground send scans the queue only when it failed */
	if (q->owed && bounce_run(q->conf, q->sp, (long long)time(NULL),
	    &made, e) == -1) {
		log_warn("bounces: %s", e->text);
		rc = -1;
	}
	if (q->owed) {
		for (i = 0; i < made.n; i++)
			remember_bounce(q, made.v[i]);
		spool_ids_free(&made);
	}
	q->owed = 0;
	/* bounces of bounces are not made, so this ends */
	for (i = 0; i < q->bounces.n; i++)
		if (run_one(q, q->bounces.v[i], 1, e) == -1)
			rc = -1;
	q->bounces.n = 0;
	settle(q);
	return rc;
}

static void
pruned(void *arg, const char *id, enum spool_prune_why why)
{
	const struct conf *c = arg;

	if (why == SPOOL_PRUNE_AGE)
		log_info("%s: removed from failed/: older than "
		    "failed_max_age (%u s)", id, c->failed_max_age);
	else
		log_info("%s: removed from failed/: more than "
		    "failed_max_count (%u) entries", id, c->failed_max_count);
}

/* Cap failed/ so that it can never fill the disk. */
static void
prune_failed(struct queue *q)
{
	struct ferr	e;

	if (spool_prune_failed(q->sp, (long long)time(NULL) -
	    (long long)q->conf->failed_max_age, q->conf->failed_max_count,
	    pruned, (void *)q->conf, &e) == -1)
		log_warn("failed/: %s", e.text);
}

int
queue_run(struct queue *q, int force, struct ferr *e)
{
	struct spool_ids ids;
	size_t		 i;
	int		 rc = 0;

	q->down = 0;
	q->held = 0;
	for (i = 0; i < q->relay.n; i++)	/* each host once a run */
		q->relay.h[i].tried = 0;
	if (!q->open)
		q->chosen = 0;
	if (spool_list(q->sp, 0, &ids, e) == -1)
		return -1;
	q->land_rc = 0;
	for (i = 0; i < ids.n; i++)
		if (run_one(q, ids.v[i], force, e) == -1)
			rc = -1;
	spool_ids_free(&ids);
	settle(q);	/* the outcomes decide which bounces are owed */
	if (q->land_rc == -1)
		rc = -1;
	q->owed = 1;	/* a run also makes the bounces held or left over */
	if (queue_flush_bounces(q, e) == -1)
		rc = -1;
	if (q->held > 0)
		log_info("%zu messages left queued for the next run: %s",
		    q->held, q->throttle_err.text);
	if (q->only_uid == -1) {
		prune_failed(q);
		spool_sweep(q->sp, 3600);
	}
	close_session(q);
	return rc;
}

int
queue_verify(struct queue *q, size_t host, char *out, size_t size,
    struct ferr *e)
{
	size_t	i;
	int	rc;

	q->pinned = 1;
	for (i = 0; i < q->relay.n; i++)	/* no other host is tried */
		relay_tried(&q->relay, i);
	if (host < q->hc->nhosts)
		use_host(q, host);
	if (session(q, e) == -1)
		return -1;
	rc = smtp_check(q->s, e);	/* a pipelined AUTH's reply */
	if (rc == 0)
		smtp_describe(q->s, out, size);
	close_session(q);
	return rc;
}
