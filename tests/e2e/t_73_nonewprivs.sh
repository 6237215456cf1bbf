# t_73_nonewprivs.sh: mail from a sender that cannot gain ferry's group
# (issue 24 part B). Under no_new_privs (`setpriv --no-new-privs`, what
# systemd's NoNewPrivileges= and RestrictSUIDSGID= and a container's
# no-new-privileges set) and from a nosuid mount, exec ignores the
# setgid bit. ferry then hands the message to the local submission
# socket, where `ferry -bs` run by root becomes the peer (SO_PEERCRED)
# with ferry's group, and the mail arrives at the test Postfix. No
# systemd runs here, so socket activation is emulated with
# systemd-socket-activate --inetd --accept (from the systemd package),
# which passes each connection as stdin and stdout as the unit's
# StandardInput=socket does; the units themselves are checked with
# systemd-analyze verify. Without a service: exit 75 and one line that
# says why and what to do. Each case runs in a mount namespace with
# its own tmpfs on /run, so /run/ferry/submit.sock is private to it.

grp=ferry-e2e
N73=$E2E_WORK/nnp
setgid_tree "$N73"
nconf=$(hostconf nnp implicit "$SH_PORT_SMTPS" "spool $N73/spool" \
    "trusted_users root")
sed -i "s|^password_file .*|password_file $N73/password|" "$nconf"
chgrp "$grp" "$nconf"
chmod 0640 "$nconf"
LANDED=${LANDED:-/dev/null}	# a failed landed leaves it unset
as_nnp="setpriv --no-new-privs --reuid=nobody --regid=nogroup --clear-groups"

# n73_run SERVICE BIN WRAP ARGS... < message: in a namespace with a
# fresh /run, start the socket service when SERVICE is 1, then run
# BIN ARGS as WRAP (word-split). RC, $OUT and $ERR as ferry_run's.
n73_run() {
	local svc=$1 bin=$2 wrap=$3
	shift 3
	OUT=$E2E_WORK/out.$E2E_RUNS
	ERR=$E2E_WORK/err.$E2E_RUNS
	E2E_RUNS=$((E2E_RUNS + 1))
	SVC=$svc BIN=$bin WRAP=$wrap CONF=$nconf FERRY73=$N73/ferry \
	    LOGSOCK=$SYSLOG_SOCK SAERR=$E2E_WORK/sa.err unshare -m sh -c '
		mount -t tmpfs -o mode=0755 none /run && mkdir /run/ferry ||
		    exit 90
		: > /run/log && mount --bind "$LOGSOCK" /run/log &&
		    mount --bind /run/log /dev/log 2>/dev/null
		if [ "$SVC" = 1 ]; then
			systemd-socket-activate --inetd -a \
			    -l /run/ferry/submit.sock \
			    "$FERRY73" -C "$CONF" -bs 2>> "$SAERR" &
			n=0
			while [ ! -S /run/ferry/submit.sock ] && [ $n -lt 100 ]
			do
				sleep 0.1
				n=$((n + 1))
			done
			# the unit'"'"'s SocketMode=0666; this tool makes it 0644
			chmod 0666 /run/ferry/submit.sock
		fi
		$WRAP "$BIN" "$@"
		rc=$?
		[ "$SVC" != 1 ] || kill $! 2>/dev/null
		exit $rc' sh "$@" > "$OUT" 2> "$ERR"
	RC=$?
	cat "$OUT" "$ERR" >> "$E2E_WORK/all-output"
}

check "systemd-socket-activate and setpriv are here" \
    eval 'command -v systemd-socket-activate >/dev/null &&
    command -v setpriv >/dev/null'

# no_new_privs, the service up: the mail arrives, from nobody
msg=$(mkmsg nnpsock "nnpsock@$SH_DOMAIN")
n73_run 1 "$N73/ferry" "$as_nnp" "nnpsock@$SH_DOMAIN" < "$msg"
check "no_new_privs, socket service: exit 0" expect_rc 0
check "no_new_privs, socket service: landed" landed nnpsock 1
check "no_new_privs, socket service: from nobody, as setgid gives" \
    grep -q "^Return-Path: <nobody@" "$LANDED"
check "no_new_privs, socket service: no X-Authentication-Warning" \
    eval '! grep -q "^X-Authentication-Warning" "$LANDED"'
check "no_new_privs, socket service: same body" same_body "$msg" "$LANDED"

# -f by an untrusted user: the warning, as the setgid path gives it
msg=$(mkmsg nnpfrom "nnpfrom@$SH_DOMAIN")
n73_run 1 "$N73/ferry" "$as_nnp" -f "boss@$SH_DOMAIN" \
    "nnpfrom@$SH_DOMAIN" < "$msg"
check "no_new_privs, -f another sender: exit 0" expect_rc 0
check "no_new_privs, -f another sender: landed with the warning" eval \
    'landed nnpfrom 1 && grep -q "^X-Authentication-Warning: .*nobody set sender to boss@" "$LANDED"'

# -t: the recipients from the headers
msg=$(mkmsg nnpt "nnpt@$SH_DOMAIN")
n73_run 1 "$N73/ferry" "$as_nnp" -t < "$msg"
check "no_new_privs, -t through the socket: landed" \
    eval 'expect_rc 0 && landed nnpt 1'

# no service: 75, one line saying why and what to do, nothing queued
msg=$(mkmsg nnpnone "nnpnone@$SH_DOMAIN")
n73_run 0 "$N73/ferry" "$as_nnp" "nnpnone@$SH_DOMAIN" < "$msg"
check "no_new_privs, no service: exit 75" expect_rc 75
check "no_new_privs, no service: one line, why and what to do" eval \
    '[ "$(wc -l < "$ERR")" -eq 1 ] &&
    grep -q "no_new_privs is set.*ferry-submit.socket" "$ERR"'
check "no_new_privs, no service: nothing queued" \
    eval '[ "$(queued "$nconf")" -eq 0 ]'

# a nosuid mount: the same, the cause named (nobody without
# no_new_privs; the mount is made inside n73_run's namespace)
mkdir -p "$E2E_WORK/nosuid"
{
	printf 'mount --bind %s %s &&\n' "$N73" "$E2E_WORK/nosuid"
	printf '    mount -o remount,bind,nosuid %s || exit 91\n' \
	    "$E2E_WORK/nosuid"
	printf 'exec setpriv --reuid=nobody --regid=nogroup --clear-groups'
	printf ' %s "$@"\n' "$E2E_WORK/nosuid/ferry"
} > "$E2E_WORK/nosuid.sh"
msg=$(mkmsg nnpnosuid "nnpnosuid@$SH_DOMAIN")
n73_run 0 "$E2E_WORK/nosuid.sh" sh "nnpnosuid@$SH_DOMAIN" < "$msg"
check "nosuid mount, no service: exit 75, the mount named" eval \
    'expect_rc 75 && grep -q "mounted nosuid" "$ERR"'
n73_run 1 "$E2E_WORK/nosuid.sh" sh "nnpnosuid@$SH_DOMAIN" < "$msg"
check "nosuid mount, socket service: landed" \
    eval 'expect_rc 0 && landed nnpnosuid 1'

# the units as shipped, with ferry's path here
mkdir -p "$E2E_WORK/units"
for u in ferry-submit.socket ferry-submit@.service; do
	sed "s|/usr/local/sbin/ferry|$N73/ferry|" \
	    "$FERRY_ROOT/jail/systemd/$u" > "$E2E_WORK/units/$u"
done
check "systemd-analyze verify: ferry-submit.socket and its service" eval \
    '(cd "$E2E_WORK/units" && systemd-analyze verify --man=no \
    ./ferry-submit.socket) > "$E2E_WORK/verify.out" 2>&1 ||
    { sed "s/^/     | /" "$E2E_WORK/verify.out"; false; }'
