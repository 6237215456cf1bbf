#include <stdarg.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "plat.h"

/* The state lives in libc's openlog(); this module keeps none. */
void
log_open(const char *ident, int to_stderr)
{
	/* connected now: under Capsicum (confine.h) it could not later */
	int	opt = LOG_PID | LOG_NDELAY;
	int	nolog = access(plat_log_path(), W_OK) == -1;

	if (to_stderr || nolog)
		opt |= LOG_PERROR;
	openlog(ident, opt, LOG_MAIL);
	/*
	 * With nowhere to log, stderr gets warnings only: a cron job's
	 * stderr is mailed, and "sent" lines would mail about mail.
	 */
	if (to_stderr)
		setlogmask(LOG_UPTO(LOG_DEBUG));
	else
		setlogmask(LOG_UPTO(nolog ? LOG_WARNING : LOG_INFO));
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	plat_vsyslog(LOG_INFO, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	plat_vsyslog(LOG_WARNING, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	plat_vsyslog(LOG_DEBUG, fmt, ap);
	va_end(ap);
}
