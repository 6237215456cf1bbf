/*
 * ta.h: trust anchors from PEM certificate bundles. Used by the build
 * tool certs/mkanchors (to compile Debian's bundle into ferry) and by
 * ferry itself for `tls_ca_file`. Parsing does no I/O: give it bytes.
 */
#ifndef FERRY_TA_H
#define FERRY_TA_H
#include <stddef.h>
#include <bearssl.h>
#include "ferr.h"

struct ta_list {		/* caller owns it; ta_free releases */
	br_x509_trust_anchor	*v;
	br_x509_certificate	*cert;	/* v[i]'s whole DER certificate */
	size_t			 n;
	size_t			 size;	/* slots allocated in v, cert */
};

void	ta_init(struct ta_list *l);
/*
 * Decode every CERTIFICATE block of the PEM text and append each as a
 * trust anchor (DN, public key, CA flag set), and its whole DER in
 * cert (so its own constraints can be checked, x509.h). Other PEM blocks are
 * skipped. A block that does not decode as an X.509 certificate is an
 * FE_CONFIG error naming `name` and the block's ordinal; on failure the
 * anchors already appended stay in l. Allocates with malloc.
 */
int	ta_add_pem(struct ta_list *l, const char *pem, size_t len,
	    const char *name, struct ferr *e);
void	ta_free(struct ta_list *l);
#endif
