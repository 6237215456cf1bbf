# t_55_strict.sh: smart hosts that are not Postfix (issue 22). faultd's
# strict mode answers early input as OpenSMTPD does (500 "Pipelining
# not supported", then a close): without PIPELINING ferry must wait for
# every reply, QUIT and the next envelope included; with it, pipelining
# stays. A server that never answers QUIT holds nobody. Each case ends
# with every message delivered once, nothing bounced.

. "$FERRY_ROOT/tests/e2e/lib/fault.sh"
sport=$((SH_PORT_BASE + 56))
fault_start st "$sport" implicit >/dev/null || nok "fault server start"
stconf=$(mkconf strict "smarthost localhost" "port $sport" \
    "tls implicit" "tls_builtin_ca no" "tls_ca_file $SH_CA" \
    "user $SH_USER" "password_file $E2E_WORK/password" "auth plain" \
    "timeout 5" "bounce_window 0")

# st_got TAG: messages (not bounces) holding TAG that faultd saved
st_got() {
	fault_mail_files st | xargs -r grep -l -- "$1" |
	    xargs -r grep -L '^X-Fault-From: <>' | wc -l
}
# st_bounced TAG: bounces quoting TAG, sent or kept in failed/
st_bounced() {
	echo $(($(fault_mail_files st | xargs -r grep -l -- "$1" |
	    xargs -r grep -l '^X-Fault-From: <>' | wc -l) +
	    $(grep -l -- "$1" "$E2E_WORK"/spool-strict*/failed/d* \
	    2>/dev/null | wc -l)))
}
st_since() { log_since "$(fault_log st)" "$1"; }
st_msg() { printf 'Subject: %s\n\nbody %s\n' "$1" "$1" > "$E2E_WORK/st.eml"; }

# -- one message, as the issue measured against OpenSMTPD
for rules in "strict nopipelining" "strict nopipelining chunking" \
    "strict"; do
	tag="st-one-${rules// /-}"
	st_msg "$tag"
	# shellcheck disable=SC2086 # one option a line
	fault_rules st $rules
	m=$(log_mark "$(fault_log st)")
	ferry_run "$stconf" -odi -f "s@$SH_DOMAIN" "a@$SH_DOMAIN" \
	    < "$E2E_WORK/st.eml"
	check "$rules: one message: exit 0" expect_rc 0
	check "$rules: one message: delivered once, now" eval \
	    '[ "$(st_got "body $tag")" -eq 1 ]'
	check "$rules: one message: no early input" eval '! st_since "$m" |
	    grep -q "strict: input before"'
	check "$rules: one message: not bounced, not queued" eval '
	    [ "$(st_bounced "$tag")" -eq 0 ] && [ "$(queued "$stconf")" -eq 0 ]'
done

# -- a queue run of 4 on one session: each envelope waits for the end
# of the message before unless PIPELINING was offered
for rules in "strict nopipelining" "strict"; do
	fault_rules st
	for i in 1 2 3 4; do
		st_msg "st-q-${rules// /-}-$i"
		ferry_run "$stconf" -odq -f "s@$SH_DOMAIN" "a@$SH_DOMAIN" \
		    < "$E2E_WORK/st.eml"
	done
	# shellcheck disable=SC2086
	fault_rules st $rules
	m=$(log_mark "$(fault_log st)")
	ferry_run "$stconf" -v -q < /dev/null
	n=0
	for i in 1 2 3 4; do
		n=$((n + $(st_got "body st-q-${rules// /-}-$i")))
	done
	check "$rules: queue of 4: all delivered once, queue empty" eval \
	    '[ "$n" -eq 4 ] && [ "$(queued "$stconf")" -eq 0 ] &&
	    [ "$(st_bounced "st-q-${rules// /-}")" -eq 0 ]'
	check "$rules: queue of 4: one session, no early input" eval '
	    [ "$(st_since "$m" | grep -c "connect from")" -eq 1 ] &&
	    ! st_since "$m" | grep -q "strict: input before"'
	# with PIPELINING the next MAIL still goes before the last 250
	ahead=$(awk '/^> MAIL FROM/ { m++ } /^< 250 .*queued/ { q++ }
	    m - q >= 2 { ok = 1 } END { print ok + 0 }' "$ERR")
	if [ "$rules" = strict ]; then
		check "strict, PIPELINING: envelopes still pipelined" \
		    eval '[ "$ahead" -eq 1 ]'
	else
		check "$rules: no envelope before the last reply" \
		    eval '[ "$ahead" -eq 0 ]'
	fi
done

# -- a server that never answers QUIT (Courier) holds nobody: ferry
# leaves at once, so the stall ends because the client went, long
# before --stall-max (20 s) or ferry's timeout (60 s). No clock is read.
fault_start sq $((SH_PORT_BASE + 57)) implicit --stall-max 20 >/dev/null ||
    nok "fault server sq start"
sqconf=$(mkconf strictq "smarthost localhost" "port $FAULT_PORT" \
    "tls implicit" "tls_builtin_ca no" "tls_ca_file $SH_CA" \
    "user $SH_USER" "password_file $E2E_WORK/password" "auth plain" \
    "timeout 60" "bounce_window 0")
for rules in "quit stall" "quit stall|nopipelining"; do
	st_msg "st-quit-${rules//[ |]/-}"
	# shellcheck disable=SC2086
	IFS='|' read -r -a rl <<< "$rules"
	fault_rules sq "${rl[@]}"
	m=$(log_mark "$(fault_log sq)")
	ferry_run "$sqconf" -odi -f "s@$SH_DOMAIN" "a@$SH_DOMAIN" \
	    < "$E2E_WORK/st.eml"
	check "$rules: exit 0, delivered" eval 'expect_rc 0 &&
	    [ "$(fault_mail_files sq | xargs -r grep -l \
	    "body st-quit-${rules//[ |]/-}" | wc -l)" -eq 1 ]'
	# the stall's end is logged as the client closes; allow it a moment
	for _ in $(seq 50); do
		log_since "$(fault_log sq)" "$m" | grep -q "stall ended" && break
		sleep 0.2
	done
	check "$rules: ferry left before the server let go" eval '
	    log_since "$(fault_log sq)" "$m" | grep -q "fault: quit#1 stall" &&
	    log_since "$(fault_log sq)" "$m" |
	    grep -q "stall ended: .*(client went)"'
done
fault_rules sq
fault_stop sq >/dev/null
fault_rules st
