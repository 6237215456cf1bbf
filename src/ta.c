/*
 * ta.c: PEM bundle to BearSSL trust anchors. The PEM decoder feeds the
 * certificate bytes into the X.509 decoder, which gives the subject DN
 * and public key; the whole DER is kept too, for x509.c to check the
 * anchor's own constraints.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bearssl.h>

#include "ferr.h"
#include "ta.h"

/*
 * RFC 5280 puts no bound on a DN; CA subjects seen in practice stay
 * under 300 bytes. The cap bounds what a bad file makes us hold.
 */
#define TA_DN_SIZE	4096
#define TA_CERT_SIZE	65536	/* a whole certificate, kept */
#define TA_LIST_MIN	16	/* first allocation: most files hold few */

struct ta_cert {		/* the CERTIFICATE block being decoded */
	br_x509_decoder_context	x509;
	unsigned char		dn[TA_DN_SIZE];
	size_t			dn_len;
	int			dn_overflow;
	unsigned char		der[TA_CERT_SIZE];
	size_t			der_len;
};

void
ta_init(struct ta_list *l)
{
	l->v = NULL;
	l->cert = NULL;
	l->n = 0;
	l->size = 0;
}

static void
anchor_free(br_x509_trust_anchor *ta)
{
	free(ta->dn.data);
	switch (ta->pkey.key_type) {
	case BR_KEYTYPE_RSA:
		free(ta->pkey.key.rsa.n);
		free(ta->pkey.key.rsa.e);
		break;
	case BR_KEYTYPE_EC:
		free(ta->pkey.key.ec.q);
		break;
	}
}

void
ta_free(struct ta_list *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++) {
		anchor_free(&l->v[i]);
		free(l->cert[i].data);
	}
	free(l->v);
	free(l->cert);
	ta_init(l);
}

/* The X.509 decoder hands the subject DN over in pieces. */
static void
cert_dn_append(void *ctx, const void *buf, size_t len)
{
	struct ta_cert	*c = ctx;

	if (c->dn_overflow || len > sizeof(c->dn) - c->dn_len) {
		c->dn_overflow = 1;
		return;
	}
	memcpy(c->dn + c->dn_len, buf, len);
	c->dn_len += len;
}

/* PEM decoder destination: the decoded DER of a CERTIFICATE block. */
static void
cert_push(void *ctx, const void *buf, size_t len)
{
	struct ta_cert	*c = ctx;

	/* too large to keep: the decoder below refuses it as well */
	if (len <= sizeof(c->der) - c->der_len) {
		memcpy(c->der + c->der_len, buf, len);
		c->der_len += len;
	} else
		c->der_len = sizeof(c->der) + 1;
	br_x509_decoder_push(&c->x509, buf, len);
}

static void
cert_init(struct ta_cert *c)
{
	c->dn_len = 0;
	c->dn_overflow = 0;
	c->der_len = 0;
	br_x509_decoder_init(&c->x509, cert_dn_append, c);
}

/* malloc(0) may return NULL, which would read as out of memory. */
static unsigned char *
dup_bytes(const unsigned char *p, size_t len)
{
	unsigned char	*q;

	q = malloc(len > 0 ? len : 1);
	if (q != NULL && len > 0)
		memcpy(q, p, len);
	return q;
}

/* Fill ta from the decoded certificate; -1 only when malloc fails. */
static int
anchor_make(br_x509_trust_anchor *ta, struct ta_cert *c,
    const br_x509_pkey *pk)
{
	memset(ta, 0, sizeof(*ta));
	/*
	 * Everything in a CA file is trusted to issue. Some bundles hold
	 * X.509 v1 roots with no Basic Constraints, which BearSSL would
	 * otherwise accept only as the server's own certificate.
	 */
	ta->flags = BR_X509_TA_CA;
	ta->dn.data = dup_bytes(c->dn, c->dn_len);
	ta->dn.len = c->dn_len;
	ta->pkey.key_type = pk->key_type;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		ta->pkey.key.rsa.n = dup_bytes(pk->key.rsa.n,
		    pk->key.rsa.nlen);
		ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
		ta->pkey.key.rsa.e = dup_bytes(pk->key.rsa.e,
		    pk->key.rsa.elen);
		ta->pkey.key.rsa.elen = pk->key.rsa.elen;
		if (ta->pkey.key.rsa.n == NULL || ta->pkey.key.rsa.e == NULL)
			goto fail;
	} else {	/* the decoder yields RSA or EC keys only */
		ta->pkey.key.ec.curve = pk->key.ec.curve;
		ta->pkey.key.ec.q = dup_bytes(pk->key.ec.q, pk->key.ec.qlen);
		ta->pkey.key.ec.qlen = pk->key.ec.qlen;
		if (ta->pkey.key.ec.q == NULL)
			goto fail;
	}
	if (ta->dn.data == NULL)
		goto fail;
	return 0;
fail:
	anchor_free(ta);
	return -1;
}

/* Room for one more anchor in l. */
static int
list_reserve(struct ta_list *l)
{
	br_x509_trust_anchor	*v;
	br_x509_certificate	*cert;
	size_t			 size;

	if (l->n < l->size)
		return 0;
	size = l->size == 0 ? TA_LIST_MIN : l->size * 2;
	if (size < l->size || size > SIZE_MAX / sizeof(*v))
		return -1;
	v = realloc(l->v, size * sizeof(*v));
	if (v == NULL)
		return -1;
	l->v = v;
	cert = realloc(l->cert, size * sizeof(*cert));
	if (cert == NULL)
		return -1;
	l->cert = cert;
	l->size = size;
	return 0;
}

static const char *
x509_strerror(int err)
{
	switch (err) {
	case BR_ERR_X509_TRUNCATED:
		return "truncated certificate";
	case BR_ERR_X509_UNSUPPORTED:
		return "unsupported key type or curve";
	default:
		return "not a valid X.509 certificate";
	}
}

/* The end of a CERTIFICATE block: check it decoded, then append it. */
static int
cert_finish(struct ta_list *l, struct ta_cert *c, const char *name,
    size_t block, struct ferr *e)
{
	const br_x509_pkey	*pk;
	int			 err;

	err = br_x509_decoder_last_error(&c->x509);
	if (err != 0)
		return ferr_set(e, FE_CONFIG, 0,
		    "%s: PEM block %zu: %s (BearSSL error %d)", name, block,
		    x509_strerror(err), err);
	if (c->dn_overflow)
		return ferr_set(e, FE_CONFIG, 0,
		    "%s: PEM block %zu: subject name over %d bytes", name,
		    block, TA_DN_SIZE);
	pk = br_x509_decoder_get_pkey(&c->x509);
	if (pk == NULL || (pk->key_type != BR_KEYTYPE_RSA &&
	    pk->key_type != BR_KEYTYPE_EC))
		return ferr_set(e, FE_CONFIG, 0,
		    "%s: PEM block %zu: unsupported key type", name, block);
	if (c->der_len > sizeof(c->der))
		return ferr_set(e, FE_CONFIG, 0, "%s: PEM block %zu: "
		    "certificate over %d bytes", name, block, TA_CERT_SIZE);
	if (list_reserve(l) == -1 || anchor_make(&l->v[l->n], c, pk) == -1)
		return ferr_set(e, FE_OS, ENOMEM, "%s: PEM block %zu",
		    name, block);
	l->cert[l->n].data = dup_bytes(c->der, c->der_len);
	l->cert[l->n].data_len = c->der_len;
	if (l->cert[l->n].data == NULL) {
		anchor_free(&l->v[l->n]);
		return ferr_set(e, FE_OS, ENOMEM, "%s: PEM block %zu",
		    name, block);
	}
	l->n++;
	return 0;
}

/*
 * RFC 7468 section 5.1 has generators write CERTIFICATE; 5.3 lists the
 * older labels parsers meet. BearSSL upper-cases the label for us.
 */
static int
is_cert_label(const char *label)
{
	return strcmp(label, "CERTIFICATE") == 0 ||
	    strcmp(label, "X509 CERTIFICATE") == 0 ||
	    strcmp(label, "X.509 CERTIFICATE") == 0;
}

int
ta_add_pem(struct ta_list *l, const char *pem, size_t len,
    const char *name, struct ferr *e)
{
	br_pem_decoder_context	 pc;
	struct ta_cert		*c;
	const char		*p = pem, *cr;
	size_t			 left = len, k, block = 0;
	int			 inobj = 0, incert = 0, tail = 0, rc = -1;

	/* About 70 KB: off the stack, as callers may run deep. */
	c = malloc(sizeof(*c));
	if (c == NULL)
		return ferr_set(e, FE_OS, ENOMEM, "%s", name);
	br_pem_decoder_init(&pc);
	for (;;) {
		if (left == 0) {
			/* An END line with no newline after it still ends
			 * the block: feed one newline past the input. */
			if (tail)
				break;
			p = "\n";
			left = 1;
			tail = 1;
		}
		/*
		 * BearSSL 0.6 leaves a hole in the label for the CR of a
		 * CRLF BEGIN line, so "CERTIFICATE" would not match and a
		 * CRLF file would give no anchors: the decoder never sees
		 * a CR. Elsewhere it takes CR as white space anyway.
		 */
		if (*p == '\r') {
			p++;
			left--;
			continue;
		}
		cr = memchr(p, '\r', left);
		k = br_pem_decoder_push(&pc, p,
		    cr != NULL ? (size_t)(cr - p) : left);
		p += k;
		left -= k;
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			block++;
			inobj = 1;
			incert = is_cert_label(br_pem_decoder_name(&pc));
			if (incert) {
				cert_init(c);
				br_pem_decoder_setdest(&pc, cert_push, c);
			} else
				br_pem_decoder_setdest(&pc, NULL, NULL);
			break;
		case BR_PEM_END_OBJ:
			inobj = 0;
			if (incert && cert_finish(l, c, name, block, e) == -1)
				goto out;
			incert = 0;
			break;
		case BR_PEM_ERROR:
			ferr_set(e, FE_CONFIG, 0,
			    "%s: PEM block %zu: bad base64 or END line", name,
			    block);
			goto out;
		}
	}
	if (inobj) {
		ferr_set(e, FE_CONFIG, 0, "%s: PEM block %zu: no END line",
		    name, block);
		goto out;
	}
	rc = 0;
out:
	free(c);
	return rc;
}
