# t_78_longlines.sh: a body line over 998 octets arrives readable as
# quoted-printable; a 2000-byte header is folded; nothing is refused
# or lost (issue 7 item 5).

# decoded FILE: the delivered message's body, transfer-decoded.
decoded() {
	python3 -c 'import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
sys.stdout.buffer.write(m.get_payload(decode=True))' "$1"
}

# longest FILE: the longest line, CRLF not counted.
longest() { tr -d '\r' < "$1" | awk '{ if (length($0) > m) m = length($0) }
    END { print m + 0 }'; }

conf=$(hostconf longlines implicit "$SH_PORT_SMTPS")

# A cron-style mail: 5000 bytes on one line, some 8-bit, '=' and a
# trailing space, then short lines; -i keeps the lone dot.
f=$E2E_WORK/long.eml
{
	printf 'From: cron@%s\nTo: longbody@%s\nSubject: long body\n\n' \
	    "$SH_DOMAIN" "$SH_DOMAIN"
	for i in $(seq 560); do printf 'x=%03d \xc3\xa9 ' "$i"; done
	printf 'end \nshort line\n.\nlast\n'
} > "$f"
body "$f" > "$E2E_WORK/long.body"
ferry_run "$conf" -i -f "cron@$SH_DOMAIN" "longbody@$SH_DOMAIN" < "$f"
check "5000-byte body line: exit 0" expect_rc 0
check "5000-byte body line: landed" landed longbody 1
check "5000-byte body line: quoted-printable" \
    grep -qi '^Content-Transfer-Encoding: quoted-printable' "$LANDED"
check "5000-byte body line: lines within 998" \
    eval '[ "$(longest "$LANDED")" -le 998 ]'
check "5000-byte body line: decodes to the original" \
    cmp -s "$E2E_WORK/long.body" <(decoded "$LANDED")

# A 2000-byte Subject is folded at white space, and unfolds whole.
subj=$(for i in $(seq 250); do printf 'word%03d ' "$i"; done)
subj=${subj% }
printf 'To: longhdr@%s\nSubject: %s\n\nshort body\n' "$SH_DOMAIN" \
    "$subj" > "$f"
ferry_run "$conf" -t -f "cron@$SH_DOMAIN" < "$f"
check "2000-byte header, -t: exit 0" expect_rc 0
check "2000-byte header, -t: landed" landed longhdr 1
check "2000-byte header: lines within 998" \
    eval '[ "$(longest "$LANDED")" -le 998 ]'
check "2000-byte header: unfolds to the original" eval '[ "$(python3 -c \
    "import email, sys; m = email.message_from_binary_file(open(sys.argv[1], \
    \"rb\")); print(m[\"Subject\"].replace(\"\r\n\", \"\").replace(\"\n\", \"\"))" \
    "$LANDED")" = "$subj" ]'
check "2000-byte header: body untouched" \
    eval '[ "$(body "$LANDED")" = "short body" ]'

# A multipart message with a raw long line is cut, never refused.
{
	printf 'To: longmime@%s\nSubject: long part\nMIME-Version: 1.0\n' \
	    "$SH_DOMAIN"
	printf 'Content-Type: multipart/mixed; boundary=b\n\n--b\n\n'
	head -c 3000 /dev/zero | tr '\0' m
	printf '\n--b--\n'
} > "$f"
ferry_run "$conf" -t -f "cron@$SH_DOMAIN" < "$f"
check "multipart long line: exit 0" expect_rc 0
check "multipart long line: landed" landed longmime 1
check "multipart long line: every byte there" eval '[ "$(body "$LANDED" |
    tr -d " \n" | tr -cd m | wc -c)" -eq 3000 ]'
