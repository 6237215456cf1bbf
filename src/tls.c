#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "net.h"
#include "plat.h"
#include "spool.h"
#include "tls.h"

#define SEED_SIZE	32

int
tls_spki_sha256(const unsigned char *der, size_t len,
    unsigned char out[TLS_PIN_SIZE])
{
	return x509_spki_sha256(der, len, out);
}

/* Keep the server's first bytes: they tell TLS from a banner. */
static void
note_first(struct tls_conn *c, const unsigned char *buf, size_t len)
{
	size_t	n = sizeof(c->first) - c->nfirst;

	if (n > len)
		n = len;
	memcpy(c->first + c->nfirst, buf, n);
	c->nfirst += n;
}

enum tls_saw
tls_saw(const struct tls_conn *c)
{
	const unsigned char *p = c->first;

	if (c->nfirst == 0)
		return TLS_SAW_NOTHING;
	/* a handshake (22) or alert (21) record of TLS 1.x or SSL 3 */
	if (c->nfirst >= 2 && (p[0] == 0x16 || p[0] == 0x15) && p[1] == 3)
		return TLS_SAW_TLS;
	/* RFC 5321 4.2: a greeting is "220" (or 554) then SP or '-' */
	if (c->nfirst >= 4 && isdigit(p[0]) && isdigit(p[1]) &&
	    isdigit(p[2]) && (p[3] == ' ' || p[3] == '-'))
		return TLS_SAW_SMTP;
	return TLS_SAW_OTHER;
}

void
tls_set_deadline(struct tls_conn *c, unsigned secs)
{
	c->deadline = secs == 0 ? 0 : plat_now_ms() + (long long)secs * 1000;
}

/*
 * Wait for fd: at most timeout seconds, and never past the deadline,
 * so that a server dripping one byte a second cannot stretch a reply.
 */
static int
conn_wait(struct tls_conn *c, short events, struct ferr *e)
{
	struct pollfd	pfd;
	long long	ms = (long long)c->timeout * 1000, left;
	int		n;

	if (c->deadline != 0) {
		left = c->deadline - plat_now_ms();
		if (left <= 0)
			return ferr_set(e, FE_TEMP, 0, "no whole reply "
			    "within %u s", c->timeout);
		if (left < ms)
			ms = left;
	}
	pfd.fd = c->fd;
	pfd.events = events;
	do
		n = poll(&pfd, 1, (int)ms);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return ferr_set(e, FE_TEMP, errno, "poll");
	if (n == 0)
		return ferr_set(e, FE_TEMP, 0, "timed out after %u s",
		    c->timeout);
	return 0;
}

/*
 * The server closed while commands were still going out (a 421 and a
 * close, in a pipelined group). Writes from then on are dropped, not
 * failed: the replies it sent before closing are still to be read,
 * and a failed write would stop the TLS engine from reading them. The
 * close itself shows when they are all read.
 */
static int
peer_gone(struct tls_conn *c, int err)
{
	if (err != EPIPE && err != ECONNRESET)
		return 0;
	c->gone = 1;
	return 1;
}

static int
sock_read(void *ctx, unsigned char *buf, size_t len)
{
	struct tls_conn	*c = ctx;
	struct ferr	 e;
	ssize_t		 n;

	if (conn_wait(c, POLLIN, &e) == -1) {
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
	note_first(c, buf, (size_t)n);
	return (int)n;
}

static int
sock_write(void *ctx, const unsigned char *buf, size_t len)
{
	struct tls_conn	*c = ctx;
	struct ferr	 e;
	ssize_t		 n;

	if (conn_wait(c, POLLOUT, &e) == -1) {
		c->io_err = e.err ? e.err : ETIMEDOUT;
		return -1;
	}
	do
		n = write(c->fd, buf, len);
	while (n == -1 && errno == EINTR);
	if (n == -1 && peer_gone(c, errno))
		return (int)len;
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
	c->nfirst = 0;
	c->starttls = 0;
	c->cache_dirfd = -1;
	c->resumed = 0;
	c->deadline = 0;
	c->gone = 0;
}

int
tls_gone(const struct tls_conn *c)
{
	return c->gone;
}

void
tls_cache(struct tls_conn *c, int dirfd, const char *host, unsigned port)
{
	c->cache_dirfd = dirfd;
	c->cache_port = port;
	snprintf(c->cache_host, sizeof(c->cache_host), "%s", host);
}

int
tls_resumed(const struct tls_conn *c)
{
	return c->resumed;
}

/* ---- the kept session ---- */

#define REC_MAGIC	"ferryTS1"
#define REC_BODY	(TLS_SESSION_REC_SIZE - 32)	/* before the hash */

static void
put_be(unsigned char *p, unsigned long long v, int n)
{
	while (n-- > 0) {
		p[n] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

static unsigned long long
get_be(const unsigned char *p, int n)
{
	unsigned long long v = 0;

	while (n-- > 0)
		v = (v << 8) | *p++;
	return v;
}

/*
 * magic 8, made 8, key 32, id length 1, id 32, version 2, cipher suite
 * 2, master secret 48, then SHA-256 of all that: a torn write or a
 * flipped bit reads as no session, never as a wrong one.
 */
void
tls_session_encode(const br_ssl_session_parameters *p, long long made,
    const unsigned char key[TLS_KEY_SIZE], unsigned char *out)
{
	br_sha256_context h;
	unsigned char	 *o = out;

	memcpy(o, REC_MAGIC, 8);
	put_be(o + 8, (unsigned long long)made, 8);
	memcpy(o + 16, key, TLS_KEY_SIZE);
	o[48] = p->session_id_len;
	memcpy(o + 49, p->session_id, 32);
	put_be(o + 81, p->version, 2);
	put_be(o + 83, p->cipher_suite, 2);
	memcpy(o + 85, p->master_secret, 48);
	br_sha256_init(&h);
	br_sha256_update(&h, out, REC_BODY);
	br_sha256_out(&h, out + REC_BODY);
}

int
tls_session_decode(const unsigned char *buf, size_t len,
    const unsigned char key[TLS_KEY_SIZE], long long now,
    br_ssl_session_parameters *p)
{
	br_sha256_context h;
	unsigned char	 sum[32];
	long long	 made;

	if (len != TLS_SESSION_REC_SIZE || memcmp(buf, REC_MAGIC, 8) != 0)
		return -1;
	br_sha256_init(&h);
	br_sha256_update(&h, buf, REC_BODY);
	br_sha256_out(&h, sum);
	if (memcmp(sum, buf + REC_BODY, sizeof(sum)) != 0 ||
	    memcmp(buf + 16, key, TLS_KEY_SIZE) != 0)
		return -1;
	made = (long long)get_be(buf + 8, 8);
	if (made > now || now - made >= TLS_SESSION_TTL)
		return -1;
	if (buf[48] == 0 || buf[48] > 32)	/* no ID: nothing to resume */
		return -1;
	memset(p, 0, sizeof(*p));
	p->session_id_len = buf[48];
	memcpy(p->session_id, buf + 49, 32);
	p->version = (uint16_t)get_be(buf + 81, 2);
	p->cipher_suite = (uint16_t)get_be(buf + 83, 2);
	memcpy(p->master_secret, buf + 85, 48);
	return 0;
}

static void
hash_str(br_sha256_context *h, const char *s)
{
	br_sha256_update(h, s, strlen(s) + 1);	/* the NUL separates */
}

/*
 * What a kept session stands for. Resuming skips the certificate check,
 * so the session must come from a handshake that checked the same name
 * against the same anchors (their names) and pins.
 */
static void
session_key(const struct tls_conn *c, const char *name,
    const struct tls_trust *t, unsigned char key[TLS_KEY_SIZE])
{
	br_sha256_context h;
	unsigned char	 n[8];
	size_t		 i;

	br_sha256_init(&h);
	/* 2: sessions checked before the x509.c policy are not resumed */
	hash_str(&h, "ferry tls-session 2");
	hash_str(&h, c->cache_host);
	put_be(n, c->cache_port, 8);
	br_sha256_update(&h, n, sizeof(n));
	hash_str(&h, name);
	put_be(n, t->nta, 8);
	br_sha256_update(&h, n, sizeof(n));
	for (i = 0; i < t->nta; i++) {
		put_be(n, t->ta[i].dn.len, 8);
		br_sha256_update(&h, n, sizeof(n));
		br_sha256_update(&h, t->ta[i].dn.data, t->ta[i].dn.len);
	}
	put_be(n, t->npins, 8);
	br_sha256_update(&h, n, sizeof(n));
	if (t->npins > 0)
		br_sha256_update(&h, t->pins, t->npins * TLS_PIN_SIZE);
	br_sha256_out(&h, key);
}

/* The kept session for key into p; 0, or -1 when there is none. */
static int
session_load(const struct tls_conn *c, const unsigned char *key,
    br_ssl_session_parameters *p)
{
	unsigned char	buf[TLS_SESSION_REC_SIZE + 1];
	ssize_t		n;
	int		fd, rc;

	/* in the spool: a FIFO or link there must not hang or steer us */
	fd = spool_file_open(c->cache_dirfd, TLS_SESSION_FILE, O_RDONLY, 0);
	if (fd == -1)
		return -1;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	rc = n < 0 ? -1 : tls_session_decode(buf, (size_t)n, key,
	    (long long)time(NULL), p);
	plat_wipe(buf, sizeof(buf));
	return rc;
}

/*
 * Keep p: write a temporary file and rename it over the old one, so a
 * reader sees one whole record or the other. Writers that race take
 * turns by the lock; the loser skips. No fsync: a lost file costs one
 * full handshake, nothing more.
 */
static void
session_save(const struct tls_conn *c, const unsigned char *key,
    const br_ssl_session_parameters *p)
{
	unsigned char	rec[TLS_SESSION_REC_SIZE];
	int		fd;

	/* no O_TRUNC: a hard link is refused before anything is cut */
	fd = spool_file_open(c->cache_dirfd, TLS_SESSION_FILE ".new",
	    O_WRONLY | O_CREAT, 0600);
	if (fd == -1)
		return;
	if (plat_lock(fd, PLAT_LOCK_NB) == -1) {
		close(fd);
		return;
	}
	tls_session_encode(p, (long long)time(NULL), key, rec);
	if (ftruncate(fd, 0) == 0 && fchmod(fd, 0600) == 0 &&
	    write(fd, rec, sizeof(rec)) == (ssize_t)sizeof(rec))
		(void)renameat(c->cache_dirfd, TLS_SESSION_FILE ".new",
		    c->cache_dirfd, TLS_SESSION_FILE);
	plat_wipe(rec, sizeof(rec));
	close(fd);
}

/* RFC 8446 6: the alerts a server sends in a handshake. */
static const char *
alert_name(int a)
{
	switch (a) {
	case 10:	return "unexpected_message";
	case 20:	return "bad_record_mac";
	case 40:	return "handshake_failure";
	case 42:	return "bad_certificate";
	case 47:	return "illegal_parameter";
	case 48:	return "unknown_ca";
	case 50:	return "decode_error";
	case 51:	return "decrypt_error";
	case 70:	return "protocol_version";
	case 71:	return "insufficient_security";
	case 80:	return "internal_error";
	case 86:	return "inappropriate_fallback";
	case 109:	return "missing_extension";
	case 112:	return "unrecognized_name";
	case 116:	return "certificate_required";
	default:	return "alert";
	}
}

/*
 * The server refused ferry's TLS 1.2 hello. BearSSL 0.6 has no TLS 1.3
 * and no Ed25519 or RSA-PSS certificates: servers set up for those
 * alone answer with alert 40 (GnuTLS, Exim), 70 (OpenSSL) or, from
 * some stacks, 71 or 80. No retry fixes that, and the certificate was
 * never seen: FE_PROTOCOL (76), apart from a bad certificate's 77.
 */
static int
tls_refused(const char *step, int alert, struct ferr *e)
{
	char	what[48];

	if (alert < 0)
		snprintf(what, sizeof(what), "picked another version");
	else
		snprintf(what, sizeof(what), "alert %d, %s", alert,
		    alert_name(alert));
	return ferr_set(e, FE_PROTOCOL, 0, "%s: server refused TLS 1.2 (%s): "
	    "it may accept only TLS 1.3 or keys ferry lacks (ferry has RSA "
	    "and ECDSA P-256/384/521); try another port or host of the "
	    "provider, or a local stunnel with `tls none`", step, what);
}

/*
 * `tls implicit` against a port that greets in plaintext (587, 25):
 * BearSSL sees a bad record; say what the port is and what to set.
 */
static int
tls_banner(struct tls_conn *c, const char *step, struct ferr *e)
{
	char	line[TLS_FIRST_SIZE + 1];
	size_t	i;
	ssize_t	n;

	/* BearSSL read a record header only: take the rest of the line */
	n = plat_recv_now(c->fd, c->first + c->nfirst,
	    sizeof(c->first) - c->nfirst);
	if (n > 0)
		c->nfirst += (size_t)n;

	for (i = 0; i < c->nfirst && c->first[i] != '\r' &&
	    c->first[i] != '\n'; i++)
		line[i] = isprint(c->first[i]) ? (char)c->first[i] : '?';
	line[i] = '\0';
	return ferr_set(e, FE_CONFIG, 0, "%s: server sent a plaintext SMTP "
	    "banner, it does not start TLS at once: set `tls starttls` (or "
	    "use the implicit-TLS port, 465); it sent \"%s\"", step, line);
}

/* One line for whatever stopped the engine or the socket. */
static int
tls_fail(struct tls_conn *c, const char *step, struct ferr *e)
{
	int	err = br_ssl_engine_last_error(&c->sc.eng);

	if (c->on == 1 && x509_pin_failed(&c->x))
		return ferr_set(e, FE_TLS, 0, "%s: no certificate in the "
		    "chain matches tls_pin", step);
	/* after STARTTLS, SMTP-like bytes are injected, not a wrong port */
	if (c->on == 1 && !c->starttls && tls_saw(c) == TLS_SAW_SMTP)
		return tls_banner(c, step, e);
	if (err >= BR_ERR_X509_OK && err < BR_ERR_X509_OK + 64)
		return ferr_set(e, FE_TLS, 0, "%s: %s", step,
		    c->on == 1 && x509_why(&c->x) != NULL ? x509_why(&c->x) :
		    x509_br_reason((unsigned)err));
	if (c->io_err == ETIMEDOUT)
		return ferr_set(e, FE_TEMP, 0, "%s: timed out after %u s",
		    step, c->timeout);
	if (c->io_err != 0)
		return ferr_set(e, FE_TEMP, c->io_err, "%s", step);
	if (c->on == 1 && err == BR_ERR_BAD_VERSION)
		return tls_refused(step, -1, e);
	if (c->on == 1 && err >= BR_ERR_RECV_FATAL_ALERT &&
	    err < BR_ERR_SEND_FATAL_ALERT)
		return tls_refused(step, err - BR_ERR_RECV_FATAL_ALERT, e);
	if (err >= BR_ERR_RECV_FATAL_ALERT && err < BR_ERR_SEND_FATAL_ALERT)
		return ferr_set(e, FE_TEMP, 0, "%s: server sent TLS alert "
		    "%d (%s)", step, err - BR_ERR_RECV_FATAL_ALERT,
		    alert_name(err - BR_ERR_RECV_FATAL_ALERT));
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

/*
 * After a handshake: the server resumed when it took the ID offered
 * (RFC 5246 7.4.1.3); a new session replaces the kept one.
 */
static void
keep_session(struct tls_conn *c, const unsigned char *key,
    br_ssl_session_parameters *kept)
{
	br_ssl_session_parameters now;

	if (c->cache_dirfd == -1)
		return;
	br_ssl_engine_get_session_parameters(&c->sc.eng, &now);
	c->resumed = kept->session_id_len > 0 &&
	    now.session_id_len == kept->session_id_len &&
	    memcmp(now.session_id, kept->session_id,
	    now.session_id_len) == 0;
	if (!c->resumed && now.session_id_len > 0)
		session_save(c, key, &now);
	plat_wipe(&now, sizeof(now));
	plat_wipe(kept, sizeof(*kept));
}

/*
 * The client engine on c's buffer, versions vmin..TLS 1.2, seeded.
 * BearSSL 0.6 trusts RDRAND alone where present; add the kernel's.
 * -1 with errno when no random bytes came.
 */
static int
engine_init(struct tls_conn *c, const br_x509_trust_anchor *ta,
    size_t nta, unsigned vmin)
{
	unsigned char	seed[SEED_SIZE];

	br_ssl_client_init_full(&c->sc, &c->x.mini, ta, nta);
	br_ssl_engine_set_versions(&c->sc.eng, vmin, BR_TLS12);
	br_ssl_engine_set_buffer(&c->sc.eng, c->buf, sizeof(c->buf), 1);
	if (plat_random(seed, sizeof(seed)) == -1)
		return -1;
	br_ssl_engine_inject_entropy(&c->sc.eng, seed, sizeof(seed));
	plat_wipe(seed, sizeof(seed));
	return 0;
}

int
tls_start(struct tls_conn *c, const char *name,
    const struct tls_trust *trust, struct ferr *e)
{
	br_ssl_session_parameters kept;
	struct x509_trust t;
	unsigned char	key[TLS_KEY_SIZE] = { 0 };

	if (is_address(name))
		return ferr_set(e, FE_CONFIG, 0, "cannot check a certificate "
		    "against address %s: set tls_server_name", name);
	if (engine_init(c, trust->ta, trust->nta, BR_TLS12) == -1)
		return ferr_set(e, FE_OS, errno, "random bytes");
	t.ta = trust->ta;
	t.nta = trust->nta;
	t.certs = trust->certs;
	t.ncerts = trust->ncerts;
	t.pins = trust->pins;
	t.npins = trust->npins;
	x509_engine_init(&c->x, &t);
	br_ssl_engine_set_x509(&c->sc.eng, &c->x.vtable);
	c->resumed = 0;
	kept.session_id_len = 0;
	if (c->cache_dirfd != -1) {
		session_key(c, name, trust, key);
		if (session_load(c, key, &kept) == 0)
			br_ssl_engine_set_session_parameters(&c->sc.eng,
			    &kept);
	}
	if (!br_ssl_client_reset(&c->sc, name, kept.session_id_len > 0)) {
		plat_wipe(&kept, sizeof(kept));
		return tls_fail(c, "TLS setup", e);
	}
	br_sslio_init(&c->io, &c->sc.eng, sock_read, c, sock_write, c);
	c->on = 1;
	/* after STARTTLS, the banner is not TLS's */
	c->starttls = c->nfirst > 0;
	c->nfirst = 0;
	/* flush runs the engine until the handshake is over */
	if (br_sslio_flush(&c->io) == -1) {
		plat_wipe(&kept, sizeof(kept));
		return tls_fail(c, "TLS handshake", e);
	}
	c->on = 2;
	keep_session(c, key, &kept);
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
	if (conn_wait(c, POLLIN, e) == -1)
		return -1;
	do
		n = read(c->fd, buf, size);
	while (n == -1 && errno == EINTR);
	if (n == 0)
		return ferr_set(e, FE_TEMP, 0, "connection closed by server");
	if (n == -1)
		return ferr_set(e, FE_TEMP, errno, "read");
	note_first(c, buf, (size_t)n);
	return n;
}

int
tls_probe(struct tls_conn *c)
{
	if (engine_init(c, NULL, 0, BR_TLS10) == -1)
		return 0;
	if (!br_ssl_client_reset(&c->sc, NULL, 0))
		return 0;
	br_sslio_init(&c->io, &c->sc.eng, sock_read, c, sock_write, c);
	c->on = 1;
	c->nfirst = 0;
	/* no anchors: it stops at the certificate, after ServerHello */
	(void)br_sslio_flush(&c->io);
	c->on = 0;
	return tls_saw(c) == TLS_SAW_TLS;
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
		if (conn_wait(c, POLLOUT, e) == -1)
			return -1;
		n = write(c->fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && peer_gone(c, errno))
			return 0;
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
	br_ssl_engine_context *eng = &c->sc.eng;
	unsigned char	*rec;
	size_t		 len;
	int		 n;

	if (!c->on)
		return;
	c->on = 0;
	/*
	 * RFC 5246 7.2.1: the side that closes need not wait for the
	 * other's close_notify; br_sslio_close would, a round trip more.
	 */
	br_ssl_engine_close(eng);
	while ((br_ssl_engine_current_state(eng) & BR_SSL_SENDREC) &&
	    (rec = br_ssl_engine_sendrec_buf(eng, &len)) != NULL &&
	    (n = sock_write(c, rec, len)) > 0)
		br_ssl_engine_sendrec_ack(eng, (size_t)n);
}
