# t_93_failover.sh: ordered smart hosts (issue 26). Host 2 is the real
# Postfix on its 587-style port; host 1 is, in turn, down, hung,
# answering 421 at the greeting, and the real Postfix's 465-style port
# with a wrong password (default AUTH, pipelined PLAIN, AUTH LOGIN).
# Each time one delivery and a queue run of 3 arrive once each through
# host 2 (relay= in the log, the mailbox count), nothing bounced; then,
# host 1 healthy again and its hold past, the next send goes to it.
# Also: a held host is not even connected to; a 5xx is final; every
# host down keeps the mail queued; all held are tried anyway; -bv
# checks every host; the FERRY_*_2 variables; a second block inherits
# no credential; no password in the log, host-state or -bv output.
# Every config keeps confine at its default (yes): on Linux the moves
# to host 2 happen after the process confined itself.

. "$FERRY_ROOT/tests/e2e/lib/fault.sh"
fo_pa=$((SH_PORT_BASE + 93))	# case down: nobody, later faultd foa
fo_p1=$((SH_PORT_BASE + 94))	# faultd fo1: hung, 421, 5xx
fo_pd1=$((SH_PORT_BASE + 95))	# nobody ever listens
fo_p2=$((SH_PORT_BASE + 96))	# faultd fo2
fo_pd2=$((SH_PORT_BASE + 97))	# nobody ever listens
fo_h2=$SH_PORT_SUBMISSION	# host 2: Postfix, STARTTLS
fo_runs=$E2E_RUNS		# this file's ferry runs: out.N, err.N
fo_log0=$(log_mark "$SYSLOG_FILE")
check "failover: ports $fo_pa $fo_pd1 $fo_pd2 free" eval \
    '[ -z "$(_sh_listening "$fo_pa" "$fo_pd1" "$fo_pd2")" ]'
fault_start fo1 "$fo_p1" implicit >/dev/null || nok "faultd fo1 start"
fault_start fo2 "$fo_p2" implicit >/dev/null || nok "faultd fo2 start"

# the wrong passwords, a file each: healing a case rewrites its file
fo_wrong=(Wr0ng-Fo-Scram-11 Wr0ng-Fo-Plain-22 Wr0ng-Fo-Login-33
    Wr0ng-Fo-Other-44)
for i in 0 1 2 3; do
	(umask 077 && printf '%s\n' "${fo_wrong[$i]}" > "$E2E_WORK/fo-pw$i")
done

# fo_conf NAME HOLD PORT1 PASSWORD-FILE1 [LINE1...]: host 1 on PORT1
# (implicit TLS) with LINE1s in its block, host 2 the Postfix; the
# global keys last, after host 2's block
fo_conf() {
	local name=$1 hold=$2 p1=$3 pw=$4
	shift 4
	mkconf "fo-$name" "smarthost localhost" "port $p1" "tls implicit" \
	    "tls_builtin_ca no" "tls_ca_file $SH_CA" "user $SH_USER" \
	    "password_file $pw" "$@" \
	    "smarthost localhost" "port $fo_h2" "tls starttls" \
	    "tls_builtin_ca no" "tls_ca_file $SH_CA" "user $SH_USER" \
	    "password_file $E2E_WORK/password" \
	    "timeout 3" "bounce_window 0" "failover_hold $hold"
}
fo_spool() { sed -n 's/^spool //p' "$1"; }
# fo_sent MARK LOCALPART PORT: log lines since MARK saying LOCALPART's
# message was sent through the host on PORT
fo_sent() {
	log_since "$SYSLOG_FILE" "$1" | grep -c \
	    "to=<$2@$SH_DOMAIN>, relay=[^ ,]*\]:$3, .*status=sent" || true
}
# fo_once LOCALPART NAME...: each message mkmsg NAME made landed once
fo_once() {
	local who=$1 t k
	shift
	for t in "$@"; do
		k=$(smarthost_mail_files "$who" |
		    xargs -r grep -l "^Subject: e2e $t\.eml" | wc -l)
		[ "$k" -eq 1 ] && continue
		echo "     $t arrived $k times"
		return 1
	done
}
# fo_nobounce MARK SPOOL SENDER: no bounce logged since MARK, none
# kept in failed/, none delivered to SENDER
fo_nobounce() {
	! log_since "$SYSLOG_FILE" "$1" | grep -q "status=bounced" &&
	    [ -z "$(ls -A "$2/failed" 2>/dev/null)" ] &&
	    [ "$(smarthost_mail_count "$3")" -eq 0 ]
}
fo_conns() { grep -c "connect from" "$(fault_log "$1")" || true; }
fo_conns1() { fo_conns fo1; }
fo_smtps_conns() {
	grep -c "smarthost/smtps/smtpd\[[0-9]*\]: connect from" \
	    "$(smarthost_log)" || true
}
fo_fgot() { [ "$(fault_got "$1" "e2e $2.eml" "$2")" -eq 1 ]; }

# fo_case CASE CONF PORT1 CONNS HEAL BACK: the failover runs with host
# 1 broken, then HEAL it and check the next send goes to it (BACK
# LOCALPART says host 1 has that message). CONNS prints how many
# connections host 1 has had ("" when nothing can count them).
# FO_V=-v: the first send prints its transcript (in FO_ERR1).
fo_case() {
	local c=$1 conf=$2 p1=$3 conns=$4 heal=$5 back=$6 m m0 k sp i
	local r=fo-$c s=fo-$c-s

	sp=$(fo_spool "$conf")
	m0=$(log_mark "$SYSLOG_FILE")
	[ -n "$conns" ] && k=$($conns)
	ferry_run "$conf" -odi ${FO_V:+"$FO_V"} -f "$s@$SH_DOMAIN" \
	    "$r@$SH_DOMAIN" < "$(mkmsg "$r-1" "$r@$SH_DOMAIN")"
	FO_ERR1=$ERR
	check "$c: -odi exits 0" expect_rc 0
	check "$c: -odi: landed once, relay= host 2" eval 'landed "$r" 1 &&
	    [ "$(fo_sent "$m0" "$r" "$fo_h2")" -eq 1 ]'
	# (after the wait for Postfix: its log is written through postlogd)
	[ -n "$conns" ] && check "$c: -odi: host 1 was tried" \
	    eval '[ "$(($($conns) - k))" -ge 1 ]'
	check "$c: -odi: nothing queued, host-state in the spool" eval '
	    [ "$(queued "$conf")" -eq 0 ] && [ -s "$sp/host-state" ]'

	# a queue run of 3 once the 1 s hold is past: host 1 is tried
	# again, fails again, is held, the 3 go through host 2
	sleep 2.1
	for i in 1 2 3; do
		ferry_run "$conf" -odq -f "$s@$SH_DOMAIN" "$r@$SH_DOMAIN" \
		    < "$(mkmsg "$r-q$i" "$r@$SH_DOMAIN")"
	done
	check "$c: 3 queued with -odq" eval '[ "$(queued "$conf")" -eq 3 ]'
	m=$(log_mark "$SYSLOG_FILE")
	[ -n "$conns" ] && k=$($conns)
	ferry_run "$conf" -q < /dev/null
	check "$c: -q exits 0, queue empty" eval 'expect_rc 0 &&
	    [ "$(queued "$conf")" -eq 0 ]'
	check "$c: -q: the 3 landed once each, relay= host 2" eval '
	    landed "$r" 4 && fo_once "$r" "$r-1" "$r-q1" "$r-q2" "$r-q3" &&
	    [ "$(fo_sent "$m" "$r" "$fo_h2")" -eq 3 ]'
	[ -n "$conns" ] && check "$c: -q: host 1 tried once, then held" \
	    eval '[ "$(($($conns) - k))" -eq 1 ]'
	check "$c: nothing bounced" fo_nobounce "$m0" "$sp" "$s"

	# healthy again: past the hold (now 2 s) the next send goes to it
	$heal
	sleep 3.5
	m=$(log_mark "$SYSLOG_FILE")
	ferry_run "$conf" -odi -f "$s@$SH_DOMAIN" "$r-back@$SH_DOMAIN" \
	    < "$(mkmsg "$r-back" "$r-back@$SH_DOMAIN")"
	check "$c: healed: exit 0, relay= host 1" eval 'expect_rc 0 &&
	    [ "$(fo_sent "$m" "$r-back" "$p1")" -eq 1 ] &&
	    [ "$(fo_sent "$m" "$r-back" "$fo_h2")" -eq 0 ]'
	check "$c: healed: host 1 has it" "$back" "$r-back"
	check "$c: still each once, nothing bounced" eval '
	    [ "$(smarthost_mail_count "$r")" -eq 4 ] &&
	    fo_nobounce "$m0" "$sp" "$s"'
}

# -- (a) down: nothing listens on host 1's port; healed: faultd there
fo_heal_down() { fault_start foa "$fo_pa" implicit >/dev/null ||
    nok "faultd foa start"; }
fo_back_down() { fo_fgot foa "$1"; }
fo_case down "$(fo_conf down 1s "$fo_pa" "$E2E_WORK/password")" "$fo_pa" \
    "" fo_heal_down fo_back_down
fault_stop foa

# -- (b) hung: faultd takes the connection and never greets (timeout 3)
fo_heal1() { fault_rules fo1; }
fo_back1() { fo_fgot fo1 "$1"; }
fault_rules fo1 "greeting stall"
fo_case hung "$(fo_conf hung 1s "$fo_p1" "$E2E_WORK/password")" "$fo_p1" \
    fo_conns1 fo_heal1 fo_back1

# -- (c) 421 at the greeting
fault_rules fo1 "greeting 421 4.3.2 too busy, try later"
fo_case 421 "$(fo_conf 421 1s "$fo_p1" "$E2E_WORK/password")" "$fo_p1" \
    fo_conns1 fo_heal1 fo_back1

# -- (d) the real Postfix (465-style) with a wrong password: the
# default mechanisms (SCRAM-SHA-256 is preferred), AUTH PLAIN pipelined
# with the envelope (Postfix offers PIPELINING), AUTH LOGIN alone
fo_back_pf() { landed "$1" 1; }
fo_i=0
for fo_mech in scram plain login; do
	fo_pw=$E2E_WORK/fo-pw$fo_i
	eval "fo_heal_$fo_mech() { printf '%s\n' \"\$SH_PASS\" > '$fo_pw'; }"
	fo_pm=$(log_mark "$(smarthost_log)")
	if [ "$fo_mech" = scram ]; then
		fo_c=$(fo_conf "pw-$fo_mech" 1s "$SH_PORT_SMTPS" "$fo_pw")
		fo_want="SASL SCRAM-SHA-256 authentication failed"
	else
		fo_c=$(fo_conf "pw-$fo_mech" 1s "$SH_PORT_SMTPS" "$fo_pw" \
		    "auth $fo_mech")
		fo_want="SASL ${fo_mech^^} authentication failed"
	fi
	FO_V=-v fo_case "pw-$fo_mech" "$fo_c" "$SH_PORT_SMTPS" \
	    fo_smtps_conns "fo_heal_$fo_mech" fo_back_pf
	check "pw-$fo_mech: Postfix logged the wrong password ($fo_want)" \
	    eval 'log_since "$(smarthost_log)" "$fo_pm" | grep -q "$fo_want"'
	# the first send's transcript: PLAIN went in one group with the
	# envelope, LOGIN alone (it waits for the 334s)
	case $fo_mech in
	plain) check "pw-plain: AUTH PLAIN pipelined with MAIL" awk '
	    /^> AUTH PLAIN/ { a = 1 } a && /^< / { exit }
	    a && /^> MAIL/ { q = 1 } END { exit !q }' "$FO_ERR1" ;;
	login) check "pw-login: AUTH LOGIN answered 334 before MAIL" awk '
	    /^> AUTH LOGIN/ { a = 1 } a && /^< 334/ { c = 1 }
	    a && /^> MAIL/ { exit } END { exit !c }' "$FO_ERR1" ;;
	esac
	fo_i=$((fo_i + 1))
done

# -- a held host is not connected to at all (failover_hold 1h)
fault_rules fo1 "greeting stall"
fo_c=$(fo_conf hold1h 1h "$fo_p1" "$E2E_WORK/password")
# fo_confined CONF: a ferry run with CONF has its seccomp filter (wait
# 10 s at most); t_74 checks the rest of what confinement means
fo_confined() {
	local p i
	for i in $(seq 100); do
		for p in $(pgrep -x ferry); do
			grep -qsF "$1" "/proc/$p/cmdline" &&
			    grep -qs '^Seccomp:[[:space:]]*2' \
			    "/proc/$p/status" && return 0
		done
		sleep 0.1
	done
	return 1
}
k=$(fo_conns1)
# in the background, to look at it while host 1 keeps it waiting
fo_n=$E2E_RUNS
( ferry_run "$fo_c" -odi -f "fo-h-s@$SH_DOMAIN" "fo-h@$SH_DOMAIN" \
    < "$(mkmsg fo-h-1 "fo-h@$SH_DOMAIN")"; exit "$RC" ) &
fo_bg=$!
check "hung host 1: the delivery waits for it confined (seccomp)" \
    fo_confined "$fo_c"
wait "$fo_bg"
RC=$?
OUT=$E2E_WORK/out.$fo_n
ERR=$E2E_WORK/err.$fo_n
E2E_RUNS=$((fo_n + 1))
check "hold 1h: first send: exit 0, host 1 tried, landed via host 2" eval '
    expect_rc 0 && [ "$(fo_conns1)" -eq $((k + 1)) ] && landed fo-h 1'
# -odi and the default mode start their connect early, while the
# message is spooled: not to a held host either
k=$(fo_conns1)
m=$(log_mark "$SYSLOG_FILE")
ferry_run "$fo_c" -odi -f "fo-h-s@$SH_DOMAIN" "fo-h@$SH_DOMAIN" \
    < "$(mkmsg fo-h-2 "fo-h@$SH_DOMAIN")"
fo_rc=$RC
ferry_run "$fo_c" -f "fo-h-s@$SH_DOMAIN" "fo-h@$SH_DOMAIN" \
    < "$(mkmsg fo-h-3 "fo-h@$SH_DOMAIN")"
check "hold 1h: the next -odi and default send: exit 0, via host 2" eval '
    [ "$fo_rc" -eq 0 ] && expect_rc 0 && landed fo-h 3 &&
    [ "$(fo_sent "$m" fo-h "$fo_h2")" -eq 2 ]'
check "hold 1h: the next -odi and default send: no connection to host 1" \
    eval '[ "$(fo_conns1)" -eq "$k" ]'
k=$(fo_conns1)
m=$(log_mark "$SYSLOG_FILE")
ferry_run "$fo_c" -odq -f "fo-h-s@$SH_DOMAIN" "fo-h@$SH_DOMAIN" \
    < "$(mkmsg fo-h-4 "fo-h@$SH_DOMAIN")"
ferry_run "$fo_c" -q < /dev/null
check "hold 1h: -q: exit 0, via host 2, each once" eval 'expect_rc 0 &&
    landed fo-h 4 && fo_once fo-h fo-h-1 fo-h-2 fo-h-3 fo-h-4 &&
    [ "$(fo_sent "$m" fo-h "$fo_h2")" -eq 1 ]'
check "hold 1h: -q: no connection to host 1 at all" eval '
    [ "$(fo_conns1)" -eq "$k" ]'

# -- the hold doubles with each further failure in a row: 3 s, then 6 s
# (queue runs: they do not connect early)
fault_rules fo1 "greeting 421 4.3.2 busy"
fo_c=$(fo_conf dbl 3s "$fo_p1" "$E2E_WORK/password")
# fo_dbl N: queue message N and run the queue; FO_NEW is how many
# times host 1 was connected to
fo_dbl() {
	local k
	ferry_run "$fo_c" -odq -f "fo-dbl-s@$SH_DOMAIN" "fo-dbl@$SH_DOMAIN" \
	    < "$(mkmsg "fo-dbl-$1" "fo-dbl@$SH_DOMAIN")"
	k=$(fo_conns1)
	ferry_run "$fo_c" -q < /dev/null
	FO_NEW=$(($(fo_conns1) - k))
}
fo_dbl 1
check "doubling: first failure, host 1 tried" eval '[ "$FO_NEW" -eq 1 ]'
sleep 3.5
fo_dbl 2
check "doubling: past the 3 s hold, host 1 tried again" eval \
    '[ "$FO_NEW" -eq 1 ]'
sleep 4.5
fo_dbl 3
check "doubling: 4.5 s after the second failure, still held (6 s)" eval \
    '[ "$FO_NEW" -eq 0 ]'
sleep 2.5
fo_dbl 4
check "doubling: past the 6 s hold, host 1 tried again" eval \
    '[ "$FO_NEW" -eq 1 ]'
check "doubling: the 4 landed once each via host 2, none queued" eval '
    landed fo-dbl 4 && fo_once fo-dbl fo-dbl-1 fo-dbl-2 fo-dbl-3 fo-dbl-4 &&
    [ "$(queued "$fo_c")" -eq 0 ]'

# -- up to 4 hosts: three down, the fourth takes it; a fifth is refused
fo_c=$(fo_conf four 1s "$fo_pd1" "$E2E_WORK/password")
sed -i "s/^port $fo_h2\$/port $fo_pd2/" "$fo_c"
printf '%s\n' "smarthost localhost" "port $fo_pa" \
    "smarthost localhost" "port $fo_h2" "tls starttls" "tls_builtin_ca no" \
    "tls_ca_file $SH_CA" "user $SH_USER" \
    "password_file $E2E_WORK/password" >> "$fo_c"
m=$(log_mark "$SYSLOG_FILE")
ferry_run "$fo_c" -odi -f "fo-4-s@$SH_DOMAIN" "fo-4@$SH_DOMAIN" \
    < "$(mkmsg fo-4 "fo-4@$SH_DOMAIN")"
check "4 hosts, 3 down: exit 0, landed once via host 4" eval 'expect_rc 0 &&
    landed fo-4 1 && [ "$(fo_sent "$m" fo-4 "$fo_h2")" -eq 1 ]'
printf '%s\n' "smarthost localhost" "port $SH_PORT_SMTPS" >> "$fo_c"
ferry_run "$fo_c" -odi -f "fo-4-s@$SH_DOMAIN" "fo-4@$SH_DOMAIN" \
    < "$E2E_WORK/fo-4.eml"
check "a fifth smarthost: a configuration error (78) naming the line" eval '
    expect_rc 78 && grep -q "fo-four.conf:[0-9]" "$ERR"'

# -- other ways to fail: a 421 mid-session, a TLS failure
# fo_once_via2 NAME PORT1 WHAT: one -odi with host 1 on PORT1 failing
# as WHAT says lands once through host 2, nothing bounced
fo_once_via2() {
	local c r=fo-$1
	c=$(fo_conf "$1" 1s "$2" "$E2E_WORK/password")
	m=$(log_mark "$SYSLOG_FILE")
	ferry_run "$c" -odi -f "$r-s@$SH_DOMAIN" "$r@$SH_DOMAIN" \
	    < "$(mkmsg "$r" "$r@$SH_DOMAIN")"
	check "$3 at host 1: exit 0, landed once via host 2" eval '
	    expect_rc 0 && landed "$r" 1 &&
	    [ "$(fo_sent "$m" "$r" "$fo_h2")" -eq 1 ] &&
	    [ "$(fault_got fo1 "e2e $r.eml")" -eq 0 ] &&
	    fo_nobounce "$m" "$(fo_spool "$c")" "$r-s"'
}
fault_rules fo1 "mail 421 4.3.2 going away"
fo_once_via2 mid421 "$fo_p1" "421 to MAIL"
fo_once_via2 tls "$SH_PORT_EXPIRED" "an expired certificate"

# -- a 5xx to the recipient is final: bounced, host 2 sees nothing
fault_rules fo1 "rcpt 550 5.1.1 no such user here"
fo_c=$(fo_conf rej 1s "$fo_p1" "$E2E_WORK/password")
m=$(log_mark "$SYSLOG_FILE")
fo_pm=$(log_mark "$(smarthost_log)")
ferry_run "$fo_c" -odi -f "fo-rej-s@$SH_DOMAIN" "fo-rej@$SH_DOMAIN" \
    < "$(mkmsg fo-rej "fo-rej@$SH_DOMAIN")"
check "550 to RCPT at host 1: exit 0, logged bounced by host 1" eval '
    expect_rc 0 && log_since "$SYSLOG_FILE" "$m" | grep -q \
    "to=<fo-rej@$SH_DOMAIN>, relay=[^ ,]*\]:$fo_p1, .*status=bounced"'
# the bounce goes to host 1 too, which refuses it: kept in failed/
check "550 to RCPT: the bounce was made" eval '[ "$(fault_bounced fo1 \
    "e2e fo-rej.eml" "$(fo_spool "$fo_c")")" -ge 1 ]'
# the spool keeps the refusal, not which host gave it: none is named
check "550 to RCPT: the bounce names no host, has no Remote-MTA" eval '
    b=$(grep -l -- "e2e fo-rej.eml" "$(fo_spool "$fo_c")"/failed/d* |
    head -1) && [ -n "$b" ] && grep -q "^Status: 5.1.1" "$b" &&
    grep -q "The smart host said:" "$b" && ! grep -q "^Remote-MTA:" "$b"'
check "550 to RCPT: host 2 never connected to, nothing queued" eval '
    ! log_since "$(smarthost_log)" "$fo_pm" |
    grep -q "smarthost/submission/smtpd.*connect from" &&
    [ "$(smarthost_mail_count fo-rej)" -eq 0 ] &&
    [ "$(queued "$fo_c")" -eq 0 ]'

# -- a 451 to RCPT is the message's answer, not the host's failure: it
# waits, and mailq's delay reason names the host that gave it
fault_rules fo1 "rcpt 451 4.3.0 try again later"
fo_c=$(fo_conf tmp 1s "$fo_p1" "$E2E_WORK/password")
ferry_run "$fo_c" -odi -f "fo-tmp-s@$SH_DOMAIN" "fo-tmp@$SH_DOMAIN" \
    < "$(mkmsg fo-tmp "fo-tmp@$SH_DOMAIN")"
check "451 to RCPT at host 1: deferred, not failed over" eval '
    [ "$(queued "$fo_c")" -eq 1 ] && [ "$(smarthost_mail_count fo-tmp)" \
    -eq 0 ]'
ferry_run "$fo_c" -bpj < /dev/null
check "451 to RCPT: mailq -j's delay_reason names host 1" grep -q \
    "\"delay_reason\": *\"localhost:$fo_p1: 451 4.3.0 try again later" \
    "$OUT"
ferry_run "$fo_c" -bp < /dev/null
check "451 to RCPT: so does mailq" grep -q \
    "localhost:$fo_p1: 451 4.3.0 try again later" "$OUT"
fault_rules fo1

# -- every host down: queued (deferred) as with one host, no bounce
fo_c=$(fo_conf alldown 1s "$fo_pd1" "$E2E_WORK/password")
sed -i "s/^port $fo_h2\$/port $fo_pd2/" "$fo_c"
fo_one=$(hostconf fo-down1 implicit "$fo_pd1" "bounce_window 0")
ferry_run "$fo_one" -odi -f "fo-dn-s@$SH_DOMAIN" "fo-dn@$SH_DOMAIN" \
    < "$(mkmsg fo-dn "fo-dn@$SH_DOMAIN")"
fo_rc1=$RC
m=$(log_mark "$SYSLOG_FILE")
ferry_run "$fo_c" -odi -f "fo-dn-s@$SH_DOMAIN" "fo-dn@$SH_DOMAIN" \
    < "$E2E_WORK/fo-dn.eml"
check "every host down, -odi: exit $fo_rc1 as with one host, queued" eval '
    expect_rc "$fo_rc1" && [ "$(queued "$fo_c")" -eq 1 ]'
ferry_run "$fo_c" -f "fo-dn-s@$SH_DOMAIN" "fo-dn@$SH_DOMAIN" \
    < "$E2E_WORK/fo-dn.eml"
check "every host down, default mode: exit 0, queued" eval '
    expect_rc 0 && [ "$(queued "$fo_c")" -eq 2 ]'
sleep 2.1
ferry_run "$fo_c" -q < /dev/null
check "every host down, -q: exit 0, both still queued, no bounce" eval '
    expect_rc 0 && [ "$(queued "$fo_c")" -eq 2 ] &&
    fo_nobounce "$m" "$(fo_spool "$fo_c")" fo-dn-s'

# -- every host held: all are tried in order anyway
fault_rules fo1 "greeting 421 4.3.2 busy"
fault_rules fo2 "greeting 421 4.3.2 busy"
fo_c=$(mkconf fo-allheld "smarthost localhost" "port $fo_p1" \
    "tls implicit" "tls_builtin_ca no" "tls_ca_file $SH_CA" \
    "user $SH_USER" "password_file $E2E_WORK/password" \
    "smarthost localhost" "port $fo_p2" "tls implicit" \
    "tls_builtin_ca no" "tls_ca_file $SH_CA" "user $SH_USER" \
    "password_file $E2E_WORK/password" "timeout 3" "bounce_window 0" \
    "failover_hold 1h")
ferry_run "$fo_c" -odq -f "fo-ah-s@$SH_DOMAIN" "fo-ah@$SH_DOMAIN" \
    < "$(mkmsg fo-ah "fo-ah@$SH_DOMAIN")"
k=$(fo_conns fo1)
k2=$(fo_conns fo2)
ferry_run "$fo_c" -q < /dev/null
check "both hosts 421: -q exits 0, queued, each host tried once" eval '
    expect_rc 0 && [ "$(queued "$fo_c")" -eq 1 ] &&
    [ "$(fo_conns fo1)" -eq $((k + 1)) ] &&
    [ "$(fo_conns fo2)" -eq $((k2 + 1)) ]'
fault_rules fo2
k=$(fo_conns fo1)
m=$(log_mark "$SYSLOG_FILE")
ferry_run "$fo_c" -q < /dev/null
check "both held, host 2 healthy: tried in order, host 2 takes it" eval '
    expect_rc 0 && [ "$(queued "$fo_c")" -eq 0 ] &&
    [ "$(fo_conns fo1)" -eq $((k + 1)) ] && fo_fgot fo2 fo-ah &&
    [ "$(fo_sent "$m" fo-ah "$fo_p2")" -eq 1 ]'

# -- a second block inherits nothing: host 1's keys stand before the
# first smarthost line (they are its), host 2 has no user and offers
# AUTH without requiring it: no AUTH may reach it
fault_rules fo2 authoptional
fo_c=$(mkconf fo-noinherit "user $SH_USER" \
    "password_file $E2E_WORK/fo-pw3" "port $SH_PORT_SMTPS" "tls implicit" \
    "tls_builtin_ca no" "tls_ca_file $SH_CA" "smarthost localhost" \
    "smarthost localhost" "port $fo_p2" "tls implicit" \
    "tls_builtin_ca no" "tls_ca_file $SH_CA" "timeout 3" "bounce_window 0")
fo_pm=$(log_mark "$(smarthost_log)")
fo_fm=$(log_mark "$(fault_log fo2)")
ferry_run "$fo_c" -odi -f "fo-ni-s@$SH_DOMAIN" "fo-ni@$SH_DOMAIN" \
    < "$(mkmsg fo-ni "fo-ni@$SH_DOMAIN")"
check "keys before the first smarthost are host 1's (AUTH refused)" eval '
    log_since "$(smarthost_log)" "$fo_pm" |
    grep -q "SASL [A-Z0-9-]* authentication failed"'
check "no inheritance: exit 0, host 2 took it without any AUTH" eval '
    expect_rc 0 && fo_fgot fo2 fo-ni &&
    ! log_since "$(fault_log fo2)" "$fo_fm" | grep -q "< AUTH"'
fault_rules fo2

# -- -bv checks every host
fo_bad=$(hostconf fo-bvbad implicit "$SH_PORT_SMTPS")
sed -i "s|^password_file .*|password_file $E2E_WORK/fo-pw3|" "$fo_bad"
ferry_run "$fo_bad" -bv < /dev/null
fo_rcbad=$RC
fo_c=$(fo_conf bv1 1s "$SH_PORT_SMTPS" "$E2E_WORK/fo-pw3")
ferry_run "$fo_c" -bv < /dev/null
check "-bv, host 1 wrong password, host 2 good: exit $fo_rcbad (host 1's)" \
    eval '[ "$RC" -ne 0 ] && expect_rc "$fo_rcbad"'
check "-bv: host 2 works: its line on stdout" grep -qw "$fo_h2" "$OUT"
check "-bv: host 1's error on stderr, not on stdout" eval '
    grep -qw "$SH_PORT_SMTPS" "$ERR" && ! grep -qw "$SH_PORT_SMTPS" "$OUT"'
fo_one=$(hostconf fo-bvdown implicit "$fo_pd1")
ferry_run "$fo_one" -bv < /dev/null
fo_rcdown=$RC
fo_c=$(mkconf fo-bv2 "smarthost localhost" "port $SH_PORT_SMTPS" \
    "tls implicit" "tls_builtin_ca no" "tls_ca_file $SH_CA" \
    "user $SH_USER" "password_file $E2E_WORK/password" \
    "smarthost localhost" "port $fo_pd1" "tls implicit" "timeout 3")
ferry_run "$fo_c" -bv < /dev/null
check "-bv, host 1 good, host 2 down: exit $fo_rcdown (host 2's)" eval '
    [ "$RC" -ne 0 ] && expect_rc "$fo_rcdown"'
check "-bv: host 1's line on stdout, host 2's error on stderr" eval '
    grep -qw "$SH_PORT_SMTPS" "$OUT" && grep -qw "$fo_pd1" "$ERR" &&
    ! grep -qw "$fo_pd1" "$OUT"'
fo_c=$(fo_conf bv3 1s "$SH_PORT_SMTPS" "$E2E_WORK/password")
ferry_run "$fo_c" -bv < /dev/null
check "-bv, both hosts good: exit 0, a line for each, no error" eval '
    expect_rc 0 && grep -qw "$SH_PORT_SMTPS" "$OUT" &&
    grep -qw "$fo_h2" "$OUT" && [ ! -s "$ERR" ]'

# -- no config file: FERRY_*_2 name host 2, run as t_91 runs env mode
fo_etc=$E2E_WORK/fo-etc
fo_esp=$E2E_WORK/spool-fo-env
mkdir -p "$fo_etc" "$fo_esp"
chmod 700 "$fo_esp"
cp /etc/hosts /etc/passwd /etc/group "$fo_etc/"
[ -e /etc/nsswitch.conf ] && cp /etc/nsswitch.conf "$fo_etc/"
fo_env="env FERRY_SMARTHOST=localhost FERRY_PORT=$SH_PORT_SMTPS
    FERRY_TLS=implicit FERRY_TLS_BUILTIN_CA=no FERRY_TLS_CA_FILE=$SH_CA
    FERRY_USER=$SH_USER FERRY_PASSWORD_FILE=$E2E_WORK/fo-pw3
    FERRY_SMARTHOST_2=localhost FERRY_PORT_2=$fo_h2 FERRY_TLS_2=starttls
    FERRY_TLS_BUILTIN_CA_2=no FERRY_TLS_CA_FILE_2=$SH_CA
    FERRY_USER_2=$SH_USER FERRY_PASSWORD_FILE_2=$E2E_WORK/password
    FERRY_SPOOL=$fo_esp FERRY_TIMEOUT=5 FERRY_BOUNCE_WINDOW=0"
m=$(log_mark "$SYSLOG_FILE")
FERRY_ETC=$fo_etc FERRY_NOCONF=1 FERRY_WRAP=$fo_env ferry_run x -odi \
    -f "fo-env-s@$SH_DOMAIN" "fo-env@$SH_DOMAIN" \
    < "$(mkmsg fo-env "fo-env@$SH_DOMAIN")"
check "env FERRY_*_2: exit 0, landed once via host 2" eval 'expect_rc 0 &&
    landed fo-env 1 && [ "$(fo_sent "$m" fo-env "$fo_h2")" -eq 1 ] &&
    [ "$(ls "$fo_esp" | grep -c "^q")" -eq 0 ] && [ -s "$fo_esp/host-state" ]'

# -- no password anywhere: this file's ferry output, the log, host-state
fo_leak() {
	local f=() i p
	for ((i = fo_runs; i < E2E_RUNS; i++)); do
		f+=("$E2E_WORK/out.$i" "$E2E_WORK/err.$i")
	done
	for p in "$SH_PASS" "${fo_wrong[@]}"; do
		cat "${f[@]}" "$E2E_WORK"/spool-fo*/host-state 2>/dev/null |
		    grep -qF -- "$p" && { echo "     $p found"; return 1; }
		log_since "$SYSLOG_FILE" "$fo_log0" | grep -qF -- "$p" &&
		    { echo "     $p in the log"; return 1; }
	done
	return 0
}
check "no password in output, -bv, the log or host-state" fo_leak
check "host-state files exist to look at" eval '
    ls "$E2E_WORK"/spool-fo*/host-state >/dev/null 2>&1'
fault_stop fo1
fault_stop fo2
