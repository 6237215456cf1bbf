/* net.h: reaching the smart host: name resolution and TCP connect. */
#ifndef FERRY_NET_H
#define FERRY_NET_H
#include <stddef.h>
#include "ferr.h"

#define NET_HOST_SIZE	256	/* RFC 1035 2.3.4: 255 + NUL */
#define NET_PEER_SIZE	320	/* "host[address]:port" */

/*
 * Connect to host:port, trying every address getaddrinfo gives (IPv6
 * and IPv4) in turn, each with `timeout` seconds. On success returns a
 * blocking socket and writes "host[address]:port" to peer. On failure
 * returns -1 with FE_TEMP naming the last address's error.
 */
int	net_connect(const char *host, unsigned port, unsigned timeout,
	    char *peer, size_t peersize, struct ferr *e);
/*
 * Wait until fd is readable (events POLLIN) or writable (POLLOUT), at
 * most timeout seconds. 0 when ready, -1 with FE_TEMP on timeout.
 */
int	net_wait(int fd, short events, unsigned timeout, struct ferr *e);
#endif
