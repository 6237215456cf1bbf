# t_52_starttls.sh: STARTTLS injection and downgrade, past what
# t_50_faults.sh checks (delivery after an injection, exit 77 and no
# AUTH or MAIL after a downgrade). Here: an injected error or 334 is
# never read as a reply; bytes injected on their own after the
# ClientHello make ferry give up, not listen; a downgrade leaves the
# message queued with a clear reason; nothing but EHLO and STARTTLS is
# ever sent in plaintext.

. "$FERRY_ROOT/tests/e2e/lib/fault.sh"
sport=$((SH_PORT_BASE + 23))
fault_start st "$sport" starttls >/dev/null || nok "fault server start"
stconf=$(mkconf starttls "smarthost localhost" "port $sport" \
    "tls starttls" "tls_builtin_ca no" "tls_ca_file $SH_CA" \
    "user $SH_USER" "password_file $E2E_WORK/password" "timeout 5")

# st_mail TEXT: how many saved messages contain TEXT.
st_mail() { fault_mail_files st | xargs -r grep -l -- "$1" | wc -l; }
# st_plain MARK: the commands faultd read before TLS came up, for every
# session since MARK (each session's lines up to its "tls:" line).
st_plain() {
	log_since "$(fault_log st)" "$1" |
	    awk '{ c = $2 } / tls: / { tls[c] = 1 }
		!(c in tls) && / < / { print }'
}
# only EHLO and STARTTLS went out in plaintext
plain_ok() {
	local bad
	bad=$(st_plain "$1" | grep -v ' < \(EHLO\|STARTTLS\)' || true)
	[ -z "$bad" ] && return 0
	printf '     sent in plaintext: %s\n' "$bad"
	return 1
}

# -- an injected error and 334 in the 220's segment: dropped unread
fault_rules st 'inject-after-starttls 554 5.7.0 injected\r\n334 aW5q\r\n'
printf 'Subject: inj-same\n\ninjected same segment\n' > "$E2E_WORK/st.eml"
m=$(log_mark "$(fault_log st)")
ferry_run "$stconf" -v -f "s@$SH_DOMAIN" "rcpt@$SH_DOMAIN" \
    < "$E2E_WORK/st.eml"
check "injection with the 220: delivered" expect_rc 0
check "injection with the 220: arrived once" \
    eval '[ "$(st_mail "injected same segment")" -eq 1 ]'
check "injection with the 220: faultd sent it" \
    grep -q 'injecting 30 plaintext bytes' "$(fault_log st)"
check "injection with the 220: never read as a reply" \
    eval '! grep -q "injected\|aW5q" "$ERR"'
check "injection with the 220: only EHLO, STARTTLS in plaintext" \
    plain_ok "$m"
check "injection with the 220: nothing queued" \
    eval '[ "$(queued "$stconf")" -eq 0 ]'

# -- injection on its own, where the first TLS record should be: the
# handshake fails, the message stays queued, nothing else is sent
fault_rules st 'inject-late-after-starttls 250 2.0.0 injected late\r\n'
printf 'Subject: inj-late\n\ninjected late\n' > "$E2E_WORK/st.eml"
m=$(log_mark "$(fault_log st)")
ferry_run "$stconf" -v -f "s@$SH_DOMAIN" "rcpt@$SH_DOMAIN" \
    < "$E2E_WORK/st.eml"
check "late injection: faultd sent it after the ClientHello" eval \
    'log_since "$(fault_log st)" "$m" | grep -q "after the ClientHello:"'
check "late injection: not delivered" \
    eval '[ "$(st_mail "injected late")" -eq 0 ]'
check "late injection: not read as a reply" \
    eval '! grep -q "< 250 2.0.0 injected" "$ERR"'
check "late injection: message queued" \
    eval '[ "$(queued "$stconf")" -eq 1 ]'
check "late injection: no AUTH or MAIL at all" eval '! \
    log_since "$(fault_log st)" "$m" | grep -q " < \(AUTH\|MAIL\|\*\*\*\)"'
check "late injection: one clear error line" \
    grep -q "^ferry: .*handshake: server sent data that is not TLS" "$ERR"
fault_rules st
ferry_run "$stconf" -q < /dev/null
check "late injection: delivered by the next run" \
    eval '[ "$(st_mail "injected late")" -eq 1 ] &&
    [ "$(queued "$stconf")" -eq 0 ]'

# -- downgrade: STARTTLS not offered, or refused with 454
for rule in nostarttls "starttls 454 4.7.0 TLS not available"; do
	fault_rules st "$rule"
	tag=down-${rule%% *}
	printf 'Subject: %s\n\nbody %s\n' "$tag" "$tag" > "$E2E_WORK/st.eml"
	m=$(log_mark "$(fault_log st)")
	ferry_run "$stconf" -v -f "s@$SH_DOMAIN" "rcpt@$SH_DOMAIN" \
	    < "$E2E_WORK/st.eml"
	check "downgrade ($rule): message queued" \
	    eval '[ "$(queued "$stconf")" -eq 1 ]'
	check "downgrade ($rule): only EHLO, STARTTLS in plaintext" \
	    plain_ok "$m"
	check "downgrade ($rule): one clear line on stderr" \
	    eval 'grep "^ferry: " "$ERR" | grep -q "STARTTLS"'
	fault_rules st
	ferry_run "$stconf" -q < /dev/null
	check "downgrade ($rule): delivered once STARTTLS works" \
	    eval '[ "$(st_mail "body $tag")" -eq 1 ] &&
	    [ "$(queued "$stconf")" -eq 0 ]'
done
fault_stop st >/dev/null
