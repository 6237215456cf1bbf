#!/bin/bash
# mkcerts.sh OUTDIR: make the test CA and the server certificates that
# the e2e smart host (smarthost.sh) and the demo present. Files in OUTDIR:
#
#   ca.crt ca.key            RSA-2048 "ferry test CA"
#   good.crt good.key        RSA-2048, SAN mail.ferry.test + localhost
#   good-ec.crt good-ec.key  ECDSA P-256, same names
#   expired.crt expired.key  same names, validity ended in 2021
#   wrongname.crt .key       signed by the CA for other.example.net only
#   selfsigned.crt .key      mail.ferry.test + localhost, not from the CA
#
# Every leaf is a plain TLS server certificate (CA:FALSE, serverAuth);
# each differs from good.crt in the one respect its name says, so a
# verifier that rejects it can only be rejecting for that reason.
# Idempotent: a complete set whose good certificates are valid for at
# least another day is kept; otherwise the whole set is made anew.
# Needs only the openssl command line tool.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: mkcerts.sh OUTDIR" >&2
	exit 64
fi
mkdir -p "$1"
out=$(cd "$1" && pwd)

NAME=mail.ferry.test
OTHER=other.example.net
# Fixed dates in the past, so "expired" holds whatever the run date.
EXPIRED_START=20200101000000Z
EXPIRED_END=20210101000000Z

all="ca good good-ec expired wrongname selfsigned"

# All certificates are made together, so one check of the dates of
# the shortest-lived good one covers the set.
complete() {
	local f

	for f in $all; do
		[ -s "$out/$f.crt" ] && [ -s "$out/$f.key" ] || return 1
	done
	openssl x509 -checkend 86400 -noout -in "$out/good.crt" \
	    >/dev/null 2>&1 &&
	    openssl verify -no_check_time -CAfile "$out/ca.crt" \
	    "$out/good.crt" "$out/good-ec.crt" "$out/expired.crt" \
	    "$out/wrongname.crt" >/dev/null 2>&1
}

if complete; then
	exit 0
fi

work=$(mktemp -d "$out/.mkcerts.XXXXXX")
trap 'rm -rf "$work"' EXIT
umask 077

# One config for everything, so the system's openssl.cnf (whose
# defaults differ between releases) has no say in what we make.
cat > "$work/openssl.cnf" <<EOF
[ req ]
distinguished_name	= req_dn
prompt			= no
utf8			= yes
[ req_dn ]
CN			= unused

[ ca ]
default_ca		= test_ca
[ test_ca ]
dir			= $work/db
database		= \$dir/index.txt
new_certs_dir		= \$dir/new
serial			= \$dir/serial
certificate		= $work/ca.crt
private_key		= $work/ca.key
default_md		= sha256
policy			= policy_any
unique_subject		= no
copy_extensions		= none
email_in_dn		= no
[ policy_any ]
commonName		= supplied

[ v3_ca ]
basicConstraints	= critical, CA:TRUE
keyUsage		= critical, keyCertSign, cRLSign
subjectKeyIdentifier	= hash

[ v3_leaf ]
basicConstraints	= critical, CA:FALSE
keyUsage		= critical, digitalSignature, keyEncipherment
extendedKeyUsage	= serverAuth
subjectKeyIdentifier	= hash
authorityKeyIdentifier	= keyid
subjectAltName		= \${ENV::SAN}

[ v3_self ]
basicConstraints	= critical, CA:FALSE
keyUsage		= critical, digitalSignature, keyEncipherment
extendedKeyUsage	= serverAuth
subjectKeyIdentifier	= hash
subjectAltName		= \${ENV::SAN}
EOF
mkdir -p "$work/db/new"
: > "$work/db/index.txt"
# A random first serial: certificates from two runs never share one.
openssl rand -hex 8 > "$work/db/serial"
export SAN=unused
cnf=(-config "$work/openssl.cnf")

rsakey() {
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	    -out "$work/$1.key" 2>/dev/null
}

eckey() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$work/$1.key" 2>/dev/null
}

# sign NAME CN SAN [openssl ca date options]
sign() {
	local name=$1 cn=$2
	SAN=$3
	shift 3
	openssl req "${cnf[@]}" -new -key "$work/$name.key" \
	    -subj "/CN=$cn" -out "$work/$name.csr"
	openssl ca "${cnf[@]}" -batch -notext -extensions v3_leaf \
	    -in "$work/$name.csr" -out "$work/$name.crt" "$@" \
	    2>"$work/ca.log" || {
		cat "$work/ca.log" >&2
		return 1
	}
}

rsakey ca
openssl req "${cnf[@]}" -x509 -new -key "$work/ca.key" -sha256 \
    -subj "/CN=ferry test CA" -extensions v3_ca -days 3650 \
    -out "$work/ca.crt"

rsakey good
sign good "$NAME" "DNS:$NAME, DNS:localhost" -days 825
eckey good-ec
sign good-ec "$NAME" "DNS:$NAME, DNS:localhost" -days 825
rsakey expired
sign expired "$NAME" "DNS:$NAME, DNS:localhost" \
    -startdate "$EXPIRED_START" -enddate "$EXPIRED_END"
rsakey wrongname
sign wrongname "$OTHER" "DNS:$OTHER" -days 825

rsakey selfsigned
SAN="DNS:$NAME, DNS:localhost"
openssl req "${cnf[@]}" -x509 -new -key "$work/selfsigned.key" -sha256 \
    -subj "/CN=$NAME" -extensions v3_self -days 825 \
    -out "$work/selfsigned.crt"

# The expired certificate must fail for its dates and nothing else.
openssl verify -CAfile "$work/ca.crt" "$work/expired.crt" \
    >/dev/null 2>&1 && {
	echo "mkcerts.sh: expired.crt verifies: is the clock before 2021?" >&2
	exit 1
}

chmod 644 "$work"/*.crt
chmod 600 "$work"/*.key
for f in $all; do
	mv -f "$work/$f.key" "$out/$f.key"
	mv -f "$work/$f.crt" "$out/$f.crt"
done
