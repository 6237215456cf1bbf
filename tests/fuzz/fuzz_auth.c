/*
 * fuzz_auth: SASL input from the server. The first byte picks a part:
 * the CRAM-MD5 challenge and the EHLO AUTH list (with base64 output
 * decoding back to the input), the OAuth JSON error challenge, or the
 * SCRAM-SHA-256 server-first and server-final messages.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <tomcrypt.h>

#include "auth.h"
#include "conf.h"

#define ALL_MECHS	(CONF_AUTH_ALL | CONF_AUTH_XOAUTH2 | \
			 CONF_AUTH_OAUTHBEARER)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
cram_and_list(const uint8_t *data, size_t size)
{
	char		out[AUTH_LINE_SIZE], names[128];
	unsigned char	back[AUTH_LINE_SIZE];
	unsigned long	backlen = sizeof(back);
	struct ferr	e;
	unsigned	mechs;

	auth_cram_md5(out, sizeof(out), (const char *)data, size, "user",
	    "secret", &e);
	mechs = auth_mechs_parse((const char *)data, size);
	if (mechs & ~ALL_MECHS)
		abort();
	auth_names(mechs, names, sizeof(names));
	if (auth_choose(mechs, ALL_MECHS) & ~mechs)
		abort();
	/* what auth_b64 writes decodes back to the input */
	if (auth_b64(out, sizeof(out), data, size, &e) == 0) {
		if (base64_strict_decode((unsigned char *)out, strlen(out),
		    back, &backlen) != CRYPT_OK || backlen != size ||
		    memcmp(back, data, size) != 0)
			abort();
	}
}

/* Every field ends inside its buffer and holds printable bytes only. */
static void
check_field(const char *f, size_t size)
{
	size_t	i, len = strnlen(f, size);

	if (len == size)
		abort();
	for (i = 0; i < len; i++)
		if (f[i] < 0x20 || f[i] > 0x7e)
			abort();
}

static void
oauth_error(const uint8_t *data, size_t size)
{
	struct auth_oauth_err	oe;

	auth_oauth_error((const char *)data, size, &oe);
	check_field(oe.status, sizeof(oe.status));
	check_field(oe.schemes, sizeof(oe.schemes));
	check_field(oe.scope, sizeof(oe.scope));
}

/*
 * A server-first message asking for many PBKDF2 rounds is slow by
 * design (up to 10^7 are allowed): keep the fuzzer to small counts.
 */
static int
cheap_rounds(const uint8_t *data, size_t size)
{
	unsigned char	dec[AUTH_LINE_SIZE];
	unsigned long	len = sizeof(dec) - 1;
	const char	*i;

	if (base64_strict_decode(data, size, dec, &len) != CRYPT_OK)
		return 1;
	dec[len] = '\0';
	i = strstr((const char *)dec, "i=");
	return i == NULL || strtoul(i + 2, NULL, 10) <= 4096;
}

static void
scram(const uint8_t *data, size_t size)
{
	struct auth_scram	sc;
	char			out[AUTH_LINE_SIZE];
	const char		*sep;
	size_t			 first;
	struct ferr		e;

	/* server-first, then after a newline (if any) server-final */
	sep = memchr(data, '\n', size);
	first = sep ? (size_t)(sep - (const char *)data) : size;
	if (!cheap_rounds(data, first))
		return;
	if (auth_scram_first(&sc, "user", "rOprNGfwEbeRWgbNEkqO", out,
	    sizeof(out), &e) == -1)
		abort();
	if (auth_scram_final(&sc, (const char *)data, first, "pencil", out,
	    sizeof(out), &e) == -1)
		return;
	if (!sc.has_sig)
		abort();
	if (sep != NULL)
		auth_scram_verify(&sc, sep + 1, size - first - 1, &e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		cram_and_list(data + 1, size - 1);
		break;
	case 1:
		oauth_error(data + 1, size - 1);
		break;
	default:
		scram(data + 1, size - 1);
		break;
	}
	return 0;
}
