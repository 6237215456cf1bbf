/*
 * log.h: syslog (facility mail), copied to stderr with -v or when there
 * is no /dev/log to send to (an empty jail). Callers log outcomes
 * only, never secrets or message bodies.
 */
#ifndef FERRY_LOG_H
#define FERRY_LOG_H

void	log_open(const char *ident, int to_stderr);
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#endif
