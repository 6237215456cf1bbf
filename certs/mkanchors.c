/*
 * mkanchors BUNDLE.pem > anchors.c: compile a PEM bundle into the
 * trust anchor tables src/anchors.h declares. A build-host tool. The
 * output depends on the bundle's bytes and the path as given only, so
 * the same bundle always gives the same file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <bearssl.h>

#include "ferr.h"
#include "ta.h"

/* Debian's bundle is about 220 KB; anything this big is a mistake. */
#define MKANCHORS_FILE_SIZE	(16 * 1024 * 1024)
#define MKANCHORS_HEX_LINE	12	/* bytes per line of output */

static const char *prog = "mkanchors";

/* One line on stderr and exit; err, when not 0, is an errno. */
static void __attribute__((noreturn, format(printf, 3, 4)))
die(int code, int err, const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (err != 0)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
	exit(code);
}

/* The whole file into a malloc'd buffer; *len is its size. */
static char *
read_file(const char *path, size_t *len)
{
	FILE	*f;
	char	*buf;
	size_t	 got;

	f = fopen(path, "rb");
	if (f == NULL)
		die(EX_NOINPUT, errno, "%s", path);
	/* One byte over the cap tells a file at the cap from a bigger one. */
	buf = malloc(MKANCHORS_FILE_SIZE + 1);
	if (buf == NULL)
		die(EX_OSERR, ENOMEM, "%s", path);
	got = fread(buf, 1, MKANCHORS_FILE_SIZE + 1, f);
	if (ferror(f))
		die(EX_IOERR, errno, "read %s", path);
	if (got > MKANCHORS_FILE_SIZE)
		die(EX_DATAERR, 0, "%s: larger than %d bytes", path,
		    MKANCHORS_FILE_SIZE);
	fclose(f);
	*len = got;
	return buf;
}

static void
put_bytes(const char *id, const char *part, const unsigned char *p,
    size_t len)
{
	size_t	i;

	printf("static const unsigned char %s_%s[] = {", id, part);
	for (i = 0; i < len; i++)
		printf("%s0x%02x,", i % MKANCHORS_HEX_LINE == 0 ? "\n\t" : " ",
		    p[i]);
	printf("\n};\n");
}

/* A C string literal for s: octal escapes keep any path valid C. */
static void
put_string(const char *s)
{
	const unsigned char	*p;

	putchar('"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\' || *p == '?')
			printf("\\%c", *p);	/* '?' breaks up trigraphs */
		else if (*p < 0x20 || *p >= 0x7f)
			printf("\\%03o", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static const char *
curve_name(int curve)
{
	switch (curve) {
	case BR_EC_secp256r1:	return "BR_EC_secp256r1";
	case BR_EC_secp384r1:	return "BR_EC_secp384r1";
	case BR_EC_secp521r1:	return "BR_EC_secp521r1";
	}
	return NULL;
}

static void
put_anchors(const struct ta_list *l)
{
	const br_x509_trust_anchor	*ta;
	char				 id[32];
	size_t				 i;

	for (i = 0; i < l->n; i++) {
		ta = &l->v[i];
		snprintf(id, sizeof(id), "ta%zu", i);	/* always fits */
		put_bytes(id, "dn", ta->dn.data, ta->dn.len);
		if (ta->pkey.key_type == BR_KEYTYPE_RSA) {
			put_bytes(id, "n", ta->pkey.key.rsa.n,
			    ta->pkey.key.rsa.nlen);
			put_bytes(id, "e", ta->pkey.key.rsa.e,
			    ta->pkey.key.rsa.elen);
		} else
			put_bytes(id, "q", ta->pkey.key.ec.q,
			    ta->pkey.key.ec.qlen);
		putchar('\n');
	}

	/* BearSSL's structs hold non-const pointers; it never writes
	 * through them, so the casts keep the data in .rodata. */
	printf("#pragma GCC diagnostic ignored \"-Wcast-qual\"\n"
	    "const br_x509_trust_anchor anchors_builtin[] = {\n");
	if (l->n == 0)	/* C11 has no empty arrays; n says 0 */
		printf("\t{ .flags = 0 },\n");
	for (i = 0; i < l->n; i++) {
		ta = &l->v[i];
		printf("\t{\n"
		    "\t\t.dn = { (unsigned char *)ta%zu_dn,"
		    " sizeof(ta%zu_dn) },\n"
		    "\t\t.flags = %s,\n", i, i,
		    ta->flags == BR_X509_TA_CA ? "BR_X509_TA_CA" : "0");
		if (ta->pkey.key_type == BR_KEYTYPE_RSA)
			printf("\t\t.pkey = { .key_type = BR_KEYTYPE_RSA,"
			    " .key.rsa = {\n"
			    "\t\t\t(unsigned char *)ta%zu_n,"
			    " sizeof(ta%zu_n),\n"
			    "\t\t\t(unsigned char *)ta%zu_e,"
			    " sizeof(ta%zu_e) } }\n",
			    i, i, i, i);
		else {
			printf("\t\t.pkey = { .key_type = BR_KEYTYPE_EC,"
			    " .key.ec = {\n");
			if (curve_name(ta->pkey.key.ec.curve) != NULL)
				printf("\t\t\t%s,\n",
				    curve_name(ta->pkey.key.ec.curve));
			else
				printf("\t\t\t%d,\n", ta->pkey.key.ec.curve);
			printf("\t\t\t(unsigned char *)ta%zu_q, sizeof(ta%zu_q)"
			    " } }\n", i, i);
		}
		printf("\t},\n");
	}
	printf("};\n");
	printf("const size_t anchors_builtin_n = %zu;\n", l->n);
}

int
main(int argc, char **argv)
{
	br_sha256_context	 sc;
	unsigned char		 hash[br_sha256_SIZE];
	struct ta_list		 l;
	struct ferr		 e;
	char			*pem;
	size_t			 len, i;

	if (argc != 2) {
		fprintf(stderr, "usage: %s BUNDLE.pem > anchors.c\n", prog);
		return EX_USAGE;
	}
	pem = read_file(argv[1], &len);
	ta_init(&l);
	ferr_clear(&e);
	if (ta_add_pem(&l, pem, len, argv[1], &e) == -1)
		die(e.kind == FE_OS ? EX_OSERR : EX_DATAERR, 0, "%s", e.text);
	br_sha256_init(&sc);
	br_sha256_update(&sc, pem, len);
	br_sha256_out(&sc, hash);

	/* The path goes in anchors_bundle_name, not here: in a comment
	 * a path holding a comment end would break the file. */
	printf("/* Generated by certs/mkanchors; do not edit. */\n"
	    "#include \"anchors.h\"\n\n");
	put_anchors(&l);
	printf("const char anchors_bundle_sha256[] = \"");
	for (i = 0; i < sizeof(hash); i++)
		printf("%02x", hash[i]);
	printf("\";\nconst char anchors_bundle_name[] = ");
	put_string(argv[1]);
	printf(";\n");

	if (fflush(stdout) == EOF || ferror(stdout))
		die(EX_IOERR, errno, "write standard output");
	ta_free(&l);
	free(pem);
	return EX_OK;
}
