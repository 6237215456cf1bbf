/*
 * fuzz_spool: the queue-file (q file) reader. A file it accepts must
 * survive format and parse again unchanged: the queue runner rewrites
 * every q file it touches, and a lossy round trip would change a
 * message's envelope.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spool.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char		a[SPOOL_ENV_MAX], b[SPOOL_ENV_MAX];
	struct spool_env	env, again;
	struct ferr		e;
	size_t			alen, blen;

	spool_env_init(&env);
	spool_env_init(&again);
	if (spool_env_parse(&env, (const char *)data, size, &e) == 0) {
		if (spool_env_format(&env, a, sizeof(a), &alen, &e) == -1 ||
		    spool_env_parse(&again, a, alen, &e) == -1 ||
		    spool_env_format(&again, b, sizeof(b), &blen, &e) == -1 ||
		    alen != blen || memcmp(a, b, alen) != 0 ||
		    spool_env_pending(&env) > env.nrcpt)
			abort();
	}
	spool_env_free(&env);
	spool_env_free(&again);
	return 0;
}
