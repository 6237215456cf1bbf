/*
 * tls_test.c: the kept-session record (tls_session_encode/decode):
 * what is written reads back, and everything else reads as nothing.
 */
#include <string.h>

#include <bearssl.h>

#include "t.h"
#include "tls.h"

#define NOW	1800000000LL

static void
sample(br_ssl_session_parameters *p)
{
	memset(p, 0, sizeof(*p));
	memset(p->session_id, 0xab, sizeof(p->session_id));
	p->session_id_len = 32;
	p->version = BR_TLS12;
	p->cipher_suite = BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;
	memset(p->master_secret, 0x5c, sizeof(p->master_secret));
}

/* Encode p made at `made` with key, then decode it at `now`. */
static int
trip(const br_ssl_session_parameters *p, long long made,
    const unsigned char *key, const unsigned char *key2, long long now,
    size_t cut, br_ssl_session_parameters *out)
{
	unsigned char	rec[TLS_SESSION_REC_SIZE + 1];

	memset(rec, 0, sizeof(rec));
	tls_session_encode(p, made, key, rec);
	return tls_session_decode(rec, sizeof(rec) - 1 - cut, key2, now, out);
}

void
tls_test(struct t *t)
{
	br_ssl_session_parameters p, q;
	unsigned char	key[TLS_KEY_SIZE], other[TLS_KEY_SIZE];
	unsigned char	rec[TLS_SESSION_REC_SIZE + 1];
	size_t		i;
	int		all = 1;

	memset(key, 1, sizeof(key));
	memset(other, 2, sizeof(other));
	sample(&p);
	T_OK(t, trip(&p, NOW, key, key, NOW, 0, &q) == 0, "round trip");
	T_OK(t, q.session_id_len == 32 && q.version == BR_TLS12 &&
	    q.cipher_suite == p.cipher_suite &&
	    memcmp(q.session_id, p.session_id, 32) == 0 &&
	    memcmp(q.master_secret, p.master_secret, 48) == 0,
	    "round trip keeps every field");
	T_OK(t, trip(&p, NOW, key, other, NOW, 0, &q) == -1,
	    "bound to another key");
	T_OK(t, trip(&p, NOW - TLS_SESSION_TTL + 1, key, key, NOW, 0,
	    &q) == 0, "TTL - 1 s old: used");
	T_OK(t, trip(&p, NOW - TLS_SESSION_TTL, key, key, NOW, 0, &q) == -1,
	    "TTL old: expired");
	T_OK(t, trip(&p, NOW + 1, key, key, NOW, 0, &q) == -1,
	    "made in the future");
	T_OK(t, trip(&p, NOW, key, key, NOW, 1, &q) == -1, "one byte short");
	memset(rec, 0, sizeof(rec));
	tls_session_encode(&p, NOW, key, rec);
	T_OK(t, tls_session_decode(rec, sizeof(rec), key, NOW, &q) == -1,
	    "one byte over");
	for (i = 0; i < TLS_SESSION_REC_SIZE; i++) {
		rec[i] ^= 0x10;
		if (tls_session_decode(rec, TLS_SESSION_REC_SIZE, key, NOW,
		    &q) != -1)
			all = 0;
		rec[i] ^= 0x10;
	}
	T_OK(t, all, "any flipped bit: rejected");
	p.session_id_len = 0;
	T_OK(t, trip(&p, NOW, key, key, NOW, 0, &q) == -1, "no session ID");
	p.session_id_len = 33;
	T_OK(t, trip(&p, NOW, key, key, NOW, 0, &q) == -1, "ID over 32");
}
