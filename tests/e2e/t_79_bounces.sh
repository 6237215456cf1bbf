# t_79_bounces.sh: bounce discipline (issue 7 item 6). Failures to one
# sender inside bounce_window merge into one DSN listing each message;
# no bounce of a bounce; failed/ capped by count and by age. Also the
# retry schedule (item 7). The test Postfix refuses reject@ with 550
# and tempfail@ with 450.

# in_bounces WHO TEXT: how many of WHO's mails contain the line TEXT.
in_bounces() {
	smarthost_mail_files "$1" | xargs -r cat | grep -c -- "$2" || true
}
failed_n() { find "$1/failed" -maxdepth 1 -name 'q*' | wc -l; }

# -- 20 failures queued, one queue run: exactly one DSN listing all 20
conf=$(hostconf merge implicit "$SH_PORT_SMTPS" "bounce_window 1h")
for i in $(seq 20); do
	printf 'Subject: merge %s\n\nbody %s\n' "$i" "$i" > "$E2E_WORK/m.eml"
	ferry_run "$conf" -odq -f "merger@$SH_DOMAIN" "reject@$SH_DOMAIN" \
	    < "$E2E_WORK/m.eml"
done
ferry_run "$conf" -q < /dev/null
check "merge: -q exits 0" expect_rc 0
check "merge: a bounce came back" landed merger 1
sleep 1
check "merge: exactly one bounce" eval \
    '[ "$(smarthost_mail_count merger)" -eq 1 ]'
dsn=$LANDED
check "merge: subject counts 20 messages" grep -q \
    '^Subject: Undelivered Mail Returned to Sender (20 messages)' "$dsn"
check "merge: 20 recipient groups" eval '[ "$(grep -c \
    "^Final-Recipient: rfc822; reject@$SH_DOMAIN" "$dsn")" -eq 20 ]'
check "merge: each message named once" eval 'for i in $(seq 20); do
    [ "$(grep -c "^  Subject: merge $i\$" "$dsn")" -eq 1 ] || exit 1; done'
check "merge: 20 distinct queue IDs" eval '[ "$(sed -n \
    "s/^X-Ferry-Queue-ID: //p" "$dsn" | sort -u | wc -l)" -eq 20 ]'
check "merge: status and diagnostic per recipient" eval '[ "$(grep -c \
    "^Status: 5.1.1" "$dsn")" -eq 20 ] && [ "$(grep -c \
    "^Diagnostic-Code: smtp; 550 5.1.1" "$dsn")" -eq 20 ]'
check "merge: one report, no headers part" eval 'grep -c \
    "^Content-Type: message/delivery-status" "$dsn" | grep -qx 1 &&
    ! grep -q "^Content-Type: text/rfc822-headers" "$dsn"'
check "merge: queue empty, failed/ empty" eval '[ "$(queued "$conf")" -eq 0 ] &&
    [ "$(failed_n "$E2E_WORK/spool-merge")" -eq 0 ]'

# -- 20 foreground failures: the first bounces at once, the rest wait
# for the window, then go as one
conf=$(hostconf storm implicit "$SH_PORT_SMTPS" "bounce_window 1h")
mark=$(log_mark "$SYSLOG_FILE")
for i in $(seq 20); do
	printf 'Subject: storm %s\n\nbody %s\n' "$i" "$i" > "$E2E_WORK/s.eml"
	ferry_run "$conf" -f "storm@$SH_DOMAIN" "reject@$SH_DOMAIN" \
	    < "$E2E_WORK/s.eml"
done
check "storm: sends exit 0" expect_rc 0
check "storm: the first bounce came back" landed storm 1
ferry_run "$conf" -q < /dev/null
sleep 1
check "storm: window open: still one bounce, 19 held" eval \
    '[ "$(smarthost_mail_count storm)" -eq 1 ] &&
    [ "$(queued "$conf")" -eq 19 ]'
check "storm: the first is the single-message form" grep -q \
    '^Subject: storm 1$' "$LANDED"
ferry_run "$conf" -bp < /dev/null
check "storm: mailq shows the held bounces" eval '[ "$(grep -c \
    "reject@$SH_DOMAIN (failed, bounce held)" "$OUT")" -eq 19 ]'
check "storm: 20 bounced recipients logged" eval '[ "$(log_since \
    "$SYSLOG_FILE" "$mark" | grep -c "to=<reject@$SH_DOMAIN>.*status=bounced")" \
    -eq 20 ]'
# the same spool with a 1s window, once it has passed
sed 's/^bounce_window .*/bounce_window 1s/' "$conf" > "$conf.1s"
chmod 600 "$conf.1s"
sleep 2
ferry_run "$conf.1s" -q < /dev/null
check "storm: window over: the merged bounce came" landed storm 2
sleep 1
check "storm: two bounces in all" eval \
    '[ "$(smarthost_mail_count storm)" -eq 2 ]'
check "storm: the second lists the other 19" grep -q \
    '^Subject: Undelivered Mail Returned to Sender (19 messages)' "$LANDED"
check "storm: every message in exactly one bounce" eval 'for i in $(seq 20)
    do [ "$(in_bounces storm "Subject: storm $i\$")" -eq 1 ] || exit 1; done'
check "storm: queue empty" eval '[ "$(queued "$conf")" -eq 0 ]'
ferry_run "$conf.1s" -q < /dev/null
sleep 1
check "storm: no bounce sent twice" eval \
    '[ "$(smarthost_mail_count storm)" -eq 2 ]'

# -- a crash after the DSN was committed, before its message was
# marked: the next run finishes the marking and sends it, once
conf=$(hostconf crashb implicit "$SH_PORT_SMTPS" "bounce_window 0")
cspool=$E2E_WORK/spool-crashb
printf 'Subject: crash bounce\n\nbody\n' > "$E2E_WORK/c.eml"
ferry_run "$conf" -odq -f "crashb@$SH_DOMAIN" "reject@$SH_DOMAIN" \
    "tempfail@$SH_DOMAIN" < "$E2E_WORK/c.eml"
src=$(ls "$cspool" | sed -n 's/^q//p')
# renames in -q: 1 the confinement marker (confining.PID to
# confined.PID), 2 the new TLS session kept (a fresh spool has none),
# 3 the message's outcome, 4 the DSN's commit, 5 the message marked (it
# stays: tempfail@ is pending). Kill at the 5th.
"$FERRY_ROOT/scripts/need" strace >/dev/null || nok "strace missing"
FERRY_WRAP="strace -qq -o /dev/null -e trace=rename,renameat \
    -e inject=rename,renameat:signal=KILL:when=5" ferry_run "$conf" -q \
    < /dev/null
check "crash: killed mid-bounce" eval '[ "$RC" -ne 0 ]'
check "crash: DSN committed naming it, bounce still owed" eval '[ "$(queued \
    "$conf")" -eq 2 ] && grep -q "^covers $src" "$cspool"/q* &&
    grep -q "^rcpt refused <reject@" "$cspool/q$src"'
ferry_run "$conf" -q < /dev/null
check "crash: the bounce came back" landed crashb 1
ferry_run "$conf" -q < /dev/null
sleep 1
check "crash: exactly one bounce" eval \
    '[ "$(smarthost_mail_count crashb)" -eq 1 ]'
check "crash: only the 4xx message left, marked" eval '[ "$(queued \
    "$conf")" -eq 1 ] && grep -q "^rcpt failed <reject@" "$cspool/q$src"'

# -- no bounce of a bounce: the sender's own address is refused
conf=$(hostconf bob implicit "$SH_PORT_SMTPS")
mark=$(log_mark "$SYSLOG_FILE")
printf 'Subject: bob\n\nbody\n' > "$E2E_WORK/b.eml"
ferry_run "$conf" -f "reject@$SH_DOMAIN" "reject@$SH_DOMAIN" \
    < "$E2E_WORK/b.eml"
ferry_run "$conf" -q < /dev/null
check "bounce refused: kept in failed/, logged" eval '[ "$(failed_n \
    "$E2E_WORK/spool-bob")" -eq 1 ] && log_since "$SYSLOG_FILE" "$mark" |
    grep -q "undeliverable bounce moved to failed/"'
check "bounce refused: it is the DSN, with <>" eval 'grep -q "^from <>" \
    "$E2E_WORK"/spool-bob/failed/q* && grep -q "^Auto-Submitted: auto-replied" \
    "$E2E_WORK"/spool-bob/failed/d*'
check "bounce refused: no bounce of it, queue empty" eval '[ "$(queued \
    "$conf")" -eq 0 ] && [ "$(log_since "$SYSLOG_FILE" "$mark" |
    grep -c "sender non-delivery notification")" -eq 1 ]'
ferry_run "$conf" -f "" "reject@$SH_DOMAIN" < "$E2E_WORK/b.eml"
check "<> sender refused: to failed/, no bounce" eval '[ "$(failed_n \
    "$E2E_WORK/spool-bob")" -eq 2 ] && [ "$(queued "$conf")" -eq 0 ]'

# -- -N never (RFC 3461): the sender asked for no bounce
conf=$(hostconf never implicit "$SH_PORT_SMTPS" "bounce_window 0")
ferry_run "$conf" -N never -f "never@$SH_DOMAIN" "reject@$SH_DOMAIN" \
    < "$E2E_WORK/b.eml"
ferry_run "$conf" -q < /dev/null
sleep 1
check "-N never: no bounce, nothing kept" eval '[ "$(smarthost_mail_count \
    never)" -eq 0 ] && [ "$(queued "$conf")" -eq 0 ] &&
    [ "$(failed_n "$E2E_WORK/spool-never")" -eq 0 ]'

# -- failed/ capped: by count (oldest first), then by age
conf=$(hostconf cap implicit "$SH_PORT_SMTPS" "failed_max_count 3" \
    "failed_max_age 1d")
cspool=$E2E_WORK/spool-cap
for i in 1 2 3 4 5; do
	printf 'Subject: cap %s\n\nbody\n' "$i" > "$E2E_WORK/c.eml"
	ferry_run "$conf" -f "" "reject@$SH_DOMAIN" < "$E2E_WORK/c.eml"
done
check "cap: five in failed/ before a run" eval \
    '[ "$(failed_n "$cspool")" -eq 5 ]'
ids=$(ls "$cspool/failed" | sed -n 's/^q//p' | sort)
h=10
for id in $ids; do	# oldest first: 10h, 9h, ... ago
	touch -d "-$h hours" "$cspool/failed/q$id"
	h=$((h - 1))
done
mark=$(log_mark "$SYSLOG_FILE")
ferry_run "$conf" -q < /dev/null
old2=$(echo "$ids" | head -2)
check "cap: count: three left" eval '[ "$(failed_n "$cspool")" -eq 3 ]'
check "cap: count: the two oldest went, d files too" eval 'for id in $old2; do
    [ ! -e "$cspool/failed/q$id" ] && [ ! -e "$cspool/failed/d$id" ] ||
    exit 1; done'
check "cap: count: a log line each" eval '[ "$(log_since "$SYSLOG_FILE" \
    "$mark" | grep -c "removed from failed/: more than failed_max_count")" \
    -eq 2 ]'
young=$(echo "$ids" | tail -1)
touch -d "-2 days" "$cspool/failed/q$young"
mark=$(log_mark "$SYSLOG_FILE")
ferry_run "$conf" -q < /dev/null
check "cap: age: the 2-day-old one went, two left" eval '[ ! -e \
    "$cspool/failed/q$young" ] && [ "$(failed_n "$cspool")" -eq 2 ]'
check "cap: age: logged" eval 'log_since "$SYSLOG_FILE" "$mark" |
    grep -q "$young: removed from failed/: older than failed_max_age"'
conf=$(hostconf badcap implicit "$SH_PORT_SMTPS" "failed_max_count lots")
ferry_run "$conf" -q < /dev/null
check "cap: a bad failed_max_count is a config error" eval \
    '[ "$RC" -eq 78 ] && grep -q "failed_max_count" "$ERR"'

# -- retry schedule: each wait as configured, the last step repeats
conf=$(hostconf retry implicit "$SH_PORT_SMTPS" "retry 1m 15m 1h")
rspool=$E2E_WORK/spool-retry
printf 'Subject: retry\n\nbody\n' > "$E2E_WORK/r.eml"
ferry_run "$conf" -f "retrier@$SH_DOMAIN" "tempfail@$SH_DOMAIN" \
    < "$E2E_WORK/r.eml"
# wait WANT: the stored next retry is WANT seconds after the q file's
# last write (the try's end), give or take the second it straddled
wait_is() {
	local q next t
	q=$(ls "$rspool"/q*)
	next=$(sed -n 's/^next //p' "$q")
	t=$(stat -c %Y "$q")
	[ $((next - t)) -ge $(($1 - 1)) ] && [ $((next - t)) -le "$1" ]
}
check "retry: after try 1, 1m" wait_is 60
for want in 900 3600 3600; do
	ferry_run "$conf" -q < /dev/null
	check "retry: then ${want}s" wait_is "$want"
done
check "retry: tries counted" grep -q '^tries 4$' "$rspool"/q*
