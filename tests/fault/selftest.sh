#!/bin/bash
# selftest.sh: check tests/fault/faultd.py, the scriptable SMTP fault
# server, before any e2e test relies on it: good deliveries in each TLS
# mode, each kind of fault, the STARTTLS injection in both directions,
# then tests/e2e/lib/fault.sh. The clients are Python's smtplib and raw
# sockets. Loopback only; ports from FAULT_PORT_BASE (default 10700) up
# to +9. Last line "N passed, N failed"; exit status 1 on any failure.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PY=/usr/bin/python3
FAULTD=$here/faultd.py
base=${FAULT_PORT_BASE:-10700}
P_IMPL=$base
P_STLS=$((base + 1))
P_NONE=$((base + 2))
P_LIB=$((base + 3))
P_MISC=$((base + 4))
USER_=alice
PASS_=Sf-t3st-Pw-0a7c

npass=0
nfail=0
ok() {
	npass=$((npass + 1))
	echo "ok - $*"
}
not_ok() {
	nfail=$((nfail + 1))
	echo "not ok - $*"
}
# check DESCRIPTION COMMAND...: one test, passed when COMMAND succeeds.
check() {
	local what=$1

	shift
	if "$@"; then
		ok "$what"
	else
		not_ok "$what"
	fi
}
finish() {
	echo "$npass passed, $nfail failed"
	[ "$nfail" -eq 0 ]
	exit
}

if [ ! -x "$PY" ]; then
	"$root/scripts/need" python3 || { not_ok "install python3"; finish; }
fi
"$root/scripts/need" openssl || { not_ok "install openssl"; finish; }

work=$(mktemp -d "${TMPDIR:-/tmp}/fault-selftest.XXXXXX")
pids=()
cleanup() {
	local p

	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	if declare -F fault_stop_all >/dev/null; then
		fault_stop_all
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# A throwaway self-signed certificate for localhost.
if ! openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2>"$work/openssl.err"
then
	cat "$work/openssl.err"
	not_ok "make a certificate"
	finish
fi

# start NAME PORT MODE [ARGS...]: a server whose files are $work/NAME.*
start() {
	local name=$1 port=$2 mode=$3 d=$work/$1 i

	shift 3
	mkdir -p "$d/mail"
	: > "$d/rules"
	"$PY" "$FAULTD" --listen "127.0.0.1:$port" --tls "$mode" \
	    --cert "$work/cert.pem" --key "$work/key.pem" \
	    --user "$USER_" --password "$PASS_" --maildir "$d/mail" \
	    --log "$d/log" --rules "$d/rules" --pidfile "$d/pid" "$@" \
	    > "$d/stderr" 2>&1 &
	pids+=($!)
	for i in $(seq 100); do
		[ -s "$d/pid" ] && return 0
		kill -0 "$!" 2>/dev/null || break
		sleep 0.05
	done
	cat "$d/stderr"
	return 1
}
rules() {	# rules NAME RULE...
	local d=$work/$1

	shift
	printf '%s\n' "$@" > "$d/rules.tmp" && mv "$d/rules.tmp" "$d/rules"
}
nmsg() { ls "$work/$1/mail" | grep -c '\.msg$'; }
newest() { ls "$work/$1/mail"/*.msg | tail -1; }
# is WANT COMMAND...: COMMAND prints exactly WANT (else show it).
is() {
	local want=$1 got

	shift
	got=$("$@" 2>&1)
	[ "$got" = "$want" ] && return 0
	printf '     got:  %s\n     want: %s\n' "$got" "$want"
	return 1
}
has() { grep -qF -- "$2" "$work/$1/log"; }	# has NAME STRING: in log
hasnt() { ! has "$@"; }

cat > "$work/client.py" <<'EOF'
"""client.py: the selftest's SMTP clients; each prints one outcome."""
import smtplib, socket, ssl, sys, threading, time

CERT, USER, PASS = sys.argv[1:4]
cmd, args = sys.argv[4], sys.argv[5:]


def ctx(maxver=None):
	c = ssl.create_default_context(cafile=CERT)
	if maxver:
		c.maximum_version = maxver
	return c


def connect(mode, port, timeout=5, maxver=None):
	if mode == "implicit":
		return smtplib.SMTP_SSL("localhost", int(port), timeout=timeout,
		    context=ctx(maxver))
	s = smtplib.SMTP("localhost", int(port), timeout=timeout)
	if mode == "starttls":
		s.starttls(context=ctx(maxver))
	return s


def outcome(f):
	try:
		r = f()
		return r if isinstance(r, str) else "sent" if not r else \
		    "refused " + " ".join("%s=%d" % (k, v[0])
		    for k, v in sorted(r.items()))
	except smtplib.SMTPServerDisconnected as e:
		# smtplib turns a read timeout into this
		return "timeout" if "timed out" in str(e) else "disconnected"
	except (socket.timeout, TimeoutError):
		return "timeout"
	except smtplib.SMTPRecipientsRefused as e:
		return "all refused " + " ".join("%s=%d" % (k, v[0])
		    for k, v in sorted(e.recipients.items()))
	except smtplib.SMTPResponseException as e:
		return "%s %d" % (type(e).__name__, e.smtp_code)
	except (ConnectionError, ssl.SSLError) as e:
		return "disconnected (%s)" % type(e).__name__


MSG = b"Subject: selftest\r\n\r\n.leading dot\r\n..two dots\r\nbody\r\n"


def send(mode, port, *rest, mech=None, pw=PASS, msg=MSG, n=1, maxver=None,
    timeout=5):
	def go():
		s = connect(mode, port, timeout=timeout, maxver=maxver)
		s.ehlo()
		if mech:
			s.user, s.password = USER, pw
			s.auth(mech, getattr(s, "auth_" + mech.lower().replace(
			    "-", "_")))
		else:
			s.login(USER, pw)
		r = {}
		for _ in range(n):
			r.update(s.sendmail("from@ferry.test", list(rest), msg))
		s.quit()
		return r
	return outcome(go)


def recv_until(s, end, limit=5):
	got = b""
	t = time.monotonic() + limit
	while not got.endswith(end) and time.monotonic() < t:
		d = s.recv(4096)
		if not d:
			break
		got += d
	return got


def ehlo_raw(s, name=b"client"):
	s.sendall(b"EHLO " + name + b"\r\n")
	r = b""
	while True:
		r += recv_until(s, b"\r\n")
		last = r.rstrip(b"\r\n").split(b"\r\n")[-1]
		if last[3:4] == b" ":
			return r


def inject(port, want):
	"""Read what the server sends after STARTTLS's 220, before our
	handshake: print it, and whether it came in the 220's segment."""
	want = want.encode().decode("unicode_escape").encode("latin-1")
	s = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
	recv_until(s, b"\r\n")
	ehlo_raw(s)
	s.sendall(b"STARTTLS\r\n")
	first = s.recv(4096)
	rest = b""
	if len(first) < len(want):
		rest = recv_until(s, want[-2:], 2)
	t = ctx().wrap_socket(s, server_hostname="localhost")
	r = ehlo_raw(t)
	t.sendall(b"QUIT\r\n")
	print("%r same-segment=%s tls-ehlo=%s" % (first + rest,
	    "yes" if not rest else "no", r[:3].decode()))


def pipe_starttls(port):
	"""Pipeline a command after STARTTLS: it must be dropped."""
	s = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
	recv_until(s, b"\r\n")
	ehlo_raw(s)
	s.sendall(b"STARTTLS\r\nEHLO evil\r\n")
	r = recv_until(s, b"\r\n")
	t = ctx().wrap_socket(s, server_hostname="localhost")
	e = ehlo_raw(t, b"good")
	t.sendall(b"QUIT\r\n")
	print("%s %s" % (r[:3].decode(), e.split(b"\r\n")[-2][:3].decode()))


def pipelining(port):
	"""In the clear (tls none): one write for MAIL RCPT RCPT DATA, one
	for the message, the dot and QUIT; the replies come in order."""
	import base64
	s = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
	recv_until(s, b"\r\n")
	ehlo_raw(s)
	s.sendall(b"AUTH PLAIN " + base64.b64encode(b"\0" + USER.encode() +
	    b"\0" + PASS.encode()) + b"\r\n" + b"MAIL FROM:<p@ferry.test>\r\n"
	    b"RCPT TO:<a@ferry.test>\r\nRCPT TO:<b@ferry.test>\r\nDATA\r\n")
	r = recv_until(s, b"354 End data with <CR><LF>.<CR><LF>\r\n")
	s.sendall(b"Subject: p\r\n\r\npipelined\r\n.\r\nQUIT\r\n")
	r += recv_until(s, b"Bye\r\n")
	print(" ".join(l[:3].decode() for l in r.split(b"\r\n") if l))


def dialog(port, *writes):
	"""In the clear: each argument one write (\\r\\n escapes), a pause
	after each; print every reply's code, then "closed" at EOF."""
	s = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
	recv_until(s, b"\r\n")
	got, closed = b"", False
	for w in writes:
		s.sendall(w.encode().decode("unicode_escape").encode("latin-1"))
		end = time.monotonic() + 0.5
		while not closed and time.monotonic() < end:
			s.settimeout(max(0.01, end - time.monotonic()))
			try:
				d = s.recv(4096)
			except (socket.timeout, TimeoutError):
				break
			except ConnectionError:
				d = b""
			closed = not d
			got += d
		if closed:
			break
	codes = [l[:3].decode() for l in got.split(b"\r\n")
	    if l[3:4] in (b" ", b"")]
	print(" ".join([c for c in codes if c] + (["closed"] if closed
	    else [])))


def stall_concurrent(mode, port):
	"""A session stalled at MAIL does not hold up a second one."""
	res = {}

	def first():
		res["first"] = send(mode, port, "a@ferry.test", timeout=2)
	th = threading.Thread(target=first)
	th.start()
	time.sleep(0.5)
	res["second"] = send(mode, port, "b@ferry.test")
	th.join()
	print("first=%s second=%s" % (res["first"], res["second"]))


def greet6(port):
	s = socket.create_connection(("::1", int(port)), timeout=5)
	print(recv_until(s, b"\r\n")[:3].decode())


def ehlo_keywords(mode, port):
	s = connect(mode, port)
	s.ehlo()
	kw = sorted(s.esmtp_features)
	s.quit()
	print(" ".join(kw))


def size_mail(mode, port, size):
	def go():
		s = connect(mode, port)
		s.login(USER, PASS)
		c, m = s.mail("s@ferry.test", ["SIZE=" + size])
		s.quit()
		return "%d" % c
	print(outcome(go))


def no_auth_mail(port):
	def go():
		s = smtplib.SMTP("127.0.0.1", int(port), timeout=5)
		s.ehlo()
		c, m = s.mail("s@ferry.test")
		return "%d" % c
	print(outcome(go))


if cmd == "send":
	kw = {}
	while args and "=" in args[-1]:
		k, v = args.pop().split("=", 1)
		kw[k] = int(v) if k in ("n", "timeout") else v
	if "maxver" in kw:
		kw["maxver"] = ssl.TLSVersion[kw["maxver"]]
	if "msg" in kw:
		kw["msg"] = kw["msg"].encode().decode("unicode_escape").encode(
		    "latin-1")
	print(send(*args, **kw))
elif cmd == "connect":
	print(outcome(lambda: (connect(args[0], args[1]), "connected")[1]))
else:
	globals()[cmd.replace("-", "_")](*args)
EOF
client() { "$PY" "$work/client.py" "$work/cert.pem" "$USER_" "$PASS_" "$@"; }

# --- start one server per TLS mode
check "start implicit TLS server" start impl "$P_IMPL" implicit
check "start STARTTLS server" start stls "$P_STLS" starttls
check "start plaintext server" start none "$P_NONE" none
for s in impl stls none; do
	[ -s "$work/$s/pid" ] || { not_ok "servers up"; finish; }
done

# --- good deliveries, exact bytes
check "implicit: delivered" is sent client send implicit "$P_IMPL" \
    r@ferry.test
check "implicit: one file" is 1 nmsg impl
printf 'X-Fault-From: <from@ferry.test>\r\nX-Fault-To: <r@ferry.test>\r\nSubject: selftest\r\n\r\n.leading dot\r\n..two dots\r\nbody\r\n' \
    > "$work/want.msg"
check "implicit: envelope lines, then the data dot-unstuffed" \
    cmp "$work/want.msg" "$(newest impl)"
check "implicit: log shows TLS" has impl "tls: TLSv1."
check "starttls: delivered" is sent client send starttls "$P_STLS" \
    r@ferry.test
check "starttls: one file" is 1 nmsg stls
check "starttls: log shows no client bytes after STARTTLS" \
    has stls "injected client bytes discarded: 0"
check "none: delivered in the clear" is sent client send none "$P_NONE" \
    r@ferry.test
check "none: one file" is 1 nmsg none
check "two messages in one session" is sent client send implicit \
    "$P_IMPL" r@ferry.test n=2
check "two messages in one session: two files" is 3 nmsg impl
check "TLS 1.2 client" is sent client send implicit "$P_IMPL" \
    r@ferry.test maxver=TLSv1_2
check "TLS 1.2 client: ECDHE with AES-GCM" grep -q \
    "tls: TLSv1.2 ECDHE-RSA-AES[0-9]*-GCM" "$work/impl/log"

# --- AUTH
for m in PLAIN LOGIN CRAM-MD5; do
	check "AUTH $m" is sent client send implicit "$P_IMPL" r@ferry.test \
	    mech=$m
	check "AUTH $m: logged ok" has impl "auth: $m ok"
done
check "wrong password: 535" is "SMTPAuthenticationError 535" \
    client send implicit "$P_IMPL" r@ferry.test pw=wrong
check "wrong password via LOGIN: 535" is "SMTPAuthenticationError 535" \
    client send implicit "$P_IMPL" r@ferry.test pw=wrong mech=LOGIN
check "AUTH payloads redacted in the log" has impl "< ***"
check "the password never reaches a log" eval \
    "! grep -rqF -- '$PASS_' '$work'/*/log"
check "MAIL before STARTTLS and AUTH: 530" is 530 client no-auth-mail \
    "$P_STLS"
check "no AUTH offered before STARTTLS" is \
    "8bitmime pipelining size starttls" client ehlo-keywords none "$P_STLS"

# --- faults
rules impl "mail 451 4.3.0 try later"
check "mail 451" is "SMTPSenderRefused 451" client send implicit \
    "$P_IMPL" r@ferry.test
check "mail 451: logged" has impl "fault: mail#1 451 4.3.0 try later"
rules impl "greeting close"
check "greeting close" is disconnected client connect implicit "$P_IMPL"
rules impl "greeting 421 4.3.2 go away"
check "greeting 421" is "SMTPConnectError 421" client connect implicit \
    "$P_IMPL"
n=$(nmsg impl)
rules impl "rcpt#2 550 5.1.1 no such user"
check "rcpt#2 550: second refused" is "refused b@ferry.test=550" \
    client send implicit "$P_IMPL" a@ferry.test b@ferry.test c@ferry.test
check "rcpt#2 550: message kept for the others" is $((n + 1)) nmsg impl
printf 'X-Fault-From: <from@ferry.test>\r\nX-Fault-To: <a@ferry.test>\r\nX-Fault-To: <c@ferry.test>\r\n' \
    > "$work/want.env"
check "rcpt#2 550: envelope names the accepted ones" eval \
    "head -c \$(wc -c < '$work/want.env') \"\$(newest impl)\" |
    cmp -s - '$work/want.env'"
rules impl "rcpt 450 4.2.0 busy"
check "rcpt 450 on every RCPT" is \
    "all refused a@ferry.test=450 b@ferry.test=450" \
    client send implicit "$P_IMPL" a@ferry.test b@ferry.test
rules impl "mail 451 4.3.0 try later" "sessions 1"
check "sessions 1: first session fails" is "SMTPSenderRefused 451" \
    client send implicit "$P_IMPL" r@ferry.test
check "sessions 1: second session works" is sent client send implicit \
    "$P_IMPL" r@ferry.test
rules impl "mail 451 4.3.0 try later" "sessions 1"
check "sessions 1: rewriting the rules starts the count again" is \
    "SMTPSenderRefused 451" client send implicit "$P_IMPL" r@ferry.test
n=$(nmsg impl)
rules impl "data 451 4.3.0 not now"
check "data 451" is "SMTPDataError 451" client send implicit "$P_IMPL" \
    r@ferry.test
rules impl "eod 554 5.7.1 spam"
check "eod 554" is "SMTPDataError 554" client send implicit "$P_IMPL" \
    r@ferry.test
rules impl "eod close"
check "eod close: no reply" is disconnected client send implicit \
    "$P_IMPL" r@ferry.test
check "eod close: the data was read" grep -q "fault: eod#1 close" \
    "$work/impl/log"
rules impl "data-mid close 100"
big="Subject: big\r\n\r\n$(printf 'line of text %04d\\r\\n' $(seq 200))"
check "data-mid close 100" is disconnected client send implicit \
    "$P_IMPL" r@ferry.test "msg=$big"
check "data-mid close 100: logged" grep -q "fault: data-mid#1 close 100" \
    "$work/impl/log"
check "nothing kept from refused or cut sessions" is "$n" nmsg impl
rules impl "eod#2 451 4.3.0 second fails"
check "eod#2: the second message of a session" is "SMTPDataError 451" \
    client send implicit "$P_IMPL" r@ferry.test n=2
check "eod#2: first message kept" is $((n + 1)) nmsg impl
rules impl "auth 535 5.7.8 no"
check "auth 535" is "SMTPAuthenticationError 535" client send implicit \
    "$P_IMPL" r@ferry.test
rules impl "mail 421 4.3.2 shutting down"
check "421 at mail closes" is "SMTPSenderRefused 421" client send \
    implicit "$P_IMPL" r@ferry.test
rules impl "mail delay 1"
check "mail delay 1: then behaves" is sent client send implicit \
    "$P_IMPL" r@ferry.test
check "mail delay 1: logged" has impl "fault: mail#1 delay 1"
rules impl "mail stall" "sessions 1"
check "mail stall: client times out, others served" is \
    "first=timeout second=sent" client stall-concurrent implicit "$P_IMPL"
check "stall: logged its end" has impl "stall ended"
rules impl "ehlo 250 mail.ferry.test no extensions"
check "ehlo reply replaced" is "" client ehlo-keywords implicit "$P_IMPL"
rules impl "noauth" "ehlo-extra SIZE 1000" "ehlo-extra X-TEST yes"
check "noauth, ehlo-extra" is "8bitmime pipelining size x-test" eval \
    "client ehlo-keywords implicit $P_IMPL | tr A-Z a-z"
rules impl "ehlo-extra SIZE 1000"
check "ehlo-extra SIZE 1000 is enforced" is 552 \
    client size-mail implicit "$P_IMPL" 2000
rules stls "nostarttls"
check "nostarttls" is "8bitmime pipelining size" eval \
    "client ehlo-keywords none $P_STLS | tr A-Z a-z"
rules impl "mail fly 451"
check "a bad rules file: 421 at greeting" is "SMTPConnectError 421" \
    client connect implicit "$P_IMPL"
check "a bad rules file: says why" has impl "rules error: line 1"
rules impl "greeting raw 220-first\\r\\n220 second\\r\\n"
check "greeting raw multi-line" is sent client send implicit "$P_IMPL" \
    r@ferry.test
rules impl ""

# --- STARTTLS injection, server to client (CVE-2011-0411 class)
rules stls 'inject-after-starttls 250 fake\r\n'
check "injected bytes arrive with the 220, before the handshake" is \
    "b'220 2.0.0 Ready to start TLS\\r\\n250 fake\\r\\n' same-segment=yes tls-ehlo=250" \
    client inject "$P_STLS" '220 2.0.0 Ready to start TLS\r\n250 fake\r\n'
check "injection logged" has stls "injecting 10 plaintext bytes"
rules stls ""

# --- client to server: bytes pipelined after STARTTLS are dropped
check "pipelined after STARTTLS: TLS session still works" is "220 250" \
    client pipe-starttls "$P_STLS"
check "pipelined after STARTTLS: discarded and logged" has stls \
    "injected client bytes discarded: 11"
check "pipelined after STARTTLS: never run as a command" hasnt stls \
    "< EHLO evil"

# --- PIPELINING
check "pipelined commands answered in order" is \
    "235 250 250 250 354 250 221" \
    client pipelining "$P_NONE"
check "pipelined message kept" is 2 nmsg none

# --- protocol checks: strict mode, lost and extra replies, no EHLO
rules none strict
check "strict, PIPELINING offered: a pipelined group is fine" is \
    "235 250 250 250 354 250 221" client pipelining "$P_NONE"
check "strict: EHLO with input behind it: 500, closed" is "500 closed" \
    client dialog "$P_NONE" "EHLO a\r\nNOOP\r\n"
rules none strict nopipelining
check "strict, no PIPELINING: one command a write is fine" is \
    "250 250 250 221 closed" client dialog "$P_NONE" "EHLO a\r\n" \
    "NOOP\r\n" "RSET\r\n" "QUIT\r\n"
check "strict, no PIPELINING: MAIL with RSET behind it: 500, closed" \
    is "250 500 closed" client dialog "$P_NONE" "EHLO a\r\n" \
    "RSET\r\nRSET\r\n"
check "strict: logged" has none "strict: input before the reply"
rules none "rset drop" "noop extra 250 2.0.0 again"
check "drop and extra: no reply to RSET, two to NOOP" is \
    "250 250 250 221 closed" client dialog "$P_NONE" "EHLO a\r\n" \
    "RSET\r\n" "NOOP\r\n" "QUIT\r\n"
check "drop: logged" has none "reply dropped: 250 2.0.0 Ok"
rules none noehlo
check "noehlo: EHLO 502, HELO 250" is "502 250 221 closed" \
    client dialog "$P_NONE" "EHLO a\r\n" "HELO a\r\n" "QUIT\r\n"
rules none authoptional
check "authoptional: MAIL and RCPT without AUTH, AUTH still offered" is \
    "250 250 250 221 closed" client dialog "$P_NONE" "EHLO a\r\n" \
    "MAIL FROM:<s@ferry.test>\r\n" "RCPT TO:<r@ferry.test>\r\n" \
    "QUIT\r\n"
check "authoptional: AUTH offered" is "8bitmime auth pipelining size" \
    eval "client ehlo-keywords none $P_NONE | tr A-Z a-z"
rules none "rset drop x"
client dialog "$P_NONE" "" >/dev/null
check "drop takes no argument" has none "drop takes no argument"
rules none

# --- loopback only; SIGTERM
check "refuses a non-loopback address" eval \
    "! '$PY' '$FAULTD' --listen 0.0.0.0:$P_MISC --tls none \
    --maildir '$work/x' 2>/dev/null"
pid=$(cat "$work/none/pid")
kill "$pid"
# gone PID: the process ends within 5 s (a zombie counts as gone).
gone() {
	local i stat

	for i in $(seq 50); do
		read -r stat 2>/dev/null < "/proc/$1/stat" || return 0
		stat=${stat##*) }
		[ "${stat%% *}" = Z ] && return 0
		sleep 0.1
	done
	return 1
}
check "SIGTERM: exits" gone "$pid"
check "SIGTERM: pid file removed" test ! -e "$work/none/pid"
check "SIGTERM: logged" has none "exiting"

# --- tests/e2e/lib/fault.sh
export E2E_WORK=$work/e2e SH_CERTS=$work/shcerts SH_USER=$USER_ \
    SH_PASS=$PASS_
mkdir -p "$E2E_WORK" "$SH_CERTS"
cp "$work/cert.pem" "$SH_CERTS/good.crt"
cp "$work/key.pem" "$SH_CERTS/good.key"
. "$root/tests/e2e/lib/fault.sh"
check "fault.sh: fault_rules before start" fault_rules lib \
    "mail 451 4.3.0 later" "sessions 1"
check "fault.sh: fault_start" fault_start lib "$P_LIB" starttls
check "fault.sh: FAULT_DIR" test "$FAULT_DIR" = "$E2E_WORK/fault-lib"
check "fault.sh: no probe connection" eval \
    "! grep -q connect '$(fault_log lib)'"
check "fault.sh: first session refused" is "SMTPSenderRefused 451" \
    client send starttls "$P_LIB" r@ferry.test
check "fault.sh: second delivered" is sent client send starttls \
    "$P_LIB" r@ferry.test
check "fault.sh: fault_count" is 1 fault_count lib
check "fault.sh: fault_wait_count" fault_wait_count lib 1 2
check "fault.sh: fault_mail_files" eval \
    "grep -q '^X-Fault-To: <r@ferry.test>' \"\$(fault_mail_files lib)\""
if grep -qs '^0\{31\}1 ' /proc/net/if_inet6; then
	check "fault.sh: listens on ::1 too" is 220 client greet6 "$P_LIB"
fi
fault_rules lib
check "fault.sh: empty rules behave" is sent client send starttls \
    "$P_LIB" r@ferry.test
check "fault.sh: fault_start twice refused" eval \
    "! fault_start lib $P_LIB starttls 2>/dev/null"
check "fault.sh: port in use reported" eval \
    "! fault_start other $P_LIB starttls 2>/dev/null"
fault_clear lib
check "fault.sh: fault_clear" is 0 fault_count lib
libpid=$(cat "$E2E_WORK/fault-lib/pid")
check "fault.sh: fault_stop" fault_stop lib
check "fault.sh: process gone" gone "$libpid"
check "fault.sh: fault_stop again" fault_stop lib
check "fault.sh: restart after stop" fault_start lib "$P_LIB" implicit
check "fault.sh: restarted server works" is sent client send implicit \
    "$P_LIB" r@ferry.test
libpid=$(cat "$E2E_WORK/fault-lib/pid")
check "fault.sh: fault_stop_all" fault_stop_all
check "fault.sh: all gone" gone "$libpid"

finish
