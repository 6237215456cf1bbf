#include <sys/types.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net.h"
#include "plat.h"

int
net_wait(int fd, short events, unsigned timeout, struct ferr *e)
{
	struct pollfd	pfd;
	int		n;

	pfd.fd = fd;
	pfd.events = events;
	do
		n = poll(&pfd, 1, (int)timeout * 1000);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return ferr_set(e, FE_TEMP, errno, "poll");
	if (n == 0)
		return ferr_set(e, FE_TEMP, 0, "timed out after %u s",
		    timeout);
	return 0;
}

/* A non-blocking socket whose connect to ai is sent, or -1 with e. */
static int
start_one(const struct addrinfo *ai, struct ferr *e)
{
	int	fd, flags;

	fd = plat_socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd == -1)
		return ferr_set(e, FE_TEMP, errno, "socket");
	flags = fcntl(fd, F_GETFL);
	if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1 ||
	    (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1 &&
	    errno != EINPROGRESS)) {
		ferr_set(e, FE_TEMP, errno, "connect");
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Wait for fd's connect, so that a black-holed address costs only
 * `timeout`, and make fd blocking. Closes fd on failure.
 */
static int
finish_one(int fd, unsigned timeout, struct ferr *e)
{
	socklen_t	len = sizeof(int);
	int		flags, err = 0, one = 1;

	if (net_wait(fd, POLLOUT, timeout, e) == -1) {
		close(fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == 0 && ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1))
		err = errno;
	if (err != 0) {
		ferr_set(e, FE_TEMP, err, "connect");
		close(fd);
		return -1;
	}
	/* SMTP is request/reply: do not let Nagle hold back a command */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void
addr_text(const struct addrinfo *ai, char *out, size_t size)
{
	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, out, (socklen_t)size,
	    NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(out, size, "?");
}

/* Start the connect to nc->ai, or failing that to the next address. */
static int
start_next(struct net_conn *nc, struct ferr *e)
{
	char	addr[INET6_ADDRSTRLEN];

	for (; nc->ai != NULL; nc->ai = nc->ai->ai_next) {
		if ((nc->fd = start_one(nc->ai, e)) != -1)
			return 0;
		addr_text(nc->ai, addr, sizeof(addr));
		ferr_wrap(e, "[%s]", addr);
	}
	return -1;
}

void
net_conn_init(struct net_conn *nc)
{
	nc->fd = -1;
	nc->res = nc->ai = NULL;
	nc->port = 0;
	nc->name[0] = '\0';
}

void
net_conn_free(struct net_conn *nc)
{
	if (nc->fd != -1)
		close(nc->fd);
	if (nc->res != NULL)
		freeaddrinfo(nc->res);
	net_conn_init(nc);
}

int
net_start(struct net_conn *nc, const char *host, unsigned port,
    struct ferr *e)
{
	struct addrinfo	 hints;
	char		 serv[8];
	size_t		 len = strlen(host);
	int		 rc;

	net_conn_free(nc);
	/* "[::1]" is how a config writes an IPv6 literal */
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
	}
	if (len >= sizeof(nc->name))
		return ferr_set(e, FE_CONFIG, 0, "host name too long");
	memcpy(nc->name, host, len);
	nc->name[len] = '\0';
	nc->port = port;
	snprintf(serv, sizeof(serv), "%u", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(nc->name, serv, &hints, &nc->res);
	if (rc != 0) {
		nc->res = NULL;
		return ferr_set(e, FE_TEMP, 0, "%s: %s", nc->name,
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
	}
	nc->ai = nc->res;
	if (start_next(nc, e) == -1) {
		net_conn_free(nc);
		return -1;
	}
	return 0;
}

int
net_finish(struct net_conn *nc, unsigned timeout, char *peer,
    size_t peersize, struct ferr *e)
{
	char	addr[INET6_ADDRSTRLEN];
	int	fd = -1;

	while (nc->fd != -1) {
		addr_text(nc->ai, addr, sizeof(addr));
		fd = finish_one(nc->fd, timeout, e);
		nc->fd = -1;
		if (fd != -1) {
			snprintf(peer, peersize, "%s[%s]:%u", nc->name, addr,
			    nc->port);
			break;
		}
		ferr_wrap(e, "[%s]", addr);
		nc->ai = nc->ai->ai_next;
		(void)start_next(nc, e);
	}
	net_conn_free(nc);
	return fd;
}

int
net_connect(const char *host, unsigned port, unsigned timeout, char *peer,
    size_t peersize, struct ferr *e)
{
	struct net_conn	nc;

	net_conn_init(&nc);
	if (net_start(&nc, host, port, e) == -1)
		return -1;
	return net_finish(&nc, timeout, peer, peersize, e);
}
