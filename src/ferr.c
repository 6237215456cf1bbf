#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "ferr.h"

int
ferr_set(struct ferr *e, enum ferr_kind kind, int err, const char *fmt, ...)
{
	va_list	ap;
	size_t	len;

	e->kind = kind;
	e->err = err;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);	/* cut is fine */
	va_end(ap);
	len = strlen(e->text);
	if (err != 0 && len < sizeof(e->text) &&
	    snprintf(e->text + len, sizeof(e->text) - len, ": %s",
	    strerror(err)) < 0)
		e->text[len] = '\0';
	return -1;
}

int
ferr_wrap(struct ferr *e, const char *fmt, ...)
{
	char	head[FERR_TEXT_SIZE], old[FERR_TEXT_SIZE];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(old, e->text, sizeof(old));
	if (snprintf(e->text, sizeof(e->text), "%s: %s", head, old) < 0)
		memcpy(e->text, old, sizeof(old));
	return -1;
}

void
ferr_clear(struct ferr *e)
{
	e->kind = FE_OK;
	e->err = 0;
	e->text[0] = '\0';
}

int
ferr_exit(const struct ferr *e)
{
	switch (e->kind) {
	case FE_OK:		return 0;
	case FE_USAGE:		return EX_USAGE;
	case FE_DATA:		return EX_DATAERR;
	case FE_PERM:		return EX_UNAVAILABLE;
	case FE_SOFTWARE:	return EX_SOFTWARE;
	case FE_OS:		return EX_OSERR;
	case FE_CANTCREAT:	return EX_CANTCREAT;
	case FE_TEMP:		return EX_TEMPFAIL;
	case FE_PROTOCOL:	return EX_PROTOCOL;
	case FE_TLS:		return EX_NOPERM;
	case FE_CONFIG:		return EX_CONFIG;
	}
	return EX_SOFTWARE;
}
