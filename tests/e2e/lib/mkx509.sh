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
#   root0       issued by its own root of serial number 0, root0-ca.crt
#               (not the test CA; issue 25: anchors are name + key)
#   wildnc      *.ferry.test under an intermediate that excludes
#               mail.ferry.test
#   ncdot       under an intermediate permitting the dNSName .ferry.test
#   ncother     under critical nameConstraints with an otherName subtree
#   ekuca       under an intermediate whose EKU is clientAuth only
#   rsa2052     an RSA key of 2052 bits (not a whole number of bytes)
#   polnc       under an intermediate with a non-critical
#               policyConstraints
#   wildpsl     subjectAltName *.co.uk only (for mail.co.uk)
#   ncwork      601 names under 600 excluded subtrees
#   pbextra     leaf, an unrelated self-signed certificate, intermediate
#   pborder     leaf, intermediates top first (out of order)
#   pbcross     leaf, intermediate, its issuer cross-signed by an
#               untrusted root, then the same issuer signed by the CA
#   pbloop      leaf, then 12 self-issued CAs of one name, no anchor
#
# From nc on, NAME.crt holds the chain (leaf, then what a server sends).
# All but root0 and rsa2052 are for mail.ferry.test only from wildnc on.
# Made anew when the CA changed or a leaf has less than a day left.
set -eu
out=$1
ca=$2
mkdir -p "$out"
all="sha1 rsa1024 clientauth wildtld wildok criteku ed25519 nc ncout notca
root0 wildnc ncdot ncother ekuca rsa2052 polnc wildpsl ncwork pbextra pborder
pbcross pbloop"

fresh() {
	local f
	for f in $all; do
		[ -s "$out/$f.crt" ] && [ -s "$out/$f.key" ] || return 1
		openssl x509 -checkend 86400 -noout -in "$out/$f.crt" \
		    >/dev/null 2>&1 || return 1
	done
	[ -s "$out/root0-ca.crt" ] && cmp -s "$out/ca.crt" "$ca/ca.crt"
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
[ leafm ]
basicConstraints	= critical, CA:FALSE
keyUsage		= critical, digitalSignature, keyEncipherment
extendedKeyUsage	= serverAuth
authorityKeyIdentifier	= keyid
subjectAltName		= DNS:mail.ferry.test
[ ca ]
basicConstraints	= critical, CA:TRUE
keyUsage		= critical, keyCertSign, cRLSign
subjectKeyIdentifier	= hash
authorityKeyIdentifier	= keyid
[ wildnc_ca ]
basicConstraints	= critical, CA:TRUE
keyUsage		= critical, keyCertSign, cRLSign
nameConstraints		= critical, excluded;DNS:mail.ferry.test
[ wildnc ]
basicConstraints	= critical, CA:FALSE
extendedKeyUsage	= serverAuth
subjectAltName		= DNS:*.ferry.test
[ ncdot_ca ]
basicConstraints	= critical, CA:TRUE
keyUsage		= critical, keyCertSign, cRLSign
nameConstraints		= critical, permitted;DNS:.ferry.test
[ ncother_ca ]
basicConstraints	= critical, CA:TRUE
keyUsage		= critical, keyCertSign, cRLSign
nameConstraints		= critical, permitted;DNS:ferry.test, permitted;otherName:1.3.6.1.5.5.7.8.7;IA5STRING:_smtp.ferry.test
[ ekuca_ca ]
basicConstraints	= critical, CA:TRUE
keyUsage		= critical, keyCertSign, cRLSign
extendedKeyUsage	= clientAuth
[ polnc_ca ]
basicConstraints	= critical, CA:TRUE
keyUsage		= critical, keyCertSign, cRLSign
policyConstraints	= inhibitPolicyMapping:0
[ wildpsl ]
basicConstraints	= critical, CA:FALSE
extendedKeyUsage	= serverAuth
subjectAltName		= DNS:*.co.uk
[ ncwork_ca ]
basicConstraints	= critical, CA:TRUE
keyUsage		= critical, keyCertSign, cRLSign
nameConstraints		= critical, @ncwork_nc
[ ncwork ]
basicConstraints	= critical, CA:FALSE
extendedKeyUsage	= serverAuth
subjectAltName		= @ncwork_san
CNF
{
	echo "[ ncwork_nc ]"
	for i in $(seq 600); do echo "excluded;DNS.$i = x$i.example"; done
	echo "[ ncwork_san ]"
	echo "DNS.0 = mail.ferry.test"
	for i in $(seq 600); do echo "DNS.$i = a$i.ferry.test"; done
} >> "$work/ext.cnf"
# a root of our own: req -x509 with this section only
cat > "$work/root.cnf" <<CNF
[ req ]
distinguished_name	= dn
x509_extensions		= root
[ dn ]
[ root ]
basicConstraints	= critical, CA:TRUE
keyUsage		= critical, keyCertSign, cRLSign
subjectKeyIdentifier	= hash
CNF

key() {	# key NAME rsa BITS | ec | ed25519
	if [ "$2" = rsa ]; then
		openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$3" \
		    -out "$work/$1.key" 2>/dev/null
	elif [ "$2" = ec ]; then
		openssl genpkey -algorithm EC \
		    -pkeyopt ec_paramgen_curve:P-256 -out "$work/$1.key"
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

# root NAME CN SERIAL: a self-signed root
root() {
	openssl req -x509 -new -config "$work/root.cnf" -key "$work/$1.key" \
	    -subj "/CN=$2" -set_serial "$3" -days 30 -sha256 \
	    -out "$work/$1.crt"
}
# chain NAME CERT...: NAME.crt becomes the leaf then CERTs, in order
chain() {
	local n=$1 f
	shift
	for f in "$@"; do cat "$work/$f.crt" >> "$work/$n.crt"; done
}
# ca_leaf NAME SECTION: an intermediate of that section under the test
# CA, and a leaf for mail.ferry.test under it; NAME.crt is the chain
ca_leaf() {
	key "$1-ca" ec
	issue "$1-ca" "ferry test $1 intermediate" "$2" "${C[@]}"
	key "$1" ec
	issue "$1" mail.ferry.test "${3:-leafm}" "$work/$1-ca.crt" \
	    "$work/$1-ca.key"
	chain "$1" "$1-ca"
}

key root0-ca ec;	root root0-ca "ferry test serial-0 root" 0
key root0 ec;		issue root0 mail.ferry.test leaf "$work/root0-ca.crt" \
			    "$work/root0-ca.key"
ca_leaf wildnc wildnc_ca wildnc
ca_leaf ncdot ncdot_ca
ca_leaf ncother ncother_ca
ca_leaf ekuca ekuca_ca
ca_leaf polnc polnc_ca
ca_leaf ncwork ncwork_ca ncwork
key rsa2052 rsa 2052;	issue rsa2052 mail.ferry.test leaf "${C[@]}"
key wildpsl ec;		issue wildpsl "*.co.uk" wildpsl "${C[@]}"

# path building: what the server sends is not the path in order
key pb1 ec;	issue pb1 "ferry test pb intermediate" ca "${C[@]}"
key pb2 ec;	issue pb2 "ferry test pb2 intermediate" ca "$work/pb1.crt" \
		    "$work/pb1.key"
key junk ec;	root junk "ferry test unrelated root" 1
key pbextra ec;	issue pbextra mail.ferry.test leafm "$work/pb1.crt" \
		    "$work/pb1.key"
chain pbextra junk pb1
key pborder ec;	issue pborder mail.ferry.test leafm "$work/pb2.crt" \
		    "$work/pb2.key"
chain pborder pb1 pb2
# the cross root: one key, one name, two issuers
key other ec;	root other "ferry test other root" 2
key r2o ec;	cp "$work/r2o.key" "$work/r2c.key"
issue r2o "ferry test cross root" ca "$work/other.crt" "$work/other.key"
issue r2c "ferry test cross root" ca "${C[@]}"
key pbx ec;	issue pbx "ferry test pbx intermediate" ca "$work/r2o.crt" \
		    "$work/r2o.key"
key pbcross ec;	issue pbcross mail.ferry.test leafm "$work/pbx.crt" \
		    "$work/pbx.key"
chain pbcross pbx r2o r2c
# twelve CAs of one name, each self-signed: many paths, none trusted
key pbloop ec
for i in $(seq 12); do
	key "loop$i" ec
	root "loop$i" "ferry test loop CA" "$((i + 10))"
done
issue pbloop mail.ferry.test leafm "$work/loop1.crt" "$work/loop1.key"
chain pbloop $(for i in $(seq 12); do echo "loop$i"; done)

chmod 644 "$work"/*.crt
mv -f "$work/root0-ca.crt" "$out/root0-ca.crt"
for f in $all; do
	mv -f "$work/$f.key" "$out/$f.key"
	mv -f "$work/$f.crt" "$out/$f.crt"
done
cp "$ca/ca.crt" "$out/ca.crt"
