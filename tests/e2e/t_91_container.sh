# t_91_container.sh: configuration for containers. With no config file,
# ferry takes every key from FERRY_* variables and the password from the
# file FERRY_PASSWORD_FILE names; a set-group-ID ferry never does. Then
# the README's container image without Docker: a chroot holding only
# ferry (as /usr/sbin/sendmail), PHP's CLI, /bin/sh (PHP's mail() runs
# sendmail_path through popen) and their libraries; mail() sends
# through ferry to the test Postfix.

"$FERRY_ROOT/scripts/need" php-cli python3 >/dev/null 2>&1 ||
    nok "container: cannot install php-cli"

# -- a trap: a loopback SMTP listener that records whoever reaches it
trapd=$E2E_WORK/trap
mkdir -p "$trapd"
/usr/bin/python3 - "$trapd" <<'PY' &
import socket, sys, threading
d = sys.argv[1]
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
open(d + "/port.tmp", "w").write("%d\n" % s.getsockname()[1])
import os
os.rename(d + "/port.tmp", d + "/port")
def serve(c):
    try:
        talk(c)
    except OSError:
        pass    # ferry does not wait for QUIT's 221
    c.close()
def talk(c):
    f = c.makefile("rwb")
    log = open(d + "/log", "ab")
    log.write(b"CONNECT\n")
    f.write(b"220 trap ESMTP\r\n"); f.flush()
    for line in f:
        log.write(line); log.flush()
        w = line[:4].upper()
        if w in (b"EHLO", b"HELO"):
            f.write(b"250-trap\r\n250 AUTH PLAIN LOGIN\r\n")
        elif w == b"AUTH":
            f.write(b"235 ok\r\n")
        elif w == b"DATA":
            f.write(b"354 go\r\n")
        elif w == b"QUIT":
            f.write(b"221 bye\r\n"); f.flush(); break
        else:
            f.write(b"250 ok\r\n")
        f.flush()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
trap_pid=$!
for _ in $(seq 50); do [ -s "$trapd/port" ] && break; sleep 0.1; done
trap_port=$(cat "$trapd/port" 2>/dev/null)
check "trap listener up" test -n "$trap_port"
: > "$trapd/log"

# -- the setgid install, as t_70 makes it; no /etc/ferry.conf in its /etc
grp=ferry-e2e
getent group "$grp" >/dev/null || groupadd -r "$grp" || nok "groupadd"
cdir=$E2E_WORK/ctr
mkdir -p "$cdir/spool" "$cdir/etc" "$cdir/uspool"
install -m 2755 -g "$grp" "$FERRY" "$cdir/ferry-setgid"
install -m 0755 "$FERRY" "$cdir/ferry-plain"
chown root:"$grp" "$cdir/spool"
chmod 2770 "$cdir/spool"
install -m 0640 -g "$grp" "$E2E_WORK/password" "$cdir/password"
cp /etc/hosts /etc/passwd /etc/group "$cdir/etc/"
[ -e /etc/nsswitch.conf ] && cp /etc/nsswitch.conf "$cdir/etc/"
# what a caller would set to have ferry's password sent to its server
lure="env FERRY_SMARTHOST=127.0.0.1 FERRY_PORT=$trap_port FERRY_TLS=none
    FERRY_USER=$SH_USER FERRY_PASSWORD_FILE=$cdir/password
    FERRY_SPOOL=$cdir/spool FERRY_TIMEOUT=10"
as_nobody="setpriv --reuid=nobody --regid=nogroup --clear-groups"
msg=$(mkmsg ctr "ctr@$SH_DOMAIN")

# trap_reached: someone connected to the trap since it was cleared
trap_reached() { grep -q CONNECT "$trapd/log"; }

# the control: the same variables work for a ferry with no set-ID bit
FERRY_ETC=$cdir/etc FERRY_NOCONF=1 FERRY_BIN=$cdir/ferry-plain \
    FERRY_WRAP=$lure ferry_run x -odi -f "s@$SH_DOMAIN" "ctr@$SH_DOMAIN" \
    < "$msg"
check "no setgid, no config file: FERRY_* is the config (exit 0)" \
    expect_rc 0
check "no setgid: the variables steer it (the trap got the message)" eval '
    trap_reached && grep -q "^AUTH PLAIN" "$trapd/log"'
: > "$trapd/log"

FERRY_ETC=$cdir/etc FERRY_NOCONF=1 FERRY_BIN=$cdir/ferry-setgid \
    FERRY_WRAP=$lure ferry_run x -odi -f "s@$SH_DOMAIN" "ctr@$SH_DOMAIN" \
    < "$msg"
check "setgid ferry run by root: FERRY_* ignored, no config (exit 78)" eval '
    expect_rc 78 && grep -q "/etc/ferry.conf" "$ERR"'
check "setgid ferry run by root: nothing reached the trap" eval '! trap_reached'
FERRY_ETC=$cdir/etc FERRY_NOCONF=1 FERRY_BIN=$cdir/ferry-setgid \
    FERRY_WRAP="$lure $as_nobody" ferry_run x -odi -f "s@$SH_DOMAIN" \
    "ctr@$SH_DOMAIN" < "$msg"
check "setgid ferry run by nobody: FERRY_* ignored (exit 78)" eval '
    expect_rc 78 && grep -q "/etc/ferry.conf" "$ERR"'
FERRY_ETC=$cdir/etc FERRY_NOCONF=1 FERRY_BIN=$cdir/ferry-setgid \
    FERRY_WRAP="$lure $as_nobody" ferry_run x -q < /dev/null
FERRY_ETC=$cdir/etc FERRY_NOCONF=1 FERRY_BIN=$cdir/ferry-setgid \
    FERRY_WRAP="$lure $as_nobody" ferry_run x -bv < /dev/null
check "setgid ferry, -q and -bv by nobody: nothing reached the trap" eval '
    ! trap_reached && ! ls "$cdir/spool" | grep -q "^q"'

# a config file, when there is one, wins over any variable
cp -p "$(hostconf ctrfile implicit "$SH_PORT_SMTPS")" "$cdir/etc/ferry.conf"
FERRY_ETC=$cdir/etc FERRY_NOCONF=1 FERRY_BIN=$cdir/ferry-plain \
    FERRY_WRAP=$lure ferry_run x -odi -f "s@$SH_DOMAIN" "ctrfile@$SH_DOMAIN" \
    < "$msg"
check "a config file: FERRY_* ignored, the file's host took it" eval '
    expect_rc 0 && landed ctrfile 1 && ! trap_reached'
rm -f "$cdir/etc/ferry.conf"

FERRY_ETC=$cdir/etc FERRY_NOCONF=1 FERRY_BIN=$cdir/ferry-plain \
    FERRY_WRAP="$lure FERRY_PASSWORD=$SH_PASS" ferry_run x -odi \
    "ctr@$SH_DOMAIN" < "$msg"
check "FERRY_PASSWORD: refused (78), pointing at FERRY_PASSWORD_FILE" eval '
    expect_rc 78 && grep -q FERRY_PASSWORD_FILE "$ERR" && ! trap_reached'
FERRY_ETC=$cdir/etc FERRY_NOCONF=1 FERRY_BIN=$cdir/ferry-plain \
    FERRY_WRAP="$lure FERRY_PORT=99999" ferry_run x -odi "ctr@$SH_DOMAIN" \
    < "$msg"
check "FERRY_PORT=99999: exit 78 naming the variable" eval '
    expect_rc 78 && grep -q "FERRY_PORT" "$ERR"'
kill "$trap_pid" 2>/dev/null
wait "$trap_pid" 2>/dev/null

# -- the container image: a root with only ferry, PHP's CLI and /bin/sh
cr=$E2E_WORK/ctr-root
rm -rf "$cr"
mkdir -p "$cr/usr/sbin" "$cr/usr/bin" "$cr/bin" "$cr/etc" "$cr/run/secrets" \
    "$cr/var/spool/ferry" "$cr/tmp"
chmod 1777 "$cr/tmp"
cp "$FERRY" "$cr/usr/sbin/sendmail"
php=$(readlink -f /usr/bin/php)
cp "$php" "$cr/usr/bin/php"
cp "$(readlink -f /bin/sh)" "$cr/bin/sh"
for lib in $(ldd "$php" /bin/sh | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
    $1 ~ /^\// && $1 !~ /:$/ { print $1 }' | sort -u); do
	mkdir -p "$cr$(dirname "$lib")"
	cp -L "$lib" "$cr$lib"
done
printf '127.0.0.1\tlocalhost\n' > "$cr/etc/hosts"
cp "$SH_CA" "$cr/etc/ca.pem"
printf '%s\n' "$SH_PASS" > "$cr/run/secrets/smtp"
# the web server's user owns its secret and its spool, as in the README
chown 65534:65534 "$cr/run/secrets/smtp" "$cr/var/spool/ferry"
chmod 0400 "$cr/run/secrets/smtp"
chmod 0700 "$cr/var/spool/ferry"
check "container root: no /etc/ferry.conf, /etc/ssl, /dev or /proc" eval '
    [ ! -e "$cr/etc/ferry.conf" ] && [ ! -e "$cr/etc/ssl" ] &&
    [ ! -e "$cr/dev" ] && [ ! -e "$cr/proc" ]'

# in_ctr VAR=VALUE... -- PHP-CODE: run PHP in the root as uid 65534
# with a clean environment plus the VARs; RC, OUT, ERR as ferry_run.
in_ctr() {
	local vars=()
	while [ "$1" != -- ]; do vars+=("$1"); shift; done
	shift
	OUT=$E2E_WORK/out.$E2E_RUNS
	ERR=$E2E_WORK/err.$E2E_RUNS
	E2E_RUNS=$((E2E_RUNS + 1))
	env -i PATH=/usr/bin:/bin "${vars[@]}" "$CHROOT" --userspec=65534:65534 \
	    "$cr" /usr/bin/php -n -r "$1" > "$OUT" 2> "$ERR"
	RC=$?
	cat "$OUT" "$ERR" >> "$E2E_WORK/all-output"
}
CHROOT=$(command -v chroot)
ctr_env=(FERRY_SMARTHOST=localhost "FERRY_PORT=$SH_PORT_SMTPS"
    FERRY_TLS=implicit FERRY_TLS_BUILTIN_CA=no FERRY_TLS_CA_FILE=/etc/ca.pem
    "FERRY_USER=$SH_USER" FERRY_PASSWORD_FILE=/run/secrets/smtp
    FERRY_SPOOL=/var/spool/ferry "FERRY_MASQUERADE=$SH_DOMAIN")
in_ctr "${ctr_env[@]}" -- 'var_dump(mail("phpctr@ferry.test",
    "from the container", "sent by mail() through ferry",
    "From: web@ferry.test"));'
check "container: php mail() returns true" eval 'expect_rc 0 &&
    grep -q "bool(true)" "$OUT"'
check "container: the message landed" landed phpctr 1
check "container: it is PHP's message" eval '
    grep -q "^Subject: from the container" "$LANDED" &&
    grep -q "sent by mail() through ferry" "$LANDED"'
check "container: the envelope sender is masqueraded" grep -q \
    "^Return-Path: <nobody@$SH_DOMAIN>" "$LANDED"
in_ctr "${ctr_env[@]}" -- 'system("/usr/sbin/sendmail -bpj");
    system("/usr/sbin/sendmail -bc -w queued=0", $rc); exit($rc);'
check "container: mailq -j and -bc work from the variables" eval '
    expect_rc 0 && grep -q "^FERRY OK - 0 queued" "$OUT"'
chmod 0444 "$cr/run/secrets/smtp"
in_ctr "${ctr_env[@]}" -- 'var_dump(mail("phpctr@ferry.test", "s", "b"));'
# the entry is committed before the delivery that refuses the file;
# mail() is false when that refusal comes within the 1 s hand-off
check "container: a world-readable secret file: the mail stays queued" eval '
    ls "$cr/var/spool/ferry" | grep -q "^q" && { grep -q "bool(true)" "$OUT" ||
    grep -q "readable by others (mode 0444)" "$ERR"; }'
check "container: no password in any output" eval '! cat "$E2E_WORK"/out.* \
    "$E2E_WORK"/err.* | grep -qF "$SH_PASS"'
