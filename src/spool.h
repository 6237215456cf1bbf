/*
 * spool.h: the durable queue. An entry is two files in the spool
 * folder: d<ID>, the message as the caller gave it (never changed),
 * and q<ID>, the envelope and delivery state (replaced whole, by
 * rename). An entry exists once its q file does; before that nothing
 * was acknowledged. The lock on the d file says who is delivering it.
 * IDs are 8 hex digits of arrival time and 8 random, so they sort by
 * arrival. spool never opens a socket.
 */
#ifndef FERRY_SPOOL_H
#define FERRY_SPOOL_H
#include <stddef.h>
#include <sys/types.h>
#include "ferr.h"
#include "msg.h"

#define SPOOL_ID_SIZE		17	/* 16 hex digits + NUL */
#define SPOOL_ERROR_SIZE	256
#define SPOOL_ENV_MAX		(1024 * 1024)	/* a q file's largest size */
#define SPOOL_REPLY_SIZE	512	/* a refused recipient's reply kept */

/*
 * A recipient refused for good is first REFUSED or EXPIRED: a bounce
 * is owed and its reply is kept for it. Once a bounce that names it is
 * in the spool (or none is due: <> sender, -oep, NOTIFY), it is FAILED.
 */
enum spool_rstate {
	SPOOL_PENDING,		/* not delivered yet */
	SPOOL_SENT,		/* the smart host took it */
	SPOOL_FAILED,		/* refused for good; dealt with */
	SPOOL_REFUSED,		/* refused for good; bounce owed */
	SPOOL_EXPIRED		/* past max_queue_age; bounce owed */
};

struct spool_rcpt {
	char			*addr;
	enum spool_rstate	 state;
	char			*reply;		/* malloc'd or NULL */
};

#define SPOOL_F_8BIT	0x01u

struct spool_env {		/* one q file; rcpt is malloc'd */
	char			 id[SPOOL_ID_SIZE];
	long long		 arrival;	/* epoch seconds */
	char			 from[MSG_ADDR_SIZE];	/* "" = <> */
	unsigned		 flags;
	off_t			 size;		/* bytes in the d file */
	off_t			 wire;		/* at most, with CRLF */
	unsigned		 tries;
	long long		 next;		/* not before; 0 = now */
	long long		 uid;		/* who queued it; -1 unknown */
	char			 error[SPOOL_ERROR_SIZE];	/* last */
	char			 dsn_notify[32];	/* -N, "" = none */
	char			 dsn_ret[8];		/* -R FULL or HDRS */
	char			 dsn_envid[101];	/* -V, RFC 3461 4.4 */
	struct spool_rcpt	*rcpt;
	size_t			 nrcpt;
	size_t			 rcptsize;
	/* a bounce: the entries it reports, until they are marked */
	char			(*covers)[SPOOL_ID_SIZE];	/* malloc'd */
	size_t			 ncovers;
	size_t			 coverssize;
};

void	spool_env_init(struct spool_env *env);
int	spool_env_add(struct spool_env *env, const char *addr,
	    enum spool_rstate state, struct ferr *e);
void	spool_env_free(struct spool_env *env);
/* Recipients still pending. */
size_t	spool_env_pending(const struct spool_env *env);
/* Recipients whose bounce is owed (REFUSED or EXPIRED). */
size_t	spool_env_owed(const struct spool_env *env);
/* Keep text (cut to one line of SPOOL_REPLY_SIZE) as rcpt i's reply. */
int	spool_env_set_reply(struct spool_env *env, size_t i, const char *text,
	    struct ferr *e);
/* Add id to the entries a bounce covers. */
int	spool_env_cover(struct spool_env *env, const char *id,
	    struct ferr *e);
/*
 * The q file's text: "key value" lines. Parse does no I/O; a file that
 * does not parse is FE_DATA. Format writes at most size bytes and
 * fails with FE_SOFTWARE when they do not suffice.
 */
int	spool_env_parse(struct spool_env *env, const char *buf, size_t len,
	    struct ferr *e);
int	spool_env_format(const struct spool_env *env, char *buf, size_t size,
	    size_t *len, struct ferr *e);

struct spool {			/* caller owns it */
	int	dirfd;
	int	faileddirfd;		/* DIR/failed, or -1 */
	char	dir[1024];
};

/*
 * The spool is writable by ferry's group, and a root queue run must not
 * be steered by what a holder of that group put there. So every file in
 * it is opened this way: relative to dirfd, never through a symlink
 * (O_NOFOLLOW), never waiting on a FIFO (O_NONBLOCK), and kept only if
 * fstat shows a regular file with one link whose group is the folder's
 * or ours (a hard link to a file elsewhere has two). flags are open's
 * (O_CLOEXEC is added; with O_CREAT, mode applies). fd, or -1 with
 * errno (EPERM for a file that is there but fails the checks).
 */
int	spool_file_open(int dirfd, const char *name, int flags, mode_t mode);

/*
 * Open the spool folder; FE_CANTCREAT when it is missing or not
 * writable (the caller cannot queue), creating failed/ if it can.
 */
int	spool_open(struct spool *sp, const char *dir, struct ferr *e);
void	spool_close(struct spool *sp);

struct spool_msg {		/* an entry being written or delivered */
	char	id[SPOOL_ID_SIZE];
	int	fd;		/* the d file, locked */
	int	committed;
};

/* Make a new, locked, empty d file for the message; fd is its own. */
int	spool_create(struct spool *sp, struct spool_msg *m, struct ferr *e);
/*
 * Make the entry durable: fsync the d file, write q (env, whose id is
 * set to m's) to a temporary name, fsync it, rename it into place and
 * fsync the folder. On failure nothing of the entry is left.
 */
int	spool_commit(struct spool *sp, struct spool_msg *m,
	    struct spool_env *env, struct ferr *e);
/* Remove an entry that was not committed; close it. */
void	spool_abort(struct spool *sp, struct spool_msg *m);

struct spool_ids {		/* malloc'd; ids[n] */
	char	(*v)[SPOOL_ID_SIZE];
	size_t	  n;
};

/* The IDs of committed entries (in failed/ with failed set), sorted. */
int	spool_list(struct spool *sp, int failed, struct spool_ids *ids,
	    struct ferr *e);
void	spool_ids_free(struct spool_ids *ids);
/*
 * Take entry id for delivery: lock its d file and read its q file.
 * Returns 1 when taken, 0 when another process holds it or it is gone,
 * -1 on error (an unreadable q file is FE_DATA).
 */
int	spool_take(struct spool *sp, const char *id, struct spool_msg *m,
	    struct spool_env *env, struct ferr *e);
/* Read an entry's q file without taking it (for mailq). */
int	spool_peek(struct spool *sp, int failed, const char *id,
	    struct spool_env *env, struct ferr *e);
/* Replace the q file with env (tries, next, error, states). */
int	spool_update(struct spool *sp, const struct spool_env *env,
	    struct ferr *e);
/* The entry is finished: remove q then d, sync the folder, close. */
int	spool_done(struct spool *sp, struct spool_msg *m, struct ferr *e);
/* Move the entry (env saved first) into failed/; close it. */
int	spool_fail(struct spool *sp, struct spool_msg *m,
	    const struct spool_env *env, struct ferr *e);
/* Close (and so unlock) an entry without changing it. */
void	spool_release(struct spool_msg *m);
/*
 * Remove what killed processes left, older than `age` seconds: d files
 * with no q file, and the temporary t and u files, of entries whose d
 * file nobody holds (a live enqueue or delivery holds it).
 */
void	spool_sweep(struct spool *sp, unsigned age);

/*
 * Wait for the spool's bounce lock (one bounce maker at a time) and
 * return its descriptor for spool_unlock, or -1 (FE_TEMP). The wait is
 * bounded (SPOOL_LOCK_WAIT seconds): a holder that is stopped must not
 * freeze a queue run; what is owed stays owed for the next one.
 */
#define SPOOL_LOCK_WAIT	10
int	spool_lock(struct spool *sp, struct ferr *e);
void	spool_unlock(int fd);
/*
 * A small state file in the spool folder (name has no '/'): read it
 * whole into buf (0 bytes when missing); write replaces it by rename.
 */
int	spool_state_read(struct spool *sp, const char *name, char *buf,
	    size_t size, size_t *len, struct ferr *e);
int	spool_state_write(struct spool *sp, const char *name, const char *buf,
	    size_t len, struct ferr *e);

enum spool_prune_why {
	SPOOL_PRUNE_AGE,	/* older than max_age */
	SPOOL_PRUNE_COUNT	/* more than max_count entries */
};
typedef void spool_prune_fn(void *arg, const char *id,
    enum spool_prune_why why);
/*
 * Cap failed/: remove entries (q, then d) last changed before
 * `older_than` (epoch seconds), then the oldest until at most
 * max_count are left. fn (may be NULL) hears of each removal.
 */
int	spool_prune_failed(struct spool *sp, long long older_than,
	    size_t max_count, spool_prune_fn *fn, void *arg, struct ferr *e);
#endif
