#!/bin/bash
# bench/confine.sh: what confinement (src/confine.h) costs in CPU per
# message. The same ./ferry with `confine yes` and `confine no`, in the
# same run, interleaved, against the test Postfix on loopback (465,
# AUTH PLAIN, a 10 KB message, TLS session resumed as usual):
#   - one process per message (-odi): each pays the setup once;
#   - one queue run (-q) of CONFINE_MSGS messages: paid once a run.
# CPU is user+sys of the children (bash's `times`), median of
# CONFINE_N rounds. Prints markdown rows; with CONFINE_WRITE=1 they
# replace that section of bench/results.md (BENCH_OUT= elsewhere). A
# benchmark reports, it never fails: what cannot be measured says so,
# and the exit is 0.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FERRY=${BENCH_FERRY:-$ROOT/ferry}
N=${CONFINE_N:-5}
MSGS=${CONFINE_MSGS:-200}
PER=${CONFINE_PER:-20}
export SH_PORT_BASE=${SH_PORT_BASE:-10640}
export FERRY_ROOT=$ROOT

[ -x "$FERRY" ] || { echo "confine.sh: no $FERRY (make)" >&2; exit 0; }
W=$(mktemp -d "${TMPDIR:-/tmp}/ferry-confine.XXXXXX")
chmod 755 "$W"		# Postfix runs as postfix and must reach its dirs
. "$ROOT/tests/e2e/lib/smarthost.sh"
trap 'smarthost_stop >/dev/null 2>&1; rm -rf "$W"' EXIT
if ! smarthost_setup "$W/sh" ||
    ! postconf -c "$SH_DIR/postfix" -e virtual_transport=discard ||
    ! smarthost_start; then
	echo "confine.sh: cannot start the smart host" >&2
	exit 0
fi
(umask 077 && printf '%s\n' "$SH_PASS" > "$W/password")
FROM=sender@$SH_DOMAIN
RCPT=bench@$SH_DOMAIN

conf() {	# NAME yes|no
	local f=$W/$1.conf sp=$W/spool-$1

	mkdir -p "$sp" && chmod 700 "$sp"
	printf '%s\n' "smarthost localhost" "port $SH_PORT_SMTPS" \
	    "tls implicit" "tls_builtin_ca no" "tls_ca_file $SH_CA" \
	    "user $SH_USER" "password_file $W/password" "auth plain" \
	    "timeout 30" "confine $2" "spool $sp" > "$f"
	chmod 600 "$f"
	echo "$f"
}
ON=$(conf on yes)
OFF=$(conf off no)
{
	printf 'From: <%s>\nTo: <%s>\nSubject: bench\n\n' "$FROM" "$RCPT"
	for ((i = 0; i < 134; i++)); do printf '%075d\n' "$i"; done
} > "$W/msg"

# The children's user+sys seconds, from `times`' second line.
children_cpu() {
	awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) {
		split($i, p, "m"); sub(/s$/, "", p[2]); s += p[1] * 60 + p[2] }
		print s }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "n/a" }'; }
left() { find "$W/spool-$1" -maxdepth 1 -name 'q*' | wc -l; }

# per_process CONF: ms of CPU per message, PER processes of -odi.
per_process() {
	bash -c 'for ((i = 0; i < $1; i++)); do
		"$2" -C "$3" -odi -f "$4" "$5" < "$6" || exit 1
	done; times' _ "$PER" "$FERRY" "$1" "$FROM" "$RCPT" "$W/msg" |
	    children_cpu | awk -v n="$PER" '{ printf "%.3f\n", $1 * 1000 / n }'
}
# queue_run CONF NAME: ms of CPU per message of one -q over MSGS.
queue_run() {
	local i
	for ((i = 0; i < MSGS; i++)); do
		"$FERRY" -C "$1" -odq -f "$FROM" "$RCPT" < "$W/msg" || return
	done
	bash -c '"$1" -C "$2" -q; times' _ "$FERRY" "$1" | children_cpu |
	    awk -v n="$MSGS" '{ printf "%.3f\n", $1 * 1000 / n }'
	[ "$(left "$2")" -eq 0 ] || echo "confine.sh: $2: $(left "$2") left" >&2
}

"$FERRY" -C "$ON" -odi -f "$FROM" "$RCPT" < "$W/msg"	# warm up, and
"$FERRY" -C "$OFF" -odi -f "$FROM" "$RCPT" < "$W/msg"	# keep a session
: > "$W/p.on"; : > "$W/p.off"; : > "$W/q.on"; : > "$W/q.off"
for ((r = 0; r < N; r++)); do
	echo "confine.sh: round $((r + 1)) of $N" >&2
	per_process "$ON" >> "$W/p.on"
	per_process "$OFF" >> "$W/p.off"
	queue_run "$OFF" off >> "$W/q.off"
	queue_run "$ON" on >> "$W/q.on"
done
p_on=$(median < "$W/p.on"); p_off=$(median < "$W/p.off")
q_on=$(median < "$W/q.on"); q_off=$(median < "$W/q.off")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }'; }
what=$("$FERRY" -C "$ON" -v -bv 2>&1 | sed -n 's/.*delivery confined: //p' | head -1)
out=$(cat <<EOF
## Confinement: CPU per message

\`bench/confine.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), ferry $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo ?), Linux $(uname -r), $(nproc) CPUs shared with other work; confined as: ${what:-n/a}. Both settings in the same run, interleaved; user+sys CPU of the ferry processes, median of $N rounds; 465, AUTH PLAIN, 10 KB, TLS session resumed, Postfix on loopback discarding.

| case | confine yes | confine no | unit | yes/no |
|---|---|---|---|---|
| one process per message (-odi), $PER a round | $p_on | $p_off | ms/msg | $(ratio "$p_on" "$p_off") |
| one queue run (-q) of $MSGS messages | $q_on | $q_off | ms/msg | $(ratio "$q_on" "$q_off") |
<!-- generated above -->
EOF
)
printf '%s\n' "$out"
if [ "${CONFINE_WRITE:-0}" = 1 ]; then
	printf '%s\n' "$out" > "$W/section"
	"$ROOT/scripts/bench-section" "${BENCH_OUT:-$ROOT/bench/results.md}" \
	    "$W/section"
fi
exit 0
