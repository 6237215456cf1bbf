# t_20_tls.sh: certificates ferry must refuse, before any AUTH; pins.

# tls_refused DESC PORT WHY [CONF LINES...]: exit 77, WHY in the error,
# and neither Postfix nor Dovecot saw an AUTH attempt.
tls_refused() {
	local desc=$1 port=$2 why=$3 conf msg pm dm
	shift 3
	conf=$(hostconf "neg$port" implicit "$port" "$@")
	msg=$(mkmsg "neg$port" "neg@$SH_DOMAIN")
	pm=$(log_mark "$(smarthost_log)")
	dm=$(log_mark "$(smarthost_auth_log)")
	ferry_run "$conf" -f "s@$SH_DOMAIN" "neg@$SH_DOMAIN" < "$msg"
	check "$desc: exit 77" expect_rc 77
	check "$desc: says '$why'" grep -q "$why" "$ERR"
	check "$desc: one line on stderr" eval '[ "$(wc -l < "$ERR")" -eq 1 ]'
	check "$desc: no AUTH in Postfix log" eval '! log_since \
	    "$(smarthost_log)" "$pm" | grep -qi "sasl"'
	check "$desc: no AUTH in Dovecot log" eval '! log_since \
	    "$(smarthost_auth_log)" "$dm" | grep -qi "auth"'
}

tls_refused "expired certificate" "$SH_PORT_EXPIRED" "expired"
tls_refused "certificate for another name" "$SH_PORT_WRONGNAME" \
    "another name"
tls_refused "self-signed certificate" "$SH_PORT_SELFSIGNED" \
    "not signed by a trusted CA"

# SPKI pins: sha256 of the certificate's public key, base64.
pin_of() {
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin \
	    -outform der | openssl dgst -sha256 -binary | base64
}
good_pin=$(pin_of "$SH_CERTS/good.crt")
other_pin=$(pin_of "$SH_CERTS/selfsigned.crt")

tls_refused "pin that does not match" "$SH_PORT_SMTPS" "tls_pin" \
    "tls_pin sha256:$other_pin"

conf=$(hostconf pinok implicit "$SH_PORT_SMTPS" "tls_pin sha256:$good_pin")
msg=$(mkmsg pinok "pinok@$SH_DOMAIN")
ferry_run "$conf" -f "s@$SH_DOMAIN" "pinok@$SH_DOMAIN" < "$msg"
check "matching pin and CA: exit 0" expect_rc 0
check "matching pin and CA: landed" landed pinok 1

# A pin alone stands for the CA: a self-signed host the admin pinned.
conf=$(mkconf pinonly "smarthost localhost" "port $SH_PORT_SELFSIGNED" \
    "tls implicit" "tls_builtin_ca no" "tls_server_name $SH_NAME" \
    "tls_pin sha256:$other_pin" "user $SH_USER" \
    "password_file $E2E_WORK/password")
msg=$(mkmsg pinonly "pinonly@$SH_DOMAIN")
ferry_run "$conf" -f "s@$SH_DOMAIN" "pinonly@$SH_DOMAIN" < "$msg"
check "pinned self-signed host: exit 0" expect_rc 0
check "pinned self-signed host: landed" landed pinonly 1

# The built-in anchors alone do not trust the test CA.
conf=$(mkconf builtin "smarthost localhost" "port $SH_PORT_SMTPS" \
    "tls implicit" "user $SH_USER" "password_file $E2E_WORK/password")
ferry_run "$conf" -f "s@$SH_DOMAIN" "neg@$SH_DOMAIN" < "$msg"
check "built-in anchors refuse the test CA: exit 77" expect_rc 77

# STARTTLS asked for but not offered: stop, never go on in plaintext.
pm=$(log_mark "$(smarthost_log)")
conf=$(hostconf notls starttls "$SH_PORT_NOTLS_SUB")
ferry_run "$conf" -f "s@$SH_DOMAIN" "neg@$SH_DOMAIN" < "$msg"
check "no STARTTLS offered: exit 77" expect_rc 77
check "no STARTTLS offered: says so" grep -q "does not offer STARTTLS" "$ERR"
check "no STARTTLS offered: no MAIL sent" eval '! log_since \
    "$(smarthost_log)" "$pm" | grep -qi "from=<s@"'

# Connecting by address needs a name to check the certificate against.
conf=$(mkconf byip "smarthost 127.0.0.1" "port $SH_PORT_SMTPS" \
    "tls implicit" "tls_builtin_ca no" "tls_ca_file $SH_CA" \
    "tls_server_name $SH_NAME" "user $SH_USER" \
    "password_file $E2E_WORK/password")
msg=$(mkmsg byip "byip@$SH_DOMAIN")
ferry_run "$conf" -f "s@$SH_DOMAIN" "byip@$SH_DOMAIN" < "$msg"
check "by address with tls_server_name: exit 0" expect_rc 0
check "by address with tls_server_name: landed" landed byip 1
