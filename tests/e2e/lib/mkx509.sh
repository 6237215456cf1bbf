#!/bin/bash
# mkx509.sh OUTDIR CADIR: certificates of the shapes ferry's certificate
# check must refuse or accept (tests/e2e/t_22_x509.sh), each issued by
# the test CA in CADIR (ca.crt, ca.key, from mkcerts.sh) for
# mail.ferry.test and localhost unless its name says otherwise. Each
# differs from CADIR/good.crt in the one respect its name gives:
#
#   sha1        signed with sha1WithRSAEncryption
#   rsa1024     an RSA-1024 key
#   clientauth  extendedKeyUsage clientAuth only
#   wildtld     subjectAltName *.test only (for interop.test)
#   wildok      subjectAltName *.ferry.test only (for mail.ferry.test)
#   criteku     extendedKeyUsage serverAuth, marked critical
#   ed25519     an Ed25519 key
#   nc          issued by an intermediate whose critical
#               nameConstraints permit localhost and ferry.test
#   ncout       the same, under one that permits only example.net
#   notca       issued by an "intermediate" with CA:FALSE
#
# For the last three, NAME.crt holds the chain (leaf, intermediate).
# Made anew when the CA changed or a leaf has less than a day left.
set -eu
out=$1
ca=$2
mkdir -p "$out"
all="sha1 rsa1024 clientauth wildtld wildok criteku ed25519 nc ncout notca"

fresh() {
	local f
	for f in $all; do
		[ -s "$out/$f.crt" ] && [ -s "$out/$f.key" ] || return 1
		openssl x509 -checkend 86400 -noout -in "$out/$f.crt" \
		    >/dev/null 2>&1 || return 1
	done
	cmp -s "$out/ca.crt" "$ca/ca.crt"
}
fresh && exit 0

work=$(mktemp -d "$out/.mkx509.XXXXXX")
trap 'rm -rf "$work"' EXIT
umask 077
san="DNS:mail.ferry.test, DNS:localhost"
cat > "$work/ext.cnf" <<CNF
[ leaf ]
basicConstraints	= critical, CA:FALSE
keyUsage		= critical, digitalSignature, keyEncipherment
extendedKeyUsage	= serverAuth
subjectKeyIdentifier	= hash
authorityKeyIdentifier	= keyid
subjectAltName		= $san
[ clientauth ]
basicConstraints	= critical, CA:FALSE
extendedKeyUsage	= clientAuth
subjectKeyIdentifier	= hash
authorityKeyIdentifier	= keyid
subjectAltName		= $san
[ criteku ]
basicConstraints	= critical, CA:FALSE
extendedKeyUsage	= critical, serverAuth
subjectKeyIdentifier	= hash
authorityKeyIdentifier	= keyid
subjectAltName		= $san
[ wildtld ]
basicConstraints	= critical, CA:FALSE
extendedKeyUsage	= serverAuth
authorityKeyIdentifier	= keyid
subjectAltName		= DNS:*.test
[ wildok ]
basicConstraints	= critical, CA:FALSE
extendedKeyUsage	= serverAuth
authorityKeyIdentifier	= keyid
subjectAltName		= DNS:*.ferry.test
[ ed25519 ]
basicConstraints	= critical, CA:FALSE
keyUsage		= critical, digitalSignature
extendedKeyUsage	= serverAuth
authorityKeyIdentifier	= keyid
subjectAltName		= $san
[ nc_ca ]
basicConstraints	= critical, CA:TRUE, pathlen:0
keyUsage		= critical, keyCertSign, cRLSign
subjectKeyIdentifier	= hash
authorityKeyIdentifier	= keyid
nameConstraints		= critical, permitted;DNS:localhost, permitted;DNS:ferry.test
[ ncout_ca ]
basicConstraints	= critical, CA:TRUE
keyUsage		= critical, keyCertSign, cRLSign
subjectKeyIdentifier	= hash
authorityKeyIdentifier	= keyid
nameConstraints		= critical, permitted;DNS:example.net
[ notca_ca ]
basicConstraints	= critical, CA:FALSE
subjectKeyIdentifier	= hash
authorityKeyIdentifier	= keyid
CNF

key() {	# key NAME rsa BITS | ed25519
	if [ "$2" = rsa ]; then
		openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$3" \
		    -out "$work/$1.key" 2>/dev/null
	else
		openssl genpkey -algorithm ED25519 -out "$work/$1.key"
	fi
}

# issue NAME CN SECTION ISSUER-CRT ISSUER-KEY [MD]
issue() {
	openssl req -new -key "$work/$1.key" -subj "/CN=$2" \
	    -out "$work/$1.csr"
	openssl x509 -req -in "$work/$1.csr" -CA "$4" -CAkey "$5" \
	    -set_serial "0x$(openssl rand -hex 8)" -days 30 \
	    "-${6:-sha256}" -extfile "$work/ext.cnf" -extensions "$3" \
	    -out "$work/$1.crt" 2>/dev/null
}

C=("$ca/ca.crt" "$ca/ca.key")
key sha1 rsa 2048;	issue sha1 mail.ferry.test leaf "${C[@]}" sha1
key rsa1024 rsa 1024;	issue rsa1024 mail.ferry.test leaf "${C[@]}"
key clientauth rsa 2048; issue clientauth mail.ferry.test clientauth "${C[@]}"
key wildtld rsa 2048;	issue wildtld "*.test" wildtld "${C[@]}"
key wildok rsa 2048;	issue wildok "*.ferry.test" wildok "${C[@]}"
key criteku rsa 2048;	issue criteku mail.ferry.test criteku "${C[@]}"
key ed25519 ed25519;	issue ed25519 mail.ferry.test ed25519 "${C[@]}"
for i in nc ncout notca; do
	key "$i-ca" rsa 2048
	issue "$i-ca" "ferry test $i intermediate" "${i}_ca" "${C[@]}"
	key "$i" rsa 2048
	issue "$i" mail.ferry.test leaf "$work/$i-ca.crt" "$work/$i-ca.key"
	cat "$work/$i-ca.crt" >> "$work/$i.crt"
done
chmod 644 "$work"/*.crt
for f in $all; do
	mv -f "$work/$f.key" "$out/$f.key"
	mv -f "$work/$f.crt" "$out/$f.crt"
done
cp "$ca/ca.crt" "$out/ca.crt"
