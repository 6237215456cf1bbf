/*
 * bounce.h: making the bounces failed messages are owed. A delivery
 * marks a recipient refused for good REFUSED or EXPIRED in its q file
 * (see spool.h); bounce_run turns those into DSN entries in the spool:
 * at most one per sender per bounce_window, listing every message that
 * failed for that sender since. A sender with no bounce in the last
 * window gets one at once. Exactly once, across crashes: a DSN's q file
 * names the entries it covers until each of them is marked FAILED, and
 * whoever finds such a DSN finishes the marking first. Never bounces a
 * message with the <> sender. Knows spool and dsn, never smtp.
 */
#ifndef FERRY_BOUNCE_H
#define FERRY_BOUNCE_H
#include "conf.h"
#include "ferr.h"
#include "spool.h"

#define BOUNCE_TIMES_FILE	"bounce-times"	/* in the spool folder */
#define BOUNCE_TIMES_MAX	(256 * 1024)	/* its largest size */

/*
 * Under the spool's bounce lock: finish the marking of DSNs a crash
 * interrupted, then queue the bounces that are due at `now`. The IDs
 * of the DSN entries made go to made (malloc'd; spool_ids_free). An
 * entry held by another process is left for a later run. -1 only when
 * the spool cannot be read or locked; what was not bounced stays owed.
 */
int	bounce_run(const struct conf *c, struct spool *sp, long long now,
	    struct spool_ids *made, struct ferr *e);
#endif
