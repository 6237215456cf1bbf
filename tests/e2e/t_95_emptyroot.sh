# t_95_emptyroot.sh: the static ferry in a root that holds nothing but
# itself, its config, /etc/hosts, /etc/resolv.conf, maybe /etc/passwd
# and /etc/group, and the spool: no /lib, /usr, /etc/ssl or /dev (so no
# /dev/log, /dev/null or /dev/urandom). It must deliver through the
# test Postfix, log warnings to stderr, and not need a passwd entry.
# Then jail/install into scratch roots (Linux and FreeBSD layouts) and
# make install/uninstall into a DESTDIR against the README's list.

# mkroot DIR PASSWD: the empty root, with /etc/passwd+group if PASSWD=1.
mkroot() {
	rm -rf "$1"
	mkdir -p "$1/etc" "$1/spool"
	chmod 700 "$1/spool"
	cp "$FERRY" "$1/ferry"
	cp "$SH_CA" "$1/etc/ca.pem"
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' > "$1/etc/hosts"
	printf 'nameserver 127.0.0.1\n' > "$1/etc/resolv.conf"
	(umask 077 && printf '%s\n' "$SH_PASS" > "$1/etc/pw")
	if [ "$2" = 1 ]; then
		printf 'root:x:0:0:root:/:/ferry\n' > "$1/etc/passwd"
		printf 'root:x:0:\n' > "$1/etc/group"
	fi
	(umask 077 && printf '%s\n' "smarthost localhost" \
	    "port $SH_PORT_SMTPS" "tls implicit" "tls_builtin_ca no" \
	    "tls_ca_file /etc/ca.pem" "user $SH_USER" "password_file /etc/pw" \
	    "spool /spool" "timeout 20" > "$1/etc/ferry.conf")
}

# in_root DIR ARGS... < msg: run DIR/ferry chrooted; RC, OUT, ERR as
# ferry_run sets them.
in_root() {
	local r=$1
	shift
	OUT=$E2E_WORK/out.$E2E_RUNS
	ERR=$E2E_WORK/err.$E2E_RUNS
	E2E_RUNS=$((E2E_RUNS + 1))
	chroot "$r" /ferry -C /etc/ferry.conf "$@" > "$OUT" 2> "$ERR"
	RC=$?
	cat "$OUT" "$ERR" >> "$E2E_WORK/all-output"
}

er=$E2E_WORK/emptyroot
for pw in 1 0; do
	v="with passwd"
	[ "$pw" = 1 ] || v="without passwd"
	mkroot "$er" "$pw"
	check "empty root ($v): no /dev, /lib, /usr, /etc/ssl" eval \
	    '[ ! -e "$er/dev" ] && [ ! -e "$er/lib" ] && [ ! -e "$er/usr" ] &&
	    [ ! -e "$er/etc/ssl" ]'
	msg=$(mkmsg "er$pw" "emptyroot$pw@$SH_DOMAIN")
	in_root "$er" "emptyroot$pw@$SH_DOMAIN" < "$msg"
	check "empty root ($v): delivers, exit 0" expect_rc 0
	check "empty root ($v): landed" landed "emptyroot$pw" 1
	check "empty root ($v): no /dev/log: nothing on stderr" \
	    test ! -s "$ERR"
	if [ "$pw" = 1 ]; then
		check "empty root: the sender is root" \
		    grep -q '^Return-Path: <root@' "$LANDED"
	else
		check "empty root without passwd: the sender is nobody" \
		    grep -q '^Return-Path: <nobody@' "$LANDED"
	fi
done

# queue, list and flush inside the root
msg=$(mkmsg erq "emptyrootq@$SH_DOMAIN")
in_root "$er" -odq "emptyrootq@$SH_DOMAIN" < "$msg"
check "empty root: -odq queues" eval '[ "$RC" -eq 0 ] &&
    [ "$(ls "$er"/spool/q* 2>/dev/null | wc -l)" -eq 1 ]'
in_root "$er" -bp < /dev/null
check "empty root: mailq lists it" grep -q "emptyrootq@$SH_DOMAIN" "$OUT"
in_root "$er" -q < /dev/null
check "empty root: -q sends it" landed emptyrootq 1

# warnings go to stderr without /dev/log: a bounce that bounces
msg=$(mkmsg erw "reject@$SH_DOMAIN")
in_root "$er" -f '' "reject@$SH_DOMAIN" < "$msg"
check "empty root: with no /dev/log a warning goes to stderr" \
    grep -q 'undeliverable bounce moved to failed/' "$ERR"
check "empty root: the message is kept in failed/" \
    eval '[ "$(ls "$er"/spool/failed/q* | wc -l)" -eq 1 ]'

# -odb with no /dev/null: the child lets go of the caller's stderr, so
# its warning does not land there (cat ends when every writer is gone)
rm -f "$er"/spool/failed/*
out=$E2E_WORK/er-odb.out
chroot "$er" /ferry -C /etc/ferry.conf -odb -f '' "reject@$SH_DOMAIN" \
    < "$msg" 2>&1 | cat > "$out"
for _ in $(seq 100); do		# bounded wait for the child's verdict
	ls "$er"/spool/failed/q* >/dev/null 2>&1 && break
	sleep 0.1
done
check "empty root: -odb child finished (failed/)" \
    eval 'ls "$er"/spool/failed/q* >/dev/null 2>&1'
check "empty root: -odb without /dev/null leaves the caller's stderr" \
    test ! -s "$out"

# --- jail/install ---------------------------------------------------
# tree DIR: every path under DIR with its type, for before/after.
tree() { (cd "$1" && find . | LC_ALL=C sort); }

jr=$E2E_WORK/jail-linux
rm -rf "$jr"
mkdir -p "$jr/etc"
printf 'root:x:0:\n' > "$jr/etc/group"
printf 'root:x:0:0:root:/:/bin/sh\n' > "$jr/etc/passwd"
cp "$er/etc/hosts" "$er/etc/ca.pem" "$er/etc/pw" "$jr/etc/"
tree "$jr" > "$E2E_WORK/jail-linux.before"
sed 's|^spool .*|spool /var/spool/ferry|' "$er/etc/ferry.conf" \
    > "$E2E_WORK/jail.conf"
"$FERRY_ROOT/jail/install" --os linux --flush cron --every 7 \
    --bin "$FERRY" --conf "$E2E_WORK/jail.conf" "$jr" \
    > "$E2E_WORK/jail-linux.out" 2>&1
rc=$?
check "jail/install --os linux: exit 0" eval '[ "$rc" -eq 0 ]'
check "jail linux: sendmail links" eval \
    '[ "$(readlink "$jr/usr/sbin/sendmail")" = /usr/local/sbin/ferry ] &&
    [ -L "$jr/usr/lib/sendmail" ] && [ -L "$jr/usr/bin/mailq" ] &&
    [ -L "$jr/usr/bin/newaliases" ]'
check "jail linux: cron line every 7 minutes and at boot" eval \
    'grep -q "^\*/7 \* \* \* \*	root	/usr/local/sbin/ferry -q$" \
    "$jr/etc/cron.d/ferry" && grep -q "^@reboot" "$jr/etc/cron.d/ferry"'
check "jail linux: group ferry in the root's /etc/group, setgid binary" \
    eval 'grep -q "^ferry:x:" "$jr/etc/group" &&
    [ "$(stat -c %a "$jr/usr/local/sbin/ferry")" = 2755 ] &&
    [ "$(stat -c %a "$jr/var/spool/ferry")" = 2770 ]'
# the manifest lists every path install added, and nothing else
(cd "$jr" && sed -n 's/^[dfls] //p' usr/local/share/ferry/jail.manifest |
    sed 's|^|.|' | LC_ALL=C sort) > "$E2E_WORK/jail-linux.listed"
tree "$jr" | LC_ALL=C comm -13 "$E2E_WORK/jail-linux.before" - \
    > "$E2E_WORK/jail-linux.added"
check "jail linux: manifest = what was added" \
    cmp -s "$E2E_WORK/jail-linux.listed" "$E2E_WORK/jail-linux.added"
"$FERRY_ROOT/jail/install" --list "$jr" > "$E2E_WORK/jail-linux.list"
check "jail/install --list prints the manifest" \
    grep -qx 'l /usr/sbin/sendmail' "$E2E_WORK/jail-linux.list"
msg=$(mkmsg jl "jaillinux@$SH_DOMAIN")
chroot "$jr" /usr/sbin/sendmail "jaillinux@$SH_DOMAIN" < "$msg" \
    > "$E2E_WORK/jl.out" 2>&1
rc=$?
check "jail linux: /usr/sbin/sendmail in the root delivers" \
    eval '[ "$rc" -eq 0 ] && landed jaillinux 1'
chroot "$jr" /usr/bin/mailq > "$E2E_WORK/jl.mailq" 2>&1
rc=$?
check "jail linux: mailq runs (empty queue)" eval '[ "$rc" -eq 0 ] &&
    grep -qx "Mail queue is empty" "$E2E_WORK/jl.mailq"'
"$FERRY_ROOT/jail/uninstall" "$jr" > "$E2E_WORK/jail-linux.un" 2>&1
check "jail/uninstall: root as before, group line gone" eval \
    'tree "$jr" | cmp -s "$E2E_WORK/jail-linux.before" - &&
    ! grep -q "^ferry:" "$jr/etc/group"'

# systemd layout: units that systemd-analyze accepts
js=$E2E_WORK/jail-systemd
rm -rf "$js"
mkdir -p "$js/usr/lib/systemd"
: > "$js/usr/lib/systemd/systemd"
"$FERRY_ROOT/jail/install" --os linux --bin "$FERRY" "$js" \
    > "$E2E_WORK/jail-systemd.out" 2>&1
u=$js/etc/systemd/system
check "jail systemd: service, timer, enabled in timers.target.wants" eval \
    '[ -f "$u/ferry-flush.service" ] && [ -f "$u/ferry-flush.timer" ] &&
    [ "$(readlink "$u/timers.target.wants/ferry-flush.timer")" = \
    /etc/systemd/system/ferry-flush.timer ]'
check "jail systemd: timer at boot and every 5 minutes" eval \
    'grep -qx "OnBootSec=1min" "$u/ferry-flush.timer" &&
    grep -qx "OnUnitActiveSec=5min" "$u/ferry-flush.timer" &&
    grep -qx "ExecStart=/usr/local/sbin/ferry -q" "$u/ferry-flush.service"'
# verify against this host: the unit's binary path made to exist here
vd=$E2E_WORK/units
mkdir -p "$vd"
sed "s|/usr/local/sbin/ferry|$FERRY|" "$u/ferry-flush.service" \
    > "$vd/ferry-flush.service"
cp "$u/ferry-flush.timer" "$vd/"
if command -v systemd-analyze >/dev/null 2>&1; then
	systemd-analyze verify "$vd/ferry-flush.service" \
	    "$vd/ferry-flush.timer" > "$vd/verify.out" 2>&1
	rc=$?
	check "systemd-analyze verify: clean" eval '[ "$rc" -eq 0 ] &&
	    [ ! -s "$vd/verify.out" ] || { cat "$vd/verify.out"; false; }'
else	# no systemd here: at least every line is a section or key=value
	check "systemd units: section and key=value lines only" eval \
	    '! grep -hEv "^(#|\[[A-Za-z]+\]$|[A-Za-z]+=.+$|$)" "$vd"/ferry-flush.*'
fi
"$FERRY_ROOT/jail/uninstall" "$js" > /dev/null 2>&1
check "jail/uninstall systemd: only the fake systemd is left" eval \
    '[ "$(tree "$js" | wc -l)" -eq 5 ]'

# FreeBSD layout, found from the root's own mailer.conf
jf=$E2E_WORK/jail-freebsd
rm -rf "$jf"
mkdir -p "$jf/etc/mail"
for n in sendmail mailq rmail; do
	printf '%s\t/usr/libexec/dma\n' "$n"
done > "$jf/etc/mail/mailer.conf"
printf 'wheel:*:0:root\n' > "$jf/etc/group"
cp -p "$jf/etc/mail/mailer.conf" "$E2E_WORK/mailer.conf.before"
tree "$jf" > "$E2E_WORK/jail-freebsd.before"
"$FERRY_ROOT/jail/install" --bin "$FERRY" "$jf" \
    > "$E2E_WORK/jail-freebsd.out" 2>&1
rc=$?
check "jail/install (FreeBSD guessed from mailer.conf): exit 0" \
    eval '[ "$rc" -eq 0 ] && grep -q "as freebsd" "$E2E_WORK/jail-freebsd.out"'
mc=$jf/etc/mail/mailer.conf
missing=
for n in sendmail send-mail mailq newaliases hoststat purgestat; do
	grep -qx "$n	/usr/local/sbin/ferry" "$mc" || missing="$missing $n"
done
check "jail freebsd: mailer.conf maps all six${missing:+ (not:$missing)}" \
    test -z "$missing"
check "jail freebsd: other mailer.conf lines kept, original saved" eval \
    'grep -q "^rmail" "$mc" && ! grep -q "^sendmail.*dma" "$mc" &&
    cmp -s "$mc.ferry-orig" "$E2E_WORK/mailer.conf.before"'
check "jail freebsd: rc.d script, sh -n clean, enabled" eval \
    'sh -n "$jf/usr/local/etc/rc.d/ferry" &&
    grep -q "^rcvar=ferry_enable" "$jf/usr/local/etc/rc.d/ferry" &&
    grep -qx "ferry_enable=\"YES\"" "$jf/etc/rc.conf.d/ferry"'
check "jail freebsd: cron.d line every 5 minutes" grep -q \
    '^\*/5 \* \* \* \*	root	/usr/local/sbin/ferry -q$' \
    "$jf/usr/local/etc/cron.d/ferry"
check "jail freebsd: no Linux links" test ! -e "$jf/usr/sbin/sendmail"
check "jail freebsd: group line in FreeBSD form" \
    grep -q '^ferry:\*:[0-9]*:$' "$jf/etc/group"
ln -sf "$FERRY" "$E2E_WORK/hoststat"
"$E2E_WORK/hoststat" > "$E2E_WORK/hoststat.out" 2>&1
rc=$?
check "ferry as hoststat: exit 0, prints nothing" eval \
    '[ "$rc" -eq 0 ] && [ ! -s "$E2E_WORK/hoststat.out" ]'
"$FERRY_ROOT/jail/uninstall" "$jf" > /dev/null 2>&1
check "jail/uninstall freebsd: root and mailer.conf as before" eval \
    'tree "$jf" | cmp -s "$E2E_WORK/jail-freebsd.before" - &&
    cmp -s "$mc" "$E2E_WORK/mailer.conf.before" &&
    [ "$(cat "$jf/etc/group")" = "wheel:*:0:root" ]'

# --- make install / uninstall into a DESTDIR ------------------------
# The README's list (between the install-list markers) is the layout.
dd=$E2E_WORK/destdir
rm -rf "$dd"
mkdir -p "$dd"
sed -n '/<!-- install-list -->/,/<!-- \/install-list -->/{
    s/^    \([^ ]*\).*/\1/p
    }' "$FERRY_ROOT/README.md" | LC_ALL=C sort > "$E2E_WORK/readme.list"
(cd "$FERRY_ROOT" && make -s install DESTDIR="$dd") \
    > "$E2E_WORK/make-install.out" 2>&1
rc=$?
check "make install DESTDIR: exit 0" eval '[ "$rc" -eq 0 ]'
{ (cd "$dd" && find . ! -type d | sed 's|^\.||')
  (cd "$dd" && find ./var/spool/ferry -type d | sed 's|^\.||; s|$|/|')
} | LC_ALL=C sort > "$E2E_WORK/destdir.list"
check "make install: exactly the README's file list" eval \
    '[ -s "$E2E_WORK/readme.list" ] &&
    diff "$E2E_WORK/readme.list" "$E2E_WORK/destdir.list"'
(cd "$FERRY_ROOT" && make -s uninstall DESTDIR="$dd") \
    > "$E2E_WORK/make-uninstall.out" 2>&1
check "make uninstall DESTDIR: nothing left" eval \
    '[ -z "$(ls -A "$dd")" ]'
# a sendmail that is not ours stays, unless FORCE=1; then it comes back
mkdir -p "$dd/usr/local/sbin"
echo other > "$dd/usr/local/sbin/sendmail"
(cd "$FERRY_ROOT" && make -s install DESTDIR="$dd") \
    > "$E2E_WORK/make-install2.out" 2>&1
check "make install: another program's sendmail is left alone" eval \
    '[ "$(cat "$dd/usr/local/sbin/sendmail")" = other ] &&
    grep -q "belongs to another program" "$E2E_WORK/make-install2.out"'
(cd "$FERRY_ROOT" && make -s install DESTDIR="$dd" FORCE=1) \
    > "$E2E_WORK/make-install3.out" 2>&1
check "make install FORCE=1: sendmail is ferry, the other one moved" eval \
    '[ "$(readlink "$dd/usr/local/sbin/sendmail")" = ferry ] &&
    [ "$(cat "$dd/usr/local/sbin/sendmail.ferry-orig")" = other ]'
(cd "$FERRY_ROOT" && make -s uninstall DESTDIR="$dd") \
    > "$E2E_WORK/make-uninstall2.out" 2>&1
check "make uninstall: the other sendmail is back, nothing else" eval \
    '[ "$(cd "$dd" && find . ! -type d)" = ./usr/local/sbin/sendmail ] &&
    [ "$(cat "$dd/usr/local/sbin/sendmail")" = other ]'
