#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "local.h"
#include "msg.h"
#include "plat.h"
#include "smtp.h"

#define LOCAL_GROUPS_MAX	256	/* supplementary groups looked at */

int
local_group_lost(char *why, size_t whysize)
{
	gid_t	g, groups[LOCAL_GROUPS_MAX];
	int	n, i;

	if (getuid() == 0 || plat_exe_group(&g) == -1 || getegid() == g ||
	    getgid() == g)
		return 0;
	/* a member of ferry's group needs no setgid: it reads the spool */
	n = getgroups(LOCAL_GROUPS_MAX, groups);
	for (i = 0; i < n; i++)
		if (groups[i] == g)
			return 0;
	snprintf(why, whysize, "%s", plat_nosuid_why());
	return 1;
}

int
local_connect(const char *path, struct ferr *e)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return ferr_set(e, FE_TEMP, ENAMETOOLONG, "%s", path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = plat_socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return ferr_set(e, FE_TEMP, errno, "socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		ferr_set(e, FE_TEMP, errno, "%s", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* The dialogue: a stream each way on the socket, and the last reply. */
struct conv {
	FILE			*in;
	FILE			*out;
	struct smtp_reply	 r;
	struct smtp_reply	 queued;	/* the reply to the final dot */
	char			 line[SMTP_LINE_MAX];
};

/*
 * Read one reply; 0 when its code is in class want (2xx, 3xx), else
 * -1 with e: FE_DATA for 5xx (the service refused the message for
 * good), FE_TEMP for anything else, the reply's first line in it.
 */
static int
conv_reply(struct conv *cv, int want, struct ferr *e)
{
	size_t	len;
	int	rc;

	smtp_reply_init(&cv->r);
	do {
		if (fgets(cv->line, sizeof(cv->line), cv->in) == NULL)
			return ferr_set(e, FE_TEMP, 0, "the submission service "
			    "closed the connection");
		len = strcspn(cv->line, "\r\n");
		if ((rc = smtp_reply_add(&cv->r, cv->line, len)) == -1)
			return ferr_set(e, FE_TEMP, 0, "the submission service "
			    "broke SMTP: %.60s", cv->line);
	} while (rc == 0);
	if (cv->r.code / 100 == want)
		return 0;
	return ferr_set(e, cv->r.code / 100 == 5 ? FE_DATA : FE_TEMP, 0,
	    "submission service: %d %.*s", cv->r.code,
	    (int)strcspn(cv->r.text, "\n"), cv->r.text);
}

/* Send one command line and read its reply (class want). */
static int
conv_cmd(struct conv *cv, int want, struct ferr *e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int
conv_cmd(struct conv *cv, int want, struct ferr *e, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vfprintf(cv->out, fmt, ap);
	va_end(ap);
	if (n < 0 || fputs("\r\n", cv->out) == EOF || fflush(cv->out) == EOF)
		return ferr_set(e, FE_TEMP, errno, "write to the submission "
		    "service");
	return conv_reply(cv, want, e);
}

/* Write len bytes of out to the service; flush as well with flush. */
static int
conv_put(struct conv *cv, const char *out, size_t len, int flush,
    struct ferr *e)
{
	if (fwrite(out, 1, len, cv->out) != len ||
	    (flush && fflush(cv->out) == EOF))
		return ferr_set(e, FE_TEMP, errno, "write to the submission "
		    "service");
	return 0;
}

/* The message in tmp, dot-stuffed with CRLF, and the final dot. */
static int
conv_data(struct conv *cv, FILE *tmp, struct ferr *e)
{
	struct smtp_dot	d;
	char		in[4096], out[SMTP_DOT_OUT_SIZE(4096)];
	size_t		n;

	smtp_dot_init(&d);
	rewind(tmp);
	while ((n = fread(in, 1, sizeof(in), tmp)) > 0)
		if (conv_put(cv, out, smtp_dot_stuff(&d, in, n, out), 0,
		    e) == -1)
			return -1;
	if (ferror(tmp))
		return ferr_set(e, FE_TEMP, errno, "reread the message");
	if (conv_put(cv, out, smtp_dot_end(&d, out), 1, e) == -1)
		return -1;
	return conv_reply(cv, 2, e);
}

/* Every recipient: the argument lists, then -t's from the headers. */
static int
all_rcpts(const struct local_msg *m, const struct msg_addrs *hdr,
    struct msg_addrs *all, struct ferr *e)
{
	size_t	i;
	int	k;

	for (k = 0; k < m->nrcpts; k++)
		if (msg_parse_addrs(m->rcpts[k], strlen(m->rcpts[k]), all,
		    e) == -1)
			return -1;
	for (i = 0; i < hdr->n; i++)
		if (msg_addrs_add(all, hdr->v[i], strlen(hdr->v[i]), e) == -1)
			return -1;
	if (all->n == 0)
		return ferr_set(e, FE_USAGE, 0, "no recipients given");
	return 0;
}

static int
dialogue(struct conv *cv, const char *from, const struct msg_addrs *all,
    int eightbit, FILE *tmp, struct ferr *e)
{
	size_t	i;

	if (conv_reply(cv, 2, e) == -1 ||
	    conv_cmd(cv, 2, e, "EHLO localhost") == -1 ||
	    conv_cmd(cv, 2, e, "MAIL FROM:<%s>%s", from,
	    eightbit ? " BODY=8BITMIME" : "") == -1)
		return -1;
	for (i = 0; i < all->n; i++)
		if (conv_cmd(cv, 2, e, "RCPT TO:<%s>", all->v[i]) == -1)
			return -1;
	if (conv_cmd(cv, 3, e, "DATA") == -1 || conv_data(cv, tmp, e) == -1)
		return -1;
	memcpy(&cv->queued, &cv->r, sizeof(cv->queued));
	/*
	 * Wait for QUIT's reply: -bs delivers once the dialogue ended,
	 * and a write to a client already gone ends it in error instead.
	 */
	(void)conv_cmd(cv, 2, e, "QUIT");
	return 0;
}

/* A stdio stream on a copy of sock, so each way closes on its own. */
static FILE *
stream(int sock, const char *mode)
{
	FILE	*f;
	int	 fd;

	if ((fd = dup(sock)) == -1)
		return NULL;
	if ((f = fdopen(fd, mode)) == NULL)
		close(fd);
	return f;
}

int
local_submit(int sock, int in, const struct local_msg *m, char *reply,
    size_t replysize, struct ferr *e)
{
	struct conv	*cv;
	struct msg_opts	 mo;
	struct msg_info	 info;
	struct msg_addrs all;
	struct passwd	*pw;
	FILE		*tmp = NULL;
	const char	*from = m->from;
	int		 rc = -1;

	msg_addrs_init(&info.rcpts);
	msg_addrs_init(&all);
	if ((cv = calloc(1, sizeof(*cv))) == NULL)
		return ferr_set(e, FE_OS, errno, "memory");
	if (from == NULL) {
		if ((pw = getpwuid(getuid())) == NULL) {
			ferr_set(e, FE_TEMP, errno, "no user name for uid %ld",
			    (long)getuid());
			goto out;
		}
		from = pw->pw_name;
	}
	/* -t's recipients are in the headers: the whole message first */
	memset(&mo, 0, sizeof(mo));
	mo.dot_ends = m->dot_ends;
	mo.extract = m->extract;
	if ((tmp = tmpfile()) == NULL) {
		ferr_set(e, FE_TEMP, errno, "temporary file");
		goto out;
	}
	if (msg_read(in, fileno(tmp), &mo, &info, e) == -1 ||
	    all_rcpts(m, &info.rcpts, &all, e) == -1)
		goto out;
	if ((cv->in = stream(sock, "r")) == NULL ||
	    (cv->out = stream(sock, "w")) == NULL) {
		ferr_set(e, FE_OS, errno, "socket stream");
		goto out;
	}
	if (dialogue(cv, from, &all, info.eightbit, tmp, e) == -1)
		goto out;
	snprintf(reply, replysize, "%d %.*s", cv->queued.code,
	    (int)strcspn(cv->queued.text, "\n"), cv->queued.text);
	rc = 0;
out:
	if (cv->in != NULL)
		fclose(cv->in);
	if (cv->out != NULL)
		fclose(cv->out);
	free(cv);
	if (tmp != NULL)
		fclose(tmp);
	msg_addrs_free(&info.rcpts);
	msg_addrs_free(&all);
	return rc;
}
