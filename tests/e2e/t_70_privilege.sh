# t_70_privilege.sh: the setgid model. A user who is not root sends
# through a setgid-ferry binary, but cannot read the password, another
# user's queued mail, or make ferry read a file with -C that the user
# could not read.

grp=ferry-e2e
pdir=$E2E_WORK/priv
setgid_tree "$pdir"
pconf=$(hostconf priv implicit "$SH_PORT_SMTPS" "spool $pdir/spool")
sed -i "s|^password_file .*|password_file $pdir/password|" "$pconf"
chgrp "$grp" "$pconf"
chmod 0640 "$pconf"
as_nobody="setpriv --reuid=nobody --regid=nogroup --clear-groups"

# a message from root waits in the queue
msg=$(mkmsg priv "privroot@$SH_DOMAIN")
FERRY_BIN=$pdir/ferry ferry_run "$pconf" -odq -f "root@$SH_DOMAIN" \
    "privroot@$SH_DOMAIN" < "$msg"
queued_d=$(ls "$pdir"/spool/d* | head -1)

# nobody runs it as cron would, with the installed /etc/ferry.conf
mkdir -p "$pdir/etc"
cp /etc/hosts /etc/passwd /etc/group "$pdir/etc/"
[ -e /etc/nsswitch.conf ] && cp /etc/nsswitch.conf "$pdir/etc/"
cp -p "$pconf" "$pdir/etc/ferry.conf"
msg=$(mkmsg privuser "privuser@$SH_DOMAIN")
FERRY_ETC=$pdir/etc FERRY_NOCONF=1 FERRY_BIN=$pdir/ferry \
    FERRY_WRAP=$as_nobody ferry_run "$pconf" "privuser@$SH_DOMAIN" < "$msg"
check "nobody sends through setgid ferry: exit 0" expect_rc 0
check "nobody sends through setgid ferry: landed" landed privuser 1
check "nobody's mail is from nobody" grep -q "^Return-Path: <nobody@" "$LANDED"
check "nobody cannot read the password file" \
    eval '! $as_nobody cat "$pdir/password" >/dev/null 2>&1'
check "nobody cannot read the config" \
    eval '! $as_nobody cat "$pconf" >/dev/null 2>&1'
check "nobody cannot read root's queued message" \
    eval '! $as_nobody cat "$queued_d" >/dev/null 2>&1'
check "nobody cannot list the spool" \
    eval '! $as_nobody ls "$pdir/spool" >/dev/null 2>&1'

# -C: ferry drops its group first, so the group's files are closed
FERRY_BIN=$pdir/ferry FERRY_WRAP=$as_nobody ferry_run "$pconf" -bp \
    < /dev/null
check "-C as nobody: ferry's group is dropped first" eval '[ "$RC" -eq 78 ] &&
    grep -q "Permission denied" "$ERR"'
ferry_run "$pconf" -q < /dev/null
check "root's queued message still delivers" landed privroot 1

# make install lays out the same model (here into a DESTDIR)
inst=$E2E_WORK/inst
(cd "$FERRY_ROOT" && DESTDIR=$inst PREFIX=/usr FERRY_GROUP=$grp \
    scripts/install) > "$E2E_WORK/install.out" 2>&1
irc=$?
check "install: exit 0" eval '[ "$irc" -eq 0 ]'
check "install: setgid binary" eval '[ "$(stat -c "%a %G" \
    "$inst/usr/sbin/ferry")" = "2755 $grp" ]'
check "install: spool and failed/ 2770" eval '[ "$(stat -c "%a %G" \
    "$inst/var/spool/ferry")" = "2770 $grp" ] && [ "$(stat -c "%a %G" \
    "$inst/var/spool/ferry/failed")" = "2770 $grp" ]'
check "install: sample config" test -f "$inst/etc/ferry.conf.sample"
check "install: man pages" eval '[ -f "$inst/usr/share/man/man8/ferry.8" ] &&
    [ -f "$inst/usr/share/man/man5/ferry.conf.5" ]'
