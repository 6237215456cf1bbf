# t_45_flags.sh: sendmail's flags, one golden case each: what ferry
# does with it, or that it is accepted and ignored as documented.

fconf=$(hostconf flags implicit "$SH_PORT_SMTPS")
msg=$(mkmsg flags "flags@$SH_DOMAIN")
n=0

# sends FLAGS...: the flags work and the message lands.
sends() {
	n=$((n + 1))
	ferry_run "$fconf" "$@" -f "s@$SH_DOMAIN" "flags@$SH_DOMAIN" < "$msg"
	check "$*: exit 0" expect_rc 0
	check "$*: landed" landed flags "$n"
}

sends -G
sends -O DeliveryMode=b
sends -v -N success,failure -R hdrs -V envid+123
check "DSN: RET and ENVID (xtext) on MAIL" grep -q \
    "^> MAIL FROM:<s@$SH_DOMAIN> .*RET=HDRS ENVID=envid+2B123" "$ERR"
check "DSN: NOTIFY on RCPT" grep -q \
    "^> RCPT TO:<flags@$SH_DOMAIN> NOTIFY=SUCCESS,FAILURE" "$ERR"
sends -N never
sends -odi
sends -oeq
sends -oew
sends -bm
sends -oi
sends -oQ/tmp
sends -X /tmp/traffic.log
check "-X: warns that it is ignored" grep -q "ignored" "$ERR"
sends -v -B 8BITMIME
check "-B 8BITMIME: BODY=8BITMIME sent" grep -q "BODY=8BITMIME" "$ERR"
m=$(log_mark "$SYSLOG_FILE")
sends -L mytag
check "-L: syslog lines carry the tag" eval 'log_since "$SYSLOG_FILE" "$m" |
    grep -q "mytag\["'

ferry_run "$fconf" -r "other@$SH_DOMAIN" "flags@$SH_DOMAIN" < "$msg"
n=$((n + 1))
check "-r: the envelope sender" eval 'landed flags "$n" &&
    grep -q "^Return-Path: <other@$SH_DOMAIN>" "$LANDED"'
ferry_run "$fconf" -B 9BIT "flags@$SH_DOMAIN" < "$msg"
check "-B 9BIT: usage error" expect_rc 64
ferry_run "$fconf" -bx < /dev/null
check "-bx: usage error" expect_rc 64
ferry_run "$fconf" -N sometimes "flags@$SH_DOMAIN" < "$msg"
check "-N sometimes: usage error" expect_rc 64
ferry_run "$fconf" -R most "flags@$SH_DOMAIN" < "$msg"
check "-R most: usage error" expect_rc 64
ferry_run "$fconf" -F "$(printf 'Evil\nBcc: x@y')" "flags@$SH_DOMAIN" < "$msg"
check "-F with a newline: refused" expect_rc 64
ferry_run "$fconf" -f "$(printf 'a@b\nBcc: x@y')" "flags@$SH_DOMAIN" < "$msg"
check "-f with a newline: refused" expect_rc 65

# -bv: does the setup work, like msmtp --serverinfo
ferry_run "$fconf" -bv < /dev/null
check "-bv: exit 0" expect_rc 0
check "-bv: reports TLS and AUTH" eval 'grep -q "TLS 1.2" "$OUT" &&
    grep -q "AUTH SCRAM-SHA-256 as $SH_USER" "$OUT" &&
    grep -q "the configuration works" "$OUT"'
bad=$(hostconf flagsbad implicit "$SH_PORT_EXPIRED")
ferry_run "$bad" -bv < /dev/null
check "-bv against an expired certificate: exit 77" expect_rc 77

# invoked as mailq
ln -sf "$FERRY" "$E2E_WORK/mailq"
FERRY_BIN=$E2E_WORK/mailq ferry_run "$fconf" < /dev/null
check "as mailq: lists the queue" grep -q "Mail queue is empty" "$OUT"

# -F and the submission fix-up: Date, Message-ID and From when missing
printf 'Subject: bare\n\nno Date, Message-ID or From\n' > "$E2E_WORK/bare.eml"
ferry_run "$fconf" -F 'Ops "Team" Jörg' -f "ops@$SH_DOMAIN" \
    "fixup@$SH_DOMAIN" < "$E2E_WORK/bare.eml"
check "fix-up: landed" landed fixup 1
check "fix-up: one Date added" eval '[ "$(grep -c "^Date: " "$LANDED")" -eq 1 ]'
check "fix-up: ferry's Message-ID" grep -q '^Message-ID: <[0-9]\{14\}\.' \
    "$LANDED"
check "fix-up: From with the -F name, encoded" grep -q \
    "^From: =?utf-8?q?.*?= <ops@$SH_DOMAIN>" "$LANDED"
printf 'Subject: x\nnot a header\n\nbody\n' > "$E2E_WORK/badhdr.eml"
ferry_run "$fconf" "fixup@$SH_DOMAIN" < "$E2E_WORK/badhdr.eml"
check "header line without a colon: exit 65" expect_rc 65
check "header line without a colon: says so" grep -q "no colon" "$ERR"

# -bs: SMTP on stdin and stdout, pipelined, as mutt can use it
printf '%s\r\n' "EHLO client" "MAIL FROM:<s@$SH_DOMAIN>" \
    "RCPT TO:<bs1@$SH_DOMAIN>" "RCPT TO:<bs2@$SH_DOMAIN>" "DATA" \
    "Subject: over -bs" "" "..a dot line" "last" "." "QUIT" \
    > "$E2E_WORK/bs.in"
ferry_run "$fconf" -bs < "$E2E_WORK/bs.in"
check "-bs: exit 0" expect_rc 0
check "-bs: greeting, queued, bye" eval 'grep -q "^220 " "$OUT" &&
    grep -q "^250 2.0.0 Ok: queued as [0-9a-f]\{16\}" "$OUT" &&
    grep -q "^221 " "$OUT"'
check "-bs: both recipients got it" eval 'landed bs1 1 && landed bs2 1'
check "-bs: dot unstuffed" grep -q "^\.a dot line$" "$LANDED"
printf '%s\r\n' "MAIL FROM:<s@$SH_DOMAIN>" "DATA" "QUIT" > "$E2E_WORK/bs2.in"
ferry_run "$fconf" -bs < "$E2E_WORK/bs2.in"
check "-bs: DATA without RCPT refused" grep -q "^554 " "$OUT"
