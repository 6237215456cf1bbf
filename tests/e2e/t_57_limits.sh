# t_57_limits.sh: server limits and provider throttling (issue 22).
# - 452 4.5.3 too many recipients (RFC 5321 4.5.3.1.10): the refused
#   recipients go in a further transaction on the same session, each
#   recipient gets the message once; against faultd (DATA, CHUNKING,
#   no PIPELINING) and a real Postfix with smtpd_recipient_limit 10.
# - 454/421 throttling (SES, Gmail): the run stops, the rest stays
#   queued untouched; a sending quota's 5xx (5.4.5, Office 365's
#   SubmissionQuotaExceeded) is deferred unless quota_replies bounce.
# - max_messages_per_session and send_rate pace a queue run.

. "$FERRY_ROOT/tests/e2e/lib/fault.sh"
lport=$((SH_PORT_BASE + 63))	# faultd
pxport=$((SH_PORT_BASE + 64))	# Postfix, smtpd_recipient_limit 10
fault_start lim "$lport" implicit >/dev/null || nok "fault server start"
limconf() {
	mkconf "$1" "smarthost localhost" "port $lport" \
	    "tls implicit" "tls_builtin_ca no" "tls_ca_file $SH_CA" \
	    "user $SH_USER" "password_file $E2E_WORK/password" \
	    "auth plain" "timeout 5" "bounce_window 0" "${@:2}"
}
# lim_rcpts PREFIX N: PREFIX1@ ... PREFIXN@ in the test domain
lim_rcpts() {
	local i
	for i in $(seq "$2"); do printf '%s%s@%s\n' "$1" "$i" "$SH_DOMAIN"; done
}
# lim_each_once TAG PREFIX N: faultd saved TAG once for each recipient
lim_each_once() {
	local got
	got=$(fault_mail_files lim | xargs -r grep -l -- "$1" |
	    xargs -r grep -h '^X-Fault-To:' | sort | uniq -c |
	    awk -v p="<$2" 'index($3, p) == 1 { n++; if ($1 != 1) bad++ }
	    END { print n + 0, bad + 0 }')
	[ "$got" = "$3 0" ] && return 0
	echo "     recipients seen, of them more than once: $got (want $3 0)"
	return 1
}
lim_since() { log_since "$(fault_log lim)" "$1"; }

# -- a queue run: 25 recipients against a limit of 10, each mode
for mode in data chunking nopipe; do
	case $mode in
	data) opts=() ;;
	chunking) opts=(chunking) ;;
	nopipe) opts=("ehlo-drop PIPELINING") ;;
	esac
	conf=$(limconf "lim-q-$mode")
	tag="lim-q-$mode-25"
	printf 'Subject: %s\n\nbody %s\n' "$tag" "$tag" > "$E2E_WORK/lim.eml"
	fault_rules lim
	# shellcheck disable=SC2046
	ferry_run "$conf" -odq -f "s@$SH_DOMAIN" \
	    $(lim_rcpts "q$mode-" 25) < "$E2E_WORK/lim.eml"
	fault_rules lim "rcpt-limit 10" "${opts[@]}"
	m=$(log_mark "$(fault_log lim)")
	ferry_run "$conf" -q < /dev/null
	check "452 $mode, queue run: exit 0, nothing left queued" eval \
	    'expect_rc 0 && [ "$(queued "$conf")" -eq 0 ]'
	check "452 $mode, queue run: each of 25 recipients once" \
	    lim_each_once "body $tag" "q$mode-" 25
	check "452 $mode, queue run: one session, three transactions" eval \
	    '[ "$(lim_since "$m" | grep -c "connect from")" -eq 1 ] &&
	    [ "$(lim_since "$m" | grep -c "saved ")" -eq 3 ]'
done

# -- one delivery: over 100 recipients, all in one session; 25 (QUIT
# went with the data) the rest at once over a new one
conf=$(limconf lim-odi)
for n in 150 25; do
	tag="lim-odi-$n"
	printf 'Subject: %s\n\nbody %s\n' "$tag" "$tag" > "$E2E_WORK/lim.eml"
	fault_rules lim "rcpt-limit 10"
	m=$(log_mark "$(fault_log lim)")
	# shellcheck disable=SC2046
	ferry_run "$conf" -odi -f "s@$SH_DOMAIN" $(lim_rcpts "i$n-" "$n") \
	    < "$E2E_WORK/lim.eml"
	[ "$n" -eq 150 ] && check "452 -odi 150 recipients: one session" \
	    eval '[ "$(lim_since "$m" | grep -c "connect from")" -eq 1 ]'
	check "452 -odi $n recipients: exit 0, nothing queued" eval \
	    'expect_rc 0 && [ "$(queued "$conf")" -eq 0 ]'
	check "452 -odi $n recipients: each once" \
	    lim_each_once "body $tag" "i$n-" "$n"
done

# -- 452 mixed with a refusal and a deferral: only the 452s go again.
# faultd counts accepted recipients against the limit, as Postfix does:
# transaction 1: x1 250, x2 550, x3 450, x4 x5 250, x6 x7 x8 452;
# transaction 2: x6 250, x7 550 (rcpt#2), x8 450 (rcpt#3).
conf=$(limconf lim-mix)
tag=lim-mix
printf 'Subject: %s\n\nbody %s\n' "$tag" "$tag" > "$E2E_WORK/lim.eml"
fault_rules lim "rcpt-limit 3" "rcpt#2 550 5.1.1 nobody here" \
    "rcpt#3 450 4.2.1 busy"
# shellcheck disable=SC2046
ferry_run "$conf" -odi -f "s@$SH_DOMAIN" $(lim_rcpts "x" 8) \
    < "$E2E_WORK/lim.eml"
# lim_got TAG: who got TAG (not in a bounce), "N <addr>" a line each
lim_got() {
	fault_mail_files lim | xargs -r grep -l -- "body $1" |
	    xargs -r grep -L '^X-Fault-From: <>' |
	    xargs -r grep -h "^X-Fault-To:" | tr -d '\r' | sort | uniq -c |
	    awk '{ print $1, $3 }' | tr '\n' ' '
}
# lim_is TAG N WANT: lim_got TAG is WANT and N entries are queued
lim_is() {
	local got
	got="$(lim_got "$1")q$(queued "$conf")"
	[ "$got" = "$3q$2" ] && return 0
	echo "     got $got, want $3q$2"
	return 1
}
d=$SH_DOMAIN
check "452 mixed: x1 x4 x5 x6 delivered once each, x3 x8 kept" \
    lim_is "$tag" 1 "1 <x1@$d> 1 <x4@$d> 1 <x5@$d> 1 <x6@$d> "
fault_rules lim
ferry_run "$conf" -q < /dev/null
check "452 mixed: x3 x8 sent by the next run" lim_is "$tag" 0 \
    "1 <x1@$d> 1 <x3@$d> 1 <x4@$d> 1 <x5@$d> 1 <x6@$d> 1 <x8@$d> "
check "452 mixed: x2 and x7 bounced, in one bounce" eval '
    fault_mail_files lim | xargs -r grep -l "^X-Fault-From: <>" |
    xargs -r grep -l "^<x7@$d>: 550" | xargs -r grep -q "^<x2@$d>: 550"'

# -- a real Postfix: one more smtpd with smtpd_recipient_limit 10
pf=$SH_DIR/postfix
cp "$pf/master.cf" "$E2E_WORK/master.cf.t57"
_sh_svc "$pxport" limit10 good.key good.crt smtpd_tls_wrappermode=yes \
    smtpd_tls_security_level=encrypt smtpd_recipient_limit=10 \
    >> "$pf/master.cf"
postfix -c "$pf" reload >/dev/null 2>&1
for _ in $(seq 100); do
	[ -z "$(_sh_not_listening "$pxport")" ] && break
	sleep 0.1
done
check "postfix limit10 listens" eval '[ -z "$(_sh_not_listening "$pxport")" ]'
pxconf=$(hostconf lim-px implicit "$pxport" "bounce_window 0")
# pf_got PREFIX N: "messages recipients" over PREFIX1@ .. PREFIXN@
pf_got() {
	local i n=0 r=0 c
	for i in $(seq "$2"); do
		c=$(find "$SH_DIR/mail/$1$i/new" -type f 2>/dev/null | wc -l)
		n=$((n + c))
		[ "$c" -gt 0 ] && r=$((r + 1))
	done
	echo "$n $r"
}
# pf_each_once PREFIX N: each PREFIXi@ gets exactly one message
# (Postfix delivers in the background: wait up to 30 s for N)
pf_each_once() {
	local end=$((SECONDS + 30)) got
	while got=$(pf_got "$1" "$2") && [ "$got" != "$2 $2" ] &&
	    [ "${got%% *}" -le "$2" ] && [ "$SECONDS" -lt "$end" ]; do
		sleep 0.2
	done
	[ "$got" = "$2 $2" ] && return 0
	echo "     messages, recipients with one: $got (want $2 $2)"
	return 1
}
f=$(mkmsg lim-px "many")
# shellcheck disable=SC2046
ferry_run "$pxconf" -odq -f "s@$SH_DOMAIN" $(lim_rcpts "pq" 25) < "$f"
ferry_run "$pxconf" -q < /dev/null
check "postfix 452, queue run: exit 0, nothing queued" eval \
    'expect_rc 0 && [ "$(queued "$pxconf")" -eq 0 ]'
check "postfix 452, queue run: each of 25 once" pf_each_once pq 25
check "postfix 452: it refused the 11th (ferry's log)" eval \
    'grep -q "left over as too many" "$E2E_WORK/syslog"'
# shellcheck disable=SC2046
ferry_run "$pxconf" -odi -f "s@$SH_DOMAIN" $(lim_rcpts "pi" 110) < "$f"
check "postfix 452, -odi 110 recipients: exit 0, nothing queued" eval \
    'expect_rc 0 && [ "$(queued "$pxconf")" -eq 0 ]'
check "postfix 452, -odi: each of 110 once" pf_each_once pi 110
cp "$E2E_WORK/master.cf.t57" "$pf/master.cf"
postfix -c "$pf" reload >/dev/null 2>&1

# lim_queue CONF TAG N: N messages TAG-1..TAG-N queued for a@
lim_queue() {
	local i
	for i in $(seq "$3"); do
		printf 'Subject: %s-%s\n\nbody %s-%s\n' "$2" "$i" "$2" "$i" \
		    > "$E2E_WORK/lim.eml"
		ferry_run "$1" -odq -f "s@$SH_DOMAIN" "a@$SH_DOMAIN" \
		    < "$E2E_WORK/lim.eml"
	done
}
# lim_untried CONF: queued entries never tried (tries 0)
lim_untried() {
	grep -lx 'tries 0' "$(sed -n 's/^spool //p' "$1")"/q* 2>/dev/null |
	    wc -l
}
# lim_sent TAG N: how many of TAG-1..TAG-N arrived (not bounces)
lim_sent() {
	local i n=0
	for i in $(seq "$2"); do
		n=$((n + $(fault_mail_files lim | xargs -r grep -l \
		    -- "body $1-$i$(printf '\r')\$" |
		    xargs -r grep -L '^X-Fault-From: <>' | wc -l)))
	done
	echo "$n"
}

# -- 454 throttling (SES) at the second MAIL of a queue of 5
conf=$(limconf lim-454)
lim_queue "$conf" t454 5
fault_rules lim "mail#2 454 Throttling failure: Maximum sending rate exceeded."
m=$(log_mark "$(fault_log lim)")
ferry_run "$conf" -q < /dev/null
check "454 at mail#2: one sent, the run stopped, two MAILs in all" eval '
    expect_rc 0 && [ "$(lim_sent t454 5)" -eq 1 ] &&
    [ "$(lim_since "$m" | grep -c "< MAIL FROM")" -eq 2 ]'
check "454 at mail#2: four queued, three never tried" eval '
    [ "$(queued "$conf")" -eq 4 ] && [ "$(lim_untried "$conf")" -eq 3 ]'
check "454: the log says the run stopped and why" eval '
    grep -q "asked to slow down: .*454 Throttling failure" \
    "$E2E_WORK/syslog" &&
    grep -q "3 messages left queued for the next run" "$E2E_WORK/syslog"'
fault_rules lim
ferry_run "$conf" -q < /dev/null
check "454: the next run sends the rest, each once" eval '
    [ "$(queued "$conf")" -eq 0 ] && [ "$(lim_sent t454 5)" -eq 5 ]'

# -- 421 (Gmail "Try again later") to RCPT: no new connection this run
conf=$(limconf lim-421)
lim_queue "$conf" t421 3
fault_rules lim "rcpt 421 4.7.0 Try again later, closing connection."
m=$(log_mark "$(fault_log lim)")
ferry_run "$conf" -q < /dev/null
check "421 to RCPT: one connection, nothing sent, all kept" eval '
    expect_rc 0 && [ "$(lim_since "$m" | grep -c "connect from")" -eq 1 ] &&
    [ "$(lim_sent t421 3)" -eq 0 ] && [ "$(queued "$conf")" -eq 3 ] &&
    [ "$(lim_untried "$conf")" -eq 2 ]'
fault_rules lim
ferry_run "$conf" -q < /dev/null
check "421: the next run sends all three once" eval '
    [ "$(queued "$conf")" -eq 0 ] && [ "$(lim_sent t421 3)" -eq 3 ]'

# -- sending quotas: deferred, not bounced (quota_replies defer)
conf=$(limconf lim-quota)
for rule in "mail 550 5.4.5 Daily user sending quota exceeded." \
    "eod 554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception" \
    "rcpt 550 5.4.5 Daily user sending quota exceeded."; do
	fault_rules lim "$rule"
	tag="lim-quota-${rule%% *}"
	printf 'Subject: %s\n\nbody %s\n' "$tag" "$tag" > "$E2E_WORK/lim.eml"
	ferry_run "$conf" -odi -f "s@$SH_DOMAIN" "a@$SH_DOMAIN" \
	    < "$E2E_WORK/lim.eml"
	check "quota (${rule:0:30}...): exit 0, kept, no bounce" eval '
	    expect_rc 0 && [ "$(queued "$conf")" -eq 1 ] &&
	    ! fault_mail_files lim | xargs -r grep -l "^X-Fault-From: <>" |
	    xargs -r grep -q "Subject: $tag"'
	fault_rules lim
	ferry_run "$conf" -q < /dev/null
	check "quota (${rule:0:30}...): sent by the next run" eval \
	    '[ "$(queued "$conf")" -eq 0 ] &&
	    [ "$(fault_mail_files lim | xargs -r grep -l "body $tag" |
	    wc -l)" -eq 1 ]'
done
# a full mailbox (5.2.2) is the recipient's, and quota_replies bounce
# makes a quota refusal final
for c in "5.2.2 defer" "5.4.5 bounce"; do
	conf=$(limconf "lim-q${c%% *}" "quota_replies ${c#* }")
	fault_rules lim "rcpt 552 ${c%% *} over quota"
	tag="lim-final-${c%% *}"
	printf 'Subject: %s\n\nbody %s\n' "$tag" "$tag" > "$E2E_WORK/lim.eml"
	ferry_run "$conf" -odi -f "s@$SH_DOMAIN" "a@$SH_DOMAIN" \
	    < "$E2E_WORK/lim.eml"
	fault_rules lim
	# the bounce met the same rule: it waits in failed/
	check "552 ${c%% *} with quota_replies ${c#* }: bounced" eval '
	    expect_rc 0 && [ "$(queued "$conf")" -eq 0 ] &&
	    grep -q "to=<a@$SH_DOMAIN>.*status=bounced (552 ${c%% *}" \
	    "$E2E_WORK/syslog"'
done

# -- max_messages_per_session 2: a queue of 5 takes three sessions
conf=$(limconf lim-cap "max_messages_per_session 2")
lim_queue "$conf" tcap 5
fault_rules lim
m=$(log_mark "$(fault_log lim)")
ferry_run "$conf" -q < /dev/null
check "max_messages_per_session 2: 5 sent once over 3 sessions" eval '
    expect_rc 0 && [ "$(queued "$conf")" -eq 0 ] &&
    [ "$(lim_sent tcap 5)" -eq 5 ] &&
    [ "$(lim_since "$m" | grep -c "connect from")" -eq 3 ]'
conf=$(limconf lim-cap0 "max_messages_per_session 0")
lim_queue "$conf" tcap0 5
m=$(log_mark "$(fault_log lim)")
ferry_run "$conf" -q < /dev/null
check "max_messages_per_session 0: one session" eval '
    expect_rc 0 && [ "$(lim_sent tcap0 5)" -eq 5 ] &&
    [ "$(lim_since "$m" | grep -c "connect from")" -eq 1 ]'

# -- send_rate 60 (one a second): the run waits before each
# message after the first (the wait itself is not timed here)
conf=$(limconf lim-rate "send_rate 60")
lim_queue "$conf" trate 3
ferry_run "$conf" -v -q < /dev/null
check "send_rate: 3 sent, waits before the 2nd and 3rd" eval '
    expect_rc 0 && [ "$(lim_sent trate 3)" -eq 3 ] &&
    [ "$(grep -c "send_rate 60 a minute: waiting" "$ERR")" -eq 2 ]'
fault_rules lim
fault_stop lim >/dev/null
