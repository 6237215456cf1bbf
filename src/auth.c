#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <tomcrypt.h>

#include "auth.h"
#include "conf.h"
#include "plat.h"

#define MD5_SIZE	16
#define CHAL_SIZE	512	/* RFC 2195 challenges are short msg-ids */

static const struct {
	const char	*name;
	unsigned	 bit;
} mechs[] = {
	{ "CRAM-MD5", CONF_AUTH_CRAM_MD5 },
	{ "PLAIN", CONF_AUTH_PLAIN },
	{ "LOGIN", CONF_AUTH_LOGIN },
};
#define NMECHS	(sizeof(mechs) / sizeof(mechs[0]))

unsigned
auth_mechs_parse(const char *list, size_t len)
{
	unsigned bits = 0;
	size_t	i = 0, start, k;

	while (i < len) {
		while (i < len && isspace((unsigned char)list[i]))
			i++;
		start = i;
		while (i < len && !isspace((unsigned char)list[i]))
			i++;
		for (k = 0; k < NMECHS; k++)
			if (strlen(mechs[k].name) == i - start &&
			    strncasecmp(mechs[k].name, list + start,
			    i - start) == 0)
				bits |= mechs[k].bit;
	}
	return bits;
}

unsigned
auth_choose(unsigned offered, unsigned allowed)
{
	size_t	k;

	for (k = 0; k < NMECHS; k++)	/* mechs[] is in preference order */
		if (offered & allowed & mechs[k].bit)
			return mechs[k].bit;
	return 0;
}

const char *
auth_name(unsigned mech)
{
	size_t	k;

	for (k = 0; k < NMECHS; k++)
		if (mechs[k].bit == mech)
			return mechs[k].name;
	return "?";
}

void
auth_names(unsigned bits, char *out, size_t size)
{
	size_t	k, len = 0;
	int	n;

	if (size == 0)
		return;
	out[0] = '\0';
	for (k = 0; k < NMECHS; k++) {
		if (!(bits & mechs[k].bit) || len >= size)
			continue;
		n = snprintf(out + len, size - len, "%s%s", len ? " " : "",
		    mechs[k].name);
		if (n > 0)
			len += (size_t)n;
	}
}

int
auth_b64(char *out, size_t size, const void *data, size_t len,
    struct ferr *e)
{
	unsigned long outlen = size;

	if (base64_encode(data, len, (unsigned char *)out, &outlen) !=
	    CRYPT_OK)
		return ferr_set(e, FE_SOFTWARE, 0, "SASL message too long");
	return 0;
}

int
auth_plain(char *out, size_t size, const char *user, const char *pass,
    struct ferr *e)
{
	unsigned char	msg[AUTH_LINE_SIZE];
	size_t		ulen = strlen(user), plen = strlen(pass);
	int		rc;

	if (2 + ulen + plen > sizeof(msg))
		return ferr_set(e, FE_CONFIG, 0, "user name or password "
		    "too long for AUTH PLAIN");
	msg[0] = '\0';			/* no authorization identity */
	memcpy(msg + 1, user, ulen);
	msg[1 + ulen] = '\0';
	memcpy(msg + 2 + ulen, pass, plen);
	rc = auth_b64(out, size, msg, 2 + ulen + plen, e);
	plat_wipe(msg, sizeof(msg));
	return rc;
}

int
auth_cram_md5(char *out, size_t size, const char *chal, size_t chlen,
    const char *user, const char *pass, struct ferr *e)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char	raw[CHAL_SIZE], mac[MD5_SIZE];
	char		msg[AUTH_LINE_SIZE];
	unsigned long	rawlen = sizeof(raw), maclen = sizeof(mac);
	size_t		ulen = strlen(user), i;
	int		hash, rc = -1;

	if (base64_strict_decode((const unsigned char *)chal, chlen, raw,
	    &rawlen) != CRYPT_OK)
		return ferr_set(e, FE_PROTOCOL, 0,
		    "CRAM-MD5 challenge is not base64");
	if (register_hash(&md5_desc) == -1 ||
	    (hash = find_hash("md5")) == -1)
		return ferr_set(e, FE_SOFTWARE, 0, "MD5 unavailable");
	if (ulen + 1 + 2 * MD5_SIZE > sizeof(msg))
		return ferr_set(e, FE_CONFIG, 0,
		    "user name too long for CRAM-MD5");
	if (hmac_memory(hash, (const unsigned char *)pass, strlen(pass),
	    raw, rawlen, mac, &maclen) != CRYPT_OK) {
		ferr_set(e, FE_SOFTWARE, 0, "HMAC-MD5 failed");
		goto out;
	}
	memcpy(msg, user, ulen);
	msg[ulen] = ' ';
	for (i = 0; i < MD5_SIZE; i++) {
		msg[ulen + 1 + 2 * i] = hex[mac[i] >> 4];
		msg[ulen + 2 + 2 * i] = hex[mac[i] & 15];
	}
	rc = auth_b64(out, size, msg, ulen + 1 + 2 * MD5_SIZE, e);
out:
	plat_wipe(mac, sizeof(mac));
	plat_wipe(msg, sizeof(msg));
	return rc;
}
