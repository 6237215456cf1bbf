#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "plat.h"
#include "secret.h"

#define ERRLINE_SIZE	256	/* one stderr line as logged */
#define CHILD_PATH	"PATH=/usr/local/bin:/usr/bin:/bin"

extern char **environ;

/* The output side of one run: the first stdout line, stderr lines. */
struct run {
	char	*out;
	size_t	 size, len;
	int	 line_done;	/* the first newline was seen */
	int	 too_long;
	char	 err[ERRLINE_SIZE];
	size_t	 errlen;
};

int
secret_split(const char *cmd, char *buf, size_t size, char **argv,
    size_t *n, struct ferr *e)
{
	size_t	len = 0, k = 0;
	char	q;

	for (;;) {
		while (*cmd == ' ' || *cmd == '\t')
			cmd++;
		if (*cmd == '\0')
			break;
		if (k == SECRET_ARGV_MAX)
			return ferr_set(e, FE_CONFIG, 0, "password_command: "
			    "more than %d words", SECRET_ARGV_MAX);
		argv[k++] = buf + len;
		while (*cmd != '\0' && *cmd != ' ' && *cmd != '\t') {
			if (*cmd == '\'' || *cmd == '"') {
				q = *cmd++;
				while (*cmd != '\0' && *cmd != q) {
					/* inside "...", \" and \\ escape */
					if (q == '"' && *cmd == '\\' &&
					    (cmd[1] == '"' || cmd[1] == '\\'))
						cmd++;
					if (len + 1 >= size)
						goto toolong;
					buf[len++] = *cmd++;
				}
				if (*cmd != q)
					return ferr_set(e, FE_CONFIG, 0,
					    "password_command: unclosed %c", q);
				cmd++;
				continue;
			}
			if (len + 1 >= size)
				goto toolong;
			buf[len++] = *cmd++;
		}
		buf[len++] = '\0';
	}
	if (k == 0)
		return ferr_set(e, FE_CONFIG, 0, "password_command is empty");
	argv[k] = NULL;
	*n = k;
	return 0;
toolong:
	return ferr_set(e, FE_CONFIG, 0, "password_command too long");
}

/* A pipe no other child inherits (dup2 onto 1 and 2 clears the flag). */
static int
pipe_cloexec(int p[2])
{
	if (pipe(p) == -1)
		return -1;
	if (fcntl(p[0], F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(p[1], F_SETFD, FD_CLOEXEC) == -1) {
		close(p[0]);
		close(p[1]);
		p[0] = p[1] = -1;
		return -1;
	}
	return 0;
}

/* In the child: never returns. Nothing here may allocate or log. */
static void
child(char **argv, int out, int err)
{
	static const char msg[] = "cannot execute: ";
	char	*env[] = { CHILD_PATH, NULL };
	char	**envp = environ;
	int	 in[2];

	setpgid(0, 0);		/* so a timeout kills what it started */
	signal(SIGPIPE, SIG_DFL);	/* ferry ignores it; a child need not */
	/* stdin at EOF from a pipe: a jail may have no /dev/null */
	if (dup2(out, 1) == -1 || dup2(err, 2) == -1 || pipe(in) == -1 ||
	    close(in[1]) == -1 || dup2(in[0], 0) == -1)
		_exit(127);
	/* set-id: the caller's environment must not steer ferry's rights */
	if (getuid() != geteuid() || getgid() != getegid())
		envp = env;
	execve(argv[0], argv, envp);
	(void)!write(2, msg, sizeof(msg) - 1);
	(void)!write(2, strerror(errno), strlen(strerror(errno)));
	(void)!write(2, "\n", 1);
	_exit(127);
}

static void
log_errline(struct run *r)
{
	size_t	i;

	for (i = 0; i < r->errlen; i++)
		if ((unsigned char)r->err[i] < ' ' || r->err[i] == 0x7f)
			r->err[i] = '?';
	if (r->errlen > 0)
		log_warn("password_command: %.*s", (int)r->errlen, r->err);
	r->errlen = 0;
}

static void
take_err(struct run *r, const char *b, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (b[i] == '\n' || r->errlen == sizeof(r->err))
			log_errline(r);
		if (b[i] != '\n' && b[i] != '\r')
			r->err[r->errlen++] = b[i];
	}
}

static void
take_out(struct run *r, const char *b, size_t n)
{
	size_t	i;

	for (i = 0; i < n && !r->line_done; i++) {
		if (b[i] == '\n') {
			r->line_done = 1;
		} else if (r->len + 1 >= r->size || b[i] == '\0') {
			r->too_long = 1;
		} else
			r->out[r->len++] = b[i];
	}
}

/*
 * Read both pipes until both end or the deadline passes. Returns 0, or
 * -1 on timeout. Closes what it reads.
 */
static int
collect(struct run *r, int out, int err, long long deadline)
{
	struct pollfd	 p[2];
	char		 b[512];
	ssize_t		 n;
	long long	 left;
	int		 i, rc = 0;

	p[0].fd = out;
	p[1].fd = err;
	p[0].events = p[1].events = POLLIN;
	while (p[0].fd != -1 || p[1].fd != -1) {
		if ((left = deadline - plat_now_ms()) <= 0) {
			rc = -1;
			break;
		}
		if (poll(p, 2, (int)left) == -1 && errno != EINTR) {
			rc = -1;
			break;
		}
		for (i = 0; i < 2; i++) {
			if (p[i].fd == -1 || p[i].revents == 0)
				continue;
			n = read(p[i].fd, b, sizeof(b));
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
			} else if (i == 0)
				take_out(r, b, (size_t)n);
			else
				take_err(r, b, (size_t)n);
		}
	}
	plat_wipe(b, sizeof(b));
	for (i = 0; i < 2; i++)
		if (p[i].fd != -1)
			close(p[i].fd);
	log_errline(r);
	return rc;
}

/* Wait for pid until the deadline; then kill its group. Its status. */
static int
reap(pid_t pid, long long deadline, int killed, int *status)
{
	pid_t		w;

	while (!killed) {
		w = waitpid(pid, status, WNOHANG);
		if (w == pid)
			return 0;
		if (w == -1 && errno != EINTR)
			return -1;
		if (plat_now_ms() >= deadline)
			break;
		plat_sleep_ms(10);
	}
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) == -1 && errno == EINTR)
		;
	return -1;
}

static int
judge(struct run *r, int status, struct ferr *e)
{
	if (r->len > 0 && r->out[r->len - 1] == '\r')	/* CRLF output */
		r->len--;
	if (WIFSIGNALED(status))
		return ferr_set(e, FE_TEMP, 0, "password_command killed by "
		    "signal %d", WTERMSIG(status));
	if (WEXITSTATUS(status) != 0)
		return ferr_set(e, FE_TEMP, 0, "password_command exited with "
		    "status %d", WEXITSTATUS(status));
	if (r->too_long)
		return ferr_set(e, FE_TEMP, 0, "password_command: first line "
		    "longer than %zu bytes or holds a NUL", r->size - 1);
	if (r->len == 0)
		return ferr_set(e, FE_TEMP, 0, "password_command printed no "
		    "password");
	return 0;
}

int
secret_run(const char *cmd, unsigned timeout, char *out, size_t size,
    struct ferr *e)
{
	char		 words[1024], *argv[SECRET_ARGV_MAX + 1];
	struct run	 r;
	long long	 deadline;
	size_t		 n;
	pid_t		 pid;
	int		 po[2] = { -1, -1 }, pe[2] = { -1, -1 }, status = 0;
	int		 late, rc = -1;

	if (size == 0)
		return ferr_set(e, FE_SOFTWARE, 0, "no room for a password");
	memset(&r, 0, sizeof(r));
	r.out = out;
	r.size = size;
	if (secret_split(cmd, words, sizeof(words), argv, &n, e) == -1) {
		out[0] = '\0';
		return -1;
	}
	if (pipe_cloexec(po) == -1 || pipe_cloexec(pe) == -1) {
		ferr_set(e, FE_OS, errno, "password_command: pipe");
		goto out;
	}
	deadline = plat_now_ms() + 1000LL * timeout;
	if ((pid = fork()) == -1) {
		ferr_set(e, FE_OS, errno, "password_command: fork");
		goto out;
	}
	if (pid == 0)
		child(argv, po[1], pe[1]);
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	late = collect(&r, po[0], pe[0], deadline) == -1;
	po[0] = pe[0] = -1;
	if (reap(pid, deadline, late, &status) == -1)
		ferr_set(e, FE_TEMP, 0, "password_command did not finish "
		    "within %u s (timeout); killed", timeout);
	else if (judge(&r, status, e) == 0)
		rc = 0;
out:
	for (n = 0; n < 2; n++) {
		if (po[n] != -1)
			close(po[n]);
		if (pe[n] != -1)
			close(pe[n]);
	}
	out[rc == 0 ? r.len : 0] = '\0';
	if (rc == -1)
		plat_wipe(out, size);
	return rc;
}
