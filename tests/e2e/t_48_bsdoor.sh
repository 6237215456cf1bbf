# t_48_bsdoor.sh: -bs is one message path with stdin (issue 12 item 4,
# issue 15 item 1): the same fix-up (Date, Message-ID, From), the same
# checks (NUL, bare CR in a header, lines over 998), and the same
# sender trust: a user who is not trusted and claims another sender in
# MAIL FROM gets an X-Authentication-Warning, as -f gives one.

bsconf=$(hostconf bsdoor implicit "$SH_PORT_SMTPS")

# bs_session FILE LINE...: an SMTP dialogue for -bs, CRLF line ends.
bs_session() {
	local f=$1
	shift
	printf '%s\r\n' "$@" > "$f"
}

# A bare message: the fix-up adds what it lacks
bs_session "$E2E_WORK/bsfix.in" "EHLO client" \
    "MAIL FROM:<bsfix-from@$SH_DOMAIN>" "RCPT TO:<bsfix@$SH_DOMAIN>" \
    "DATA" "Subject: bare over -bs" "" "bare body" "." "QUIT"
ferry_run "$bsconf" -bs < "$E2E_WORK/bsfix.in"
check "-bs fix-up: exit 0, queued" eval 'expect_rc 0 &&
    grep -q "^250 2.0.0 Ok: queued as" "$OUT"'
check "-bs fix-up: landed" landed bsfix 1
for h in Date Message-ID; do
	check "-bs fix-up: $h added" grep -q "^$h: " "$LANDED"
done
check "-bs fix-up: From is the MAIL FROM" \
    grep -q "^From: bsfix-from@$SH_DOMAIN" "$LANDED"
check "-bs fix-up: root gets no warning" \
    eval '! grep -q "^X-Authentication-Warning" "$LANDED"'

# A NUL byte: refused for good (5xx), nothing queued
bs_session "$E2E_WORK/bsnul.in" "EHLO client" \
    "MAIL FROM:<s@$SH_DOMAIN>" "RCPT TO:<bsnul@$SH_DOMAIN>" "DATA" \
    "Subject: nul" "" "a $(printf 'x\001y') line" "." "QUIT"
sed -i 's/\x01/\x00/' "$E2E_WORK/bsnul.in"
ferry_run "$bsconf" -odq -bs < "$E2E_WORK/bsnul.in"
check "-bs NUL: 554 with the reason" grep -q "^554 5.6.0 .*NUL" "$OUT"
check "-bs NUL: nothing queued" eval '[ "$(queued "$bsconf")" -eq 0 ]'

# A bare CR in a header
bs_session "$E2E_WORK/bscr.in" "EHLO client" \
    "MAIL FROM:<s@$SH_DOMAIN>" "RCPT TO:<bscr@$SH_DOMAIN>" "DATA" \
    "Subject: cr$(printf '\r')Bcc: hidden@$SH_DOMAIN" "" "x" "." "QUIT"
ferry_run "$bsconf" -odq -bs < "$E2E_WORK/bscr.in"
check "-bs bare CR in a header: 554" grep -q "^554 5.6.0 .*bare CR" "$OUT"
check "-bs bare CR in a header: nothing queued" \
    eval '[ "$(queued "$bsconf")" -eq 0 ]'

# A body line over 998: quoted-printable, as on stdin
long=$(printf 'w%.0s' $(seq 1500))
bs_session "$E2E_WORK/bslong.in" "EHLO client" \
    "MAIL FROM:<s@$SH_DOMAIN>" "RCPT TO:<bslong@$SH_DOMAIN>" "DATA" \
    "Subject: long" "" "$long" "." "QUIT"
ferry_run "$bsconf" -bs < "$E2E_WORK/bslong.in"
check "-bs long line: landed" landed bslong 1
check "-bs long line: quoted-printable, no line over 998" eval \
    'grep -q "^Content-Transfer-Encoding: quoted-printable" "$LANDED" &&
    [ "$(tr -d "\r" < "$LANDED" | awk "length > 998" | wc -l)" -eq 0 ]'

# Sender trust, as nobody through the setgid binary (t_70's layout)
grp=ferry-e2e
getent group "$grp" >/dev/null || groupadd -r "$grp" || nok "groupadd"
bdir=$E2E_WORK/bspriv
mkdir -p "$bdir/spool" "$bdir/etc"
install -m 2755 -g "$grp" "$FERRY" "$bdir/ferry"
chown root:"$grp" "$bdir/spool"
chmod 2770 "$bdir/spool"
install -m 0640 -g "$grp" "$E2E_WORK/password" "$bdir/password"
bpconf=$(hostconf bspriv implicit "$SH_PORT_SMTPS" "spool $bdir/spool")
sed -i "s|^password_file .*|password_file $bdir/password|" "$bpconf"
cp /etc/hosts /etc/passwd /etc/group "$bdir/etc/"
[ -e /etc/nsswitch.conf ] && cp /etc/nsswitch.conf "$bdir/etc/"
install -m 0640 -g "$grp" "$bpconf" "$bdir/etc/ferry.conf"
as_nobody="setpriv --reuid=nobody --regid=nogroup --clear-groups"
bs_session "$E2E_WORK/bstrust.in" "EHLO x" \
    "MAIL FROM:<ceo@$SH_DOMAIN>" "RCPT TO:<bstrust@$SH_DOMAIN>" "DATA" \
    "Subject: hi" "" "x" "." "QUIT"
FERRY_ETC=$bdir/etc FERRY_NOCONF=1 FERRY_BIN=$bdir/ferry \
    FERRY_WRAP=$as_nobody ferry_run "$bpconf" -bs < "$E2E_WORK/bstrust.in"
check "-bs as nobody: queued" eval 'expect_rc 0 &&
    grep -q "^250 2.0.0 Ok: queued as" "$OUT"'
check "-bs as nobody: landed as ceo@" eval 'landed bstrust 1 &&
    grep -q "^Return-Path: <ceo@$SH_DOMAIN>" "$LANDED"'
check "-bs as nobody: X-Authentication-Warning names nobody" grep -q \
    "^X-Authentication-Warning: .*: nobody set sender to ceo@$SH_DOMAIN using -bs" \
    "$LANDED"
check "-bs as nobody: Date and Message-ID added" eval \
    'grep -q "^Date: " "$LANDED" && grep -q "^Message-ID: " "$LANDED"'
# nobody's own address needs no warning
bs_session "$E2E_WORK/bsown.in" "EHLO x" \
    "MAIL FROM:<nobody@$(hostname)>" "RCPT TO:<bsown@$SH_DOMAIN>" "DATA" \
    "Subject: own" "" "x" "." "QUIT"
FERRY_ETC=$bdir/etc FERRY_NOCONF=1 FERRY_BIN=$bdir/ferry \
    FERRY_WRAP=$as_nobody ferry_run "$bpconf" -bs < "$E2E_WORK/bsown.in"
check "-bs as nobody, own address: no warning" eval 'landed bsown 1 &&
    ! grep -q "^X-Authentication-Warning" "$LANDED"'
