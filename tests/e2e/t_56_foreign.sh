# t_56_foreign.sh: ferry against real smart hosts that are not the
# suite's Postfix (issue 22): Exim 4.96 with PIPELINING and CHUNKING
# each on and off, OpenSMTPD 7.4 (which offers no PIPELINING and
# refuses early input with "500 5.5.1 Invalid command: Pipelining not
# supported") and a Postfix that discards PIPELINING and CHUNKING and
# takes 3 recipients a message. For each: implicit TLS and STARTTLS x
# every AUTH mechanism it offers x (one message under -v, and a queue
# run of 5 queued with -odq). Every message must arrive once, its body
# byte for byte (dot lines, 8-bit), and none may be bounced: each of
# these servers takes it. The servers are started once for the file
# (tests/e2e/lib/foreign.sh) and stopped at its end.

. "$FERRY_ROOT/tests/e2e/lib/foreign.sh"
fg_dir=$E2E_WORK/foreign
mkdir -p "$fg_dir"
fg_sender=f56-sender@$SH_DOMAIN
# A body that trips up dot-stuffing and 7-bit paths: lines that are or
# start with dots (the last line is a lone dot), 8-bit UTF-8 and a raw
# byte that is no UTF-8, trailing blanks, a tab, an empty line.
fg_lines=(".leading dot" ".." "." "..." ". a dot and a blank"
    "Grüße, déjà vu, 日本語" "$(printf 'raw \xe9\xff bytes')"
    "trailing blanks   " "$(printf 'a\ttab')" "" ".")

# fg_conf NAME PORT TLS MECH: a config for one case.
fg_conf() {
	mkconf "$1" "smarthost localhost" "port $2" "tls $3" \
	    "tls_builtin_ca no" "tls_ca_file $SH_CA" "user $SH_USER" \
	    "password_file $E2E_WORK/password" "auth $4" "timeout 20"
}

# fg_subject_file DIR LP NAME: the delivered files of message NAME.
fg_files() {
	foreign_mail_files "$1" "$2" | xargs -r grep -l -- "^Subject: e2e $3.eml"
}

# fg_wait DIR LP MARK: wait (20 s at most) until as many messages have
# landed for LP as ferry logged sent to it since MARK; the server
# delivers after it answered.
fg_wait() {
	local end=$((SECONDS + 20)) n
	n=$(log_since "$SYSLOG_FILE" "$3" |
	    grep -c "to=<$2@$SH_DOMAIN>.*status=sent")
	while [ "$(foreign_mail_files "$1" "$2" | grep -c .)" -lt "$n" ]; do
		if [ "$SECONDS" -ge "$end" ]; then
			echo "     $2 has $(foreign_mail_files "$1" "$2" |
			    grep -c .) of $n messages sent after 20 s"
			return 1
		fi
		sleep 0.05
	done
}

# fg_once DIR LP NAME: NAME arrived once for LP, its body as sent.
fg_once() {
	local f n
	f=$(fg_files "$1" "$2" "$3")
	n=$(printf '%s' "$f" | grep -c .)
	if [ "$n" -ne 1 ]; then
		echo "     $3: $n copies for $2"
		return 1
	fi
	same_body "$E2E_WORK/$3.eml" "$f"
}

# fg_why MARK: ferry's own account of what went wrong, for the log.
fg_why() {
	log_since "$SYSLOG_FILE" "$1" | grep -o 'status=[a-z]* (.*' |
	    sort | uniq -c | sed 's/^/     syslog: /' | head -5
	grep -E '^[<>] |^ferry' "$ERR" | tail -n 8 | sed 's/^/     | /'
}

# fg_no_bounce MARK: nothing bounced since MARK.
fg_no_bounce() {
	! log_since "$SYSLOG_FILE" "$1" | grep -q 'status=bounced'
}

# fg_single DIR LABEL TLS PORT MECH: one message under -v (-odi).
fg_single() {
	local d=$1 label=$2 tls=$3 port=$4 mech=$5 lp name conf mark ok
	lp=$(echo "f56-$label-$tls-$mech" | tr -cd 'a-z0-9-')
	name=$lp-1
	foreign_mailbox "$d" "$lp"
	conf=$(fg_conf "$lp" "$port" "$tls" "$mech")
	mkmsg "$name" "$lp@$SH_DOMAIN" "${fg_lines[@]}" >/dev/null
	mark=$(log_mark "$SYSLOG_FILE")
	ferry_run "$conf" -v -i -f "$fg_sender" "$lp@$SH_DOMAIN" \
	    < "$E2E_WORK/$name.eml"
	ok=1
	expect_rc 0 || ok=
	[ "$(queued "$conf")" -eq 0 ] || { echo "     still queued"; ok=; }
	fg_wait "$d" "$lp" "$mark" && fg_once "$d" "$lp" "$name" || ok=
	grep -qi "^> AUTH $mech" "$ERR" || { echo "     not AUTH $mech"; ok=; }
	[ -n "$ok" ] || fg_why "$mark"
	check "$label $tls:$port $mech: one message arrives once, body intact" \
	    test -n "$ok"
	check "$label $tls:$port $mech: one message not bounced" \
	    fg_no_bounce "$mark"
}

# fg_queue DIR LABEL TLS PORT MECH: 5 queued with -odq, one -q run.
fg_queue() {
	local d=$1 label=$2 tls=$3 port=$4 mech=$5 lp conf mark ok i rcs=
	lp=$(echo "f56-$label-$tls-$mech-q" | tr -cd 'a-z0-9-')
	foreign_mailbox "$d" "$lp"
	conf=$(fg_conf "$lp" "$port" "$tls" "$mech")
	for i in 1 2 3 4 5; do
		mkmsg "$lp-$i" "$lp@$SH_DOMAIN" "message $i of 5" \
		    "${fg_lines[@]}" >/dev/null
		ferry_run "$conf" -odq -i -f "$fg_sender" "$lp@$SH_DOMAIN" \
		    < "$E2E_WORK/$lp-$i.eml"
		rcs="$rcs$RC"
	done
	mark=$(log_mark "$SYSLOG_FILE")
	ferry_run "$conf" -v -q < /dev/null
	ok=1
	[ "$rcs" = 00000 ] || { echo "     -odq exits $rcs"; ok=; }
	expect_rc 0 || ok=
	[ "$(queued "$conf")" -eq 0 ] ||
	    { echo "     $(queued "$conf") still queued"; ok=; }
	fg_wait "$d" "$lp" "$mark" || ok=
	for i in 1 2 3 4 5; do
		fg_once "$d" "$lp" "$lp-$i" || ok=
	done
	[ -n "$ok" ] || fg_why "$mark"
	check "$label $tls:$port $mech: queue run of 5, each once, intact" \
	    test -n "$ok"
	check "$label $tls:$port $mech: queue run of 5 not bounced" \
	    fg_no_bounce "$mark"
}

# fg_matrix DIR LABEL SMTPS-PORT SUBMISSION-PORT MECH...
fg_matrix() {
	local d=$1 label=$2 s=$3 t=$4 mech
	shift 4
	for mech in "$@"; do
		fg_single "$d" "$label" implicit "$s" "$mech"
		fg_single "$d" "$label" starttls "$t" "$mech"
		fg_queue "$d" "$label" implicit "$s" "$mech"
		fg_queue "$d" "$label" starttls "$t" "$mech"
	done
}

# fg_rcpt_limit DIR PORT: 5 recipients against smtpd_recipient_limit
# 3. Postfix answers the 4th and 5th RCPT "452 4.5.3 Error: too many
# recipients": those may wait for the next run, but each recipient
# gets the message once and none is bounced.
fg_rcpt_limit() {
	local d=$1 port=$2 conf mark i n=0 ok=1 rcpts=()
	conf=$(fg_conf f56-rl "$port" implicit plain)
	for i in 1 2 3 4 5; do
		rcpts+=("f56-rl-$i@$SH_DOMAIN")
	done
	mkmsg f56-rl "${rcpts[0]}" "${fg_lines[@]}" >/dev/null
	mark=$(log_mark "$SYSLOG_FILE")
	ferry_run "$conf" -v -i -f "$fg_sender" "${rcpts[@]}" \
	    < "$E2E_WORK/f56-rl.eml"
	expect_rc 0 || ok=
	for i in 1 2 3 4 5; do
		n=$((n + $(fg_files "$d" "f56-rl-$i" f56-rl | grep -c .)))
	done
	echo "     $n of 5 recipients served by the first run," \
	    "$(queued "$conf") message(s) kept"
	if [ "$(queued "$conf")" -ne 0 ]; then
		ferry_run "$conf" -v -q < /dev/null
		expect_rc 0 || ok=
	fi
	[ "$(queued "$conf")" -eq 0 ] || { echo "     still queued"; ok=; }
	for i in 1 2 3 4 5; do
		fg_wait "$d" "f56-rl-$i" "$mark" && fg_once "$d" "f56-rl-$i" f56-rl ||
		    ok=
	done
	[ -n "$ok" ] || fg_why "$mark"
	check "postfix-nopipe recipient limit 3: 5 recipients, each once" \
	    test -n "$ok"
	check "postfix-nopipe recipient limit 3: none bounced" \
	    fg_no_bounce "$mark"
}

# A run stopped half-way must not leave the servers behind.
fg_trap=$(trap -p EXIT)
trap 'foreign_stop_all >/dev/null 2>&1; cleanup' EXIT

fg_up=
check "foreign: Exim and OpenSMTPD fetched and unpacked" foreign_fetch &&
    fg_up=1
mapfile -t fg_p < <(foreign_ports 18)
check "foreign: 18 free loopback ports" test "${#fg_p[@]}" -eq 18 ||
    fg_up=
if [ -n "$fg_up" ]; then
	echo "     Exim $FOREIGN_EXIM_VERSION, OpenSMTPD $FOREIGN_SMTPD_VERSION"
	if check "exim: started on 8 ports" \
	    foreign_exim_start "$fg_dir/exim" "${fg_p[@]:0:8}"; then
		fg_matrix "$fg_dir/exim" exim "${fg_p[0]}" "${fg_p[1]}" \
		    plain login cram-md5
		fg_matrix "$fg_dir/exim" exim-nopipe "${fg_p[2]}" "${fg_p[3]}" \
		    plain login cram-md5
		fg_matrix "$fg_dir/exim" exim-nochunk "${fg_p[4]}" \
		    "${fg_p[5]}" plain login cram-md5
		fg_matrix "$fg_dir/exim" exim-none "${fg_p[6]}" "${fg_p[7]}" \
		    plain login cram-md5
		# Exim drops a client that talks ahead where PIPELINING
		# was not offered, and logs it.
		check "exim: no SMTP synchronization error logged" eval \
		    '! cat "$fg_dir"/exim/log/*log | grep -i "synchroni[sz]ation"'
	fi
	if check "opensmtpd: started" \
	    foreign_smtpd_start "$fg_dir/smtpd" "${fg_p[8]}" "${fg_p[9]}"; then
		fg_matrix "$fg_dir/smtpd" opensmtpd "${fg_p[8]}" "${fg_p[9]}" \
		    plain login
		check "opensmtpd: no early input refused (no bad-input logged)" \
		    eval '! grep "bad-input" "$fg_dir/smtpd/log/smtpd"'
	fi
	echo "     Postfix $(dpkg-query -W -f='${Version}' postfix)," \
	    "Dovecot $(dpkg-query -W -f='${Version}' dovecot-core)"
	if check "postfix-nopipe: second instance started" \
	    foreign_postfix_start "$fg_dir/postfix" "${fg_p[10]}"; then
		fg_matrix "$fg_dir/postfix" postfix-nopipe "${fg_p[10]}" \
		    "${fg_p[11]}" plain login cram-md5 scram-sha-256
		fg_rcpt_limit "$fg_dir/postfix" "${fg_p[10]}"
	fi
fi
foreign_stop_all
eval "${fg_trap:-trap - EXIT}"
