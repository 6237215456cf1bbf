/*
 * report.h: the queue as monitoring reads it. One JSON object a line
 * with the field names of Postfix's `postqueue -j`, a status line for
 * Nagios, Icinga, Zabbix or Consul (the Nagios plugin guidelines'
 * format and exit codes), and a Prometheus textfile-collector file.
 * Deliveries note their outcome in a small state file in the spool
 * (last success, last error) so these can say when mail last went.
 * Formatting does no I/O: text goes to the caller's put function. No
 * secret is in any of it: only envelopes, sizes, times and the replies
 * mailq already shows.
 */
#ifndef FERRY_REPORT_H
#define FERRY_REPORT_H
#include <stddef.h>
#include "ferr.h"
#include "relay.h"
#include "spool.h"

/* The caller's output: s is len bytes, not NUL-terminated. */
typedef void report_put_fn(void *arg, const char *s, size_t len);

/*
 * One entry as one JSON object and its newline (postqueue -j's fields:
 * queue_name, queue_id, arrival_time, message_size, forced_expire,
 * sender, recipients[] of address and delay_reason). queue_name is
 * "incoming" before the first try, "deferred" after, "hold" in
 * failed/. Strings are escaped per RFC 8259 7; a byte that is not
 * part of valid UTF-8 (RFC 3629) becomes U+FFFD, so every line is
 * valid UTF-8 JSON.
 */
void	report_json_entry(report_put_fn *put, void *arg,
	    const struct spool_env *env, int failed);

#define REPORT_STATE_FILE	"monitor-state"	/* in the spool folder */
#define REPORT_STATE_SIZE	1024

/* What deliveries noted; times are epoch seconds, 0 = never. */
struct report_state {
	long long	ok;			/* last 2xx to a message */
	long long	err_time;		/* last deferral or refusal */
	char		err[SPOOL_ERROR_SIZE];	/* its reply, one line */
	int		changed;		/* noted since loaded */
};

void	report_state_init(struct report_state *st);
/* Note one attempt at time now: delivered, and/or err (NULL = none). */
void	report_state_note(struct report_state *st, long long now,
	    int delivered, const char *err);
/*
 * The state file's text ("ok N", "err_time N", "err TEXT" lines). Parse
 * does no I/O and takes what it can: the spool is writable by ferry's
 * group, so a bad line is skipped, never trusted past its bounds.
 */
void	report_state_parse(struct report_state *st, const char *buf,
	    size_t len);
size_t	report_state_format(const struct report_state *st, char *buf,
	    size_t size);
/* Read the spool's state file; a missing one is all zeros. */
int	report_state_load(struct spool *sp, struct report_state *st,
	    struct ferr *e);
/*
 * When st->changed: merge st into the file (the later time of each
 * wins) and replace it by rename. Two processes saving at once may
 * lose one's note; the next delivery notes again.
 */
int	report_state_save(struct spool *sp, const struct report_state *st,
	    struct ferr *e);

/* A snapshot of the spool for check mode and the metrics file. */
struct report_queue {
	long long		now;
	size_t			queued;		/* entries in the spool */
	size_t			failed;		/* entries in failed/ */
	long long		oldest;		/* arrival; 0 = none queued */
	struct report_state	st;
	struct relay		hosts;	/* host-state's holds (failover) */
};

/*
 * Take the snapshot from the two listings, the oldest entry's q file
 * and the state files (monitor-state, host-state), not from every q
 * file: the check costs one readdir however long the queue is.
 */
int	report_queue_scan(struct spool *sp, struct report_queue *rq,
	    struct ferr *e);

enum report_metric {
	REPORT_QUEUED,		/* entries queued */
	REPORT_AGE,		/* the oldest one's age, seconds */
	REPORT_FAILED,		/* entries in failed/ */
	REPORT_SINCE,		/* seconds since the last success */
	REPORT_HELD,		/* smart hosts held after failing */
	REPORT_NMETRIC
};

/* Thresholds: alert when a value is above; -1 = none. */
struct report_limits {
	long long	warn[REPORT_NMETRIC];
	long long	crit[REPORT_NMETRIC];
};

void	report_limits_init(struct report_limits *l);
/*
 * "queued=100,age=1h,failed=1,since=6h,held=0" into l's warn (crit = 0) or
 * crit (crit = 1) side. Durations take s, m, h, d. FE_USAGE on a bad
 * name or value.
 */
int	report_limits_parse(struct report_limits *l, int crit,
	    const char *arg, struct ferr *e);

#define REPORT_OK		0	/* the plugin guidelines' codes */
#define REPORT_WARNING		1
#define REPORT_CRITICAL		2
#define REPORT_UNKNOWN		3

/*
 * The plugin's one line (with its newline) into out: "FERRY STATUS -
 * text | perfdata". Returns its REPORT_* code. `since` alerts only
 * while mail is queued: an idle node has nothing to deliver.
 */
int	report_check(const struct report_queue *rq,
	    const struct report_limits *l, char *out, size_t size);
/* The UNKNOWN line for why (no '|', one line). */
void	report_unknown(const char *why, char *out, size_t size);
/* The Prometheus text exposition (version 0.0.4) of rq. */
void	report_metrics(report_put_fn *put, void *arg,
	    const struct report_queue *rq);
/*
 * Write report_metrics to path atomically: a temporary file beside it
 * (whose name does not end in .prom, so node_exporter skips it),
 * fsync, mode 0644, rename.
 */
int	report_metrics_write(const char *path, const struct report_queue *rq,
	    struct ferr *e);
#endif
