#include <sys/stat.h>
#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "plat.h"
#include "spool.h"

#define NAME_SIZE	(1 + SPOOL_ID_SIZE)	/* "q" + id */
#define ENV_LINE_MAX	(MSG_ADDR_SIZE + SPOOL_REPLY_SIZE + 32)
#define NSTATES		5


/*
 * Read fd to its end or until size bytes are in buf; *len says how
 * many. -1 with errno on a read error.
 */
static int
read_full(int fd, char *buf, size_t size, size_t *len)
{
	ssize_t	n;

	*len = 0;
	while (*len < size && (n = read(fd, buf + *len, size - *len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		*len += (size_t)n;
	}
	return 0;
}

static const char *const states[NSTATES] = { "pending", "sent", "failed",
    "refused", "expired" };

void
spool_env_init(struct spool_env *env)
{
	memset(env, 0, sizeof(*env));
	env->uid = -1;
}

int
spool_env_add(struct spool_env *env, const char *addr,
    enum spool_rstate state, struct ferr *e)
{
	struct spool_rcpt *v;

	if (env->nrcpt == env->rcptsize) {
		size_t size = env->rcptsize ? 2 * env->rcptsize : 8;

		v = realloc(env->rcpt, size * sizeof(*v));
		if (v == NULL)
			return ferr_set(e, FE_OS, errno, "recipients");
		env->rcpt = v;
		env->rcptsize = size;
	}
	v = &env->rcpt[env->nrcpt];
	if ((v->addr = strdup(addr)) == NULL)
		return ferr_set(e, FE_OS, errno, "recipients");
	v->state = state;
	v->reply = NULL;
	env->nrcpt++;
	return 0;
}

int
spool_env_set_reply(struct spool_env *env, size_t i, const char *text,
    struct ferr *e)
{
	char	*r;
	size_t	 k, len = strlen(text);

	if (len >= SPOOL_REPLY_SIZE)
		len = SPOOL_REPLY_SIZE - 1;
	if ((r = malloc(len + 1)) == NULL)
		return ferr_set(e, FE_OS, errno, "recipients");
	for (k = 0; k < len; k++)	/* one line in the q file */
		r[k] = (unsigned char)text[k] < ' ' || text[k] == 127 ?
		    ' ' : text[k];
	r[len] = '\0';
	free(env->rcpt[i].reply);
	env->rcpt[i].reply = r;
	return 0;
}

int
spool_env_cover(struct spool_env *env, const char *id, struct ferr *e)
{
	void	*v;

	if (env->ncovers == env->coverssize) {
		size_t size = env->coverssize ? 2 * env->coverssize : 8;

		if ((v = realloc(env->covers, size * sizeof(*env->covers))) ==
		    NULL)
			return ferr_set(e, FE_OS, errno, "bounce");
		env->covers = v;
		env->coverssize = size;
	}
	memcpy(env->covers[env->ncovers++], id, SPOOL_ID_SIZE);
	return 0;
}

void
spool_env_free(struct spool_env *env)
{
	size_t	i;

	for (i = 0; i < env->nrcpt; i++) {
		free(env->rcpt[i].addr);
		free(env->rcpt[i].reply);
	}
	free(env->rcpt);
	free(env->covers);
	spool_env_init(env);
}

size_t
spool_env_pending(const struct spool_env *env)
{
	size_t	i, n = 0;

	for (i = 0; i < env->nrcpt; i++)
		n += env->rcpt[i].state == SPOOL_PENDING;
	return n;
}

size_t
spool_env_owed(const struct spool_env *env)
{
	size_t	i, n = 0;

	for (i = 0; i < env->nrcpt; i++)
		n += env->rcpt[i].state == SPOOL_REFUSED ||
		    env->rcpt[i].state == SPOOL_EXPIRED;
	return n;
}

static int
is_id(const char *s, size_t len)
{
	size_t	i;

	if (len != SPOOL_ID_SIZE - 1)
		return 0;
	for (i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]) ||
		    isupper((unsigned char)s[i]))
			return 0;
	return 1;
}

static int
num_parse(const char *v, long long max, long long *out)
{
	long long n = 0;

	if (*v == '\0')
		return -1;
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '9' || n > (max - (*v - '0')) / 10)
			return -1;
		n = n * 10 + (*v - '0');
	}
	*out = n;
	return 0;
}

/* "<addr>" into out; the brackets make the empty sender visible. */
static int
angle_parse(const char *v, char *out, size_t size)
{
	size_t	len = strlen(v);

	if (len < 2 || v[0] != '<' || v[len - 1] != '>' || len - 2 >= size)
		return -1;
	memcpy(out, v + 1, len - 2);
	out[len - 2] = '\0';
	return 0;
}

/* A printable ASCII value that fits. */
static int
text_field(char *out, size_t size, const char *v)
{
	size_t	i, len = strlen(v);

	if (len == 0 || len >= size)
		return -1;
	for (i = 0; i < len; i++)
		if (v[i] <= ' ' || v[i] == 127)
			return -1;
	memcpy(out, v, len + 1);
	return 0;
}

static int
env_line(struct spool_env *env, char *key, char *v, struct ferr *e)
{
	char		 addr[MSG_ADDR_SIZE];
	long long	 n;
	size_t		 i;

	if (strcmp(key, "version") == 0)
		return strcmp(v, "1") == 0 ? 0 : -1;
	if (strcmp(key, "id") == 0) {
		if (!is_id(v, strlen(v)))
			return -1;
		memcpy(env->id, v, SPOOL_ID_SIZE);
		return 0;
	}
	if (strcmp(key, "from") == 0)
		return angle_parse(v, env->from, sizeof(env->from));
	if (strcmp(key, "flags") == 0) {
		if (strcmp(v, "8bit") != 0)
			return -1;
		env->flags |= SPOOL_F_8BIT;
		return 0;
	}
	if (strcmp(key, "error") == 0) {
		snprintf(env->error, sizeof(env->error), "%s", v);
		return 0;
	}
	if (strcmp(key, "notify") == 0)
		return text_field(env->dsn_notify, sizeof(env->dsn_notify), v);
	if (strcmp(key, "ret") == 0)
		return text_field(env->dsn_ret, sizeof(env->dsn_ret), v);
	if (strcmp(key, "envid") == 0)
		return text_field(env->dsn_envid, sizeof(env->dsn_envid), v);
	if (strcmp(key, "rcpt") == 0) {
		char *sp = strchr(v, ' ');

		if (sp == NULL)
			return -1;
		*sp = '\0';
		for (i = 0; i < NSTATES; i++)
			if (strcmp(v, states[i]) == 0)
				break;
		if (i == NSTATES || angle_parse(sp + 1, addr, sizeof(addr)) == -1 ||
		    addr[0] == '\0')
			return -1;
		return spool_env_add(env, addr, (enum spool_rstate)i, e) ==
		    -1 ? -2 : 0;
	}
	if (strcmp(key, "reply") == 0) {	/* of the rcpt before it */
		if (env->nrcpt == 0 || env->rcpt[env->nrcpt - 1].reply != NULL)
			return -1;
		return spool_env_set_reply(env, env->nrcpt - 1, v, e) == -1 ?
		    -2 : 0;
	}
	if (strcmp(key, "covers") == 0) {
		if (!is_id(v, strlen(v)))
			return -1;
		return spool_env_cover(env, v, e) == -1 ? -2 : 0;
	}
	if (num_parse(v, (long long)1 << 53, &n) == -1)
		return -1;
	if (strcmp(key, "arrival") == 0)
		env->arrival = n;
	else if (strcmp(key, "size") == 0)
		env->size = (off_t)n;
	else if (strcmp(key, "wire") == 0)
		env->wire = (off_t)n;
	else if (strcmp(key, "tries") == 0 && n < 1000000)
		env->tries = (unsigned)n;
	else if (strcmp(key, "next") == 0)
		env->next = n;
	else if (strcmp(key, "uid") == 0)
		env->uid = n;
	else
		return -1;
	return 0;
}

int
spool_env_parse(struct spool_env *env, const char *buf, size_t len,
    struct ferr *e)
{
	char	 line[ENV_LINE_MAX], *sp;
	size_t	 off = 0, l, lineno = 0;
	const char *nl;
	int	 rc;

	spool_env_free(env);
	while (off < len) {
		lineno++;
		nl = memchr(buf + off, '\n', len - off);
		if (nl == NULL)
			return ferr_set(e, FE_DATA, 0, "line %zu: no newline",
			    lineno);
		l = (size_t)(nl - (buf + off));
		if (l >= sizeof(line) || memchr(buf + off, '\0', l) != NULL)
			return ferr_set(e, FE_DATA, 0, "line %zu: bad line",
			    lineno);
		memcpy(line, buf + off, l);
		line[l] = '\0';
		off += l + 1;
		if ((sp = strchr(line, ' ')) == NULL)
			return ferr_set(e, FE_DATA, 0, "line %zu: no value",
			    lineno);
		*sp = '\0';
		rc = env_line(env, line, sp + 1, e);
		if (rc == -2)
			return -1;
		if (rc == -1)
			return ferr_set(e, FE_DATA, 0, "line %zu: bad %s",
			    lineno, line);
	}
	if (env->id[0] == '\0' || env->arrival == 0 || env->nrcpt == 0)
		return ferr_set(e, FE_DATA, 0, "incomplete queue file");
	return 0;
}

/* Append to buf; -1 when it does not fit. */
static int
put(char *buf, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
put(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	if (*len >= size)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size - *len)
		return -1;
	*len += (size_t)n;
	return 0;
}

int
spool_env_format(const struct spool_env *env, char *buf, size_t size,
    size_t *len, struct ferr *e)
{
	char	err[SPOOL_ERROR_SIZE];
	size_t	i;
	int	bad;

	*len = 0;
	bad = put(buf, size, len, "version 1\nid %s\narrival %lld\n"
	    "from <%s>\nsize %lld\nwire %lld\ntries %u\nnext %lld\n",
	    env->id, env->arrival, env->from, (long long)env->size,
	    (long long)env->wire, env->tries, env->next);
	if (env->uid >= 0)
		bad |= put(buf, size, len, "uid %lld\n", env->uid);
	if (env->flags & SPOOL_F_8BIT)
		bad |= put(buf, size, len, "flags 8bit\n");
	if (env->dsn_notify[0] != '\0')
		bad |= put(buf, size, len, "notify %s\n", env->dsn_notify);
	if (env->dsn_ret[0] != '\0')
		bad |= put(buf, size, len, "ret %s\n", env->dsn_ret);
	if (env->dsn_envid[0] != '\0')
		bad |= put(buf, size, len, "envid %s\n", env->dsn_envid);
	if (env->error[0] != '\0') {
		for (i = 0; env->error[i] != '\0'; i++)	/* one line */
			err[i] = (unsigned char)env->error[i] < ' ' ?
			    ' ' : env->error[i];
		err[i] = '\0';
		bad |= put(buf, size, len, "error %s\n", err);
	}
	for (i = 0; i < env->nrcpt; i++) {
		bad |= put(buf, size, len, "rcpt %s <%s>\n",
		    states[env->rcpt[i].state], env->rcpt[i].addr);
		if (env->rcpt[i].reply != NULL)
			bad |= put(buf, size, len, "reply %s\n",
			    env->rcpt[i].reply);
	}
	for (i = 0; i < env->ncovers; i++)
		bad |= put(buf, size, len, "covers %s\n", env->covers[i]);
	if (bad)
		return ferr_set(e, FE_SOFTWARE, 0, "queue file too large");
	return 0;
}

int
spool_open(struct spool *sp, const char *dir, struct ferr *e)
{
	struct stat	top, st;

	sp->dirfd = sp->faileddirfd = -1;
	if (snprintf(sp->dir, sizeof(sp->dir), "%s", dir) >=
	    (int)sizeof(sp->dir))
		return ferr_set(e, FE_CONFIG, 0, "spool path too long");
	sp->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->dirfd == -1)
		return ferr_set(e, FE_CANTCREAT, errno, "spool %s", dir);
	if (faccessat(sp->dirfd, ".", W_OK | X_OK, AT_EACCESS) == -1) {
		ferr_set(e, errno == EROFS ? FE_TEMP : FE_CANTCREAT, errno,
		    "spool %s", dir);
		close(sp->dirfd);
		sp->dirfd = -1;
		return -1;
	}
	/*
	 * failed/ is made on first use if the installer did not. Never
	 * through a symlink: a root run would write where it points.
	 */
	(void)mkdirat(sp->dirfd, "failed", 0770);
	sp->faileddirfd = openat(sp->dirfd, "failed",
	    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sp->faileddirfd != -1 && (fstat(sp->dirfd, &top) == -1 ||
	    fstat(sp->faileddirfd, &st) == -1 || st.st_dev != top.st_dev)) {
		close(sp->faileddirfd);
		sp->faileddirfd = -1;
	}
	return 0;
}

/*
 * What an O_NOFOLLOW | O_NONBLOCK open says of a file that is no plain
 * file: a symlink (ELOOP on Linux, EMLINK on FreeBSD, whose strerror
 * "Too many links" would send the admin after the link count), a FIFO
 * nobody reads (ENXIO). Each is EPERM to the callers.
 */
static int
not_plain(int err)
{
	return err == ELOOP || err == EMLINK || err == ENXIO;
}

/* spool_file_open, and st is what fstat said of the file. */
static int
file_open(int dirfd, const char *name, int flags, mode_t mode,
    struct stat *st)
{
	struct stat	dir;
	int		fd, bad;

	fd = openat(dirfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC, mode);
	if (fd == -1 && not_plain(errno))
		errno = EPERM;
	if (fd == -1)
		return -1;
	if (fstat(fd, st) == -1 || fstat(dirfd, &dir) == -1) {
		bad = errno;
		close(fd);
		errno = bad;
		return -1;
	}
	if (!S_ISREG(st->st_mode) || st->st_nlink != 1 ||
	    (st->st_gid != dir.st_gid && st->st_gid != getegid())) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

int
spool_file_open(int dirfd, const char *name, int flags, mode_t mode)
{
	struct stat	st;

	return file_open(dirfd, name, flags, mode, &st);
}

/*
 * A fresh file for writing, where a stale one (or a symlink or FIFO
 * someone put there) is removed first: O_EXCL then makes sure the file
 * written is the one made here.
 */
static int
create_new(int dirfd, const char *name, mode_t mode)
{
	if (unlinkat(dirfd, name, 0) == -1 && errno != ENOENT)
		return -1;
	return openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC, mode);
}

void
spool_close(struct spool *sp)
{
	if (sp->dirfd != -1)
		close(sp->dirfd);
	if (sp->faileddirfd != -1)
		close(sp->faileddirfd);
	sp->dirfd = sp->faileddirfd = -1;
}

static void
name(char *out, char kind, const char *id)
{
	out[0] = kind;
	memcpy(out + 1, id, SPOOL_ID_SIZE);
}

static int
new_id(char *id, struct ferr *e)
{
	unsigned char	r[4];
	unsigned long	t = (unsigned long)time(NULL) & 0xffffffffUL;

	if (plat_random(r, sizeof(r)) == -1)
		return ferr_set(e, FE_OS, errno, "random bytes");
	snprintf(id, SPOOL_ID_SIZE, "%08lx%02x%02x%02x%02x", t, r[0], r[1],
	    r[2], r[3]);
	return 0;
}

int
spool_create(struct spool *sp, struct spool_msg *m, struct ferr *e)
{
	char	d[NAME_SIZE];
	int	tries;

	m->fd = -1;
	m->committed = 0;
	for (tries = 0; tries < 8; tries++) {
		if (new_id(m->id, e) == -1)
			return -1;
		name(d, 'd', m->id);
		m->fd = openat(sp->dirfd, d, O_RDWR | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0640);
		if (m->fd != -1 || errno != EEXIST)
			break;
	}
	if (m->fd == -1)
		return ferr_set(e, errno == ENOSPC || errno == EDQUOT ||
		    errno == EROFS ? FE_TEMP : FE_CANTCREAT, errno,
		    "create %s/%s", sp->dir, d);
	/* new and ours alone: this cannot block */
	if (plat_lock(m->fd, PLAT_LOCK_NB) == -1) {
		ferr_set(e, FE_TEMP, errno, "lock %s", d);
		spool_abort(sp, m);
		return -1;
	}
	return 0;
}

/* Write env into a fresh temporary file `tmp`, synced. */
static int
write_env(struct spool *sp, const char *tmp, const struct spool_env *env,
    struct ferr *e)
{
	char	*buf;
	size_t	 size = 4096 + env->ncovers * (SPOOL_ID_SIZE + 8), len, i;
	int	 fd, rc = -1;

	for (i = 0; i < env->nrcpt && size <= SPOOL_ENV_MAX; i++)
		size += strlen(env->rcpt[i].addr) + 16 +
		    (env->rcpt[i].reply ? strlen(env->rcpt[i].reply) + 8 : 0);
	if (size > SPOOL_ENV_MAX)
		return ferr_set(e, FE_DATA, 0, "too many recipients");
	if ((buf = malloc(size)) == NULL)
		return ferr_set(e, FE_OS, errno, "queue file");
	if (spool_env_format(env, buf, size, &len, e) == -1)
		goto out;
	if ((fd = create_new(sp->dirfd, tmp, 0640)) == -1) {
		ferr_set(e, FE_TEMP, errno, "create %s/%s", sp->dir, tmp);
		goto out;
	}
	if (plat_write_full(fd, buf, len) == -1 || fsync(fd) == -1) {
		ferr_set(e, FE_TEMP, errno, "write %s/%s", sp->dir, tmp);
		close(fd);
		unlinkat(sp->dirfd, tmp, 0);
		goto out;
	}
	close(fd);
	rc = 0;
out:
	free(buf);
	return rc;
}

/* Write q (through a temporary file and rename) and sync the folder. */
static int
replace_env(struct spool *sp, const struct spool_env *env, char tmpkind,
    struct ferr *e)
{
	char	t[NAME_SIZE], q[NAME_SIZE];

	name(t, tmpkind, env->id);
	name(q, 'q', env->id);
	if (write_env(sp, t, env, e) == -1)
		return -1;
	if (renameat(sp->dirfd, t, sp->dirfd, q) == -1) {
		ferr_set(e, FE_TEMP, errno, "rename %s", q);
		unlinkat(sp->dirfd, t, 0);
		return -1;
	}
	/* a crash could otherwise forget the rename */
	if (fsync(sp->dirfd) == -1)
		return ferr_set(e, FE_TEMP, errno, "sync %s", sp->dir);
	return 0;
}

int
spool_commit(struct spool *sp, struct spool_msg *m, struct spool_env *env,
    struct ferr *e)
{
	char	q[NAME_SIZE];

	memcpy(env->id, m->id, SPOOL_ID_SIZE);
	env->uid = (long long)getuid();	/* whose it is, for a user's -q */
	if (fsync(m->fd) == -1)
		return ferr_set(e, FE_TEMP, errno, "sync %s/d%s", sp->dir,
		    m->id);
	if (replace_env(sp, env, 't', e) == -1) {
		/* if the rename is what may have stuck, take it back */
		name(q, 'q', m->id);
		unlinkat(sp->dirfd, q, 0);
		return -1;
	}
	m->committed = 1;
	return 0;
}

void
spool_abort(struct spool *sp, struct spool_msg *m)
{
	char	d[NAME_SIZE];

	if (m->fd == -1)
		return;
	if (!m->committed) {
		name(d, 'd', m->id);
		unlinkat(sp->dirfd, d, 0);
	}
	close(m->fd);
	m->fd = -1;
}

static int
id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, SPOOL_ID_SIZE);
}

/* The ids of the files named <kind><id> in dirfd. */
static int
list_kind(int dirfd, char kind, struct spool_ids *ids, struct ferr *e)
{
	struct dirent	*de;
	DIR		*d;
	void		*v;
	size_t		 size = 0;
	int		 fd;

	ids->v = NULL;
	ids->n = 0;
	if ((fd = dup(dirfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return ferr_set(e, FE_TEMP, errno, "read spool");
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != kind ||
		    !is_id(de->d_name + 1, strlen(de->d_name + 1)))
			continue;
		if (ids->n == size) {
			size = size ? 2 * size : 64;
			v = realloc(ids->v, size * sizeof(*ids->v));
			if (v == NULL) {
				closedir(d);
				spool_ids_free(ids);
				return ferr_set(e, FE_OS, errno, "spool list");
			}
			ids->v = v;
		}
		memcpy(ids->v[ids->n++], de->d_name + 1, SPOOL_ID_SIZE);
	}
	closedir(d);
	if (ids->n > 0)
		qsort(ids->v, ids->n, sizeof(*ids->v), id_cmp);
	return 0;
}

int
spool_list(struct spool *sp, int failed, struct spool_ids *ids,
    struct ferr *e)
{
	if (failed && sp->faileddirfd == -1) {
		ids->v = NULL;
		ids->n = 0;
		return 0;
	}
	return list_kind(failed ? sp->faileddirfd : sp->dirfd, 'q', ids, e);
}

void
spool_ids_free(struct spool_ids *ids)
{
	free(ids->v);
	ids->v = NULL;
	ids->n = 0;
}

/*
 * An entry's file did not open (errno): 0 when it is gone (another
 * process finished it), else -1; one that fails spool_file_open's
 * checks is FE_DATA, left where it is for the admin.
 */
static int
open_error(const char *file, struct ferr *e)
{
	if (errno == ENOENT)
		return 0;
	if (errno == EPERM)
		return ferr_set(e, FE_DATA, 0, "%s: not a regular file with "
		    "one link; left alone", file);
	return ferr_set(e, FE_TEMP, errno, "open %s", file);
}

/*
 * Read all of fd (at most SPOOL_ENV_MAX bytes) into *buf, malloc'd.
 * The buffer is sized to the file, plus one byte to see its end: a
 * q file is a few hundred bytes, and a SPOOL_ENV_MAX buffer for each
 * made mailq spend most of its time mapping and unmapping it (perf on
 * 10,000 entries: 60% in mmap, page faults and munmap's TLB flush).
 * A file that grows meanwhile still gets the whole bound. -1 with
 * errno on a read error, -2 when memory ran out.
 */
static int
read_sized(int fd, off_t fsize, char **buf, size_t *len)
{
	size_t	 size, more;
	char	*v;

	size = fsize >= 0 && fsize < SPOOL_ENV_MAX ? (size_t)fsize + 1 :
	    SPOOL_ENV_MAX;
	*len = 0;
	if ((*buf = malloc(size)) == NULL)
		return -2;
	if (read_full(fd, *buf, size, len) == -1)
		return -1;
	if (*len < size || size == SPOOL_ENV_MAX)
		return 0;
	if ((v = realloc(*buf, SPOOL_ENV_MAX)) == NULL)
		return -2;
	*buf = v;
	if (read_full(fd, v + size, SPOOL_ENV_MAX - size, &more) == -1)
		return -1;
	*len += more;
	return 0;
}

static int
read_env(int dirfd, const char *id, struct spool_env *env, struct ferr *e)
{
	struct stat	 st;
	char		 q[NAME_SIZE], *buf = NULL;
	size_t		 len = 0;
	int		 fd, rc;

	name(q, 'q', id);
	if ((fd = file_open(dirfd, q, O_RDONLY, 0, &st)) == -1)
		return open_error(q, e);
	rc = read_sized(fd, st.st_size, &buf, &len);
	close(fd);
	if (rc == -2)
		rc = ferr_set(e, FE_OS, ENOMEM, "queue file");
	else if (rc == -1)
		rc = ferr_set(e, FE_TEMP, errno, "read %s", q);
	else if (len == SPOOL_ENV_MAX)
		rc = ferr_set(e, FE_DATA, 0, "%s: too large", q);
	else if (spool_env_parse(env, buf, len, e) == -1)
		rc = ferr_wrap(e, "%s", q);
	else if (strcmp(env->id, id) != 0)
		rc = ferr_set(e, FE_DATA, 0, "%s: id does not match", q);
	else
		rc = 1;
	free(buf);
	return rc;
}

/*
 * A d file, checked as spool_file_open does. Two links are right in one
 * case: spool_fail died after linking it into failed/ (the same file
 * there), and the entry is to be retried or moved again.
 */
static int
open_d(struct spool *sp, const char *d)
{
	struct stat	st, there;
	int		fd;

	if ((fd = spool_file_open(sp->dirfd, d, O_RDONLY, 0)) != -1 ||
	    errno != EPERM || sp->faileddirfd == -1)
		return fd;
	fd = openat(sp->dirfd, d, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC);
	if (fd == -1) {
		if (not_plain(errno))	/* as the first open said */
			errno = EPERM;
		return -1;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 2 &&
	    fstatat(sp->faileddirfd, d, &there, AT_SYMLINK_NOFOLLOW) == 0 &&
	    there.st_ino == st.st_ino && there.st_dev == st.st_dev)
		return fd;
	close(fd);
	errno = EPERM;
	return -1;
}

int
spool_take(struct spool *sp, const char *id, struct spool_msg *m,
    struct spool_env *env, struct ferr *e)
{
	char	d[NAME_SIZE];
	int	rc;

	memcpy(m->id, id, SPOOL_ID_SIZE);
	m->committed = 1;
	name(d, 'd', id);
	if ((m->fd = open_d(sp, d)) == -1)
		return open_error(d, e);
	if (plat_lock(m->fd, PLAT_LOCK_NB) == -1) {
		spool_release(m);
		return errno == EWOULDBLOCK ? 0 : ferr_set(e, FE_TEMP, errno,
		    "lock %s", d);
	}
	/* taken: but a runner before us may have finished it */
	rc = read_env(sp->dirfd, id, env, e);
	if (rc != 1)
		spool_release(m);
	return rc;
}

int
spool_peek(struct spool *sp, int failed, const char *id,
    struct spool_env *env, struct ferr *e)
{
	int	dirfd = failed ? sp->faileddirfd : sp->dirfd;

	if (dirfd == -1)
		return 0;
	return read_env(dirfd, id, env, e);
}

int
spool_update(struct spool *sp, const struct spool_env *env,
    struct ferr *e)
{
	return replace_env(sp, env, 'u', e);
}

int
spool_done(struct spool *sp, struct spool_msg *m, struct ferr *e)
{
	char	q[NAME_SIZE], d[NAME_SIZE];
	int	rc = 0;

	name(q, 'q', m->id);
	name(d, 'd', m->id);
	/* q first: without it the d file is only an orphan to sweep */
	if (unlinkat(sp->dirfd, q, 0) == -1 && errno != ENOENT)
		rc = ferr_set(e, FE_TEMP, errno, "remove %s", q);
	else {
		unlinkat(sp->dirfd, d, 0);
		if (fsync(sp->dirfd) == -1)
			rc = ferr_set(e, FE_TEMP, errno, "sync %s", sp->dir);
	}
	spool_release(m);
	return rc;
}

int
spool_fail(struct spool *sp, struct spool_msg *m,
    const struct spool_env *env, struct ferr *e)
{
	char	q[NAME_SIZE], d[NAME_SIZE];
	int	rc = -1;

	name(q, 'q', m->id);
	name(d, 'd', m->id);
	if (sp->faileddirfd == -1) {
		ferr_set(e, FE_TEMP, 0, "no %s/failed folder", sp->dir);
		goto out;
	}
	/*
	 * d is linked, not moved, so that at every instant one folder
	 * holds a whole entry; the old d becomes an orphan last.
	 */
	if (spool_update(sp, env, e) == -1)
		goto out;
	if (linkat(sp->dirfd, d, sp->faileddirfd, d, 0) == -1 &&
	    errno != EEXIST) {
		ferr_set(e, FE_TEMP, errno, "link failed/%s", d);
		goto out;
	}
	if (renameat(sp->dirfd, q, sp->faileddirfd, q) == -1) {
		ferr_set(e, FE_TEMP, errno, "move %s to failed/", q);
		goto out;
	}
	unlinkat(sp->dirfd, d, 0);
	if (fsync(sp->faileddirfd) == -1 || fsync(sp->dirfd) == -1) {
		ferr_set(e, FE_TEMP, errno, "sync %s", sp->dir);
		goto out;
	}
	rc = 0;
out:
	spool_release(m);
	return rc;
}

void
spool_release(struct spool_msg *m)
{
	if (m->fd != -1)
		close(m->fd);
	m->fd = -1;
}

/*
 * Whether `file` (of entry id) was left by a process that died:
 * older than age, and the entry's d file is missing or held by no one.
 */
static int
stale(struct spool *sp, const char *file, const char *id, unsigned age)
{
	struct stat	st;
	char		d[NAME_SIZE];
	int		fd, rc;

	if (fstatat(sp->dirfd, file, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    st.st_mtime + (time_t)age > time(NULL))
		return 0;
	name(d, 'd', id);
	if ((fd = open_d(sp, d)) == -1)
		return errno == ENOENT;
	/* held: an enqueue or a delivery is still at work on it */
	rc = plat_lock(fd, PLAT_LOCK_NB) == 0;
	close(fd);
	return rc;
}

void
spool_sweep(struct spool *sp, unsigned age)
{
	static const char kinds[] = "tud";
	struct spool_ids ids;
	struct ferr	 e;
	struct stat	 st;
	char		 f[NAME_SIZE], q[NAME_SIZE];
	size_t		 i, k;

	for (k = 0; kinds[k] != '\0'; k++) {
		if (list_kind(sp->dirfd, kinds[k], &ids, &e) == -1)
			continue;
		for (i = 0; i < ids.n; i++) {
			name(f, kinds[k], ids.v[i]);
			name(q, 'q', ids.v[i]);
			/* a d file with its q is a queued message */
			if (kinds[k] == 'd' && fstatat(sp->dirfd, q, &st,
			    AT_SYMLINK_NOFOLLOW) == 0)
				continue;
			if (stale(sp, f, ids.v[i], age) &&
			    (kinds[k] != 'd' || fstatat(sp->dirfd, q, &st,
			    AT_SYMLINK_NOFOLLOW) == -1))
				unlinkat(sp->dirfd, f, 0);
		}
		spool_ids_free(&ids);
	}
}

int
spool_lock(struct spool *sp, struct ferr *e)
{
	/* a fresh open: a forked child must not share the parent's lock */
	int		fd, n;

	fd = openat(sp->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return ferr_set(e, FE_TEMP, errno, "open %s", sp->dir);
	/* never blocking: a holder stopped with SIGSTOP stays stopped */
	for (n = 0; plat_lock(fd, PLAT_LOCK_NB) == -1; n++) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			ferr_set(e, FE_TEMP, errno, "lock %s", sp->dir);
			close(fd);
			return -1;
		}
		if (n == SPOOL_LOCK_WAIT * 10) {
			ferr_set(e, FE_TEMP, 0, "another process has held the "
			    "bounce lock of %s for %d s; bounces wait for the "
			    "next run", sp->dir, SPOOL_LOCK_WAIT);
			close(fd);
			return -1;
		}
		plat_sleep_ms(100);
	}
	return fd;
}

void
spool_unlock(int fd)
{
	if (fd != -1)
		close(fd);	/* closing drops the lock */
}

int
spool_state_read(struct spool *sp, const char *name, char *buf,
    size_t size, size_t *len, struct ferr *e)
{
	int	fd;

	*len = 0;
	if ((fd = spool_file_open(sp->dirfd, name, O_RDONLY, 0)) == -1)
		return errno == ENOENT ? 0 : ferr_set(e, FE_TEMP, errno,
		    "open %s/%s", sp->dir, name);
	if (read_full(fd, buf, size, len) == -1) {
		close(fd);
		return ferr_set(e, FE_TEMP, errno, "read %s/%s", sp->dir,
		    name);
	}
	close(fd);
	return 0;
}

int
spool_state_write(struct spool *sp, const char *name, const char *buf,
    size_t len, struct ferr *e)
{
	char	tmp[64];
	int	fd, short_write;

	if (snprintf(tmp, sizeof(tmp), "%s.new", name) >= (int)sizeof(tmp))
		return ferr_set(e, FE_SOFTWARE, 0, "state name too long");
	if ((fd = create_new(sp->dirfd, tmp, 0640)) == -1)
		return ferr_set(e, FE_TEMP, errno, "create %s/%s", sp->dir,
		    tmp);
	short_write = plat_write_full(fd, buf, len) == -1;
	if (short_write || close(fd) == -1 ||
	    renameat(sp->dirfd, tmp, sp->dirfd, name) == -1) {
		if (short_write)
			close(fd);
		ferr_set(e, FE_TEMP, errno, "write %s/%s", sp->dir, name);
		unlinkat(sp->dirfd, tmp, 0);
		return -1;
	}
	return 0;
}

struct aged {
	char		id[SPOOL_ID_SIZE];
	long long	mtime;
};

static int
aged_cmp(const void *a, const void *b)
{
	const struct aged *x = a, *y = b;

	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return memcmp(x->id, y->id, SPOOL_ID_SIZE);
}

/* Remove one failed/ entry: q first, so a d alone is never mistaken. */
static int
failed_remove(struct spool *sp, const char *id)
{
	char	q[NAME_SIZE], d[NAME_SIZE];

	name(q, 'q', id);
	name(d, 'd', id);
	if (unlinkat(sp->faileddirfd, q, 0) == -1 && errno != ENOENT)
		return -1;
	unlinkat(sp->faileddirfd, d, 0);
	return 0;
}

int
spool_prune_failed(struct spool *sp, long long older_than,
    size_t max_count, spool_prune_fn *fn, void *arg, struct ferr *e)
{
	struct spool_ids ids;
	struct aged	*v;
	struct stat	 st;
	char		 q[NAME_SIZE];
	size_t		 i, n = 0, left;
	int		 gone = 0, rc = 0;

	if (sp->faileddirfd == -1)
		return 0;
	if (list_kind(sp->faileddirfd, 'q', &ids, e) == -1)
		return -1;
	if ((v = calloc(ids.n + 1, sizeof(*v))) == NULL) {
		spool_ids_free(&ids);
		return ferr_set(e, FE_OS, errno, "failed/");
	}
	for (i = 0; i < ids.n; i++) {
		name(q, 'q', ids.v[i]);
		if (fstatat(sp->faileddirfd, q, &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		memcpy(v[n].id, ids.v[i], SPOOL_ID_SIZE);
		v[n++].mtime = (long long)st.st_mtime;
	}
	spool_ids_free(&ids);
	/* oldest first: by when it came to failed/, then by arrival */
	qsort(v, n, sizeof(*v), aged_cmp);
	for (i = 0, left = n; i < n; i++) {
		enum spool_prune_why why;

		if (v[i].mtime < older_than)
			why = SPOOL_PRUNE_AGE;
		else if (left > max_count)
			why = SPOOL_PRUNE_COUNT;
		else
			break;
		if (failed_remove(sp, v[i].id) == -1) {
			rc = ferr_set(e, FE_TEMP, errno, "remove failed/q%s",
			    v[i].id);
			break;
		}
		gone++;
		left--;
		if (fn != NULL)
			fn(arg, v[i].id, why);
	}
	free(v);
	if (gone > 0 && fsync(sp->faileddirfd) == -1)
		return ferr_set(e, FE_TEMP, errno, "sync %s/failed", sp->dir);
	return rc;
}
