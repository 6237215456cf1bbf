# t_90_leak.sh: the password never appears in anything ferry printed
# or logged over all the tests before this one. Runs last.

plain64=$(printf '\0%s\0%s' "$SH_USER" "$SH_PASS" | base64 -w0)
pass64=$(printf '%s' "$SH_PASS" | base64 -w0)
check "syslog got ferry's lines" grep -q "ferry\[" "$SYSLOG_FILE"
check "-v transcripts were captured" grep -q "^> AUTH" \
    "$E2E_WORK/all-output"
for f in "$E2E_WORK/all-output" "$SYSLOG_FILE"; do
	check "no password in ${f##*/}" eval '! grep -qF -- "$SH_PASS" "$f"'
	check "no PLAIN blob in ${f##*/}" eval '! grep -qF -- "$plain64" "$f"'
	check "no base64 password in ${f##*/}" \
	    eval '! grep -qF -- "$pass64" "$f"'
done
