/*
 * anchors.h: the trust anchors compiled into ferry. The definitions are
 * generated at build time by certs/mkanchors into build/anchors.c from
 * the PEM bundle named by TRUST_BUNDLE; they are read-only data.
 */
#ifndef FERRY_ANCHORS_H
#define FERRY_ANCHORS_H
#include <stddef.h>
#include <bearssl.h>

extern const br_x509_trust_anchor	anchors_builtin[];
extern const size_t			anchors_builtin_n;
extern const char			anchors_bundle_sha256[]; /* hex */
extern const char			anchors_bundle_name[];	/* path */
#endif
