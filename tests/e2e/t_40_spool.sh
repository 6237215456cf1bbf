# t_40_spool.sh: the queue: a smart host that is down, the runner,
# per-recipient results and bounces, expiry, locks, spool trouble.

# bodies LOCALPART: the body of every message that landed, one a line.
bodies() {
	local f
	for f in $(smarthost_mail_files "$1"); do body "$f"; done
}

# -- 50 messages while the smart host is down, one -q when it is back
conf=$(hostconf down implicit "$SH_PORT_SMTPS" "timeout 5")
smarthost_stop >/dev/null
rcs=
for i in $(seq 50); do
	printf 'Subject: down %s\n\nmessage %s\n' "$i" "$i" > "$E2E_WORK/down.eml"
	ferry_run "$conf" -f "s@$SH_DOMAIN" "down@$SH_DOMAIN" \
	    < "$E2E_WORK/down.eml"
	rcs="$rcs$RC"
done
check "host down: 50 sends exit 0" eval '[ "$rcs" = "$(printf "0%.0s" $(seq 50))" ]'
ferry_run "$conf" -bp < /dev/null
check "host down: mailq lists 50" grep -q "in 50 Requests" "$OUT"
check "host down: mailq says why" grep -q "Connection refused" "$OUT"
smarthost_start >/dev/null || nok "smart host restart"
mark=$(log_mark "$(smarthost_log)")
ferry_run "$conf" -q < /dev/null
check "host back: -q exits 0" expect_rc 0
check "host back: 50 landed" landed down 50
sleep 1
check "host back: each exactly once" eval '[ "$(bodies down | sort -u |
    wc -l)" -eq 50 ] && [ "$(smarthost_mail_count down)" -eq 50 ]'
check "host back: one connection" eval '[ "$(log_since "$(smarthost_log)" \
    "$mark" | grep -c "smtps/smtpd.*: connect from")" -eq 1 ]'
check "host back: queue empty" eval '[ "$(queued "$conf")" -eq 0 ]'
ferry_run "$conf" -bp < /dev/null
check "host back: mailq says empty" grep -q "Mail queue is empty" "$OUT"

# -- delivery modes
conf=$(hostconf modes implicit "$SH_PORT_SMTPS")
msg=$(mkmsg modes "modes@$SH_DOMAIN")
ferry_run "$conf" -odq -f "s@$SH_DOMAIN" "modes@$SH_DOMAIN" < "$msg"
check "-odq: exit 0, queued, not sent" eval '[ "$RC" -eq 0 ] &&
    [ "$(queued "$conf")" -eq 1 ] && [ "$(smarthost_mail_count modes)" -eq 0 ]'
ferry_run "$conf" -q < /dev/null
check "-odq then -q: delivered" landed modes 1
ferry_run "$conf" -odb -f "s@$SH_DOMAIN" "modes@$SH_DOMAIN" < "$msg"
check "-odb: exit 0 at once" expect_rc 0
check "-odb: delivered in the background" landed modes 2

# -q1s stays in the foreground and runs the queue every second
ferry_run "$conf" -odq -f "s@$SH_DOMAIN" "modes@$SH_DOMAIN" < "$msg"
FERRY_WRAP="timeout 3" ferry_run "$conf" -q1s < /dev/null
check "-q1s: ran until stopped" expect_rc 124
check "-q1s: delivered on its first pass" landed modes 3
ferry_run "$conf" -q0 < /dev/null
check "-q0: a bad interval is a usage error" expect_rc 64

# -- per-recipient results, and the bounce that comes back
conf=$(hostconf part implicit "$SH_PORT_SMTPS")
msg=$(mkmsg part "part@$SH_DOMAIN")
ferry_run "$conf" -f "bouncer@$SH_DOMAIN" "partok@$SH_DOMAIN" \
    "reject@$SH_DOMAIN" "tempfail@$SH_DOMAIN" < "$msg"
check "mixed results: exit 0" expect_rc 0
check "mixed results: 250 recipient got it" landed partok 1
check "mixed results: bounce came back" landed bouncer 1
dsn=$LANDED
check "bounce: sent with <> sender" grep -q '^Return-Path: <MAILER-DAEMON>' \
    "$dsn"
check "bounce: from MAILER-DAEMON" grep -q '^From: .*<MAILER-DAEMON@' "$dsn"
check "bounce: multipart/report" grep -q \
    'Content-Type: multipart/report; report-type=delivery-status' "$dsn"
check "bounce: names the refused recipient" grep -q \
    '^Final-Recipient: rfc822; reject@ferry.test' "$dsn"
check "bounce: Action and Status" eval 'grep -q "^Action: failed" "$dsn" &&
    grep -q "^Status: 5.1.1" "$dsn"'
check "bounce: the server's reply" grep -q \
    '^Diagnostic-Code: smtp; 550 5.1.1' "$dsn"
check "bounce: the original headers" grep -q '^Subject: e2e part.eml' "$dsn"
check "bounce: not the 4xx recipient" eval '! grep -q "tempfail@" "$dsn"'
check "4xx recipient: still queued" eval '[ "$(queued "$conf")" -eq 1 ]'
ferry_run "$conf" -bp < /dev/null
check "4xx recipient: mailq shows it alone" eval 'grep -q "tempfail@" "$OUT" &&
    ! grep -q "partok@\|reject@" "$OUT" && grep -q "tries 1" "$OUT"'

# -- expiry: max_queue_age passes, the sender hears of it
conf=$(hostconf expire implicit "$SH_PORT_SMTPS" "max_queue_age 1s")
msg=$(mkmsg expire "tempfail@$SH_DOMAIN")
ferry_run "$conf" -f "expirer@$SH_DOMAIN" "tempfail@$SH_DOMAIN" < "$msg"
sleep 2
ferry_run "$conf" -q < /dev/null
check "expired: bounce came back" landed expirer 1
check "expired: Status 4.4.7" grep -q "^Status: 4.4.7" "$LANDED"
check "expired: queue empty" eval '[ "$(queued "$conf")" -eq 0 ]'

# -- a bounce is never bounced: it goes to failed/ and stays listed
conf=$(hostconf nullsender implicit "$SH_PORT_SMTPS")
ferry_run "$conf" -f "" "reject@$SH_DOMAIN" < "$msg"
check "<> sender refused: exit 0" expect_rc 0
ferry_run "$conf" -bp < /dev/null
check "<> sender refused: in failed/, listed" eval 'grep -q "!" "$OUT" &&
    grep -q "failed/" "$OUT"'
check "<> sender refused: no bounce queued" eval '[ "$(queued "$conf")" -eq 0 ]'

# -- a second runner skips what the first holds
conf=$(hostconf lock implicit "$SH_PORT_SMTPS")
msg=$(mkmsg lock "lock@$SH_DOMAIN")
ferry_run "$conf" -odq -f "s@$SH_DOMAIN" "lock@$SH_DOMAIN" < "$msg"
d=$(ls "$E2E_WORK"/spool-lock/d* | head -1)
flock "$d" sleep 3 &
lockpid=$!
sleep 0.5
ferry_run "$conf" -q < /dev/null
check "locked entry: skipped" eval '[ "$(queued "$conf")" -eq 1 ] &&
    [ "$(smarthost_mail_count lock)" -eq 0 ]'
wait "$lockpid"
ferry_run "$conf" -q < /dev/null
check "lock released: delivered" landed lock 1

# -- spool trouble: missing, read-only, full. One line, nothing left.
msg=$(mkmsg spool "spool@$SH_DOMAIN")
conf=$(hostconf nospool implicit "$SH_PORT_SMTPS" \
    "spool $E2E_WORK/no-such-spool")
ferry_run "$conf" -f "s@$SH_DOMAIN" "spool@$SH_DOMAIN" < "$msg"
check "missing spool: exit 73" expect_rc 73
check "missing spool: one clear line" eval '[ "$(wc -l < "$ERR")" -eq 1 ] &&
    grep -q "no-such-spool: No such file" "$ERR"'
mnt=$E2E_WORK/mnt-ro
mkdir -p "$mnt"
mount -t tmpfs -o size=1m,mode=700 none "$mnt" && mount -o remount,ro "$mnt"
conf=$(hostconf rospool implicit "$SH_PORT_SMTPS" "spool $mnt")
ferry_run "$conf" -f "s@$SH_DOMAIN" "spool@$SH_DOMAIN" < "$msg"
check "read-only spool: exit 75" expect_rc 75
check "read-only spool: says so" grep -q "Read-only file system" "$ERR"
umount "$mnt"
mnt=$E2E_WORK/mnt-full
mkdir -p "$mnt"
mount -t tmpfs -o size=64k,mode=700 none "$mnt"
conf=$(hostconf fullspool implicit "$SH_PORT_SMTPS" "spool $mnt")
{ printf 'Subject: too big\n\n'; head -c 300000 /dev/zero | tr '\0' x |
    fold -w 70; } > "$E2E_WORK/full.eml"
ferry_run "$conf" -f "s@$SH_DOMAIN" "spool@$SH_DOMAIN" < "$E2E_WORK/full.eml"
check "full spool: exit 75" expect_rc 75
check "full spool: says so" grep -q "No space left" "$ERR"
check "full spool: nothing left behind" eval '[ -z "$(ls -A "$mnt" |
    grep -v "^failed$")" ]'
umount "$mnt"
