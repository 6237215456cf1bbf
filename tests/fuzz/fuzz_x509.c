/*
 * fuzz_x509: the certificate check (x509.c) on a chain the fuzzer
 * writes: the input is split into DER elements as a server's
 * Certificate message would hold them, each fed in two pieces, with a
 * host name and a fixed time; then the pin hash of the first. No anchor
 * can be signed by fuzzed bytes, so this reaches the parser and the
 * per-certificate rules, not the path rules after an anchor.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "x509.h"
#include "fuzz_der.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct x509_engine x;	/* 40 KB: off the stack */
	static const br_x509_trust_anchor none[1];
	struct x509_trust t = { none, 0, NULL, 0, NULL, 0 };
	const br_x509_class **vt = &x.vtable;
	unsigned char	pin[X509_PIN_SIZE];
	const char	*why;
	size_t		k, half;

	x509_engine_init(&x, &t);
	x509_engine_set_time(&x, 1800000000LL);
	(*vt)->start_chain(vt, "mail.example.com");
	while (size > 0) {
		k = fuzz_element(data, size);
		(*vt)->start_cert(vt, (uint32_t)k);
		half = k / 2;
		(*vt)->append(vt, data, half);
		(*vt)->append(vt, data + half, k - half);
		(*vt)->end_cert(vt);
		(void)x509_spki_sha256(data, k, pin);
		data += k;
		size -= k;
	}
	/* nothing to trust: never accepted, and a reason is a line */
	if ((*vt)->end_chain(vt) == 0)
		abort();
	why = x509_why(&x);
	if (why != NULL && (memchr(why, '\0', X509_WHY_SIZE) == NULL ||
	    strchr(why, '\n') != NULL))
		abort();
	return 0;
}
