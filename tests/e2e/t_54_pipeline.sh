# t_54_pipeline.sh: pipelined AUTH, envelopes sent behind the last
# message's end, QUIT with the data, and BDAT (issue 14). Each reply
# still decides exactly its own command's recipients: a 4xx or 5xx on
# the pipelined AUTH, MAIL, RCPT, DATA, each BDAT chunk, the end of
# data, the next message's envelope after '.', and a 421 mid-queue,
# each with DATA and with CHUNKING. At the end of every case the
# server behaves, and each message has arrived exactly once for each
# recipient (or bounced), nothing lost, nothing twice.

. "$FERRY_ROOT/tests/e2e/lib/fault.sh"
pport=$((SH_PORT_BASE + 31))
fault_start pl "$pport" implicit >/dev/null || nok "fault server start"
plconf=$(mkconf pipeline "smarthost localhost" "port $pport" \
    "tls implicit" "tls_builtin_ca no" "tls_ca_file $SH_CA" \
    "user $SH_USER" "password_file $E2E_WORK/password" "auth plain" \
    "timeout 5" "bounce_window 0")

# pl_got TAG RCPT: messages (not bounces) holding TAG saved for RCPT
pl_got() { fault_got pl "$1" "$2"; }
# pl_bounced TAG: bounces that quote TAG; the same server may refuse
# the bounce too, and then it waits in failed/ for the admin
pl_bounced() { fault_bounced pl "$1" "$E2E_WORK"/spool-pipe*; }
# pl_all_once MODE: the four queued messages arrived once each
pl_all_once() {
	local i
	for i in 1 2 3 4; do
		[ "$(pl_got "body plq-$1-$i" a)" -eq 1 ] || return 1
	done
}
# pl_sent MODE: how many of the four queued messages arrived
pl_sent() {
	local i n=0
	for i in 1 2 3 4; do
		n=$((n + $(pl_got "body plq-$1-$i" a)))
	done
	echo "$n"
}
pl_since() { log_since "$(fault_log pl)" "$1"; }
# pl_ahead: 1 when the -v trace shows two messages' MAILs out before
# the first of them was answered "queued" (they were pipelined)
pl_ahead() {
	awk '/^> MAIL FROM/ { m++ } /^< 250 .*queued/ { q++ }
	    m - q >= 2 { ok = 1 } END { print ok + 0 }' "$ERR"
}
# pl_one MODE RULE WANT_A WANT_B RC: one message to a@ and b@ under
# RULE; WANT is "now" (delivered at once), "later" (queued, delivered
# by the run after) or "bounce"; RC the exit status.
pl_one() {
	local mode=$1 rule=$2 wa=$3 wb=$4 rc=$5 tag
	tag="pl-$mode-${rule// /-}"
	printf 'Subject: %s\n\nbody %s\n' "$tag" "$tag" > "$E2E_WORK/pl.eml"
	if [ "$mode" = chunking ]; then
		fault_rules pl chunking "$rule"
	else
		fault_rules pl "$rule"
	fi
	ferry_run "$plconf" -odi -f "s@$SH_DOMAIN" "a@$SH_DOMAIN" \
	    "b@$SH_DOMAIN" < "$E2E_WORK/pl.eml"
	check "$mode, $rule: exit $rc" expect_rc "$rc"
	check "$mode, $rule: a now? ($wa)" eval '[ "$(pl_got "body $tag" a)" \
	    -eq "$([ "$wa" = now ] && echo 1 || echo 0)" ]'
	check "$mode, $rule: b now? ($wb)" eval '[ "$(pl_got "body $tag" b)" \
	    -eq "$([ "$wb" = now ] && echo 1 || echo 0)" ]'
	[ "$mode" = chunking ] && fault_rules pl chunking || fault_rules pl
	ferry_run "$plconf" -q < /dev/null
	check "$mode, $rule: in the end, a once, b once, or bounced" eval '
	    [ "$(pl_got "body $tag" a)" -eq "$([ "$wa" = bounce ] && echo 0 ||
	    echo 1)" ] && [ "$(pl_got "body $tag" b)" -eq "$([ "$wb" = \
	    bounce ] && echo 0 || echo 1)" ] && [ "$(pl_bounced "$tag")" -eq \
	    "$([ "$wa$wb" != "${wa#bounce}${wb#bounce}" ] && echo 1 ||
	    echo 0)" ]'
	check "$mode, $rule: queue empty" eval '[ "$(queued "$plconf")" -eq 0 ]'
}

for mode in data chunking; do
	# -- AUTH PLAIN pipelined with the envelope: its reply decides all
	[ "$mode" = chunking ] && fault_rules pl chunking || fault_rules pl
	printf 'Subject: pl-group\n\nbody pl-group\n' > "$E2E_WORK/pl.eml"
	ferry_run "$plconf" -odi -v -f "s@$SH_DOMAIN" "a@$SH_DOMAIN" \
	    < "$E2E_WORK/pl.eml"
	# DATA waits for its 354; BDAT needs no reply before QUIT
	[ "$mode" = chunking ] && last=QUIT || last=DATA
	check "$mode: AUTH, envelope ... $last in one group" eval '
	    [ "$RC" -eq 0 ] && awk "/^> AUTH PLAIN/ { a = 1 }
	    a && /^< / { exit } a && /^> $last/ { q = 1 } END { exit !q }" \
	    "$ERR" && grep -q "^> QUIT" "$ERR" &&
	    ! grep -q "^< 221" "$ERR"'
	pl_one "$mode" "auth 535 5.7.8 bad credentials" later later 78
	check "$mode: refused AUTH: reason in the log" grep -q \
	    "AUTH: 535 5.7.8 bad credentials" "$E2E_WORK/syslog"
	pl_one "$mode" "auth 454 4.7.0 try later" later later 0
	pl_one "$mode" "auth 421 4.3.2 going away" later later 0
	# -- MAIL, RCPT, DATA or each chunk, end of data
	pl_one "$mode" "mail 451 4.3.0 later" later later 0
	pl_one "$mode" "mail 553 5.7.1 not you" bounce bounce 0
	pl_one "$mode" "rcpt#1 450 4.2.1 busy" later now 0
	pl_one "$mode" "rcpt#2 550 5.1.1 no such user" now bounce 0
	pl_one "$mode" "rcpt 550 5.1.1 nobody" bounce bounce 0
	pl_one "$mode" "eod 451 4.3.0 later" later later 0
	pl_one "$mode" "eod 554 5.6.0 refused" bounce bounce 0
	pl_one "$mode" "mail 421 4.3.2 going away" later later 0
	if [ "$mode" = data ]; then
		pl_one "$mode" "data 451 4.3.0 later" later later 0
		pl_one "$mode" "data 554 5.5.1 no" bounce bounce 0
	else
		pl_one "$mode" "bdat#1 451 4.3.0 later" later later 0
		pl_one "$mode" "bdat#1 554 5.6.0 no" bounce bounce 0
	fi
done

# -- BDAT in several chunks: each chunk's reply counts
{ printf 'Subject: pl-big\n\n'; seq 1 20000 | sed 's/$/ pl-big line/'; } \
    > "$E2E_WORK/pl-big.eml"
for rule in "bdat#2 451 4.3.0 later" "bdat#3 554 5.6.0 no" \
    "bdat#2 421 4.3.2 bye"; do
	fault_rules pl chunking "$rule"
	m=$(log_mark "$(fault_log pl)")
	ferry_run "$plconf" -odi -f "s@$SH_DOMAIN" "a@$SH_DOMAIN" \
	    < "$E2E_WORK/pl-big.eml"
	check "big, $rule: sent in chunks, exit 0" eval '[ "$RC" -eq 0 ] &&
	    [ "$(pl_since "$m" | grep -c "< BDAT")" -ge 2 ]'
	check "big, $rule: not taken" eval '[ "$(pl_since "$m" |
	    grep -c "saved .* to <a@")" -eq 0 ]'
	fault_rules pl chunking
	ferry_run "$plconf" -q < /dev/null
done
check "big: delivered once (two deferrals), bounced once" eval '
    [ "$(pl_got "20000 pl-big line" a)" -eq 2 ] &&
    [ "$(pl_bounced "Subject: pl-big")" -eq 1 ]'
f=$(fault_mail_files pl | xargs -r grep -l "20000 pl-big line" |
    xargs -r grep -L '^X-Fault-From: <>' | head -1)
check "big: body intact through the chunks" eval '[ -n "$f" ] &&
    diff <(body "$E2E_WORK/pl-big.eml") <(sed "1,/^X-Fault-To/d" "$f" |
    body /dev/stdin)'

# -- a queue: each envelope goes behind the message before; a failure
# on one decides that message alone. A spool of its own, so that what
# the cases above left (bounces of bounces) does not mix in.
plconf=$(mkconf pipeq "smarthost localhost" "port $pport" \
    "tls implicit" "tls_builtin_ca no" "tls_ca_file $SH_CA" \
    "user $SH_USER" "password_file $E2E_WORK/password" "auth plain" \
    "timeout 5" "bounce_window 0")
pl_queue() {
	local mode=$1 rule=$2 i
	[ "$mode" = chunking ] && fault_rules pl chunking || fault_rules pl
	for i in 1 2 3 4; do
		printf 'Subject: plq-%s-%s\n\nbody plq-%s-%s\n' "$mode" "$i" \
		    "$mode" "$i" > "$E2E_WORK/pl.eml"
		ferry_run "$plconf" -odq -f "s@$SH_DOMAIN" "a@$SH_DOMAIN" \
		    < "$E2E_WORK/pl.eml"
	done
	if [ "$mode" = chunking ]; then
		fault_rules pl chunking "$rule"
	else
		fault_rules pl "$rule"
	fi
	m=$(log_mark "$(fault_log pl)")
	ferry_run "$plconf" -v -q < /dev/null
}
for mode in data chunking; do
	# eod#2: the second message's end; mail#3: the envelope after '.'
	pl_queue "$mode" "eod#2 451 4.3.0 later"
	# the run goes in queue-ID order, not quite arrival order
	check "$mode queue, eod#2 451: three sent, one kept" eval '
	    [ "$(pl_sent "$mode")" -eq 3 ] && [ "$(queued "$plconf")" -eq 1 ]'
	check "$mode queue: one session" eval '[ "$(pl_since "$m" |
	    grep -c "connect from")" -eq 1 ]'
	check "$mode queue: the next MAIL went before the last 250" eval \
	    '[ "$(pl_ahead)" -eq 1 ]'
	if [ "$mode" = chunking ]; then
		check "chunking queue: no DATA, BDAT LAST for each" eval \
		    '! pl_since "$m" | grep -q "< DATA" &&
		    [ "$(pl_since "$m" | grep -c "< BDAT .* LAST")" -eq 4 ]'
	fi
	[ "$mode" = chunking ] && fault_rules pl chunking || fault_rules pl
	ferry_run "$plconf" -q < /dev/null
	check "$mode queue: the kept one sent by the next run, all once" \
	    pl_all_once "$mode"
	fault_clear pl

	pl_queue "$mode" "mail#3 553 5.7.1 not this one"
	check "$mode queue, mail#3 553: three sent, one bounced" eval '
	    [ "$(pl_sent "$mode")" -eq 3 ] && [ "$(queued "$plconf")" -eq 0 ] &&
	    [ "$(pl_bounced "Subject: plq-$mode-")" -eq 1 ]'
	fault_clear pl

	# 421 mid-queue: the rest waits for a new session or the next run
	pl_queue "$mode" "mail#2 421 4.3.2 going away"
	[ "$mode" = chunking ] && fault_rules pl chunking || fault_rules pl
	ferry_run "$plconf" -q < /dev/null
	check "$mode queue, 421 at mail#2: all four once, in the end" eval '
	    pl_all_once "$mode" && [ "$(queued "$plconf")" -eq 0 ]'
	fault_clear pl
done
fault_rules pl
fault_stop pl >/dev/null
