# t_71_hardening.sh: issue 15, the setgid model against hostile local
# users. ferry is laid out as `make install` does (scripts/install into
# a DESTDIR): setgid to a group, spool root:GROUP 2770. A holder of the
# group may put anything into the spool; a user may stop (SIGSTOP) any
# ferry it started. Neither may steer or freeze root's queue run.

grp=ferry-e2e
getent group "$grp" >/dev/null || groupadd -r "$grp" || nok "groupadd"
h=$E2E_WORK/h71
(cd "$FERRY_ROOT" && DESTDIR=$h/inst PREFIX=/usr FERRY_GROUP=$grp \
    BINARY=$FERRY scripts/install) > "$E2E_WORK/h71-install.out" 2>&1 ||
    nok "h71: install"
bin=$h/inst/usr/sbin/ferry
spool=$h/inst/var/spool/ferry
hetc=$h/etc
mkdir -p "$hetc"
cp /etc/hosts /etc/passwd /etc/group "$hetc/"
[ -e /etc/nsswitch.conf ] && cp /etc/nsswitch.conf "$hetc/"
install -m 0640 -g "$grp" "$E2E_WORK/password" "$h/password"
hconf=$(hostconf h71 implicit "$SH_PORT_SMTPS" "spool $spool")
sed -i "s|^password_file .*|password_file $h/password|" "$hconf"
chgrp "$grp" "$hconf"
chmod 0640 "$hconf"
cp -p "$hconf" "$hetc/ferry.conf"
as_nobody="setpriv --reuid=nobody --regid=nogroup --clear-groups"

# as_root / as_user ARGS... < msg: the installed ferry, as root (-C) or
# as nobody with the installed /etc/ferry.conf; WRAP goes in front.
as_root() { FERRY_BIN=$bin FERRY_WRAP="${WRAP:-}" ferry_run "$hconf" "$@"; }
as_user() {
	FERRY_ETC=$hetc FERRY_NOCONF=1 FERRY_BIN=$bin \
	    FERRY_WRAP="${WRAP:-} $as_nobody" ferry_run x "$@"
}
# the ID of the entry queued last for localpart $1
id_for() { grep -l "^rcpt .*<$1@" "$spool"/q* 2>/dev/null | head -1 |
    sed 's|.*/q||'; }
# no mail for localpart $1, a moment after the run that could send it
none_for() { sleep 2; [ "$(smarthost_mail_count "$1")" -eq 0 ]; }

# ---- 3: root's queue run trusts nothing in the spool ----
printf 'Subject: stolen\n\nT71-SECRET-BYTES\n' > "$h/secret"
chmod 600 "$h/secret"
printf 'VICTIM\n' > "$h/victim"
cp "$h/victim" "$h/victim2"
mkdir -p "$h/elsewhere"
for who in t71sym t71hard t71ok; do
	as_root -odq -f "s71@$SH_DOMAIN" "$who@$SH_DOMAIN" \
	    < "$(mkmsg "$who" "$who@$SH_DOMAIN")"
done
as_root -odq -f "s71@$SH_DOMAIN" "tempfail@$SH_DOMAIN" \
    < "$(mkmsg t71temp "tempfail@$SH_DOMAIN")"
as_root -odq -f "t71bounce@$SH_DOMAIN" "reject@$SH_DOMAIN" \
    < "$(mkmsg t71rej "reject@$SH_DOMAIN")"
as_root -odq -f '' "reject@$SH_DOMAIN" < "$(mkmsg t71null "x@$SH_DOMAIN")"
id=$(id_for t71sym) && rm -f "$spool/d$id" && ln -s "$h/secret" "$spool/d$id"
id=$(id_for t71hard) && rm -f "$spool/d$id" && ln "$h/secret" "$spool/d$id"
id=$(id_for tempfail) && ln -s "$h/victim" "$spool/u$id"
ln -s "$h/victim2" "$spool/bounce-times.new"
rm -rf "$spool/failed" && ln -s "$h/elsewhere" "$spool/failed"
# finding 11: what killed processes left, an hour old and fresh
for k in t u; do
	: > "$spool/${k}00000001deadbeef"
	touch -d '2 hours ago' "$spool/${k}00000001deadbeef"
	: > "$spool/${k}00000002deadbeef"
done
ln -s "$h/victim" "$spool/t00000003deadbeef"
touch -h -d '2 hours ago' "$spool/t00000003deadbeef"

WRAP="timeout 60" as_root -q < /dev/null
check "spool: the good entry still delivers" landed t71ok 1
check "spool: d symlink to a secret is not mailed" none_for t71sym
check "spool: d hard link to a secret is not mailed" none_for t71hard
check "spool: the secret is in no mail" eval '! grep -rqs T71-SECRET \
    "$SH_DIR/mail"'
check "spool: the bad d files are named in the log" \
    grep -q "not a regular file with one link" "$SYSLOG_FILE"
check "spool: u<ID> symlink: its target is untouched" \
    eval '[ "$(cat "$h/victim")" = VICTIM ]'
check "spool: bounce-times.new symlink: its target is untouched" \
    eval '[ "$(cat "$h/victim2")" = VICTIM ]'
check "spool: the bounce still went out" landed t71bounce 1
check "spool: failed/ as a symlink: nothing written where it points" \
    eval '[ -z "$(ls -A "$h/elsewhere")" ]'
check "spool: the <> message stays queued instead" \
    eval 'grep -q "^from <>" "$spool"/q*'
check "sweep: stale t and u files removed" eval '[ ! -e \
    "$spool/t00000001deadbeef" ] && [ ! -e "$spool/u00000001deadbeef" ]'
check "sweep: fresh t and u files kept" eval '[ -e \
    "$spool/t00000002deadbeef" ] && [ -e "$spool/u00000002deadbeef" ]'
check "sweep: a stale symlink goes, not its target" eval '[ ! -L \
    "$spool/t00000003deadbeef" ] && [ "$(cat "$h/victim")" = VICTIM ]'

# FIFOs as a d file and as the TLS session cache: no open may wait
for who in t71fifo t71ok2; do
	as_root -odq -f "s71@$SH_DOMAIN" "$who@$SH_DOMAIN" \
	    < "$(mkmsg "$who" "$who@$SH_DOMAIN")"
done
id=$(id_for t71fifo) && rm -f "$spool/d$id" && mkfifo "$spool/d$id"
rm -f "$spool/tls-session" "$spool/tls-session.new"
mkfifo "$spool/tls-session" "$spool/tls-session.new"
WRAP="timeout 60" as_root -q < /dev/null
check "spool: root's -q finishes despite FIFOs" eval '[ "$RC" -ne 124 ]'
check "spool: and the good entry after them delivers" landed t71ok2 1

# a clean spool for the rest
find "$spool" -mindepth 1 -delete
mkdir "$spool/failed" && chgrp "$grp" "$spool/failed" &&
    chmod 2770 "$spool/failed"

# ---- 2: a user's ferry holds no lock that root's run waits for ----
as_root -odq -f "s71@$SH_DOMAIN" "t71rootq@$SH_DOMAIN" \
    < "$(mkmsg t71rootq "t71rootq@$SH_DOMAIN")"
as_user -odq "t71userq@$SH_DOMAIN" < "$(mkmsg t71userq "t71userq@$SH_DOMAIN")"
check "lock: nobody queues through the installed ferry" expect_rc 0
as_user -q < /dev/null
check "lock: nobody's -q: exit 0" expect_rc 0
check "lock: nobody's -q sends nobody's own mail" landed t71userq 1
check "lock: nobody's -q leaves root's mail alone" none_for t71rootq
# 12: mailq shows every queued envelope to every user (kept; README)
as_user -bp < /dev/null
check "mailq: nobody sees root's queued envelope" grep -q "t71rootq@" "$OUT"
as_root -q < /dev/null
check "lock: root's -q sends it" landed t71rootq 1

# a stopped process holding the bounce lock (flock(2) on the spool
# folder, as ferry takes it); our own holder, ended by its pid below
python3 -c 'import fcntl, os, sys, time
fcntl.flock(os.open(sys.argv[1], os.O_RDONLY), fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(120)' "$spool" "$h/held" &
holder=$!
for _ in $(seq 100); do [ -e "$h/held" ] && break; sleep 0.1; done
WRAP="timeout 40" as_user "reject@$SH_DOMAIN" \
    < "$(mkmsg t71userrej "reject@$SH_DOMAIN")"
check "lock: nobody's refused send does not wait for the bounce lock" \
    eval '[ "$RC" -ne 124 ] && [ "$RC" -eq 0 ]'
as_root -odq -f "t71late@$SH_DOMAIN" "reject@$SH_DOMAIN" \
    < "$(mkmsg t71late "reject@$SH_DOMAIN")"
WRAP="timeout 40" as_root -q < /dev/null
check "lock: root's -q gives up on a held bounce lock" \
    eval '[ "$RC" -ne 124 ] && grep -q "bounce lock" "$ERR"'
check "lock: the bounce stays owed" eval 'grep -q "^rcpt refused" "$spool"/q*'
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
as_root -q < /dev/null
check "lock: the next run makes the owed bounce" landed t71late 1

# ---- 9 and 8: what the kernel shows of a running ferry ----
# nobody's own config and spool, for -C
nob=$h/nobody
mkdir -p "$nob/spool"
printf 'smarthost localhost\ntls none\nport %s\nspool %s/spool\n' \
    "$SH_PORT_PLAIN" "$nob" > "$nob/ferry.conf"
chown -R nobody "$nob"

# bg_ferry BIN ARGS...: start BIN as nobody in a mount namespace with
# the installed /etc, waiting in -bs on a stdin that stays open; sets
# BG_PID to ferry's own pid once it runs ferry.
bg_ferry() {
	local pidf=$h/bg.pid
	rm -f "$pidf"
	(sleep 30 | unshare -m sh -c 'mount --bind "$0" /etc &&
	    echo $$ > "$1" && shift && exec "$@"' "$hetc" "$pidf" \
	    $as_nobody "$@" > /dev/null 2>&1) 2>/dev/null &
	BG_PID=
	for _ in $(seq 50); do
		[ -s "$pidf" ] && BG_PID=$(cat "$pidf") &&
		    grep -q '^Name:.ferry' "/proc/$BG_PID/status" 2>/dev/null &&
		    return 0
		sleep 0.1
	done
	return 1
}
bg_stop() { [ -n "$BG_PID" ] && kill "$BG_PID" 2>/dev/null; BG_PID=; }

nogroup=$(getent group nogroup | cut -d: -f3)
if bg_ferry "$bin" -C "$nob/ferry.conf" -bs; then
	gids=$(sed -n 's/^Gid:[[:space:]]*//p' "/proc/$BG_PID/status" |
	    tr -s '[:space:]' ' ')
	check "-C as nobody: real, effective and saved gid all nobody's" \
	    eval '[ "$gids" = "$nogroup $nogroup $nogroup $nogroup " ]'
	check "no core file: RLIMIT_CORE is 0" grep -Eq \
	    '^Max core file size +0 +0 ' "/proc/$BG_PID/limits"
	bg_stop
else
	nok "-C as nobody: ferry -bs did not start"
fi
# a plain (not set-id) ferry, which the kernel leaves dumpable: ferry
# itself must clear it, so /proc/PID belongs to root, not to nobody
cp "$FERRY" "$h/ferry-plain"
chmod 755 "$h/ferry-plain"
if bg_ferry "$h/ferry-plain" -C "$nob/ferry.conf" -bs; then
	check "not dumpable: /proc/PID is root's, not the caller's" \
	    eval '[ "$(stat -c %u "/proc/$BG_PID/status")" -eq 0 ]'
	bg_stop
else
	nok "plain ferry -bs did not start"
fi

# ---- 8: the password is read when AUTH runs, not before ----
lconf=$(hostconf h71lazy implicit "$SH_PORT_SMTPS")
sed -i "s|^password_file .*|password_file $h/no-such-pw|" "$lconf"
ferry_run "$lconf" -odq -f "s71@$SH_DOMAIN" "t71lazy@$SH_DOMAIN" \
    < "$(mkmsg t71lazy "t71lazy@$SH_DOMAIN")"
check "secret: -odq does not read the password file" \
    eval 'expect_rc 0 && [ "$(queued "$lconf")" -eq 1 ]'
printf 'EHLO x\r\nMAIL FROM:<s71@%s>\r\nRCPT TO:<t71lazy@%s>\r\nDATA\r\n%b' \
    "$SH_DOMAIN" "$SH_DOMAIN" 'Subject: bs\r\n\r\nhi\r\n.\r\nQUIT\r\n' \
    > "$h/bs.in"
ferry_run "$lconf" -bs -odq < "$h/bs.in"
check "secret: -bs -odq does not read the password file" \
    eval 'expect_rc 0 && [ "$(queued "$lconf")" -eq 2 ]'
ferry_run "$lconf" -q < /dev/null
check "secret: AUTH reads it, and says what is wrong" \
    eval 'grep -q "no-such-pw: No such file" "$SYSLOG_FILE" &&
    [ "$(queued "$lconf")" -eq 2 ]'
cp "$E2E_WORK/password" "$h/no-such-pw"
ferry_run "$lconf" -q < /dev/null
check "secret: once it is there, both go" landed t71lazy 2

# ---- 10: memory does not follow the longest line ----
# peak RSS (KB) of ferry queueing FILE (-odq), through a small static
# launcher: a child's peak counts the image it forked from (lib/maxrss.c)
musl-gcc -static -Os -o "$E2E_WORK/maxrss" \
    "$FERRY_ROOT/tests/e2e/lib/maxrss.c" || nok "build maxrss"
rss_of() {
	"$E2E_WORK/maxrss" "$FERRY" -C "$1" -odq big@ferry.test < "$2"
}
bigconf=$(mkconf h71big "smarthost localhost")
for kind in text octet; do
	big=$E2E_WORK/h71-line.$kind
	{ [ "$kind" = octet ] &&
	    printf 'Content-Type: application/octet-stream\n\n'
	  head -c 200000000 /dev/zero | tr '\0' x; echo; } > "$big"
	read -r brc brss < <(rss_of "$bigconf" "$big")
	check "a single 200 MB line ($kind body): queued" \
	    eval '[ "$brc" -eq 0 ] && [ "$(queued "$bigconf")" -eq 1 ]'
	check "a single 200 MB line ($kind body): peak RSS $brss KB < 512" \
	    eval '[ "$brss" -lt 512 ]'
	rm -f "$big"
	find "$E2E_WORK/spool-h71big" -maxdepth 1 -type f -delete
done
