# t_46_addresses.sh: aliases, masquerading and newaliases, on a node
# named mynode (a UTS namespace), as a bare `mail root` would send.

adir=$E2E_WORK/aliases
mkdir -p "$adir"
cat > "$adir/aliases" <<'EOA'
# the usual: root's mail goes to people
root: admin@ferry.test, ops
ops: ops1@ferry.test,
	ops2@ferry.test
postmaster: root
loop1: loop2
loop2: loop1, loopout@ferry.test
EOA
aconf=$(hostconf addr implicit "$SH_PORT_SMTPS" "aliases $adir/aliases" \
    "masquerade $SH_DOMAIN")
msg=$(mkmsg addr "root")

FERRY_HOSTNAME=mynode ferry_run "$aconf" root < "$msg"
check "bare root: exit 0" expect_rc 0
for who in admin ops1 ops2; do
	check "bare root: alias target $who got it" landed "$who" 1
done
check "bare root: sender masqueraded" grep -q \
    "^Return-Path: <root@$SH_DOMAIN>" "$LANDED"
FERRY_HOSTNAME=mynode.internal ferry_run "$aconf" -f root@mynode.internal \
    postmaster@mynode.internal < "$msg"
check "postmaster@mynode.internal: via root, deduplicated" eval '
    landed admin 2 && landed ops1 2 && [ "$(smarthost_mail_count ops1)" -eq 2 ]'
check "root@mynode.internal: sender masqueraded" grep -q \
    "^Return-Path: <root@$SH_DOMAIN>" "$LANDED"
FERRY_HOSTNAME=mynode ferry_run "$aconf" someone < "$msg"
check "bare name without alias: name@masquerade" landed someone 1
FERRY_HOSTNAME=mynode ferry_run "$aconf" loop1 < "$msg"
check "alias loop: stops, delivers what it can" landed loopout 1

FERRY_HOSTNAME=mynode ferry_run "$aconf" -bi < /dev/null
check "newaliases: a loop is reported" eval '[ "$RC" -eq 65 ] &&
    grep -q "loop" "$OUT"'
printf 'root: admin@ferry.test\n' > "$adir/clean"
cconf=$(hostconf addrclean implicit "$SH_PORT_SMTPS" "aliases $adir/clean")
ln -sf "$FERRY" "$E2E_WORK/newaliases"
FERRY_BIN=$E2E_WORK/newaliases ferry_run "$cconf" < /dev/null
check "newaliases (by name): clean file, exit 0" expect_rc 0
printf 'root: :include:/etc/mail/list\n' > "$adir/include"
iconf=$(hostconf addrinc implicit "$SH_PORT_SMTPS" "aliases $adir/include")
ferry_run "$iconf" -bi < /dev/null
check "newaliases: :include: refused, exit 78" eval '[ "$RC" -eq 78 ] &&
    grep -q ":include: is not supported" "$ERR"'
ferry_run "$iconf" root < "$msg"
check "sending with a bad aliases file: exit 78" expect_rc 78
