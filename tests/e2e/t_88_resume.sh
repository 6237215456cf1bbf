# t_88_resume.sh: TLS sessions kept in the spool (tls-session) and
# resumed by the next connection; never one made for another server,
# expired or damaged. -bv says "session resumed" when the server took
# the session ID offered back.

rconf=$(hostconf resume implicit "$SH_PORT_SMTPS")
rspool=$E2E_WORK/spool-resume
rfile=$rspool/tls-session

# resumed CONF: -bv succeeds and says the session was resumed.
resumed() {
	ferry_run "$1" -bv < /dev/null
	expect_rc 0 && grep -q "session resumed" "$OUT"
}

ferry_run "$rconf" -bv < /dev/null
check "first connection: full handshake" eval \
    '[ "$RC" -eq 0 ] && grep -q "TLS 1.2" "$OUT" && ! grep -q resumed "$OUT"'
check "session kept in the spool" test -s "$rfile"
check "session file is 0600" eval '[ "$(stat -c %a "$rfile")" = 600 ]'
check "second connection resumes" resumed "$rconf"

# consecutive deliveries, one process each: both land
msg=$(mkmsg resume "resume@$SH_DOMAIN")
ferry_run "$rconf" -odi -f "s@$SH_DOMAIN" "resume@$SH_DOMAIN" < "$msg"
check "delivery on a resumed session: exit 0" expect_rc 0
ferry_run "$rconf" -odi -f "s@$SH_DOMAIN" "resume@$SH_DOMAIN" < "$msg"
check "second delivery: exit 0" expect_rc 0
check "both deliveries landed" landed resume 2

# A session made for 465 offered to the ECDSA port (same host, same
# name, same CA): not used; the new one then replaces it.
oconf=$(hostconf resume-other implicit "$SH_PORT_SMTPS_EC")
cp -p "$rfile" "$E2E_WORK/spool-resume-other/tls-session"
ferry_run "$oconf" -bv < /dev/null
check "session of another port not used" eval \
    '[ "$RC" -eq 0 ] && ! grep -q resumed "$OUT"'
check "that port then resumes its own" resumed "$oconf"
# the same port with a different trust (a pin) is another binding too
pin=$(openssl x509 -in "$SH_CERTS/good.crt" -noout -pubkey |
    openssl pkey -pubin -outform der | openssl dgst -sha256 -binary |
    base64)
pconf=$(hostconf resume-pin implicit "$SH_PORT_SMTPS" "tls_pin sha256:$pin")
cp -p "$rfile" "$E2E_WORK/spool-resume-pin/tls-session"
ferry_run "$pconf" -bv < /dev/null
check "session made without the pin not used with it" eval \
    '[ "$RC" -eq 0 ] && ! grep -q resumed "$OUT"'

# Expired: the record's time set back 2 h and its checksum redone; then
# damaged: one bit of the master secret flipped. Each is ignored, and
# the delivery goes on with a full handshake.
age_session() {	# FILE SECONDS
	python3 - "$1" "$2" <<'EOF'
import hashlib, struct, sys
f, back = sys.argv[1], int(sys.argv[2])
b = bytearray(open(f, 'rb').read())
made = struct.unpack('>q', bytes(b[8:16]))[0] - back
b[8:16] = struct.pack('>q', made)
b[-32:] = hashlib.sha256(bytes(b[:-32])).digest()
open(f, 'wb').write(bytes(b))
EOF
}
check "ageing the session file" age_session "$rfile" 7200
ferry_run "$rconf" -bv < /dev/null
check "expired session not used" eval \
    '[ "$RC" -eq 0 ] && ! grep -q resumed "$OUT"'
check "fresh session resumes again" resumed "$rconf"
check "ageing by 30 min keeps it" age_session "$rfile" 1800
check "session 30 min old still resumes" resumed "$rconf"
python3 -c 'import sys
f = sys.argv[1]; b = bytearray(open(f, "rb").read()); b[100] ^= 1
open(f, "wb").write(bytes(b))' "$rfile"
ferry_run "$rconf" -bv < /dev/null
check "damaged session not used" eval \
    '[ "$RC" -eq 0 ] && ! grep -q resumed "$OUT"'
: > "$rfile"
ferry_run "$rconf" -odi -f "s@$SH_DOMAIN" "resume@$SH_DOMAIN" < "$msg"
check "empty session file: delivery still works" expect_rc 0
check "empty session file: landed" landed resume 3
check "empty session file replaced" eval \
    '[ "$(stat -c %s "$rfile")" -gt 0 ]'
