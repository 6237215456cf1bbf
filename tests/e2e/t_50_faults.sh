# t_50_faults.sh: the fault server misbehaves at each step of the
# dialogue; every message is delivered later or bounced, never lost.
# Also STARTTLS injection and downgrade (no AUTH, no mail after them).

. "$FERRY_ROOT/tests/e2e/lib/fault.sh"
fport=$((SH_PORT_BASE + 20))
fault_start f "$fport" starttls >/dev/null || nok "fault server start"
fconf=$(mkconf fault "smarthost localhost" "port $fport" "tls starttls" \
    "tls_builtin_ca no" "tls_ca_file $SH_CA" "user $SH_USER" \
    "password_file $E2E_WORK/password" "timeout 2" "bounce_window 0")

# mail_with TEXT: how many saved messages contain TEXT; bounces are
# those sent with the empty sender.
mail_with() { fault_mail_files f | xargs -r grep -l -- "$1" | wc -l; }
bounces_with() {
	fault_mail_files f | xargs -r grep -l -- "$1" |
	    xargs -r grep -l '^X-Fault-From: <>' | wc -l
}

# fault_case STEP ACTION WANT: WANT is "later" (delivered once the
# server behaves) or "bounce" (the sender is told).
fault_case() {
	local step=$1 action=$2 want=$3 tag t0 t1
	tag="fault-$step-${action// /-}"
	printf 'Subject: %s\n\nbody of %s\n' "$tag" "$tag" > "$E2E_WORK/f.eml"
	fault_rules f "$step $action"
	t0=$(date +%s)
	ferry_run "$fconf" -odi -f "faulty@$SH_DOMAIN" "rcpt@$SH_DOMAIN" \
	    < "$E2E_WORK/f.eml"
	t1=$(date +%s)
	if [ "$action" = stall ]; then
		check "$step stall: ends at the timeout" \
		    eval '[ $((t1 - t0)) -ge 2 ] && [ $((t1 - t0)) -le 8 ]'
	fi
	fault_rules f
	ferry_run "$fconf" -q < /dev/null
	if [ "$want" = bounce ]; then
		# the bounce goes to the same server, which may refuse it
		# too; then it waits in failed/ for the admin
		check "$step $action: bounced" eval '[ $(($(bounces_with \
		    "Subject: $tag") + $(grep -l "Subject: $tag" \
		    "$E2E_WORK"/spool-fault/failed/d* 2>/dev/null | wc -l))) \
		    -eq 1 ]'
	else
		check "$step $action: delivered later, not bounced" eval \
		    '[ "$(mail_with "body of $tag")" -ge 1 ] &&
		    [ "$(bounces_with "Subject: $tag")" -eq 0 ]'
	fi
	check "$step $action: queue empty after" \
	    eval '[ "$(queued "$fconf")" -eq 0 ]'
}

for step in greeting ehlo starttls auth mail rcpt data eod; do
	for action in "421 4.3.2 closing" "451 4.3.0 try later" close stall
	do
		fault_case "$step" "$action" later
	done
	case $step in
	mail|rcpt|data|eod) fault_case "$step" "554 5.7.1 no" bounce ;;
	*) fault_case "$step" "554 5.7.1 no" later ;;
	esac
done
fault_case data-mid "close 500" later

# -- SIZE: a message over the server's limit is refused before DATA
fault_rules f "ehlo-extra SIZE 1000"
{ printf 'Subject: too-big\n\n'; seq 1 500; } > "$E2E_WORK/f.eml"
m=$(log_mark "$(fault_log f)")
ferry_run "$fconf" -oep -f "s@$SH_DOMAIN" "rcpt@$SH_DOMAIN" < "$E2E_WORK/f.eml"
check "SIZE over the limit: refused, exit 69" expect_rc 69
check "SIZE over the limit: says so" grep -q "takes at most 1000" "$ERR"
check "SIZE over the limit: no MAIL sent" eval '! log_since \
    "$(fault_log f)" "$m" | grep -q "< MAIL"'
fault_rules f

# -- SMTPUTF8 not offered (faultd does not): a UTF-8 address is refused
printf 'Subject: utf8\n\nbody\n' > "$E2E_WORK/f.eml"
ferry_run "$fconf" -oep -f "s@$SH_DOMAIN" "$(printf 'j\xc3\xb6rg@%s' \
    "$SH_DOMAIN")" < "$E2E_WORK/f.eml"
check "UTF-8 address, no SMTPUTF8: exit 69" expect_rc 69
check "UTF-8 address, no SMTPUTF8: says so" grep -q "SMTPUTF8" "$ERR"

# -- DSN not offered (faultd does not): -N and -R are not sent
m=$(log_mark "$(fault_log f)")
ferry_run "$fconf" -N never -R hdrs -f "s@$SH_DOMAIN" "rcpt@$SH_DOMAIN" \
    < "$E2E_WORK/f.eml"
check "no DSN offered: no NOTIFY or RET sent" eval '[ "$RC" -eq 0 ] &&
    ! log_since "$(fault_log f)" "$m" | grep -q "NOTIFY=\|RET="'

# -- STARTTLS: what the server sends before the handshake is dropped
fault_rules f 'inject-after-starttls 250-fake\r\n250 AUTH PLAIN\r\n'
printf 'Subject: inject\n\ninjected\n' > "$E2E_WORK/f.eml"
ferry_run "$fconf" -f "s@$SH_DOMAIN" "rcpt@$SH_DOMAIN" < "$E2E_WORK/f.eml"
check "STARTTLS injection: delivered normally" expect_rc 0
check "STARTTLS injection: message arrived" eval '[ "$(mail_with injected)" -eq 1 ]'

# -- downgrade: no STARTTLS offered, or 454: no AUTH, no mail, exit 77
for rule in nostarttls "starttls 454 4.7.0 TLS not available"; do
	fault_rules f "$rule"
	m=$(log_mark "$(fault_log f)")
	ferry_run "$fconf" -f "s@$SH_DOMAIN" "rcpt@$SH_DOMAIN" \
	    < "$E2E_WORK/f.eml"
	check "downgrade ($rule): exit 77" expect_rc 77
	check "downgrade ($rule): no AUTH, MAIL or data sent" eval '! \
	    log_since "$(fault_log f)" "$m" | grep -q "< \(AUTH\|MAIL\|RCPT\)"'
done
fault_rules f
ferry_run "$fconf" -q < /dev/null
fault_stop f >/dev/null
