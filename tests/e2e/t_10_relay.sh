# t_10_relay.sh: delivery over 465 and 587 with each AUTH mechanism,
# several recipients, a 5 MB message, dot lines, 8-bit data, -t.

# quit_logged MARK: Postfix logged the session since MARK as ended by
# QUIT, with no lost connection, though ferry does not wait for the 221
# nor for the server's close_notify (README, "Speed").
quit_logged() {
	local i
	for i in $(seq 50); do
		log_since "$(smarthost_log)" "$1" | grep -q 'disconnect from' &&
		    break
		sleep 0.1
	done
	log_since "$(smarthost_log)" "$1" | grep 'disconnect from' |
	    grep -q 'quit=1' &&
	    ! log_since "$(smarthost_log)" "$1" | grep -q 'lost connection'
}

# relay_case TLS PORT MECH: one message through it, checked in full.
relay_case() {
	local tls=$1 port=$2 mech=$3 who msg conf mark
	who=r${port}${mech//-/}
	conf=$(hostconf "$who" "$tls" "$port" "auth $mech")
	msg=$(mkmsg "$who" "$who@$SH_DOMAIN" "over $tls with $mech")
	mark=$(log_mark "$(smarthost_log)")
	ferry_run "$conf" -v -f "sender@$SH_DOMAIN" "$who@$SH_DOMAIN" < "$msg"
	check "$tls:$port AUTH $mech exits 0" expect_rc 0
	check "$tls:$port AUTH $mech lands" landed "$who" 1
	check "$tls:$port AUTH $mech body intact" same_body "$msg" "$LANDED"
	check "$tls:$port AUTH $mech used $mech" grep -qi \
	    "sasl_method=$mech" <(log_since "$(smarthost_log)" "$mark")
	check "$tls:$port AUTH $mech: Postfix saw QUIT" quit_logged "$mark"
}

for mech in plain login cram-md5; do
	relay_case implicit "$SH_PORT_SMTPS" "$mech"
	relay_case starttls "$SH_PORT_SUBMISSION" "$mech"
done

# A queue run of three: QUIT goes after the last reply, unanswered.
conf=$(hostconf qrun implicit "$SH_PORT_SMTPS")
for i in 1 2 3; do
	ferry_run "$conf" -odq -f "s@$SH_DOMAIN" "qrun@$SH_DOMAIN" \
	    < "$(mkmsg qrun$i "qrun@$SH_DOMAIN" "queued $i")"
done
mark=$(log_mark "$(smarthost_log)")
ferry_run "$conf" -q < /dev/null
check "queue run of three: exit 0" expect_rc 0
check "queue run of three: all landed" landed qrun 3
check "queue run of three: Postfix saw QUIT" quit_logged "$mark"

# Three recipients in one transaction.
conf=$(hostconf three starttls "$SH_PORT_SUBMISSION")
msg=$(mkmsg three "x@$SH_DOMAIN" "to three people")
ferry_run "$conf" -f "s@$SH_DOMAIN" "one@$SH_DOMAIN" "two@$SH_DOMAIN" \
    "three@$SH_DOMAIN" < "$msg"
check "three recipients: exit 0" expect_rc 0
for who in one two three; do
	check "three recipients: $who got it" landed "$who" 1
	check "three recipients: $who body intact" same_body "$msg" "$LANDED"
done

# 5 MB of text, with long-ish lines.
big=$E2E_WORK/big.eml
{
	printf 'Subject: big\n\n'
	head -c 3900000 /dev/urandom | base64 -w 76
} > "$big"
conf=$(hostconf big implicit "$SH_PORT_SMTPS")
ferry_run "$conf" -f "s@$SH_DOMAIN" "big@$SH_DOMAIN" < "$big"
check "5 MB message: exit 0" expect_rc 0
check "5 MB message: landed" landed big 1
check "5 MB message: body intact" same_body "$big" "$LANDED"

# Lines starting with a dot, and a lone dot under -i.
dots=$(mkmsg dots "dots@$SH_DOMAIN" ".leading dot" "..two dots" "." \
    "after the lone dot" ".")
ferry_run "$conf" -i -f "s@$SH_DOMAIN" "dots@$SH_DOMAIN" < "$dots"
check "dot lines: exit 0" expect_rc 0
check "dot lines: landed" landed dots 1
check "dot lines: body intact" same_body "$dots" "$LANDED"

# Without -i a lone dot ends the message, as sendmail does.
ferry_run "$conf" -f "s@$SH_DOMAIN" "dotend@$SH_DOMAIN" < "$dots"
check "lone dot ends input: landed" landed dotend 1
check "lone dot ends input: cut there" eval \
    '[ "$(body "$LANDED")" = "$(printf ".leading dot\n..two dots")" ]'

# An 8-bit body goes as BODY=8BITMIME, byte for byte.
eight=$(mkmsg eight "eight@$SH_DOMAIN" "Grüße, déjà vu, 日本語" \
    "$(printf '\xff\xfe raw bytes')")
ferry_run "$conf" -v -f "s@$SH_DOMAIN" "eight@$SH_DOMAIN" < "$eight"
check "8-bit: exit 0" expect_rc 0
check "8-bit: landed" landed eight 1
check "8-bit: body intact" same_body "$eight" "$LANDED"
check "8-bit: sent BODY=8BITMIME" grep -q "BODY=8BITMIME" "$ERR"

# -t: recipients from To, Cc and Bcc; Bcc never reaches the server.
tmsg=$E2E_WORK/t.eml
printf '%s\n' "From: s@$SH_DOMAIN" "To: Tee One <tone@$SH_DOMAIN>" \
    "Cc: ttwo@$SH_DOMAIN," "  \"T Three\" <tthree@$SH_DOMAIN>" \
    "Bcc: tbcc@$SH_DOMAIN" "Subject: -t" "" "extract" > "$tmsg"
ferry_run "$conf" -t -f "s@$SH_DOMAIN" < "$tmsg"
check "-t: exit 0" expect_rc 0
for who in tone ttwo tthree tbcc; do
	check "-t: $who got it" landed "$who" 1
done
check "-t: no Bcc header delivered" eval '! grep -qi "^Bcc:" "$LANDED"'

# tls none is for a loopback stunnel-style relay only.
conf=$(hostconf plain none "$SH_PORT_PLAIN")
msg=$(mkmsg plain "plain@$SH_DOMAIN")
ferry_run "$conf" -f "s@$SH_DOMAIN" "plain@$SH_DOMAIN" < "$msg"
check "tls none to loopback: exit 0" expect_rc 0
check "tls none to loopback: landed" landed plain 1

# AuthInfo instead of user/password_file, as sendmail had it.
printf 'AuthInfo:localhost "U:%s" "P:%s" "M:PLAIN"\n' "$SH_USER" \
    "$SH_PASS" > "$E2E_WORK/authinfo"
chmod 600 "$E2E_WORK/authinfo"
conf=$(mkconf authinfo "smarthost localhost" "port $SH_PORT_SMTPS" \
    "tls implicit" "tls_builtin_ca no" "tls_ca_file $SH_CA" \
    "authinfo $E2E_WORK/authinfo")
msg=$(mkmsg authinfo "authinfo@$SH_DOMAIN")
ferry_run "$conf" -f "s@$SH_DOMAIN" "authinfo@$SH_DOMAIN" < "$msg"
check "authinfo: exit 0" expect_rc 0
check "authinfo: landed" landed authinfo 1
