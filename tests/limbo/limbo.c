/*
 * limbo.c: run ferry's certificate check (x509.c over BearSSL, anchors
 * through ta.c as for tls_ca_file) on x509-limbo cases that
 * tests/limbo/run has unpacked. Reads lines "DIR<TAB>NAME<TAB>TIME"
 * on stdin (TIME seconds since the epoch, 0 for now; NAME may be empty:
 * no name to check); DIR holds ta.pem
 * (the trusted certificates) and chain.pem (the peer's certificate,
 * then the untrusted intermediates, in the order a server sends them).
 * Prints "DIR<TAB>accept" or "DIR<TAB>refuse<TAB>REASON" for each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bearssl.h>

#include "ferr.h"
#include "ta.h"
#include "x509.h"

#define FILE_SIZE	(1024 * 1024)

struct der_list {		/* as many as chain.pem holds */
	unsigned char	**p;
	size_t		 *len;
	size_t		  n, size;
};

static char *
slurp(const char *dir, const char *name, size_t *len)
{
	char	path[4096];
	char	*buf;
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	buf = malloc(FILE_SIZE);
	if (buf != NULL)
		*len = fread(buf, 1, FILE_SIZE, f);
	fclose(f);
	return buf;
}

static void
der_push(void *ctx, const void *buf, size_t len)
{
	struct der_list	*l = ctx;
	unsigned char	*p;

	p = realloc(l->p[l->n], l->len[l->n] + len);
	if (p == NULL)
		abort();
	memcpy(p + l->len[l->n], buf, len);
	l->p[l->n] = p;
	l->len[l->n] += len;
}

static int
grow(struct der_list *l)
{
	size_t		 size = l->size ? 2 * l->size : 16;
	unsigned char	**p;
	size_t		 *len;

	if ((p = realloc(l->p, size * sizeof(*p))) == NULL)
		return -1;
	l->p = p;
	if ((len = realloc(l->len, size * sizeof(*len))) == NULL)
		return -1;
	l->len = len;
	/* a block cut short by a PEM error is freed too */
	memset(p + l->size, 0, (size - l->size) * sizeof(*p));
	l->size = size;
	return 0;
}

/*
 * The next tab-separated field of *s, which may be empty (strtok would
 * merge two tabs and lose it); NULL when there is none.
 */
static char *
field(char **s)
{
	char	*f = *s, *tab;

	if (f == NULL)
		return NULL;
	if ((tab = strchr(f, '\t')) != NULL) {
		*tab = '\0';
		*s = tab + 1;
	} else
		*s = NULL;
	return f;
}

/* Every PEM block into a DER blob, whatever its key: no decoding. */
static int
chain_load(const char *pem, size_t len, struct der_list *l)
{
	br_pem_decoder_context pc;
	size_t	k;

	br_pem_decoder_init(&pc);
	while (len > 0) {
		k = br_pem_decoder_push(&pc, pem, len);
		pem += k;
		len -= k;
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			if (l->n == l->size && grow(l) == -1)
				return -1;
			l->p[l->n] = NULL;
			l->len[l->n] = 0;
			br_pem_decoder_setdest(&pc, der_push, l);
			break;
		case BR_PEM_END_OBJ:
			l->n++;
			break;
		case BR_PEM_ERROR:
			return -1;
		}
	}
	return l->n > 0 ? 0 : -1;
}

/* Feed the chain as the handshake does, in records of odd sizes. */
static const char *
run(struct ta_list *anchors, struct der_list *chain, const char *name,
    long long when, char *why, size_t whysize)
{
	static struct x509_engine x;	/* 40 KB: not on the stack */
	struct x509_trust t = { anchors->v, anchors->n, anchors->cert,
	    anchors->n, NULL, 0 };
	const br_x509_class **vt = &x.vtable;
	unsigned	err, usages;
	size_t		i, k, step;

	x509_engine_init(&x, &t);
	if (when != 0)
		x509_engine_set_time(&x, when);
	(*vt)->start_chain(vt, name);
	for (i = 0; i < chain->n; i++) {
		(*vt)->start_cert(vt, (uint32_t)chain->len[i]);
		for (k = 0; k < chain->len[i]; k += step) {
			step = chain->len[i] - k < 517 ? chain->len[i] - k :
			    517;
			(*vt)->append(vt, chain->p[i] + k, step);
		}
		(*vt)->end_cert(vt);
	}
	err = (*vt)->end_chain(vt);
	if (err == 0 && (*vt)->get_pkey(vt, &usages) != NULL)
		return NULL;
	if (x509_why(&x) != NULL)
		snprintf(why, whysize, "%s", x509_why(&x));
	else
		snprintf(why, whysize, "%s (BearSSL %u)",
		    x509_br_reason(err), err);
	return why;
}

int
main(void)
{
	char		line[8192], why[256], *dir, *name, *tm, *pem, *rest;
	struct ta_list	anchors;
	struct der_list	chain;
	struct ferr	e;
	size_t		len, i;
	const char	*r;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		rest = line;
		dir = field(&rest);
		name = field(&rest);
		tm = field(&rest);
		if (dir == NULL || name == NULL || tm == NULL || rest != NULL)
			return 2;
		ta_init(&anchors);
		memset(&chain, 0, sizeof(chain));
		r = "cannot load the case";
		if ((pem = slurp(dir, "ta.pem", &len)) != NULL &&
		    ta_add_pem(&anchors, pem, len, "ta.pem", &e) == 0) {
			free(pem);
			if ((pem = slurp(dir, "chain.pem", &len)) != NULL &&
			    chain_load(pem, len, &chain) == 0)
				r = run(&anchors, &chain, name,
				    strtoll(tm, NULL, 10), why, sizeof(why));
			else
				r = "chain.pem does not load";
		} else
			r = "ta.pem does not load";
		free(pem);
		if (r == NULL)
			printf("%s\taccept\n", dir);
		else
			printf("%s\trefuse\t%s\n", dir, r);
		for (i = 0; i < chain.size; i++)
			free(chain.p[i]);
		free(chain.p);
		free(chain.len);
		ta_free(&anchors);
	}
	return 0;
}
