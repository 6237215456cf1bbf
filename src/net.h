/* net.h: reaching the smart host: name resolution and TCP connect. */
#ifndef FERRY_NET_H
#define FERRY_NET_H
#include <stddef.h>
#include "ferr.h"

#define NET_HOST_SIZE	256	/* RFC 1035 2.3.4: 255 + NUL */
#define NET_PEER_SIZE	320	/* "host[address]:port" */

struct addrinfo;

/* A connect under way: the host's addresses, the one being tried. */
struct net_conn {		/* caller owns it; fields private */
	int		 fd;	/* -1: nothing under way */
	struct addrinfo	*res, *ai;
	unsigned	 port;
	char		 name[NET_HOST_SIZE];
};

/*
 * Connect to host:port, trying every address getaddrinfo gives (IPv6
 * and IPv4) in turn, each with `timeout` seconds. On success returns a
 * blocking socket and writes "host[address]:port" to peer. On failure
 * returns -1 with FE_TEMP naming the last address's error.
 */
int	net_connect(const char *host, unsigned port, unsigned timeout,
	    char *peer, size_t peersize, struct ferr *e);
/*
 * net_connect in two halves, so that the caller can do its own slow
 * work (fsync) while the first address's SYN crosses. net_start
 * resolves host and starts that connect without waiting; -1 with e,
 * and nothing held, when it cannot. net_finish waits for it and goes
 * on as net_connect does; either way nc holds nothing after it.
 * net_conn_init makes nc empty; net_conn_free drops what it holds.
 */
void	net_conn_init(struct net_conn *nc);
int	net_start(struct net_conn *nc, const char *host, unsigned port,
	    struct ferr *e);
int	net_finish(struct net_conn *nc, unsigned timeout, char *peer,
	    size_t peersize, struct ferr *e);
void	net_conn_free(struct net_conn *nc);
/*
 * Wait until fd is readable (events POLLIN) or writable (POLLOUT), at
 * most timeout seconds. 0 when ready, -1 with FE_TEMP on timeout.
 */
int	net_wait(int fd, short events, unsigned timeout, struct ferr *e);
#endif
