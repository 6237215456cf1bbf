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
check "bare root: To header masqueraded" grep -q "^To: root@$SH_DOMAIN$" \
    "$LANDED"
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

# from: one verified sender; the writer's From becomes Reply-To
fconf=$(hostconf addrfrom implicit "$SH_PORT_SMTPS" \
    "from verified@$SH_DOMAIN")
printf 'From: Alice <alice@elsewhere.example>\nSubject: from\n\nbody\n' \
    > "$E2E_WORK/from.eml"
ferry_run "$fconf" -f "whoever@$SH_DOMAIN" "fromtest@$SH_DOMAIN" \
    < "$E2E_WORK/from.eml"
check "from: landed" landed fromtest 1
check "from: envelope sender forced" grep -q \
    "^Return-Path: <verified@$SH_DOMAIN>" "$LANDED"
check "from: From header forced" grep -q "^From: verified@$SH_DOMAIN" \
    "$LANDED"
check "from: old From kept as Reply-To" grep -q \
    "^Reply-To: Alice <alice@elsewhere.example>" "$LANDED"

# -f by a user who is not trusted: X-Authentication-Warning
pw_dir=$E2E_WORK/addr-nobody
mkdir -p "$pw_dir/spool"
chown nobody "$pw_dir/spool"
cp "$E2E_WORK/password" "$pw_dir/password"
chown nobody "$pw_dir/password"
nconf=$(hostconf addrnobody implicit "$SH_PORT_SMTPS" \
    "spool $pw_dir/spool")
sed -i "s|^password_file .*|password_file $pw_dir/password|" "$nconf"
chown nobody "$nconf"
FERRY_WRAP="setpriv --reuid=nobody --regid=nogroup --clear-groups" \
    ferry_run "$nconf" -f "boss@$SH_DOMAIN" "authwarn@$SH_DOMAIN" \
    < "$E2E_WORK/from.eml"
check "untrusted -f: landed" landed authwarn 1
check "untrusted -f: X-Authentication-Warning" grep -q \
    "^X-Authentication-Warning: .*: nobody set sender to boss@$SH_DOMAIN using -f" \
    "$LANDED"
sed -i '$a trusted_users root nobody' "$nconf"
FERRY_WRAP="setpriv --reuid=nobody --regid=nogroup --clear-groups" \
    ferry_run "$nconf" -f "boss@$SH_DOMAIN" "authwarn@$SH_DOMAIN" \
    < "$E2E_WORK/from.eml"
check "trusted -f: landed" landed authwarn 2
check "trusted -f: no warning" eval '! grep -q "^X-Authentication-Warning" \
    "$LANDED"'

# SMTPUTF8: a UTF-8 address goes when the server offers it
uconf=$(hostconf addrutf8 implicit "$SH_PORT_SMTPS")
ferry_run "$uconf" -v -f "s@$SH_DOMAIN" "$(printf 'j\xc3\xb6rg@%s' \
    "$SH_DOMAIN")" < "$E2E_WORK/from.eml"
check "SMTPUTF8: sent with the parameter" grep -q "SMTPUTF8" "$ERR"
