/*
 * fuzz_conf: the ferry.conf parser and the sendmail AuthInfo parser,
 * both from a buffer (no file per run), then the cross-key checks.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every string field the parser fills stays NUL-terminated. */
static void
check(const struct conf *c)
{
	if (memchr(c->smarthost, '\0', sizeof(c->smarthost)) == NULL ||
	    memchr(c->user, '\0', sizeof(c->user)) == NULL ||
	    memchr(c->password, '\0', sizeof(c->password)) == NULL ||
	    memchr(c->helo, '\0', sizeof(c->helo)) == NULL ||
	    memchr(c->spool, '\0', sizeof(c->spool)) == NULL ||
	    memchr(c->from, '\0', sizeof(c->from)) == NULL ||
	    memchr(c->trusted_users, '\0', sizeof(c->trusted_users)) ==
	    NULL || c->npins > CONF_PINS_MAX || c->nretry > CONF_RETRY_MAX)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf	c;	/* big: keep it off the stack */
	struct ferr		e;

	conf_init(&c);
	if (conf_parse(&c, (const char *)data, size, "fuzz.conf", &e) == 0) {
		check(&c);
		conf_finish(&c, &e);
	}
	check(&c);
	conf_wipe(&c);

	conf_init(&c);
	memcpy(c.smarthost, "mail.example.org", 17);
	if (conf_parse_authinfo(&c, (const char *)data, size, "authinfo",
	    &e) == 0)
		check(&c);
	conf_wipe(&c);
	return 0;
}
