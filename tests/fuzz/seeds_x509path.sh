#!/bin/bash
# seeds_x509path.sh OUTDIR: seeds for fuzz_x509path, made with openssl
# at run time (tests/fuzz/run): TBSCertificates under the harness's
# test key and anchor name, valid until 2096 (the harness's clock).
#   leaf      a leaf for mail.example.com under the anchor
#   nc        the anchor's own certificate (nameConstraints example.com,
#             pathlen 1), a leaf, and its intermediate, which excludes
#             bar.example.com
#   order     a leaf, an unrelated root, then its intermediate
# Byte 0 of each: host name (low 3 bits), anchor certificate (bit 3).
set -eu
out=$1
[ -s "$out/nc" ] && exit 0
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# the harness's fixed test key (fuzz_priv there): no secret
cat > "$work/fuzz.key" <<'KEY'
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgWiq9kfkxus0SOH46
YafAq0HgPO1QmWKKR4i6l/C9TNahRANCAASJlAgU3ej/R8mj6RDl364+AbXyfza5
zKS2fa5lh9ipmDgapFPwXxif628oBTFO14iaHYbVfFR1kOHh1/muqxsm
-----END PRIVATE KEY-----
KEY
cat > "$work/ext.cnf" <<'CNF'
[ req ]
distinguished_name	= dn
[ dn ]
[ root ]
basicConstraints	= critical, CA:TRUE, pathlen:1
keyUsage		= critical, keyCertSign
nameConstraints		= critical, permitted;DNS:example.com, permitted;IP:192.0.2.0/255.255.255.0
[ int ]
basicConstraints	= critical, CA:TRUE
keyUsage		= critical, keyCertSign
extendedKeyUsage	= serverAuth
nameConstraints		= critical, excluded;DNS:bar.example.com
[ leaf ]
basicConstraints	= critical, CA:FALSE
extendedKeyUsage	= serverAuth
subjectAltName		= DNS:mail.example.com, DNS:*.example.com, IP:192.0.2.1
[ ileaf ]
basicConstraints	= critical, CA:FALSE
extendedKeyUsage	= serverAuth
subjectAltName		= DNS:mail.example.com, IP:192.0.2.1
CNF
k=$work/fuzz.key
# cert NAME SUBJECT ISSUER-CN SECTION: signed by the test key
cert() {
	openssl req -new -config "$work/ext.cnf" -key "$k" -subj "/CN=$2" \
	    -out "$work/$1.csr"
	openssl req -new -x509 -config "$work/ext.cnf" -key "$k" \
	    -subj "/CN=$3" -days 36500 -out "$work/$3.issuer" 2>/dev/null
	openssl x509 -req -in "$work/$1.csr" -CA "$work/$3.issuer" \
	    -CAkey "$k" -set_serial 7 -days 36500 -sha256 \
	    -extfile "$work/ext.cnf" -extensions "$4" -outform DER \
	    -out "$work/$1.der" 2>/dev/null
}
cert root "ferry fuzz root" "ferry fuzz root" root
cert int "ferry fuzz int" "ferry fuzz root" int
cert leaf mail.example.com "ferry fuzz root" leaf
cert ileaf mail.example.com "ferry fuzz int" ileaf
cert other "ferry fuzz other" "ferry fuzz other" root
# seed NAME BYTE0 CERT...: byte 0, then each certificate's TBS
/usr/bin/python3 - "$work" "$out" <<'PY'
import sys
w, out = sys.argv[1], sys.argv[2]
def tbs(name):
	d = open("%s/%s.der" % (w, name), "rb").read()
	i = 2 + (d[1] & 0x7f if d[1] & 0x80 else 0)
	n = d[i + 1]
	if n & 0x80:
		k = n & 0x7f
		n = int.from_bytes(d[i + 2:i + 2 + k], "big") + 2 + k
	else:
		n += 2
	return d[i:i + n]
for name, flags, certs in (("leaf", 0, ["leaf"]),
    ("nc", 8, ["root", "ileaf", "int"]), ("order", 0, ["ileaf", "other", "int"])):
	open("%s/%s" % (out, name), "wb").write(bytes([flags]) +
	    b"".join(tbs(c) for c in certs))
PY
