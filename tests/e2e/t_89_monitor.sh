# t_89_monitor.sh: the queue as monitoring reads it. mailq -j parsed by
# python3's json, -bc's line by a strict checker of the Nagios plugin
# guidelines' format, the metrics file by prometheus_client's parser;
# the state a delivery leaves for them; no secret in any of it.

"$FERRY_ROOT/scripts/need" python3 python3-prometheus-client >/dev/null ||
    nok "install python3-prometheus-client"
MON="/usr/bin/python3 $FERRY_ROOT/tests/e2e/lib/monitor.py"

msp=$E2E_WORK/spool-mon
mkdir -p "$msp" "$E2E_WORK/prom"
chmod 700 "$msp"
prom=$E2E_WORK/prom/ferry.prom
good=$(hostconf mon implicit "$SH_PORT_SMTPS" "spool $msp" \
    "metrics_file $prom")
# the same spool behind a wrong password: every try is deferred
wrongpw=Wr0ng-m0n-Pass-77
(umask 077 && printf '%s\n' "$wrongpw" > "$E2E_WORK/monpass")
bad=$(mkconf monbad "smarthost localhost" "port $SH_PORT_SMTPS" \
    "tls implicit" "tls_builtin_ca no" "tls_ca_file $SH_CA" \
    "user $SH_USER" "password_file $E2E_WORK/monpass" "timeout 20" \
    "spool $msp" "metrics_file $prom")
ln -sf "$FERRY" "$E2E_WORK/mailq"

# json_ok: the last run's stdout parses; its summary in $E2E_WORK/j
json_ok() { $MON json "$OUT" > "$E2E_WORK/j"; }
# nagios_ok: the last run's stdout is a plugin line matching its exit
nagios_ok() { $MON nagios "$OUT" "$RC" > "$E2E_WORK/n"; }
# perf NAME: a value from the last nagios_ok
perf() { sed -n "s/^$1 //p" "$E2E_WORK/n"; }
prom_ok() { $MON prom "$prom" > "$E2E_WORK/p"; }
metric() { sed -n "s/^$1 //p" "$E2E_WORK/p"; }

# -- an empty queue
ferry_run "$good" -bpj < /dev/null
check "empty: -bpj exits 0" expect_rc 0
check "empty: -bpj prints nothing" test ! -s "$OUT"
ferry_run "$good" -bc < /dev/null
check "empty: -bc is OK (0)" expect_rc 0
check "empty: a plugin line" nagios_ok
check "empty: no delivery yet" eval '[ "$(perf since_success)" = "U;;;0" ] &&
    [ "$(perf queued)" = "0;;;0" ]'

# -- two messages deferred by an AUTH failure
msg=$(mkmsg mon "mon@$SH_DOMAIN")
ferry_run "$bad" -odq -f "s@$SH_DOMAIN" "mon@$SH_DOMAIN" \
    "Jane <mon2@$SH_DOMAIN>" < "$msg"
ferry_run "$bad" -odq -f "" "mon@$SH_DOMAIN" < "$msg"
ferry_run "$bad" -q < /dev/null
check "deferred: -q exits 0" expect_rc 0
check "deferred: both still queued" eval '[ "$(queued "$bad")" -eq 2 ]'
ferry_run "$good" -bpj < /dev/null
check "-bpj: exit 0" expect_rc 0
check "-bpj: every line parses as postqueue -j" json_ok
check "-bpj: two entries, deferred, 2 and 1 recipients" eval '
    [ "$(awk "{print \$2, \$3}" "$E2E_WORK/j" | sort | tr "\n" " ")" = \
    "deferred 1 deferred 2 " ]'
check "-bpj: the null sender is \"\"" grep -q '^[0-9a-f]* deferred 1 ""' \
    "$E2E_WORK/j"
check "-bpj: addresses and the delay reason (AUTH refused)" eval '
    grep -q "\"mon@$SH_DOMAIN\" \"mon2@$SH_DOMAIN\" | \"[^\"]*535" \
    "$E2E_WORK/j"'
FERRY_BIN=$E2E_WORK/mailq ferry_run "$good" -j < /dev/null
check "mailq -j: the same lines" eval 'json_ok && [ "$(wc -l < "$OUT")" -eq 2 ]'
ferry_run "$good" -j "x@$SH_DOMAIN" < "$msg"
check "-j when sending: usage error" expect_rc 64

check "metrics: written by the -q run" prom_ok
check "metrics: 2 queued, an error, no success" eval '
    [ "$(metric ferry_queue_messages)" = 2.0 ] &&
    [ "$(metric ferry_last_success_timestamp_seconds)" = 0.0 ] &&
    [ "$(metric ferry_last_error_timestamp_seconds)" != 0.0 ] &&
    grep -q "^ferry_last_error_info{reason=\"[^\"]*535" "$E2E_WORK/p"'
check "metrics: mode 0644, no temporary file left" eval '
    [ "$(stat -c %a "$prom")" = 644 ] &&
    [ "$(ls "$E2E_WORK/prom")" = ferry.prom ]'

ferry_run "$good" -bc -w queued=1 -c queued=5 < /dev/null
check "-bc -w queued=1 with 2 queued: WARNING (1)" expect_rc 1
check "-bc WARNING: a plugin line" nagios_ok
check "-bc: the last error in the text, perfdata with limits" eval '
    grep -q "last error [0-9]* s ago: .*535" "$OUT" &&
    [ "$(perf queued)" = "2;1;5;0" ] && [ "$(perf since_success)" = "U;;;0" ]'
ferry_run "$good" -bc -w age=1h -c queued=1 < /dev/null
check "-bc -c queued=1: CRITICAL (2)" eval 'expect_rc 2 && nagios_ok'
ferry_run "$good" -bc -c since=0 < /dev/null
check "-bc -c since=0, never delivered while queued: CRITICAL" eval '
    expect_rc 2 && nagios_ok'
ferry_run "$good" -bc -w age=1h,failed=0 < /dev/null
check "-bc under every limit: OK" eval 'expect_rc 0 && nagios_ok'

# -- failed/ counts and is listed as hold
id=$(ls "$msp" | sed -n 's/^q//p' | head -1)
mv "$msp/q$id" "$msp/d$id" "$msp/failed/"
ferry_run "$good" -bc -w failed=0 < /dev/null
check "-bc -w failed=0 with one in failed/: WARNING" eval 'expect_rc 1 &&
    nagios_ok && [ "$(perf failed)" = "1;0;;0" ]'
ferry_run "$good" -bpj < /dev/null
check "-bpj: the failed/ entry as hold" eval 'json_ok &&
    grep -q "^$id hold" "$E2E_WORK/j"'
mv "$msp/failed/q$id" "$msp/failed/d$id" "$msp/"

# -- delivered: the state says so, the error is no longer news
ferry_run "$good" -q < /dev/null
check "good -q: delivered" eval 'landed mon 2 && landed mon2 1 &&
    [ "$(queued "$good")" -eq 0 ]'
ferry_run "$good" -bc -w queued=0 -c since=1h < /dev/null
check "after delivery: OK" eval 'expect_rc 0 && nagios_ok'
check "after delivery: since_success is a number, no error text" eval '
    perf since_success | grep -q "^[0-9][0-9]*s;" &&
    ! grep -q "last error" "$OUT"'
check "metrics after delivery: 0 queued, a success" eval 'prom_ok &&
    [ "$(metric ferry_queue_messages)" = 0.0 ] &&
    [ "$(metric ferry_last_success_timestamp_seconds)" != 0.0 ]'
check "state file: in the spool, no secret" eval '[ -f "$msp/monitor-state" ] &&
    ! grep -q -e "$SH_PASS" -e "$wrongpw" "$msp/monitor-state"'

# -- a foreground send notes its success too
rm -f "$msp/monitor-state"
ferry_run "$good" -odi -f "s@$SH_DOMAIN" "mon@$SH_DOMAIN" < "$msg"
check "-odi: the send notes the success" eval 'expect_rc 0 &&
    grep -q "^ok [1-9]" "$msp/monitor-state"'

# -- UNKNOWN: the plugin's 3, on stdout, with why
ferry_run "$good" -bc -w colour=1 < /dev/null
check "-bc -w colour=1: UNKNOWN (3)" eval 'expect_rc 3 && nagios_ok &&
    grep -q "colour" "$OUT"'
ferry_run "$good" -bc -x < /dev/null
check "-bc -x: UNKNOWN (3)" eval 'expect_rc 3 && nagios_ok'
nosp=$(mkconf monnosp "smarthost localhost" "spool $E2E_WORK/no-such-spool")
ferry_run "$nosp" -bc < /dev/null
check "-bc with no spool: UNKNOWN (3)" eval 'expect_rc 3 && nagios_ok &&
    grep -q "no-such-spool" "$OUT"'
ferry_run "$E2E_WORK/no-such.conf" -bc < /dev/null
check "-bc with no config: UNKNOWN (3)" eval 'expect_rc 3 && nagios_ok'

# -- addresses that are hard to quote
ferry_run "$good" -odq -f "s@$SH_DOMAIN" "\"q\\\"uote\\\\d\"@$SH_DOMAIN" \
    "j$(printf '\303\266')rg@$SH_DOMAIN" < "$msg"
ferry_run "$good" -bpj < /dev/null
check "-bpj: quotes, backslashes and UTF-8 round-trip through json" eval '
    json_ok && grep -qF "\"\\\"q\\\\\\\"uote\\\\\\\\d\\\"@$SH_DOMAIN\"" \
    "$E2E_WORK/j" && grep -q "\"j\\\\u00f6rg@$SH_DOMAIN\"" "$E2E_WORK/j"'

# -- the check reads the listing, not every entry
for i in $(seq 20); do
	ferry_run "$good" -odq -f "s@$SH_DOMAIN" "mon@$SH_DOMAIN" < "$msg"
done
FERRY_WRAP="strace -f -e trace=openat -o $E2E_WORK/bc.strace" \
    ferry_run "$good" -bc < /dev/null
check "-bc with 21 queued: opens one q file, not 21" eval '
    [ "$(grep -c "\"q[0-9a-f]\{16\}\"" "$E2E_WORK/bc.strace")" -eq 1 ]'
FERRY_WRAP="strace -f -e trace=openat -o $E2E_WORK/bpj.strace" \
    ferry_run "$good" -bpj < /dev/null
check "-bpj with 21 queued: reads each q file once" eval '
    [ "$(grep -c "\"q[0-9a-f]\{16\}\"" "$E2E_WORK/bpj.strace")" -eq 21 ]'

# -- failover: mail flows through the second host while the first is
# dead; the check and the metrics must still show it (issue 26)
for dead in $(seq $((SH_PORT_BASE + 399)) -1 $((SH_PORT_BASE + 300))); do
	[ -z "$(_sh_listening "$dead")" ] && break
done
fsp=$E2E_WORK/spool-monfo
mkdir -p "$fsp" && chmod 700 "$fsp"
fo=$(mkconf monfo "smarthost 127.0.0.1" "port $dead" "tls implicit" \
    "smarthost localhost" "port $SH_PORT_SMTPS" "tls implicit" \
    "user $SH_USER" "password_file $E2E_WORK/password" \
    "tls_builtin_ca no" "tls_ca_file $SH_CA" "timeout 20" \
    "spool $fsp" "metrics_file $prom" "failover_hold 1h")
ferry_run "$fo" -f "s@$SH_DOMAIN" "monfo@$SH_DOMAIN" < "$msg"
check "failover: sent through the second host" eval 'expect_rc 0 &&
    smarthost_wait_mail monfo 1 20'
ferry_run "$fo" -bc < /dev/null
check "failover: -bc is OK without a held limit" eval 'expect_rc 0 &&
    nagios_ok'
check "failover: -bc names the held host, held_hosts=1" eval '
    grep -q "held: 127.0.0.1:$dead (1 failures, [0-9]* s more) |" "$OUT" &&
    [ "$(perf held_hosts)" = "1;;;0" ]'
ferry_run "$fo" -bc -w held=0 < /dev/null
check "failover: -bc -w held=0: WARNING (1)" eval 'expect_rc 1 && nagios_ok'
ferry_run "$fo" -q < /dev/null
check "failover: metrics: each host's hold and failures" eval 'prom_ok &&
    [ "$(metric "ferry_smarthost_held{smarthost=\"127.0.0.1:$dead\"}")" \
    = 1.0 ] &&
    [ "$(metric "ferry_smarthost_held{smarthost=\"localhost:$SH_PORT_SMTPS\"}")" \
    = 0.0 ] &&
    [ "$(metric "ferry_smarthost_failures{smarthost=\"127.0.0.1:$dead\"}")" \
    = 1.0 ]'

check "no password in any monitoring output" eval '! cat "$E2E_WORK"/out.* \
    "$prom" | grep -q -e "$SH_PASS" -e "$wrongpw"'
