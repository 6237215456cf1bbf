# t_80_callers.sh: real programs from Debian packages (bsd-mailx,
# mailutils, cron's mail command, git send-email, PHP mail(), mutt)
# call ferry as /usr/sbin/sendmail, and their mail lands.
#
# The host's /usr/sbin/sendmail and /etc are not touched: each caller
# runs in a mount namespace of its own, where read-only overlays put
# our sendmail on top of /usr/sbin and our ferry.conf on top of /etc.
# That works whether or not the host has a sendmail at all. Our
# sendmail is a two-line wrapper that notes its argv in $cdir/argv and
# execs the real static ferry under the name /usr/sbin/sendmail.

"$FERRY_ROOT/scripts/need" bsd-mailx mailutils git git-email \
    libmailtools-perl php-cli mutt >/dev/null 2>&1 ||
	nok "callers: cannot install the calling programs"

cdir=$E2E_WORK/callers
mkdir -p "$cdir/sbin" "$cdir/etc" "$cdir/home"
cconf=$(hostconf callers implicit "$SH_PORT_SMTPS")
cp -p "$cconf" "$cdir/etc/ferry.conf"
# the overlay shows the disk's /etc, not files mounted on it (as in a
# container): bring the effective hosts file, ferry resolves localhost
cp /etc/hosts "$cdir/etc/hosts"
: > "$cdir/argv"
cat > "$cdir/sbin/sendmail" <<EOF
#!/bin/bash
{ printf '%q ' "\$@"; echo; } >> '$cdir/argv'
exec -a /usr/sbin/sendmail '$FERRY' "\$@"
EOF
chmod 755 "$cdir/sbin/sendmail"

# as_sendmail CMD...: run CMD with ferry as /usr/sbin/sendmail and our
# /etc/ferry.conf, HOME a scratch folder (no ~/.muttrc, ~/.gitconfig
# of root's). Sets CRC, and CARGV to the argv lines sendmail got.
as_sendmail() {
	local mark
	mark=$(log_mark "$cdir/argv")
	(cd "$cdir/home" && HOME=$cdir/home CHOST=${CHOST:-} unshare -m -u sh -c '
	    { [ -z "$CHOST" ] || hostname "$CHOST"; } &&
	    mount -t overlay ferry-e2e-sbin -o lowerdir="$0/sbin:/usr/sbin" \
	        /usr/sbin &&
	    mount -t overlay ferry-e2e-etc -o lowerdir="$0/etc:/etc" /etc &&
	    { [ ! -e /dev/log ] || mount --bind "$1" /dev/log; } &&
	    shift && exec "$@"' "$cdir" "$SYSLOG_SOCK" "$@") \
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

# bsd-mailx (its argv: -i -t)
as_sendmail bsd-mailx -s "subj mailx" \
    "mailx@$SH_DOMAIN" <<< "body mailx"
check "bsd-mailx: exits 0" caller_ok bsd-mailx
check "bsd-mailx: landed" caller_landed mailx "subj mailx" "body mailx"

# GNU mailutils' mail, with its built-in mailer sendmail:
# (its argv: -oi -f USER@HOST -t)
as_sendmail mail.mailutils -s "subj mailutils" \
    "mailutils@$SH_DOMAIN" <<< "body mailutils"
check "mailutils: exits 0" caller_ok mail.mailutils
check "mailutils: landed" caller_landed mailutils "subj mailutils" \
    "body mailutils"

# cron: Debian's cron (3.0pl1-162) mails a job's output through
# popen-like argv splitting of MAILARGS "%s -FCronDaemon -i -B8BITMIME
# -oem  %s", with the job's environment, and this message.
cronargs=(-FCronDaemon -i -B8BITMIME -oem "cron@$SH_DOMAIN")
if [ -x /usr/sbin/cron ]; then
	check "cron: the installed cron still uses that argv" \
	    grep -qaF -- "-FCronDaemon -i -B8BITMIME -oem" /usr/sbin/cron
fi
cronmsg=$cdir/cron.eml
{
	printf '%s\n' "From: root (Cron Daemon)" "To: cron@$SH_DOMAIN" \
	    "Subject: Cron <root@$(hostname -s)> /usr/local/bin/nightly" \
	    "MIME-Version: 1.0" "Content-Type: text/plain; charset=UTF-8" \
	    "Content-Transfer-Encoding: 8bit" \
	    "X-Cron-Env: <MAILTO=cron@$SH_DOMAIN>" \
	    "X-Cron-Env: <SHELL=/bin/sh>" "X-Cron-Env: <HOME=/root>" \
	    "X-Cron-Env: <PATH=/usr/bin:/bin>" "X-Cron-Env: <LOGNAME=root>" \
	    "" "body cron" "Grüße from the nightly job" "." "done"
} > "$cronmsg"
as_sendmail env -i PATH=/usr/bin:/bin SHELL=/bin/sh HOME=/root \
    LOGNAME=root MAILTO="cron@$SH_DOMAIN" \
    /usr/sbin/sendmail "${cronargs[@]}" < "$cronmsg"
check "cron: exits 0" caller_ok cron
check "cron: landed" caller_landed cron \
    "Cron <root@$(hostname -s)> /usr/local/bin/nightly" "body cron"
check "cron: body intact (8-bit, lone dot under -i)" same_body \
    "$cronmsg" "$LANDED"
# (the smart host's Postfix qualifies the bare "root" as root@DOMAIN)
check "cron: From: root (Cron Daemon) kept" grep -qxE \
    "From: root(@$SH_DOMAIN)? \(Cron Daemon\)" <(tr -d '\r' < "$LANDED")

# git send-email with sendmail as its "SMTP server" (its argv: -i TO)
repo=$cdir/home/repo
patch=
git init -q "$repo" && printf 'hello from git\n' > "$repo/hello" &&
    git -C "$repo" add hello &&
    git -C "$repo" -c user.name=Dev -c "user.email=dev@$SH_DOMAIN" \
	commit -qm "add hello" &&
    patch=$(git -C "$repo" format-patch -1 -o "$cdir/home") ||
	nok "git: cannot make the patch"
as_sendmail git -c user.name=Dev -c "user.email=dev@$SH_DOMAIN" send-email --smtp-server=/usr/sbin/sendmail \
    --to="git@$SH_DOMAIN" --from="dev@$SH_DOMAIN" --confirm=never \
    --suppress-cc=all "$patch"
check "git send-email: exits 0" caller_ok git-send-email
check "git send-email: landed" caller_landed git "[PATCH] add hello" \
    "+hello from git"

# PHP's mail(), with the default sendmail_path "sendmail -t -i"
as_sendmail php -r '$d = $argv[1]; exit(mail("php@$d", "subj php",
    "body php", "From: web@$d") ? 0 : 1);' -- "$SH_DOMAIN"
check "php mail(): returns true" caller_ok php
check "php mail(): landed" caller_landed php "subj php" "body php"
check "php mail(): From header kept" \
    grep -qx "From: web@$SH_DOMAIN" <(tr -d '\r' < "$LANDED")

# mutt in batch mode (its argv: -oem -oi -- TO)
printf '%s\n' "set from=\"dev@$SH_DOMAIN\"" "set copy=no" \
    'set sendmail="/usr/sbin/sendmail -oem -oi"' > "$cdir/muttrc"
as_sendmail mutt -n -F "$cdir/muttrc" -s "subj mutt" \
    "mutt@$SH_DOMAIN" <<< "body mutt"
check "mutt: exits 0" caller_ok mutt
check "mutt: landed" caller_landed mutt "subj mutt" "body mutt"

# The issue's test: a bare `mail -s test root` on a node named mynode,
# with aliases and masquerade, lands at root's alias target as mail
# from and to root@<masquerade domain>.
printf 'root: rootmail@%s\n' "$SH_DOMAIN" > "$cdir/etc/aliases.ferry"
sed -i -e '/^spool /a aliases '"$cdir"'/etc/aliases.ferry' \
    -e '/^spool /a masquerade '"$SH_DOMAIN" "$cdir/etc/ferry.conf"
echo hi | CHOST=mynode as_sendmail bsd-mailx -s test root
check "mail root on mynode: exits 0" caller_ok bsd-mailx
check "mail root on mynode: at the alias target" landed rootmail 1
check "mail root on mynode: from root@<masquerade>" grep -q \
    "^Return-Path: <root@$SH_DOMAIN>" "$LANDED"
check "mail root on mynode: To root@<masquerade>" grep -q \
    "^To: root@$SH_DOMAIN" "$LANDED"
