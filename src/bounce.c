#include <sys/stat.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounce.h"
#include "dsn.h"
#include "log.h"
#include "msg.h"

struct owed {			/* an entry with a bounce owed */
	char	id[SPOOL_ID_SIZE];
	char	from[MSG_ADDR_SIZE];
};

struct idset {			/* spool_ids that grows */
	struct spool_ids ids;
	size_t		 size;
};

static int
idset_add(struct idset *s, const char *id)
{
	void	*v;

	if (s->ids.n == s->size) {
		size_t size = s->size ? 2 * s->size : 16;

		if ((v = realloc(s->ids.v, size * sizeof(*s->ids.v))) == NULL)
			return -1;
		s->ids.v = v;
		s->size = size;
	}
	memcpy(s->ids.v[s->ids.n++], id, SPOOL_ID_SIZE);
	return 0;
}

static int
idset_has(const struct idset *s, const char *id)
{
	size_t	i;

	for (i = 0; i < s->ids.n; i++)
		if (memcmp(s->ids.v[i], id, SPOOL_ID_SIZE) == 0)
			return 1;
	return 0;
}

/*
 * The owed recipients are now in a bounce: mark them FAILED and
 * record that (remove the entry when nothing is left to deliver).
 * Releases m either way.
 */
static int
settle(struct spool *sp, struct spool_msg *m, struct spool_env *env,
    struct ferr *e)
{
	size_t	i;

	if (spool_env_owed(env) == 0) {
		spool_release(m);
		return 0;
	}
	for (i = 0; i < env->nrcpt; i++)
		if (env->rcpt[i].state == SPOOL_REFUSED ||
		    env->rcpt[i].state == SPOOL_EXPIRED)
			env->rcpt[i].state = SPOOL_FAILED;
	if (spool_env_pending(env) == 0)
		return spool_done(sp, m, e);
	if (spool_update(sp, env, e) == -1) {
		spool_release(m);
		return -1;
	}
	spool_release(m);
	return 0;
}

/*
 * DSN entry dsnid still names entries it covers: a crash came between
 * its commit and their marking. Mark them now; the ones another process
 * holds go to busy (not to be bounced again), and the DSN keeps its
 * list (so is not delivered) until a later run. Once marked, it joins
 * made, to be sent now.
 */
static void
finish_marking(struct spool *sp, const char *dsnid,
    const struct spool_env *dsn, struct idset *busy, struct idset *made)
{
	struct spool_msg m;
	struct spool_env env;
	struct ferr	 e;
	size_t		 i;
	int		 rc, done = 1;

	spool_env_init(&env);
	for (i = 0; i < dsn->ncovers; i++) {
		rc = spool_take(sp, dsn->covers[i], &m, &env, &e);
		if (rc == 1)
			rc = settle(sp, &m, &env, &e);
		else if (rc == 0 && spool_peek(sp, 0, dsn->covers[i], &env,
		    &e) == 0)
			rc = 0;		/* gone: nothing left to mark */
		else
			rc = -1;	/* held, or unreadable */
		if (rc == -1) {
			done = 0;
			(void)idset_add(busy, dsn->covers[i]);
		}
		spool_env_free(&env);
	}
	if (done && spool_take(sp, dsnid, &m, &env, &e) == 1) {
		env.ncovers = 0;
		if (spool_update(sp, &env, &e) == 0)
			(void)idset_add(made, dsnid);
		spool_release(&m);
	}
	spool_env_free(&env);
}

/* The failed recipients of each taken entry, for dsn_write. */
static int
dsn_msgs(struct spool_msg *m, struct spool_env *env, size_t n,
    struct dsn_msg *dm, struct ferr *e)
{
	struct dsn_rcpt	*r;
	size_t		 i, k;

	for (i = 0; i < n; i++) {
		if ((r = calloc(env[i].nrcpt, sizeof(*r))) == NULL)
			return ferr_set(e, FE_OS, errno, "bounce");
		dm[i].id = env[i].id;
		dm[i].arrival = env[i].arrival;
		dm[i].orig = m[i].fd;
		dm[i].r = r;
		dm[i].n = 0;
		for (k = 0; k < env[i].nrcpt; k++) {
			struct spool_rcpt *sr = &env[i].rcpt[k];

			if (sr->state != SPOOL_REFUSED &&
			    sr->state != SPOOL_EXPIRED)
				continue;
			r[dm[i].n].addr = sr->addr;
			r[dm[i].n].reply = sr->reply ? sr->reply :
			    "550 5.0.0 refused";
			r[dm[i].n++].expired = sr->state == SPOOL_EXPIRED;
		}
	}
	return 0;
}

/* Write and commit the DSN entry b for the n taken entries. */
static int
make_dsn(const struct conf *c, struct spool *sp, struct spool_msg *b,
    struct spool_env *benv, struct spool_msg *m, struct spool_env *env,
    size_t n, long long now, struct ferr *e)
{
	struct dsn_msg	*dm;
	struct dsn_info	 info;
	struct stat	 st;
	char		 host[CONF_HOST_SIZE];
	size_t		 i;
	int		 rc = -1;

	if ((dm = calloc(n, sizeof(*dm))) == NULL)
		return ferr_set(e, FE_OS, errno, "bounce");
	conf_host_name(c, host, sizeof(host));
	info.sender = env[0].from;
	info.host = info.domain = host;
	info.relay = c->nhosts > 1 ? NULL : c->smarthost;
	info.now = now;
	if (dsn_msgs(m, env, n, dm, e) == -1 ||
	    spool_create(sp, b, e) == -1)
		goto out;
	info.id = b->id;
	if (dsn_write(b->fd, &info, dm, n, e) == -1 ||
	    fstat(b->fd, &st) == -1 ||
	    spool_env_add(benv, env[0].from, SPOOL_PENDING, e) == -1)
		goto abort;
	for (i = 0; i < n; i++)
		if (spool_env_cover(benv, env[i].id, e) == -1)
			goto abort;
	benv->arrival = now;
	benv->from[0] = '\0';		/* <>: a bounce is never bounced */
	benv->size = st.st_size;
	if (msg_wire(b->fd, st.st_size, &benv->wire, e) == -1)
		benv->wire = 2 * st.st_size;	/* each LF at most doubles */
	if (spool_commit(sp, b, benv, e) == 0)
		rc = 0;
abort:
	if (rc == -1)
		spool_abort(sp, b);
out:
	for (i = 0; i < n; i++)
		free((void *)dm[i].r);
	free(dm);
	return rc;
}

/*
 * One bounce for the owed entries o[0..n) (one sender, n at most
 * DSN_MSGS_MAX): take them, commit the DSN naming them, mark them,
 * then drop the names. The DSN's ID goes to made.
 */
static int
emit(const struct conf *c, struct spool *sp, const struct owed *o,
    size_t n, long long now, struct idset *made, struct ferr *e)
{
	struct spool_msg *m, b;
	struct spool_env *env, benv;
	size_t		  i, k = 0;
	int		  rc = -1, marked = 1;

	m = calloc(n, sizeof(*m));
	env = calloc(n, sizeof(*env));
	if (m == NULL || env == NULL) {
		free(m);
		free(env);
		return ferr_set(e, FE_OS, errno, "bounce");
	}
	spool_env_init(&benv);
	for (i = 0; i < n; i++) {	/* what is still owed, and ours */
		if (spool_take(sp, o[i].id, &m[k], &env[k], e) != 1) {
			spool_env_free(&env[k]);
			continue;
		}
		if (spool_env_owed(&env[k]) > 0 &&
		    strcmp(env[k].from, o[i].from) == 0)
			k++;
		else {
			spool_release(&m[k]);
			spool_env_free(&env[k]);
		}
	}
	if (k == 0) {
		rc = 0;
		goto out;
	}
	if (make_dsn(c, sp, &b, &benv, m, env, k, now, e) == -1) {
		for (i = 0; i < k; i++)		/* still owed: next run */
			spool_release(&m[i]);
		goto out;
	}
	for (i = 0; i < k; i++) {
		log_info("%s: sender non-delivery notification: %s",
		    env[i].id, b.id);
		if (settle(sp, &m[i], &env[i], e) == -1)
			marked = 0;	/* the DSN keeps its list */
	}
	if (marked) {
		benv.ncovers = 0;
		(void)spool_update(sp, &benv, e);
	}
	spool_abort(sp, &b);	/* committed: this only closes it */
	(void)idset_add(made, b.id);	/* else the next run sends it */
	rc = 0;
out:
	for (i = 0; i < k; i++)
		spool_env_free(&env[i]);
	spool_env_free(&benv);
	free(m);
	free(env);
	return rc;
}

/* When sender last got a bounce, from the times file; 0 if never. */
static long long
last_bounce(const char *times, const char *sender)
{
	const char	*p = times, *sp, *nl;
	long long	 t = 0;

	for (; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		sp = memchr(p, ' ', (size_t)(nl - p));
		if (sp != NULL && (size_t)(nl - sp - 1) == strlen(sender) &&
		    memcmp(sp + 1, sender, strlen(sender)) == 0)
			t = strtoll(p, NULL, 10);
	}
	return t;
}

/*
 * The times file again: lines "EPOCH SENDER" still inside the window,
 * then the senders bounced now. Lines that do not fit are dropped: at
 * worst that sender's next bounce comes early.
 */
static void
save_times(struct spool *sp, const char *old, const struct owed *o,
    const unsigned char *sent, size_t n, long long now, unsigned window)
{
	char		*buf, line[MSG_ADDR_SIZE + 32];
	const char	*p = old, *nl, *done = NULL;
	size_t		 len = 0, l, i;
	struct ferr	 e;
	long long	 t;
	int		 k;

	if ((buf = malloc(BOUNCE_TIMES_MAX)) == NULL)
		return;
	for (; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		l = (size_t)(nl - p) + 1;
		t = strtoll(p, NULL, 10);
		if (t + window <= now || len + l > BOUNCE_TIMES_MAX ||
		    l >= sizeof(line))
			continue;
		memcpy(line, p, l - 1);
		line[l - 1] = '\0';
		for (i = 0; i < n; i++)	/* replaced below */
			if (sent[i] && strchr(line, ' ') != NULL &&
			    strcmp(strchr(line, ' ') + 1, o[i].from) == 0)
				break;
		if (i == n) {
			memcpy(buf + len, p, l);
			len += l;
		}
	}
	for (i = 0; i < n; i++) {
		if (!sent[i] || (done != NULL && strcmp(done, o[i].from) == 0))
			continue;
		done = o[i].from;
		k = snprintf(line, sizeof(line), "%lld %s\n", now, o[i].from);
		if (k > 0 && (size_t)k < sizeof(line) &&
		    len + (size_t)k <= BOUNCE_TIMES_MAX) {
			memcpy(buf + len, line, (size_t)k);
			len += (size_t)k;
		}
	}
	(void)spool_state_write(sp, BOUNCE_TIMES_FILE, buf, len, &e);
	free(buf);
}

static int
owed_cmp(const void *a, const void *b)
{
	const struct owed *x = a, *y = b;
	int	c = strcmp(x->from, y->from);

	return c != 0 ? c : memcmp(x->id, y->id, SPOOL_ID_SIZE);
}

/* The owed entries, by sender then arrival; DSNs left unmarked first. */
static int
gather(struct spool *sp, struct owed **out, size_t *nout,
    struct idset *made, struct ferr *e)
{
	struct spool_ids ids;
	struct spool_env env;
	struct idset	 busy = { { NULL, 0 }, 0 };
	struct owed	*o;
	size_t		 i, n = 0;

	*out = NULL;
	*nout = 0;
	if (spool_list(sp, 0, &ids, e) == -1)
		return -1;
	spool_env_init(&env);
	for (i = 0; i < ids.n; i++)
		if (spool_peek(sp, 0, ids.v[i], &env, e) == 1 &&
		    env.ncovers > 0)
			finish_marking(sp, ids.v[i], &env, &busy, made);
	if ((o = calloc(ids.n + 1, sizeof(*o))) == NULL) {
		spool_ids_free(&ids);
		spool_ids_free(&busy.ids);
		return ferr_set(e, FE_OS, errno, "bounce");
	}
	for (i = 0; i < ids.n; i++) {
		if (idset_has(&busy, ids.v[i]) ||
		    spool_peek(sp, 0, ids.v[i], &env, e) != 1)
			continue;
		if (spool_env_owed(&env) > 0 && env.from[0] != '\0') {
			memcpy(o[n].id, ids.v[i], SPOOL_ID_SIZE);
			memcpy(o[n++].from, env.from, sizeof(env.from));
		}
	}
	spool_env_free(&env);
	spool_ids_free(&ids);
	spool_ids_free(&busy.ids);
	qsort(o, n, sizeof(*o), owed_cmp);
	*out = o;
	*nout = n;
	return 0;
}

int
bounce_run(const struct conf *c, struct spool *sp, long long now,
    struct spool_ids *made, struct ferr *e)
{
	struct idset	 mine = { { NULL, 0 }, 0 };
	struct owed	*o = NULL;
	unsigned char	*sent = NULL;
	char		*times = NULL;
	size_t		 n, i, j, k, len;
	long long	 last;
	int		 lock, rc = -1;

	made->v = NULL;
	made->n = 0;
	if ((lock = spool_lock(sp, e)) == -1)
		return -1;
	if (gather(sp, &o, &n, &mine, e) == -1)
		goto out;
	if ((times = malloc(BOUNCE_TIMES_MAX + 1)) == NULL ||
	    (sent = calloc(n + 1, 1)) == NULL) {
		ferr_set(e, FE_OS, errno, "bounce");
		goto out;
	}
	if (spool_state_read(sp, BOUNCE_TIMES_FILE, times, BOUNCE_TIMES_MAX,
	    &len, e) == -1)
		len = 0;	/* forgetting only makes a bounce early */
	times[len] = '\0';
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && strcmp(o[j].from, o[i].from) == 0; j++)
			;
		last = c->bounce_window ? last_bounce(times, o[i].from) : 0;
		if (last + c->bounce_window > now && last <= now) {
			log_debug("bounce to <%s> held until %lld (%zu "
			    "messages)", o[i].from, last + c->bounce_window,
			    j - i);
			continue;
		}
		for (k = i; k < j; k += DSN_MSGS_MAX)
			if (emit(c, sp, o + k, j - k < DSN_MSGS_MAX ? j - k :
			    DSN_MSGS_MAX, now, &mine, e) == 0)
				sent[k] = 1;
			else
				log_warn("bounce to <%s> not queued: %s",
				    o[i].from, e->text);
	}
	if (c->bounce_window > 0 && memchr(sent, 1, n) != NULL)
		save_times(sp, times, o, sent, n, now, c->bounce_window);
	rc = 0;
out:
	spool_unlock(lock);
	free(o);
	free(sent);
	free(times);
	*made = mine.ids;
	return rc;
}
