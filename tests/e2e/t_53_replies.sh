# t_53_replies.sh: a hostile or slow server cannot hold ferry past one
# timeout per reply (issue 15, finding 4), and a bare CR never reaches
# the wire (finding 5). No timing is asserted: faultd logs how much of
# a dripped or endless reply it got out before ferry left, and whether
# a QUIT followed a stall.

. "$FERRY_ROOT/tests/e2e/lib/fault.sh"
rport=$((SH_PORT_BASE + 30))
fault_start rp "$rport" implicit >/dev/null || nok "fault server start"
rpconf=$(mkconf replies "smarthost localhost" "port $rport" \
    "tls implicit" "tls_builtin_ca no" "tls_ca_file $SH_CA" \
    "user $SH_USER" "password_file $E2E_WORK/password" "timeout 3")

rp_mail() { fault_mail_files rp | xargs -r grep -l -- "$1" | wc -l; }
rp_since() { log_since "$(fault_log rp)" "$1"; }

# -- one byte a second: each read is quick, the whole reply is not
printf 'Subject: drip\n\ndrip body\n' > "$E2E_WORK/rp.eml"
for step in greeting ehlo mail; do
	fault_rules rp "$step drip 250 this reply takes a long time to arrive"
	m=$(log_mark "$(fault_log rp)")
	ferry_run "$rpconf" -odi -f "s@$SH_DOMAIN" "rcpt@$SH_DOMAIN" \
	    < "$E2E_WORK/rp.eml"
	check "drip at $step: queued, exit 0" expect_rc 0
	# 3 s of a 48-byte reply: ferry left after about 3 of the bytes
	check "drip at $step: left within the timeout" eval 'rp_since "$m" |
	    awk "/drip ended after/ { n = \$6 } END { exit !(n != \"\" &&
	    n <= 6) }"'
done
fault_rules rp
ferry_run "$rpconf" -q < /dev/null
check "dripped messages delivered later" eval '[ "$(rp_mail "drip body")" -eq 3 ]'

# -- "250-" without end: cut at the line cap, well before the timeout
for step in greeting ehlo; do
	fault_rules rp "$step endless"
	m=$(log_mark "$(fault_log rp)")
	ferry_run "$rpconf" -odi -f "s@$SH_DOMAIN" "rcpt@$SH_DOMAIN" \
	    < "$E2E_WORK/rp.eml"
	# a protocol error, as for any reply that is not SMTP: kept, 76
	check "endless $step reply: kept, exit 76" expect_rc 76
	check "endless $step reply: kept in the queue" grep -q \
	    "kept in the queue" "$ERR"
	check "endless $step reply: cut at the line cap" grep -q \
	    "reply of more than 128 lines" "$E2E_WORK/syslog"
	check "endless $step reply: ferry left" eval 'rp_since "$m" |
	    awk "/endless reply ended after/ { n = \$7 } END {
	    exit !(n != \"\" && n < 400) }"'
done
fault_rules rp
ferry_run "$rpconf" -q < /dev/null

# -- a stall costs one timeout: no QUIT is sent into it
for step in ehlo mail eod; do
	fault_rules rp "$step stall"
	m=$(log_mark "$(fault_log rp)")
	ferry_run "$rpconf" -odi -f "s@$SH_DOMAIN" "rcpt@$SH_DOMAIN" \
	    < "$E2E_WORK/rp.eml"
	check "stall at $step: queued, exit 0" expect_rc 0
	check "stall at $step: no QUIT into the stall" eval 'rp_since "$m" |
	    grep -q "stall ended" && ! rp_since "$m" | grep -q "QUIT among"'
done
fault_rules rp
ferry_run "$rpconf" -q < /dev/null
check "queue empty after the stalls" eval '[ "$(queued "$rpconf")" -eq 0 ]'

# -- RFC 5321 2.3.8: a bare CR in the body goes out as CRLF, so the
# SMTP-smuggling shape stays one line of one message
for how in data chunking; do
	[ "$how" = chunking ] && fault_rules rp chunking || fault_rules rp
	printf 'Subject: smuggle-%s\n\nline\r.\r\nMAIL FROM:<evil@%s>\r\nRCPT TO:<victim@%s>\r\nDATA\r\nevil\nend %s\n' \
	    "$how" "$SH_DOMAIN" "$SH_DOMAIN" "$how" > "$E2E_WORK/rp.eml"
	m=$(log_mark "$(fault_log rp)")
	ferry_run "$rpconf" -odi -f "s@$SH_DOMAIN" "rcpt@$SH_DOMAIN" \
	    < "$E2E_WORK/rp.eml"
	check "bare CR ($how): sent" expect_rc 0
	check "bare CR ($how): one message, no MAIL from the body" eval '
	    [ "$(rp_since "$m" | grep -c "saved ")" -eq 1 ] &&
	    ! rp_since "$m" | grep -q "< MAIL FROM:<evil"'
	check "bare CR ($how): none on the wire" eval 'rp_since "$m" |
	    grep -q "bare LF 0, bare CR 0"'
	f=$(fault_mail_files rp | xargs -r grep -l "end $how" | head -1)
	check "bare CR ($how): the body line kept, as its own line" eval \
	    '[ -n "$f" ] && grep -q "^MAIL FROM:<evil" "$f" &&
	    ! sed "s/\r\$//" "$f" | grep -q "$(printf "\r")"'
done
fault_rules rp
fault_stop rp >/dev/null
