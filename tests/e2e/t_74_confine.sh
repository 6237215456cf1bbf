# t_74_confine.sh: the delivery process is confined before it reads a
# byte from the smart host (src/confine.h). The fault server stalls the
# greeting, so ferry waits in its first read: there /proc/PID/status
# shows Seccomp 2 and NoNewPrivs 1, and -v says Landlock is on where
# this kernel has it. A confined process killed with SIGSYS (what a
# seccomp violation does) keeps its message queued; the -q interval
# loop logs the kill, and its next run delivers; a delivery with no
# parent to see it is reported by the next one, from its marker. `confine no` turns it
# all off. That an open outside the spool fails and exec kills is
# tests/unit/confine_test.c (a forked child, no backdoor in ferry).

. "$FERRY_ROOT/tests/e2e/lib/fault.sh"
cport=$((SH_PORT_BASE + 74))
fault_start cf "$cport" starttls >/dev/null || nok "fault server start"
cfconf=$(mkconf confine "smarthost localhost" "port $cport" \
    "tls starttls" "tls_builtin_ca no" "tls_ca_file $SH_CA" \
    "user $SH_USER" "password_file $E2E_WORK/password" "timeout 30")
offconf=$(mkconf confine-off "smarthost localhost" "port $cport" \
    "tls starttls" "tls_builtin_ca no" "tls_ca_file $SH_CA" \
    "user $SH_USER" "password_file $E2E_WORK/password" "timeout 30" \
    "confine no")
# The Landlock ABI this kernel offers (landlock_create_ruleset with
# LANDLOCK_CREATE_RULESET_VERSION; 444 on every Linux arch), or < 1.
ll_abi=$(python3 -c 'import ctypes
print(ctypes.CDLL(None, use_errno=True).syscall(444, None, 0, 1))')

# ferry_pid CONF: the ferry running with that config (its pid), waiting
# at most 10 s for it to appear.
ferry_pid() {
	local p i
	for i in $(seq 100); do
		for p in $(pgrep -x ferry); do
			{ tr '\0' '\n' < "/proc/$p/cmdline"; } 2>/dev/null |
			    grep -qxF "$1" && { echo "$p"; return 0; }
		done
		sleep 0.1
	done
	return 1
}
# status_of PID FIELD: that line's value in /proc/PID/status.
status_of() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }
# confined PID: wait (10 s at most) until PID has its seccomp filter,
# i.e. it has connected and waits for the greeting.
confined() {
	local i
	for i in $(seq 100); do
		[ "$(status_of "$1" Seccomp)" = 2 ] && return 0
		sleep 0.1
	done
	return 1
}

# 1. A stalled foreground delivery: confined, and what -v says of it.
fault_rules cf "greeting stall"
msg=$(mkmsg confine-1 "rcpt@$SH_DOMAIN")
err=$E2E_WORK/err.$E2E_RUNS
# in the background: its own E2E_RUNS stays in its subshell
ferry_run "$cfconf" -v -odi -f "s@$SH_DOMAIN" "rcpt@$SH_DOMAIN" \
    < "$msg" &
runner=$!
E2E_RUNS=$((E2E_RUNS + 1))
pid=$(ferry_pid "$cfconf") || nok "the stalled ferry runs"
if [ -n "$pid" ]; then
	check "stalled delivery: Seccomp 2 (filter)" confined "$pid"
	check "stalled delivery: NoNewPrivs 1" \
	    eval '[ "$(status_of "$pid" NoNewPrivs)" = 1 ]'
	# SIGSYS, as the kernel sends on a seccomp violation
	kill -SYS "$pid"
fi
wait "$runner"
check "-v says it is confined" grep -q "delivery confined: no_new_privs" \
    "$err"
if [ "$ll_abi" -ge 2 ]; then
	check "Landlock ABI $ll_abi: on" grep -q "landlock-abi$ll_abi" "$err"
else
	check "no Landlock here (ABI $ll_abi): said so" grep -q \
	    "no-landlock" "$err"
fi
check "killed with SIGSYS: the message stays queued" \
    eval '[ "$(queued "$cfconf")" -eq 1 ]'

# 2. The -q interval loop: its run is a child; killed by SIGSYS, the
# loop logs it, and once the server answers the next run delivers.
mark=$(log_mark "$SYSLOG_FILE")
ferry_run "$cfconf" -q2s < /dev/null &
daemon=$!
E2E_RUNS=$((E2E_RUNS + 1))
loop=$(ferry_pid "$cfconf") || nok "the -q2s loop runs"
child=
for i in $(seq 100); do
	child=$(pgrep -P "$loop" -x ferry) && break
	sleep 0.1
done
if [ -n "$child" ] && confined "$child"; then
	ok "the -q2s run is a confined child"
	check "the loop itself is not confined" \
	    eval '[ "$(status_of "$loop" Seccomp)" = 0 ]'
	fault_rules cf
	kill -SYS "$child"
else
	nok "a confined child of the -q2s loop"
fi
delivered() { [ "$(fault_count cf)" -ge 1 ]; }
fault_wait_count cf 1 20 >/dev/null
check "the next run of the loop delivers it" delivered
check "the loop logged the kill" eval 'log_since "$SYSLOG_FILE" "$mark" |
    grep -q "killed: it broke its confinement (seccomp)"'
# the -odi killed in 1 had no parent to see it: its marker tells
check "the next delivery logged the -odi one's death (its marker)" \
    eval 'log_since "$SYSLOG_FILE" "$mark" |
    grep -q "delivery process $pid ended while confined"'
[ -n "$loop" ] && kill "$loop"
wait "$daemon"
check "queue empty after" eval '[ "$(queued "$cfconf")" -eq 0 ]'
# a run that ends well removes its marker; the dead ones were reported
ferry_run "$cfconf" -q < /dev/null
check "no marker left" eval '[ -z "$(ls "$E2E_WORK/spool-confine" |
    grep "^confin")" ]'

# 3. confine no: the same stalled delivery is not confined.
fault_clear cf
fault_rules cf "greeting stall"
msg=$(mkmsg confine-3 "rcpt@$SH_DOMAIN")
ferry_run "$offconf" -odi -f "s@$SH_DOMAIN" "rcpt@$SH_DOMAIN" < "$msg" &
runner=$!
E2E_RUNS=$((E2E_RUNS + 1))
pid=$(ferry_pid "$offconf") || nok "the stalled ferry runs (confine no)"
if [ -n "$pid" ]; then
	# it is in the greeting's read once the server logged the connect
	for i in $(seq 100); do
		grep -q "connect from" "$(fault_log cf)" && break
		sleep 0.1
	done
	check "confine no: Seccomp 0, NoNewPrivs 0" eval '[ "$(status_of \
	    "$pid" Seccomp)" = 0 ] && [ "$(status_of "$pid" NoNewPrivs)" = 0 ]'
	kill -KILL "$pid"
fi
wait "$runner"
fault_rules cf
ferry_run "$offconf" -q < /dev/null
check "confine no: delivered by the next run" \
    eval '[ "$(queued "$offconf")" -eq 0 ]'
fault_stop cf
