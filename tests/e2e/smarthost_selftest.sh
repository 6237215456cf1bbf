#!/bin/bash
# smarthost_selftest.sh: check the e2e smart host (lib/smarthost.sh)
# with swaks and openssl s_client, before any ferry test relies on it:
# each AUTH path delivers, each port shows the certificate it claims,
# nothing is relayed without AUTH, the password reaches no log, and
# stop leaves no process behind. Run as root; last line "N passed, N
# failed"; exit status 1 on any failure.
set -u

here=$(cd "$(dirname "$0")" && pwd)
export FERRY_ROOT=${FERRY_ROOT:-$(cd "$here/../.." && pwd)}
. "$here/lib/smarthost.sh"

npass=0
nfail=0
ok() {
	npass=$((npass + 1))
	echo "ok - $*"
}
not_ok() {
	nfail=$((nfail + 1))
	echo "not ok - $*"
}
# check DESCRIPTION COMMAND...: one test, passed when COMMAND succeeds.
check() {
	local what=$1

	shift
	if "$@"; then
		ok "$what"
	else
		not_ok "$what"
	fi
}
finish() {
	echo "$npass passed, $nfail failed"
	[ "$nfail" -eq 0 ]
	exit
}

# swaks speaks TLS through Net::SSLeay, only a Recommends of swaks.
"$FERRY_ROOT/scripts/need" swaks libnet-ssleay-perl openssl || {
	not_ok "install swaks"
	finish
}

work=$(mktemp -d "${TMPDIR:-/tmp}/smarthost-selftest.XXXXXX")
out=$work/out
# Postfix, Dovecot and the delivery agent run as other users and have
# to get through every directory above the smart host's.
chmod 711 "$work"
cleanup() {
	smarthost_stop
	[ -n "${SH2_DIR:-}" ] && (SH_DIR=$SH2_DIR; smarthost_stop)
	rm -rf "$work"
}
trap cleanup EXIT

# The system's configuration must come out of this unchanged.
etc_state() {
	ls -la --time-style=full-iso /etc/postfix /etc/dovecot 2>&1
	[ -e /etc/postfix/main.cf ] && md5sum /etc/postfix/main.cf
	true
}
etc_before=$(etc_state)

t0=$EPOCHREALTIME
check "setup" smarthost_setup "$work/sh" || finish
t1=$EPOCHREALTIME
check "start" smarthost_start || finish
t2=$EPOCHREALTIME
echo "# setup $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s," \
    "start $(awk "BEGIN { printf \"%.1f\", $t2 - $t1 }") s"

# swaks_to PORT TO [swaks options]: send one message as $SH_USER.
swaks_to() {
	local port=$1 to=$2

	shift 2
	swaks --server "$SH_HOST" --port "$port" --helo selftest.ferry.test \
	    --from "$SH_USER@$SH_DOMAIN" --to "$to" \
	    --au "$SH_USER" --ap "$SH_PASS" "$@" > "$out" 2>&1
}

# lands WHO N WHAT: WHO has N messages and the last one has WHAT.
lands() {
	smarthost_wait_mail "$1" "$2" 20 &&
	    [ "$(smarthost_mail_count "$1")" -eq "$2" ] &&
	    grep -q "$3" "$(smarthost_mail_files "$1" | tail -n 1)"
}

logged() {
	grep -q "$1" "$(smarthost_log)"
}

# --- delivery over each AUTH path
check "AUTH PLAIN over implicit TLS (SMTPS)" \
    swaks_to "$SH_PORT_SMTPS" "bob@$SH_DOMAIN" -tlsc --tls-verify \
    --tls-ca-path "$SH_CA" -a PLAIN --h-Subject "selftest smtps plain"
check "... delivered into bob's Maildir" \
    lands bob 1 "selftest smtps plain"
check "... Postfix logged sasl_method=PLAIN" \
    logged "sasl_method=PLAIN, sasl_username=$SH_USER"

check "AUTH CRAM-MD5 after STARTTLS (SUBMISSION)" \
    swaks_to "$SH_PORT_SUBMISSION" "bob@$SH_DOMAIN" -tls --tls-verify \
    --tls-ca-path "$SH_CA" -a CRAM-MD5 --h-Subject "selftest sub cram"
check "... delivered, after the first one" \
    lands bob 2 "selftest sub cram"
check "... Postfix logged sasl_method=CRAM-MD5" \
    logged "sasl_method=CRAM-MD5"

check "AUTH LOGIN in the clear (PLAIN)" \
    swaks_to "$SH_PORT_PLAIN" "Carol@$SH_DOMAIN" -a LOGIN \
    --h-Subject "selftest plain login"
check "... delivered into carol's Maildir (localpart folded)" \
    lands carol 1 "selftest plain login"

check "AUTH PLAIN over ECDSA implicit TLS (SMTPS_EC)" \
    swaks_to "$SH_PORT_SMTPS_EC" "dave@$SH_DOMAIN" -tlsc --tls-verify \
    --tls-ca-path "$SH_CA" -a PLAIN --h-Subject "selftest ec"
check "... delivered" lands dave 1 "selftest ec"

files=$(smarthost_mail_files bob)
check "smarthost_mail_files lists oldest first" \
    grep -q "selftest smtps plain" "$(echo "$files" | head -n 1)"
check "smarthost_wait_mail times out with non-zero" \
    eval '! smarthost_wait_mail nobody 1 1 2>/dev/null'
check "smarthost_mail_count of an unknown localpart is 0" \
    test "$(smarthost_mail_count nosuchuser)" = 0

# --- what each port offers
ehlo() {	# PORT [swaks options]: EHLO, no AUTH, into $out
	local port=$1

	shift
	swaks --server "$SH_HOST" --port "$port" --helo selftest.ferry.test \
	    --quit-after EHLO "$@" > "$out" 2>&1
}
check "SMTPS offers PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256" \
    eval 'ehlo "$SH_PORT_SMTPS" -tlsc &&
    grep -q "250-AUTH PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256" "$out"'
check "SMTPS offers SIZE $SH_SIZE_LIMIT, PIPELINING, 8BITMIME" \
    eval 'grep -q "250-SIZE $SH_SIZE_LIMIT" "$out" &&
    grep -q "250-PIPELINING" "$out" && grep -q "250-8BITMIME" "$out"'
check "SUBMISSION offers STARTTLS and no AUTH before it" \
    eval 'ehlo "$SH_PORT_SUBMISSION" && grep -q "250-STARTTLS" "$out" &&
    ! grep -q "AUTH" "$out"'
check "NOTLS_SUB offers AUTH and no STARTTLS" \
    eval 'ehlo "$SH_PORT_NOTLS_SUB" && grep -q "250-AUTH" "$out" &&
    ! grep -q "STARTTLS" "$out"'
check "PLAIN offers AUTH and no STARTTLS" \
    eval 'ehlo "$SH_PORT_PLAIN" && grep -q "250-AUTH" "$out" &&
    ! grep -q "STARTTLS" "$out"'
check "the service is also on ::1" \
    eval '[ -z "$SH_HOST6" ] || swaks --server "$SH_HOST6" \
    --port "$SH_PORT_PLAIN" --quit-after EHLO > "$out" 2>&1'

# --- refusals
check "no relay without AUTH" \
    eval '! swaks --server "$SH_HOST" --port "$SH_PORT_PLAIN" \
    --to "bob@$SH_DOMAIN" > "$out" 2>&1 && grep -q "<\*\* 554 5.7.1" "$out"'
check "a wrong password gets 535" \
    eval '! swaks --server "$SH_HOST" --port "$SH_PORT_PLAIN" -a PLAIN \
    --au "$SH_USER" --ap wrong-password --to "bob@$SH_DOMAIN" \
    > "$out" 2>&1 && grep -q "<\*\* 535" "$out"'
check "... and Dovecot logged the failed attempt" \
    grep -q "passwd-file($SH_USER,.*Password mismatch" "$(smarthost_auth_log)"
check "reject@ gets 550 at RCPT" \
    eval '! swaks_to "$SH_PORT_PLAIN" "reject@$SH_DOMAIN" -a PLAIN &&
    grep -q "<\*\* 550 5.1.1" "$out"'
check "tempfail@ gets 450 at RCPT" \
    eval '! swaks_to "$SH_PORT_PLAIN" "tempfail@$SH_DOMAIN" -a PLAIN &&
    grep -q "<\*\* 450 4.2.0" "$out"'
check "another domain gets 554 at RCPT" \
    eval '! swaks_to "$SH_PORT_PLAIN" "x@example.com" -a PLAIN &&
    grep -q "<\*\* 554 5.7.1" "$out"'

# --- certificates, seen by a client that checks them strictly
# tls_to PORT [s_client options]: handshake, verify, hostname check.
tls_to() {
	local port=$1

	shift
	openssl s_client -connect "$SH_HOST:$port" -verify_return_error \
	    -CAfile "$SH_CA" -verify_hostname "$SH_NAME" \
	    -servername "$SH_NAME" "$@" < /dev/null > "$out" 2>&1
}
check "SMTPS presents a good certificate" \
    eval 'tls_to "$SH_PORT_SMTPS" &&
    grep -q "Verify return code: 0 (ok)" "$out"'
check "SUBMISSION presents a good certificate after STARTTLS" \
    eval 'tls_to "$SH_PORT_SUBMISSION" -starttls smtp &&
    grep -q "Verify return code: 0 (ok)" "$out"'
check "SMTPS_EC presents a good ECDSA P-256 certificate" \
    eval 'tls_to "$SH_PORT_SMTPS_EC" &&
    grep -q "Verify return code: 0 (ok)" "$out" &&
    grep -q "a:PKEY: id-ecPublicKey, 256 (bit)" "$out"'
check "EXPIRED fails: certificate has expired" \
    eval '! tls_to "$SH_PORT_EXPIRED" &&
    grep -q "verify error:num=10:certificate has expired" "$out"'
check "WRONGNAME fails: hostname mismatch" \
    eval '! tls_to "$SH_PORT_WRONGNAME" &&
    grep -q "verify error:num=62:hostname mismatch" "$out"'
check "WRONGNAME is otherwise fine (CA-signed)" \
    eval 'openssl s_client -connect "$SH_HOST:$SH_PORT_WRONGNAME" \
    -verify_return_error -CAfile "$SH_CA" < /dev/null > "$out" 2>&1'
check "SELFSIGNED fails: self-signed certificate" \
    eval '! tls_to "$SH_PORT_SELFSIGNED" &&
    grep -q "verify error:num=18:self.signed certificate" "$out"'
check "the TLS session cache is in place" \
    test -f "$SH_DIR/data/smtpd_scache.db"

# --- secrets and idempotence
check "the password is in no log" \
    eval '! grep -rqF "$SH_PASS" "$SH_DIR/log"'
check "setup and start again on a running host" \
    eval 'smarthost_setup "$SH_DIR" && smarthost_start &&
    swaks_to "$SH_PORT_PLAIN" "bob@$SH_DOMAIN" -a PLAIN &&
    lands bob 3 "Subject: test"'
# The same certificates: mkcerts.sh keeps a complete set, which saves
# the 2 s it takes to make the RSA keys.
mkdir -p "$work/sh2" && cp -a "$SH_CERTS" "$work/sh2/"
check "a second host on the same ports refuses to start" \
    eval '! (smarthost_setup "$work/sh2" >/dev/null &&
    SH2_DIR=$SH_DIR && smarthost_start) 2> "$out" &&
    grep -q "ports in use" "$out"'
SH2_DIR=$work/sh2
check "... and it left no process" \
    eval '(SH_DIR=$SH2_DIR; _sh_vars; [ -z "$(_sh_procs)" ])'

# --- stop
check "stop" smarthost_stop
check "... leaves no process" test -z "$(_sh_procs)"
check "... and no port open" \
    test "$(_sh_not_listening $(_sh_ports))" = " $(_sh_ports)"
check "stop again is harmless" smarthost_stop
check "/etc/postfix and /etc/dovecot unchanged" \
    test "$(etc_state)" = "$etc_before"
finish
