# shellcheck shell=bash
# smarthost.sh: a throwaway smart host for e2e tests and the demo.
# Source it from bash; it sets no shell options of its own.
#
# A private Postfix instance (postfix -c DIR/postfix) with Dovecot SASL
# (a private dovecot -c DIR/dovecot/dovecot.conf that runs the auth
# service only) on loopback ports, with a test CA from mkcerts.sh. All
# state lives under one directory; nothing under /etc is read for
# configuration or written, and no system instance is started.
#
#   smarthost_setup [DIR]   make everything in DIR (default: $SH_DIR,
#                           else a new mktemp -d), export the SH_*
#                           variables below, and write DIR/smarthost.env:
#                           ". DIR/smarthost.env" in another shell gives
#                           it the same variables and functions
#   smarthost_start         start both daemons, wait for every port
#   smarthost_stop          stop both, leave no process; safe to repeat
#   smarthost_mail_count L  how many messages landed for L@$SH_DOMAIN
#   smarthost_wait_mail L N [SECONDS]
#                           wait (default 20 s) until at least N landed;
#                           non-zero on timeout
#   smarthost_mail_files L  the delivered files, oldest first
#   smarthost_log           path of the Postfix log
#   smarthost_auth_log      path of the Dovecot log
#
# Ports, from SH_PORT_BASE (default 10400; tests/e2e/run picks a free
# block at run time) up, all on 127.0.0.1 and, if
# the host has it, ::1. Each one requires SASL AUTH before MAIL is
# accepted for any recipient.
#   +0 SH_PORT_SMTPS       implicit TLS (465-style), good RSA cert
#   +1 SH_PORT_SUBMISSION  STARTTLS offered (587-style), AUTH only
#                          after STARTTLS (smtpd_tls_auth_only)
#   +2 SH_PORT_PLAIN       no TLS; AUTH offered in the clear
#   +3 SH_PORT_EXPIRED     implicit TLS, expired cert from the test CA
#   +4 SH_PORT_WRONGNAME   implicit TLS, CA cert for other.example.net
#   +5 SH_PORT_SELFSIGNED  implicit TLS, self-signed mail.ferry.test
#   +6 SH_PORT_NOTLS_SUB   no STARTTLS, yet AUTH offered in the clear:
#                          a client that insists on TLS must stop here
#   +7 SH_PORT_SMTPS_EC    implicit TLS, good ECDSA P-256 cert
#
# Recipients: any localpart @$SH_DOMAIN is delivered to the Maildir
# DIR/mail/<localpart>/, except two that fail on purpose at RCPT:
# reject@ (550 5.1.1) and tempfail@ (450 4.2.0). Every other domain is
# refused at RCPT (554 5.7.1), so nothing ever leaves the machine.

_SH_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# postfix, postconf, dovecot and doveconf live in /usr/sbin.
case :$PATH: in
*:/usr/sbin:*) ;;
*) PATH=$PATH:/usr/sbin:/sbin ;;
esac

# Derive every path and port from SH_DIR and SH_PORT_BASE.
_sh_vars()
{
	local b=${SH_PORT_BASE:-10400}

	export SH_DIR SH_PORT_BASE=$b
	export SH_CERTS=$SH_DIR/certs
	export SH_CA=$SH_CERTS/ca.crt
	export SH_USER=alice
	export SH_PASS=Fy-t3st-P4ss-9d1e
	export SH_DOMAIN=ferry.test
	export SH_NAME=mail.ferry.test
	export SH_HOST=127.0.0.1
	export SH_SIZE_LIMIT=33554432	# 32 MiB
	export SH_INSTANCE
	SH_INSTANCE=$(_sh_instance)
	export SH_PORT_SMTPS=$((b + 0))
	export SH_PORT_SUBMISSION=$((b + 1))
	export SH_PORT_PLAIN=$((b + 2))
	export SH_PORT_EXPIRED=$((b + 3))
	export SH_PORT_WRONGNAME=$((b + 4))
	export SH_PORT_SELFSIGNED=$((b + 5))
	export SH_PORT_NOTLS_SUB=$((b + 6))
	export SH_PORT_SMTPS_EC=$((b + 7))
	# ::1 only where loopback has it: binding it elsewhere is fatal.
	if grep -qs '^0\{31\}1 ' /proc/net/if_inet6; then
		export SH_HOST6=::1
	else
		export SH_HOST6=
	fi
}

# Dovecot titles its processes "dovecot-INSTANCE/service": a name of
# this DIR's own, so that stop finds them and no other instance's.
_sh_instance()
{
	echo "ferry-smarthost-$(printf '%s' "$SH_DIR" | cksum | cut -d' ' -f1)"
}

_sh_ports()
{
	echo "$SH_PORT_SMTPS $SH_PORT_SUBMISSION $SH_PORT_PLAIN" \
	    "$SH_PORT_EXPIRED $SH_PORT_WRONGNAME $SH_PORT_SELFSIGNED" \
	    "$SH_PORT_NOTLS_SUB $SH_PORT_SMTPS_EC"
}

_sh_need_dir()
{
	if [ -z "${SH_DIR:-}" ] || [ ! -f "$SH_DIR/postfix/main.cf" ]; then
		echo "smarthost: no smart host set up (run smarthost_setup)" >&2
		return 1
	fi
}

# Install what is missing. The preseed keeps postfix's postinst from
# writing /etc/postfix/main.cf or setting up a system instance.
_sh_install()
{
	local root=${FERRY_ROOT:-$(cd "$_SH_LIB/../../.." && pwd)}

	if ! dpkg-query -W -f='${db:Status-Status}' postfix 2>/dev/null |
	    grep -qx installed; then
		echo "postfix postfix/main_mailer_type select No configuration" |
		    debconf-set-selections || return 1
	fi
	"$root/scripts/need" postfix dovecot-core openssl || return 1
}

smarthost_setup()
{
	local d pf q

	SH_DIR=${1:-${SH_DIR:-}}
	if [ -z "$SH_DIR" ]; then
		SH_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ferry-smarthost.XXXXXX") ||
		    return 1
	fi
	mkdir -p "$SH_DIR" || return 1
	SH_DIR=$(cd "$SH_DIR" && pwd)
	_sh_vars
	_sh_install || return 1

	d=$SH_DIR
	pf=$d/postfix
	q=$d/queue
	# The Postfix daemons (user postfix), dovecot's auth process (user
	# dovecot) and the virtual delivery agent (user nobody) all have to
	# get through DIR, which mktemp makes 0700.
	chmod 755 "$d" || return 1
	_sh_reachable "$d" || return 1
	mkdir -p "$pf" "$d/log" "$d/mail" "$d/dovecot" "$d/dovecot-state" ||
	    return 1
	chown nobody:nogroup "$d/mail" && chmod 755 "$d/mail" || return 1
	"$_SH_LIB/mkcerts.sh" "$SH_CERTS" || return 1

	_sh_write_deliver "$d/bin" || return 1
	_sh_write_postfix "$pf" || return 1
	_sh_write_dovecot "$d/dovecot" || return 1
	# Postfix rereads a main.cf changed within the last second or two
	# until it looks settled, which costs up to 2 s on each command.
	touch -d '1 minute ago' "$pf"/* || return 1
	_sh_make_queue "$pf" || return 1
	# postconf warns about any parameter it does not know: a typo.
	if postconf -c "$pf" -n 2>&1 >/dev/null | grep .; then
		echo "smarthost: $pf/main.cf has the errors above" >&2
		return 1
	fi
	doveconf -c "$d/dovecot/dovecot.conf" -n >/dev/null \
	    2>>"$d/log/setup.log" || {
		echo "smarthost: dovecot configuration rejected:" >&2
		tail -n 20 "$d/log/setup.log" >&2
		return 1
	}
	declare -p SH_DIR SH_PORT_BASE | sed 's/^declare -x/export/' \
	    > "$d/smarthost.env"
	{
		echo ". \"$_SH_LIB/smarthost.sh\""
		echo "_sh_vars"
	} >> "$d/smarthost.env"
}

# Every directory above $1 must let others through (o+x): the users
# postfix, dovecot and nobody all work in $1. Say which one does not,
# rather than change the caller's directories.
_sh_reachable()
{
	local p=$1 mode

	while [ "$p" != / ] && [ -n "$p" ]; do
		p=$(dirname "$p")
		mode=$(stat -c %A "$p") || return 1
		if [ "${mode:9:1}" != x ] && [ "${mode:9:1}" != t ]; then
			echo "smarthost: $p is mode $mode: the postfix, dovecot" \
			    "and nobody users cannot reach $1 (chmod o+x $p," \
			    "or use a directory elsewhere)" >&2
			return 1
		fi
	done
}

# The delivery agent: pipe(8) runs it as nobody, one recipient a call,
# with the message on stdin. Maildir style: write in tmp/, rename into
# new/. The name starts with seconds.nanoseconds so that names sort in
# delivery order. 75 is EX_TEMPFAIL: Postfix keeps the message queued.
_sh_write_deliver()
{
	mkdir -p "$1" || return 1
	cat > "$1/deliver" <<'EOF'
#!/bin/sh
# deliver BASE LOCALPART: made by tests/e2e/lib/smarthost.sh.
case $2 in
''|.*|*/*) echo "bad localpart: $2"; exit 67 ;;	# EX_NOUSER
esac
dir=$1/$2
umask 022
name=$(date +%s.%N).P$$.mail
mkdir -p "$dir/tmp" "$dir/new" "$dir/cur" &&
    cat > "$dir/tmp/$name" &&
    mv "$dir/tmp/$name" "$dir/new/$name" || exit 75
EOF
	chmod 755 "$1/deliver"
}

# The queue and data directories with the owners and modes that
# Postfix's own postfix-files lists: what "postfix check" would make,
# in a tenth of its time (it takes 1 to 3 s).
# shellcheck disable=SC2016 # the '$name' are postfix-files' own text
_sh_make_queue()
{
	local pf=$1 meta q data path type owner group mode rest

	meta=$(postconf -c "$pf" -h meta_directory) || return 1
	q=$(postconf -c "$pf" -h queue_directory) || return 1
	data=$(postconf -c "$pf" -h data_directory) || return 1
	while IFS=: read -r path type owner group mode rest; do
		[ "$type" = d ] || continue
		case $path in
		'$queue_directory'*) path=$q${path#'$queue_directory'} ;;
		'$data_directory'*) path=$data${path#'$data_directory'} ;;
		*) continue ;;
		esac
		owner=${owner/'$mail_owner'/postfix}
		group=${group/'$setgid_group'/postdrop}
		[ "$group" = - ] && group=root
		install -d -o "$owner" -g "$group" -m "$mode" "$path" ||
		    return 1
	done < "$meta/postfix-files"
	[ -d "$q/pid" ] && [ -d "$q/public" ] || {
		echo "smarthost: no queue directories in $meta/postfix-files" >&2
		return 1
	}
}

_sh_write_postfix()
{
	local pf=$1 d=$SH_DIR c=$SH_CERTS ifs=127.0.0.1 proto=ipv4
	local dom=${SH_DOMAIN//./\\.}

	if [ -n "$SH_HOST6" ]; then
		ifs="127.0.0.1, [::1]"
		proto=all
	fi
	cat > "$pf/main.cf" <<EOF
# Made by tests/e2e/lib/smarthost.sh; rewritten by each smarthost_setup.
compatibility_level = 3.6
queue_directory = $d/queue
data_directory = $d/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $d/log/postfix.log
maillog_file_prefixes = $d/log
syslog_name = smarthost

myhostname = $SH_NAME
mydomain = $SH_DOMAIN
myorigin = \$mydomain
mydestination =
relay_domains =
local_recipient_maps =
alias_maps =
alias_database =
mynetworks = 127.0.0.1/32
inet_interfaces = $ifs
inet_protocols = $proto
biff = no
smtp_host_lookup = native
smtp_dns_support_level = disabled
# Nothing may go out: a stray message fails instead of trying the net.
default_transport = error:5.7.1 outbound mail disabled on the test smart host
relay_transport = \$default_transport

# virtual(8) refuses \$1 in a map that yields a path, so a regexp map
# cannot send every localpart to its own Maildir: the map only says
# which localparts exist, and bin/deliver (via pipe) writes the file.
virtual_mailbox_domains = $SH_DOMAIN
virtual_mailbox_maps = regexp:$pf/vmailbox.regexp
virtual_transport = maildir
maildir_destination_recipient_limit = 1
recipient_delimiter =
mailbox_size_limit = 0
message_size_limit = $SH_SIZE_LIMIT

smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = $d/dovecot-run/auth-client
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
broken_sasl_auth_clients = no
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = check_recipient_access regexp:$pf/rcpt.regexp,
	permit_sasl_authenticated, reject

# No tarpit: a rejected command is answered at once, not after 1 s.
smtpd_error_sleep_time = 0
# No reverse DNS: the client is unknown[127.0.0.1], and no lookup waits.
smtpd_peername_lookup = no

smtpd_tls_chain_files = $c/good.key, $c/good.crt
smtpd_tls_security_level = none
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_tls_session_cache_database = btree:$d/data/smtpd_scache
smtpd_tls_session_cache_timeout = 3600s
EOF
	# Localparts safe as one directory name: no slash, not "." or "..".
	cat > "$pf/vmailbox.regexp" <<EOF
/^[a-z0-9_+=-][a-z0-9._+=-]*@$dom\$/	OK
EOF
	cat > "$pf/rcpt.regexp" <<EOF
/^reject@$dom\$/	550 5.1.1 rejected on purpose by the test smart host
/^tempfail@$dom\$/	450 4.2.0 deferred on purpose by the test smart host
!/@$dom\$/	554 5.7.1 only $SH_DOMAIN is served here
EOF
	_sh_write_master "$pf/master.cf"
}

# No service is chrooted: the instance lives in DIR, not under the
# queue directory, and nothing here is worth a jail.
_sh_write_master()
{
	{
		echo "# Made by tests/e2e/lib/smarthost.sh."
		_sh_svc "$SH_PORT_SMTPS" smtps good.key good.crt \
		    smtpd_tls_wrappermode=yes smtpd_tls_security_level=encrypt
		_sh_svc "$SH_PORT_SUBMISSION" submission good.key good.crt \
		    smtpd_tls_security_level=may smtpd_tls_auth_only=yes
		_sh_svc "$SH_PORT_PLAIN" plain "" "" \
		    smtpd_tls_security_level=none smtpd_tls_auth_only=no
		_sh_svc "$SH_PORT_EXPIRED" expired expired.key expired.crt \
		    smtpd_tls_wrappermode=yes smtpd_tls_security_level=encrypt
		_sh_svc "$SH_PORT_WRONGNAME" wrongname wrongname.key wrongname.crt \
		    smtpd_tls_wrappermode=yes smtpd_tls_security_level=encrypt
		_sh_svc "$SH_PORT_SELFSIGNED" selfsigned selfsigned.key \
		    selfsigned.crt \
		    smtpd_tls_wrappermode=yes smtpd_tls_security_level=encrypt
		_sh_svc "$SH_PORT_NOTLS_SUB" notls "" "" \
		    smtpd_tls_security_level=none smtpd_tls_auth_only=no
		_sh_svc "$SH_PORT_SMTPS_EC" smtps-ec good-ec.key good-ec.crt \
		    smtpd_tls_wrappermode=yes smtpd_tls_security_level=encrypt
		cat <<'EOF'
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
EOF
		echo "maildir   unix  -       n       n       -       -       pipe"
		echo "  flags=DROu user=nobody argv=$SH_DIR/bin/deliver" \
		    "$SH_DIR/mail \${user}"
		cat <<'EOF'
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	} > "$1"
}

_sh_svc()	# port name key crt [options]: one smtpd in master.cf
{
	local port=$1 name=$2 key=$3 crt=$4 o

	shift 4
	echo "$port inet n - n - - smtpd"
	echo "  -o syslog_name=smarthost/$name"
	[ -n "$key" ] &&
	    echo "  -o smtpd_tls_chain_files=$SH_CERTS/$key,$SH_CERTS/$crt"
	for o in "$@"; do
		echo "  -o $o"
	done
}

_sh_write_dovecot()
{
	local dv=$1 d=$SH_DIR

	# {PLAIN} lets dovecot answer CRAM-MD5 and SCRAM as well.
	printf '%s:{PLAIN}%s\n' "$SH_USER" "$SH_PASS" > "$dv/passwd"
	chown root:dovecot "$dv/passwd" && chmod 640 "$dv/passwd" || return 1
	cat > "$dv/dovecot.conf" <<EOF
# Made by tests/e2e/lib/smarthost.sh: SASL for the test Postfix only.
instance_name = $SH_INSTANCE
base_dir = $d/dovecot-run
state_dir = $d/dovecot-state
protocols = none
listen = 127.0.0.1
ssl = no
log_path = $d/log/dovecot.log
# Every AUTH attempt shows as "client in: AUTH"; passwords stay hidden.
auth_verbose = yes
auth_debug = yes
auth_debug_passwords = no
auth_verbose_passwords = no
disable_plaintext_auth = no
# A wrong password is answered at once, not after 2 s.
auth_failure_delay = 0
auth_mechanisms = plain login cram-md5 scram-sha-256

passdb {
  driver = passwd-file
  args = scheme=PLAIN $dv/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$d/mail/%n
}

# No growing penalty for an IP after a failure: tests fail on purpose.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
service auth {
  unix_listener auth-client {
    mode = 0666
  }
}
EOF
}

# Print those of the ports named in $@ that are not listening yet on
# 127.0.0.1 (and ::1 if used). Read from /proc, so that waiting puts no
# connection into the logs; /proc/net/tcp6 has ::1 in 32-bit words of
# host order, hence the odd-looking address on x86.
_sh_not_listening()
{
	awk -v v6="${SH_HOST6:+1}" -v ports="$*" '
	BEGIN {
		n = split(ports, p, " ")
		for (i = 1; i <= n; i++)
			want[sprintf("%04X", p[i])] = 1
	}
	$4 == "0A" {
		split($2, a, ":")
		if (a[1] == "0100007F")
			up4[a[2]] = 1
		else if (a[1] == "00000000000000000000000001000000" ||
		    a[1] == "00000000000000000000000000000001")
			up6[a[2]] = 1
	}
	END {
		for (i = 1; i <= n; i++) {
			h = sprintf("%04X", p[i])
			if (!(h in up4) || (v6 && !(h in up6)))
				printf " %s", p[i]
		}
	}' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# Those of the ports named in $@ that something listens on.
_sh_listening()
{
	local p not

	not=" $(_sh_not_listening "$@") "
	for p in "$@"; do
		case $not in
		*" $p "*) ;;
		*) printf ' %s' "$p" ;;
		esac
	done
}

# Say why, show the ends of the logs, and stop whatever did start.
_sh_fail_start()
{
	local f

	echo "smarthost: $*" >&2
	for f in "$SH_DIR/log/setup.log" "$(smarthost_log)" \
	    "$(smarthost_auth_log)"; do
		[ -s "$f" ] || continue
		echo "--- $f (last lines)" >&2
		tail -n 20 "$f" >&2
	done
	smarthost_stop
}

# True when process $1 runs. A zombie does not: here PID 1 may be slow
# to reap the daemons it inherits, and kill -0 succeeds on a zombie.
_sh_alive()
{
	local stat

	[ -n "$1" ] || return 1
	read -r stat 2>/dev/null < "/proc/$1/stat" || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# The pid in pid file $1, if that process runs.
_sh_pidfile()
{
	local pid

	read -r pid 2>/dev/null < "$1" || return 1
	pid=${pid//[!0-9]/}
	_sh_alive "$pid" && echo "$pid"
}

smarthost_start()
{
	local d p end waiting

	_sh_need_dir || return 1
	d=$SH_DIR
	if ! _sh_pidfile "$d/queue/pid/master.pid" >/dev/null; then
		# Postfix sets SO_REUSEPORT: a second instance on the same
		# ports would start without a word and share connections.
		p=$(_sh_listening $(_sh_ports))
		if [ -n "$p" ]; then
			echo "smarthost: ports in use by someone else:$p" \
			    "(another smart host? set SH_PORT_BASE)" >&2
			return 1
		fi
	fi
	if ! _sh_pidfile "$d/dovecot-run/master.pid" >/dev/null &&
	    ! dovecot -c "$d/dovecot/dovecot.conf" >>"$d/log/setup.log" 2>&1
	then
		_sh_fail_start "dovecot did not start"
		return 1
	fi
	if ! _sh_pidfile "$d/queue/pid/master.pid" >/dev/null; then
		# smarthost_setup made the queue directories; quick-start
		# (the file "postfix quick-stop" leaves) skips "postfix
		# check", which would take 1 to 3 s of the start-up.
		touch "$d/queue/quick-start"
		if ! postfix -c "$d/postfix" start >>"$d/log/setup.log" 2>&1
		then
			_sh_fail_start "postfix did not start"
			return 1
		fi
	fi
	# Bounded by the clock, not a count: about 20 s in all.
	end=$((SECONDS + 20))
	while :; do
		waiting=
		[ -S "$d/dovecot-run/auth-client" ] ||
		    waiting=" the dovecot auth socket"
		p=$(_sh_not_listening $(_sh_ports))
		[ -n "$p" ] && waiting="$waiting ports$p"
		[ -z "$waiting" ] && return 0
		[ "$SECONDS" -ge "$end" ] && break
		sleep 0.1
	done
	_sh_fail_start "still waiting after 20 s for$waiting"
	return 1
}

# Every live process of this instance, one a line: the two masters, the
# Postfix daemons (they carry MAIL_CONFIG, even once the master is
# gone), the dovecot processes (titled "dovecot-INSTANCE/service"), and
# all that these started. Never a process of another instance.
_sh_procs()
{
	local roots

	roots="$(_sh_pidfile "$SH_DIR/queue/pid/master.pid")
	    $(_sh_pidfile "$SH_DIR/dovecot-run/master.pid")
	    $(grep -lsxzF "MAIL_CONFIG=$SH_DIR/postfix" /proc/[0-9]*/environ |
		cut -d/ -f3)
	    $(grep -lsz "^dovecot-$(_sh_instance)/" /proc/[0-9]*/cmdline |
		cut -d/ -f3)"
	# Descendants from the parent pids in /proc/PID/stat, whose second
	# field (the command name) may hold blanks or parentheses.
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v roots="$roots" '
	{
		s = $0
		sub(/.*\) /, "", s)
		split(s, f, " ")
		state[$1] = f[1]
		parent[$1] = f[2]
	}
	END {
		n = split(roots, r, /[ \t\n]+/)
		for (i = 1; i <= n; i++)
			if (r[i] in state)
				ours[r[i]] = 1
		do {
			more = 0
			for (p in parent)
				if (!(p in ours) && (parent[p] in ours)) {
					ours[p] = 1
					more = 1
				}
		} while (more)
		for (p in ours)
			if (state[p] != "Z")
				print p
	}' | sort -n
}

smarthost_stop()
{
	local d pid pids end

	[ -n "${SH_DIR:-}" ] && [ -f "$SH_DIR/postfix/main.cf" ] || return 0
	d=$SH_DIR
	# What "postfix stop" and "dovecot stop" do, without their polls
	# of 1 s and 3 s: SIGTERM to each master, which ends its children.
	# The loop below waits for every process of the instance.
	pid=$(_sh_pidfile "$d/queue/pid/master.pid") && kill "$pid"
	pid=$(_sh_pidfile "$d/dovecot-run/master.pid") && kill "$pid"
	end=$((SECONDS + 10))
	while :; do
		pids=$(_sh_procs)
		[ -z "$pids" ] && return 0
		[ "$SECONDS" -ge "$end" ] && break
		sleep 0.05
	done
	echo "smarthost: killing leftover processes:" $pids >&2
	kill -9 $pids 2>/dev/null
	sleep 0.2
	pids=$(_sh_procs)
	[ -z "$pids" ] && return 0
	echo "smarthost: processes left:" $pids >&2
	return 1
}

smarthost_log()
{
	echo "$SH_DIR/log/postfix.log"
}

smarthost_auth_log()
{
	echo "$SH_DIR/log/dovecot.log"
}

smarthost_mail_files()
{
	local dir=$SH_DIR/mail/$1/new

	[ -n "$1" ] && [ -d "$dir" ] || return 0
	# bin/deliver names files SECONDS.NANOSECONDS.PPID.mail
	(cd "$dir" && ls -1) | sort -t. -k1,1n -k2,2n | sed "s|^|$dir/|"
}

smarthost_mail_count()
{
	smarthost_mail_files "$1" | grep -c . || true
}

smarthost_wait_mail()
{
	local who=$1 n=$2 secs=${3:-20} end

	# Microseconds, from bash's clock: no fork per round.
	end=$((${EPOCHREALTIME/./} + secs * 1000000))
	while [ "$(smarthost_mail_count "$who")" -lt "$n" ]; do
		if [ "${EPOCHREALTIME/./}" -ge "$end" ]; then
			echo "smarthost: $who@$SH_DOMAIN has" \
			    "$(smarthost_mail_count "$who") of $n messages" \
			    "after ${secs}s" >&2
			return 1
		fi
		sleep 0.05
	done
}
