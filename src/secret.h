/*
 * secret.h: password_command, a program that prints the password or
 * OAuth token on its first line. Run with fork and execve, no shell;
 * the secret only ever travels through its stdout pipe.
 */
#ifndef FERRY_SECRET_H
#define FERRY_SECRET_H
#include <stddef.h>
#include "ferr.h"

#define SECRET_SIZE	8192	/* a long OAuth access token (JWT) + NUL */
#define SECRET_ARGV_MAX	32	/* words in a command, NULL not counted */

/*
 * Split cmd into words (no I/O): spaces and tabs separate them; '...'
 * keeps everything inside, "..." too except that \" and \\ stand for "
 * and \. The words are copied into buf (size bytes), argv[0..n) point
 * at them and argv[n] is NULL. An empty command, an unclosed quote or
 * too many words or bytes is FE_CONFIG.
 */
int	secret_split(const char *cmd, char *buf, size_t size, char **argv,
	    size_t *n, struct ferr *e);
/*
 * Run cmd (argv[0] an absolute path) with stdin at EOF and take the
 * first line of its stdout, without CR LF, into out. Each line it
 * writes to stderr is logged. It gets ferry's environment, or only a
 * fixed PATH when ferry runs set-id. A command that is still running
 * after timeout seconds is killed with its process group. A non-zero
 * exit, a signal, the timeout or an empty first line is FE_TEMP (the
 * mail stays queued); out is wiped on every failure.
 */
int	secret_run(const char *cmd, unsigned timeout, char *out, size_t size,
	    struct ferr *e);
#endif
