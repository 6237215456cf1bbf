# shellcheck shell=bash
# foreign.sh: real smart hosts other than the suite's Postfix, from
# Debian's own packages, for t_56_foreign.sh. Source it from bash after
# smarthost.sh (it uses the test CA, SH_USER and SH_PASS); it sets no
# shell options of its own.
#
# Exim and OpenSMTPD cannot be installed beside Postfix (they conflict
# as MTAs), so their .debs are downloaded with a private apt
# configuration (sources list, lists and cache under
# build/foreign/apt: the system's apt setup is never changed) and
# unpacked with dpkg -x under build/foreign/root-PKG. Only the
# libraries they link against are installed (scripts/need): libraries
# do not conflict. The download is kept, so the network is used once.
#
#   foreign_fetch             download and unpack both, install libs;
#                             sets FOREIGN_EXIM_VERSION and
#                             FOREIGN_SMTPD_VERSION (Debian versions)
#   foreign_ports N           N consecutive free loopback ports
#   foreign_exim_start DIR P... Exim on 127.0.0.1 (and ::1), state in
#                             DIR; the ports come in pairs, implicit
#                             TLS then STARTTLS, one pair a profile:
#                             both, nopipe, nochunk, none (what is
#                             switched off)
#   foreign_smtpd_start DIR P465 P587   OpenSMTPD, the same way
#   foreign_postfix_start DIR BASE      a second Postfix + Dovecot
#                             (smarthost.sh) that discards PIPELINING
#                             and CHUNKING and takes 3 recipients
#   foreign_stop_all          stop every server started here
#   foreign_mailbox DIR LOCALPART  make LOCALPART's Maildir (Exim only
#                             delivers to localparts that have one)
#   foreign_mail_files DIR LOCALPART  the delivered files
#
# Every server requires AUTH (after TLS) from SH_USER with SH_PASS,
# serves only @$SH_DOMAIN and writes each message to the Maildir
# DIR/mail/LOCALPART/. Servers run as Debian runs them: as root, then
# as their own system users, made here if missing (useradd --system).

_FOREIGN_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_FOREIGN_ROOT=${FERRY_ROOT:-$(cd "$_FOREIGN_LIB/../../.." && pwd)}
_FOREIGN_B=$_FOREIGN_ROOT/build/foreign
# What runs, for stop: "pidfile" lines and Postfix instance dirs.
_FOREIGN_PIDS=()
_FOREIGN_PF=()

# The packages and the suite each comes from. OpenSMTPD 7.4 is only
# in bookworm-backports (bookworm has 6.8).
_FOREIGN_PKGS="exim4-daemon-heavy/bookworm opensmtpd/bookworm-backports"
# Depends that are not libraries the binaries need here.
_FOREIGN_NOTLIB=" exim4-base debconf debconf-2.0 adduser ed cron
    cron-daemon anacron systemd-sysv exim4-config exim4-config-2 netbase "

_foreign_apt()
{
	apt-get -q -o "Dir::Etc::SourceList=$_FOREIGN_B/apt/sources.list" \
	    -o Dir::Etc::SourceParts=/nonexistent \
	    -o "Dir::State::Lists=$_FOREIGN_B/apt/lists" \
	    -o "Dir::Cache=$_FOREIGN_B/apt/cache" "$@"
}

# Download what is not in build/foreign/dl yet, from deb.debian.org
# (the archive key the system already trusts).
_foreign_download()
{
	local spec key missing=() log=$_FOREIGN_B/apt.log

	for spec in $_FOREIGN_PKGS; do
		compgen -G "$_FOREIGN_B/dl/${spec%/*}_*.deb" >/dev/null ||
		    missing+=("$spec")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	mkdir -p "$_FOREIGN_B/apt/lists/partial" \
	    "$_FOREIGN_B/apt/cache/archives/partial" "$_FOREIGN_B/dl" ||
	    return 1
	key=/usr/share/keyrings/debian-archive-keyring.gpg
	for spec in bookworm bookworm-backports; do
		echo "deb [signed-by=$key] http://deb.debian.org/debian $spec main"
	done > "$_FOREIGN_B/apt/sources.list"
	: > "$log"
	_foreign_apt update >> "$log" 2>&1 &&
	    (cd "$_FOREIGN_B/dl" && _foreign_apt download "${missing[@]}") \
	    >> "$log" 2>&1 || {
		echo "foreign: cannot download ${missing[*]}:" >&2
		tail -n 5 "$log" >&2
		return 1
	}
}

# The package names in a .deb's Depends that are libraries: the first
# of each set of alternatives, no versions.
_foreign_libdeps()
{
	dpkg-deb -f "$1" Depends | tr ',' '\n' |
	    sed 's/|.*//; s/(.*)//; s/:any//; s/[[:space:]]//g' |
	    while read -r p; do
		[ -n "$p" ] || continue
		case $_FOREIGN_NOTLIB in
		*" $p "*) ;;
		*) echo "$p" ;;
		esac
	    done
}

foreign_fetch()
{
	local spec pkg deb root libs=() nf

	"$_FOREIGN_ROOT/scripts/need" openssl || return 1
	mkdir -p "$_FOREIGN_B" || return 1
	# Two runs sharing build/ wait for each other.
	(
		flock 9
		_foreign_download || exit 1
		for spec in $_FOREIGN_PKGS; do
			pkg=${spec%/*}
			deb=$(compgen -G "$_FOREIGN_B/dl/${pkg}_*.deb" |
			    sort -V | tail -n 1)
			root=$_FOREIGN_B/root-$pkg
			[ -f "$root/.from" ] &&
			    [ "$(cat "$root/.from")" = "${deb##*/}" ] &&
			    continue
			rm -rf "$root" &&
			    dpkg-deb -x "$deb" "$root" &&
			    echo "${deb##*/}" > "$root/.from" || exit 1
		done
	) 9> "$_FOREIGN_B/lock" || return 1
	for spec in $_FOREIGN_PKGS; do
		pkg=${spec%/*}
		deb=$_FOREIGN_B/dl/$(cat "$_FOREIGN_B/root-$pkg/.from")
		mapfile -t -O ${#libs[@]} libs < <(_foreign_libdeps "$deb")
	done
	"$_FOREIGN_ROOT/scripts/need" "${libs[@]}" || return 1
	for pkg in exim4-daemon-heavy/usr/sbin/exim4 opensmtpd/usr/sbin/smtpd \
	    opensmtpd/usr/libexec/opensmtpd/mail.maildir; do
		nf=$(ldd "$_FOREIGN_B/root-$pkg" | grep 'not found')
		if [ -n "$nf" ]; then
			echo "foreign: root-$pkg lacks libraries:" $nf >&2
			return 1
		fi
	done
	FOREIGN_EXIM_VERSION=$(dpkg-deb -f "$_FOREIGN_B/dl/$(cat \
	    "$_FOREIGN_B/root-exim4-daemon-heavy/.from")" Version)
	FOREIGN_SMTPD_VERSION=$(dpkg-deb -f "$_FOREIGN_B/dl/$(cat \
	    "$_FOREIGN_B/root-opensmtpd/.from")" Version)
	# The users the daemons drop to, as the packages' postinst makes
	# them (Exim looks its user up before it reads any config).
	_foreign_user Debian-exim && _foreign_user opensmtpd &&
	    _foreign_user opensmtpq
}

_foreign_user()
{
	id "$1" >/dev/null 2>&1 && return 0
	useradd --system --user-group --no-create-home \
	    --home-dir /nonexistent --shell /usr/sbin/nologin "$1"
}

# N consecutive ports from SH_PORT_BASE + 100 up that nothing listens
# on, one a line.
foreign_ports()
{
	local n=$1 p=$((SH_PORT_BASE + 100)) i

	while [ $((p + n)) -lt 65000 ]; do
		for ((i = 0; i < n; i++)); do
			[ -n "$(_sh_listening $((p + i)))" ] && break
		done
		if [ "$i" -eq "$n" ]; then
			seq "$p" $((p + n - 1))
			return 0
		fi
		p=$((p + i + 1))
	done
	return 1
}

# Wait (20 s at most) until every port given listens.
_foreign_wait_ports()
{
	local end=$((SECONDS + 20)) p

	while :; do
		p=$(_sh_not_listening "$@")
		[ -z "$p" ] && return 0
		[ "$SECONDS" -ge "$end" ] && break
		sleep 0.1
	done
	echo "foreign: ports$p not listening after 20 s" >&2
	return 1
}

# _foreign_mkdirs DIR USER: DIR/mail belongs to the user who delivers.
_foreign_mkdirs()
{
	local d=$1

	mkdir -p "$d/mail" "$d/log" || return 1
	chmod 755 "$d" || return 1
	chown "$2:$(id -gn "$2")" "$d/mail" && chmod 755 "$d/mail"
}

foreign_mailbox()
{
	local o

	o=$(stat -c %U:%G "$1/mail") || return 1
	install -d -o "${o%:*}" -g "${o#*:}" "$1/mail/$2" "$1/mail/$2/new" \
	    "$1/mail/$2/cur" "$1/mail/$2/tmp"
}

foreign_mail_files()
{
	[ -d "$1/mail/$2/new" ] || return 0
	find "$1/mail/$2/new" -type f | sort
}

# Exim's listen list: "<; 127.0.0.1 ; ::1".
_foreign_ifs()
{
	if [ -n "${SH_HOST6:-}" ]; then
		echo "<; 127.0.0.1 ; ::1"
	else
		echo "127.0.0.1"
	fi
}

# foreign_exim_start DIR S1 T1 S2 T2 S3 T3 S4 T4: implicit TLS port Sn
# and STARTTLS port Tn of profile n (1 both PIPELINING and CHUNKING,
# 2 no PIPELINING, 3 no CHUNKING, 4 neither). Exim's authenticators:
# PLAIN and LOGIN (plaintext driver) and CRAM-MD5, offered only under
# TLS.
foreign_exim_start()
{
	local d=$1 exim=$_FOREIGN_B/root-exim4-daemon-heavy/usr/sbin/exim4
	local s1=$2 t1=$3 s2=$4 t2=$5 s3=$6 t3=$7 s4=$8 t4=$9

	_foreign_mkdirs "$d" Debian-exim || return 1
	mkdir -p "$d/spool" "$d/tls" || return 1
	chown Debian-exim:Debian-exim "$d/spool" "$d/log" || return 1
	# Exim reads its key as Debian-exim, not as root.
	install -m 640 -g Debian-exim "$SH_CERTS/good.key" "$d/tls/key" &&
	    install -m 644 "$SH_CERTS/good.crt" "$d/tls/crt" || return 1
	cat > "$d/exim.conf" <<EOF
# Made by tests/e2e/lib/foreign.sh.
primary_hostname = mail.ferry.test
qualify_domain = $SH_DOMAIN
spool_directory = $d/spool
log_file_path = $d/log/%slog
pid_file_path = $d/exim-daemon.pid
log_selector = +incoming_port +smtp_connection +smtp_protocol_error \\
    +smtp_syntax_error +smtp_no_mail +received_recipients
keep_environment =
exim_user = Debian-exim
exim_group = Debian-exim
never_users = root
host_lookup =
rfc1413_hosts =
message_size_limit = 32M
local_interfaces = $(_foreign_ifs)
daemon_smtp_ports = $s1 : $t1 : $s2 : $t2 : $s3 : $t3 : $s4 : $t4
tls_on_connect_ports = $s1 : $s2 : $s3 : $s4
tls_certificate = $d/tls/crt
tls_privatekey = $d/tls/key
tls_advertise_hosts = *
# What each port pair offers. Exim enforces the missing PIPELINING
# itself (smtp_enforce_sync, on by default).
pipelining_advertise_hosts = \${if inlist{\$received_port}{$s1:$t1:$s3:$t3}{*}{}}
chunking_advertise_hosts = \${if inlist{\$received_port}{$s1:$t1:$s2:$t2}{*}{}}
auth_advertise_hosts = \${if def:tls_in_cipher{*}{}}
acl_smtp_mail = acl_mail
acl_smtp_rcpt = acl_rcpt

begin acl
acl_mail:
  deny message = 530 5.7.0 authentication required
       !authenticated = *
  accept
acl_rcpt:
  accept authenticated = *
         domains = $SH_DOMAIN
         verify = recipient
  deny   message = only $SH_DOMAIN is served here

begin routers
mailbox:
  driver = accept
  domains = $SH_DOMAIN
  local_parts = dsearch;$d/mail
  transport = maildir

begin transports
# As Debian-exim: the reception process re-executes Exim as that user
# with -C, which costs it root (no TRUSTED_CONFIG_LIST entry), so the
# delivery cannot change to another uid.
maildir:
  driver = appendfile
  directory = $d/mail/\$local_part_data
  maildir_format
  user = Debian-exim
  group = Debian-exim
  delivery_date_add = false
  envelope_to_add = false
  return_path_add = false

begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = \${if and {{eq{\$auth2}{$SH_USER}}{eq{\$auth3}{$SH_PASS}}}}
  server_set_id = \$auth2
login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = \${if and {{eq{\$auth1}{$SH_USER}}{eq{\$auth2}{$SH_PASS}}}}
  server_set_id = \$auth1
cram:
  driver = cram_md5
  public_name = CRAM-MD5
  server_secret = \${if eq{\$auth1}{$SH_USER}{$SH_PASS}fail}
  server_set_id = \$auth1
EOF
	# Deliveries re-read it as Debian-exim.
	chgrp Debian-exim "$d/exim.conf" && chmod 640 "$d/exim.conf" || return 1
	"$exim" -C "$d/exim.conf" -bV > "$d/log/check" 2>&1 || {
		echo "foreign: Exim refuses its configuration:" >&2
		tail -n 5 "$d/log/check" >&2
		return 1
	}
	# Exim re-executes itself as /usr/sbin/exim4 for each delivery:
	# in a mount namespace of its own, the unpacked usr/sbin is there.
	# -bdf: in the foreground, so that $! is the daemon.
	unshare -m --propagation private sh -c '
	    mount --bind "$1/usr/sbin" /usr/sbin &&
	    exec /usr/sbin/exim4 -C "$2/exim.conf" -bdf' \
	    sh "$_FOREIGN_B/root-exim4-daemon-heavy" "$d" \
	    < /dev/null >> "$d/log/start" 2>&1 &
	echo $! > "$d/exim.pid"
	_FOREIGN_PIDS+=("$d/exim.pid")
	_foreign_wait_ports "${@:2}" || {
		tail -n 5 "$d/log/start" "$d/log/paniclog" 2>/dev/null >&2
		return 1
	}
}

# foreign_smtpd_start DIR PORT465 PORT587: OpenSMTPD, AUTH PLAIN and
# LOGIN against a credentials table, only after TLS (its default).
# Its spool (/var/spool/smtpd), control socket, chroot and helpers
# (/usr/libexec/opensmtpd) are compiled-in paths: it runs in a mount
# namespace of its own where DIR's directories are mounted over those.
foreign_smtpd_start()
{
	local d=$1 s=$2 t=$3 r=$_FOREIGN_B/root-opensmtpd a hash

	_foreign_mkdirs "$d" nobody || return 1
	mkdir -p "$d/var-spool" "$d/var-lib/opensmtpd/empty" "$d/run" ||
	    return 1
	chmod 711 "$d/var-spool" || return 1
	hash=$(printf '%s\n' "$SH_PASS" | openssl passwd -6 -stdin) ||
	    return 1
	(umask 027 && printf '%s %s\n' "$SH_USER" "$hash" > "$d/creds") &&
	    chgrp opensmtpd "$d/creds" || return 1
	printf '@%s nobody\n' "$SH_DOMAIN" > "$d/virtual"
	{
		echo "# Made by tests/e2e/lib/foreign.sh."
		echo "pki mail.ferry.test cert \"$SH_CERTS/good.crt\""
		echo "pki mail.ferry.test key \"$SH_CERTS/good.key\""
		echo "table creds file:$d/creds"
		echo "table virt file:$d/virtual"
		for a in 127.0.0.1 ${SH_HOST6:+::1}; do
			echo "listen on $a port $s smtps pki mail.ferry.test" \
			    "hostname mail.ferry.test auth <creds>"
			echo "listen on $a port $t tls-require" \
			    "pki mail.ferry.test hostname mail.ferry.test" \
			    "auth <creds>"
		done
		echo "action \"deliver\" maildir \"$d/mail/%{rcpt.user}\"" \
		    "virtual <virt> user nobody"
		echo "match from any auth for domain \"$SH_DOMAIN\"" \
		    "action \"deliver\""
	} > "$d/smtpd.conf"
	"$r/usr/sbin/smtpd" -n -f "$d/smtpd.conf" > "$d/log/check" 2>&1 || {
		echo "foreign: OpenSMTPD refuses its configuration:" >&2
		tail -n 5 "$d/log/check" >&2
		return 1
	}
	# -d: in the foreground, logging to stderr; the pid is smtpd's
	# own, since unshare and sh exec it.
	unshare -m --propagation private sh -c '
	    r=$1 d=$2
	    mount --bind "$d/var-spool" /var/spool &&
	    mount --bind "$d/var-lib" /var/lib &&
	    mount --bind "$d/run" /run &&
	    mount --bind "$r/usr/libexec" /usr/libexec &&
	    exec "$r/usr/sbin/smtpd" -d -f "$d/smtpd.conf"' \
	    sh "$r" "$d" < /dev/null > "$d/log/smtpd" 2>&1 &
	echo $! > "$d/smtpd.pid"
	_FOREIGN_PIDS+=("$d/smtpd.pid")
	_foreign_wait_ports "$s" "$t" || {
		tail -n 5 "$d/log/smtpd" >&2
		return 1
	}
}

# foreign_postfix_start DIR BASE: another smarthost.sh instance in DIR
# on ports BASE..BASE+7, with the suite's certificates (so the same
# CA), made in a subshell so that this shell's SH_* stay the main
# smart host's.
foreign_postfix_start()
{
	local d=$1 base=$2

	mkdir -p "$d" && cp -a "$SH_CERTS" "$d/certs" || return 1
	(
		SH_DIR=$d SH_PORT_BASE=$base
		smarthost_setup "$d" || exit 1
		postconf -c "$d/postfix" -e \
		    "smtpd_discard_ehlo_keywords = pipelining, chunking" \
		    "smtpd_recipient_limit = 3" || exit 1
		touch -d '1 minute ago' "$d/postfix"/* &&
		    smarthost_start
	) || return 1
	_FOREIGN_PF+=("$d")
}

# Every live process whose command line names DIR: the daemon, its
# children and Exim's detached deliveries (exim -C DIR/exim.conf ...).
_foreign_procs()
{
	grep -lsF -- "$1" /proc/[0-9]*/cmdline | cut -d/ -f3 |
	    while read -r p; do
		_sh_alive "$p" && echo "$p"
	    done
}

foreign_stop_all()
{
	local f d pid pids end rc=0

	for f in "${_FOREIGN_PIDS[@]}"; do
		d=$(dirname "$f")
		pid=$(_sh_pidfile "$f") && kill "$pid"
		# smtpd's children end with their parent; Exim's
		# deliveries finish on their own.
		end=$((SECONDS + 10))
		while pids=$(_foreign_procs "$d") && [ -n "$pids" ]; do
			if [ "$SECONDS" -ge "$end" ]; then
				echo "foreign: killing" $pids >&2
				kill -9 $pids 2>/dev/null
				rc=1
				break
			fi
			sleep 0.05
		done
	done
	_FOREIGN_PIDS=()
	for d in "${_FOREIGN_PF[@]}"; do
		(SH_DIR=$d && _sh_vars && smarthost_stop) || rc=1
	done
	_FOREIGN_PF=()
	return $rc
}
