#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <tomcrypt.h>

#include "auth.h"
#include "conf.h"
#include "plat.h"

#define MD5_SIZE	16
#define CHAL_SIZE	512	/* RFC 2195 challenges are short msg-ids */
#define SALT_SIZE	128
#define ITER_MIN	4096	/* RFC 7677 4: at least this many */
#define ITER_MAX	10000000	/* a bound on a hostile server's cost */

static const struct {
	const char	*name;
	unsigned	 bit;
} mechs[] = {
	{ "OAUTHBEARER", CONF_AUTH_OAUTHBEARER },
	{ "XOAUTH2", CONF_AUTH_XOAUTH2 },
	{ "SCRAM-SHA-256", CONF_AUTH_SCRAM_SHA256 },
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

/* libtomcrypt's index of hash d, registering it on first use. */
static int
hash_index(const struct ltc_hash_descriptor *d, const char *label,
    struct ferr *e)
{
	int	h;

	if (register_hash(d) == -1 || (h = find_hash(d->name)) == -1)
		return ferr_set(e, FE_SOFTWARE, 0, "%s unavailable", label);
	return h;
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
	if ((hash = hash_index(&md5_desc, "MD5", e)) == -1)
		return -1;
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

/* base64 of data[0..len) into out, then wipe data (it holds a token). */
static int
b64_wipe(char *out, size_t size, char *data, size_t len, struct ferr *e)
{
	int	rc;

	rc = auth_b64(out, size, data, len, e);
	plat_wipe(data, len);
	return rc;
}

int
auth_xoauth2(char *out, size_t size, const char *user, const char *token,
    struct ferr *e)
{
	char	msg[AUTH_LONG_SIZE];
	int	n;

	n = snprintf(msg, sizeof(msg), "user=%s\001auth=Bearer %s\001\001",
	    user, token);
	if (n < 0 || (size_t)n >= sizeof(msg)) {
		plat_wipe(msg, sizeof(msg));
		return ferr_set(e, FE_CONFIG, 0, "OAuth token too long");
	}
	return b64_wipe(out, size, msg, (size_t)n, e);
}

/* RFC 5802 5.1 saslname: ',' and '=' written as =2C and =3D. */
static int
saslname(char *out, size_t size, const char *name)
{
	size_t	len = 0;

	for (; *name != '\0'; name++) {
		if (len + 4 > size)
			return -1;
		if (*name == ',' || *name == '=') {
			memcpy(out + len, *name == ',' ? "=2C" : "=3D", 3);
			len += 3;
		} else
			out[len++] = *name;
	}
	out[len] = '\0';
	return 0;
}

int
auth_oauthbearer(char *out, size_t size, const char *user,
    const char *host, unsigned port, const char *token, struct ferr *e)
{
	char	msg[AUTH_LONG_SIZE], name[3 * CONF_USER_SIZE];
	int	n;

	if (saslname(name, sizeof(name), user) == -1)
		return ferr_set(e, FE_CONFIG, 0, "user name too long");
	n = snprintf(msg, sizeof(msg), "n,a=%s,\001host=%s\001port=%u\001"
	    "auth=Bearer %s\001\001", name, host, port, token);
	if (n < 0 || (size_t)n >= sizeof(msg)) {
		plat_wipe(msg, sizeof(msg));
		return ferr_set(e, FE_CONFIG, 0, "OAuth token too long");
	}
	return b64_wipe(out, size, msg, (size_t)n, e);
}

/*
 * The string value of "key" in flat JSON text, printable bytes only,
 * cut to fit. Enough for the three fields RFC 7628 3.2.2 names; a
 * nested or odd document just leaves the field empty.
 */
static void
json_str(const char *js, size_t len, const char *key, char *out,
    size_t size)
{
	char		 pat[40];
	const char	*p, *end = js + len;
	size_t		 n = 0, plen;

	out[0] = '\0';
	snprintf(pat, sizeof(pat), "\"%s\"", key);
	plen = strlen(pat);
	for (p = js; p + plen <= end; p++)
		if (memcmp(p, pat, plen) == 0)
			break;
	if (p + plen > end)
		return;
	for (p += plen; p < end && isspace((unsigned char)*p); p++)
		;
	if (p == end || *p++ != ':')
		return;
	while (p < end && isspace((unsigned char)*p))
		p++;
	if (p == end || *p++ != '"')
		return;
	for (; p < end && *p != '"' && n + 1 < size; p++) {
		if (*p == '\\' && p + 1 < end)
			p++;
		out[n++] = isprint((unsigned char)*p) ? *p : '?';
	}
	out[n] = '\0';
}

int
auth_oauth_error(const char *chal, size_t len, struct auth_oauth_err *oe)
{
	unsigned char	raw[CHAL_SIZE * 2];
	unsigned long	rawlen = sizeof(raw);

	oe->status[0] = oe->schemes[0] = oe->scope[0] = '\0';
	if (base64_strict_decode((const unsigned char *)chal, len, raw,
	    &rawlen) != CRYPT_OK || rawlen == 0 || raw[0] != '{')
		return -1;
	json_str((char *)raw, rawlen, "status", oe->status,
	    sizeof(oe->status));
	json_str((char *)raw, rawlen, "schemes", oe->schemes,
	    sizeof(oe->schemes));
	json_str((char *)raw, rawlen, "scope", oe->scope, sizeof(oe->scope));
	return 0;
}

int
auth_scram_first(struct auth_scram *sc, const char *user,
    const char *cnonce, char *out, size_t size, struct ferr *e)
{
	char	name[3 * CONF_USER_SIZE], msg[AUTH_LINE_SIZE];
	int	n;

	memset(sc, 0, sizeof(*sc));
	if (strlen(cnonce) >= sizeof(sc->cnonce) || strchr(cnonce, ','))
		return ferr_set(e, FE_SOFTWARE, 0, "bad SCRAM nonce");
	memcpy(sc->cnonce, cnonce, strlen(cnonce) + 1);
	if (saslname(name, sizeof(name), user) == -1)
		return ferr_set(e, FE_CONFIG, 0, "user name too long");
	n = snprintf(sc->first, sizeof(sc->first), "n=%s,r=%s", name,
	    cnonce);
	if (n < 0 || (size_t)n >= sizeof(sc->first))
		return ferr_set(e, FE_CONFIG, 0, "user name too long");
	sc->firstlen = (size_t)n;
	/* "n,,": no channel binding (ferry does not offer -PLUS), no authzid */
	n = snprintf(msg, sizeof(msg), "n,,%s", sc->first);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return ferr_set(e, FE_CONFIG, 0, "user name too long");
	return auth_b64(out, size, msg, (size_t)n, e);
}

/* The server-first-message's parts: r= nonce, s= salt, i= count. */
struct scram_server_first {
	const char	*nonce;
	size_t		 noncelen;
	unsigned char	 salt[SALT_SIZE];
	unsigned long	 saltlen;
	unsigned long	 iter;
};

static int
scram_parse_first(const char *m, struct scram_server_first *f,
    const char *cnonce, struct ferr *e)
{
	const char	*p, *s = NULL, *i = NULL;
	size_t		 slen = 0;
	char		*end;

	/* RFC 5802 7: "r=" first; "m=" (a mandatory extension) is not */
	if (strncmp(m, "r=", 2) != 0)
		return ferr_set(e, FE_PROTOCOL, 0, "SCRAM: server-first does "
		    "not start with r=");
	f->nonce = m + 2;
	f->noncelen = strcspn(f->nonce, ",");
	for (p = f->nonce + f->noncelen; *p == ','; ) {
		p++;
		if (strncmp(p, "s=", 2) == 0) {
			s = p + 2;
			slen = strcspn(s, ",");
		} else if (strncmp(p, "i=", 2) == 0)
			i = p + 2;
		p += strcspn(p, ",");
	}
	if (s == NULL || i == NULL)
		return ferr_set(e, FE_PROTOCOL, 0, "SCRAM: server-first lacks "
		    "s= or i=");
	if (f->noncelen <= strlen(cnonce) ||
	    strncmp(f->nonce, cnonce, strlen(cnonce)) != 0)
		return ferr_set(e, FE_PROTOCOL, 0, "SCRAM: server nonce does "
		    "not extend ours");
	f->saltlen = sizeof(f->salt);
	if (base64_strict_decode((const unsigned char *)s, slen, f->salt,
	    &f->saltlen) != CRYPT_OK || f->saltlen == 0)
		return ferr_set(e, FE_PROTOCOL, 0, "SCRAM: bad salt");
	errno = 0;
	f->iter = strtoul(i, &end, 10);
	if (errno != 0 || end == i || (*end != ',' && *end != '\0') ||
	    f->iter < ITER_MIN || f->iter > ITER_MAX)
		return ferr_set(e, FE_PROTOCOL, 0, "SCRAM: iteration count "
		    "%.12s is not %d..%d", i, ITER_MIN, ITER_MAX);
	return 0;
}

/* HMAC-SHA-256(key, text) into mac (AUTH_SHA256_SIZE bytes). */
static int
hmac256(int h, const unsigned char *key, size_t klen, const void *text,
    size_t tlen, unsigned char *mac)
{
	unsigned long	n = AUTH_SHA256_SIZE;

	return hmac_memory(h, key, klen, text, tlen, mac, &n) == CRYPT_OK ?
	    0 : -1;
}

/* RFC 5802 3: the client proof and the server signature. */
static int
scram_keys(int h, const char *pass, const struct scram_server_first *f,
    const char *authmsg, size_t alen, unsigned char *proof,
    unsigned char *server_sig)
{
	unsigned char	salted[AUTH_SHA256_SIZE], ckey[AUTH_SHA256_SIZE];
	unsigned char	stored[AUTH_SHA256_SIZE], csig[AUTH_SHA256_SIZE];
	unsigned char	skey[AUTH_SHA256_SIZE];
	unsigned long	n = sizeof(salted);
	size_t		k;
	int		rc = -1;

	/* SASLprep is not applied: an ASCII password is its own prep */
	if (pkcs_5_alg2((const unsigned char *)pass, strlen(pass), f->salt,
	    f->saltlen, (int)f->iter, h, salted, &n) != CRYPT_OK)
		goto out;
	n = sizeof(stored);
	if (hmac256(h, salted, sizeof(salted), "Client Key", 10, ckey) ||
	    hash_memory(h, ckey, sizeof(ckey), stored, &n) != CRYPT_OK ||
	    hmac256(h, stored, sizeof(stored), authmsg, alen, csig) ||
	    hmac256(h, salted, sizeof(salted), "Server Key", 10, skey) ||
	    hmac256(h, skey, sizeof(skey), authmsg, alen, server_sig))
		goto out;
	for (k = 0; k < AUTH_SHA256_SIZE; k++)
		proof[k] = ckey[k] ^ csig[k];
	rc = 0;
out:
	plat_wipe(salted, sizeof(salted));
	plat_wipe(ckey, sizeof(ckey));
	plat_wipe(stored, sizeof(stored));
	plat_wipe(csig, sizeof(csig));
	plat_wipe(skey, sizeof(skey));
	return rc;
}

int
auth_scram_final(struct auth_scram *sc, const char *chal, size_t chlen,
    const char *pass, char *out, size_t size, struct ferr *e)
{
	struct scram_server_first f;
	char		 sfirst[AUTH_LINE_SIZE], final[AUTH_LINE_SIZE];
	char		 authmsg[3 * AUTH_LINE_SIZE], p64[64];
	unsigned char	 proof[AUTH_SHA256_SIZE];
	unsigned long	 n = sizeof(sfirst) - 1;
	int		 h, len, alen, rc = -1;

	sc->has_sig = 0;
	if ((h = hash_index(&sha256_desc, "SHA-256", e)) == -1)
		return -1;
	if (base64_strict_decode((const unsigned char *)chal, chlen,
	    (unsigned char *)sfirst, &n) != CRYPT_OK)
		return ferr_set(e, FE_PROTOCOL, 0, "SCRAM: challenge is not "
		    "base64");
	sfirst[n] = '\0';
	if (strlen(sfirst) != n || scram_parse_first(sfirst, &f, sc->cnonce,
	    e) == -1)
		return ferr_set(e, FE_PROTOCOL, 0, "%s", n == strlen(sfirst) ?
		    e->text : "SCRAM: NUL in challenge");
	/* "biws" is base64("n,,"), the GS2 header sent first */
	len = snprintf(final, sizeof(final), "c=biws,r=%.*s",
	    (int)f.noncelen, f.nonce);
	alen = snprintf(authmsg, sizeof(authmsg), "%s,%s,%s", sc->first,
	    sfirst, final);
	if (len < 0 || (size_t)len >= sizeof(final) - 60 || alen < 0 ||
	    (size_t)alen >= sizeof(authmsg))
		return ferr_set(e, FE_PROTOCOL, 0, "SCRAM: challenge too long");
	if (scram_keys(h, pass, &f, authmsg, (size_t)alen, proof,
	    sc->server_sig) == -1) {
		ferr_set(e, FE_SOFTWARE, 0, "SCRAM: key derivation failed");
		goto out;
	}
	if (auth_b64(p64, sizeof(p64), proof, sizeof(proof), e) == -1)
		goto out;
	len += snprintf(final + len, sizeof(final) - (size_t)len, ",p=%s",
	    p64);
	if (auth_b64(out, size, final, (size_t)len, e) == -1)
		goto out;
	sc->has_sig = 1;
	rc = 0;
out:
	plat_wipe(proof, sizeof(proof));
	plat_wipe(p64, sizeof(p64));
	plat_wipe(final, sizeof(final));
	return rc;
}

int
auth_scram_verify(const struct auth_scram *sc, const char *chal,
    size_t chlen, struct ferr *e)
{
	char		m[AUTH_LINE_SIZE];
	unsigned char	sig[AUTH_SHA256_SIZE + 4];
	unsigned long	n = sizeof(m) - 1, slen = sizeof(sig);
	size_t		i;

	if (!sc->has_sig)
		return ferr_set(e, FE_SOFTWARE, 0, "SCRAM: verify before "
		    "final");
	if (base64_strict_decode((const unsigned char *)chal, chlen,
	    (unsigned char *)m, &n) != CRYPT_OK)
		return ferr_set(e, FE_PROTOCOL, 0, "SCRAM: server-final is "
		    "not base64");
	m[n] = '\0';
	if (strncmp(m, "e=", 2) == 0) {
		for (i = 0; m[i] != '\0'; i++)
			if (!isprint((unsigned char)m[i]))
				m[i] = '?';
		return ferr_set(e, FE_CONFIG, 0, "SCRAM: server refused: "
		    "%.60s", m + 2);
	}
	if (strncmp(m, "v=", 2) != 0 ||
	    base64_strict_decode((unsigned char *)m + 2,
	    strcspn(m + 2, ","), sig, &slen) != CRYPT_OK ||
	    slen != AUTH_SHA256_SIZE ||
	    mem_neq(sig, sc->server_sig, AUTH_SHA256_SIZE) != 0)
		return ferr_set(e, FE_PROTOCOL, 0, "SCRAM: wrong server "
		    "signature: the server does not know the password; "
		    "nothing sent");
	return 0;
}
