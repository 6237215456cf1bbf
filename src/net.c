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

/* Non-blocking connect so a black-holed address costs only `timeout`. */
static int
try_connect(const struct addrinfo *ai, unsigned timeout, struct ferr *e)
{
	socklen_t	len = sizeof(int);
	int		fd, flags, err = 0, one = 1;

	fd = plat_socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd == -1)
		return ferr_set(e, FE_TEMP, errno, "socket");
	flags = fcntl(fd, F_GETFL);
	if (flags == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		goto fail;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno != EINPROGRESS)
			goto fail;
		if (net_wait(fd, POLLOUT, timeout, e) == -1) {
			close(fd);
			return -1;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			goto fail;
		if (err != 0) {
			errno = err;
			goto fail;
		}
	}
	if (fcntl(fd, F_SETFL, flags) == -1)
		goto fail;
	/* SMTP is request/reply: do not let Nagle hold back a command */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
fail:
	ferr_set(e, FE_TEMP, errno, "connect");
	close(fd);
	return -1;
}

int
net_connect(const char *host, unsigned port, unsigned timeout, char *peer,
    size_t peersize, struct ferr *e)
{
	struct addrinfo	 hints, *res = NULL, *ai;
	char		 name[NET_HOST_SIZE], serv[8], addr[INET6_ADDRSTRLEN];
	size_t		 len = strlen(host);
	int		 fd = -1, rc;

	/* "[::1]" is how a config writes an IPv6 literal */
	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
	}
	if (len >= sizeof(name))
		return ferr_set(e, FE_CONFIG, 0, "host name too long");
	memcpy(name, host, len);
	name[len] = '\0';
	snprintf(serv, sizeof(serv), "%u", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(name, serv, &hints, &res);
	if (rc != 0)
		return ferr_set(e, FE_TEMP, 0, "%s: %s", name,
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr,
		    sizeof(addr), NULL, 0, NI_NUMERICHOST) != 0)
			snprintf(addr, sizeof(addr), "?");
		fd = try_connect(ai, timeout, e);
		if (fd != -1) {
			snprintf(peer, peersize, "%s[%s]:%u", name, addr,
			    port);
			break;
		}
		ferr_wrap(e, "[%s]", addr);
	}
	freeaddrinfo(res);
	return fd;
}
