#!/bin/sh
# tests/freebsd/guest.sh: the checks that run inside the FreeBSD 15.1
# guest, installed as its /etc/rc.test by scripts/freebsd-vm. PID 1
# runs it with the serial console as stdout and powers off when it
# returns. kenv ferry.group says which group of checks this boot runs:
#
#   main     delivery (465, 587; PLAIN, LOGIN, CRAM-MD5) through
#            mailwrapper(8), -odq/-q, mailq, newaliases, -bv, the setgid
#            model, a subset of t_71's hardening, flock, syslog, the
#            periodic-style report, failover to a second smart host
#   crash1   queue one message with -odq, say so, wait to be killed
#   crash2   queue one message for each of two stalling fault servers,
#            start both deliveries, check what the kernel shows of a
#            running ferry (procctl), say so, wait to be killed
#   recover  after those kills: deliver what the spools still hold
#
# Each result is one console line "FBVM ok: NAME" or "FBVM FAIL: NAME"
# (scripts/freebsd-vm counts them, and checks the smart host's side);
# "FBVM mark: WORD" lines tell the host when to act; the last line is
# "FBVM end: GROUP". The rescue userland has no grep, awk, timeout or
# mkfifo: sh's case, sed and fbprobe (tests/freebsd/fbprobe.c) stand in.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin
ETC=/usr/local/etc
SPOOL=/var/spool/ferry
NOBODY="fbprobe as 65534 65534"
D=ferry.test
group=$(kenv -q ferry.group)

pass() { echo "FBVM ok: $*"; }
fail() { echo "FBVM FAIL: $*"; }
# check NAME CMD...: one result line for CMD's status; on failure the
# end of its output, indented
check() {
	_n=$1
	shift
	if "$@" > /tmp/check.out 2>&1; then
		pass "$_n"
	else
		fail "$_n"
		tail -n 8 /tmp/check.out | sed 's/^/    /'
	fi
}
# has FILE TEXT: FILE contains TEXT (no grep in rescue)
has() {
	case $(cat "$1" 2>/dev/null) in
	*"$2"*) return 0 ;;
	esac
	return 1
}
msg() { printf 'Subject: %s\n\nfrom the FreeBSD guest: %s\n' "$1" "$1"; }
# send LOCALPART [FERRY-ARGS...]: root, through /usr/sbin/sendmail
send() {
	_l=$1
	shift
	msg "$_l" | /usr/sbin/sendmail "$@" "$_l@$D" > /tmp/send.out 2>&1
}
# id_for LOCALPART: the spool ID of the entry queued for it
id_for() {
	for _q in "$SPOOL"/q*; do
		has "$_q" "<$1@" && { echo "${_q##*/q}"; return 0; }
	done
	return 1
}
# mode_is PATH MODE: PATH has MODE and is root:ferry (0:125)
mode_is() {
	set -- "$1" "$2" $(ls -lnd "$1")
	echo "$@"
	[ "$3" = "$2" ] && [ "$5" = 0 ] && [ "$6" = 125 ]
}
queued() { /usr/bin/mailq > /tmp/mailq.out 2>&1 && has /tmp/mailq.out "$1@"; }
not_queued() {
	/usr/bin/mailq > /tmp/mailq.out 2>&1 && ! has /tmp/mailq.out "$1@"
}

# ---- every boot: what /etc/rc would do, the little this needs
mount -t tmpfs tmpfs /tmp
# A root left unclean by a killed VM must be checked before UFS lets
# it be written (without soft updates, FreeBSD refuses the rw mount).
if ! mount -u -o rw / 2> /dev/null; then
	echo "FBVM note: / was not clean; fsck_ffs -y"
	fsck_ffs -y /dev/vtbd0 > /tmp/fsck.out 2>&1 ||
	    fsck_ffs -y /dev/vtbd0 > /tmp/fsck.out 2>&1
	sed 's/^/    /' /tmp/fsck.out | tail -n 12
	check "$group: / mounts read-write after fsck" mount -u -o rw /
fi
date -f %s "$(kenv -q ferry.date)" > /dev/null	# certificates need it
hostname guest.test
syslogd -ss

# ---- main
main_delivery() {
	check "ferry -V runs" /usr/local/sbin/ferry -V
	check "installed: /usr/local/sbin/ferry root:ferry 2755" \
	    mode_is /usr/local/sbin/ferry -rwxr-sr-x
	check "installed: $ETC/ferry.conf root:ferry 640" \
	    mode_is $ETC/ferry.conf -rw-r-----
	check "installed: the spool root:ferry 2770" \
	    mode_is $SPOOL drwxrws---
	check "mailer.conf names ferry for sendmail, mailq, newaliases" eval \
	    'has /etc/mail/mailer.conf "sendmail	/usr/local/sbin/ferry" &&
	    has /etc/mail/mailer.conf "newaliases	/usr/local/sbin/ferry"'
	check "587 STARTTLS via mailwrapper: exit 0" send bsd587
	for port in 465 587; do
		conf=$ETC/ferry.conf
		[ $port = 465 ] && conf=$ETC/ferry/t465.conf
		for mech in plain login cram-md5; do
			{ cat "$conf"; echo "auth $mech"; } > /tmp/m.conf
			M=$(echo "$mech" | sed 'y/plainogcrmd/PLAINOGCRMD/')
			r=bsd$port-$mech
			msg $r | ferry -C /tmp/m.conf -v $r@$D > /tmp/v.out 2>&1
			check "$port AUTH $M: exit 0" [ $? -eq 0 ]
			check "$port AUTH $M: the transcript shows AUTH $M" \
			    has /tmp/v.out "AUTH $M"
		done
	done
	check "-odq: exit 0" send bsdq -odq
	check "mailq (mailwrapper) lists it" queued bsdq
	check "sendmail -q (mailwrapper): exit 0" /usr/sbin/sendmail -q
	check "mailq is empty after -q" not_queued bsdq
	# a refused recipient: the bounce goes back through the smart host
	check "a 550 recipient: exit 0 (a bounce is owed)" eval \
	    'msg bsdbounce | /usr/sbin/sendmail -f bsdbounce@$D reject@$D'
	check "newaliases (mailwrapper): exit 0" /usr/bin/newaliases
	check "sendmail -bv (mailwrapper): exit 0" /usr/sbin/sendmail -bv
	check "hoststat and purgestat: exit 0, no output" eval \
	    '[ -z "$(/usr/sbin/hoststat; /usr/sbin/purgestat)" ]'
}

# failover (issue 26): the first smart host hangs up after the connect,
# when the process is already in capability mode: no new connect, so
# the message waits; the hold sends the next run to the second host
main_failover() {
	fo=$ETC/ferry/fo.conf
	fst=/var/spool/ferry-fo/host-state
	msg bsdfo1 | ferry -C $fo -v bsdfo1@$D > /tmp/fo.out 2>&1
	check "failover: first host hangs up after connect: exit 0" \
	    eval 'cat /tmp/fo.out; [ $? -eq 0 ]'
	check "failover: capability mode: it waits for the next run" eval \
	    'has /tmp/fo.out "no new connection in capability mode" &&
	    ferry -C $fo -bp | sed -n /bsdfo1@/p | read x'
	check "failover: host-state holds the first host" eval \
	    'cat $fst; has $fst ":$(kenv -q ferry.fdown) 1 "'
	check "failover: the next -q: exit 0" ferry -C $fo -q
	check "failover: ... went to the second host, none left" \
	    eval '[ -z "$(ls /var/spool/ferry-fo | sed -n /^q/p)" ]'
	check "failover: a send while the first is held: exit 0, sent" eval \
	    'msg bsdfo2 | ferry -C $fo -v bsdfo2@$D > /tmp/fo2.out 2>&1 &&
	    cat /tmp/fo2.out && has /tmp/fo2.out "status=sent" &&
	    ! has /tmp/fo2.out "capability mode"'
	ferry -C $fo -bv > /tmp/bv.out 2> /tmp/bv.err
	check "failover: -bv checks each host: one fails, exit non-zero" \
	    [ $? -ne 0 ]
	check "failover: -bv: the second host's line, the first's error" eval \
	    'cat /tmp/bv.out /tmp/bv.err; has /tmp/bv.out "TLS 1.2 (cipher" &&
	    has /tmp/bv.err "smart host 1," &&
	    has /tmp/bv.err "1 of 2 smart hosts failed"'
}

main_setgid() {
	check "nobody cannot read the password file" \
	    eval '! $NOBODY /bin/cat $ETC/ferry/password'
	check "nobody cannot read ferry.conf" \
	    eval '! $NOBODY /bin/cat $ETC/ferry.conf'
	msg bsdnobody > /tmp/nobody.msg
	chmod 644 /tmp/nobody.msg
	check "nobody sends through the setgid ferry" eval \
	    '$NOBODY /usr/sbin/sendmail bsdnobody@$D < /tmp/nobody.msg'
	# setresgid: nobody's own config gets no help from group ferry
	{ cat "$ETC/ferry.conf"; echo "spool /tmp/nobspool"; } > /tmp/nob.conf
	chmod 644 /tmp/nob.conf
	mkdir -p /tmp/nobspool
	chown 65534:65534 /tmp/nobspool
	$NOBODY /usr/local/sbin/ferry -C /tmp/nob.conf -bv > /tmp/nob.out 2>&1
	check "nobody's -C config cannot use the group's password file" \
	    [ $? -ne 0 ]
	check "... and says so without the password" eval \
	    'cat /tmp/nob.out; pw=$(cat $ETC/ferry/password);
	    ! has /tmp/nob.out "$pw" && has /tmp/nob.out password'
	# t_71 part 2: nobody's -q leaves root's mail alone
	send bsdrootq -odq
	check "nobody's -q: exit 0" eval \
	    '$NOBODY /usr/local/sbin/ferry -q < /dev/null'
	check "nobody's -q leaves root's mail queued" queued bsdrootq
	check "nobody's mailq sees root's envelope" eval \
	    '$NOBODY /usr/bin/mailq | sed -n /bsdrootq@/p | read x'
	check "root's -q sends it" /usr/sbin/sendmail -q
}

main_spool() {
	# t_71 part 3: root's queue run trusts nothing in the spool
	printf 'Subject: stolen\n\nBSD-SECRET-BYTES\n' > /tmp/secret
	printf 'Subject: stolen\n\nBSD-SECRET-BYTES\n' > /var/secret
	chmod 600 /tmp/secret /var/secret
	for l in bsdsym bsdhard bsdfifo bsdok; do
		send $l -odq
	done
	symid=$(id_for bsdsym) && rm -f "$SPOOL/d$symid" &&
	    ln -s /tmp/secret "$SPOOL/d$symid"
	id=$symid
	check "O_NOFOLLOW on a symlink: EMLINK (Linux: ELOOP)" eval \
	    '[ "$(fbprobe nofollow $SPOOL/d$id)" = EMLINK ]'
	id=$(id_for bsdhard) && rm -f "$SPOOL/d$id" &&
	    ln /var/secret "$SPOOL/d$id"
	id=$(id_for bsdfifo) && rm -f "$SPOOL/d$id" &&
	    fbprobe fifo "$SPOOL/d$id"
	rm -f "$SPOOL/tls-session" "$SPOOL/tls-session.new"
	fbprobe fifo "$SPOOL/tls-session"
	fbprobe fifo "$SPOOL/tls-session.new"
	fbprobe until 90 /usr/local/sbin/ferry -q < /dev/null > /tmp/q.out 2>&1
	check "root's -q finishes despite FIFOs, symlink, hard link" \
	    [ $? -ne 124 ]
	sleep 1
	check "the refused d files are named in maillog" \
	    has /var/log/maillog "not a regular file with one link"
	# EMLINK's strerror is "Too many links": not the words for a symlink
	check "the d symlink is named as no plain file, not 'Too many links'" \
	    eval 'cat /tmp/q.out; ! has /tmp/q.out "Too many links" &&
	    has /var/log/maillog "d$symid: not a regular file"'
	check "the bad entries stay queued, not mailed" eval \
	    'queued bsdsym && queued bsdhard && queued bsdfifo'
	check "the secrets are untouched" eval \
	    'has /tmp/secret BSD-SECRET && has /var/secret BSD-SECRET'
	for l in bsdsym bsdhard bsdfifo; do
		id=$(id_for $l) && rm -f "$SPOOL"/?"$id"
	done
	rm -f "$SPOOL/tls-session" "$SPOOL/tls-session.new"

	# flock: two queue runs at once send each message once
	for i in 1 2 3 4 5 6; do
		send bsdpar$i -odq
	done
	/usr/local/sbin/ferry -q < /dev/null > /tmp/q1.out 2>&1 &
	p1=$!
	/usr/local/sbin/ferry -q < /dev/null > /tmp/q2.out 2>&1 &
	p2=$!
	wait $p1
	r1=$?
	wait $p2
	r2=$?
	check "two concurrent -q runs: both exit 0" [ $r1 -eq 0 -a $r2 -eq 0 ]
	check "two concurrent -q runs: the queue is empty" not_queued bsdpar
}

main_report() {
	# periodic(8)-style: root's daily script, its output to "root"
	mkdir -p /etc/periodic/daily
	printf '%s\n' '#!/bin/sh' \
	    'echo "Subject: guest.test daily run output"' 'echo' \
	    'echo "Disk status:"' 'df -k /' 'echo "-- End of daily output --"' \
	    > /etc/periodic/daily/999.ferry-test
	chmod 755 /etc/periodic/daily/999.ferry-test
	check "daily report | sendmail root: exit 0" eval \
	    '/etc/periodic/daily/999.ferry-test | /usr/sbin/sendmail root'
	sleep 1
	check "syslogd wrote ferry's lines to /var/log/maillog" \
	    has /var/log/maillog "ferry["
	check "maillog has no password" eval \
	    '! has /var/log/maillog "$(cat $ETC/ferry/password)"'
	echo "---- /var/log/maillog (last lines)"
	tail -n 5 /var/log/maillog | sed 's/^/    /'
}

# ---- crash1: killed right after -odq returned
crash1() {
	send bsdcrash1 -odq
	echo "FBVM mark: queued rc=$?"
	sleep 600
}

# ---- crash2: killed while two deliveries stall (after DATA, after the dot)
crash2() {
	msg bsdcrash2 | ferry -C "$ETC/ferry/fdata.conf" -odq "bsdcrash2@$D"
	msg bsdcrash3 | ferry -C "$ETC/ferry/feod.conf" -odq "bsdcrash3@$D"
	ferry -C "$ETC/ferry/fdata.conf" -q < /dev/null &
	p=$!
	ferry -C "$ETC/ferry/feod.conf" -q < /dev/null &
	# plat.c's procctl(PROC_TRACE_CTL): no debugger, no core, no
	# procfs peek into a ferry that holds the password
	sleep 2
	check "procctl: a running ferry is not traceable" \
	    eval '[ "$(fbprobe trace $p)" = -1 ]'
	check "procctl: ... while this shell is" \
	    eval '[ "$(fbprobe trace $$)" = 0 ]'
	check "ps: P2_NOTRACE set in ferry's flags2" eval \
	    'f=$(ps -o flags2= -p $p) && [ $((0x$f & 2)) -eq 2 ]'
	# confine.c: Capsicum's cap_enter before the smart host's first
	# byte; ps(1) shows capability mode as C in the state
	check "Capsicum: the stalled delivery is in capability mode" eval \
	    's=$(ps -o state= -p $p) && case $s in *C*) ;; *) false ;; esac'
	# flock(2): the stalled run holds its entry; a second run skips it
	fbprobe until 60 /usr/local/sbin/ferry -C "$ETC/ferry/fdata.conf" -q \
	    < /dev/null > /tmp/q2.out 2>&1
	rc=$?
	check "flock: a second -q beside a stalled one: exit 0, no wait" \
	    eval 'cat /tmp/q2.out; [ $rc -eq 0 ]'
	check "flock: ... and the held entry stays queued" eval \
	    '[ -n "$(ls $SPOOL-data | sed -n /^q/p)" ]'
	echo "FBVM mark: stalled"
	sleep 600
}

recover() {
	check "recover: -q to the smart host: exit 0" /usr/sbin/sendmail -q
	check "recover: -q to the data-stall server: exit 0" \
	    ferry -C "$ETC/ferry/fdata.conf" -q
	check "recover: -q to the eod-stall server: exit 0" \
	    ferry -C "$ETC/ferry/feod.conf" -q
	for d in $SPOOL $SPOOL-data $SPOOL-eod; do
		check "recover: $d holds no entry" \
		    eval '[ -z "$(ls $d | sed -n /^q/p)" ]'
	done
}

case $group in
main)
	main_delivery
	main_failover
	main_setgid
	main_spool
	main_report
	;;
crash1|crash2|recover)
	$group
	;;
*)
	fail "unknown group '$group'"
	;;
esac
echo "FBVM end: $group"
