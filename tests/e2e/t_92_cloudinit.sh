# t_92_cloudinit.sh: the README's cloud-init snippet, taken out of
# README.md and checked as far as it can be without cloud-init or a
# cloud: it is YAML with a #cloud-config header, it needs no curl or
# wget, its apt-helper line fetches the package only when the hash
# matches, and its ferry.conf (smart host pointed at the test Postfix,
# example.com made the test domain) makes a cron-style message from a
# host named like an instance deliverable: masqueraded, from the one
# verified sender.

"$FERRY_ROOT/scripts/need" python3 python3-yaml apt >/dev/null 2>&1 ||
    nok "cloudinit: cannot install python3-yaml"
ci=$E2E_WORK/cloudinit
mkdir -p "$ci/www"
# the block after the line "cloud-init, on GCE": indented 4, to the
# first line that is not
awk '/^cloud-init, on GCE/ { on = 1; next }
    on && /^    / { sub(/^    /, ""); print; seen = 1; next }
    on && seen && !/^$/ { exit }' "$FERRY_ROOT/README.md" > "$ci/user-data"
/usr/bin/python3 - "$ci" <<'PY' > "$ci/parse.out" 2>&1
import sys, yaml
d = sys.argv[1]
text = open(d + "/user-data").read()
assert text.startswith("#cloud-config\n"), "no #cloud-config header"
doc = yaml.safe_load(text)
files = [f for f in doc["write_files"] if f["path"] == "/etc/ferry.conf"]
assert len(files) == 1, "no /etc/ferry.conf in write_files"
open(d + "/ferry.conf", "w").write(files[0]["content"])
open(d + "/runcmd", "w").write("".join(
    (c if isinstance(c, str) else " ".join(c)) + "\n" for c in doc["runcmd"]))
PY
check "cloud-init snippet: YAML with #cloud-config, a ferry.conf, runcmd" \
    eval '[ -s "$ci/ferry.conf" ] && [ -s "$ci/runcmd" ] ||
    { cat "$ci/parse.out"; false; }'
check "cloud-init snippet: no curl or wget" eval '[ -s "$ci/runcmd" ] &&
    ! grep -Eqw "curl|wget" "$ci/runcmd"'
check "cloud-init snippet: masquerade and from are set" eval '
    grep -q "^masquerade " "$ci/ferry.conf" && grep -q "^from " "$ci/ferry.conf"'

# -- the download line against a loopback HTTP server
cp "$FERRY" "$ci/www/ferry_0.1.0_amd64.deb"
/usr/bin/python3 -c '
import http.server, os, socketserver, sys
os.chdir(sys.argv[1])
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
s = socketserver.TCPServer(("127.0.0.1", 0), H)
open("../port.tmp", "w").write(str(s.server_address[1]))
os.rename("../port.tmp", "../port")
s.serve_forever()' "$ci/www" &
www_pid=$!
for _ in $(seq 50); do [ -s "$ci/port" ] && break; sleep 0.1; done
dl=$(grep "apt-helper download-file" "$ci/runcmd")
check "cloud-init snippet: downloads with apt-helper" test -n "$dl"
sum=$(sha256sum "$ci/www/ferry_0.1.0_amd64.deb" | cut -d' ' -f1)
url="http://127.0.0.1:$(cat "$ci/port")/ferry_0.1.0_amd64.deb"
rm -f /run/ferry.deb
# the line as written, its URL made the loopback server's
sh -c "$(printf '%s' "$dl" | sed "s|https://example.com/[^ ]*|$url|")" \
    > "$ci/dl-bad.out" 2>&1
check "apt-helper: the placeholder hash is refused, nothing kept" eval '
    [ ! -e /run/ferry.deb ]'
sh -c "$(printf '%s' "$dl" | sed -e "s|https://example.com/[^ ]*|$url|" \
    -e "s|SHA256:[0-9a-f]*|SHA256:$sum|")" > "$ci/dl.out" 2>&1
check "apt-helper: the matching hash fetches the package" eval '
    cmp -s /run/ferry.deb "$ci/www/ferry_0.1.0_amd64.deb" ||
    { tail -3 "$ci/dl.out"; false; }'
rm -f /run/ferry.deb
kill "$www_pid" 2>/dev/null
wait "$www_pid" 2>/dev/null

# -- the snippet's ferry.conf: cron's mail on a host named like an instance
cisp=$E2E_WORK/spool-cloudinit
mkdir -p "$cisp"
chmod 700 "$cisp"
{
	sed -e '/^smarthost /d; /^tls /d; /^port /d; /^user /d' \
	    -e '/^password_command /d' -e "s/example\.com/$SH_DOMAIN/g" \
	    "$ci/ferry.conf"
	printf '%s\n' "smarthost localhost" "port $SH_PORT_SMTPS" "tls implicit" \
	    "tls_builtin_ca no" "tls_ca_file $SH_CA" "user $SH_USER" \
	    "password_file $E2E_WORK/password" "spool $cisp"
} > "$ci/test.conf"
chmod 600 "$ci/test.conf"
printf 'Subject: cron <alice@instance-7> backup\n\nbackup done\n' \
    > "$ci/cron.eml"
FERRY_HOSTNAME=instance-7 ferry_run "$ci/test.conf" -odi cronjob \
    < "$ci/cron.eml"
check "snippet's config: cron's mail to a bare name is sent (exit 0)" \
    expect_rc 0
check "snippet's config: it lands at the masquerade domain" landed cronjob 1
check "snippet's config: from the verified sender, not @instance-7" eval '
    grep -q "^Return-Path: <node@$SH_DOMAIN>" "$LANDED" &&
    grep -q "^From: .*node@$SH_DOMAIN" "$LANDED" &&
    ! grep -Eqi "^(Return-Path|From|Sender|Reply-To|Message-ID):.*@instance-7" \
    "$LANDED"'
sed -i '/^from /d' "$ci/test.conf"
FERRY_HOSTNAME=instance-7 ferry_run "$ci/test.conf" -odi cronjob \
    < "$ci/cron.eml"
check "masquerade alone: root@instance-7 leaves as root@the domain" eval '
    expect_rc 0 && landed cronjob 2 &&
    grep -q "^Return-Path: <root@$SH_DOMAIN>" "$LANDED"'
