# t_81_realcallers.sh: issue 12's callers, as Debian ships them, with
# ferry as /usr/sbin/sendmail (lib/callers.sh): the cron daemon with a
# two-address MAILTO, bsd-mailx and s-nail with metoo set, formail
# splitting a two-message mbox, Python's smtplib speaking to
# `sendmail -bs` through socat, and PHP's mail() against a smart host
# that never greets. Each checks the envelope and headers that arrive.

"$FERRY_ROOT/scripts/need" cron bsd-mailx s-nail procmail python3 socat \
    php-cli >/dev/null 2>&1 || nok "realcallers: cannot install the callers"
. "$FERRY_ROOT/tests/e2e/lib/callers.sh"
. "$FERRY_ROOT/tests/e2e/lib/fault.sh"
LANDED=
rconf=$(hostconf realcallers implicit "$SH_PORT_SMTPS")
callers_setup "$E2E_WORK/realcallers" "$rconf"

# to_has FILE ADDR: the To: header of a landed file names ADDR.
to_has() { tr -d '\r' < "$1" | grep -i '^To:' | grep -qF "$2"; }

# The cron daemon. An @reboot job in /etc/crontab runs as soon as cron
# starts when /run/crond.reboot is missing: a tmpfs on /run (and empty
# cron.d and crontabs) gives this namespace's cron only our job.
# pam_loginuid cannot write loginuid in a container: our pam.d/cron
# leaves it out.
mkdir -p "$cdir/etc/pam.d" "$cdir/empty" "$cdir/crontabs"
chmod 755 "$cdir/empty"
chmod 1730 "$cdir/crontabs"
grep -v pam_loginuid /etc/pam.d/cron > "$cdir/etc/pam.d/cron"
cat > "$cdir/etc/crontab" <<EOF
SHELL=/bin/sh
PATH=/usr/bin:/bin
MAILTO=crona@$SH_DOMAIN,cronb@$SH_DOMAIN
@reboot root echo "output of the reboot job"
EOF
chmod 644 "$cdir/etc/crontab"
CEXTRA="mount -t tmpfs ferry-e2e-run /run &&
    mount --bind $cdir/empty /etc/cron.d &&
    mount --bind $cdir/crontabs /var/spool/cron/crontabs &&
    echo \$\$ > $cdir/cron.pid" \
    as_sendmail timeout 120 cron -f 2>/dev/null &
cronjob=$!
landed crona 1 && cronmail=$LANDED || cronmail=
[ -s "$cdir/cron.pid" ] && kill "$(cat "$cdir/cron.pid")" 2>/dev/null
wait "$cronjob" 2>/dev/null
CARGV=$(grep -- -FCronDaemon "$cdir/argv" | tail -1)
check "cron: one sendmail call, MAILTO as one argument" eval \
    '[ -n "$CARGV" ] && [[ $CARGV == *" crona@$SH_DOMAIN\\,cronb@$SH_DOMAIN "* ]]'
check "cron: the first address got it" test -n "$cronmail"
check "cron: the second address got it" landed cronb 1
check "cron: envelope recipients" eval \
    'grep -q "^Delivered-To: crona@$SH_DOMAIN" "$cronmail" &&
    grep -q "^Delivered-To: cronb@$SH_DOMAIN" "$LANDED"'
check "cron: the job's output and subject" eval \
    'body "$LANDED" | grep -qx "output of the reboot job" &&
    tr -d "\r" < "$LANDED" | grep -q "^Subject: Cron <root@"'
check "cron: envelope sender root, To: both" eval \
    'grep -q "^Return-Path: <root@" "$LANDED" &&
    to_has "$LANDED" "crona@$SH_DOMAIN,cronb@$SH_DOMAIN"'
rm -f "$cdir/etc/crontab"
CEXTRA=

# bsd-mailx (~/.mailrc) and s-nail (-S) with metoo set: both pass -m
printf 'set metoo\n' > "$cdir/home/.mailrc"
as_sendmail bsd-mailx -s "subj mailx metoo" "mailxm@$SH_DOMAIN" \
    <<< "body mailx metoo"
check "bsd-mailx metoo: exits 0" caller_ok bsd-mailx
check "bsd-mailx metoo: passed -m" eval '[[ " $CARGV" == *" -m "* ]]'
check "bsd-mailx metoo: landed" caller_landed mailxm "subj mailx metoo" \
    "body mailx metoo"
check "bsd-mailx metoo: envelope and To:" eval \
    'grep -q "^Delivered-To: mailxm@$SH_DOMAIN" "$LANDED" &&
    to_has "$LANDED" "mailxm@$SH_DOMAIN"'
as_sendmail s-nail -Smetoo -s "subj s-nail metoo" "snail@$SH_DOMAIN" \
    <<< "body s-nail metoo"
check "s-nail metoo: exits 0" caller_ok s-nail
check "s-nail metoo: passed -m" eval '[[ " $CARGV" == *" -m "* ]]'
check "s-nail metoo: landed" caller_landed snail "subj s-nail metoo" \
    "body s-nail metoo"
check "s-nail metoo: envelope and To:" eval \
    'grep -q "^Delivered-To: snail@$SH_DOMAIN" "$LANDED" &&
    to_has "$LANDED" "snail@$SH_DOMAIN"'
rm -f "$cdir/home/.mailrc"

# formail splitting a two-message mbox, each through sendmail -oi -t
{
	printf '%s\n' "From alice@$SH_DOMAIN  Tue Dec  1 10:00:00 2026" \
	    "From: Alice <alice@$SH_DOMAIN>" "To: forma@$SH_DOMAIN" \
	    "Subject: mbox one" "" "first body" ">From the mbox" ""
	printf '%s\n' "From bob@$SH_DOMAIN  Tue Dec  1 11:00:00 2026" \
	    "From: Bob <bob@$SH_DOMAIN>" "To: formb@$SH_DOMAIN" \
	    "Subject: mbox two" "" "second body"
} > "$cdir/home/two.mbox"
as_sendmail sh -c 'formail -s /usr/sbin/sendmail -oi -t < two.mbox'
check "formail: exits 0, two sendmail calls" eval \
    'caller_ok formail && [ "$(printf "%s\n" "$CARGV" | wc -l)" -eq 2 ]'
check "formail: first message, headers as headers" eval \
    'caller_landed forma "mbox one" "first body" &&
    grep -q "^Delivered-To: forma@$SH_DOMAIN" "$LANDED" &&
    ! grep -q "^From alice" "$LANDED"'
check "formail: second message, headers as headers" eval \
    'caller_landed formb "mbox two" "second body" &&
    grep -q "^Delivered-To: formb@$SH_DOMAIN" "$LANDED" &&
    ! grep -q "^From bob" "$LANDED"'

# Python's smtplib, speaking to `sendmail -bs` through socat
sport=$((SH_PORT_BASE + 41))
cat > "$cdir/home/smtp.py" <<'EOF'
import smtplib, sys
port, dom = int(sys.argv[1]), sys.argv[2]
msg = "Subject: over smtplib\r\nTo: pya@%s\r\n\r\nbody smtplib\r\n" % dom
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.sendmail("py-sender@" + dom, ["pya@" + dom, "pyb@" + dom], msg)
s.quit()
EOF
# (socat serves one connection: wait for its socket in /proc/net/tcp,
# state 0A is LISTEN, rather than spend that connection on a probe)
as_sendmail sh -c 'socat TCP-LISTEN:$0,bind=127.0.0.1,reuseaddr \
    EXEC:"/usr/sbin/sendmail -bs" & s=$!
    hex=$(printf "%04X" $0)
    for _ in $(seq 100); do
        grep -q "^ *[0-9]*: 0100007F:$hex 00000000:0000 0A" \
            /proc/net/tcp && break
        sleep 0.1
    done
    python3 smtp.py $0 $1; rc=$?; wait $s; exit $rc' "$sport" "$SH_DOMAIN"
check "smtplib via socat: exits 0" caller_ok smtplib
check "smtplib via socat: sendmail -bs" eval '[[ $CARGV == "-bs "* ]]'
check "smtplib via socat: both recipients" eval \
    'caller_landed pya "over smtplib" "body smtplib" && landed pyb 1'
check "smtplib via socat: envelope" eval \
    'grep -q "^Return-Path: <py-sender@$SH_DOMAIN>" "$LANDED" &&
    grep -q "^Delivered-To: pyb@$SH_DOMAIN" "$LANDED"'
check "smtplib via socat: Date, Message-ID and From added" eval \
    'grep -q "^Date: " "$LANDED" && grep -q "^Message-ID: <" "$LANDED" &&
    grep -q "^From: py-sender@$SH_DOMAIN" "$LANDED"'

# PHP's mail() against a smart host that accepts and never greets:
# it returns within 2 s, the message is queued, and once the host
# behaves it arrives
nport=$((SH_PORT_BASE + 42))
fault_start nogreet "$nport" starttls >/dev/null || nok "fault server start"
fault_rules nogreet "greeting stall"
nconf=$(mkconf nogreet "smarthost localhost" "port $nport" "tls starttls" \
    "tls_builtin_ca no" "tls_ca_file $SH_CA" "user $SH_USER" \
    "password_file $E2E_WORK/password" "timeout 10")
cp -p "$nconf" "$cdir/etc/ferry.conf"
# (PHP times itself: the namespace's set-up is not the caller's wait)
as_sendmail php -r '$d = $argv[1]; $t = microtime(true);
    $ok = mail("phpng@$d", "subj nogreet", "body nogreet", "From: web@$d");
    printf("%d\n", (microtime(true) - $t) * 1000); exit($ok ? 0 : 1);' \
    -- "$SH_DOMAIN"
ms=$(tail -1 "$cdir/out")
cp -p "$rconf" "$cdir/etc/ferry.conf"
check "php mail(), silent host: returns true" caller_ok php
check "php mail(), silent host: back within 2 s (${ms:-?} ms)" \
    eval '[ "${ms:-9999}" -lt 2000 ]'
check "php mail(), silent host: the message is queued" \
    eval '[ "$(queued "$nconf")" -eq 1 ]'
fault_rules nogreet
for _ in $(seq 60); do
	[ "$(queued "$nconf")" -eq 0 ] && break
	ferry_run "$nconf" -q < /dev/null
	sleep 0.5
done
check "php mail(), silent host: delivered once it greets" eval \
    '[ "$(queued "$nconf")" -eq 0 ] &&
    f=$(fault_mail_files nogreet | tail -1) && [ -n "$f" ] &&
    grep -q "^X-Fault-To: <phpng@$SH_DOMAIN>" "$f" &&
    grep -q "^Subject: subj nogreet" "$f" &&
    grep -q "^From: web@$SH_DOMAIN" "$f"'
fault_stop nogreet >/dev/null 2>&1
