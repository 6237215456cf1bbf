# t_77_mixups.sh: a tls setting that does not fit the port, and a
# server without the AUTH ferry needs, end with one line saying what
# happened and what to set; the message stays queued (issue 7 item 4).

. "$FERRY_ROOT/tests/e2e/lib/fault.sh"

# mixconf NAME TLS PORT [LINES...]: the test CA and credentials, a
# short timeout: a silent implicit-TLS port costs one timeout.
mixconf() {
	local name=$1 tls=$2 port=$3
	shift 3
	mkconf "$name" "smarthost localhost" "port $port" "tls $tls" \
	    "tls_builtin_ca no" "tls_ca_file $SH_CA" "user $SH_USER" \
	    "password_file $E2E_WORK/password" "timeout 2" "$@"
}

# mixup DESC CONF WANT...: exit 78 (EX_CONFIG), each WANT on the one
# stderr line and in the log, the message kept in the queue.
mixup() {
	local desc=$1 conf=$2 m w
	shift 2
	printf 'Subject: %s\n\nmixup\n' "$desc" > "$E2E_WORK/mix.eml"
	m=$(log_mark "$SYSLOG_FILE")
	ferry_run "$conf" -odi -f "s@$SH_DOMAIN" "mix@$SH_DOMAIN" \
	    < "$E2E_WORK/mix.eml"
	check "$desc: exit 78" expect_rc 78
	check "$desc: one line on stderr" eval '[ "$(wc -l < "$ERR")" -eq 1 ]'
	for w in "$@"; do
		check "$desc: says '$w'" grep -qF -- "$w" "$ERR"
		check "$desc: logged '$w'" eval 'log_since "$SYSLOG_FILE" \
		    "$m" | grep -qF -- "$w"'
	done
	check "$desc: kept in the queue" eval '[ "$(queued "$conf")" -eq 1 ]'
}

mixup "starttls against the smtps port" \
    "$(mixconf mix_st starttls "$SH_PORT_SMTPS")" \
    "localhost:$SH_PORT_SMTPS: the server began TLS at once" \
    "set \`tls implicit\`"
mixup "none against the smtps port" \
    "$(mixconf mix_none none "$SH_PORT_SMTPS")" \
    "implicit-TLS port" "set \`tls implicit\`"
mixup "implicit against the submission port" \
    "$(mixconf mix_imp implicit "$SH_PORT_SUBMISSION")" \
    "localhost:$SH_PORT_SUBMISSION: TLS handshake: server sent a plaintext" \
    "set \`tls starttls\`" "it sent \"220 $SH_NAME"

# The right setting then delivers what was kept.
conf=$(mixconf mix_st starttls "$SH_PORT_SMTPS")
sed -i 's/^tls starttls$/tls implicit/' "$conf"
ferry_run "$conf" -q < /dev/null
check "fixed setting: the kept message is delivered" \
    eval '[ "$RC" -eq 0 ] && [ "$(queued "$conf")" -eq 0 ]'

fport=$((SH_PORT_BASE + 27))
fault_start mix "$fport" starttls >/dev/null || nok "fault server start"
fault_rules mix noauth
mixup "no AUTH offered" "$(mixconf mix_noauth starttls "$fport")" \
    "server offers no AUTH but user is set" "remove \`user\`" \
    "it offers: PIPELINING"
mixup "no AUTH before TLS" "$(mixconf mix_noauth_plain none "$fport")" \
    "server offers no AUTH before TLS" "STARTTLS" "set \`tls starttls\`"
# "AUTH=" (old Microsoft style) escapes noauth, which drops "AUTH"
fault_rules mix noauth "ehlo-extra AUTH=GSSAPI NTLM"
mixup "mechanism not offered" "$(mixconf mix_mech starttls "$fport")" \
    "does not offer the AUTH that \`auth\` allows" \
    "set \`auth\` to one it offers: GSSAPI NTLM"
fault_stop mix >/dev/null
