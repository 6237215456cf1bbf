# t_30_errors.sh: bad configs, bad input, refused mail: one clear line
# and the sysexits code each time.

msg=$(mkmsg errs "errs@$SH_DOMAIN")

# fails_with DESC CODE PATTERN CONF ARGS...
fails_with() {
	local desc=$1 code=$2 pat=$3 conf=$4
	shift 4
	ferry_run "$conf" "$@" < "$msg"
	check "$desc: exit $code" expect_rc "$code"
	check "$desc: says '$pat'" grep -q -- "$pat" "$ERR"
}

good=$(hostconf good implicit "$SH_PORT_SMTPS")
fails_with "unknown option" 64 "unknown option" "$good" -Z x@y
fails_with "no recipients" 64 "no recipients" "$good" -f "s@$SH_DOMAIN"
fails_with "recipient starting with -" 65 "begins with" "$good" -- -x@y
fails_with "missing config" 78 "No such file" "$E2E_WORK/nope.conf" x@y
bad=$(mkconf badkey "smarthost localhost" "colour blue")
fails_with "unknown key" 78 "badkey.conf:2: unknown key" "$bad" x@y
bad=$(mkconf badport "smarthost localhost" "port 70000")
fails_with "bad port" 78 "badport.conf:2" "$bad" x@y
bad=$(mkconf nonelocal "smarthost mail.example.com" "tls none")
fails_with "tls none off loopback" 78 "loopback" "$bad" x@y
cp "$E2E_WORK/password" "$E2E_WORK/password.644"
chmod 644 "$E2E_WORK/password.644"
bad=$(hostconf pw644 implicit "$SH_PORT_SMTPS")
sed -i "s|^password_file .*|password_file $E2E_WORK/password.644|" "$bad"
fails_with "password file readable by others" 78 "readable by others" \
    "$bad" x@y
bad=$(mkconf cfg644 "smarthost localhost" "user u" "password $SH_PASS")
chmod 644 "$bad"
fails_with "config with password readable by others" 78 \
    "readable by others" "$bad" x@y

# Refused mail: a NUL byte in the message.
printf 'Subject: nul\n\nbad\0byte\n' > "$E2E_WORK/nul.eml"
ferry_run "$good" -f "s@$SH_DOMAIN" "nul@$SH_DOMAIN" < "$E2E_WORK/nul.eml"
check "NUL byte: exit 65" expect_rc 65

# A wrong password: AUTH fails; a config problem, not the message's.
printf 'wrong-password\n' > "$E2E_WORK/wrongpw"
chmod 600 "$E2E_WORK/wrongpw"
bad=$(hostconf wrongpw implicit "$SH_PORT_SMTPS")
sed -i "s|^password_file .*|password_file $E2E_WORK/wrongpw|" "$bad"
fails_with "wrong password" 78 "AUTH: 535" "$bad" -f "s@$SH_DOMAIN" \
    "errs@$SH_DOMAIN"
check "wrong password: message kept" eval '[ "$(queued "$bad")" -eq 1 ]' 

# Nothing listening: the message waits in the queue, and that is fine.
bad=$(hostconf closed implicit 9)
ferry_run "$bad" -f "s@$SH_DOMAIN" "errs@$SH_DOMAIN" < "$msg"
check "connection refused: queued, exit 0" expect_rc 0
check "connection refused: one entry queued" eval '[ "$(queued "$bad")" -eq 1 ]'
ferry_run "$bad" -bp < /dev/null
check "connection refused: mailq shows why" grep -q "Connection refused" \
    "$OUT"

# Two addresses, the first refusing: the connect that starts before the
# spool's fsyncs (net_start) goes on to the next address, as net_connect
# always did. A private /etc/hosts lists 127.0.0.2 (nothing listens)
# first; musl keeps IPv4 answers in file order.
tdir=$E2E_WORK/etc-twoaddr
mkdir -p "$tdir"
cp /etc/passwd /etc/group "$tdir/"
printf '127.0.0.2 twoaddr.ferry.test\n127.0.0.1 twoaddr.ferry.test\n' \
    > "$tdir/hosts"
two=$(mkconf twoaddr "smarthost twoaddr.ferry.test" \
    "tls_server_name localhost" "port $SH_PORT_SMTPS" "tls implicit" \
    "tls_builtin_ca no" "tls_ca_file $SH_CA" "user $SH_USER" \
    "password_file $E2E_WORK/password" "timeout 20")
"$FERRY_ROOT/scripts/need" strace >/dev/null || nok "strace missing"
# tried STRACE: the IPv4 addresses connected to, in order
tried() {
	sed -n 's/.*connect(.*inet_addr("\([0-9.]*\)").*/\1/p' "$1" |
	    tr '\n' ' ' | sed 's/ $//'
}
for mode in -odi ""; do
	rcpt=twoaddr${mode:+-odi}
	FERRY_WRAP="strace -f -qq -o $E2E_WORK/twoaddr.st -e trace=connect" \
	    FERRY_ETC=$tdir ferry_run "$two" $mode -f "s@$SH_DOMAIN" \
	    "$rcpt@$SH_DOMAIN" < "$msg"
	check "first address refuses ($mode): exit 0" expect_rc 0
	check "first address refuses ($mode): 127.0.0.2 tried, then .1" \
	    eval '[ "$(tried "$E2E_WORK/twoaddr.st")" = "127.0.0.2 127.0.0.1" ]'
	check "first address refuses ($mode): the second took it" \
	    landed "$rcpt" 1
	check "first address refuses ($mode): nothing queued" \
	    eval '[ "$(queued "$two")" -eq 0 ]'
done

# One recipient refused by the server (5xx), one accepted; -oep prints.
ferry_run "$good" -oep -f "s@$SH_DOMAIN" "part@$SH_DOMAIN" \
    "reject@$SH_DOMAIN" < "$msg"
check "partly refused: exit 69" expect_rc 69
check "partly refused: names the refused one" grep -q \
    "<reject@$SH_DOMAIN>: 550" "$ERR"
check "partly refused: the other got it" landed part 1

# -V: the version and the built-in anchors.
ferry_run "$good" -V < /dev/null
check "-V: exit 0" expect_rc 0
check "-V: counts built-in anchors" grep -qE \
    "^[0-9]+ built-in trust anchors from .* \(sha256 [0-9a-f]{64}\)" "$OUT"
