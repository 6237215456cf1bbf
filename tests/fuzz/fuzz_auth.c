/*
 * fuzz_auth: SASL input from the server: a CRAM-MD5 challenge (strict
 * base64, decoded into a fixed buffer) and the mechanism list of an
 * EHLO AUTH line; and base64 output for any credentials.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <tomcrypt.h>

#include "auth.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		out[AUTH_LINE_SIZE], names[64];
	unsigned char	back[AUTH_LINE_SIZE];
	unsigned long	backlen = sizeof(back);
	struct ferr	e;
	unsigned	mechs;

	auth_cram_md5(out, sizeof(out), (const char *)data, size, "user",
	    "secret", &e);
	mechs = auth_mechs_parse((const char *)data, size);
	if (mechs & ~0x07u)
		abort();
	auth_names(mechs, names, sizeof(names));
	if (auth_choose(mechs, 0x07u) & ~mechs)
		abort();
	/* what auth_b64 writes decodes back to the input */
	if (auth_b64(out, sizeof(out), data, size, &e) == 0) {
		if (base64_strict_decode((unsigned char *)out, strlen(out),
		    back, &backlen) != CRYPT_OK || backlen != size ||
		    memcmp(back, data, size) != 0)
			abort();
	}
	return 0;
}
