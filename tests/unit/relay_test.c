/*
 * relay_test.c: the smart hosts' order, holds that double up to an
 * hour, and the host-state text read back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"
#include "t.h"

static void
two_hosts(struct conf *c, unsigned hold)
{
	conf_init(c);
	c->nhosts = 2;
	snprintf(c->hosts[0].smarthost, CONF_HOST_SIZE, "a.example");
	c->hosts[0].port = 465;
	snprintf(c->hosts[1].smarthost, CONF_HOST_SIZE, "b.example");
	c->hosts[1].port = 587;
	c->failover_hold = hold;
}

void
relay_test(struct t *t)
{
	struct conf	*c;
	struct relay	 r, back;
	char		 buf[RELAY_STATE_SIZE];
	size_t		 len;

	if ((c = malloc(sizeof(*c))) == NULL) {
		T_OK(t, 0, "malloc");
		return;
	}
	two_hosts(c, 300);
	relay_init(&r, c);
	T_STREQ(t, r.h[1].name, "b.example:587", "names are host:port");
	T_OK(t, relay_next(&r, 1000) == 0, "the first host first");
	relay_tried(&r, 0);
	T_OK(t, relay_failed(&r, 0, 1000) == 300, "first failure: the hold");
	T_OK(t, relay_next(&r, 1000) == 1, "then the second");
	relay_tried(&r, 1);
	T_OK(t, relay_next(&r, 1000) == 2, "each host once a run");
	r.h[0].tried = r.h[1].tried = 0;
	T_OK(t, relay_held(&r, 0, 1299) && !relay_held(&r, 0, 1300),
	    "held until the hold ends");
	T_OK(t, relay_next(&r, 1299) == 1, "a held host is skipped");
	T_OK(t, relay_next(&r, 1300) == 0, "back to the first after it");
	T_OK(t, relay_failed(&r, 0, 2000) == 600, "doubles: 600");
	T_OK(t, relay_failed(&r, 0, 2000) == 1200 &&
	    relay_failed(&r, 0, 2000) == 2400 &&
	    relay_failed(&r, 0, 2000) == 3600 &&
	    relay_failed(&r, 0, 2000) == 3600, "up to an hour");
	relay_failed(&r, 1, 2000);
	T_OK(t, relay_next(&r, 2000) == 0, "all held: in order anyway");

	len = relay_format(&r, buf, sizeof(buf));
	T_OK(t, len > 0 && strstr(buf, "a.example:465 6 5600\n") != NULL,
	    "format: host:port fails until");
	relay_init(&back, c);
	relay_parse(&back, buf, len);
	T_OK(t, back.h[0].fails == 6 && back.h[0].until == 5600 &&
	    back.h[1].fails == 1 && back.h[1].until == 2300, "parsed back");
	relay_init(&back, c);
	snprintf(buf, sizeof(buf), "gone.example:25 3 9999\n"
	    "b.example:587 x y\na.example:465 2");
	relay_parse(&back, buf, strlen(buf));
	T_OK(t, back.h[0].fails == 0 && back.h[1].fails == 0,
	    "unknown hosts and bad lines ignored");
	relay_ok(&r, 0);
	T_OK(t, r.h[0].fails == 0 && !relay_held(&r, 0, 2000),
	    "a session taken ends the hold");

	two_hosts(c, 0);
	relay_init(&r, c);
	T_OK(t, relay_failed(&r, 0, 1000) == 0 && !relay_held(&r, 0, 1000),
	    "failover_hold 0: never held");
	two_hosts(c, 7200);
	relay_init(&r, c);
	T_OK(t, relay_failed(&r, 0, 0) == 7200 && relay_failed(&r, 0, 0) ==
	    7200, "a hold set above an hour stays as set");
	two_hosts(c, 300);
	c->nhosts = 1;
	relay_init(&r, c);
	T_OK(t, relay_failed(&r, 0, 1000) == 0 && !r.changed,
	    "one host: nothing held, nothing to write");
	free(c);
}
