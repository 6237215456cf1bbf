/*
 * relay.h: which smart host a session goes to. The hosts are tried in
 * the config's order; one that failed (a refused connect, a timeout,
 * TLS, AUTH, a 4xx to the session) is held down for failover_hold,
 * doubled with each further failure in a row up to an hour, so that a
 * dead primary does not cost every run a timeout. The holds live in
 * the spool's "host-state" file, the way the TLS session does: host,
 * port and times only, never a secret. With one host nothing is held
 * and no file is written. The parser and the choice are pure.
 */
#ifndef FERRY_RELAY_H
#define FERRY_RELAY_H
#include <stddef.h>
#include "conf.h"
#include "ferr.h"
#include "spool.h"

#define RELAY_STATE_FILE	"host-state"
#define RELAY_NAME_SIZE		(CONF_HOST_SIZE + 8)	/* "host:port" */
#define RELAY_HOLD_MAX		3600	/* the longest hold, seconds */
#define RELAY_STATE_SIZE	(CONF_HOSTS_MAX * (RELAY_NAME_SIZE + 48))

struct relay_host {
	char		name[RELAY_NAME_SIZE];	/* "host:port" */
	unsigned	fails;		/* in a row */
	long long	until;		/* held until then (epoch s) */
	int		tried;		/* in this process */
};

struct relay {			/* caller owns it */
	struct relay_host h[CONF_HOSTS_MAX];
	size_t		n;
	unsigned	hold;		/* failover_hold */
	int		changed;	/* since load */
};

/* The hosts of a loaded config, none held. */
void	relay_init(struct relay *r, const struct conf *c);
/*
 * Take the holds from host-state text (no I/O): lines "host:port
 * FAILS UNTIL". Lines of hosts no longer in the config, and bad
 * lines, are ignored. With no hosts in r (memset, for monitoring,
 * which reads no config) every good line is taken, in order, up to
 * CONF_HOSTS_MAX: a name of letters, digits and ".-_:[]" only, since
 * the spool is writable by ferry's group.
 */
void	relay_parse(struct relay *r, const char *text, size_t len);
/* The text relay_parse reads; its length (cut to fit size). */
size_t	relay_format(const struct relay *r, char *buf, size_t size);
/*
 * relay_parse of the spool's host-state; a missing file holds nothing.
 * r with no hosts (monitoring) takes every host in the file.
 */
int	relay_load(struct relay *r, struct spool *sp, struct ferr *e);
/* Write host-state when a hold changed; never with one host. */
int	relay_save(struct relay *r, struct spool *sp, struct ferr *e);
/*
 * The host to try next: of those this process has not tried, the first
 * not held at now, else (all held) the first held one; r->n when every
 * host was tried.
 */
size_t	relay_next(const struct relay *r, long long now);
/* Host i is being tried: relay_next passes it from now on. */
void	relay_tried(struct relay *r, size_t i);
/* Host i failed at now: its hold, in seconds (0 with one host). */
unsigned relay_failed(struct relay *r, size_t i, long long now);
/* Host i took a session: no longer held. */
void	relay_ok(struct relay *r, size_t i);
/* 1 when host i is held at now. */
int	relay_held(const struct relay *r, size_t i, long long now);
#endif
