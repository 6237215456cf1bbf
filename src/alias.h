/*
 * alias.h: sendmail/Postfix aliases files (/etc/aliases) and their
 * expansion. ferry only relays: an alias may name addresses and other
 * aliases, never a command, a file or an :include: list. The parser
 * does no I/O; the caller reads the file.
 */
#ifndef FERRY_ALIAS_H
#define FERRY_ALIAS_H
#include <stddef.h>
#include "ferr.h"
#include "msg.h"

#define ALIAS_LINE_MAX	4096		/* bytes in a line, less CRLF */
#define ALIAS_FILE_MAX	(1024 * 1024)	/* bytes in a file */
#define ALIAS_DEPTH_MAX	32		/* aliases nested in an expansion */

struct alias_entry {		/* fields private */
	char			*name;		/* lowercased */
	size_t			 line;		/* where it is defined */
	struct msg_addrs	 targets;	/* as written; not empty */
};

struct alias_map {		/* caller owns it; fields private */
	struct alias_entry	*v;		/* sorted by name */
	size_t			 n;
	size_t			 size;
};

/* An empty map: every address expands to itself. */
void	alias_init(struct alias_map *m);
/*
 * Parse aliases text of len bytes (no I/O) into m, which need not be
 * initialised. Lines are `name: target, target, ...`; a line starting
 * with space or tab continues the one before; blank and `#` lines are
 * skipped. Names are case-insensitive. A target is an address, a local
 * name, "quoted", `<addr>` or `Phrase <addr>`; `\name` is the local
 * name, not aliased further. Errors are FE_CONFIG "NAME:LINE: reason"
 * (`name` is the file name for messages): a command, file or :include:
 * target, a name defined twice, a name with no targets, a line over
 * ALIAS_LINE_MAX or a file over ALIAS_FILE_MAX; FE_OS when out of
 * memory. On failure m is left empty. On success free with alias_free.
 */
int	alias_parse(struct alias_map *m, const char *text, size_t len,
	    const char *name, struct ferr *e);
/*
 * Expand addr by m into out (msg_addrs_add: no duplicates, case
 * ignored). addr is local when it has no '@' or its domain is one of
 * local_domains (case ignored); a local name with an alias becomes its
 * targets, in turn expanded. Any other address, and a local name
 * without an alias, is added as is. A name met again while it is being
 * expanded (`root: root, admin@x`, or a -> b -> a) is added as is, not
 * expanded again. More than ALIAS_DEPTH_MAX nested aliases is
 * FE_CONFIG. On failure out holds what it held before.
 */
int	alias_expand(const struct alias_map *m, const char *addr,
	    const char *const *local_domains, size_t ndomains,
	    struct msg_addrs *out, struct ferr *e);
/*
 * For newaliases: expand every alias and describe each that fails
 * (nesting too deep, out of memory) or loops through another name
 * (a -> b -> a; a name listing itself is fine), one "alias 'x': ..."
 * line each, into report (size bytes, NUL-ended, cut to fit). Returns
 * the number of aliases with a problem; 0 leaves report "".
 */
size_t	alias_check(const struct alias_map *m,
	    const char *const *local_domains, size_t ndomains,
	    char *report, size_t size);
void	alias_free(struct alias_map *m);
/*
 * Read the file at path (at most ALIAS_FILE_MAX bytes) and parse it.
 * FE_CONFIG naming the file when it cannot be read.
 */
int	alias_load(struct alias_map *m, const char *path, struct ferr *e);
#endif
