/*
 * queue.h: delivering what the spool holds. Takes entries from spool,
 * hands them to smtp over one session, records each recipient's fate
 * back in the spool and queues bounces. The only module that knows
 * both spool and smtp; it prints nothing (cli reports).
 */
#ifndef FERRY_QUEUE_H
#define FERRY_QUEUE_H
#include <stddef.h>
#include <time.h>
#include "conf.h"
#include "confine.h"
#include "ferr.h"
#include "net.h"
#include "relay.h"
#include "report.h"
#include "smtp.h"
#include "spool.h"
#include "ta.h"

/* One message on its way: its replies may still be due. */
struct queue_flight;

struct queue {			/* caller owns it; fields private */
	const struct conf	*conf;
	struct spool		*sp;
	struct tls_trust	 trust;
	struct ta_list		 extra;
	br_x509_trust_anchor	*anchors;
	struct smtp_session	*s;
	smtp_trace_fn		*trace;
	int			 open;		/* s is connected */
	struct queue_flight	**fly;		/* SMTP_WINDOW + 1 */
	size_t			 nfly;
	int			 land_rc;	/* recording one failed */
	struct ferr		 land_err;
	int			 down;		/* connecting failed */
	struct ferr		 down_err;
	int			 throttled;	/* asked to slow down */
	struct ferr		 throttle_err;
	size_t			 held;		/* entries left for it */
	unsigned		 in_session;	/* transactions on s */
	long long		 last_ms;	/* send_rate: the last start */
	int			 print_errors;	/* -oep: no bounces */
	unsigned		 sessions;	/* connections made */
	struct spool_ids	 bounces;	/* queued this run */
	size_t			 bouncesize;
	int			 owed;		/* a bounce became owed */
	long long		 only_uid;	/* -1, or queue_restrict's */
	struct net_conn		 early;		/* queue_early's */
	struct report_state	 seen;		/* saved by queue_end */
	struct confine		 cf;		/* smtp_set_ready's */
	/* issue 26: the smart hosts, in order (relay.h) */
	struct conf		*hc;		/* conf with the host in use */
	struct relay		 relay;
	int			 chosen;	/* hc's host is the one to use */
	int			 pinned;	/* -bv: that host only */
	int			 host_bad;	/* it failed: the next one */
	struct ferr		 host_err;
};

/* What became of one message in one attempt. */
struct queue_result {
	size_t			 sent, pending, failed;
	struct ferr		 why;	/* why the pending ones did not go */
	struct smtp_rcpt	*rcpt;	/* each recipient tried, its reply */
	size_t			 n;
};

/*
 * Ready a run: load the trust anchors (tls_ca_file) and the session's
 * buffers. trace (may be NULL) sees the SMTP dialogue. With
 * print_errors, refused recipients are reported, not bounced.
 */
int	queue_init(struct queue *q, const struct conf *c, struct spool *sp,
	    smtp_trace_fn *trace, int print_errors, struct ferr *e);
/*
 * For a caller who is not root and runs ferry set-group-ID: a queue run
 * takes only the entries uid queued, and no run makes bounces, prunes
 * failed/ or sweeps (they touch other users' entries). So such a
 * caller never holds a lock that another user's mail, or root's queue
 * run, waits for; its owed bounces are made by the next full run.
 */
void	queue_restrict(struct queue *q, long long uid);
/*
 * A connect to the smart host that net_start began before queue_init
 * (while the message was being synced): the first session finishes it
 * instead of connecting anew. q takes it over; nc is left empty.
 */
void	queue_early(struct queue *q, struct net_conn *nc);
/*
 * Close the session and free everything; note in the spool's state
 * file when mail last went and the last reason it did not (report.h).
 */
void	queue_end(struct queue *q);
/*
 * Deliver one taken entry now, then record the outcome: remove it when
 * every recipient is done, else keep it with its next retry time. m
 * is released either way. -1 only when the spool could not record the
 * outcome. res says what happened; free it with queue_result_free.
 */
int	queue_deliver(struct queue *q, struct spool_msg *m,
	    struct spool_env *env, struct queue_result *res, struct ferr *e);
void	queue_result_free(struct queue_result *res);
/*
 * Deliver every entry that is due (all of them with force), then the
 * bounces this run made, over as few sessions as it can. The entries
 * stream: each one's envelope goes out before the replies for the one
 * before are read (RFC 2920 3.1), and each is recorded once they are.
 */
int	queue_run(struct queue *q, int force, struct ferr *e);
/*
 * Connect to smart host number host (conf.h hosts[]), go through TLS
 * and AUTH as a delivery would, describe the session into out
 * (smtp_describe) and quit. For -bv; no other host is tried, and no
 * hold is recorded.
 */
int	queue_verify(struct queue *q, size_t host, char *out, size_t size,
	    struct ferr *e);
/*
 * Make the bounces that are due (bounce_run), when queue_deliver left
 * one owed or in a queue run, then deliver the ones made.
 */
int	queue_flush_bounces(struct queue *q, struct ferr *e);
#endif
