#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "net.h"
#include "tls.h"

#define SEED_SIZE	32

/* DER: read one TLV header at p; body at p + *hdr, *body bytes long. */
static int
der_item(const unsigned char *p, size_t len, size_t *hdr, size_t *body)
{
	size_t	n, i, v = 0;

	if (len < 2)
		return -1;
	if (!(p[1] & 0x80)) {
		*hdr = 2;
		v = p[1];
	} else {
		n = p[1] & 0x7f;
		if (n == 0 || n > 4 || len < 2 + n)
			return -1;
		for (i = 0; i < n; i++)
			v = (v << 8) | p[2 + i];
		*hdr = 2 + n;
	}
	if (v > len - *hdr)
		return -1;
	*body = v;
	return 0;
}

int
tls_spki_sha256(const unsigned char *der, size_t len,
    unsigned char out[TLS_PIN_SIZE])
{
	br_sha256_context sha;
	size_t	hdr, body, skip;
	int	i;

	/* Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { ... } } */
	if (der_item(der, len, &hdr, &body) == -1 || der[0] != 0x30)
		return -1;
	der += hdr;
	len = body;
	if (der_item(der, len, &hdr, &body) == -1 || der[0] != 0x30)
		return -1;
	der += hdr;
	len = body;
	if (len > 0 && der[0] == 0xa0) {	/* [0] version, optional */
		if (der_item(der, len, &hdr, &body) == -1)
			return -1;
		der += hdr + body;
		len -= hdr + body;
	}
	/* serial, signature, issuer, validity, subject, then the SPKI */
	for (i = 0; i < 5; i++) {
		if (der_item(der, len, &hdr, &body) == -1)
			return -1;
		skip = hdr + body;
		der += skip;
		len -= skip;
	}
	if (der_item(der, len, &hdr, &body) == -1 || der[0] != 0x30)
		return -1;
	br_sha256_init(&sha);
	br_sha256_update(&sha, der, hdr + body);
	br_sha256_out(&sha, out);
	return 0;
}

/*
 * The X.509 class wrapping br_x509_minimal: every call is passed on,
 * and each certificate of the chain is kept whole so that its SPKI can
 * be hashed against the pins in end_cert.
 */
static void
x_start_chain(const br_x509_class **ctx, const char *name)
{
	struct tls_x509 *x = (struct tls_x509 *)(void *)ctx;

	x->pin_seen = 0;
	x->pin_failed = 0;
	x->mini.vtable->start_chain(&x->mini.vtable, name);
}

static void
x_start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct tls_x509 *x = (struct tls_x509 *)(void *)ctx;

	x->certlen = 0;
	x->overflow = 0;
	x->mini.vtable->start_cert(&x->mini.vtable, length);
}

static void
x_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	struct tls_x509 *x = (struct tls_x509 *)(void *)ctx;

	if (len > sizeof(x->cert) - x->certlen)
		x->overflow = 1;
	else {
		memcpy(x->cert + x->certlen, buf, len);
		x->certlen += len;
	}
	x->mini.vtable->append(&x->mini.vtable, buf, len);
}

static void
x_end_cert(const br_x509_class **ctx)
{
	struct tls_x509 *x = (struct tls_x509 *)(void *)ctx;
	unsigned char	h[TLS_PIN_SIZE];
	size_t		i;

	if (x->trust->npins > 0 && !x->overflow &&
	    tls_spki_sha256(x->cert, x->certlen, h) == 0)
		for (i = 0; i < x->trust->npins; i++)
			if (memcmp(h, x->trust->pins[i], sizeof(h)) == 0)
				x->pin_seen = 1;
	x->mini.vtable->end_cert(&x->mini.vtable);
}

static unsigned
x_end_chain(const br_x509_class **ctx)
{
	struct tls_x509 *x = (struct tls_x509 *)(void *)ctx;
	unsigned	err;

	err = x->mini.vtable->end_chain(&x->mini.vtable);
	if (x->trust->npins == 0)
		return err;
	if (!x->pin_seen) {
		x->pin_failed = 1;
		return BR_ERR_X509_NOT_TRUSTED;
	}
	/* pins alone may stand for anchors: a pinned self-signed host */
	if (err == BR_ERR_X509_NOT_TRUSTED && x->trust->nta == 0)
		return 0;
	return err;
}

static const br_x509_pkey *
x_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	const struct tls_x509 *x = (const struct tls_x509 *)(const void *)ctx;

	/* minimal gives the key for NOT_TRUSTED too; end_chain decided */
	return x->mini.vtable->get_pkey(&x->mini.vtable, usages);
}

static const br_x509_class x509_pinned = {
	sizeof(struct tls_x509),
	x_start_chain, x_start_cert, x_append, x_end_cert, x_end_chain,
	x_get_pkey
};

static int
sock_read(void *ctx, unsigned char *buf, size_t len)
{
	struct tls_conn	*c = ctx;
	struct ferr	 e;
	ssize_t		 n;

	if (net_wait(c->fd, POLLIN, c->timeout, &e) == -1) {
		c->io_err = e.err ? e.err : ETIMEDOUT;
		return -1;
	}
	do
		n = read(c->fd, buf, len);
	while (n == -1 && errno == EINTR);
	if (n <= 0) {
		c->io_err = n == 0 ? ECONNRESET : errno;
		return -1;
	}
	return (int)n;
}

static int
sock_write(void *ctx, const unsigned char *buf, size_t len)
{
	struct tls_conn	*c = ctx;
	struct ferr	 e;
	ssize_t		 n;

	if (net_wait(c->fd, POLLOUT, c->timeout, &e) == -1) {
		c->io_err = e.err ? e.err : ETIMEDOUT;
		return -1;
	}
	do
		n = write(c->fd, buf, len);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		c->io_err = errno;
		return -1;
	}
	return (int)n;
}

void
tls_init(struct tls_conn *c, int fd, unsigned timeout)
{
	c->fd = fd;
	c->timeout = timeout;
	c->on = 0;
	c->io_err = 0;
}

static const char *
x509_reason(unsigned err)
{
	switch (err) {
	case BR_ERR_X509_EXPIRED:
		return "certificate has expired or is not yet valid";
	case BR_ERR_X509_BAD_SERVER_NAME:
		return "certificate is for another name";
	case BR_ERR_X509_NOT_TRUSTED:
		return "certificate is not signed by a trusted CA";
	case BR_ERR_X509_CRITICAL_EXTENSION:
		return "certificate has an unknown critical extension";
	case BR_ERR_X509_WEAK_PUBLIC_KEY:
		return "certificate key is too weak";
	case BR_ERR_X509_UNSUPPORTED:
	case BR_ERR_X509_BAD_SIGNATURE:
		return "certificate signature not supported";
	default:
		return "certificate could not be verified";
	}
}

/* One line for whatever stopped the engine or the socket. */
static int
tls_fail(struct tls_conn *c, const char *step, struct ferr *e)
{
	int	err = br_ssl_engine_last_error(&c->sc.eng);

	if (c->x.pin_failed)
		return ferr_set(e, FE_TLS, 0, "%s: no certificate in the "
		    "chain matches tls_pin", step);
	if (err >= BR_ERR_X509_OK && err < BR_ERR_X509_OK + 64)
		return ferr_set(e, FE_TLS, 0, "%s: %s", step,
		    x509_reason((unsigned)err));
	if (c->io_err == ETIMEDOUT)
		return ferr_set(e, FE_TEMP, 0, "%s: timed out after %u s",
		    step, c->timeout);
	if (c->io_err != 0)
		return ferr_set(e, FE_TEMP, c->io_err, "%s", step);
	if (err == BR_ERR_BAD_VERSION)
		return ferr_set(e, FE_TLS, 0, "%s: server does not offer "
		    "TLS 1.2", step);
	if (err >= BR_ERR_RECV_FATAL_ALERT && err < BR_ERR_SEND_FATAL_ALERT)
		return ferr_set(e, FE_TLS, 0, "%s: server sent TLS alert %d",
		    step, err - BR_ERR_RECV_FATAL_ALERT);
	/*
	 * Bytes that are no TLS record: plaintext injected after the 220
	 * to STARTTLS (CVE-2011-0411 class), or a port that does not
	 * speak TLS. Say so; "TLS error 3" tells an admin nothing.
	 */
	if (err == BR_ERR_UNSUPPORTED_VERSION || err == BR_ERR_UNKNOWN_TYPE)
		return ferr_set(e, c->on > 1 ? FE_TEMP : FE_TLS, 0,
		    "%s: server sent data that is not TLS (TLS error %d)",
		    step, err);
	return ferr_set(e, c->on > 1 ? FE_TEMP : FE_TLS, 0,
	    "%s: TLS error %d", step, err);
}

static int
is_address(const char *name)
{
	unsigned char	a[16];

	return inet_pton(AF_INET, name, a) == 1 ||
	    inet_pton(AF_INET6, name, a) == 1;
}

int
tls_start(struct tls_conn *c, const char *name,
    const struct tls_trust *trust, struct ferr *e)
{
	unsigned char	seed[SEED_SIZE];

	if (is_address(name))
		return ferr_set(e, FE_CONFIG, 0, "cannot check a certificate "
		    "against address %s: set tls_server_name", name);
	br_ssl_client_init_full(&c->sc, &c->x.mini, trust->ta, trust->nta);
	c->x.vtable = &x509_pinned;
	c->x.trust = trust;
	c->x.pin_failed = 0;
	br_ssl_engine_set_x509(&c->sc.eng, &c->x.vtable);
	br_ssl_engine_set_versions(&c->sc.eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_buffer(&c->sc.eng, c->buf, sizeof(c->buf), 1);
	/* BearSSL 0.6 trusts RDRAND alone where present; add the kernel's */
	if (getentropy(seed, sizeof(seed)) == -1)
		return ferr_set(e, FE_OS, errno, "getentropy");
	br_ssl_engine_inject_entropy(&c->sc.eng, seed, sizeof(seed));
	explicit_bzero(seed, sizeof(seed));
	if (!br_ssl_client_reset(&c->sc, name, 0))
		return tls_fail(c, "TLS setup", e);
	br_sslio_init(&c->io, &c->sc.eng, sock_read, c, sock_write, c);
	c->on = 1;
	/* flush runs the engine until the handshake is over */
	if (br_sslio_flush(&c->io) == -1)
		return tls_fail(c, "TLS handshake", e);
	c->on = 2;
	return 0;
}

ssize_t
tls_read(struct tls_conn *c, void *buf, size_t size, struct ferr *e)
{
	ssize_t	n;
	int	r;

	if (c->on) {
		r = br_sslio_read(&c->io, buf, size);
		if (r == -1) {
			if (c->io_err == ECONNRESET)
				return ferr_set(e, FE_TEMP, 0,
				    "connection closed by server");
			return tls_fail(c, "TLS read", e);
		}
		return r;
	}
	if (net_wait(c->fd, POLLIN, c->timeout, e) == -1)
		return -1;
	do
		n = read(c->fd, buf, size);
	while (n == -1 && errno == EINTR);
	if (n == 0)
		return ferr_set(e, FE_TEMP, 0, "connection closed by server");
	if (n == -1)
		return ferr_set(e, FE_TEMP, errno, "read");
	return n;
}

int
tls_write(struct tls_conn *c, const void *buf, size_t len, struct ferr *e)
{
	const unsigned char *p = buf;
	ssize_t	n;

	if (c->on) {
		if (br_sslio_write_all(&c->io, buf, len) == -1)
			return tls_fail(c, "TLS write", e);
		return 0;
	}
	while (len > 0) {
		if (net_wait(c->fd, POLLOUT, c->timeout, e) == -1)
			return -1;
		n = write(c->fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return ferr_set(e, FE_TEMP, errno, "write");
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
tls_flush(struct tls_conn *c, struct ferr *e)
{
	if (c->on && br_sslio_flush(&c->io) == -1)
		return tls_fail(c, "TLS write", e);
	return 0;
}

void
tls_close(struct tls_conn *c)
{
	/* fails when the server skips close_notify; harmless after 221 */
	if (c->on)
		(void)br_sslio_close(&c->io);
	c->on = 0;
}
