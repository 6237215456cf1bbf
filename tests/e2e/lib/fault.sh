# fault.sh: start and stop tests/fault/faultd.py, the scriptable SMTP
# fault server, from e2e tests. Source it from bash after smarthost.sh
# (it uses the smart host's test certificates and credentials); it sets
# no shell options of its own. Every wait is bounded.
#
#   fault_start NAME PORT TLSMODE [FAULTD-ARGS...]
#                         start a server on 127.0.0.1:PORT
#                         (and [::1]:PORT if loopback has ::1), TLSMODE
#                         implicit, starttls or none, SH_CERTS/good.crt
#                         and SH_USER/SH_PASS; state in
#                         $E2E_WORK/fault-NAME/; return once it listens.
#                         Sets FAULT_DIR and FAULT_PORT (the last one
#                         started). Extra arguments go to faultd.py and
#                         win (e.g. --cert/--key for good-ec).
#   fault_rules NAME [RULE...]  replace the rules file, one RULE a line
#                         (none: behave well); applies from the next
#                         connection, and restarts the "sessions" count
#   fault_count NAME      how many messages it accepted
#   fault_got NAME TAG [LOCALPART]  how many of them, bounces left
#                         out, hold TAG (and went to LOCALPART@)
#   fault_bounced NAME TAG [SPOOL...]  bounces quoting TAG it accepted,
#                         plus those kept in each SPOOL/failed/
#   fault_mail_files NAME the accepted messages, oldest first
#   fault_wait_count NAME N [SECONDS]  wait (default 10 s) for N
#   fault_log NAME        path of the event log
#   fault_clear NAME      forget accepted messages and empty the log
#   fault_stop NAME       stop it (SIGTERM, then SIGKILL); safe to repeat
#   fault_stop_all        stop every server under $E2E_WORK
#
# Layout of $E2E_WORK/fault-NAME/: rules, log, mail/ (one *.msg file per
# accepted message: X-Fault-From/X-Fault-To lines, then the data),
# pid, stderr.

_FAULT_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_FAULT_PY=/usr/bin/python3

_fault_dir()
{
	if [ -z "${E2E_WORK:-}" ]; then
		echo "fault: E2E_WORK is not set" >&2
		return 1
	fi
	case ${1:-} in
	''|*[!A-Za-z0-9_-]*)
		echo "fault: bad server name '${1:-}'" >&2
		return 1 ;;
	esac
	echo "$E2E_WORK/fault-$1"
}

# The pid of the faultd.py serving DIR, if it runs (not a zombie, and
# really ours: a pid can be reused).
_fault_pid()
{
	local pid stat

	read -r pid 2>/dev/null < "$1/pid" || return 1
	pid=${pid//[!0-9]/}
	[ -n "$pid" ] || return 1
	read -r stat 2>/dev/null < "/proc/$pid/stat" || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ] || return 1
	tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null |
	    grep -qxF "$1/rules" || return 1
	echo "$pid"
}

fault_start()
{
	local name=${1:-} port=${2:-} mode=${3:-} d pid end six=()

	if [ $# -lt 3 ]; then
		echo "fault: usage: fault_start NAME PORT TLSMODE [ARGS...]" >&2
		return 1
	fi
	shift 3
	if [ -z "${SH_USER:-}" ] || [ -z "${SH_PASS:-}" ]; then
		echo "fault: SH_USER and SH_PASS not set (run smarthost_setup)" \
		    >&2
		return 1
	fi
	d=$(_fault_dir "$name") || return 1
	if [ ! -x "$_FAULT_PY" ]; then
		"${FERRY_ROOT:-$_FAULT_LIB/../../..}/scripts/need" python3 ||
		    return 1
	fi
	if [ "$mode" != none ] && [ ! -f "${SH_CERTS:-}/good.crt" ]; then
		echo "fault: no $SH_CERTS/good.crt (run smarthost_setup)" >&2
		return 1
	fi
	if _fault_pid "$d" >/dev/null; then
		echo "fault: $name already runs" >&2
		return 1
	fi
	mkdir -p "$d/mail" || return 1
	rm -f "$d/pid"
	[ -f "$d/rules" ] || : > "$d/rules"
	# ::1 as well where loopback has it, as the smart host does:
	# "localhost" may resolve to either.
	if grep -qs '^0\{31\}1 ' /proc/net/if_inet6; then
		six=(--listen "[::1]:$port")
	fi
	# --exit-with-parent: it ends with the shell that started it, even
	# one killed too hard to run its traps. So call fault_start from
	# the test's own shell, never inside $(...) or ( ... ).
	"$_FAULT_PY" "$_FAULT_LIB/../../fault/faultd.py" \
	    --listen "127.0.0.1:$port" "${six[@]}" --tls "$mode" \
	    --cert "${SH_CERTS:-}/good.crt" --key "${SH_CERTS:-}/good.key" \
	    --user "$SH_USER" --password "$SH_PASS" \
	    --maildir "$d/mail" --log "$d/log" --rules "$d/rules" \
	    --pidfile "$d/pid" --exit-with-parent "$@" \
	    < /dev/null > "$d/stderr" 2>&1 &
	pid=$!
	# It writes the pid file once it listens: no probe connection,
	# which would show in the log and count as a session.
	end=$((SECONDS + 10))
	while [ "$SECONDS" -lt "$end" ]; do
		if [ "$(_fault_pid "$d")" = "$pid" ]; then
			FAULT_DIR=$d
			FAULT_PORT=$port
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "fault: $name did not start on port $port:" >&2
	sed 's/^/fault: | /' "$d/stderr" | tail -n 5 >&2
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 1
}

fault_rules()
{
	local d

	d=$(_fault_dir "${1:-}") || return 1
	shift
	mkdir -p "$d" || return 1
	# Whole or not at all: a connection never reads half a file.
	if [ $# -gt 0 ]; then
		printf '%s\n' "$@" > "$d/rules.tmp"
	else
		: > "$d/rules.tmp"
	fi && mv -f "$d/rules.tmp" "$d/rules"
}

fault_mail_files()
{
	local d

	d=$(_fault_dir "${1:-}") || return 1
	[ -d "$d/mail" ] || return 0
	# Names begin with nanoseconds since the epoch: ls order is age.
	(cd "$d/mail" && ls -1) | grep '\.msg$' | sed "s|^|$d/mail/|"
}

fault_count()
{
	fault_mail_files "${1:-}" | grep -c . || true
}

fault_got()
{
	fault_mail_files "${1:-}" | xargs -r grep -l -- "$2" |
	    xargs -r grep -L '^X-Fault-From: <>' |
	    xargs -r grep -l "^X-Fault-To: <${3:-[^>]*}@" | wc -l
}

fault_bounced()
{
	local name=${1:-} tag=$2 sp n

	shift 2
	n=$(fault_mail_files "$name" | xargs -r grep -l -- "$tag" |
	    xargs -r grep -l '^X-Fault-From: <>' | wc -l)
	for sp in "$@"; do
		n=$((n + $(grep -l -- "$tag" "$sp"/failed/d* 2>/dev/null |
		    wc -l)))
	done
	echo "$n"
}

fault_wait_count()
{
	local name=${1:-} n=${2:-1} secs=${3:-10} end

	end=$((${EPOCHREALTIME/./} + secs * 1000000))
	while [ "$(fault_count "$name")" -lt "$n" ]; do
		if [ "${EPOCHREALTIME/./}" -ge "$end" ]; then
			echo "fault: $name has $(fault_count "$name") of $n" \
			    "messages after ${secs}s" >&2
			return 1
		fi
		sleep 0.05
	done
}

fault_log()
{
	local d

	d=$(_fault_dir "${1:-}") || return 1
	echo "$d/log"
}

fault_clear()
{
	local d

	d=$(_fault_dir "${1:-}") || return 1
	rm -f "$d"/mail/*.msg
	# faultd appends (O_APPEND): truncating in place is safe.
	[ -f "$d/log" ] && : > "$d/log"
	return 0
}

fault_stop()
{
	local d pid end

	d=$(_fault_dir "${1:-}") || return 1
	pid=$(_fault_pid "$d") || return 0
	kill "$pid" 2>/dev/null
	end=$((SECONDS + 5))
	while _fault_pid "$d" >/dev/null; do
		if [ "$SECONDS" -ge "$end" ]; then
			echo "fault: $1 ignored SIGTERM; killing $pid" >&2
			kill -9 "$pid" 2>/dev/null
			sleep 0.1
			break
		fi
		sleep 0.05
	done
	wait "$pid" 2>/dev/null
	! _fault_pid "$d" >/dev/null
}

fault_stop_all()
{
	local d rc=0

	[ -n "${E2E_WORK:-}" ] || return 0
	for d in "$E2E_WORK"/fault-*/; do
		[ -d "$d" ] || continue
		d=${d%/}
		fault_stop "${d##*/fault-}" || rc=1
	done
	return $rc
}
