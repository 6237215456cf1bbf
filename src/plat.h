/*
 * plat.h: the only calls ferry makes beyond C11 and POSIX.1-2008. Every
 * other file builds with -std=c11 -D_POSIX_C_SOURCE=200809L alone; the
 * BSD and Linux extensions they need are wrapped here, and plat.c is
 * the one place with #ifdef __linux__ / __FreeBSD__. flock(2) and
 * LOG_PERROR are used directly: both systems have them in plain headers.
 */
#ifndef FERRY_PLAT_H
#define FERRY_PLAT_H
#include <stdarg.h>
#include <stddef.h>
#include <time.h>

/*
 * Fill buf with len bytes from the kernel's random source. 0, or -1
 * with errno set (buf then holds nothing to rely on).
 */
int	plat_random(void *buf, size_t len);
/* Zero len bytes at buf in a way the compiler may not drop. */
void	plat_wipe(void *buf, size_t len);
/* Seconds east of UTC for a struct tm filled by localtime_r(). */
long	plat_gmtoff(const struct tm *tm);
/* The path of the local syslog socket, to tell whether there is one. */
const char *plat_log_path(void);
/* vsyslog(3): not in POSIX, but in every libc ferry targets. */
void	plat_vsyslog(int pri, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));
#endif
