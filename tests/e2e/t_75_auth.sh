# t_75_auth.sh: password_command (runs once per session that needs
# AUTH, never for a queued-only message, failures keep mail queued, the
# secret in no argv, environment or log), XOAUTH2 and OAUTHBEARER
# against the fault server imitating Gmail, Microsoft 365 and an RFC 7628
# server, and SCRAM-SHA-256 against Dovecot and a forging server.

. "$FERRY_ROOT/tests/e2e/lib/fault.sh"
a_dir=$E2E_WORK/auth75
mkdir -p "$a_dir"
a_token=ya29.Fy-t0k3n-$$-e2e

# pwcmd NAME EXIT SECRET: a password_command script that counts its
# runs in NAME.count, says something on stderr, records its own argv
# and environment, prints SECRET and exits EXIT.
pwcmd() {
	local f=$a_dir/$1.sh
	cat > "$f" <<SH
#!/bin/sh
echo run >> "$a_dir/$1.count"
tr '\0' '\n' < /proc/\$\$/cmdline > "$a_dir/$1.argv"
tr '\0' '\n' < /proc/\$\$/environ > "$a_dir/$1.env"
echo "vault says hello from $1" >&2
printf '%s\n' '$3'
exit $2
SH
	chmod 755 "$f"
	: > "$a_dir/$1.count"
	printf '%s\n' "$f"
}
runs() { wc -l < "$a_dir/$1.count"; }

# 1. password_command against Postfix + Dovecot
good=$(pwcmd good 0 "$SH_PASS")
pconf=$(mkconf pwcmd "smarthost localhost" "port $SH_PORT_SMTPS" \
    "tls implicit" "tls_builtin_ca no" "tls_ca_file $SH_CA" \
    "user $SH_USER" "password_command $good --field 'pass word'" \
    "timeout 20")
for i in 1 2 3; do
	ferry_run "$pconf" -odq "pwcmd@$SH_DOMAIN" < "$(mkmsg pw$i \
	    "pwcmd@$SH_DOMAIN")"
done
check "password_command: -odq runs it zero times" \
    eval '[ "$RC" -eq 0 ] && [ "$(queued "$pconf")" -eq 3 ] &&
    [ "$(runs good)" -eq 0 ]'
mark=$(log_mark "$SYSLOG_FILE")
export -n SH_PASS	# the harness's own copy must not reach the child
ferry_run "$pconf" -q < /dev/null
export SH_PASS
check "password_command: a queue run of 3 runs it once" \
    eval '[ "$RC" -eq 0 ] && landed pwcmd 3 && [ "$(runs good)" -eq 1 ] &&
    [ "$(queued "$pconf")" -eq 0 ]'
check "password_command: quoted argv, no shell" \
    eval 'diff <(printf "%s\n" /bin/sh "$good" --field "pass word") \
    <(tr -d "\r" < "$a_dir/good.argv") >/dev/null'
check "password_command: its stderr is logged" \
    eval 'log_since "$SYSLOG_FILE" $mark |
    grep -q "password_command: vault says hello from good"'
check "password_command: secret not in its argv or environment" \
    eval '! grep -qF -- "$SH_PASS" "$a_dir/good.argv" "$a_dir/good.env"'
check "password_command: Postfix saw SCRAM-SHA-256 (preferred)" \
    grep -q "sasl_method=SCRAM-SHA-256, sasl_username=$SH_USER" \
    "$(smarthost_log)"

bad=$(pwcmd bad 3 "")
bconf=$(mkconf pwbad "smarthost localhost" "port $SH_PORT_SMTPS" \
    "tls implicit" "tls_builtin_ca no" "tls_ca_file $SH_CA" \
    "user $SH_USER" "password_command $bad" "timeout 20")
mark=$(log_mark "$SYSLOG_FILE")
ferry_run "$bconf" "pwbad@$SH_DOMAIN" < "$(mkmsg pwbad "pwbad@$SH_DOMAIN")"
check "password_command exits 3: exit 0, still queued, logged" \
    eval '[ "$RC" -eq 0 ] && [ "$(queued "$bconf")" -eq 1 ] &&
    [ "$(runs bad)" -eq 1 ] && log_since "$SYSLOG_FILE" $mark |
    grep -q "password_command exited with status 3"'
ferry_run "$bconf" -bv < /dev/null
check "password_command exits 3: -bv says so, EX_TEMPFAIL" \
    eval '[ "$RC" -eq 75 ] && grep -q "exited with status 3" "$ERR"'

# 2. OAuth: the fault server imitates each provider; the token is its
# --password. oauth NAME PORT PROVIDER MECH SCRIPT: a config.
oauth() {
	mkconf "oauth-$1" "smarthost localhost" "port $2" "tls implicit" \
	    "tls_builtin_ca no" "tls_ca_file $SH_CA" "user $SH_USER" \
	    "password_command $5" "auth $4" "timeout 10"
}
tok=$(pwcmd tok 0 "$a_token")
wrong=$(pwcmd wrong 0 "ya29.expired-token")
p=$((SH_PORT_BASE + 41))
for prov in gmail microsoft oauthbearer; do
	fault_start "oa-$prov" "$p" implicit --provider "$prov" \
	    --password "$a_token" >/dev/null || nok "fault server $prov"
	mech=xoauth2
	[ "$prov" = oauthbearer ] && mech=oauthbearer
	c=$(oauth "$prov" "$p" "$prov" "$mech" "$tok")
	ferry_run "$c" "oa@$SH_DOMAIN" < "$(mkmsg "oa-$prov" "oa@$SH_DOMAIN")"
	check "$prov $mech: right token, delivered" \
	    eval '[ "$RC" -eq 0 ] && fault_wait_count "oa-$prov" 1 &&
	    grep -q "auth: ${mech^^} ok" "$(fault_log "oa-$prov")"'
	c=$(oauth "$prov-bad" "$p" "$prov" "$mech" "$wrong")
	mark=$(log_mark "$SYSLOG_FILE")
	ferry_run "$c" "oa@$SH_DOMAIN" < "$(mkmsg "oab-$prov" "oa@$SH_DOMAIN")"
	# an expired token is temporary; Microsoft's bare 535 is not
	check "$prov $mech: wrong token, queued, not sent" \
	    eval '[ "$RC" -eq "$([ $prov = microsoft ] && echo 78 || echo 0)" ] &&
	    [ "$(queued "$c")" -eq 1 ] &&
	    [ "$(fault_count "oa-$prov")" -eq 1 ]'
	case $prov in
	gmail) want="token refused (status 400, schemes Bearer, scope https://mail.google.com/); 535 5.7.8" ;;
	microsoft) want="AUTH: 535 5.7.3 Authentication unsuccessful" ;;
	oauthbearer) want="token refused (status invalid_token, schemes -, scope https://mail.example/smtp); 535 5.7.8" ;;
	esac
	check "$prov $mech: the refusal is logged" \
	    eval 'log_since "$SYSLOG_FILE" $mark | grep -qF -- "$want"'
	[ "$prov" = microsoft ] ||
	    check "$prov $mech: error challenge answered as the RFC says" \
	    grep -q "error challenge answered as expected" \
	    "$(fault_log "oa-$prov")"
	check "$prov: token in no log" eval '! grep -qF -- "$a_token" \
	    "$(fault_log "oa-$prov")" "$SYSLOG_FILE" "$E2E_WORK/all-output"'
	fault_stop "oa-$prov"
	p=$((p + 1))
done

# 3. SCRAM-SHA-256: an impostor that accepts any proof cannot sign
fault_start scram "$p" implicit --provider scram >/dev/null ||
    nok "fault server scram"
sconf=$(mkconf scram "smarthost localhost" "port $p" "tls implicit" \
    "tls_builtin_ca no" "tls_ca_file $SH_CA" "user $SH_USER" \
    "password_file $E2E_WORK/password" "timeout 10")
ferry_run "$sconf" "sc@$SH_DOMAIN" < "$(mkmsg scram1 "sc@$SH_DOMAIN")"
check "SCRAM-SHA-256 fault server: delivered" \
    eval '[ "$RC" -eq 0 ] && fault_wait_count scram 1 &&
    grep -q "auth: SCRAM-SHA-256 ok" "$(fault_log scram)"'
fault_rules scram scram-forge
mark=$(log_mark "$SYSLOG_FILE")
fmark=$(log_mark "$(fault_log scram)")
ferry_run "$sconf" "sc@$SH_DOMAIN" < "$(mkmsg scram2 "sc@$SH_DOMAIN")"
check "SCRAM-SHA-256 forged server signature: queued, nothing sent" \
    eval '[ "$RC" -eq 76 ] && [ "$(queued "$sconf")" -eq 1 ] &&
    [ "$(fault_count scram)" -eq 1 ] &&
    log_since "$(fault_log scram)" $fmark | grep -q "signature forged" &&
    ! log_since "$(fault_log scram)" $fmark | grep -q "< MAIL" &&
    log_since "$SYSLOG_FILE" $mark | grep -q "wrong server signature"'
fault_stop scram
