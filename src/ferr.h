/* ferr.h: the error record every fallible function below cli fills. */
#ifndef FERRY_FERR_H
#define FERRY_FERR_H

#define FERR_TEXT_SIZE	256

/*
 * The kind decides a message's fate and ferry's exit code; cli maps it
 * one to one with ferr_exit().
 */
enum ferr_kind {
	FE_OK = 0,
	FE_USAGE,	/* EX_USAGE 64: bad command line */
	FE_DATA,	/* EX_DATAERR 65: bad message or address */
	FE_PERM,	/* EX_UNAVAILABLE 69: 5xx, the message bounces */
	FE_SOFTWARE,	/* EX_SOFTWARE 70: a bug */
	FE_OS,		/* EX_OSERR 71: fork, memory */
	FE_CANTCREAT,	/* EX_CANTCREAT 73: cannot create a file */
	FE_TEMP,	/* EX_TEMPFAIL 75: 4xx, network; retry later */
	FE_PROTOCOL,	/* EX_PROTOCOL 76: the server broke SMTP */
	FE_TLS,		/* EX_NOPERM 77: TLS or certificate check failed */
	FE_CONFIG	/* EX_CONFIG 78: bad configuration */
};

struct ferr {
	enum ferr_kind	kind;
	int		err;		/* errno, or 0 */
	char		text[FERR_TEXT_SIZE];
};

/*
 * Record an error; text is printf-formatted and cut to fit. When err is
 * not 0, ": strerror(err)" is appended. Always returns -1 so callers
 * can `return ferr_set(...)`.
 */
int	ferr_set(struct ferr *e, enum ferr_kind kind, int err,
	    const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
/* Put `fmt...: ` in front of the text already there (context). */
int	ferr_wrap(struct ferr *e, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	ferr_clear(struct ferr *e);
/* The sysexits(3) code for e's kind; 0 for FE_OK. */
int	ferr_exit(const struct ferr *e);
#endif
