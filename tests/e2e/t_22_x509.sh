# t_22_x509.sh: real handshakes with the certificate shapes of issue 13,
# served by tests/fault/faultd.py, and servers that cannot speak TLS 1.2
# with ferry. Refused: exit 77 (certificate) or 76 (no common TLS), the
# reason on one line, nothing sent (no AUTH, no MAIL), the message kept.
. "$FERRY_ROOT/tests/e2e/lib/fault.sh"

X=$E2E_WORK/x509-certs
if ! "$FERRY_ROOT/tests/e2e/lib/mkx509.sh" "$X" "$SH_CERTS" \
    > "$E2E_WORK/mkx509.log" 2>&1; then
	sed 's/^/mkx509: /' "$E2E_WORK/mkx509.log" | tail -n 5
	check "x509 test certificates made" false
fi
xport=$((SH_PORT_BASE + 60))

# x509_serve NAME CERT [FAULTD-ARGS...]: faultd on the next port with
# CERT (leaf, then chain) and its key; sets PORT.
x509_serve() {
	local name=$1 cert=$2
	shift 2
	PORT=$xport
	xport=$((xport + 1))
	fault_start "x$name" "$PORT" implicit --cert "$X/$cert.crt" \
	    --key "$X/$cert.key" --ciphers 'DEFAULT:@SECLEVEL=0' "$@" ||
	    check "$name: faultd starts" false
}

# x509_refused NAME CERT RC WHY [CONF LINES] (after x509_serve)
x509_refused() {
	local name=$1 rc=$3 why=$4 conf msg
	shift 4
	conf=$(hostconf "x$name" implicit "$PORT" "$@")
	msg=$(mkmsg "x$name" "x$name@$SH_DOMAIN")
	ferry_run "$conf" -f "s@$SH_DOMAIN" "x$name@$SH_DOMAIN" < "$msg"
	check "$name: exit $rc" expect_rc "$rc"
	check "$name: says '$why'" grep -q -- "$why" "$ERR"
	check "$name: one line on stderr" eval '[ "$(wc -l < "$ERR")" -eq 1 ]'
	check "$name: message kept in the queue" eval \
	    '[ "$(queued "$conf")" -eq 1 ]'
	check "$name: no AUTH or MAIL sent" eval '! grep -Eq \
	    "< (AUTH|MAIL|RCPT|DATA)" "$(fault_log "x$name")"'
	check "$name: nothing accepted" eval \
	    '[ "$(fault_count "x$name")" -eq 0 ]'
	fault_stop "x$name"
}

# x509_delivered NAME [CONF LINES]
x509_delivered() {
	local name=$1 conf msg
	shift
	conf=$(hostconf "x$name" implicit "$PORT" "$@")
	msg=$(mkmsg "x$name" "x$name@$SH_DOMAIN")
	ferry_run "$conf" -f "s@$SH_DOMAIN" "x$name@$SH_DOMAIN" < "$msg"
	check "$name: exit 0" expect_rc 0
	check "$name: delivered" eval '[ "$(fault_count "x$name")" -eq 1 ]'
	fault_stop "x$name"
}

# Refused before: accepted by BearSSL alone, refused by the policy.
x509_serve sha1 sha1
x509_refused sha1 sha1 77 "certificate is signed with SHA-1"
x509_serve rsa1024 rsa1024
x509_refused rsa1024 rsa1024 77 "RSA key of 1024 bits"
x509_serve clientauth clientauth
x509_refused clientauth clientauth 77 "lacks serverAuth"
x509_serve wildtld wildtld
x509_refused wildtld wildtld 77 "certificate is for another name" \
    "tls_server_name interop.test"
x509_serve ncout ncout
x509_refused ncout ncout 77 "outside its issuer's nameConstraints"
x509_serve notca notca
x509_refused notca notca 77 "issuer certificate 1 is not a CA (basicConstraints CA:FALSE)"

# Refused by BearSSL before, delivered now (openssl and GnuTLS agree).
x509_serve criteku criteku
x509_delivered criteku
x509_serve nc nc
x509_delivered nc
# and a wildcard in its right place still works
x509_serve wildok wildok
x509_delivered wildok "tls_server_name mail.ferry.test"

# Issue 25: an anchor is a name and a key. A root of serial number 0
# (as Go Daddy and Starfield Root G2 in Debian's bundle), from a
# tls_ca_file, alone and inside Debian's whole bundle.
x509_serve root0 root0
x509_delivered root0 "tls_ca_file $X/root0-ca.crt"
cat /etc/ssl/certs/ca-certificates.crt "$X/root0-ca.crt" > "$X/bundle.pem"
x509_serve root0bundle root0
x509_delivered root0bundle "tls_ca_file $X/bundle.pem"

# Issue 25: a wildcard that could match a name its issuer excludes
# (the shape of Go's CVE-2025-61727).
M="tls_server_name mail.ferry.test"
x509_serve wildnc wildnc
x509_refused wildnc wildnc 77 "certificate names a host its issuer's nameConstraints exclude" "$M"

# Issue 25, item 3: accepted before, refused with the reason now.
x509_serve ncdot ncdot
x509_refused ncdot ncdot 77 "issuer certificate 1 has a dNSName constraint with a leading period" "$M"
x509_serve ncother ncother
x509_refused ncother ncother 77 "issuer certificate 1 has critical nameConstraints on otherName, which ferry cannot check" "$M"
x509_serve ekuca ekuca
x509_refused ekuca ekuca 77 "issuer certificate 1 may not issue for TLS servers (extendedKeyUsage lacks serverAuth)" "$M"
x509_serve rsa2052 rsa2052
x509_refused rsa2052 rsa2052 77 "certificate has an RSA modulus of 2052 bits, not a whole number of bytes"
x509_serve polnc polnc
x509_refused polnc polnc 77 "issuer certificate 1 has a non-critical policyConstraints" "$M"
x509_serve wildpsl wildpsl
x509_refused wildpsl wildpsl 77 "certificate has a wildcard directly under a public suffix" \
    "tls_server_name mail.co.uk"
x509_serve ncwork ncwork
x509_refused ncwork ncwork 77 "issuer certificate 1 has nameConstraints too large for the names below it" "$M"

# Issue 25, path building: what the server sends is not the path in
# order, and another path to the anchor exists.
x509_serve pbextra pbextra
x509_delivered pbextra "$M"
x509_serve pborder pborder
x509_delivered pborder "$M"
x509_serve pbcross pbcross
x509_delivered pbcross "$M"
# and a server that sends 12 CAs of one name, none trusted: the search
# stops at its limit and says so (without a limit: 12!/2 paths)
x509_serve pbloop pbloop
x509_refused pbloop pbloop 77 "certificate chain has too many possible paths" "$M"

# No common TLS: exit 76 with what to do, not 77.
good=("$SH_CERTS/good.crt" "$SH_CERTS/good.key")
PORT=$xport
xport=$((xport + 1))
fault_start x13only "$PORT" implicit --tls-min 1.3 ||
    check "TLS 1.3 only: faultd starts" false
x509_refused 13only good 76 "refused TLS 1.2 (alert 70, protocol_version)"
check "TLS 1.3 only: says what to do" grep -q "stunnel with \`tls none\`" "$ERR"
check "TLS 1.3 only: names ferry's keys" grep -q "RSA and ECDSA" "$ERR"

x509_serve ed25519 ed25519
x509_refused ed25519 ed25519 76 "refused TLS 1.2 (alert 40, handshake_failure)"

PORT=$xport
xport=$((xport + 1))
fault_start xalert80 "$PORT" implicit || check "alert 80: faultd starts" false
fault_rules xalert80 'tls raw \x15\x03\x03\x00\x02\x02\x50'
x509_refused alert80 good 76 "alert 80, internal_error"
