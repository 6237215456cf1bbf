# t_55_strict.sh: smart hosts that are not Postfix (issue 22). faultd's
# strict mode answers early input as OpenSMTPD does (500 "Pipelining
# not supported", then a close): without PIPELINING ferry must wait for
# every reply, QUIT and the next envelope included; with it, pipelining
# stays. A server that never answers QUIT holds nobody. A reply that
# cannot belong to its command (221, 354 out of place, one lost, one
# too many) defers what is in flight. EHLO refused: HELO, or exit 78/77
# when the config needs AUTH/STARTTLS. A caller's fd 3 is not held by
# the detached child. Each case ends with every message delivered,
# nothing bounced. No clock is read: the QUIT and fd cases check the
# order of events in faultd's log.

. "$FERRY_ROOT/tests/e2e/lib/fault.sh"
sport=$((SH_PORT_BASE + 56))
fault_start st "$sport" implicit >/dev/null || nok "fault server start"
stconf=$(mkconf strict "smarthost localhost" "port $sport" \
    "tls implicit" "tls_builtin_ca no" "tls_ca_file $SH_CA" \
    "user $SH_USER" "password_file $E2E_WORK/password" "auth plain" \
    "timeout 5" "bounce_window 0")

# st_got TAG: messages (not bounces) holding TAG that faultd saved
st_got() { fault_got st "$1"; }
# st_bounced TAG: bounces quoting TAG, sent or kept in failed/
st_bounced() { fault_bounced st "$1" "$E2E_WORK"/spool-strict*; }
st_since() { log_since "$(fault_log st)" "$1"; }
st_msg() { printf 'Subject: %s\n\nbody %s\n' "$1" "$1" > "$E2E_WORK/st.eml"; }
# st_queue4 PREFIX: queue PREFIX-1 .. PREFIX-4 to a@, for one -q run
st_queue4() {
	local i
	fault_rules st
	for i in 1 2 3 4; do
		st_msg "$1-$i"
		ferry_run "$stconf" -odq -f "s@$SH_DOMAIN" "a@$SH_DOMAIN" \
		    < "$E2E_WORK/st.eml"
	done
}
# st_sent4 PREFIX: how many of PREFIX-1 .. PREFIX-4 arrived
st_sent4() {
	local i n=0
	for i in 1 2 3 4; do n=$((n + $(st_got "body $1-$i"))); done
	echo "$n"
}

# -- one message, as the issue measured against OpenSMTPD
k=0
for rules in "strict nopipelining" "strict nopipelining chunking" \
    "strict"; do
	k=$((k + 1))
	tag="st-one-$k"
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
	st_queue4 "st-q-${rules// /-}"
	# shellcheck disable=SC2086
	fault_rules st $rules
	m=$(log_mark "$(fault_log st)")
	ferry_run "$stconf" -v -q < /dev/null
	n=$(st_sent4 "st-q-${rules// /-}")
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
	    [ "$(fault_got sq "body st-quit-${rules//[ |]/-}")" -eq 1 ]'
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

# -- replies out of step: a reply that cannot belong to its command
# (a 221, a 354 but to DATA, a 250 to DATA) ends the session, and what
# is in flight is deferred: never sent, never bounced, on any reply
# read for it. In the end every recipient has the message once.
# st_case NAME RULE: one message to a@ and b@ under RULE
st_case() {
	local name=$1 tag=st-$1 sm
	shift
	st_msg "$tag"
	fault_rules st "$@"
	sm=$(log_mark "$E2E_WORK/syslog")
	ferry_run "$stconf" -odi -f "s@$SH_DOMAIN" "a@$SH_DOMAIN" \
	    "b@$SH_DOMAIN" < "$E2E_WORK/st.eml"
	check "$name: exit 0, kept in the queue" eval 'expect_rc 0 &&
	    [ "$(queued "$stconf")" -eq 1 ]'
	check "$name: logged deferred, out of step, not sent or bounced" eval '
	    log_since "$E2E_WORK/syslog" "$sm" | grep -q "out of step" &&
	    ! log_since "$E2E_WORK/syslog" "$sm" |
	    grep -q "status=sent\|status=bounced"'
	fault_rules st
	ferry_run "$stconf" -q < /dev/null
	check "$name: in the end a and b have it, nothing bounced" eval '
	    [ "$(queued "$stconf")" -eq 0 ] && [ "$(st_bounced "$tag")" -eq 0 ] &&
	    [ "$(fault_got st "body $tag" a)" -ge 1 ] &&
	    [ "$(fault_got st "body $tag" b)" -ge 1 ]'
}
# a server that reads DATA lines as commands says 221 to the end
st_case "221 for the end of data" "eod 221 2.0.0 Bye"
st_case "354 to RCPT" "rcpt#1 354 go ahead"
# one reply too many: b's RCPT would get the 550, DATA the 250
st_case "an extra reply after RCPT" "rcpt#1 extra 550 5.1.1 one too many"
st_case "221 to MAIL" "mail 221 2.0.0 Bye"

# a lost reply in a queue run: message 2's MAIL reply never comes, so
# its RCPT gets the 354; messages 1, 3 and 4 go, 2 waits, none bounces
st_queue4 st-lost
fault_rules st "mail#2 drop" "sessions 1"
ferry_run "$stconf" -q < /dev/null
n=$(st_sent4 st-lost)
check "lost MAIL reply: three sent, one kept, none bounced" eval '
    [ "$n" -eq 3 ] && [ "$(queued "$stconf")" -eq 1 ] &&
    [ "$(st_bounced "st-lost-")" -eq 0 ]'
fault_rules st
ferry_run "$stconf" -q < /dev/null
n=$(st_sent4 st-lost)
check "lost MAIL reply: all four once in the end" eval '[ "$n" -eq 4 ] &&
    [ "$(queued "$stconf")" -eq 0 ]'

# -- EHLO refused (a server from before ESMTP): HELO, no extensions.
# Without `user` the mail goes; with `user` (AUTH) or `tls starttls`
# ferry says at once that the server cannot do it, and keeps the mail.
hconf=$(mkconf strict-helo "smarthost localhost" "port $sport" \
    "tls implicit" "tls_builtin_ca no" "tls_ca_file $SH_CA" \
    "timeout 5" "bounce_window 0")
fault_rules st noehlo
st_msg st-helo
m=$(log_mark "$(fault_log st)")
ferry_run "$hconf" -odi -f "s@$SH_DOMAIN" "a@$SH_DOMAIN" < "$E2E_WORK/st.eml"
check "EHLO refused: HELO, delivered, exit 0" eval 'expect_rc 0 &&
    [ "$(st_got "body st-helo")" -eq 1 ] &&
    st_since "$m" | grep -q "< HELO"'
st_msg st-helo-auth
ferry_run "$stconf" -odi -f "s@$SH_DOMAIN" "a@$SH_DOMAIN" \
    < "$E2E_WORK/st.eml"
check "EHLO refused, user set: exit 78, one line, kept" eval 'expect_rc 78 &&
    [ "$(wc -l < "$ERR")" -eq 1 ] && grep -q "refused EHLO.*AUTH" "$ERR" &&
    [ "$(queued "$stconf")" -eq 1 ]'
fault_start s5 $((SH_PORT_BASE + 58)) starttls >/dev/null ||
    nok "fault server s5 start"
s5conf=$(mkconf strict-587 "smarthost localhost" "port $FAULT_PORT" \
    "tls starttls" "tls_builtin_ca no" "tls_ca_file $SH_CA" \
    "timeout 5" "bounce_window 0")
fault_rules s5 noehlo
st_msg st-helo-tls
ferry_run "$s5conf" -odi -f "s@$SH_DOMAIN" "a@$SH_DOMAIN" \
    < "$E2E_WORK/st.eml"
check "EHLO refused, tls starttls: exit 77, one line, kept" eval '
    expect_rc 77 && [ "$(wc -l < "$ERR")" -eq 1 ] &&
    grep -q "refused EHLO.*STARTTLS" "$ERR" && [ "$(queued "$s5conf")" -eq 1 ]'
fault_rules s5
fault_stop s5 >/dev/null
fault_rules st
ferry_run "$stconf" -q < /dev/null
check "EHLO refused: the kept one goes once EHLO works, none bounced" eval '
    [ "$(st_got "body st-helo-auth")" -eq 1 ] &&
    [ "$(st_bounced "st-helo")" -eq 0 ]'

# -- descriptors: a caller's pipe on fd 3 reaches EOF when ferry
# returns, while the detached child still delivers (the server stalls
# at MAIL, so the child is still in its session). Before issue 22 the
# child held the pipe until it ended.
fault_rules st "mail stall"
st_msg st-fd
rm -f "$E2E_WORK/st.fifo" "$E2E_WORK/st.rc"
mkfifo "$E2E_WORK/st.fifo"
m=$(log_mark "$(fault_log st)")
(ferry_run "$stconf" -f "s@$SH_DOMAIN" "a@$SH_DOMAIN" \
    < "$E2E_WORK/st.eml" 3> "$E2E_WORK/st.fifo"
    echo "$RC" > "$E2E_WORK/st.rc") &
fdpid=$!
cat "$E2E_WORK/st.fifo" > /dev/null	# returns at EOF
check "fd 3: EOF while the delivery child still holds its session" eval '
    ! st_since "$m" | grep -q "stall ended"'
wait "$fdpid"
check "fd 3: the caller got exit 0" eval '[ "$(cat "$E2E_WORK/st.rc")" = 0 ]'
for _ in $(seq 150); do
	st_since "$m" | grep -q "stall ended" && break
	sleep 0.2
done
check "fd 3: the child did go on to the stalled MAIL" eval '
    st_since "$m" | grep -q "fault: mail#1 stall"'
fault_rules st
ferry_run "$stconf" -q < /dev/null
check "fd 3: delivered by the next run" eval '[ "$(st_got "body st-fd")" -eq 1 ]'
fault_rules st
fault_stop st >/dev/null
