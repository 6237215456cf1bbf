/*
 * relay.c: the smart hosts' order and holds (relay.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"

void
relay_init(struct relay *r, const struct conf *c)
{
	size_t	i;

	memset(r, 0, sizeof(*r));
	r->n = c->nhosts;
	r->hold = c->failover_hold;
	for (i = 0; i < r->n; i++)
		snprintf(r->h[i].name, sizeof(r->h[i].name), "%s:%u",
		    c->hosts[i].smarthost, c->hosts[i].port);
}

/* A name monitoring may print as it is (a Prometheus label). */
static int
name_ok(const char *n)
{
	return n[0] != '\0' && n[strspn(n, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:[]")] == '\0';
}

/* One "host:port FAILS UNTIL" line of len bytes. */
static void
parse_line(struct relay *r, int any, const char *p, size_t len)
{
	char		 line[RELAY_NAME_SIZE + 48], name[RELAY_NAME_SIZE];
	unsigned	 fails;
	long long	 until;
	size_t		 i;

	if (len >= sizeof(line))
		return;
	memcpy(line, p, len);
	line[len] = '\0';
	/* RELAY_NAME_SIZE - 1 == 263: the name cannot overrun */
	if (sscanf(line, "%263s %u %lld", name, &fails, &until) != 3)
		return;
	if (any && name_ok(name) && r->n < CONF_HOSTS_MAX)
		snprintf(r->h[r->n++].name, sizeof(r->h[0].name), "%s", name);
	for (i = 0; i < r->n; i++)
		if (strcmp(r->h[i].name, name) == 0) {
			r->h[i].fails = fails;
			r->h[i].until = until;
		}
}

void
relay_parse(struct relay *r, const char *text, size_t len)
{
	const char	*end = text + len, *nl;
	int		 any = r->n == 0;

	while (text < end) {
		if ((nl = memchr(text, '\n', (size_t)(end - text))) == NULL)
			nl = end;
		parse_line(r, any, text, (size_t)(nl - text));
		text = nl + 1;
	}
}

size_t
relay_format(const struct relay *r, char *buf, size_t size)
{
	size_t	i, len = 0;
	int	n;

	if (size == 0)
		return 0;
	buf[0] = '\0';
	for (i = 0; i < r->n; i++) {
		n = snprintf(buf + len, size - len, "%s %u %lld\n",
		    r->h[i].name, r->h[i].fails, r->h[i].until);
		if (n < 0 || (size_t)n >= size - len)
			break;
		len += (size_t)n;
	}
	return len;
}

int
relay_load(struct relay *r, struct spool *sp, struct ferr *e)
{
	char	buf[RELAY_STATE_SIZE];
	size_t	len;

	if (r->n == 1)		/* one host: never held */
		return 0;
	if (spool_state_read(sp, RELAY_STATE_FILE, buf, sizeof(buf), &len,
	    e) == -1)
		return -1;
	relay_parse(r, buf, len);
	return 0;
}

int
relay_save(struct relay *r, struct spool *sp, struct ferr *e)
{
	char	buf[RELAY_STATE_SIZE];
	size_t	len;

	if (r->n < 2 || !r->changed)
		return 0;
	len = relay_format(r, buf, sizeof(buf));
	if (spool_state_write(sp, RELAY_STATE_FILE, buf, len, e) == -1)
		return -1;
	r->changed = 0;
	return 0;
}

int
relay_held(const struct relay *r, size_t i, long long now)
{
	return r->n > 1 && r->h[i].until > now;
}

size_t
relay_next(const struct relay *r, long long now)
{
	size_t	i;

	for (i = 0; i < r->n; i++)
		if (!r->h[i].tried && !relay_held(r, i, now))
			return i;
	/* all held: trying one still beats leaving the mail unsent */
	for (i = 0; i < r->n; i++)
		if (!r->h[i].tried)
			return i;
	return r->n;
}

void
relay_tried(struct relay *r, size_t i)
{
	r->h[i].tried = 1;
}

unsigned
relay_failed(struct relay *r, size_t i, long long now)
{
	unsigned long long hold = r->hold;
	unsigned	 k;

	if (r->n < 2 || hold == 0)
		return 0;
	for (k = 0; k < r->h[i].fails && hold < RELAY_HOLD_MAX; k++)
		hold *= 2;
	if (hold > RELAY_HOLD_MAX && r->hold <= RELAY_HOLD_MAX)
		hold = RELAY_HOLD_MAX;
	else if (hold > RELAY_HOLD_MAX)
		hold = r->hold;		/* set longer than the cap: as set */
	if (r->h[i].fails < 64)
		r->h[i].fails++;
	r->h[i].until = now + (long long)hold;
	r->changed = 1;
	return (unsigned)hold;
}

void
relay_ok(struct relay *r, size_t i)
{
	if (r->h[i].fails == 0 && r->h[i].until == 0)
		return;
	r->h[i].fails = 0;
	r->h[i].until = 0;
	r->changed = 1;
}
