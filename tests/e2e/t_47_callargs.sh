# t_47_callargs.sh: what real callers pass (issue 12 items 1-3 and 6,
# issue 15 items 6, 7 and 12): sendmail's and Postfix's ignored flags,
# an address list in one argument, a leading mbox "From " line, address
# syntax, -f and -L limits, closed standard fds, a tls/port mix-up.

caconf=$(hostconf callargs implicit "$SH_PORT_SMTPS")

# Each flag of sendmail(8) and Postfix's sendmail(1) that ferry takes
# and ignores; the ones with a value must not eat a recipient.
msg=$(mkmsg callflags "flags@$SH_DOMAIN")
mark=$(log_mark "$SYSLOG_FILE")
ferry_run "$caconf" -m -U -c -em -e m -h 5 -x -s -n -Am -Ac -G -p smtp \
    -Q hold -O DeliveryMode=b -D /dev/null -d 0.1 -M rLocal -oi \
    "flags@$SH_DOMAIN" < "$msg"
check "ignored flags: exit 0" expect_rc 0
check "ignored flags: landed" landed flags 1
check "ignored flags: a value is no recipient" eval \
    'log_since "$SYSLOG_FILE" "$mark" | grep -q "nrcpt=1 (queued)" &&
    ! log_since "$SYSLOG_FILE" "$mark" | grep -q "nrcpt=[2-9]"'
ferry_run "$caconf" -qRexample.org < /dev/null
check "-qRsite: a queue run" expect_rc 0

# One argument, an RFC 5322 address list (cron's MAILTO and others)
msg=$(mkmsg calllist "list@$SH_DOMAIN")
ferry_run "$caconf" -oem "lista@$SH_DOMAIN,listb@$SH_DOMAIN" \
    "Jane <listc@$SH_DOMAIN>" "listd@$SH_DOMAIN," "lista@$SH_DOMAIN" \
    < "$msg"
check "address lists in argv: exit 0" expect_rc 0
for who in lista listb listc listd; do
	check "address lists in argv: $who got one" eval \
	    'landed $who 1 && [ "$(smarthost_mail_count $who)" -eq 1 ] &&
	    grep -q "^Delivered-To: $who@$SH_DOMAIN" "$LANDED"'
done
ferry_run "$caconf" "John Smith" < "$msg"
check "a name with no address: exit 65, one line" eval \
    'expect_rc 65 && [ "$(wc -l < "$ERR")" -eq 1 ] &&
    grep -q "no address in recipient John Smith" "$ERR"'

# A leading mbox "From " line (formail -s, git format-patch --stdout)
printf '%s\n' "From sender@$SH_DOMAIN  Tue Dec  1 23:00:00 2026" \
    "To: mboxt@$SH_DOMAIN" "Subject: mbox with -t" "" "mbox body" \
    > "$E2E_WORK/mbox1.eml"
ferry_run "$caconf" -oi -t < "$E2E_WORK/mbox1.eml"
check "mbox From line, -t: exit 0" expect_rc 0
check "mbox From line, -t: landed with its headers" eval \
    'landed mboxt 1 && grep -q "^Subject: mbox with -t" "$LANDED" &&
    [ "$(body "$LANDED")" = "mbox body" ]'
sed 's/mboxt/mboxa/' "$E2E_WORK/mbox1.eml" > "$E2E_WORK/mbox2.eml"
ferry_run "$caconf" -oi "mboxa@$SH_DOMAIN" < "$E2E_WORK/mbox2.eml"
check "mbox From line, argv: headers stay headers" eval \
    'landed mboxa 1 && grep -q "^Subject: mbox with -t" "$LANDED" &&
    ! grep -q "^From sender" "$LANDED" &&
    [ "$(body "$LANDED")" = "mbox body" ]'

# Address syntax (issue 15 item 6), queued and read back with mailq
qconf=$(hostconf callq implicit "$SH_PORT_SMTPS")
printf 'To: b@[IPv6:2001:db8::1]\nSubject: literal\n\nx\n' \
    > "$E2E_WORK/lit.eml"
ferry_run "$qconf" -odq -t < "$E2E_WORK/lit.eml"
check "IPv6 literal in To: exit 0" expect_rc 0
ferry_run "$qconf" -bp < /dev/null
check "IPv6 literal in To: the whole address is the recipient" \
    grep -q ' b@\[IPv6:2001:db8::1\]$' "$OUT"
for bad in @ a@ a@@b @b; do
	ferry_run "$qconf" -odq "$bad" < "$msg"
	check "recipient '$bad': exit 65, one line" eval \
	    'expect_rc 65 && [ "$(wc -l < "$ERR")" -eq 1 ]'
done
check "bad recipients: nothing more queued" eval '[ "$(queued "$qconf")" -eq 1 ]'
ferry_run "$qconf" -odq "\"x\\\"y\"@$SH_DOMAIN" < "$msg"
check "\"x\\\"y\"@domain: taken" expect_rc 0

# -f: longer than a path may be is refused, "<addr>" is taken
long=$(printf 'a%.0s' $(seq 250))@$SH_DOMAIN
ferry_run "$qconf" -odq -f "$long" "x@$SH_DOMAIN" < "$msg"
check "-f over 255 bytes: exit 64, one line" eval \
    'expect_rc 64 && [ "$(wc -l < "$ERR")" -eq 1 ] &&
    grep -q "sender over 255 bytes" "$ERR"'
check "-f over 255 bytes: nothing queued" eval '[ "$(queued "$qconf")" -eq 2 ]'
ferry_run "$caconf" -f "<angle@$SH_DOMAIN>" "angle@$SH_DOMAIN" < "$msg"
check "-f <addr>: the sender without angles" eval \
    'landed angle 1 && grep -q "^Return-Path: <angle@$SH_DOMAIN>$" "$LANDED"'

# -L with a newline would forge a syslog line (issue 15 item 12)
ferry_run "$qconf" -odq -L "$(printf 'tag\nferry: forged')" \
    "x@$SH_DOMAIN" < "$msg"
check "-L with a newline: exit 64, one line" eval 'expect_rc 64 &&
    [ "$(wc -l < "$ERR")" -eq 1 ] &&
    grep -q -- "-L: control character" "$ERR"'

# Started with stdout closed, the spool's directory took fd 1, and the
# -odb child's /dev/null on fd 1 closed it: the delivery was never
# recorded and the message went out again (issue 15 item 12)
printf '#!/bin/sh\nexec "$@" >&-\n' > "$E2E_WORK/closefds"
chmod 755 "$E2E_WORK/closefds"
fconf=$(hostconf callfds implicit "$SH_PORT_SMTPS")
msg=$(mkmsg callfds "fds@$SH_DOMAIN")
FERRY_WRAP=$E2E_WORK/closefds ferry_run "$fconf" -odb "fds@$SH_DOMAIN" \
    < "$msg"
check "stdout closed, -odb: exit 0" expect_rc 0
check "stdout closed, -odb: the message arrives as sent" eval \
    'landed fds 1 && same_body "$msg" "$LANDED"'
for _ in $(seq 100); do
	[ "$(queued "$fconf")" -eq 0 ] && break
	sleep 0.1
done
check "stdout closed, -odb: the delivery is recorded" eval \
    '[ "$(queued "$fconf")" -eq 0 ]'

# tls starttls with port 465 and implicit with 587 (RFC 8314), caught
# before connecting: nothing need listen there
for pair in "starttls 465 implicit" "none 465 implicit" \
    "implicit 587 starttls"; do
	read -r ptls pport pfix <<< "$pair"
	pconf=$(mkconf "tlsport$ptls$pport" "smarthost localhost" \
	    "port $pport" "tls $ptls" "tls_builtin_ca no" \
	    "tls_ca_file $SH_CA" "timeout 60")
	ferry_run "$pconf" "x@$SH_DOMAIN" < "$msg"
	check "tls $ptls with port $pport: exit 78 naming the fix" eval \
	    'expect_rc 78 && [ "$(wc -l < "$ERR")" -eq 1 ] &&
	    grep -q "port $pport .*set \`tls $pfix\`" "$ERR"'
	check "tls $ptls with port $pport: kept in the queue" eval \
	    '[ "$(queued "$pconf")" -eq 1 ]'
done
