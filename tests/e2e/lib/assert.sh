# assert.sh: counters and helpers shared by the e2e tests (sourced).
# Every ferry run goes through ferry_run, which records all it printed
# (and the syslog lines it sent) so t_leak.sh can grep them.

E2E_PASS=0
E2E_FAIL=0

ok()	{ E2E_PASS=$((E2E_PASS + 1)); printf 'ok   %s\n' "$*"; }
nok()	{ E2E_FAIL=$((E2E_FAIL + 1)); printf 'FAIL %s\n' "$*"; }

# check DESC CMD...: one test, passed when CMD succeeds.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else nok "$desc"; fi
}

# The private syslog: a datagram socket that ferry_run binds over
# /dev/log inside a mount namespace, so the host's /dev is untouched.
syslog_start() {
	SYSLOG_SOCK=$E2E_WORK/syslog.sock
	SYSLOG_FILE=$E2E_WORK/syslog
	: > "$SYSLOG_FILE"
	socat -u UNIX-RECV:"$SYSLOG_SOCK",mode=666 \
	    OPEN:"$SYSLOG_FILE",creat,append &
	SYSLOG_PID=$!
	for _ in $(seq 50); do
		[ -S "$SYSLOG_SOCK" ] && return 0
		sleep 0.1
	done
	echo "e2e: syslog catcher did not start" >&2
	return 1
}

syslog_stop() {
	[ -n "${SYSLOG_PID:-}" ] && kill "$SYSLOG_PID" 2>/dev/null
	wait "${SYSLOG_PID:-}" 2>/dev/null
	SYSLOG_PID=
}

# mkconf NAME LINE...: write a config (mode 0600) and print its path.
# Unless a line sets it, each config gets a spool of its own,
# $E2E_WORK/spool-NAME, so tests never see each other's queue.
mkconf() {
	local f=$E2E_WORK/$1.conf sp=$E2E_WORK/spool-$1
	shift
	printf '%s\n' "$@" > "$f"
	if ! grep -q '^spool ' "$f"; then
		mkdir -p "$sp"
		chmod 700 "$sp"
		printf 'spool %s\n' "$sp" >> "$f"
	fi
	chmod 600 "$f"
	printf '%s\n' "$f"
}

# queued CONF: how many messages that config's spool holds.
queued() {
	local sp
	sp=$(sed -n 's/^spool //p' "$1")
	find "$sp" -maxdepth 1 -name 'q*' | wc -l
}

# ferry_run CONF ARGS... < message: run the static ferry with its own
# /dev holding only our log socket. Sets RC; output in $OUT and $ERR.
# FERRY_WRAP (a command, word-split) runs ferry, e.g. strace or setpriv;
# FERRY_BIN replaces the binary; FERRY_ETC is a folder mounted on /etc;
# FERRY_NOCONF runs it without -C (it reads /etc/ferry.conf);
# FERRY_HOSTNAME is the host name it sees (a UTS namespace).
ferry_run() {
	local conf=$1
	shift
	OUT=$E2E_WORK/out.$E2E_RUNS
	ERR=$E2E_WORK/err.$E2E_RUNS
	E2E_RUNS=$((E2E_RUNS + 1))
	local cflag=-C
	if [ -n "${FERRY_NOCONF:-}" ]; then	# the compiled-in config
		cflag=-v
		conf=-v
	fi
	# a subshell, so that a ferry killed on purpose is not announced
	(FERRY_WRAP=${FERRY_WRAP:-} FERRY_ETC=${FERRY_ETC:-} \
	    FERRY_HOSTNAME=${FERRY_HOSTNAME:-} unshare -m -u sh -c '
	    { [ -z "$FERRY_HOSTNAME" ] || hostname "$FERRY_HOSTNAME"; } &&
	    mount -t tmpfs none /dev && : > /dev/log &&
	    mount --bind "$0" /dev/log &&
	    { [ -z "$FERRY_ETC" ] || mount --bind "$FERRY_ETC" /etc; } &&
	    exec $FERRY_WRAP "$@"' "$SYSLOG_SOCK" \
	    "${FERRY_BIN:-$FERRY}" $cflag "$conf" "$@" > "$OUT" 2> "$ERR"
	    exit $?) 2>/dev/null
	RC=$?
	cat "$OUT" "$ERR" >> "$E2E_WORK/all-output"
	return 0
}

# expect_rc N: the last ferry_run exited with N (else show its stderr).
expect_rc() {
	[ "$RC" -eq "$1" ] && return 0
	printf '     exit %s, wanted %s; stderr:\n' "$RC" "$1"
	sed 's/^/     | /' "$ERR" | tail -5
	return 1
}

# body FILE: what follows the first empty line, CRs dropped.
body() { sed '1,/^\r\{0,1\}$/d' "$1" | tr -d '\r'; }

# same_body SENT DELIVERED: the bodies are equal, byte for byte.
same_body() {
	cmp -s <(body "$1") <(body "$2") && return 0
	echo "     bodies differ: $1 vs $2"
	return 1
}

# landed LOCALPART N: wait for N messages, then name the newest.
landed() {
	smarthost_wait_mail "$1" "$2" 20 || {
		echo "     no mail for $1 (wanted $2)"
		return 1
	}
	LANDED=$(smarthost_mail_files "$1" | tail -1)
}

# A fresh count of lines in a log, to look only at what comes after.
log_mark() { wc -l < "$1"; }
log_since() { tail -n +$(($2 + 1)) "$1"; }

summary() {
	printf '%d passed, %d failed\n' "$E2E_PASS" "$E2E_FAIL"
	[ "$E2E_FAIL" -eq 0 ]
}

# mkmsg NAME TO [BODY-LINE...]: a message file with a unique subject.
mkmsg() {
	local f=$E2E_WORK/$1.eml to=$2
	shift 2
	{
		printf 'From: Test Sender <sender@%s>\n' "$SH_DOMAIN"
		printf 'To: %s\n' "$to"
		printf 'Subject: e2e %s\n' "${f##*/}"
		printf '\n'
		printf '%s\n' "${@:-hello from ferry}"
	} > "$f"
	printf '%s\n' "$f"
}

# setgid_tree DIR: the make install privilege model in DIR, for group
# ferry-e2e (made if missing): DIR/ferry setgid 2755, DIR/spool
# root:ferry-e2e 2770, DIR/password 0640 of the group.
setgid_tree() {
	getent group ferry-e2e >/dev/null || groupadd -r ferry-e2e ||
	    nok "groupadd ferry-e2e"
	mkdir -p "$1/spool"
	install -m 2755 -g ferry-e2e "$FERRY" "$1/ferry"
	chown root:ferry-e2e "$1/spool"
	chmod 2770 "$1/spool"
	install -m 0640 -g ferry-e2e "$E2E_WORK/password" "$1/password"
}

# The config for the good smart host: tls mode, port, then extra lines.
hostconf() {
	local name=$1 tls=$2 port=$3
	shift 3
	mkconf "$name" "smarthost localhost" "port $port" "tls $tls" \
	    "tls_builtin_ca no" "tls_ca_file $SH_CA" "user $SH_USER" \
	    "password_file $E2E_WORK/password" "timeout 20" "$@"
}
