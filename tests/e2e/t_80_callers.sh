# t_80_callers.sh: real programs from Debian packages (bsd-mailx,
# mailutils, cron's mail command, git send-email, PHP mail(), mutt)
# call ferry as /usr/sbin/sendmail (lib/callers.sh), and their mail
# lands.

"$FERRY_ROOT/scripts/need" bsd-mailx mailutils git git-email \
    libmailtools-perl php-cli mutt >/dev/null 2>&1 ||
	nok "callers: cannot install the calling programs"
. "$FERRY_ROOT/tests/e2e/lib/callers.sh"
callers_setup "$E2E_WORK/callers" "$(hostconf callers implicit \
    "$SH_PORT_SMTPS")"

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
