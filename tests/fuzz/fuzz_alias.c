/*
 * fuzz_alias: the aliases parser, then newaliases' check and the
 * expansion of a few names, as ferry does for each local recipient.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alias.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
expand(const struct alias_map *m, const char *name)
{
	static const char *const local[] = { "localhost", "myhost.example" };
	struct msg_addrs	out;
	struct ferr		e;

	msg_addrs_init(&out);
	alias_expand(m, name, local, 2, &out, &e);
	msg_addrs_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const local[] = { "localhost" };
	struct alias_map	m;
	struct ferr		e;
	char			report[1024];
	size_t			i;

	if (alias_parse(&m, (const char *)data, size, "aliases", &e) == -1) {
		if (m.n != 0)	/* a failed parse leaves m empty */
			abort();
		alias_free(&m);
		return 0;
	}
	alias_check(&m, local, 1, report, sizeof(report));
	if (strlen(report) >= sizeof(report))
		abort();
	expand(&m, "root");
	expand(&m, "postmaster@localhost");
	for (i = 0; i < m.n && i < 4; i++)
		expand(&m, m.v[i].name);
	alias_free(&m);
	return 0;
}
