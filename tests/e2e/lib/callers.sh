# callers.sh: run real programs from Debian packages with ferry as
# /usr/sbin/sendmail (sourced by t_80_callers.sh and t_81_realcallers.sh).
#
# The host's /usr/sbin/sendmail and /etc are not touched: each caller
# runs in a mount namespace of its own, where read-only overlays put
# our sendmail on top of /usr/sbin and our ferry.conf on top of /etc.
# That works whether or not the host has a sendmail at all. Our
# sendmail is a two-line wrapper that notes its argv in $cdir/argv and
# execs the real static ferry under the name /usr/sbin/sendmail.

# callers_setup DIR CONF: lay out DIR (sbin/sendmail, etc/ferry.conf
# from CONF, home/) and make it the one as_sendmail uses.
callers_setup() {
	cdir=$1
	mkdir -p "$cdir/sbin" "$cdir/etc" "$cdir/home"
	cp -p "$2" "$cdir/etc/ferry.conf"
	# the overlay shows the disk's /etc, not files mounted on it (as in
	# a container): bring the effective hosts file, ferry resolves
	# localhost
	cp /etc/hosts "$cdir/etc/hosts"
	: > "$cdir/argv"
	cat > "$cdir/sbin/sendmail" <<EOS
#!/bin/bash
{ printf '%q ' "\$@"; echo; } >> '$cdir/argv'
exec -a /usr/sbin/sendmail '$FERRY' "\$@"
EOS
	chmod 755 "$cdir/sbin/sendmail"
}

# as_sendmail CMD...: run CMD with ferry as /usr/sbin/sendmail and our
# /etc/ferry.conf, HOME a scratch folder (no ~/.muttrc, ~/.gitconfig
# of root's). Sets CRC, and CARGV to the argv lines sendmail got.
# CHOST: the host name it sees; CEXTRA: shell commands run in the
# namespace after the overlays are mounted, before CMD.
as_sendmail() {
	local mark
	mark=$(log_mark "$cdir/argv")
	(cd "$cdir/home" && HOME=$cdir/home CHOST=${CHOST:-} \
	    CEXTRA=${CEXTRA:-} unshare -m -u sh -c '
	    { [ -z "$CHOST" ] || hostname "$CHOST"; } &&
	    mount -t overlay ferry-e2e-sbin -o lowerdir="$0/sbin:/usr/sbin" \
	        /usr/sbin &&
	    mount -t overlay ferry-e2e-etc -o lowerdir="$0/etc:/etc" /etc &&
	    { [ ! -e /dev/log ] || mount --bind "$1" /dev/log; } &&
	    eval "$CEXTRA" && shift && exec "$@"' "$cdir" "$SYSLOG_SOCK" "$@") \
	    > "$cdir/out" 2>&1
	CRC=$?
	CARGV=$(log_since "$cdir/argv" "$mark")
	cat "$cdir/out" >> "$E2E_WORK/all-output"
}

# caller_ok WHAT: the caller exited 0 (else show its output and argv).
caller_ok() {
	[ "$CRC" -eq 0 ] && [ -n "$CARGV" ] && return 0
	printf '     %s exited %s; sendmail argv: %s\n' "$1" "$CRC" \
	    "${CARGV:-(never called)}"
	sed 's/^/     | /' "$cdir/out" | tail -5
	return 1
}

# caller_landed LOCALPART SUBJECT BODYLINE: one message for it, with
# that subject and that line in its body.
caller_landed() {
	landed "$1" 1 || { printf '     sendmail argv: %s\n' \
	    "${CARGV:-(never called)}"; return 1; }
	grep -qxF "Subject: $2" <(tr -d '\r' < "$LANDED") &&
	    body "$LANDED" | grep -qxF "$3" && return 0
	echo "     $LANDED lacks the subject or the body line"
	return 1
}
