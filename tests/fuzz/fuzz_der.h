/*
 * fuzz_der.h: how the x509 fuzz targets cut their input into DER
 * elements, as a server's Certificate message holds them.
 */
#ifndef FERRY_FUZZ_DER_H
#define FERRY_FUZZ_DER_H
#include <stddef.h>
#include <stdint.h>

/* Length of the DER element at p (header included), or len. */
static size_t
fuzz_element(const uint8_t *p, size_t len)
{
	size_t	n, v = 0, i;

	if (len < 2)
		return len;
	if (!(p[1] & 0x80))
		v = p[1] + 2;
	else {
		n = p[1] & 0x7f;
		if (n == 0 || n > 3 || len < 2 + n)
			return len;
		for (i = 0; i < n; i++)
			v = v << 8 | p[2 + i];
		v += 2 + n;
	}
	return v > len || v == 0 ? len : v;
}
#endif
